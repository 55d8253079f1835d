"""The bedrock-tune App: owns the run and the AWS context, shows the steps, routes between them.

`tui.run_host.RunHost` holds the run (its saves, place, sandbox, changes and new runs, moving
between steps); this class adds resume, the quit guard, help and the command palette.

Each step is a Screen installed as an App *mode*, so a step keeps its state when you move to
another and back. Which steps the run goes through, in which order, and when each is done or
possible is core's route table (`core.run.routes`); the App shows the run's route and offers only
the routes whose every step has a screen. Resume decisions are core's too (`core.resume`):
the App finds, asks and routes.

The App implements `screens.base.WizardHost`, the only thing screens know of it. A changed run is
saved to the registry in a thread worker, in order (`core.run.saver`): the event loop never
waits for the file lock or the fsync.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import AwaitMount
from textual.worker import Worker, WorkerState

from core.run.routes import FIRST_STEP, step, steps_of
from core.run.status import still_going
from screens.base import LaunchOptions
from screens.workers import WorkerResult, post_worker_result
from tui.run_host import RunHost
from tui.steps import ScreenFactory

if TYPE_CHECKING:
    # Not imported at run time before they are used: the first frame does not need them.
    from core.billing import BillingSummary
    from core.recipe import RecipeFile
    from core.registry import RunRecord
    from core.resume import Reattached
    from core.sandbox.server import Sandbox


@dataclass
class ResumableRunsFound(WorkerResult):
    """Runs whose job (or deployment being created) had not ended when bedrock-tune closed."""

    records: tuple[RunRecord, ...]
    gone: dict[str, str]
    """Run id -> why its world is gone (its sandbox stopped): it can only be forgotten."""


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


class BedrockTuneApp(RunHost):
    """The terminal app."""

    TITLE = "bedrock-tune"
    CSS_PATH = "styles/app.tcss"
    DEFAULT_MODE: ClassVar[str] = FIRST_STEP
    """The first step's mode, which `get_default_screen` fills."""
    BINDINGS: ClassVar[list[Binding]] = [  # type: ignore[assignment]
        Binding("ctrl+q", "guarded_quit", "Quit", id="quit", priority=True),
        Binding("f1", "help", "Help", id="help-f1", show=False),
        Binding("f2", "save_recipe", "Save recipe", id="save-recipe", show=False),
        Binding("f3", "open_recipe", "Open recipe", id="open-recipe", show=False),
    ]

    def __init__(
        self,
        launch: LaunchOptions | None = None,
        *,
        sandbox_factory: Callable[[], Sandbox] | None = None,
        screens: Mapping[str, ScreenFactory] | None = None,
    ) -> None:
        """The arguments are `RunHost`'s; the startup objects are frozen first."""
        _freeze_startup_objects()
        super().__init__(launch, sandbox_factory=sandbox_factory, screens=screens)

    # ------------------------------------------------------------------ app plumbing

    def get_default_screen(self) -> Screen[Any]:
        """The first step's screen, as the screen the App starts with (in the mode named after
        the step, see `DEFAULT_MODE`).

        Switching to its mode from Textual's blank default screen instead would restyle every
        node twice over (a full stylesheet refresh for the new screen, then one per resume)
        before the first frame.
        """
        return self._screens[FIRST_STEP]()

    def _new_step_screen(self, step_id: str) -> Screen[Any]:
        """A step's screen, made when its mode first opens.

        It has nothing styled yet, so it is marked up to date with the app's CSS: otherwise
        Textual re-parses every stylesheet and restyles the whole app for it, twice, on the
        first visit of each step (a third of a second of the event loop).
        """
        screen = self.make_step_screen(step_id)
        screen._css_update_count = self._css_update_count
        return screen

    def _load_step_styles(self) -> None:
        """Parse every step's stylesheet once, right after the first frame: Textual would
        re-parse all the app's CSS on the first visit of each step that brings its own."""
        import screens

        folder = Path(screens.__file__).parent / "styles"
        stylesheet = self.stylesheet
        new = [p for p in sorted(folder.glob("*.tcss")) if not stylesheet.has_source(str(p), "")]
        if new:
            stylesheet.read_all(new)
            stylesheet.parse()
            stylesheet.update(self.screen)

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
        for step_id in self._screens:
            # The first step's mode already holds its screen; this makes it a mode to come
            # back to like the others.
            self.add_mode(step_id, partial(self._new_step_screen, step_id))
        self.call_after_refresh(self._load_step_styles)
        self.call_after_refresh(self.find_resumable)
        # The App is ready (and its first frame out) once the first step is composed and
        # mounted, not merely started.
        await AwaitMount(self.screen, [self.screen])

    # ------------------------------------------------------------------ resume

    @work(thread=True, exclusive=True, exit_on_error=False, group="resume", name="find-resumable")
    def find_resumable(self) -> ResumableRunsFound:
        """Runs whose job had not ended when bedrock-tune last closed, on an offered route, and
        which of them lost their world (a sandbox that stopped)."""
        from core.resume import resumable_runs, world_gone
        from core.sandbox.background import identify

        records = tuple(resumable_runs(self.registry().runs(), self._offered))
        shared = None
        if any(r.run.target == "sandbox" and r.run.sandbox_id for r in records):
            shared = self._sandbox.running()
        gone = {}
        for record in records:
            why = world_gone(record.run, shared, identify)
            if why is not None:
                gone[record.id] = why
        return ResumableRunsFound(records, gone)

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

        self.push_screen(ResumeScreen(records, self.registry(), message.gone), chosen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="resume", name="reattach")
    def reattach(self, record: RunRecord) -> RunReattached:
        """Rebuild the run's AWS context, check it, and find its job (core decides how). A
        run made in the shared sandbox uses that sandbox again, if it is still the same one."""
        from core.resume import RunWorldGoneError, reattach

        run = record.run
        in_shared = run.target == "sandbox" and run.sandbox_id is not None
        if in_shared and run.sandbox_id and self._sandbox.join(run.sandbox_id) is None:
            raise RunWorldGoneError(
                "The sandbox this run was made in is not running any more, and its job "
                "and files went with it.",
                hint="Forget the run in the resume dialog (it deletes nothing), and start a "
                "new one.",
            )
        return RunReattached(reattach(run))

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
            from core.resume import RunWorldGoneError

            error = describe_unexpected(worker.error)
            self.notify(
                f"{error.message}\n{error.hint}", title=error.title, severity="error", timeout=20
            )
            if isinstance(worker.error, RunWorldGoneError):
                self.find_resumable()  # offered again, marked as gone, to be forgotten
        else:
            post_worker_result(event)

    def on_unmount(self) -> None:
        self._resume_gc()
        # A save still queued when the app closes (this run's, or the one before a New run)
        # is written now, not lost.
        from core.errors import BedrockTuneError

        for saver in self._savers:
            try:
                saver.flush()
            except BedrockTuneError as error:
                self.log.error(f"The run could not be saved: {error.describe()}")
        # The shared sandbox keeps running (it stops on its own once nothing needs it).
        self._sandbox.release()

    # ------------------------------------------------------------------ billing guard

    def billable(self) -> list[Any]:
        """The billable resources the registry holds (provisioned throughput, deployments,
        endpoints, SageMaker jobs still running)."""
        from core.billing import billing_now
        from core.errors import BedrockTuneError

        try:
            registry = self.registry()
            runs = {r.id: r.run for r in registry.runs()}
            # This run as the app knows it now: its save may still be on its way to disk.
            if self.wizard_run.run_id is not None:
                runs[self.wizard_run.run_id] = self.wizard_run
            return billing_now(registry.resources(), runs)
        except BedrockTuneError:
            return []

    def billing_summary(self) -> BillingSummary:
        """What the registry's billable resources cost (for the header's counter); a throughput
        recorded without a price gets the cached Price List figure (no AWS call here)."""
        from core.billing import cached_hourly_price, summarize_records

        return summarize_records(self.billable(), cached_hourly_price)

    async def action_guarded_quit(self) -> None:
        """Quit; when something still bills, say so and offer to delete it first; when a job,
        import or deployment is under way, say that it keeps going and that the next start
        re-attaches."""
        billing = self.billable()
        going = still_going(self._run)
        if not billing and not going:
            self.exit()
            return
        from screens.quit_guard import QuitGuardScreen

        def chosen(choice: str | None) -> None:
            if choice == "keep":
                self.exit()
            elif choice == "delete":
                self.notify("Deleting what still bills...", title="Quit")
                self.delete_billable(billing)

        self.push_screen(QuitGuardScreen(billing, going), chosen)

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

    def action_help(self) -> None:
        """Show what the current step does and the keys."""
        from screens.help import HelpScreen  # Markdown is slow to import: not before first paint

        if isinstance(self.screen, HelpScreen):
            return
        shown = step(self._current)
        titles = [s.title for s in steps_of(self._run.route)]
        self.push_screen(HelpScreen(shown.title, shown.description, titles))

    def action_advise(self) -> None:
        """Open the "fine-tune or RAG?" guide, priced for the run's model if it has one."""
        from screens.advise import AdviseScreen

        if not isinstance(self.screen, AdviseScreen):
            self.push_screen(
                AdviseScreen(self._run.base_model_id, self.aws_context(), self._run.region)
            )

    # ------------------------------------------------------------------ recipes

    def action_save_recipe(self) -> None:
        """Ask for a path and write the run's recipe there (atomically)."""
        from core.run.status import has_choices
        from screens.file_dialog import FileDialog
        from tui.recipes import default_recipe_path, saving

        run = self._run
        if not has_choices(run):
            self.notify("This run has no choices yet: nothing to save.", severity="warning")
            return

        def saved(path: Path | None) -> None:
            if path is not None:
                self.notify(f"Recipe of run {run.run_id} saved to {path}.", title="Recipe")

        self.push_screen(
            FileDialog(
                "Save this run as a recipe",
                "The run's choices as commented TOML, without credentials or account values "
                "({account_id} and {region} stand in). Replay it with `bedrock-tune replay "
                "FILE`, or open it here with F3.",
                default_recipe_path(run),
                "Save",
                saving(run),
            ),
            saved,
        )

    def action_open_recipe(self) -> None:
        """Ask for a recipe, check it, and start a new run from it with its steps filled."""
        from screens.file_dialog import FileDialog
        from tui.recipes import opening

        if not self._run.identity_checked:
            self.notify(
                "Check your credentials first: a recipe's names are filled in for your account.",
                severity="warning",
            )
            return
        self.push_screen(
            FileDialog(
                "Open a recipe",
                "A new run starts with the recipe's choices (model, dataset, template, sizes, "
                "names, hyperparameters); the current run stays in the registry.",
                "",
                "Open",
                opening(self._offered),
            ),
            self._recipe_opened,
        )

    def _recipe_opened(self, recipe: RecipeFile | None) -> None:
        from tui.recipes import first_open_step, run_of_recipe

        if recipe is None:
            return
        kept = self._run.run_id
        run = run_of_recipe(recipe, self._run)
        self._begin_run(run, first_open_step(run, self._screens))
        self.notify(
            f"Run {self._run.run_id} started from {recipe.where}"
            + (f"; {kept} is kept." if kept else "."),
            title="Recipe",
        )

    def action_next_step(self) -> None:
        """Go to the next step if it is possible."""
        self.next_step(self._current)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "New run",
            "Start a new run in the same place; the current one stays in the registry (Ctrl+T)",
            self.action_new_run,
        )
        yield SystemCommand(
            "Open recipe",
            "Start a new run from a recipe file, its steps filled (F3)",
            self.action_open_recipe,
        )
        yield SystemCommand(
            "Save run as recipe",
            "Write this run's choices to a TOML recipe, to replay or share (F2)",
            self.action_save_recipe,
        )
        yield SystemCommand(
            "Fine-tune or RAG?",
            "A short guide: which path fits your goal, why, and what each costs",
            self.action_advise,
        )
        for shown in steps_of(self._run.route):
            if shown.id in self._screens:
                yield SystemCommand(
                    f"Go to step: {shown.title}",
                    shown.description,
                    partial(self.go_to_step, shown.id),
                )
