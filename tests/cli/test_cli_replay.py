"""`bedrock-tune replay FILE` against the sandbox: the whole recipe headless, --until, the
billed steps asked for (or refused without a terminal), a kill in the middle then a rerun that
makes no second job, and recipes that are wrong with their line."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from core.data.templates import load_template, template_to_toml
from core.locks import HolderLock
from core.recipe import read_recipe, save_recipe
from core.registry import Registry
from core.replay.engine import replay_lock_path
from core.run import Route, Run
from core.sandbox.server import SANDBOX_ACCOUNT_ID, Sandbox
from core.statuses import ServingKind
from tests.fakes import Clock, Killed, context_for, hook_aws_calls
from tests.kills import cli_killed_at
from tui.cli.main import main

NOVA = "amazon.nova-micro-v1:0:128k"
REGION = "us-east-1"
SIZES = {"train": 40, "validation": 8, "test": 8}


def _dataset(folder: Path) -> Path:
    rows = [
        {"dialogue": f"#Person1#: Hello {i}.\n#Person2#: Hi {i}.", "summary": f"They greet {i}."}
        for i in range(60)
    ]
    path = folder / "dialogs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _recipe(folder: Path, **changes: Any) -> Path:
    """A recipe as `recipe save` writes it, of a run on Nova Micro served on demand."""
    _dataset(folder)
    run = Run(
        route=Route.BEDROCK_CUSTOMIZATION,
        target="sandbox",
        region=REGION,
        account_id="111122223333",
        base_model_id=NOVA,
        source_location="dialogs.jsonl",  # beside the recipe
        template_toml=template_to_toml(load_template("preset:dialogue-summary")),
        train_size=40,
        validation_size=8,
        test_size=8,
        seed=7,
        bucket=f"bedrock-tune-111122223333-{REGION}",
        s3_prefix="bedrock-tune",
        role_arn=f"arn:aws:iam::111122223333:role/bedrock-tune-{REGION}",
        hyperparameters={"epochCount": "2"},
        serving_kind=ServingKind.CUSTOM_MODEL_DEPLOYMENT,
        **changes,
    )
    path = folder / "recipe.toml"
    save_recipe(run, path, title="test")
    return path


@pytest.fixture
def fast_polls(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Polls wait on the sandbox's clock: the job and the deployment finish without waiting."""
    monkeypatch.setattr("tui.cli.replay.sleep", clock.sleep)
    return clock


def _jobs(sandbox: Sandbox) -> list[dict[str, Any]]:
    jobs = context_for(sandbox).client("bedrock").list_model_customization_jobs()
    return [dict(job) for job in jobs["modelCustomizationJobSummaries"]]


def _summary(capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, Any], str]:
    out, err = capsys.readouterr()
    return json.loads(out), err


def test_a_recipe_replays_headless_to_a_served_model(
    tmp_path: Path,
    exported_sandbox: Sandbox,
    fast_polls: Clock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    recipe = _recipe(tmp_path)
    assert main(["replay", str(recipe), "--yes", "--json", "--poll-interval", "5"]) == 0
    summary, err = _summary(capsys)
    assert summary["steps_done"] == [
        "credentials",
        "model",
        "dataset",
        "template",
        "prepare",
        "validate",
        "infrastructure",
        "launch",
        "watch",
        "deploy",
    ]
    assert summary["stopped_before"] is None and not summary["resumed"]
    resources = summary["resources"]
    assert resources["bucket"] == f"bedrock-tune-{SANDBOX_ACCOUNT_ID}-{REGION}"
    assert resources["role_arn"] == f"arn:aws:iam::{SANDBOX_ACCOUNT_ID}:role/bedrock-tune-{REGION}"
    assert resources["serving_kind"] == "custom-model-deployment"
    [job] = _jobs(exported_sandbox)
    assert job["status"] == "Completed" and job["jobArn"] == resources["job_arn"]
    details = (
        context_for(exported_sandbox)
        .client("bedrock")
        .get_model_customization_job(jobIdentifier=job["jobArn"])
    )
    assert details["baseModelArn"].endswith(f"/{NOVA}")
    assert details["hyperParameters"] == {"epochCount": "2"}
    prepared = Path(resources["prepared_dir"])
    sizes = {name: len((prepared / f"{name}.jsonl").read_text().splitlines()) for name in SIZES}
    assert sizes == SIZES
    # Progress on stderr, one line per step at least; the summary alone on stdout.
    assert "[launch] ✔ Launch" in err and "[deploy] ✔ Deploy" in err
    assert "[watch]   Training: InProgress" in err  # the job's phases as they change
    assert err.index("[watch]   Validation: Completed") < err.index("[watch] ✔ Watch")
    run = Registry().get_run(summary["run_id"])
    assert run is not None and run.run.serving_status == "Active"

    # Run again: everything is already done, nothing new is made.
    assert main(["replay", str(recipe), "--yes", "--json"]) == 0
    again, _ = _summary(capsys)
    assert again["resumed"] and again["run_id"] == summary["run_id"]
    assert "launch" in again["steps_already_done"] and "prepare" not in again["steps_done"]
    assert len(_jobs(exported_sandbox)) == 1


def test_until_stops_after_the_step_and_the_same_command_continues(
    tmp_path: Path,
    exported_sandbox: Sandbox,
    fast_polls: Clock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    recipe = _recipe(tmp_path)
    assert main(["replay", str(recipe), "--until", "validate", "--json"]) == 0
    first, _ = _summary(capsys)
    assert first["steps_done"][-1] == "validate" and first["steps_remaining"][0] == "infrastructure"
    assert "bucket" not in first["resources"] or _jobs(exported_sandbox) == []
    assert main(["replay", str(recipe), "--until", "infrastructure", "--json"]) == 0
    second, _ = _summary(capsys)
    assert second["run_id"] == first["run_id"] and second["resumed"]
    assert second["steps_already_done"] == ["prepare", "validate"]
    assert second["steps_done"][-1] == "infrastructure"
    assert second["resources"]["training_uri"].endswith(f"/{first['run_id']}/data/train.jsonl")


def test_without_a_terminal_a_billed_step_needs_yes(
    tmp_path: Path,
    exported_sandbox: Sandbox,
    fast_polls: Clock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    recipe = _recipe(tmp_path)
    assert main(["replay", str(recipe), "--json"]) == 2
    summary, err = _summary(capsys)
    assert summary["stopped_before"] == "launch"
    assert "pass --yes" in err.lower() and "Traceback" not in err
    assert _jobs(exported_sandbox) == []


def test_in_a_terminal_a_billed_step_is_asked(
    tmp_path: Path,
    exported_sandbox: Sandbox,
    fast_polls: Clock,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recipe = _recipe(tmp_path)
    asked: list[str] = []
    answers = iter(["n\n", "y\n", "y\n"])
    monkeypatch.setattr("tui.cli.replay._can_ask", lambda: True)

    def readline() -> str:
        asked.append("?")
        return next(answers)

    monkeypatch.setattr("sys.stdin.readline", readline)
    assert main(["replay", str(recipe), "--json"]) == 1  # "no" to the launch
    summary, err = _summary(capsys)
    assert summary["stopped_before"] == "launch" and "Launch a customization job" in err
    assert _jobs(exported_sandbox) == []
    assert main(["replay", str(recipe), "--json"]) == 0  # yes, yes
    summary, err = _summary(capsys)
    assert summary["steps_done"][-3:] == ["launch", "watch", "deploy"]
    assert "Deploy the custom model on demand?" in err
    assert len(asked) == 3


def test_a_kill_after_the_launch_reached_aws_then_a_rerun_makes_no_second_job(
    tmp_path: Path,
    exported_sandbox: Sandbox,
    fast_polls: Clock,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recipe = _recipe(tmp_path)
    hook_aws_calls(monkeypatch, "after-call.bedrock.CreateModelCustomizationJob", _die_once())
    with pytest.raises(Killed):
        main(["replay", str(recipe), "--yes", "--json"])
    [job] = _jobs(exported_sandbox)  # it exists; the run never learnt its ARN
    [saved] = Registry().runs()
    assert saved.run.job_arn is None and saved.run.client_request_token is not None
    capsys.readouterr()

    assert main(["replay", str(recipe), "--yes", "--json"]) == 0
    summary, err = _summary(capsys)
    assert summary["resumed"] and summary["run_id"] == saved.id
    assert summary["steps_already_done"] == ["prepare", "validate", "infrastructure"]
    assert "re-attached to" in err
    assert [j["jobArn"] for j in _jobs(exported_sandbox)] == [job["jobArn"]]
    assert summary["resources"]["job_arn"] == job["jobArn"]


def _die_once() -> Any:
    fired: list[bool] = []

    def die(**_: Any) -> None:
        if not fired:
            fired.append(True)
            raise Killed("after the create reached the sandbox")

    return die


def test_a_typo_is_reported_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = _recipe(tmp_path)
    text = recipe.read_text().replace("train_size = 40", "trian_size = 40")
    recipe.write_text(text)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row.startswith("trian_size"))
    assert main(["replay", str(recipe), "--yes"]) == 2
    err = capsys.readouterr().err
    assert f"{recipe}, line {line}: unknown key `trian_size` in [prepare]" in err
    assert "Did you mean `train_size`?" in err and "Traceback" not in err
    assert Registry().runs() == []


def test_a_model_no_longer_known_is_reported_with_its_line(
    tmp_path: Path, exported_sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = _recipe(tmp_path)
    text = recipe.read_text().replace(NOVA, "amazon.retired-model-v1:0")
    recipe.write_text(text)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "retired-model" in row)
    assert main(["replay", str(recipe), "--yes"]) == 2
    err = capsys.readouterr().err
    assert f"{recipe}, line {line}: the base model 'amazon.retired-model-v1:0'" in err
    assert _jobs(exported_sandbox) == [] and Registry().runs() == []


def test_a_missing_dataset_is_reported_with_its_line(
    tmp_path: Path, exported_sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = _recipe(tmp_path)
    (tmp_path / "dialogs.jsonl").unlink()
    line = next(
        n for n, row in enumerate(recipe.read_text().splitlines(), 1) if row.startswith("source")
    )
    assert main(["replay", str(recipe), "--yes"]) == 2
    assert f"{recipe}, line {line}: dialogs.jsonl: no such file" in capsys.readouterr().err
    assert Registry().runs() == []  # a recipe the checks refuse leaves no run behind


def test_sizes_the_model_refuses_are_reported_with_their_line_before_anything_is_made(
    tmp_path: Path, exported_sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = _recipe(tmp_path)
    for size in ("train_size = 0", "train_size = 100000"):
        text = recipe.read_text().replace("train_size = 40", size)
        recipe.write_text(text)
        line = next(n for n, row in enumerate(text.splitlines(), 1) if row == size)
        assert main(["replay", str(recipe), "--yes"]) == 2
        err = capsys.readouterr().err
        assert f"{recipe}, line {line}: the sizes do not fit Nova Micro" in err, size
        assert "Traceback" not in err
        recipe.write_text(text.replace(size, "train_size = 40"))
    assert _jobs(exported_sandbox) == [] and Registry().runs() == []  # refused at the checks


@pytest.mark.parametrize(
    ("key", "bad", "said"),
    [
        ("bucket", "Bad_Bucket", "'Bad_Bucket' is not a valid S3 bucket name"),
        ("role_name", "bad role", "'bad role' is not a valid IAM role name"),
        ("s3_prefix", "/runs", "The key prefix '/runs' starts with '/'"),
    ],
)
def test_names_aws_refuses_are_reported_with_their_line_before_anything_is_made(
    tmp_path: Path,
    exported_sandbox: Sandbox,
    capsys: pytest.CaptureFixture[str],
    key: str,
    bad: str,
    said: str,
) -> None:
    recipe = _recipe(tmp_path)
    rows = recipe.read_text().splitlines()
    line = next(n for n, row in enumerate(rows, 1) if row.startswith(f"{key} ="))
    rows[line - 1] = f'{key} = "{bad}"'
    recipe.write_text("\n".join(rows) + "\n")
    assert main(["replay", str(recipe), "--yes"]) == 2
    err = capsys.readouterr().err
    assert f"{recipe}, line {line}: {said}" in err and "Traceback" not in err
    assert Registry().runs() == []  # refused at the first check: no run, nothing prepared


@pytest.mark.parametrize("route", ["sagemaker-autopilot", "sagemaker-jumpstart"])
def test_another_route_is_not_yet_replayable(
    route: str, tmp_path: Path, exported_sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = _recipe(tmp_path)
    recipe.write_text(
        recipe.read_text().replace('route = "bedrock-customization"', f'route = "{route}"')
    )
    assert main(["replay", str(recipe), "--yes"]) == 2
    err = capsys.readouterr().err
    assert f"route '{route}'" in err and "not yet" in err and "replayable" in err
    assert Registry().runs() == []


@pytest.mark.parametrize("route", [Route.SAGEMAKER_AUTOPILOT, Route.SAGEMAKER_JUMPSTART])
def test_a_route_without_a_replay_is_named_before_credentials_are_asked_for(
    tmp_path: Path, route: Route, capsys: pytest.CaptureFixture[str]
) -> None:
    # No sandbox and no credentials here: the route is what stops the replay, not the account.
    recipe = _recipe(tmp_path)
    recipe.write_text(
        recipe.read_text().replace('route = "bedrock-customization"', f'route = "{route.value}"')
    )
    assert main(["replay", str(recipe), "--yes"]) == 2
    err = capsys.readouterr().err
    assert f"Recipes of the route '{route.value}' ({route.label}) are not yet replayable." in err
    assert "Replayable routes: bedrock-customization, sagemaker-import, import-only." in err
    assert "credentials" not in err.lower() and "Traceback" not in err


def test_an_unknown_until_lists_the_steps(
    tmp_path: Path, exported_sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = _recipe(tmp_path)
    assert main(["replay", str(recipe), "--until", "chat"]) == 2
    err = capsys.readouterr().err
    assert "--until chat" in err and "Chat is left to you" in err and "validate" in err


def test_killed_by_sigkill_in_the_upload_then_at_the_launch_then_run_again(
    tmp_path: Path,
    exported_sandbox: Sandbox,
    fast_polls: Clock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Real `kill -9`s of real CLI processes: in the middle of the upload (a write point of
    core/faults.py), then right after the job's create request was answered, before its ARN is
    saved (`launch.created`); each rerun continues the same run, and there is one job."""
    recipe = _recipe(tmp_path)
    args = ["replay", str(recipe), "--yes", "--json"]
    cli_killed_at("upload.put", args, cwd=tmp_path)
    [saved] = Registry().runs()
    assert saved.run.prepared_dir is not None and saved.run.training_uri is None
    assert _jobs(exported_sandbox) == []

    killed = cli_killed_at("launch.created", args, cwd=tmp_path)
    assert "[prepare] ✔ Prepare: already done" in killed
    [job] = _jobs(exported_sandbox)

    assert main(args) == 0
    summary, _ = _summary(capsys)
    assert summary["run_id"] == saved.id
    assert [j["jobArn"] for j in _jobs(exported_sandbox)] == [job["jobArn"]]
    [run] = Registry().runs()
    assert run.run.job_status == "Completed" and run.run.serving_status == "Active"


def test_provisioned_throughput_is_asked_for_apart_and_bought_once(
    tmp_path: Path,
    exported_sandbox: Sandbox,
    fast_polls: Clock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    recipe = _recipe(tmp_path)
    recipe.write_text(
        recipe.read_text().replace('"custom-model-deployment"', '"provisioned-throughput"')
    )
    assert main(["replay", str(recipe), "--yes", "--until", "watch", "--json"]) == 0
    first, _ = _summary(capsys)
    assert first["steps_remaining"] == ["deploy"]
    assert main(["replay", str(recipe), "--json"]) == 2  # the throughput bills: --yes needed
    stopped, err = _summary(capsys)
    assert stopped["stopped_before"] == "deploy" and "Pass --yes to allow it" in err
    assert not any(r.billable for r in Registry().resources())
    assert main(["replay", str(recipe), "--yes", "--json"]) == 0
    done, _ = _summary(capsys)
    assert done["steps_done"][-1] == "deploy" and done["run_id"] == first["run_id"]
    _, body = exported_sandbox.inference.list_throughputs()
    [throughput] = body["provisionedModelSummaries"]
    assert throughput["provisionedModelArn"] == done["resources"]["serving_arn"]
    [billed] = [r for r in Registry().resources() if r.billable]
    assert billed.identifier == throughput["provisionedModelArn"]
    assert billed.run_id == done["run_id"]


def test_a_second_replay_of_the_recipe_here_while_one_runs_is_refused(
    tmp_path: Path, exported_sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = _recipe(tmp_path)
    place = Run(
        target="sandbox",
        region=REGION,
        endpoint_url=exported_sandbox.endpoint_url,
        account_id=SANDBOX_ACCOUNT_ID,
    )
    lock = replay_lock_path(Registry(), read_recipe(recipe), place)
    with HolderLock(lock, "a replay in another terminal"):
        assert main(["replay", str(recipe), "--yes", "--until", "prepare"]) == 2
    err = capsys.readouterr().err
    assert f"Another replay of {recipe} is running here (process {os.getpid()}" in err
    assert Registry().runs() == []
    assert main(["replay", str(recipe), "--until", "prepare"]) == 0  # released: it runs


def test_a_recipe_that_used_a_kms_key_or_a_vpc_needs_them_passed(
    tmp_path: Path, exported_sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = _recipe(tmp_path, kms_key_id="alias/data", subnet_ids=("subnet-1",))
    text = recipe.read_text()
    assert "uses_kms_key = true" in text and "alias/data" not in text
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row.startswith("uses_kms"))
    assert main(["replay", str(recipe), "--until", "template"]) == 2
    err = capsys.readouterr().err
    assert f"{recipe}, line {line}: the recipe's run encrypted its data" in err
    assert "--kms-key" in err
    vpc = next(n for n, row in enumerate(text.splitlines(), 1) if row.startswith("uses_vpc"))
    assert main(["replay", str(recipe), "--until", "template", "--kms-key", "alias/k"]) == 2
    assert f"line {vpc}: the recipe's job ran in a VPC" in capsys.readouterr().err
    args = ["--kms-key", "alias/k", "--subnet", "subnet-9", "--security-group", "sg-9"]
    assert main(["replay", str(recipe), "--until", "template", *args]) == 0
    assert Registry().runs() != []


@pytest.mark.parametrize(
    ("said", "why"),
    [
        ('epochs = "2"', "has no hyperparameter `epochs`"),  # a name the model does not have
        ('epochCount = "99"', "epochCount must be between 1 and 5, not 99"),
    ],
)
def test_hyperparameters_the_model_refuses_are_reported_with_their_line(
    tmp_path: Path,
    exported_sandbox: Sandbox,
    capsys: pytest.CaptureFixture[str],
    said: str,
    why: str,
) -> None:
    recipe = _recipe(tmp_path)
    text = recipe.read_text()
    assert 'epochCount = "2"' in text
    text = text.replace('epochCount = "2"', said)
    recipe.write_text(text)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row == said)
    assert main(["replay", str(recipe), "--yes"]) == 2
    err = capsys.readouterr().err
    assert f"{recipe}, line {line}: " in err and why in err and "Traceback" not in err
    assert Registry().runs() == [] and _jobs(exported_sandbox) == []


def test_without_json_the_summary_is_text_and_says_how_to_continue(
    tmp_path: Path, exported_sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = _recipe(tmp_path)
    assert main(["replay", str(recipe), "--until", "prepare"]) == 0
    out, err = capsys.readouterr()
    [run] = Registry().runs()
    assert out.startswith(f"Run {run.id}: credentials, model, dataset, template, prepare.")
    assert f"prepared_dir       {run.run.prepared_dir}" in out
    assert "Continue with the same command (without --until): validate, infrastructure" in out
    assert "[prepare] ✔ Prepare" in err and "[validate]" not in err


def test_with_sandbox_a_stop_says_the_run_ends_with_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A sandbox started for the command ends with it, and its run too: running the same
    command again starts over, so the stop does not promise to continue."""
    recipe = _recipe(tmp_path)
    assert main(["replay", str(recipe), "--sandbox"]) == 2  # the launch bills: no terminal
    err = capsys.readouterr().err
    assert "Stopped before launch" in err and "Traceback" not in err
    assert "continues this run" not in err
    assert "replay against `bedrock-tune sandbox`" in err
