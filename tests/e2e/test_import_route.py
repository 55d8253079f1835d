"""The import-only route in the sandbox, through the UI: a tiny valid Hugging Face folder made by
the test is chosen in the model step ("import my own"), checked, given its infrastructure,
imported and watched to Completed, answers in the chat, and teardown leaves nothing behind.

The sandbox runs on an injected clock: the test moves it forward instead of waiting.
"""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Button, Input, Log, RichLog, SelectionList, Static

from core.importing.tiny import write_tiny_model
from core.registry import Registry
from core.run import Route
from core.run.routes import ROUTE_STEPS
from core.sandbox.background import SandboxHome
from core.sandbox.server import SANDBOX_ACCOUNT_ID, Sandbox
from core.statuses import ImportStatus
from screens.base import LaunchOptions
from screens.chat import PromptArea, Transcript
from screens.confirm import ConfirmScreen
from screens.widgets.step_sidebar import StepSidebar
from tests.fakes import Clock
from tests.tui.helpers import click_button, settle, text_of
from tui.app import BedrockTuneApp

REGION = "us-east-1"
BUCKET = f"bedrock-tune-{SANDBOX_ACCOUNT_ID}-{REGION}"
IMPORT_SECONDS = 40.0


def words(app: BedrockTuneApp, selector: str) -> str:
    return " ".join(text_of(app, selector).split())


async def test_import_a_local_folder_chat_and_tear_down(tmp_path: Path) -> None:
    folder = write_tiny_model(tmp_path / "sql-llama-merged")
    clock = Clock(1_750_000_000.0)
    sandboxes: list[Sandbox] = []

    def sandbox_factory() -> Sandbox:
        sandboxes.append(Sandbox(import_seconds=IMPORT_SECONDS, clock=clock))
        return sandboxes[-1]

    app = BedrockTuneApp(
        LaunchOptions(sandbox=True, poll_interval=0.05), sandbox_factory=sandbox_factory
    )
    async with app.run_test(size=(170, 60)) as pilot:
        # ---------------------------------------------------------------- credentials
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        await click_button(pilot, "#continue")
        await settle(pilot, lambda: app.current_step == "model")

        # ---------------------------------------------------------------- model: import my own
        assert app.screen.query_one("#import-group").display
        await click_button(pilot, "#import-own")
        await settle(pilot, lambda: app.current_step == "model-source")
        assert app.wizard_run.route is Route.IMPORT_ONLY
        sidebar = app.screen.query_one(StepSidebar)
        ids = [str(sidebar.get_option_at_index(i).id) for i in range(sidebar.option_count)]
        assert ids == list(ROUTE_STEPS[Route.IMPORT_ONLY])
        assert "2026-12" in text_of(app, "#imports-what")

        # ---------------------------------------------------------------- model source
        box = app.screen.query_one("#model-source", Input)
        box.value = str(tmp_path / "nowhere")
        await pilot.press("enter")
        await settle(pilot, lambda: app.screen.query_one("#error-panel").display)
        assert app.current_step == "model-source"
        assert app.wizard_run.model_source is None  # the bad folder was refused, not kept
        box.value = str(folder)
        await pilot.press("enter")
        await settle(pilot, lambda: app.current_step == "import-check")
        chosen: str | None = app.wizard_run.model_source  # (re-read: the run was replaced)
        assert chosen == str(folder)

        # ---------------------------------------------------------------- import check
        await settle(pilot, lambda: "Ready to import" in text_of(app, "#check-verdict"))
        facts = words(app, "#check-facts")
        assert "LlamaForCausalLM" in facts and "3,088 in 2 shards" in facts
        assert "Converse, ConverseStream" in facts
        assert app.wizard_run.model_checked_ok is True
        await click_button(pilot, "#check-next")
        await settle(pilot, lambda: app.current_step == "infrastructure")

        # ---------------------------------------------------------------- infrastructure
        screen = app.screen
        await settle(pilot, lambda: "CREATE" in text_of(app, "#plan-view"))
        assert screen.query_one("#role", Input).value == f"bedrock-tune-import-{REGION}"
        assert not screen.query_one("#upload-section").display  # the import step uploads
        assert "model-import-job" in words(app, "#plan-json")
        await click_button(pilot, "#create")
        await settle(pilot, lambda: app.current_step == "import", rounds=1000)
        log = "\n".join(str(line) for line in screen.query_one("#infra-log", Log).lines)
        assert f"✓ s3:CreateBucket {BUCKET}" in log
        run = app.wizard_run
        assert (
            run.bucket == BUCKET
            and run.role_arn
            and run.role_arn.endswith(f"role/bedrock-tune-import-{REGION}")
        )

        # ---------------------------------------------------------------- import
        assert app.screen.query_one("#imported-name", Input).value == "bt-sql-llama-merged"
        request = words(app, "#import-request")
        assert '"importedModelName": "bt-sql-llama-merged"' in request
        assert f"s3://{BUCKET}/bedrock-tune/{run.run_id}/model/" in request
        assert "for each 5-minute window a copy is active" in words(app, "#import-cost")
        # The sandbox's Price List answers the custom model unit rates, with their date.
        await settle(pilot, lambda: "(Price List API, " in words(app, "#import-cost"))
        assert "built-in" not in words(app, "#import-cost")
        await pilot.press("ctrl+l")  # the Import button's key
        await settle(pilot, lambda: app.wizard_run.import_job_arn is not None, rounds=1000)
        saved = Registry().get_run(app.wizard_run.run_id or "")
        assert saved is not None and saved.run.import_token == app.wizard_run.import_token
        assert saved.run.route is Route.IMPORT_ONLY
        await settle(pilot, lambda: "InProgress" in text_of(app, "#import-status"))
        assert app.screen.query_one("#import", Button).disabled
        clock.t += IMPORT_SECONDS + 1
        await settle(pilot, lambda: app.wizard_run.custom_model_arn is not None, rounds=1000)
        run = app.wizard_run
        assert run.import_status is ImportStatus.COMPLETED
        assert run.model_architecture == "llama" and run.custom_model_units == 1
        await settle(pilot, lambda: "Completed" in text_of(app, "#import-status"))
        imported = run.custom_model_arn
        assert imported is not None
        model = words(app, "#import-model")
        assert imported in model and "llama" in model
        assert "$0.2859 per 5-min window while a copy is active (Price List API, " in model
        billing = app.screen.query_one("#header-billing")
        await settle(pilot, lambda: billing.has_class("-on"))
        assert (
            "1 billable, no idle cost, bills $0.2859 per 5-min window while active "
            "(Price List API, " in str(billing.render())
        )
        await click_button(pilot, "#import-chat")
        await settle(pilot, lambda: app.current_step == "chat")

        # ---------------------------------------------------------------- chat
        assert imported in text_of(app, "#chat-models")
        assert not app.screen.query_one("#base-column").display  # no Bedrock base to compare
        message = app.screen.query_one("#message", PromptArea)
        message.text = "How many orders were placed in 2024?"
        message.focus()
        await pilot.press("enter")
        transcript = app.screen.query_one("#tuned", Transcript)

        def tuned_text() -> str:
            return "\n".join(str(w.content) for w in transcript.query(Static))

        await settle(pilot, lambda: "[sandbox: imported model bt-sql-llama-merged" in tuned_text())

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
        prompts = [str(listing.get_option_at_index(n).prompt) for n in range(listing.option_count)]
        assert prompts[0].startswith("Imported model bt-sql-llama-merged")  # what bills first
        assert "per 5-min window" in prompts[0]
        await click_button(pilot, "#teardown-select-all-button")
        await settle(pilot, lambda: len(listing.selected) == listing.option_count)
        await click_button(pilot, "#teardown-delete")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await click_button(pilot, "#confirm-yes")
        teardown_log = app.screen.query_one("#teardown-log", RichLog)

        def log_lines() -> str:
            return "\n".join(line.text for line in teardown_log.lines)

        await settle(pilot, lambda: "Done." in log_lines(), rounds=1000)
        await settle(
            pilot, lambda: "Nothing bedrock-tune made is left" in text_of(app, "#teardown-summary")
        )
        assert "could not be deleted" not in " ".join(log_lines().split())

        # Nothing left: not in the registry, not in the sandbox, not in the header.
        assert Registry().resources() == []
        assert "0 billable," in str(app.screen.query_one("#header-billing").render())
        assert app.wizard_run.custom_model_arn is None
        context = app.aws_context()
        assert context is not None
        assert context.client("bedrock").list_imported_models()["modelSummaries"] == []
        assert context.client("s3").list_buckets()["Buckets"] == []
        assert context.client("iam").list_roles()["Roles"] == []
    # The sandbox outlives the app (for resume); with everything torn down nothing needs it
    # any more, so once idle it stops on its own.
    [sandbox] = sandboxes
    home = SandboxHome(Registry().directory)
    assert sandbox.running and not home.in_use()
    assert not home.needed_by_runs(sandbox.instance_id)
    assert home.should_stop(sandbox.instance_id, idle_for=600, idle_seconds=600)
