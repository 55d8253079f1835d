"""Prepare the files: sizes inside the model's limits, a maximum length, dedupe, a seed; runs in a
worker with a progress bar and Cancel, and never overwrites prepared files without asking.

The sizes proposed fit the dataset: once its row count is known (read in a worker), defaults the
dataset cannot fill shrink in proportion, with a note saying so; a dataset under the model's
minimum is a problem that keeps Prepare disabled. No split is ever written empty (core)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static, Switch
from textual.worker import get_current_worker

from core.catalog.lookup import find_model
from core.catalog.types import BaseModel, Customization, CustomizationType
from core.data.locations import data_dir, default_prepared_dir, git_checkout_of
from core.data.prepare import (
    PrepareOptions,
    PrepareResult,
    chars_limit_or_default,
    check_sizes,
    default_sizes,
    fit_sizes,
    prepare,
    sizes_or_defaults,
)
from core.data.prepared import PreparedDir
from core.data.sources import SourceSpec, preview
from core.data.templates import Template, template_from_dict
from core.errors import BedrockTuneError, DatasetError, ValidationError
from screens.base import StepScreen
from screens.confirm import ConfirmScreen
from screens.widgets.task_progress import TaskProgress
from screens.workers import WorkerResult


@dataclass
class FilesPrepared(WorkerResult):
    """The train / validation / test files were written, with these options."""

    result: PrepareResult
    options: PrepareOptions


@dataclass
class RowsCounted(WorkerResult):
    """The dataset's row count, as far as it is cheap to know."""

    rows: int | None
    """None: not cheap to know (a large file, a hub dataset without split info) or unreadable."""


def _number(text: str, field: str) -> int | None:
    text = text.strip().replace(",", "").replace("_", "")
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        raise ValidationError(f"{field} must be a whole number, not '{text}'.") from None
    if value < 0:
        raise ValidationError(f"{field} cannot be negative.")
    return value


class PrepareScreen(StepScreen):
    """Render, filter, sample and split into train / validation / test files."""

    STEP_ID = "prepare"
    STEP_TITLE = "Prepare the files"
    CSS_PATH = "styles/prepare.tcss"

    BINDINGS = [Binding("ctrl+r", "prepare", "Prepare", id="prepare-files")]
    """Ctrl+R (or Enter in any field) prepares the files."""

    def __init__(self) -> None:
        super().__init__()
        self._model: BaseModel | None = None
        self._custom: Customization | None = None
        self._rows: int | None = None
        """The dataset's row count, once known (None: not known yet, or not cheap to know)."""
        self._proposed: tuple[str, str, str] = ("", "", "")
        """The sizes this step last put in the fields (the user has not changed them since)."""
        self._fit_defaults = True
        """Whether the proposed sizes are the model's defaults (fitted to the dataset once its
        row count is known), not the sizes this run already prepared with."""

    def compose_body(self) -> ComposeResult:
        yield Label("Prepare the training files", classes="step-heading")
        yield Static("", id="limits-line")
        with Horizontal(id="sizes-row", classes="fields"):
            for field_id, label in (
                ("train", "Train"),
                ("validation", "Validation"),
                ("test", "Test"),
            ):
                with Vertical(classes="size-field"):
                    yield Label(label, classes="field-label")
                    yield Input(id=field_id, type="integer")
        with Horizontal(id="filters-row", classes="fields"):
            with Vertical(classes="size-field"):
                yield Label("Max characters", classes="field-label")
                yield Input(id="max-chars", type="integer")
            with Vertical(classes="size-field"):
                yield Label("or max est. tokens", classes="field-label")
                yield Input(id="max-tokens", type="integer")
            with Vertical(classes="size-field"):
                yield Label("Seed", classes="field-label")
                yield Input(id="seed", value="42", type="integer")
            with Vertical(classes="size-field"):
                yield Label("Remove duplicates", classes="field-label")
                yield Switch(value=True, id="dedupe")
        yield Label("Output folder", classes="field-label")
        yield Input(id="out-dir")
        yield Static("", id="out-dir-note")
        yield Static("", id="size-problems")
        yield Static("", id="size-note")
        yield TaskProgress(id="progress")
        yield Static("", id="prepare-status")
        with Horizontal(classes="button-row step-actions"):
            yield Button("Prepare", id="prepare", variant="primary")
            yield Button("Cancel", id="cancel", disabled=True)

    def on_mount(self) -> None:
        self._load()

    def on_screen_resume(self) -> None:
        if self._model is None or self._model.id != self.host.wizard_run.base_model_id:
            self._load()

    def _load(self) -> None:
        run = self.host.wizard_run
        if not run.base_model_id:
            return
        self._model = find_model(run.base_model_id)
        self._custom = self._model.customization(CustomizationType(run.customization_type))
        if self._custom is None:
            return
        limits = self._custom.limits
        sizes = default_sizes(limits)
        self._fit_defaults = run.train_size is None
        if run.train_size is not None:  # the choices this run prepared with
            sizes = sizes_or_defaults(limits, run.train_size, run.validation_size, run.test_size)
        self._rows = None
        self._propose(sizes)
        if run.source_location:
            self.count_rows(SourceSpec(run.source_location, run.source_config, run.source_split))
        chars = chars_limit_or_default(limits, run.train_size, run.max_chars, run.max_tokens)
        self.query_one("#max-chars", Input).value = str(chars) if chars else ""
        self.query_one("#max-tokens", Input).value = str(run.max_tokens or "")
        if run.seed is not None:
            self.query_one("#seed", Input).value = str(run.seed)
        if run.dedupe is not None:
            self.query_one("#dedupe", Switch).value = run.dedupe
        # bedrock-tune's data folder, not the folder the app was started from (often a git
        # checkout, where the records could end up in a commit).
        out = default_prepared_dir(run.run_id)
        self.query_one("#out-dir", Input).value = run.prepared_dir or str(out)
        self.query_one("#out-dir-note", Static).update(
            Text(f"By default in bedrock-tune's data folder: {data_dir()}", style="dim")
        )
        parts = [f"{self._model.name}: {self._custom.data_format.label}"]
        if limits.min_records:
            parts.append(f"at least {limits.min_records:,} records")
        if limits.max_train_records:
            parts.append(f"at most {limits.max_train_records:,} training")
        if limits.max_validation_records:
            parts.append(f"{limits.max_validation_records:,} validation")
        if not limits.validation_data_supported:
            parts.append("no validation data")
        self.query_one("#limits-line", Static).update(", ".join(parts))
        self._check()

    def _sizes_typed(self) -> tuple[str, str, str]:
        return (
            self.query_one("#train", Input).value,
            self.query_one("#validation", Input).value,
            self.query_one("#test", Input).value,
        )

    def _propose(self, sizes: tuple[int, int, int]) -> None:
        self._proposed = (str(sizes[0]), str(sizes[1]), str(sizes[2]))
        for field_id, value in zip(("train", "validation", "test"), self._proposed, strict=True):
            self.query_one(f"#{field_id}", Input).value = value

    @work(thread=True, exclusive=True, exit_on_error=False, group="prepare-rows", name="rows")
    def count_rows(self, spec: SourceSpec) -> RowsCounted:
        """Read the dataset's row count (None when it is not cheap to know)."""
        try:
            return RowsCounted(preview(spec, n=1).num_rows)
        except BedrockTuneError:
            return RowsCounted(None)  # the dataset step showed why; preparing says it again

    @on(RowsCounted)
    def _fit_to(self, message: RowsCounted) -> None:
        """Sizes the dataset can fill, unless the user already typed their own."""
        rows = self._rows = message.rows
        if rows is None:
            return
        untouched = self._sizes_typed() == self._proposed
        if self._custom is not None and self._fit_defaults and untouched:
            wanted = default_sizes(self._custom.limits)
            try:
                fitted, _ = fit_sizes(
                    rows, wanted, self._custom.limits.min_records, counted="in the dataset"
                )
            except DatasetError:
                pass  # too small for the model: _check says so and keeps Prepare disabled
            else:
                self._propose(fitted)
        self._check()

    def options(self, *, overwrite: bool = False) -> PrepareOptions:
        """The options as typed (ValidationError for a field that is not a number)."""
        return PrepareOptions(
            train=_number(self.query_one("#train", Input).value, "Train") or 0,
            validation=_number(self.query_one("#validation", Input).value, "Validation") or 0,
            test=_number(self.query_one("#test", Input).value, "Test") or 0,
            max_chars=_number(self.query_one("#max-chars", Input).value, "Max characters"),
            max_tokens=_number(self.query_one("#max-tokens", Input).value, "Max tokens"),
            dedupe=self.query_one("#dedupe", Switch).value,
            seed=_number(self.query_one("#seed", Input).value, "Seed") or 0,
            overwrite=overwrite,
        )

    @on(Input.Changed)
    def _check(self) -> list[str]:
        if self._model is None:
            return ["choose a model first"]
        note = ""
        try:
            options = self.options()
            problems = check_sizes(
                self._model, CustomizationType(self.host.wizard_run.customization_type), options
            )
            note = self._rows_note(options)
        except (ValidationError, DatasetError) as error:
            problems = [error.message]
        panel = self.query_one("#size-problems", Static)
        panel.update(Text("\n".join(f"✘ {p}" for p in problems), style="red") if problems else "")
        self.query_one("#size-note", Static).update(Text(note, style="yellow") if note else "")
        self.query_one("#prepare", Button).disabled = bool(problems)
        return problems

    def _rows_note(self, options: PrepareOptions) -> str:
        """What the dataset's row count means for these sizes ("" when they fit).

        Raises:
            DatasetError: the dataset is under the model's minimum.
        """
        if self._rows is None or self._custom is None:
            return ""
        asked = (options.train, options.validation, options.test)
        fitted, _ = fit_sizes(
            self._rows, asked, self._custom.limits.min_records, counted="in the dataset"
        )
        if fitted == asked:
            return ""
        shown = ", ".join(
            f"{n:,} {label}"
            for n, label in zip(fitted, ("train", "validation", "test"), strict=True)
            if n
        )
        return (
            f"The dataset has {self._rows:,} rows, fewer than these sizes ask for: they will "
            f"shrink in proportion to {shown} (or fewer, if the filters drop records)."
        )

    @on(Input.Submitted)
    @on(Button.Pressed, "#prepare")
    def action_prepare(self) -> None:
        """Prepare the files with the options as typed (asks before replacing any)."""
        if any(w.group == "prepare" and w.is_running for w in self.workers):
            return
        problems = self._check()
        if problems:
            self.notify(f"Not yet: {problems[0]}", severity="warning")
            return
        out = Path(self.query_one("#out-dir", Input).value.strip() or ".").expanduser()
        checkout = git_checkout_of(out)
        if checkout is None:
            self._prepare_into(out)
            return

        def inside(yes: bool | None) -> None:
            if yes:
                self._prepare_into(out)

        self.app.push_screen(
            ConfirmScreen(
                "Write the prepared files into a git checkout?",
                f"{out} is inside the git checkout {checkout}. The prepared files hold your "
                "dataset's records; there they can end up in a commit. Choose another output "
                f"folder (by default bedrock-tune's data folder, {data_dir()}), or write there "
                "anyway.",
                "Write there",
            ),
            inside,
        )

    def _prepare_into(self, out: Path) -> None:
        """Prepare into `out`, asking first when it already holds prepared files."""
        present = PreparedDir(out).existing()
        if not present:
            self._start(out, overwrite=False)
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._start(out, overwrite=True)

        self.app.push_screen(
            ConfirmScreen(
                "Replace the prepared files?",
                f"{out} already holds {', '.join(present)}. Preparing again replaces them.",
                "Replace",
            ),
            confirmed,
        )

    def _start(self, out: Path, *, overwrite: bool) -> None:
        run = self.host.wizard_run
        try:
            if self._model is None:
                raise ValidationError("No base model chosen.", hint="Choose one in the model step.")
            if not run.source_location:
                raise ValidationError("No dataset chosen.", hint="Open one in the dataset step.")
            if not run.template_toml:
                raise ValidationError("No template chosen.", hint="Use one in the template step.")
            template = template_from_dict(tomllib.loads(run.template_toml))
            options = self.options(overwrite=overwrite)
        except (BedrockTuneError, tomllib.TOMLDecodeError) as error:
            self.show_error(error)
            return
        self.clear_error()
        self.query_one("#prepare", Button).disabled = True
        self.query_one("#cancel", Button).disabled = False
        self.query_one("#progress", TaskProgress).start()
        self.query_one("#prepare-status", Static).update("Preparing...")
        source = SourceSpec(run.source_location, run.source_config, run.source_split)
        kind = CustomizationType(run.customization_type)
        self.run_prepare(source, template, self._model, kind, out, options)

    @work(thread=True, exclusive=True, exit_on_error=False, group="prepare", name="prepare")
    def run_prepare(
        self,
        source: SourceSpec,
        template: Template,
        model: BaseModel,
        kind: CustomizationType,
        out: Path,
        options: PrepareOptions,
    ) -> FilesPrepared:
        """Prepare in a thread; progress goes to the bar, Cancel stops it with nothing written."""
        worker = get_current_worker()

        def progress(done: int, total: int | None, what: str) -> None:
            self.app.call_from_thread(self._progress, done, total, what)

        return FilesPrepared(
            prepare(
                source,
                template,
                model,
                out,
                options,
                kind=kind,
                progress=progress,
                cancelled=lambda: worker.is_cancelled,
            ),
            options,
        )

    def _progress(self, done: int, total: int | None, what: str) -> None:
        self.query_one("#progress", TaskProgress).update(total=total, progress=done)
        amount = f"{done:,} of {total:,}" if total else f"{done:,}"
        self.query_one("#prepare-status", Static).update(f"{what}: {amount}")

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        for worker in self.workers:
            if worker.group == "prepare":
                worker.cancel()
        self.query_one("#progress", TaskProgress).hide()
        self._idle("Cancelled: nothing was written.")

    def _idle(self, message: str | Text) -> None:
        self.query_one("#prepare", Button).disabled = False
        self.query_one("#cancel", Button).disabled = True
        self.query_one("#prepare-status", Static).update(message)

    @on(FilesPrepared)
    def _prepared(self, message: FilesPrepared) -> None:
        result = message.result
        self.query_one("#progress", TaskProgress).finish()
        text = Text("✔ Prepared in ", style="green")
        text.append(str(result.out_dir), style="bold")
        text.append(": " + ", ".join(f"{n} {k}" for k, n in result.counts.items()))
        if result.dropped:
            dropped = ", ".join(f"{n:,} {r}" for r, n in sorted(result.dropped.items()))
            text.append(f"\ndropped {dropped} (of {result.examined:,} examined)", style="dim")
        for note in result.notes:
            text.append(f"\n{note}", style="yellow")
        self._idle(text)
        options = message.options
        run = replace(
            self.host.wizard_run,
            prepared_dir=str(result.out_dir),
            train_size=options.train,
            validation_size=options.validation,
            test_size=options.test,
            max_chars=options.max_chars,
            max_tokens=options.max_tokens,
            dedupe=options.dedupe,
            seed=options.seed,
        )
        self.host.update_run(run)
        self.notify("Files prepared.", title="Prepare")

    def worker_failed(self, name: str, error: BaseException) -> None:
        self.query_one("#progress", TaskProgress).hide()
        self._idle(Text("Preparation failed; nothing was written.", style="red"))
        self.show_error(error)
