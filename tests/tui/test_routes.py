"""Routes in the App: the sidebar, Ctrl+N, the command palette and resume follow the run's route
from core's table; a route with a step that has no screen is never offered; the run owns the
region; the run is saved off the event loop and a failed save is shown."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from functools import partial

import pytest
from textual.screen import Screen
from textual.widgets import OptionList

from core.aws import AwsContext, Identity, StaticCredentials
from core.registry import Registry, RegistryError, RunRecord
from core.run import Route, Run
from core.run.routes import ROUTE_STEPS, STEPS
from core.statuses import JobStatus
from screens.base import StepScreen
from screens.credentials import CredentialsScreen
from screens.resume import ResumeScreen
from screens.widgets.step_sidebar import StepSidebar
from tests.tui.helpers import settle
from tui.app import BedrockTuneApp
from tui.steps import SCREENS, ScreenFactory


class FakeStep(StepScreen):
    """A stand-in screen for any step (the routes still being built have none yet)."""

    def __init__(self, step_id: str) -> None:
        self.STEP_ID = step_id
        self.STEP_TITLE = STEPS[step_id].title
        super().__init__()


EVERY_STEP: dict[str, Callable[[], Screen[None]]] = {
    step_id: partial(FakeStep, step_id) for step_id in STEPS
}
"""A screen map in which every step of every route is built."""

PLACE = Run(run_id="r1", target="sandbox", region="us-east-1", account_id="123456789012")


@pytest.fixture(autouse=True)
def no_discovery(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real credentials step would look for profiles and start a sandbox: not here."""
    monkeypatch.setattr(CredentialsScreen, "discover", lambda self: None)


def sidebar_ids(app: BedrockTuneApp) -> list[str]:
    sidebar = app.screen.query_one(StepSidebar)
    return [str(sidebar.get_option_at_index(i).id) for i in range(sidebar.option_count)]


def sidebar_line(app: BedrockTuneApp, step_id: str) -> str:
    sidebar = app.screen.query_one(StepSidebar)
    return str(sidebar.get_option(step_id).prompt)


def palette_titles(app: BedrockTuneApp) -> list[str]:
    return [c.title for c in app.get_system_commands(app.screen)]


async def test_the_sidebar_keys_and_palette_follow_the_run_s_route() -> None:
    app = BedrockTuneApp(screens=EVERY_STEP)
    assert set(app.offered_routes) == set(Route)
    async with app.run_test(size=(160, 60)) as pilot:
        assert sidebar_ids(app) == list(ROUTE_STEPS[Route.BEDROCK_CUSTOMIZATION])
        app.update_run(
            replace(
                PLACE,
                route=Route.SAGEMAKER_IMPORT,
                base_model_id="meta-llama/Llama-3.2-1B",
                prepared_dir="/data/p",
                training_uri="s3://b/r1/data/train.jsonl",
            )
        )
        await pilot.pause()
        assert sidebar_ids(app) == list(ROUTE_STEPS[Route.SAGEMAKER_IMPORT])
        titles = palette_titles(app)
        assert "Go to step: Train" in titles and "Go to step: Import check" in titles
        assert "Go to step: Deploy" not in titles and "Go to step: Launch" not in titles
        app.go_to_step("infrastructure")
        await pilot.pause()
        await pilot.press("ctrl+n")
        await settle(pilot, lambda: app.current_step == "train")
        await pilot.press("ctrl+n")
        await settle(pilot, lambda: app.current_step == "watch")
        assert sidebar_ids(app) == list(ROUTE_STEPS[Route.SAGEMAKER_IMPORT])
        await pilot.press("ctrl+n")  # the import check needs a model to check: refused
        await settle(pilot, lambda: any("Import check" in n.message for n in app._notifications))
        assert app.current_step == "watch"
        app.go_to_step("deploy")  # not a step of this route
        await pilot.pause()
        assert app.current_step == "watch"


def _without_endpoint_step() -> dict[str, ScreenFactory]:
    """Every built step's screen but the endpoint step's: as a version without it would be."""
    return {k: v for k, v in SCREENS.items() if k != "endpoint"}


async def test_every_route_is_offered_once_its_steps_are_built() -> None:
    assert set(BedrockTuneApp().offered_routes) == set(Route)


async def test_a_route_whose_steps_are_not_all_built_is_carried_but_never_offered() -> None:
    app = BedrockTuneApp(screens=_without_endpoint_step())
    assert app.offered_routes == (
        Route.BEDROCK_CUSTOMIZATION,
        Route.SAGEMAKER_IMPORT,
        Route.IMPORT_ONLY,
    )
    async with app.run_test(size=(160, 60)) as pilot:
        titles = palette_titles(app)
        assert "Go to step: Launch" in titles and "Go to step: Endpoint" not in titles
        # A run on such a route (say, written by a newer version) still shows its steps.
        app.update_run(replace(PLACE, route=Route.SAGEMAKER_AUTOPILOT))
        await pilot.pause()
        assert sidebar_ids(app) == list(ROUTE_STEPS[Route.SAGEMAKER_AUTOPILOT])
        assert "not in this version" in sidebar_line(app, "endpoint")
        assert "Go to step: Endpoint" not in palette_titles(app)


def offered_ids(app: BedrockTuneApp) -> list[str] | None:
    """The run ids the resume dialog offers (None while it is not shown)."""
    if not isinstance(app.screen, ResumeScreen) or not app.screen.query("#resume-runs"):
        return None
    runs = app.screen.query_one("#resume-runs", OptionList)
    return [str(runs.get_option_at_index(i).id) for i in range(runs.option_count)]


def _resumable(route: Route) -> Run:
    return replace(
        PLACE,
        run_id=f"run-{route.value}",
        route=route,
        job_name="j",
        job_arn="arn:aws:bedrock:us-east-1:123456789012:model-customization-job/j",
        job_status=JobStatus.IN_PROGRESS,
    )


async def test_resume_offers_only_runs_on_routes_users_are_offered() -> None:
    registry = Registry()
    for route in (Route.SAGEMAKER_JUMPSTART, Route.SAGEMAKER_AUTOPILOT):
        registry.save_run(f"run-{route.value}", _resumable(route))
    app = BedrockTuneApp(screens=_without_endpoint_step())
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot)  # the resume look-up ran...
        assert not isinstance(app.screen, ResumeScreen)  # ...and offered nothing
    registry.save_run("run-bedrock", _resumable(Route.BEDROCK_CUSTOMIZATION))
    app = BedrockTuneApp(screens=_without_endpoint_step())
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot, lambda: offered_ids(app) is not None)
        assert offered_ids(app) == ["run-bedrock"]
    # Once every step of a route has a screen, its runs are offered too.
    app = BedrockTuneApp(screens=EVERY_STEP)
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot, lambda: offered_ids(app) is not None)
        assert set(offered_ids(app) or []) == {
            "run-bedrock",
            f"run-{Route.SAGEMAKER_JUMPSTART.value}",
            f"run-{Route.SAGEMAKER_AUTOPILOT.value}",
        }


SANDBOXED = AwsContext.for_endpoint(
    "http://127.0.0.1:9", StaticCredentials("sandbox", "sandbox"), "us-east-1"
)
ME = Identity("123456789012", "arn:aws:iam::123456789012:root", "AIDA")


async def test_the_run_owns_the_region_and_the_context_follows_it() -> None:
    app = BedrockTuneApp(screens=EVERY_STEP)
    async with app.run_test(size=(120, 40)) as pilot:
        app.set_aws_context(SANDBOXED, target="aws", profile=None, identity=ME)
        await pilot.pause()
        run = app.wizard_run
        assert run.region == "us-east-1" and run.target == "sandbox"  # a loopback endpoint
        app.update_run(replace(run, region="us-west-2"))
        context = app.aws_context()
        assert context is not None and context.region == "us-west-2"
        assert context.endpoint_url == SANDBOXED.endpoint_url
        assert context.credentials == SANDBOXED.credentials


async def test_the_run_is_saved_off_the_event_loop_and_a_failed_save_is_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    threads: list[threading.Thread] = []
    real_save = Registry.save_run

    def save_run(self: Registry, run_id: str, run: Run) -> RunRecord:
        threads.append(threading.current_thread())
        if run.job_name == "unlucky":
            raise RegistryError("No space left on the device.", hint="Free some space.")
        return real_save(self, run_id, run)

    monkeypatch.setattr(Registry, "save_run", save_run)
    app = BedrockTuneApp(screens=EVERY_STEP)
    async with app.run_test(size=(120, 40)) as pilot:
        app.set_aws_context(SANDBOXED, target="sandbox", profile=None, identity=ME)
        await settle(pilot)
        assert threads == []  # where to work is no run worth recording yet
        app.update_run(replace(app.wizard_run, base_model_id="amazon.nova-micro-v1:0:128k"))
        await settle(pilot, lambda: bool(threads))
        run_id = app.wizard_run.run_id
        assert run_id is not None
        assert threads[0] is not threading.main_thread()
        app.update_run(replace(app.wizard_run, job_name="unlucky"))
        await settle(
            pilot, lambda: any(n.title == "Local registry problem" for n in app._notifications)
        )
        assert any("No space left" in n.message for n in app._notifications)
        app.update_run(replace(app.wizard_run, job_name="lucky"))
    saved = Registry().get_run(run_id)
    assert saved is not None and saved.run.job_name == "lucky"  # written by the exit at the latest
