"""The import-only route's steps in the App: offered only when built, and an import launched from
the CLI (or an app that closed mid-import) is re-attached on the import step and followed."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from core.importing.tiny import write_tiny_model
from core.run import Route, Run
from core.sandbox.server import SANDBOX_ACCOUNT_ID, Sandbox
from core.statuses import ImportStatus
from screens.base import LaunchOptions
from screens.credentials import CredentialsScreen
from screens.resume import ResumeScreen
from screens.widgets.error_panel import ErrorPanel
from tests.fakes import Clock, context_for
from tests.tui.helpers import settle, text_of
from tui.app import BedrockTuneApp
from tui.cli.main import main
from tui.steps import SCREENS

PLACE = Run(run_id="r1", target="sandbox", region="us-east-1", account_id=SANDBOX_ACCOUNT_ID)


async def test_import_my_own_is_offered_only_when_every_step_is_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(CredentialsScreen, "discover", lambda self: None)
    partial = {k: v for k, v in SCREENS.items() if k != "import"}
    assert await import_group_shown(BedrockTuneApp(screens=SCREENS))
    assert not await import_group_shown(BedrockTuneApp(screens=partial))


async def import_group_shown(app: BedrockTuneApp) -> bool:
    """Whether the model step shows "import my own" (and the App offers the route)."""
    async with app.run_test(size=(160, 60)) as pilot:
        app.update_run(PLACE)
        app.go_to_step("model")
        await settle(pilot, lambda: app.current_step == "model")
        shown = bool(app.screen.query_one("#import-group").display)
        assert shown is (Route.IMPORT_ONLY in app.offered_routes)
        return shown


async def test_an_import_launched_from_the_cli_is_followed_after_resume(
    exported_sandbox: Sandbox,
    clock: Clock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    context_for(exported_sandbox).client("s3").create_bucket(
        Bucket=f"bedrock-tune-{SANDBOX_ACCOUNT_ID}-us-east-1"
    )
    folder = write_tiny_model(tmp_path / "model")
    role = f"arn:aws:iam::{SANDBOX_ACCOUNT_ID}:role/bedrock-tune-import-us-east-1"
    argv = ["import", "launch", str(folder), "--name", "bt-resumed", "--role", role, "--json"]
    assert main(argv) == 0
    launched = json.loads(capsys.readouterr().out)
    app = BedrockTuneApp(LaunchOptions(poll_interval=0.05))
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(
            pilot,
            lambda: isinstance(app.screen, ResumeScreen) and bool(app.screen.query("#resume-runs")),
        )
        await pilot.press("enter")
        await settle(pilot, lambda: app.current_step == "import")
        run = app.wizard_run
        assert (run.run_id, run.import_job_arn) == (launched["run_id"], launched["import_job_arn"])
        assert run.route is Route.IMPORT_ONLY
        await settle(pilot, lambda: "InProgress" in text_of(app, "#import-status"))
        clock.t += 31  # the sandbox's import takes 30 s on the test's clock
        await settle(pilot, lambda: app.wizard_run.custom_model_arn is not None, rounds=1000)
        assert app.wizard_run.import_status is ImportStatus.COMPLETED
        assert "llama" in text_of(app, "#import-model")
        # Chat is possible now; nothing asks for a deployment.
        model = app.wizard_run.custom_model_arn
        assert model is not None and model in text_of(app, "#import-model")
        app.go_to_step("chat")
        await settle(pilot, lambda: app.current_step == "chat")


async def test_an_import_refused_at_80x24_shows_why_in_view(tmp_path: Path) -> None:
    folder = write_tiny_model(tmp_path / "model")
    app = BedrockTuneApp(
        LaunchOptions(sandbox=True, poll_interval=0.05),
        sandbox_factory=lambda: Sandbox(clock=Clock()),
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        role = f"arn:aws:iam::{SANDBOX_ACCOUNT_ID}:role/bedrock-tune-import-us-east-1"
        app.update_run(
            replace(
                app.wizard_run,
                route=Route.IMPORT_ONLY,
                model_source=str(folder),
                model_checked_ok=True,
                role_arn=role,  # but no bucket: nowhere to put the model
            )
        )
        app.go_to_step("import")
        await settle(pilot, lambda: app.current_step == "import")
        panel = app.screen.query_one(ErrorPanel)
        await pilot.press("ctrl+l")
        await settle(pilot, lambda: panel.error is not None)
        body = app.screen.query_one("#step-body")

        def panel_in_view() -> bool:
            top, seen = body.scroll_offset.y, body.scrollable_content_region.height
            where = panel.virtual_region
            return top <= where.y and where.bottom <= top + seen

        await settle(pilot, panel_in_view)  # scrolled down to it
        assert "no bucket or role yet" in str(panel.render())
        assert app.wizard_run.import_token is None  # nothing saved, nothing sent


@pytest.mark.parametrize(
    ("key", "step", "route"),
    [("i", "model-source", Route.IMPORT_ONLY), ("s", "dataset", Route.SAGEMAKER_IMPORT)],
)
async def test_a_key_takes_an_open_weight_route_from_a_small_screen(
    monkeypatch: pytest.MonkeyPatch, key: str, step: str, route: Route
) -> None:
    # At 80x24 the routes' buttons are below the fold: the step says so, and a key takes them.
    monkeypatch.setattr(CredentialsScreen, "discover", lambda self: None)
    app = BedrockTuneApp(screens=SCREENS)
    async with app.run_test(size=(80, 24)) as pilot:
        app.update_run(PLACE)
        app.go_to_step("model")
        await settle(pilot, lambda: app.current_step == "model")
        hint = " ".join(text_of(app, "#other-routes").split())
        assert "import a model of your own (i)" in hint and "on SageMaker (s)" in hint
        await pilot.press(key)
        await settle(pilot, lambda: app.current_step == step)
        assert app.wizard_run.route is route


async def test_the_keys_do_nothing_for_a_route_not_offered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(CredentialsScreen, "discover", lambda self: None)
    app = BedrockTuneApp(screens={k: v for k, v in SCREENS.items() if k != "model-source"})
    async with app.run_test(size=(80, 24)) as pilot:
        app.update_run(PLACE)
        app.go_to_step("model")
        await settle(pilot, lambda: app.current_step == "model")
        hint = " ".join(text_of(app, "#other-routes").split())
        assert hint == (
            "Below Bedrock's own models: train an open-weight model on SageMaker (s), or "
            "fine-tune with SageMaker Autopilot (a), or fine-tune a JumpStart model (j)."
        )
        await pilot.press("i")
        await pilot.pause()
        assert app.current_step == "model" and app.wizard_run.route is Route.BEDROCK_CUSTOMIZATION
