"""The whole wizard in the sandbox, through the UI, every step in order: credentials, model,
dataset, template, prepare, validate, infrastructure, launch, watch, deploy, chat in compare
mode, evaluate, and teardown, which leaves nothing billable (or made by bedrock-tune) behind.
The run, saved as a recipe before the teardown, is then replayed headless in a fresh HOME.

The sandbox runs on an injected clock: the test moves it forward instead of waiting.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import (
    DataTable,
    Input,
    Log,
    OptionList,
    RichLog,
    Select,
    SelectionList,
    Static,
    Switch,
)

from core.catalog.types import CustomizationType
from core.registry import Registry
from core.run import Route
from core.run.routes import ROUTE_STEPS
from core.sandbox.background import SandboxHome
from core.sandbox.server import SANDBOX_ACCOUNT_ID, Sandbox
from screens.base import LaunchOptions
from screens.chat import PromptArea, Transcript
from screens.confirm import ConfirmScreen
from screens.file_dialog import FileDialog
from screens.widgets.step_sidebar import StepSidebar
from tests.conftest import DIALOGSUM, needs_shared
from tests.e2e.replaying import replay_in_a_fresh_home
from tests.fakes import Clock
from tests.tui.helpers import click_button, settle, text_of
from tui.app import BedrockTuneApp

NOVA = "amazon.nova-micro-v1:0:128k"
"""Nova Micro: on-demand deployment (nothing bills by the hour) and a base inference profile."""
NOVA_BASE = "us.amazon.nova-micro-v1:0"
REGION = "us-east-1"
BUCKET = f"bedrock-tune-{SANDBOX_ACCOUNT_ID}-{REGION}"
JOB_SECONDS = 10.0
READY_SECONDS = 30.0
SIZES = {"train": 40, "validation": 8, "test": 8}
ANSWER_DETAILS = re.compile(r"\d+ ms, \d+ in / \d+ out tokens")


async def next_step(pilot: Pilot[None], expected: str) -> None:
    """Ctrl+N, the app's own "next step", and wait for `expected` to be on screen."""
    app = pilot.app
    assert isinstance(app, BedrockTuneApp)
    await pilot.press("ctrl+n")
    await settle(pilot, lambda: app.current_step == expected)


def words(app: BedrockTuneApp, selector: str) -> str:
    """A Static's text with its line wrapping undone (runs of white space made one space)."""
    return " ".join(text_of(app, selector).split())


def transcript_text(app: BedrockTuneApp, side: str) -> str:
    transcript = app.screen.query_one(f"#{side}", Transcript)
    return "\n".join(str(w.content) for w in transcript.query(Static))


def sidebar_marks(app: BedrockTuneApp) -> dict[str, str]:
    """Each step's mark in the sidebar, as shown: ✔ done, ▶ current, ○ ready, · blocked."""
    sidebar = app.screen.query_one(StepSidebar)
    marks = {}
    for index in range(sidebar.option_count):
        option = sidebar.get_option_at_index(index)
        assert option.id is not None
        marks[option.id] = str(option.prompt)[0]
    return marks


def assistant_texts(path: Path) -> set[str]:
    """The answers a prepared conversation file teaches."""
    answers = set()
    for line in path.read_text().splitlines():
        record = json.loads(line)
        [turn] = [m for m in record["messages"] if m["role"] == "assistant"]
        answers.add(" ".join(block["text"] for block in turn["content"]))
    return answers


@needs_shared()
async def test_the_whole_wizard_in_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = DIALOGSUM / "dev.jsonl"
    prepared = tmp_path / "prepared"
    recipe = tmp_path / "wizard.toml"
    clock = Clock(1_750_000_000.0)
    sandboxes: list[Sandbox] = []

    def sandbox_factory() -> Sandbox:
        sandboxes.append(Sandbox(job_seconds=JOB_SECONDS, ready_seconds=READY_SECONDS, clock=clock))
        return sandboxes[-1]

    app = BedrockTuneApp(
        LaunchOptions(sandbox=True, poll_interval=0.05), sandbox_factory=sandbox_factory
    )
    async with app.run_test(size=(170, 60)) as pilot:
        # ---------------------------------------------------------------- credentials
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        assert app.current_step == "credentials"
        assert "Ready: working in the sandbox, us-east-1" in text_of(app, "#credentials-status")
        assert SANDBOX_ACCOUNT_ID in text_of(app, "#identity")
        assert app.screen.query_one("#header-badge").has_class("-on")
        run = app.wizard_run
        assert (run.target, run.region, run.identity_checked) == ("sandbox", REGION, True)
        assert run.run_id is not None
        await click_button(pilot, "#continue")
        await settle(pilot, lambda: app.current_step == "model")

        # ---------------------------------------------------------------- base model
        models = app.screen.query_one("#models", DataTable)
        await settle(
            pilot, lambda: models.row_count > 0 and "offered" in text_of(app, "#models-status")
        )
        models.focus()
        steps = models.get_row_index(NOVA) - models.cursor_row
        await pilot.press(*(["down"] * steps if steps >= 0 else ["up"] * -steps))
        await settle(pilot, lambda: "Nova Micro" in text_of(app, "#model-detail"))
        detail = text_of(app, "#model-detail")
        assert "✔ available" in detail and "custom model deployment" in detail
        await click_button(pilot, "#use")
        await settle(pilot, lambda: app.current_step == "dataset")
        assert app.wizard_run.base_model_id == NOVA
        assert app.wizard_run.customization_type == CustomizationType.FINE_TUNING.value

        # ---------------------------------------------------------------- dataset
        source_input = app.screen.query_one("#source", Input)
        assert source_input.has_focus
        source_input.value = str(source)
        await pilot.press("enter")
        await settle(pilot, lambda: app.screen.query_one("#records", DataTable).row_count > 0)
        summary = text_of(app, "#dataset-summary")
        assert "500 rows" in summary and "dev.jsonl" in summary
        columns = app.screen.query_one("#columns", DataTable)
        assert {str(columns.get_row_at(i)[0]) for i in range(columns.row_count)} >= {
            "dialogue",
            "summary",
        }
        await click_button(pilot, "#use")
        await settle(pilot, lambda: app.current_step == "template")
        assert app.wizard_run.source_location == str(source)

        # ---------------------------------------------------------------- template
        preset = app.screen.query_one("#preset", Select)
        await settle(
            pilot, lambda: "Summarize the following conversation" in words(app, "#rendered")
        )
        assert preset.value == "dialogue-summary"  # chosen for the dialogue / summary columns
        assert "The template fits this record" in text_of(app, "#problems")
        assert '"schemaVersion":"bedrock-conversation-2024"' in words(app, "#rendered")
        await click_button(pilot, "#use")
        await settle(pilot, lambda: app.current_step == "prepare")
        template = app.wizard_run.template_toml
        assert template is not None and 'name = "dialogue-summary"' in template

        # ---------------------------------------------------------------- prepare
        screen = app.screen
        await settle(pilot, lambda: screen.query_one("#train", Input).value != "")
        for field, size in SIZES.items():
            screen.query_one(f"#{field}", Input).value = str(size)
        screen.query_one("#out-dir", Input).value = str(prepared)
        await settle(pilot, lambda: text_of(app, "#size-problems").strip() == "")
        await click_button(pilot, "#prepare")
        await settle(pilot, lambda: app.wizard_run.prepared_dir is not None, rounds=1000)
        assert app.wizard_run.prepared_dir == str(prepared)
        status = text_of(app, "#prepare-status")
        assert "Prepared in" in status and "40 train, 8 validation, 8 test" in status
        for name, size in SIZES.items():
            assert len((prepared / f"{name}.jsonl").read_text().splitlines()) == size
        assert (prepared / "manifest.json").is_file()
        await next_step(pilot, "validate")

        # ---------------------------------------------------------------- validate
        screen = app.screen
        assert screen.query_one("#validate-train", Input).value == str(prepared / "train.jsonl")
        await click_button(pilot, "#validate")
        await settle(pilot, lambda: app.wizard_run.validated_ok is not None, rounds=1000)
        assert app.wizard_run.validated_ok is True
        assert app.wizard_run.validated_dir == str(prepared)
        assert "Valid for Nova Micro" in text_of(app, "#validate-status")
        assert "train.jsonl  40 records" in text_of(app, "#validate-summary")
        await next_step(pilot, "infrastructure")

        # ---------------------------------------------------------------- infrastructure
        screen = app.screen
        await settle(pilot, lambda: "CREATE" in text_of(app, "#plan-view"))
        assert screen.query_one("#bucket", Input).value == BUCKET
        await click_button(pilot, "#create")
        await settle(pilot, lambda: app.wizard_run.role_arn is not None, rounds=1000)
        log = "\n".join(str(line) for line in screen.query_one("#infra-log", Log).lines)
        assert f"✓ s3:CreateBucket {BUCKET}" in log
        assert "✓ Everything is in place and read back as planned." in log
        await click_button(pilot, "#upload")
        await settle(pilot, lambda: app.wizard_run.training_uri is not None, rounds=1000)
        run = app.wizard_run
        data = f"s3://{BUCKET}/bedrock-tune/{run.run_id}"
        assert run.training_uri == f"{data}/data/train.jsonl"
        assert run.validation_uri == f"{data}/data/validation.jsonl"
        assert "Uploaded" in text_of(app, "#upload-status")
        await next_step(pilot, "launch")

        # ---------------------------------------------------------------- launch
        screen = app.screen
        await settle(pilot, lambda: screen.query_one("#training-uri", Input).value != "")
        assert screen.query_one("#training-uri", Input).value == run.training_uri
        assert screen.query_one("#validation-uri", Input).value == run.validation_uri
        assert screen.query_one("#output-uri", Input).value == run.output_uri
        assert screen.query_one("#role-arn", Input).value == run.role_arn
        await settle(pilot, lambda: "Estimated cost" in text_of(app, "#summary"))
        assert "40 records" in text_of(app, "#summary")
        screen.query_one("#hp-epochCount", Input).value = "2"  # a recipe carries it (below)
        await settle(pilot, lambda: "Epochs         2" in text_of(app, "#summary"))
        await pilot.press("ctrl+l")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Start the customization job?" in text_of(app, "#confirm-title")
        await click_button(pilot, "#confirm-yes")
        await settle(pilot, lambda: app.current_step == "watch")  # the launch moves on itself
        run = app.wizard_run
        assert run.job_arn is not None and run.client_request_token is not None
        assert run.hyperparameters == {"epochCount": "2"}

        # ---------------------------------------------------------------- watch
        await settle(pilot, lambda: "InProgress" in text_of(app, "#job-status"))
        assert app.wizard_run.job_status == "InProgress"
        clock.t += JOB_SECONDS + 1
        await settle(pilot, lambda: app.wizard_run.job_status == "Completed", rounds=1000)
        custom_model = app.wizard_run.custom_model_arn
        assert custom_model is not None
        await settle(pilot, lambda: "Completed" in text_of(app, "#job-status"))
        assert custom_model in text_of(app, "#custom-model")
        await next_step(pilot, "deploy")

        # ---------------------------------------------------------------- deploy
        plans = app.screen.query_one("#plans", OptionList)
        await settle(pilot, lambda: plans.option_count == 2)
        assert plans.highlighted == 0
        assert "nothing while idle" in str(plans.get_option_at_index(0).prompt)
        await click_button(pilot, "#deploy")  # on demand: no confirmation, no hourly bill
        await settle(pilot, lambda: app.wizard_run.serving_arn is not None)
        assert app.wizard_run.serving_kind == "custom-model-deployment"
        await settle(pilot, lambda: "Creating" in text_of(app, "#deploy-status"))
        billing = app.screen.query_one("#header-billing")
        await settle(pilot, lambda: billing.has_class("-on"))
        assert "1 billable, no idle cost, bills per token" in str(billing.render())
        clock.t += READY_SECONDS + 1
        await settle(pilot, lambda: app.wizard_run.serving_status == "Active", rounds=1000)
        assert "Active" in text_of(app, "#deploy-status")
        await next_step(pilot, "chat")

        # ---------------------------------------------------------------- chat (compare mode)
        marks = sidebar_marks(app)
        route = ROUTE_STEPS[Route.BEDROCK_CUSTOMIZATION]
        done = list(route[: route.index("chat")])
        assert {step: marks[step] for step in done} == dict.fromkeys(done, "✔")
        assert marks["chat"] == "▶"
        assert app.screen.query_one("#compare", Switch).value  # compare mode is on
        assert app.screen.query_one("#base-column").display
        models_line = text_of(app, "#chat-models")
        deployment = app.wizard_run.serving_arn
        assert deployment is not None and deployment in models_line and NOVA_BASE in models_line
        assert NOVA not in models_line  # the customization id is never used for inference
        await click_button(pilot, "#load-test")
        await settle(pilot, lambda: "Reference answer" in text_of(app, "#reference"))
        message = app.screen.query_one("#message", PromptArea)
        assert message.text.startswith("Summarize the following conversation.")
        message.focus()
        await pilot.press("enter")
        await settle(
            pilot,
            lambda: all(
                ANSWER_DETAILS.search(transcript_text(app, side)) for side in ("tuned", "base")
            ),
        )
        tuned, base = transcript_text(app, "tuned"), transcript_text(app, "base")
        assert tuned.startswith("you: Summarize the following conversation.")
        note = "[sandbox: answer of the most similar training record] "
        [answer] = [line for line in tuned.splitlines() if line.startswith(note)]
        assert answer.removeprefix(note) in assistant_texts(prepared / "train.jsonl")
        assert f"[sandbox: base model {NOVA_BASE}]" in base

        # ---------------------------------------------------------------- evaluate
        await next_step(pilot, "evaluate")
        count = app.screen.query_one("#count", Input)
        count.value = str(SIZES["test"])
        await click_button(pilot, "#run")
        await settle(pilot, lambda: "Report saved" in text_of(app, "#eval-summary"), rounds=1000)
        scores = text_of(app, "#eval-summary")
        assert "Tuned" in scores and "Base" in scores and "(8 answered)" in scores
        assert app.screen.query_one("#eval-rows", DataTable).row_count == SIZES["test"]
        assert (prepared / "evaluation.json").is_file()

        # ---------------------------------------------------------------- save as a recipe (F2)
        await pilot.press("f2")
        await settle(pilot, lambda: isinstance(app.screen, FileDialog))
        await pilot.press("end", "ctrl+u", *str(recipe), "enter")
        await settle(pilot, lambda: not isinstance(app.screen, FileDialog))
        assert recipe.is_file()
        recipe_run = app.wizard_run

        # ---------------------------------------------------------------- teardown
        sidebar = app.screen.query_one(StepSidebar)  # by the sidebar this time
        sidebar.focus()
        await pilot.press("end", "enter")
        await settle(pilot, lambda: app.current_step == "teardown")
        listing = app.screen.query_one("#teardown-items", SelectionList)
        await settle(
            pilot,
            lambda: listing.option_count > 0 and "resource" in text_of(app, "#teardown-summary"),
        )
        prompts = [str(listing.get_option_at_index(n).prompt) for n in range(listing.option_count)]
        # What bills comes first; everything this run made is there, nothing else.
        assert prompts[0].startswith(f"On-demand deployment {run.custom_model_name}")
        labels = [p.split("  ")[0] for p in prompts]
        assert labels[1:2] + labels[3:] == [
            f"Custom model {run.custom_model_name}",
            f"S3 bucket {BUCKET}",
            f"IAM role bedrock-tune-{REGION}",
        ]
        assert labels[2].startswith(f"S3 folder s3://{BUCKET}/bedrock-tune/{run.run_id}/ (")
        assert "1 billing" in text_of(app, "#teardown-summary")
        await click_button(pilot, "#teardown-select-all-button")
        await settle(pilot, lambda: len(listing.selected) == listing.option_count)
        await click_button(pilot, "#teardown-delete")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Deleting cannot be undone" in text_of(app, "#confirm-message")
        await click_button(pilot, "#confirm-yes")
        teardown_log = app.screen.query_one("#teardown-log", RichLog)

        def log_lines() -> str:
            return "\n".join(line.text for line in teardown_log.lines)

        await settle(pilot, lambda: "Done." in log_lines(), rounds=1000)
        await settle(
            pilot, lambda: "Nothing bedrock-tune made is left" in text_of(app, "#teardown-summary")
        )
        deleted = " ".join(log_lines().split())
        assert "could not be deleted" not in deleted
        order = [
            "Deleted On-demand deployment",
            "Deleted Custom model",
            "objects under s3://",
            "Deleted the bucket",
            "then the role",
        ]
        positions = [deleted.index(outcome) for outcome in order]
        positions.append(deleted.index("Done."))
        assert positions == sorted(positions)  # what uses a thing goes before it
        assert listing.option_count == 0

        # Nothing left: not in the registry, not in the sandbox, not in the header.
        assert Registry().resources() == []
        billing = app.screen.query_one("#header-billing")
        assert not billing.has_class("-on")
        assert "0 billable," in str(billing.render())
        run = app.wizard_run
        assert run.serving_arn is None and run.custom_model_arn is None
        context = app.aws_context()
        assert context is not None
        bedrock = context.client("bedrock")
        assert bedrock.list_provisioned_model_throughputs()["provisionedModelSummaries"] == []
        assert bedrock.list_custom_model_deployments()["modelDeploymentSummaries"] == []
        assert bedrock.list_custom_models()["modelSummaries"] == []
        assert context.client("s3").list_buckets()["Buckets"] == []
        assert context.client("iam").list_roles()["Roles"] == []
    # The sandbox outlives the app (for resume); with everything torn down nothing needs it
    # any more, so once idle it stops on its own.
    [sandbox] = sandboxes
    home = SandboxHome(Registry().directory)
    assert sandbox.running and not home.in_use()
    assert not home.needed_by_runs(sandbox.instance_id)
    assert home.should_stop(sandbox.instance_id, idle_for=600, idle_seconds=600)

    # ---------------------------------------------------------------- replay the recipe
    # The recipe saved above, replayed headless in a fresh HOME against a fresh sandbox, makes
    # the same resources (issue 16).
    replayed = replay_in_a_fresh_home(
        recipe, recipe_run, tmp_path / "elsewhere", monkeypatch, capsys
    )
    # The wizard evaluated before the recipe was saved: the recipe keeps it, the replay does it.
    assert recipe_run.evaluation is not None
    assert replayed["steps_done"][-4:] == ["launch", "watch", "deploy", "evaluate"]
