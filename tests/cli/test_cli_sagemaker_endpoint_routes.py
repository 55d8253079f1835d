"""Issue 14's acceptance on the command line, against a sandbox reached through AWS_ENDPOINT_URL:
each route chained as a script would run it, from the DialogSum records to a reply from a
SageMaker endpoint and back to nothing billable.

Autopilot: `infra apply --for sagemaker` -> `prepare` -> `autopilot csv --upload` -> `autopilot
launch` -> `autopilot watch` -> `endpoint deploy --autopilot NAME --yes` -> `chat endpoint:NAME
--prompt` -> `teardown --yes`. JumpStart: the same with `upload`, `jumpstart launch
--accept-eula` and `jumpstart watch`, deployed with `--training-job` (served by its Public Hub
entry's image). The commands' own faults are the other test_cli_*.py modules'.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.registry import Registry
from core.sandbox.server import SANDBOX_ACCOUNT_ID, Sandbox
from tests.conftest import DIALOGSUM, needs_shared
from tests.fakes import Clock, context_for
from tui.cli.main import main

REGION = "us-east-1"
BUCKET = f"bedrock-tune-{SANDBOX_ACCOUNT_ID}-{REGION}"
ROLE = f"arn:aws:iam::{SANDBOX_ACCOUNT_ID}:role/bedrock-tune-sagemaker-{REGION}"
QUESTION = "#Person1#: Shall we book a table for two? #Person2#: Yes, at eight."

pytestmark = needs_shared()


@pytest.fixture
def world(exported_sandbox: Sandbox, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """The sandbox, with every waiting command on its clock (no wall-clock sleep)."""
    for module in ("autopilot", "sagemaker", "endpoint"):
        monkeypatch.setattr(f"tui.cli.{module}.sleep", clock.sleep)
    return exported_sandbox


def ok(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run one command that must succeed; its stdout."""
    code = main(argv)
    out = capsys.readouterr()
    assert code == 0, f"{' '.join(argv)} -> {code}\n{out.out}\n{out.err}"
    assert "Traceback" not in out.err
    return out.out


def infrastructure_and_prepared(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, model: str
) -> tuple[str, Path]:
    """The SageMaker role and the bucket (a new run), and DialogSum prepared for `model`."""
    made: dict[str, Any] = json.loads(
        ok(["infra", "apply", "--for", "sagemaker", "--json"], capsys)
    )
    run_id = str(made["run_id"])
    prepared = tmp_path / "prepared"
    argv = ["prepare", str(DIALOGSUM / "dev.jsonl"), "--template", "preset:dialogue-summary"]
    argv += ["--model", model, "--out", str(prepared)]
    ok([*argv, "--train", "120", "--validation", "0", "--test", "0"], capsys)
    return run_id, prepared


def deploy_chat_tear_down(
    world: Sandbox, capsys: pytest.CaptureFixture[str], source: list[str]
) -> dict[str, Any]:
    """Deploy (the price confirmed with --yes), ask once, tear down; what deploy said."""
    deployed: dict[str, Any] = json.loads(
        ok(
            ["endpoint", "deploy", *source, "--instance", "ml.g5.2xlarge", "--yes", "--json"],
            capsys,
        )
    )
    name = deployed["endpoint"]
    assert deployed["status"] == "InService" and deployed["per_hour"] == pytest.approx(1.515)
    listed = json.loads(ok(["teardown", "--list", "--json"], capsys))
    hourly = [i for i in listed["items"] if i["cost_class"] == "hourly"]
    assert [i["kind"] for i in hourly] == ["sagemaker-endpoint"]  # it bills, and it is said
    assert hourly[0]["cost"].startswith("$1.515/h (Price List API")

    answer = ok(["chat", f"endpoint:{name}", "--prompt", QUESTION], capsys)
    assert answer.startswith(f"model: [sandbox: SageMaker endpoint {name}]")
    assert "book a table" in answer

    ok(["teardown", "--yes"], capsys)
    assert Registry().resources() == []  # nothing recorded: nothing billable
    assert json.loads(ok(["teardown", "--list", "--json"], capsys))["items"] == []
    sagemaker = context_for(world).client("sagemaker")
    assert sagemaker.list_endpoints()["Endpoints"] == []
    assert sagemaker.list_endpoint_configs()["EndpointConfigs"] == []
    assert sagemaker.list_models()["Models"] == []
    assert context_for(world).client("s3").list_buckets()["Buckets"] == []
    assert context_for(world).client("iam").list_roles()["Roles"] == []
    return deployed


def test_autopilot_from_dialogsum_to_an_endpoint_reply_and_back(
    world: Sandbox, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run_id, prepared = infrastructure_and_prepared(capsys, tmp_path, "Falcon7BInstruct")
    data = f"s3://{BUCKET}/bedrock-tune/{run_id}/data/"
    csv_argv = ["autopilot", "csv", str(prepared / "train.jsonl"), str(tmp_path / "train.csv")]
    made = json.loads(ok([*csv_argv, "--upload", data, "--json"], capsys))
    assert made["rows"] == 120 and made["uploaded"] == f"{data}train.csv"

    launch = ["autopilot", "launch", "--train", f"{data}train.csv", "--role", ROLE]
    launched = json.loads(
        ok([*launch, "--name", "bt-ap-e2e", "--run-id", run_id, "--json"], capsys)
    )
    assert launched["reattached"] is False
    watched = ok(["autopilot", "watch", "bt-ap-e2e"], capsys)
    assert "bt-ap-e2e: Completed" in watched and "ROUGE-1" in watched
    assert not any(r.billable for r in Registry().resources())  # an ended job bills nothing

    deployed = deploy_chat_tear_down(world, capsys, ["--autopilot", "bt-ap-e2e"])
    assert deployed["run_id"] == run_id  # the launch's run serves it
    assert deployed["source"] == "autopilot:bt-ap-e2e"


def test_jumpstart_from_dialogsum_to_an_endpoint_reply_and_back(
    world: Sandbox, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    llama = "meta-textgeneration-llama-2-7b"
    run_id, prepared = infrastructure_and_prepared(capsys, tmp_path, llama)
    ok(["upload", str(prepared), "--run", run_id], capsys)
    data = f"s3://{BUCKET}/bedrock-tune/{run_id}/data/"

    models = json.loads(ok(["jumpstart", "models", "--json"], capsys))["models"]
    assert llama in [m["model_id"] for m in models]
    launch = ["jumpstart", "launch", "--model-id", llama, "--train", data, "--role", ROLE]
    launch += ["--instance", "ml.g5.12xlarge", "--name", "bt-js-e2e", "--run-id", run_id]
    assert main(launch) == 2  # the EULA not accepted: nothing sent
    assert "--accept-eula" in capsys.readouterr().err
    launched = json.loads(ok([*launch, "--accept-eula", "--hp", "epoch=1", "--json"], capsys))
    assert launched["instance"] == "ml.g5.12xlarge" and launched["per_hour_usd"] > 0
    watched = ok(["jumpstart", "watch", "bt-js-e2e"], capsys)
    assert "bt-js-e2e: Completed" in watched
    assert not any(r.billable for r in Registry().resources())  # an ended job bills nothing

    hub = (
        context_for(world)
        .client("sagemaker")
        .describe_hub_content(
            HubName="SageMakerPublicHub", HubContentType="Model", HubContentName=llama
        )
    )
    hosting = json.loads(hub["HubContentDocument"])["HostingEcrUri"]
    deployed = deploy_chat_tear_down(world, capsys, ["--training-job", "bt-js-e2e"])
    assert deployed["run_id"] == run_id and deployed["images"] == [hosting]
