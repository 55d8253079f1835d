"""`bedrock-tune import check|launch|watch` against a sandbox reached through AWS_ENDPOINT_URL:
from a local folder to a chat reply, recorded as an import-only run, and torn down."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from botocore.validate import ParamValidator

from core.aws import AwsContext
from core.importing.jobs import ImportRequest, create_import_job
from core.importing.safetensors import encode
from core.importing.source import DownloadProgress, HubListing
from core.importing.tiny import tiny_model_files, write_tiny_model
from core.jobs.customization import new_client_request_token
from core.registry import Registry
from core.sandbox.server import SANDBOX_ACCOUNT_ID, Sandbox, sandbox_environment
from tests.api_model import assert_valid, operation
from tests.fakes import Clock
from tui.cli.main import main

ROLE = f"arn:aws:iam::{SANDBOX_ACCOUNT_ID}:role/bedrock-tune-import-us-east-1"


@pytest.fixture
def clock() -> Clock:
    return Clock(100.0)


@pytest.fixture
def sandbox(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    with Sandbox(import_seconds=60, clock=clock) as sandbox:
        for key, value in sandbox_environment(sandbox).items():
            monkeypatch.setenv(key, value)
        monkeypatch.setattr("tui.cli.imports.sleep", clock.sleep)
        yield sandbox


def run_json(argv: list[str], capsys: pytest.CaptureFixture[str], code: int = 0) -> object:
    assert main(argv) == code, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_check_passes_a_good_folder_and_fails_a_bad_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_tiny_model(tmp_path / "model")
    assert main(["import", "check", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "Ready to import" in out and "LlamaForCausalLM" in out and "Converse" in out
    (folder / "tokenizer.json").unlink()
    assert main(["import", "check", str(folder)]) == 1
    assert "tokenizer-missing" in capsys.readouterr().out
    data = run_json(["import", "check", str(folder), "--json"], capsys, code=1)
    assert isinstance(data, dict) and data["ok"] is False
    assert data["errors"][0]["rule"] == "tokenizer-missing"
    assert main(["import", "check", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err


class GatedHub:
    def stored_token(self) -> str | None:
        return None

    def listing(self, repo_id: str, revision: str | None, token: str | None) -> HubListing:
        return HubListing({n: len(b) for n, b in tiny_model_files().items()}, gated=True)

    def download(
        self,
        repo_id: str,
        revision: str | None,
        token: str | None,
        patterns: list[str],
        on_progress: Callable[[DownloadProgress], None],
    ) -> Path:
        raise AssertionError("a gated model without a token is never downloaded")


def test_a_gated_hub_model_without_a_token_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("tui.cli.imports.hub", GatedHub)
    assert main(["import", "check", "hf:meta-llama/Meta-Llama-3-8B"]) == 2
    err = capsys.readouterr().err
    assert "gated" in err and "HF_TOKEN" in err
    assert "Traceback" not in err


def test_dry_run_prints_a_request_botocore_accepts(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_tiny_model(tmp_path / "model")
    data = run_json(
        [
            "import",
            "launch",
            str(folder),
            "--name",
            "bt-sql",
            "--role",
            ROLE,
            "--dry-run",
            "--json",
        ],
        capsys,
    )
    assert isinstance(data, dict) and data["operation"] == "CreateModelImportJob"
    request = data["request"]
    shape = operation("bedrock", "CreateModelImportJob").input_shape
    assert shape is not None
    report = ParamValidator().validate(request, shape)
    assert not report.has_errors(), report.generate_report()
    assert_valid("bedrock", "CreateModelImportJob", request)  # the patterns too
    assert request["modelDataSource"]["s3DataSource"]["s3Uri"].endswith("/model/")
    assert Registry().runs() == []  # a dry run records nothing


def test_launch_watch_chat_and_teardown(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = run_json(["infra", "apply", "--for", "import", "--json"], capsys)
    assert isinstance(plan, dict) and plan["role_name"] == "bedrock-tune-import-us-east-1"
    role = str(plan["role_arn"])
    folder = write_tiny_model(tmp_path / "model")
    argv = ["import", "launch", str(folder), "--name", "bt-sql", "--role", role, "--json"]
    argv += ["--run-id", str(plan["run_id"])]  # the run infra apply recorded
    launched = run_json(argv, capsys)
    assert isinstance(launched, dict) and launched["reattached"] is False
    assert launched["run_id"] == plan["run_id"]
    # The run is recorded (with its token) on the import-only route.
    runs = run_json(["runs", "--json"], capsys)
    assert isinstance(runs, list) and len(runs) == 1
    assert runs[0]["route"] == "import-only" and runs[0]["status"] == "importing"
    saved = Registry().get_run(str(launched["run_id"]))
    assert saved is not None and saved.run.import_token == launched["client_request_token"]
    tags = sandbox.imports.tags(str(launched["import_job_arn"])) or []
    assert {"key": "bedrock-tune:install", "value": Registry().install_id()} in tags
    # The same command again re-attaches: one import.
    again = run_json(argv, capsys)
    assert isinstance(again, dict) and again["reattached"] is True
    assert again["import_job_arn"] == launched["import_job_arn"]

    watched = run_json(["import", "watch", str(launched["import_job_name"]), "--json"], capsys)
    assert isinstance(watched, dict) and watched["status"] == "Completed"
    assert watched["architecture"] == "llama" and watched["custom_model_units"] == 1
    assert watched["per_window_usd"] == pytest.approx(0.2859)
    assert watched["price_source"] == "price-list-api" and watched["prices_as_of"]
    assert watched["storage_per_month_usd"] == 1.95
    model_arn = str(watched["imported_model_arn"])
    saved = Registry().get_run(str(launched["run_id"]))
    assert saved is not None and saved.run.custom_model_arn == model_arn

    assert main(["chat", model_arn, "--prompt", "How many orders?"]) == 0
    assert "[sandbox: imported model bt-sql" in capsys.readouterr().out

    listing = run_json(["teardown", "--json"], capsys)
    assert isinstance(listing, dict)
    kinds = [i["kind"] for i in listing["items"]]
    assert kinds[0] == "imported-model"
    assert main(["teardown", "--yes"]) == 0
    capsys.readouterr()
    context = AwsContext.for_endpoint(sandbox.endpoint_url, sandbox.credentials)
    assert context.client("bedrock").list_imported_models()["modelSummaries"] == []
    assert main(["teardown", "--yes"]) == 0
    assert "Nothing bedrock-tune made is left" in capsys.readouterr().out


def test_launch_refuses_a_folder_the_check_fails(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_tiny_model(tmp_path / "model")
    (folder / "model-00002-of-00002.safetensors").unlink()
    assert main(["import", "launch", str(folder), "--name", "bt-x", "--role", ROLE]) == 1
    captured = capsys.readouterr()
    assert "index-shard-missing" in captured.out
    assert "Nothing was uploaded or imported" in captured.err
    assert Registry().runs() == []


def test_watch_a_failing_import_exits_1(
    sandbox: Sandbox, tmp_path: Path, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    context = AwsContext.for_endpoint(sandbox.endpoint_url, sandbox.credentials)
    s3 = context.client("s3")
    s3.create_bucket(Bucket="elsewhere")
    for path in write_tiny_model(tmp_path / "model", context_length=262_144).iterdir():
        s3.put_object(Bucket="elsewhere", Key=f"long/{path.name}", Body=path.read_bytes())
    request = ImportRequest(
        "bt-long-import", "bt-long", ROLE, "s3://elsewhere/long/", new_client_request_token()
    )
    create_import_job(context, request)
    assert main(["import", "watch", "bt-long-import"]) == 1
    out = capsys.readouterr().out
    assert "Failed" in out and "max_position_embeddings" in out and "import check" in out


def bin_only(folder: Path) -> None:
    for shard in folder.glob("*.safetensors"):
        shard.unlink()
    (folder / "model.safetensors.index.json").unlink()
    (folder / "pytorch_model.bin").write_bytes(b"pickle")


def adapter_only(folder: Path) -> None:
    for path in folder.iterdir():
        path.unlink()
    (folder / "adapter_config.json").write_text('{"base_model_name_or_path": "meta-llama/x"}')
    (folder / "adapter_model.safetensors").write_bytes(encode({"a": ("F16", (2, 2))}, {}))


def unsupported(folder: Path) -> None:
    config = json.loads((folder / "config.json").read_text())
    config.update(model_type="falcon", architectures=["FalconForCausalLM"])
    (folder / "config.json").write_text(json.dumps(config))


def shard_missing(folder: Path) -> None:
    (folder / "model-00002-of-00002.safetensors").unlink()


def too_long(folder: Path) -> None:
    config = json.loads((folder / "config.json").read_text())
    config["max_position_embeddings"] = 262_144
    (folder / "config.json").write_text(json.dumps(config))


@pytest.mark.parametrize(
    ("spoil", "rule"),
    [
        (bin_only, "weights-bin-only"),
        (adapter_only, "adapter-only"),
        (unsupported, "architecture-unsupported"),
        (shard_missing, "index-shard-missing"),
        (too_long, "context-too-long"),
    ],
)
def test_check_fails_each_bad_folder_with_its_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spoil: Callable[[Path], None], rule: str
) -> None:
    folder = write_tiny_model(tmp_path / "model")
    spoil(folder)
    data = run_json(["import", "check", str(folder), "--json"], capsys, code=1)
    assert isinstance(data, dict) and data["ok"] is False
    assert [e["rule"] for e in data["errors"]] == [rule]
    error = data["errors"][0]
    assert error.keys() == {"rule", "file", "message", "fix"}
    assert error["message"] and error["fix"]
    assert main(["import", "check", str(folder)]) == 1
    out = capsys.readouterr().out
    assert rule in out and error["fix"].splitlines()[0] in out
