"""The sagemaker-import route in the sandbox, through the UI, in both training modes: a
text-to-SQL dataset (context / question / answer, as sql-create-context) is chosen, templated with
the text-to-SQL preset, prepared, validated and uploaded; SageMaker trains it (serverless, or the
QLoRA script on a spot instance), watched to Completed with its loss; the job's output passes the
import check, is imported, answers in the chat after "warming up", and teardown removes what it
covers.

The sandbox runs on an injected clock: the test moves it forward instead of waiting.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest import MonkeyPatch
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, RichLog, Select, SelectionList, Sparkline, Static

from core.registry import Registry
from core.run import Route
from core.run.routes import ROUTE_STEPS
from core.sagemaker.launching import TRAINING_JOB
from core.sandbox.server import SANDBOX_ACCOUNT_ID, Sandbox
from core.statuses import JobStatus
from screens.base import LaunchOptions
from screens.chat import ChatScreen, PromptArea, Transcript
from screens.confirm import ConfirmScreen
from screens.file_dialog import FileDialog
from screens.training_watch import TrainingWatchScreen
from screens.widgets.step_sidebar import StepSidebar
from tests.e2e.replaying import replay_training_in_a_fresh_home
from tests.fakes import Clock
from tests.tui.helpers import click_button, settle, text_of
from tui.app import BedrockTuneApp

REGION = "us-east-1"
BUCKET = f"bedrock-tune-{SANDBOX_ACCOUNT_ID}-{REGION}"
TRAINING_SECONDS = 60.0
IMPORT_SECONDS = 40.0
SIZES = {"train": 40, "validation": 8, "test": 8}
TABLES = (
    ("head", "CREATE TABLE head (age INTEGER, name VARCHAR, born_state VARCHAR)"),
    ("department", "CREATE TABLE department (name VARCHAR, budget INTEGER, ranking INTEGER)"),
    ("farm", "CREATE TABLE farm (farm_id INTEGER, cows INTEGER, total_horses INTEGER)"),
)


def sql_dataset(path: Path, count: int = 60) -> Path:
    """`count` distinct sql-create-context style records."""
    lines = []
    for n in range(count):
        table, schema = TABLES[n % len(TABLES)]
        lines.append(
            {
                "context": schema,
                "question": f"How many rows of {table} have a value above {n}?",
                "answer": f"SELECT COUNT(*) FROM {table} WHERE rowid > {n}",
            }
        )
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def words(app: BedrockTuneApp, selector: str) -> str:
    return " ".join(text_of(app, selector).split())


async def next_step(pilot: Pilot[None], expected: str) -> None:
    app = pilot.app
    assert isinstance(app, BedrockTuneApp)
    await pilot.press("ctrl+n")
    await settle(pilot, lambda: app.current_step == expected)


@pytest.mark.parametrize("mode", ["serverless", "instance"])
async def test_train_on_sagemaker_import_chat_and_tear_down(
    tmp_path: Path, monkeypatch: MonkeyPatch, capsys: pytest.CaptureFixture[str], mode: str
) -> None:
    source = sql_dataset(tmp_path / "sql.jsonl")
    prepared = tmp_path / "prepared"
    clock = Clock(1_750_000_000.0)
    warmed: list[str] = []
    original_warming = ChatScreen._warming

    def warming(screen: ChatScreen, side: str, times: int) -> None:
        original_warming(screen, side, times)
        widget, _ = screen._live[side]
        warmed.append(str(widget.content))

    monkeypatch.setattr(ChatScreen, "_warming", warming)

    def sandbox_factory() -> Sandbox:
        return Sandbox(
            training_seconds=TRAINING_SECONDS, import_seconds=IMPORT_SECONDS, clock=clock
        )

    app = BedrockTuneApp(
        LaunchOptions(sandbox=True, poll_interval=0.05), sandbox_factory=sandbox_factory
    )
    async with app.run_test(size=(170, 60)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        await click_button(pilot, "#continue")
        await settle(pilot, lambda: app.current_step == "model")

        # ---------------------------------------------------------------- model: SageMaker
        assert app.screen.query_one("#sagemaker-group").display  # offered: every step built
        await click_button(pilot, "#train-sagemaker")
        await settle(pilot, lambda: app.current_step == "dataset")
        run = app.wizard_run
        assert run.route is Route.SAGEMAKER_IMPORT
        assert run.base_model_id == "meta-textgeneration-llama-3-8b"
        sidebar = app.screen.query_one(StepSidebar)
        ids = [str(sidebar.get_option_at_index(i).id) for i in range(sidebar.option_count)]
        assert ids == list(ROUTE_STEPS[Route.SAGEMAKER_IMPORT])

        # ---------------------------------------------------------------- the dataset steps
        app.screen.query_one("#source", Input).value = str(source)
        await pilot.press("enter")
        await settle(pilot, lambda: "60 rows" in text_of(app, "#dataset-summary"))
        await click_button(pilot, "#use")
        await settle(pilot, lambda: app.current_step == "template")
        await settle(pilot, lambda: "You write SQL" in words(app, "#rendered"))
        assert app.screen.query_one("#preset", Select).value == "text-to-sql"
        await click_button(pilot, "#use")
        await settle(pilot, lambda: app.current_step == "prepare")
        screen = app.screen
        await settle(pilot, lambda: screen.query_one("#train", Input).value != "")
        for field, size in SIZES.items():
            screen.query_one(f"#{field}", Input).value = str(size)
        screen.query_one("#out-dir", Input).value = str(prepared)
        await settle(pilot, lambda: text_of(app, "#size-problems").strip() == "")
        await click_button(pilot, "#prepare")
        await settle(pilot, lambda: app.wizard_run.prepared_dir is not None, rounds=1000)
        await next_step(pilot, "validate")
        await click_button(pilot, "#validate")
        await settle(pilot, lambda: app.wizard_run.validated_ok is not None, rounds=1000)
        assert app.wizard_run.validated_ok is True, text_of(app, "#validate-status")
        assert "Meta Llama 3 8B" in text_of(app, "#validate-status")
        await next_step(pilot, "infrastructure")

        # ---------------------------------------------------------------- infrastructure
        screen = app.screen
        await settle(pilot, lambda: "CREATE" in text_of(app, "#plan-view"))
        assert screen.query_one("#role", Input).value == f"bedrock-tune-sagemaker-{REGION}"
        assert "sagemaker.amazonaws.com" in words(app, "#plan-json")
        await click_button(pilot, "#create")
        await settle(pilot, lambda: app.wizard_run.role_arn is not None, rounds=1000)
        await click_button(pilot, "#upload")
        await settle(pilot, lambda: app.wizard_run.training_uri is not None, rounds=1000)
        await next_step(pilot, "train")

        # ---------------------------------------------------------------- train
        screen = app.screen
        run = app.wizard_run
        assert run.training_uri and run.training_uri in words(app, "#train-where")
        estimate = words(app, "#train-estimate")
        assert "no amount is shown" in estimate and "$0.00" not in estimate
        if mode == "serverless":
            assert screen.query_one("#serverless-options").display
            await click_button(pilot, "#train-launch")  # the licence is not accepted yet
            await settle(pilot, lambda: "EULA" in text_of(app, "#error-panel"))
            assert app.wizard_run.job_arn is None and app.wizard_run.client_request_token is None
            screen.query_one("#train-eula", Checkbox).value = True
            screen.query_one("#train-sequence", Input).value = "8k"
            await settle(pilot, lambda: '"SequenceLength": "8K"' in words(app, "#train-request"))
            assert '"AcceptEula": true' in words(app, "#train-request")
        else:
            screen.query_one("#train-mode", Select).value = "instance"
            await settle(pilot, lambda: screen.query_one("#instance-options").display)
            # The Price List's rate (the sandbox's copy), the hours, and the spot ceiling.
            await settle(pilot, lambda: "Price List" in words(app, "#train-estimate"))
            screen.query_one("#train-spot", Checkbox).value = True
            await settle(pilot, lambda: "Managed spot" in words(app, "#train-estimate"))
            estimate = words(app, "#train-estimate")
            assert "ml.g5.12xlarge" in estimate and "2.5 h" in estimate
            request = words(app, "#train-request")
            assert '"EnableManagedSpotTraining": true' in request
            assert '"CompressionType": "NONE"' in request
        await click_button(pilot, "#train-launch")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await click_button(pilot, "#confirm-yes")
        await settle(pilot, lambda: app.current_step == "watch", rounds=1000)
        run = app.wizard_run
        assert run.job_arn and run.training_mode == mode
        saved = Registry().get_run(run.run_id or "")
        assert saved is not None and saved.run.job_name == run.job_name
        assert saved.run.client_request_token == run.client_request_token
        assert [r.identifier for r in Registry().resources() if r.kind == TRAINING_JOB] == [
            run.job_name
        ]

        # ---------------------------------------------------------------- watch the training
        assert isinstance(app.screen, TrainingWatchScreen)
        await settle(pilot, lambda: "InProgress" in text_of(app, "#training-status"))
        clock.t += TRAINING_SECONDS / 2
        await settle(pilot, lambda: "Training" in text_of(app, "#training-timeline"))
        clock.t += TRAINING_SECONDS
        await settle(pilot, lambda: app.wizard_run.job_status is JobStatus.COMPLETED, rounds=1000)
        await settle(pilot, lambda: "merged model" in text_of(app, "#training-result"))
        timeline = text_of(app, "#training-timeline")
        for status in ("Starting", "Downloading", "Training", "Uploading", "Completed"):
            assert status in timeline
        await settle(pilot, lambda: "20 points" in text_of(app, "#training-loss-summary"))
        losses = app.screen.query_one("#training-loss", Sparkline).data or []
        assert len(losses) == 20 and losses[-1] < losses[0]
        artifacts = app.wizard_run.model_artifacts
        assert artifacts and artifacts.endswith(f"{run.job_name}/output/model/")
        assert app.wizard_run.model_source == artifacts
        await click_button(pilot, "#training-next")
        await settle(pilot, lambda: app.current_step == "import-check")

        # ---------------------------------------------------------------- import check, import
        await settle(pilot, lambda: "Ready to import" in text_of(app, "#check-verdict"))
        await click_button(pilot, "#check-next")
        await settle(pilot, lambda: app.current_step == "import")
        assert f"bedrock-tune-import-{REGION}" in words(app, "#import-where")
        assert artifacts in words(app, "#import-request")
        await click_button(pilot, "#import")
        await settle(pilot, lambda: app.wizard_run.import_job_arn is not None, rounds=1000)
        role = app.wizard_run.import_role_arn
        assert role and role.endswith(f"role/bedrock-tune-import-{REGION}")
        assert role != app.wizard_run.role_arn  # SageMaker's role trains, this one imports
        clock.t += IMPORT_SECONDS + 1
        await settle(pilot, lambda: app.wizard_run.custom_model_arn is not None, rounds=1000)
        await click_button(pilot, "#import-chat")
        await settle(pilot, lambda: app.current_step == "chat")

        # ---------------------------------------------------------------- chat (cold first)
        assert not app.screen.query_one("#base-column").display  # no Bedrock base
        message = app.screen.query_one("#message", PromptArea)
        message.text = "How many heads are older than 56?"
        message.focus()
        await pilot.press("enter")
        transcript = app.screen.query_one("#tuned", Transcript)

        def tuned_text() -> str:
            return "\n".join(str(w.content) for w in transcript.query(Static))

        await settle(pilot, lambda: "[sandbox: imported model" in tuned_text(), rounds=1000)
        assert warmed and "warming up" in warmed[0]
        assert app.wizard_run.chatted_with == app.wizard_run.custom_model_arn

        # ---------------------------------------------------------------- save as a recipe (F2)
        recipe = tmp_path / "sagemaker.toml"
        await pilot.press("f2")
        await settle(pilot, lambda: isinstance(app.screen, FileDialog))
        await pilot.press("end", "ctrl+u", *str(recipe), "enter")
        await settle(pilot, lambda: not isinstance(app.screen, FileDialog))
        assert recipe.is_file()
        recipe_run = app.wizard_run

        # ---------------------------------------------------------------- teardown
        sidebar = app.screen.query_one(StepSidebar)
        sidebar.focus()
        await pilot.press("end", "enter")
        await settle(pilot, lambda: app.current_step == "teardown")
        listing = app.screen.query_one("#teardown-items", SelectionList)
        await settle(
            pilot,
            lambda: listing.option_count > 0 and "resource" in text_of(app, "#teardown-summary"),
        )
        await click_button(pilot, "#teardown-select-all-button")
        await settle(pilot, lambda: len(listing.selected) == listing.option_count)
        await click_button(pilot, "#teardown-delete")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await click_button(pilot, "#confirm-yes")
        teardown_log = app.screen.query_one("#teardown-log", RichLog)
        await settle(
            pilot,
            lambda: "Done." in "\n".join(line.text for line in teardown_log.lines),
            rounds=1000,
        )
        context = app.aws_context()
        assert context is not None
        assert context.client("bedrock").list_imported_models()["modelSummaries"] == []
        assert context.client("s3").list_buckets()["Buckets"] == []
        assert context.client("iam").list_roles()["Roles"] == []  # both roles
        # A training job cannot be deleted and a completed one bills nothing: teardown says so
        # and forgets its record; nothing else is left.
        log = "".join("".join(line.text for line in teardown_log.lines).split())  # unwrapped
        assert f"Trainingjob{run.job_name}:nothingofourswasleft" in log
        assert Registry().resources() == []
        job = context.client("sagemaker").describe_training_job(TrainingJobName=run.job_name or "")
        assert job["TrainingJobStatus"] == "Completed"

    # ---------------------------------------------------------------- replay the recipe
    # The recipe saved above, replayed headless in a fresh HOME against a fresh sandbox, trains
    # the same way once and imports what it trained (a serverless one with the licence accepted
    # on the command line: recipes keep no acceptance).
    assert "model_source" not in recipe.read_text()
    flags = ("--accept-eula",) if mode == "serverless" else ()
    summary = replay_training_in_a_fresh_home(
        recipe, recipe_run, tmp_path / "elsewhere", monkeypatch, capsys, *flags
    )
    assert summary["route"] == "sagemaker-import" and summary["steps_done"][-4:] == [
        "train",
        "watch",
        "import-check",
        "import",
    ]
