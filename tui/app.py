"""The bedrock-tune App: owns the run and the AWS context, shows the steps, routes between them.

Each step is a Screen installed as an App *mode*, so a step keeps its state when you move to
another and back. The App implements `screens.base.WizardHost`, the only thing screens know of it.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlparse

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import AwaitMount
from textual.worker import Worker, WorkerState

from core.run import Run, Target
from screens.base import LaunchOptions, StepScreen
from screens.widgets.step_sidebar import StepState
from tui.steps import STEPS, step_by_id

if TYPE_CHECKING:
    # Not imported at run time before they are used: the first frame does not need them.
    from core.aws import AwsContext, Identity
    from core.billing import BillingSummary
    from core.registry import Registry, RunRecord
    from core.sandbox.server import Sandbox

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


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
    DEFAULT_MODE: ClassVar[str] = STEPS[0].id
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
    ) -> None:
        """Args:
        launch: the command-line choices.
        sandbox_factory: makes the in-process sandbox when one is needed (tests pass one with
            a fake clock); by default a `Sandbox()` on a free loopback port.
        """
        _freeze_startup_objects()
        super().__init__()
        self._launch = launch or LaunchOptions()
        self._sandbox_factory = sandbox_factory
        self._run = Run()
        self._aws: AwsContext | None = None
        self._sandbox: Sandbox | None = None
        self._sandbox_lock = threading.Lock()
        self._current = STEPS[0].id
        self._run_registry: Registry | None = None

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

    def update_run(self, **changes: Any) -> None:
        self._run = self._run.evolve(**changes)
        if self._run.run_id is not None:
            # Saved after every change: a launch token, a job ARN or a resource is never lost.
            self.registry().save_run(self._run.run_id, self._run)
        self._refresh_chrome()

    def registry(self) -> Registry:
        """The local registry of runs and resources."""
        if self._run_registry is None:
            from core.registry import Registry

            self._run_registry = Registry()
        return self._run_registry

    def aws_context(self) -> AwsContext | None:
        return self._aws

    def set_aws_context(
        self, context: AwsContext, *, target: Target, profile: str | None, identity: Identity
    ) -> None:
        self._aws = context
        endpoint_host = urlparse(context.endpoint_url).hostname if context.endpoint_url else None
        if endpoint_host in _LOOPBACK:
            target = "sandbox"  # a standalone `bedrock-tune sandbox` reached via AWS_ENDPOINT_URL
        changed_place = (self._run.account_id, self._run.region) != (
            identity.account,
            context.region,
        )
        updates: dict[str, Any] = {
            "target": target,
            "profile": profile,
            "region": context.region,
            "endpoint_url": context.endpoint_url,
            "account_id": identity.account,
            "principal_arn": identity.arn,
        }
        if changed_place and self._run.job_arn is None:
            updates["base_model_id"] = None  # a model chosen for another account/region
        if self._run.run_id is None:
            from core.registry import new_run_id

            updates["run_id"] = new_run_id()
        self.update_run(**updates)

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
        states: list[StepState] = []
        for step in STEPS:
            reason = step.blocked(self._run)
            if step.id == current:
                status = "current"
            elif reason:
                status = "blocked"
            elif step.done(self._run):
                status = "done"
            else:
                status = "ready"
            states.append(StepState(step.id, step.title, status, reason or ""))  # type: ignore[arg-type]
        return states

    def go_to_step(self, step_id: str) -> None:
        step = step_by_id(step_id)
        reason = step.blocked(self._run)
        if reason:
            self.notify(f"{step.title}: {reason}.", severity="warning")
            return
        self._current = step_id
        self.switch_mode(step_id)

    def next_step(self, after: str) -> None:
        ids = [s.id for s in STEPS]
        index = ids.index(after)
        if index + 1 < len(ids):
            self.go_to_step(ids[index + 1])
        else:
            self.notify("This is the last step bedrock-tune has for now.")

    # ------------------------------------------------------------------ app plumbing

    def get_default_screen(self) -> Screen[Any]:
        """The first step's screen, as the screen the App starts with (in the mode named after
        the step, see `DEFAULT_MODE`).

        Switching to its mode from Textual's blank default screen instead would restyle every
        node twice over (a full stylesheet refresh for the new screen, then one per resume)
        before the first frame.
        """
        return STEPS[0].screen()

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
        for step in STEPS:
            # The first step's mode already holds its screen; this makes it a mode to come
            # back to like the others.
            self.add_mode(step.id, step.screen)
        self.call_after_refresh(self.find_resumable)
        # The App is ready (and its first frame out) once the first step is composed and
        # mounted, not merely started.
        await AwaitMount(self.screen, [self.screen])

    # ------------------------------------------------------------------ resume

    @work(thread=True, exclusive=True, exit_on_error=False, group="resume", name="find-resumable")
    def find_resumable(self) -> list[RunRecord]:
        """Runs whose job had not ended when bedrock-tune last closed."""
        return self.registry().runs_in_progress()

    def _offer_resume(self, records: list[RunRecord]) -> None:
        from screens.resume import ResumeScreen

        def chosen(run_id: str | None) -> None:
            record = next((r for r in records if r.id == run_id), None)
            if record is not None:
                self.notify(f"Re-attaching to {record.run.job_name or 'the run'}...")
                self.reattach(record)

        self.push_screen(ResumeScreen(records), chosen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="resume", name="reattach")
    def reattach(self, record: RunRecord) -> tuple[AwsContext, Identity, Run]:
        """Rebuild the run's AWS context, check it, and find its job."""
        from core.aws import AwsContext
        from core.errors import BedrockTuneError, ConnectionFailedError

        run = record.run
        if run.region is None:
            raise BedrockTuneError("The saved run has no region.", hint="Start a new run.")
        if run.target == "sandbox":
            if not run.endpoint_url:
                raise BedrockTuneError(
                    "The saved run has no sandbox address.", hint="Start a new run."
                )
            from core.sandbox.server import SANDBOX_CREDENTIALS

            context = AwsContext.for_endpoint(run.endpoint_url, SANDBOX_CREDENTIALS, run.region)
        else:
            context = AwsContext.from_environment(run.profile, run.region, run.endpoint_url)
        try:
            identity = context.whoami()
        except ConnectionFailedError as error:
            if run.target == "sandbox":
                raise ConnectionFailedError(
                    f"The sandbox this run used ({run.endpoint_url}) is not running any more.",
                    hint="A sandbox started inside bedrock-tune ends when it closes. Start one "
                    "that outlives the app with `bedrock-tune sandbox`, and point bedrock-tune "
                    "at it with AWS_ENDPOINT_URL.",
                ) from error
            raise
        if run.job_arn is None and run.job_name and run.client_request_token:
            # The process died right after launching: find the job this token created.
            from core.jobs.customization import find_launched_job

            arn = find_launched_job(context, run.job_name, run.client_request_token)
            run = run.evolve(job_arn=arn)
        return context, identity, run

    def _reattached(self, context: AwsContext, identity: Identity, run: Run) -> None:
        self._run = run
        self.set_aws_context(
            context, target=run.target or "aws", profile=run.profile, identity=identity
        )
        serving = run.serving_arn is not None and run.job_status == "Completed"
        self.go_to_step("deploy" if serving else "watch")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.node is not self:
            return
        if event.state == WorkerState.SUCCESS:
            if worker.name == "find-resumable" and worker.result:
                self._offer_resume(list(worker.result))
            elif worker.name == "reattach" and worker.result:
                context, identity, run = worker.result
                self._reattached(context, identity, run)
            elif worker.name == "delete-billable":
                self.exit()
        elif event.state == WorkerState.ERROR and worker.error is not None:
            from core.errors import describe_unexpected

            error = describe_unexpected(worker.error)
            self.notify(
                f"{error.message}\n{error.hint}", title=error.title, severity="error", timeout=20
            )

    def on_unmount(self) -> None:
        self._resume_gc()
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
        """What the registry's billable resources cost (for the header's counter)."""
        from core.billing import summarize_records

        return summarize_records(self.billable())

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
    def delete_billable(self, resources: list[Any]) -> int:
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
        return len(result.outcomes)

    def _refresh_chrome(self) -> None:
        screen = self.screen
        if isinstance(screen, StepScreen):
            screen.refresh_chrome()

    def action_help(self) -> None:
        """Show what the current step does and the keys."""
        from screens.help import HelpScreen  # Markdown is slow to import: not before first paint

        if isinstance(self.screen, HelpScreen):
            return
        step = step_by_id(self._current)
        self.push_screen(HelpScreen(step.title, step.description, [s.title for s in STEPS]))

    def action_next_step(self) -> None:
        """Go to the next step if it is possible."""
        self.next_step(self._current)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for step in STEPS:
            yield SystemCommand(
                f"Go to step: {step.title}", step.description, partial(self.go_to_step, step.id)
            )
