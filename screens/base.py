"""What every wizard step shares: the header, the step sidebar, the error panel, the footer,
and one place where worker failures become a visible error.

Screens talk to the App through the small `WizardHost` protocol (the App implements it), so a
screen never imports the App and tests can drive a screen inside any host.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, cast, runtime_checkable

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from screens.gc_pauses import freeze_if_grown
from screens.widgets.error_panel import ErrorPanel
from screens.widgets.status_header import StatusHeader
from screens.widgets.step_sidebar import StepSidebar, StepState
from screens.workers import post_worker_result

if TYPE_CHECKING:
    # Types only: the first frame does not wait for these modules to load.
    from core.aws import AwsContext, Identity
    from core.errors import BedrockTuneError
    from core.registry import Registry
    from core.run import Route, Run, Target
    from core.run.changes import RunChange
    from core.sandbox.background import SandboxInfo


@dataclass(frozen=True)
class LaunchOptions:
    """How the app was started (command-line flags)."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    sandbox: bool = False
    poll_interval: float = 15.0
    """Seconds between the first polls of a job or deployment (it backs off from there)."""


@runtime_checkable
class WizardHost(Protocol):
    """What a step screen may ask of the App."""

    @property
    def launch(self) -> LaunchOptions:
        """The command-line choices."""

    def start_sandbox(self) -> SandboxInfo:
        """Use the shared sandbox, starting it when none runs (blocking: call from a worker).
        It outlives the App."""

    def place_change(
        self, context: AwsContext, *, target: Target, profile: str | None, identity: Identity
    ) -> RunChange:
        """What adopting this checked context would reset in the run (nothing is changed)."""

    def set_aws_context(
        self,
        context: AwsContext,
        *,
        target: Target,
        profile: str | None,
        identity: Identity,
        new_run: bool = False,
    ) -> None:
        """Adopt a checked AWS context for the run, resetting what no longer holds there (see
        `place_change`); with `new_run`, or when the run launched something in its old place,
        as a new run (the old one stays in the registry)."""

    def apply_change(self, change: RunChange, *, new_run: bool = False) -> None:
        """Make a change (`core.run.changes`): reset the steps it undoes, or, with `new_run`
        or when the run launched something, start a new run with it (the old one stays)."""

    @property
    def wizard_run(self) -> Run:
        """The run as it is now."""

    def update_run(self, run: Run) -> None:
        """Replace the run with `run` (made with `dataclasses.replace`); it is saved to the
        registry in the background, in order."""

    def save_run_now(self) -> None:
        """Write the run as it is now to the registry before returning (blocking: call from a
        worker, e.g. before a call that creates something, so its token is on disk first)."""

    def aws_context(self) -> AwsContext | None:
        """The AWS context of the run (None until the credentials step has one)."""

    def step_states(self, current: str) -> Sequence[StepState]:
        """The sidebar's view of every step, with `current` highlighted."""

    def go_to_step(self, step_id: str) -> None:
        """Show another step (refused, with a notice, when it is blocked)."""

    def next_step(self, after: str) -> None:
        """Show the step after `after`, if there is one."""

    def registry(self) -> Registry:
        """The local registry of runs and resources."""

    @property
    def offered_routes(self) -> tuple[Route, ...]:
        """The routes users are offered (those whose every step is built)."""


class StepScreen(Screen[None]):
    """Base class of the wizard's steps.

    Subclasses set `STEP_ID` and `STEP_TITLE` and implement `compose_body()`. Their workers
    return a `WorkerResult` message, which the screen handles by type (`@on(PlanReady)`); a
    worker that raises shows its error in the screen's error panel (`worker_failed`), so
    nothing else needs to catch.
    """

    STEP_ID = ""
    STEP_TITLE = ""

    BINDINGS = [
        Binding("question_mark", "app.help", "Help", id="help", key_display="?"),
        Binding("ctrl+n", "next_step", "Next step", id="next-step"),
    ]
    """Every step: `?` help and Ctrl+N. A step whose primary action commits a choice (the
    credentials, the model, the dataset, the template) re-binds Ctrl+N with its own words
    ("Use dataset"), and its `accept` makes Ctrl+N commit the choice and move on."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    """Below 120 columns the screen has the `-narrow` class: the sidebar shrinks and side by
    side columns stack (each step's stylesheet says how)."""

    def compose(self) -> ComposeResult:
        # The breakpoint class now, for the size the app has: on the first resize Textual
        # would add it and restyle the whole screen over again before the first frame.
        width = self.app.size.width
        self.add_class(
            *self._get_breakpoint_classes(width, self.HORIZONTAL_BREAKPOINTS), update=False
        )
        yield StatusHeader(self.STEP_TITLE)
        with Horizontal(id="step-frame"):
            yield StepSidebar(id="step-sidebar")
            with VerticalScroll(id="step-body"):
                yield from self.compose_body()
                yield ErrorPanel(id="error-panel")

    def compose_body(self) -> ComposeResult:
        """The step's own widgets."""
        yield from ()

    @property
    def host(self) -> WizardHost:
        """The App, seen through the protocol."""
        return cast(WizardHost, self.app)

    _painted = False
    """True once the screen has been on screen (see `on_mount`)."""

    def on_mount(self) -> None:
        self.refresh_chrome()
        self.call_after_refresh(self._first_frame_shown)

    async def _first_frame_shown(self) -> None:
        if not self._painted and self.is_attached:  # (scheduled twice by some subclasses)
            self._painted = True
            self.refresh_chrome()
            # The footer right after the first frame: its keys are Textual's costliest widgets
            # to style, and the first frame (the step as it opens) has no use for them yet.
            # Compact: more keys fit in 80 columns, and each key is styled once, not twice.
            await self.mount(Footer(compact=True))
            self.refresh_bindings()  # a footer fills in when the bindings are announced

    def on_screen_resume(self) -> None:
        self.refresh_chrome()

    _resumed = False

    @on(events.ScreenResume)
    def _first_resume_keeps_styles(self, event: events.ScreenResume) -> None:
        # The first resume comes right after the mount, where every node of the screen had its
        # styles computed: Textual's restyle of the whole screen on resume (Screen's own
        # handler, which runs after this one) would only repeat that work before the first
        # frame (~8 ms). Later resumes restyle as usual (the theme may have changed meanwhile).
        if not self._resumed:
            self._resumed = True
            event.refresh_styles = False

    def refresh_chrome(self) -> None:
        """Redraw the header and the sidebar from the run.

        The billable count reads the registry file, so the first frame goes out without it
        and it follows right after (its badge is hidden while the count is 0).
        """
        run = self.host.wizard_run
        header = self.query_one(StatusHeader)
        header.show_where(run.account_id, run.region, run.target == "sandbox")
        billing = getattr(self.app, "billing_summary", None)
        if billing is not None and self._painted:
            header.show_billing(billing())
        self.query_one(StepSidebar).show_steps(self.host.step_states(self.STEP_ID))

    # ------------------------------------------------------------------ keys

    def action_next_step(self) -> None:
        """Ctrl+N: accept the step when its primary action is possible, else go on to the next
        step (with why not, when the next step is not possible yet)."""
        if not self.accept():
            self.host.next_step(self.STEP_ID)

    def accept(self) -> bool:
        """Commit what the step shows as the run's choice and move on, when the step has such
        a choice (True when it handled Ctrl+N, including by saying why it cannot).

        Steps whose primary action is longer work (prepare, validate, upload, launch...) keep
        the default: Ctrl+N moves on once that work is done, and their own key starts it.
        """
        return False

    def on_step_sidebar_step_chosen(self, message: StepSidebar.StepChosen) -> None:
        if message.step_id != self.STEP_ID:
            self.host.go_to_step(message.step_id)

    # ------------------------------------------------------------------ errors and workers

    def require_context(self) -> AwsContext:
        """The AWS context of the run (for workers; raises a clear error when there is none)."""
        from core.errors import BedrockTuneError

        context = self.host.aws_context()
        if context is None:
            raise BedrockTuneError("No AWS context.", hint="Check your credentials first.")
        return context

    def show_error(self, error: BaseException, *, warning: bool = False) -> None:
        """Show `error` in this step's error panel."""
        self.query_one(ErrorPanel).show_error(error_of(error), warning=warning)

    def clear_error(self) -> None:
        """Hide the error panel."""
        self.query_one(ErrorPanel).clear()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state == WorkerState.ERROR and worker.error is not None:
            self.worker_failed(worker.name, worker.error)
        else:
            if event.state == WorkerState.SUCCESS:
                # What the work left behind (AWS clients, the sandbox) lives on: keep the
                # collector's next full pass short (screens.gc_pauses).
                freeze_if_grown()
            post_worker_result(event)

    def worker_failed(self, name: str, error: BaseException) -> None:
        """A worker of this screen raised; by default its error is shown in the panel."""
        self.show_error(error)


def error_of(error: BaseException) -> BedrockTuneError:
    """Our error for any exception (for screens that render errors themselves)."""
    from core.errors import describe_unexpected

    return describe_unexpected(error)
