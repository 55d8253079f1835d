"""The bedrock-tune App: owns the run and the AWS context, shows the steps, routes between them.

Each step is a Screen installed as an App *mode*, so a step keeps its state when you move to
another and back. Which steps the run goes through, in which order, and when each is done or
possible is core's route table (`core.run.routes`); the App shows the run's route and offers only
the routes whose every step has a screen. Resume decisions are core's too (`core.run.resume`):
the App finds, asks and routes.

The App implements `screens.base.WizardHost`, the only thing screens know of it. A changed run is
saved to the registry in a thread worker, in order (`core.run.saver`): the event loop never
waits for the file lock or the fsync.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import AwaitMount
from textual.worker import Worker, WorkerState

from core.run import Route, Run, Target
from core.run.routes import FIRST_STEP, ROUTE_STEPS, next_step, routes_offered, step, steps_of
from core.run.status import has_choices
from screens.base import LaunchOptions, StepScreen
from screens.widgets.step_sidebar import StepState
from screens.workers import WorkerResult, post_worker_result
from tui.steps import SCREENS, ScreenFactory

if TYPE_CHECKING:
    # Not imported at run time before they are used: the first frame does not need them.
    from core.aws import AwsContext, Identity
    from core.billing import BillingSummary
    from core.registry import Registry, RunRecord
    from core.run.resume import Reattached
    from core.run.saver import RunSaver
    from core.sandbox.server import Sandbox


@dataclass
class ResumableRunsFound(WorkerResult):
    """Runs whose job (or deployment being created) had not ended when bedrock-tune closed."""

    records: tuple[RunRecord, ...]


@dataclass
class RunReattached(WorkerResult):
    """A saved run's AWS context was rebuilt and checked, and its job found."""

    reattached: Reattached


@dataclass
class BillableDeleted(WorkerResult):
    """Everything that still billed was deleted (the app can quit)."""

    count: int


_startup_objects_frozen = False


def _freeze_startup_objects() -> None:
    """Move what the imports made (modules, classes, functions: tens of thousands of objects
    that live as long as the process) out of the garbage collector's sight, once per process.

    Without it the first full collection scans all of them while the first frame is being
    built (~15 ms here); after it, collections only look at objects made since.
    """
    global _startup_objects_frozen
    if not _startup_objects_frozen:
        _startup_objects_frozen = True
        gc.freeze()


class BedrockTuneApp(App[None]):
    """The terminal app."""

    TITLE = "bedrock-tune"
    CSS_PATH = "styles/app.tcss"
    DEFAULT_MODE: ClassVar[str] = FIRST_STEP
    """The first step's mode, which `get_default_screen` fills."""
    BINDINGS: ClassVar[list[Binding]] = [  # type: ignore[assignment]
        Binding("ctrl+q", "guarded_quit", "Quit", id="quit", priority=True),
        Binding("f1", "help", "Help", id="help-f1", show=False),
    ]

    def __init__(
        self,
        launch: LaunchOptions | None = None,
        *,
        sandbox_factory: Callable[[], Sandbox] | None = None,
        screens: Mapping[str, ScreenFactory] | None = None,
    ) -> None:
        """Args:
        launch: the command-line choices.
        sandbox_factory: makes the in-process sandbox when one is needed (tests pass one with
            a fake clock); by default a `Sandbox()` on a free loopback port.
        screens: step id -> screen factory (tests pass other maps); by default every built
            step's screen (`tui.steps.SCREENS`).
        """
        _freeze_startup_objects()
        super().__init__()
        self._launch = launch or LaunchOptions()
        self._sandbox_factory = sandbox_factory
        self._screens: dict[str, ScreenFactory] = dict(SCREENS if screens is None else screens)
        self._offered = routes_offered(self._screens)
        self._run = Run()
        self._aws: AwsContext | None = None
        self._aws_lock = threading.Lock()
        self._sandbox: Sandbox | None = None
        self._sandbox_lock = threading.Lock()
        self._current = FIRST_STEP
        self._run_registry: Registry | None = None
        self._saver: RunSaver | None = None
        self._saver_lock = threading.Lock()

    # ------------------------------------------------------------------ WizardHost

    @property
    def launch(self) -> LaunchOptions:
        return self._launch

    @property
    def wizard_run(self) -> Run:
        return self._run

    @property
    def current_step(self) -> str:
        """The id of the step on screen."""
        return self._current

    @property
    def offered_routes(self) -> tuple[Route, ...]:
        """The routes users are offered: those whose every step has a screen."""
        return self._offered

    def update_run(self, run: Run) -> None:
        self._run = run
        if run.run_id is not None and has_choices(run):
            # Saved after every change (a launch token, a job ARN is never lost), in a thread:
            # the event loop does not wait for the file lock and the fsync. A run that only
            # knows where it works is not recorded yet (no empty runs in `bedrock-tune runs`).
            self._save_run(self._run_saver().submit(run), run)
        self._refresh_chrome()

    def save_run_now(self) -> None:
        self._run_saver().flush()

    def _run_saver(self) -> RunSaver:
        with self._saver_lock:
            if self._saver is None:
                from core.run.saver import RunSaver

                self._saver = RunSaver(self.registry)
            return self._saver

    @work(thread=True, exit_on_error=False, group="registry", name="save-run")
    def _save_run(self, ticket: int, run: Run) -> None:
        """Write one version of the run (skipped when a later one is already on disk); a
        failure is shown as an error by `on_worker_state_changed`."""
        self._run_saver().write(ticket, run)

    def registry(self) -> Registry:
        """The local registry of runs and resources."""
        if self._run_registry is None:
            from core.registry import Registry

            self._run_registry = Registry()
        return self._run_registry

    def aws_context(self) -> AwsContext | None:
        """The context of the run's place. The run owns the region: when it differs from the
        context's, the context follows it (same identity and endpoint, new clients)."""
        with self._aws_lock:
            region = self._run.region
            if self._aws is not None and region is not None and self._aws.region != region:
                self._aws = self._aws.with_region(region)
            return self._aws

    def set_aws_context(
        self, context: AwsContext, *, target: Target, profile: str | None, identity: Identity
    ) -> None:
        from core.run.resume import target_of

        with self._aws_lock:
            self._aws = context
        run = self._run
        changed_place = (run.account_id, run.region) != (identity.account, context.region)
        run = replace(
            run,
            # a standalone `bedrock-tune sandbox` reached via AWS_ENDPOINT_URL is a sandbox too
            target=target_of(context.endpoint_url, sandbox=target == "sandbox"),
            profile=profile,
            region=context.region,
            endpoint_url=context.endpoint_url,
            account_id=identity.account,
            principal_arn=identity.arn,
        )
        if changed_place and run.job_arn is None:
            run = replace(run, base_model_id=None)  # a model chosen for another account/region
        if run.run_id is None:
            from core.registry import new_run_id

            run = replace(run, run_id=new_run_id())
        self.update_run(run)

    def start_sandbox(self) -> Sandbox:
        with self._sandbox_lock:
            if self._sandbox is None or not self._sandbox.running:
                if self._sandbox_factory is not None:
                    self._sandbox = self._sandbox_factory().start()
                else:
                    from core.sandbox.server import Sandbox

                    self._sandbox = Sandbox().start()
            return self._sandbox

    def step_states(self, current: str) -> Sequence[StepState]:
        """The run's route's steps, in the route's order."""
        states: list[StepState] = []
        for shown in steps_of(self._run.route):
            reason = (
                shown.blocked(self._run)
                if shown.id in self._screens
                else "not in this version of bedrock-tune"
            )
            if shown.id == current:
                status = "current"
            elif reason:
                status = "blocked"
            elif shown.done(self._run):
                status = "done"
            else:
                status = "ready"
            states.append(StepState(shown.id, shown.title, status, reason or ""))  # type: ignore[arg-type]
        return states

    def go_to_step(self, step_id: str) -> None:
        if step_id not in ROUTE_STEPS[self._run.route] or step_id not in self._screens:
            self.notify(f"This run's route has no step '{step_id}'.", severity="warning")
            return
        target = step(step_id)
        reason = target.blocked(self._run)
        if reason:
            self.notify(f"{target.title}: {reason}.", severity="warning")
            return
        self._current = step_id
        self.switch_mode(step_id)

    def next_step(self, after: str) -> None:
        following = next_step(self._run.route, after)
        if following is not None:
            self.go_to_step(following.id)
        else:
            self.notify("This is the last step of this run's route.")

    # ------------------------------------------------------------------ app plumbing

    def get_default_screen(self) -> Screen[Any]:
        """The first step's screen, as the screen the App starts with (in the mode named after
        the step, see `DEFAULT_MODE`).

        Switching to its mode from Textual's blank default screen instead would restyle every
        node twice over (a full stylesheet refresh for the new screen, then one per resume)
        before the first frame.
        """
        return self._screens[FIRST_STEP]()

    _gc_paused = False

    def on_load(self) -> None:
        # No garbage collection until the first frame is out: it would only find the few cycles
        # that building the first screen makes, ~50 times over (~4 ms).
        if gc.isenabled():
            gc.disable()
            self._gc_paused = True

    def _resume_gc(self) -> None:
        if self._gc_paused:
            self._gc_paused = False
            gc.enable()

    async def on_mount(self) -> None:
        self.call_after_refresh(self._resume_gc)
        for step_id, factory in self._screens.items():
            # The first step's mode already holds its screen; this makes it a mode to come
            # back to like the others.
            self.add_mode(step_id, factory)
        self.call_after_refresh(self.find_resumable)
        # The App is ready (and its first frame out) once the first step is composed and
        # mounted, not merely started.
        await AwaitMount(self.screen, [self.screen])

    # ------------------------------------------------------------------ resume

    @work(thread=True, exclusive=True, exit_on_error=False, group="resume", name="find-resumable")
    def find_resumable(self) -> ResumableRunsFound:
        """Runs whose job had not ended when bedrock-tune last closed, on an offered route."""
        from core.run.resume import resumable_runs

        return ResumableRunsFound(tuple(resumable_runs(self.registry().runs(), self._offered)))

    @on(ResumableRunsFound)
    def _offer_resume(self, message: ResumableRunsFound) -> None:
        from screens.resume import ResumeScreen

        records = list(message.records)
        if not records:
            return

        def chosen(run_id: str | None) -> None:
            record = next((r for r in records if r.id == run_id), None)
            if record is not None:
                self.notify(f"Re-attaching to {record.run.job_name or 'the run'}...")
                self.reattach(record)

        self.push_screen(ResumeScreen(records), chosen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="resume", name="reattach")
    def reattach(self, record: RunRecord) -> RunReattached:
        """Rebuild the run's AWS context, check it, and find its job (core decides how)."""
        from core.run.resume import reattach

        return RunReattached(reattach(record.run))

    @on(RunReattached)
    def _reattached(self, message: RunReattached) -> None:
        result = message.reattached
        run = result.run
        self._run = run  # saved by set_aws_context, which adopts the run's context
        self.set_aws_context(
            result.context,
            target=run.target or "aws",
            profile=run.profile,
            identity=result.identity,
        )
        self.go_to_step(result.step)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.node is not self:
            return
        if event.state == WorkerState.ERROR and worker.error is not None:
            from core.errors import describe_unexpected

            error = describe_unexpected(worker.error)
            self.notify(
                f"{error.message}\n{error.hint}", title=error.title, severity="error", timeout=20
            )
        else:
            post_worker_result(event)

    def on_unmount(self) -> None:
        self._resume_gc()
        if self._saver is not None:
            # A save still queued when the app closes is written now, not lost.
            from core.errors import BedrockTuneError

            try:
                self._saver.flush()
            except BedrockTuneError as error:
                self.log.error(f"The run could not be saved: {error.describe()}")
        with self._sandbox_lock:
            if self._sandbox is not None:
                self._sandbox.stop()
                self._sandbox = None

    # ------------------------------------------------------------------ billing guard

    def billable(self) -> list[Any]:
        """The billable resources the registry holds (provisioned throughput, deployments)."""
        from core.errors import BedrockTuneError

        try:
            return [r for r in self.registry().resources() if r.billable]
        except BedrockTuneError:
            return []

    def billing_summary(self) -> BillingSummary:
        """What the registry's billable resources cost (for the header's counter); a throughput
        recorded without a price gets the cached Price List figure (no AWS call here)."""
        from core.billing import cached_hourly_price, summarize_records

        return summarize_records(self.billable(), cached_hourly_price)

    async def action_guarded_quit(self) -> None:
        """Quit; when something still bills, say so and offer to delete it first."""
        billing = self.billable()
        if not billing:
            self.exit()
            return
        from screens.quit_guard import QuitGuardScreen

        def chosen(choice: str | None) -> None:
            if choice == "keep":
                self.exit()
            elif choice == "delete":
                self.notify("Deleting what still bills...", title="Quit")
                self.delete_billable(billing)

        self.push_screen(QuitGuardScreen(billing), chosen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="quit", name="delete-billable")
    def delete_billable(self, resources: list[Any]) -> BillableDeleted:
        """Delete the provisioned throughputs and deployments, then quit.

        Through teardown, like the Teardown step: each in its own region, something already
        gone counts as deleted, and one failure does not stop the others.
        """
        from core.errors import BedrockTuneError
        from core.teardown.delete import delete, item_from_record

        context = self.aws_context()
        if context is None:
            raise BedrockTuneError(
                "No AWS context to delete them with.",
                hint="Check your credentials, or use `bedrock-tune undeploy NAME`.",
            )
        result = delete(context, [item_from_record(r) for r in resources], self.registry())
        if result.failed:
            first = result.failed[0]
            raise BedrockTuneError(
                " ".join(o.message for o in result.failed),
                title="Still billing",
                hint=(first.error.hint if first.error is not None else "")
                or "Try again from the Teardown step, or with `bedrock-tune teardown`.",
            )
        return BillableDeleted(len(result.outcomes))

    @on(BillableDeleted)
    def _billable_deleted(self) -> None:
        self.exit()

    def _refresh_chrome(self) -> None:
        screen = self.screen
        if isinstance(screen, StepScreen):
            screen.refresh_chrome()

    def action_help(self) -> None:
        """Show what the current step does and the keys."""
        from screens.help import HelpScreen  # Markdown is slow to import: not before first paint

        if isinstance(self.screen, HelpScreen):
            return
        shown = step(self._current)
        titles = [s.title for s in steps_of(self._run.route)]
        self.push_screen(HelpScreen(shown.title, shown.description, titles))

    def action_next_step(self) -> None:
        """Go to the next step if it is possible."""
        self.next_step(self._current)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for shown in steps_of(self._run.route):
            if shown.id in self._screens:
                yield SystemCommand(
                    f"Go to step: {shown.title}",
                    shown.description,
                    partial(self.go_to_step, shown.id),
                )
