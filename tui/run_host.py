"""The App's hold on the run (`screens.base.WizardHost`): the run and its saves, its place and
AWS context, the shared sandbox, changes that reset later steps, new runs, and moving between
the route's steps. `tui.app.BedrockTuneApp` adds the rest (resume, quit, help, the palette).

A changed run is saved to the registry in a thread worker, in order (`core.run.saver`): the
event loop never waits for the file lock or the fsync. A change of place or base model that
undoes later steps resets them in the run (`core.run.changes`) and drops their screens, which
are made again from the run when next shown; a new run (Ctrl+T, or a change the old run cannot
take) leaves the old one in the registry as it was.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from core.run import Route, Run, Target
from core.run.routes import FIRST_STEP, ROUTE_STEPS, next_step, routes_offered, step, steps_of
from core.run.status import has_choices, still_going
from screens.base import LaunchOptions, StepScreen
from screens.widgets.step_sidebar import StepState
from tui.shared_sandbox import SharedSandbox
from tui.steps import ROUTE_SCREENS, SCREENS, ScreenFactory

if TYPE_CHECKING:
    # Not imported at run time before they are used: the first frame does not need them.
    from textual.screen import Screen

    from core.aws import AwsContext, Identity
    from core.registry import Registry
    from core.run.changes import RunChange
    from core.run.saver import RunSaver
    from core.sandbox.background import SandboxInfo
    from core.sandbox.server import Sandbox


class RunHost(App[None]):
    """The part of the App that owns the run and moves between its steps."""

    BINDINGS = [Binding("ctrl+t", "new_run", "New run", id="new-run")]

    def __init__(
        self,
        launch: LaunchOptions | None = None,
        *,
        sandbox_factory: Callable[[], Sandbox] | None = None,
        screens: Mapping[str, ScreenFactory] | None = None,
    ) -> None:
        """Args:
        launch: the command-line choices.
        sandbox_factory: serve the shared sandbox from a thread of this process, made by this
            (tests pass one with a fake clock); by default the sandbox is a detached process
            that outlives the app (`core.sandbox.background`).
        screens: step id -> screen factory (tests pass other maps); by default every built
            step's screen (`tui.steps.SCREENS`).
        """
        super().__init__()
        self._launch = launch or LaunchOptions()
        self._screens: dict[str, ScreenFactory] = dict(SCREENS if screens is None else screens)
        self._route_screens: dict[tuple[str, str], ScreenFactory] = (
            dict(ROUTE_SCREENS) if screens is None else {}
        )
        self._offered = routes_offered(self._screens)
        self._run = Run()
        self._aws: AwsContext | None = None
        self._aws_lock = threading.Lock()
        self._sandbox = SharedSandbox(lambda: self.registry().directory, sandbox_factory)
        self._current = FIRST_STEP
        self._run_registry: Registry | None = None
        self._saver: RunSaver | None = None
        self._savers: list[RunSaver] = []
        """Every run's saver (an earlier run's last save may still be on its way)."""
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
            saver = self._run_saver()
            self._save_run(saver, saver.submit(run), run)
        self._refresh_chrome()

    def save_run_now(self) -> None:
        self._run_saver().flush()

    def _run_saver(self) -> RunSaver:
        with self._saver_lock:
            if self._saver is None:
                from core.run.saver import RunSaver

                self._saver = RunSaver(self.registry)
                self._savers.append(self._saver)
            return self._saver

    @work(thread=True, exit_on_error=False, group="registry", name="save-run")
    def _save_run(self, saver: RunSaver, ticket: int, run: Run) -> None:
        """Write one version of the run (skipped when a later one is already on disk); a
        failure is shown as an error by `on_worker_state_changed`."""
        saver.write(ticket, run)

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

    def place_change(
        self, context: AwsContext, *, target: Target, profile: str | None, identity: Identity
    ) -> RunChange:
        from core.resume import target_of
        from core.run.changes import change_place

        # a standalone `bedrock-tune sandbox` reached via AWS_ENDPOINT_URL is a sandbox too
        where = target_of(context.endpoint_url, sandbox=target == "sandbox")
        held = self._sandbox.current()
        in_shared = held is not None and held.endpoint_url == context.endpoint_url
        return change_place(
            self._run,
            target=where,
            profile=profile,
            region=context.region,
            endpoint_url=context.endpoint_url,
            sandbox_id=held.instance_id if where == "sandbox" and in_shared and held else None,
            account_id=identity.account,
            principal_arn=identity.arn,
        )

    def set_aws_context(
        self,
        context: AwsContext,
        *,
        target: Target,
        profile: str | None,
        identity: Identity,
        new_run: bool = False,
    ) -> None:
        with self._aws_lock:
            self._aws = context
        change = self.place_change(context, target=target, profile=profile, identity=identity)
        self.apply_change(change, new_run=new_run)

    def apply_change(self, change: RunChange, *, new_run: bool = False) -> None:
        if new_run or change.needs_new_run:
            self._begin_run(change.fresh)
            return
        run = change.after
        if run.run_id is None:
            from core.registry import new_run_id

            run = replace(run, run_id=new_run_id())
        self.update_run(run)
        if change.changed:
            self._rebuild_steps(after=self._current)

    def _begin_run(self, run: Run, landing: str | None = None) -> None:
        """Make `run` the App's run under a new id, and show every step afresh (from
        `landing` when given). The previous run stays in the registry: its last save goes on
        with its own saver."""
        from core.registry import new_run_id

        with self._saver_lock:
            self._saver = None
        previous = self.current_mode
        self.update_run(replace(run, run_id=new_run_id()))
        self._rebuild_steps(after=None)
        if landing is not None and landing != previous:
            self._current = landing
            self.switch_mode(landing)
            self._rebuild_steps(only=previous)

    def _rebuild_steps(self, after: str | None = None, *, only: str | None = None) -> None:
        """Drop the screens of the steps after `after` (every step when None; just `only`
        when given), never the one on screen: each is made again from the run when shown."""
        ids = [s.id for s in steps_of(self._run.route)]
        if only is not None:
            chosen = [only]
        elif after in ids:
            chosen = ids[ids.index(after) + 1 :]
        else:
            chosen = list(self._screens)
        for step_id in chosen:
            if step_id in self._screens and step_id != self.current_mode:
                self.remove_mode(step_id)
                self.add_mode(step_id, partial(self.make_step_screen, step_id))

    def make_step_screen(self, step_id: str) -> Screen[None]:
        """The step's screen for the run's route: the route's own where it has one."""
        route_screen = self._route_screens.get((step_id, self._run.route.value))
        return (route_screen or self._screens[step_id])()

    def start_sandbox(self) -> SandboxInfo:
        return self._sandbox.start()

    def action_new_run(self) -> None:
        """Start a new run in the same place; the current one stays in the registry."""
        run = self._run
        if not has_choices(run):
            self.notify("This run has no choices yet: it is as new as a new run.")
            return
        from screens.confirm import ConfirmScreen

        kept = f"Run {run.run_id} stays in bedrock-tune's list (`bedrock-tune runs`), as it is."
        going = " ".join(still_going(run))
        if going:
            kept += f" {going} The next start offers to re-attach to it."

        def chosen(yes: bool | None) -> None:
            if not yes:
                return
            place_only = run.place_only()
            after_place = next_step(place_only.route, FIRST_STEP)
            landing = after_place.id if run.identity_checked and after_place else FIRST_STEP
            self._begin_run(place_only, landing)
            self.notify(f"Run {self._run.run_id} started; {run.run_id} is kept.", title="New run")

        self.push_screen(ConfirmScreen("Start a new run?", kept, "New run", danger=False), chosen)

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

    def _refresh_chrome(self) -> None:
        # The step under a dialog too: its header shows through above the dialog, and a run
        # that changed meanwhile (an identity confirmed behind the resume dialog) must show.
        for screen in reversed(self.screen_stack):
            if isinstance(screen, StepScreen):
                screen.refresh_chrome()
                return
