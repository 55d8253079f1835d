"""Validate the data: every rule of the model checked in a worker (progress bar, Cancel), the
token statistics with a small histogram against the limit, the cost estimate, every problem
grouped by rule, the record behind a problem, and fix-ups that write new files.

Fix-ups on the run's prepared folder write a new folder beside it (`<name>-fixed`: the fixed
train / validation files, the test file and an extended manifest) and point the run at it, so
the launch, upload, chat and evaluate steps, which all read `<prepared dir>/train.jsonl`, use
the fixed data with no change of their own. Fix-ups on any other file write
`<name>.fixed.jsonl` beside it. Sources are never modified.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Label, Static
from textual.worker import get_current_worker

from core import format as fmt
from core.catalog.lookup import find_model
from core.catalog.types import BaseModel, CustomizationType
from core.data.prepared import PreparedDir
from core.data.tokens import ESTIMATE_METHOD
from core.errors import BedrockTuneError, ValidationError
from core.estimate import estimate, estimate_lines
from core.pricing.service import pricing_region
from core.pricing.types import ModelPrices
from core.validate.fixups import (
    Fix,
    FixResult,
    PreparedFix,
    apply_fix,
    fix_prepared,
    offered_fixes,
)
from core.validate.rules import rules_for
from core.validate.validator import Problem, RuleGroup, ValidationReport, read_record, validate
from screens.base import StepScreen
from screens.pricing import PRICES_WORKER, PricesRead, lookup_prices
from screens.widgets.task_progress import TaskProgress
from screens.workers import WorkerResult

_FIX_BUTTONS = {f"fix-{fix.value}": fix for fix in Fix}


@dataclass
class ValidationDone(WorkerResult):
    """Every rule checked: the report."""

    report: ValidationReport


@dataclass
class PreparedFolderFixed(WorkerResult):
    """A fix-up of the run's prepared files wrote a new folder beside them."""

    fixed: PreparedFix


@dataclass
class FilesFixed(WorkerResult):
    """A fix-up of other files wrote `<name>.fixed.jsonl` beside each."""

    results: tuple[FixResult, ...]


class ProblemRecordScreen(ModalScreen[None]):
    """One line of a file with the problems found in it."""

    DEFAULT_CSS = """
    ProblemRecordScreen { align: center middle; }
    ProblemRecordScreen > VerticalScroll {
        width: 90%; height: 85%; border: round $accent; background: $surface; padding: 1 2;
    }
    """
    BINDINGS = [Binding("escape", "dismiss", "Close", id="close-problem-record")]

    def __init__(self, title: str, problems: list[Problem], raw: bytes) -> None:
        super().__init__()
        self._title = title
        self._problems = problems
        self._raw = raw

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Label(self._title, classes="step-heading")
            text = Text()
            for problem in self._problems:
                style = "red" if problem.severity == "error" else "yellow"
                text.append(f"{problem.rule}", style=f"bold {style}")
                if problem.path:
                    text.append(f" at {problem.path}", style="bold")
                text.append(f": {problem.message}\n")
                text.append(f"  {problem.hint}\n", style="dim")
            yield Static(text, id="record-problems")
            try:
                pretty = json.dumps(json.loads(self._raw), indent=2, ensure_ascii=False)
                body: Syntax | Text = Syntax(pretty, "json", word_wrap=True, theme="ansi_dark")
            except ValueError:
                body = Text(self._raw.decode("utf-8", errors="replace") or "(empty line)")
            yield Static(body, id="record-body")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)


class ValidateScreen(StepScreen):
    """Check the prepared files (or any JSONL) against the model's rules."""

    STEP_ID = "validate"
    STEP_TITLE = "Validate"
    CSS_PATH = "styles/validate.tcss"

    BINDINGS = [Binding("ctrl+r", "run_validation", "Validate", id="run-validation")]
    """Ctrl+R (or Enter in a path field) validates."""

    def __init__(self) -> None:
        super().__init__()
        self._report: ValidationReport | None = None
        self._prices: ModelPrices | None = None
        self._groups: list[RuleGroup] = []
        self._shown: list[Problem] = []
        self._loaded_dir: str | None = None

    def compose_body(self) -> ComposeResult:
        yield Label("Check every record before anything is uploaded", classes="step-heading")
        yield Static(
            "JSON Lines, the format's schema, roles, reserved strings, media, estimated tokens "
            "per record against the model's limit, record counts, file sizes and names, "
            "duplicates. The prepared files are filled in; any other JSONL works too.",
            classes="step-intro",
        )
        with Horizontal(id="validate-files"):
            yield Input(placeholder="training JSONL", id="validate-train")
            yield Input(placeholder="validation JSONL (optional)", id="validate-validation")
        with Horizontal(classes="button-row"):
            yield Button("Validate", id="validate", variant="primary")
            yield Button("Cancel", id="cancel-validate", disabled=True)
        yield TaskProgress(id="validate-progress")
        yield Static("", id="validate-status")
        # The problems come first (beside the statistics on a wide screen, above them on a
        # narrow one): they are what needs doing.
        with Horizontal(id="validate-report", classes="columns"):
            with Vertical(id="validate-problems-column"):
                yield Label("Problems by rule", classes="field-label")
                groups: DataTable[str] = DataTable(id="validate-groups", cursor_type="row")
                yield groups
                yield Label(
                    "Problems of the highlighted rule (Enter shows the record)",
                    classes="field-label",
                )
                problems: DataTable[str] = DataTable(id="validate-problems", cursor_type="row")
                yield problems
                yield Label(
                    "Fix-ups (each writes new files; the source is kept)", classes="field-label"
                )
                with Horizontal(classes="button-row", id="validate-fixups"):
                    for button_id, fix in _FIX_BUTTONS.items():
                        yield Button(fix.label, id=button_id, disabled=True)
                yield Static("", id="validate-fix-status")
            yield Static("", id="validate-summary")

    def on_mount(self) -> None:
        self.query_one("#validate-groups", DataTable).add_columns(
            "", "rule", "count", "file", "first lines", "message"
        )
        self.query_one("#validate-problems", DataTable).add_columns("line", "path", "message")
        self._fill_paths()

    def on_screen_resume(self) -> None:
        self._fill_paths()

    def _fill_paths(self) -> None:
        """Put the run's prepared files in the inputs (when the prepared folder changed)."""
        prepared = self.host.wizard_run.prepared_dir
        if prepared is None or prepared == self._loaded_dir:
            return
        self._loaded_dir = prepared
        folder = PreparedDir(Path(prepared))
        self.query_one("#validate-train", Input).value = str(folder.train)
        validation = folder.validation_if_present()
        self.query_one("#validate-validation", Input).value = str(validation or "")
        if self.host.wizard_run.validated_dir != prepared and folder.has_train():
            # Freshly prepared files: check them at once (it takes a second or two).
            self.call_after_refresh(self.action_run_validation)

    def _model(self) -> tuple[BaseModel, CustomizationType]:
        run = self.host.wizard_run
        if not run.base_model_id:
            raise ValidationError("No base model chosen.", hint="Choose one in the model step.")
        return find_model(run.base_model_id), CustomizationType(run.customization_type)

    def _paths(self) -> tuple[Path, Path | None]:
        train = self.query_one("#validate-train", Input).value.strip()
        if not train:
            raise ValidationError("Which file?", hint="Type the path of a training JSONL file.")
        validation = self.query_one("#validate-validation", Input).value.strip()
        return Path(train).expanduser(), Path(validation).expanduser() if validation else None

    def _is_prepared(self, train: Path) -> bool:
        prepared = PreparedDir.of(self.host.wizard_run.prepared_dir)
        return prepared is not None and prepared.is_train_file(train)

    # ------------------------------------------------------------------ validating

    @on(Input.Submitted, "#validate-files Input")
    @on(Button.Pressed, "#validate")
    def action_run_validation(self) -> None:
        """Validate the files in the inputs."""
        if any(w.group == "validate" and w.is_running for w in self.workers):
            return
        try:
            model, kind = self._model()
            train, validation = self._paths()
        except BedrockTuneError as error:
            self.show_error(error)
            return
        self.clear_error()
        self._busy("Validating...")
        run = self.host.wizard_run
        # The S3 URIs the run will give the job are checked too (for its own files only).
        uris = (run.training_uri, run.validation_uri) if self._is_prepared(train) else (None, None)
        self.run_validation(train, validation, model, kind, run.bucket, uris)

    def _busy(self, status: str) -> None:
        self.query_one("#validate", Button).disabled = True
        self.query_one("#cancel-validate", Button).disabled = False
        for button_id in _FIX_BUTTONS:
            self.query_one(f"#{button_id}", Button).disabled = True
        self.query_one("#validate-progress", TaskProgress).start()
        self.query_one("#validate-status", Static).update(status)

    @work(thread=True, exclusive=True, exit_on_error=False, group="validate", name="validate")
    def run_validation(
        self,
        train: Path,
        validation: Path | None,
        model: BaseModel,
        kind: CustomizationType,
        bucket: str | None,
        uris: tuple[str | None, str | None],
    ) -> ValidationDone:
        """Validate in a thread; progress goes to the bar, Cancel stops it."""
        worker = get_current_worker()
        report = validate(
            train,
            model,
            kind,
            validation=validation,
            training_uri=uris[0],
            validation_uri=uris[1] if validation is not None else None,
            dataset_bucket=bucket,
            progress=self._progress_from_thread,
            cancelled=lambda: worker.is_cancelled,
        )
        return ValidationDone(report)

    def _progress_from_thread(self, done: int, total: int | None, what: str) -> None:
        self.app.call_from_thread(self._progress, done, total, what)

    def _progress(self, done: int, total: int | None, what: str) -> None:
        self.query_one("#validate-progress", TaskProgress).update(total=total, progress=done)
        share = f" {done * 100 // total}%" if total else ""
        self.query_one("#validate-status", Static).update(f"{what}{share}")

    @on(Button.Pressed, "#cancel-validate")
    def _cancel(self) -> None:
        for worker in self.workers:
            if worker.group == "validate":
                worker.cancel()
        self.query_one("#validate-progress", TaskProgress).hide()
        self._idle("Cancelled: nothing was changed.")

    def _idle(self, status: str | Text) -> None:
        self.query_one("#validate", Button).disabled = False
        self.query_one("#cancel-validate", Button).disabled = True
        self.query_one("#validate-status", Static).update(status)

    def worker_failed(self, name: str, error: BaseException) -> None:
        if name == PRICES_WORKER:
            return  # the estimate keeps the built-in figures, which say so
        verb = "Validation" if name == "validate" else "The fix-up"
        self.query_one("#validate-progress", TaskProgress).hide()
        self._idle(Text(f"{verb} failed; nothing was changed.", style="red"))
        self.show_error(error)

    # ------------------------------------------------------------------ the report

    @on(PricesRead)
    def _prices_read(self, message: PricesRead) -> None:
        self._prices = message.prices
        if self._report is not None and self._report.model.id == message.prices.model_id:
            self.query_one("#validate-summary", Static).update(self._summary(self._report))

    @on(ValidationDone)
    def _show(self, message: ValidationDone) -> None:
        report = self._report = message.report
        region = pricing_region(report.model, self.host.wizard_run.region)
        if self._prices is None or (self._prices.model_id, self._prices.region) != (
            report.model.id,
            region,
        ):
            self._prices = None
            lookup_prices(self, report.model, region)
        self.query_one("#validate-progress", TaskProgress).finish()
        errors, warnings = report.count("error"), report.count("warning")
        if report.ok:
            note = f" ({fmt.plural(warnings, 'warning')})" if warnings else ""
            verdict = Text(f"✔ Valid for {report.model.name}{note}.", style="green")
        else:
            counts = f"{fmt.plural(errors, 'error')}, {fmt.plural(warnings, 'warning')}"
            verdict = Text(f"✘ Not valid for {report.model.name}: {counts}.", style="red")
        if report.headline:
            verdict.append(f"\n{report.headline}", style="red")
        self._idle(verdict)
        self.query_one("#validate-summary", Static).update(self._summary(report))
        self._groups = list(report.groups)
        table = self.query_one("#validate-groups", DataTable)
        table.clear()
        for group in self._groups:
            first = group.problems[0].message if group.problems else group.title
            lines = ", ".join(map(str, group.first_lines[:6]))
            if group.count > len(group.first_lines[:6]) and group.first_lines:
                lines += ", ..."
            table.add_row(
                Text("✘", style="red") if group.severity == "error" else Text("!", style="yellow"),
                group.rule,
                f"{group.count:,}",
                Path(group.file).name if group.file else "(dataset)",
                lines or "-",
                first[:90],
            )
        self._show_problems(0)
        enabled = offered_fixes(report)
        for button_id, fix in _FIX_BUTTONS.items():
            self.query_one(f"#{button_id}", Button).disabled = fix not in enabled
        if self._groups:
            table.focus()  # the problems, for the keyboard (and into view)
        run = self.host.wizard_run
        if self._is_prepared(report.train.path):
            self.host.update_run(
                replace(run, validated_ok=report.ok, validated_dir=self._loaded_dir)
            )
        elif run.validated_ok is not None:
            # The step's tick is about the run's prepared files, and the screen now shows
            # another file's verdict: the tick goes until the run's files are checked again.
            self.host.update_run(replace(run, validated_ok=None, validated_dir=None))
            verdict.append(
                "\nThese are not the run's prepared files: validate those again for the step's ✔.",
                style="yellow",
            )
            self._idle(verdict)

    def _summary(self, report: ValidationReport) -> Text:
        text = Text()
        for file in report.files:
            stats = file.stats
            text.append(f"{file.path.name}", style="bold")
            text.append(f"  {fmt.plural(file.records, 'record')}, {fmt.size(file.size_bytes)}")
            if stats.records:
                limit = f"limit {stats.limit:,}" if stats.limit else "limit unknown"
                text.append(
                    f"\n  tokens per record: min {stats.minimum:,}  median {stats.median:,}  "
                    f"p95 {stats.p95:,}  max {stats.maximum:,}  ({limit}); "
                    f"total {stats.total:,}\n"
                )
            else:
                text.append("\n")
        histogram = report.train.stats.histogram
        top = max((b.count for b in histogram), default=0) or 1
        if histogram:
            ceiling = report.train.stats.limit
            against = (
                f"the limit of {ceiling:,}" if ceiling else "the largest record (no limit known)"
            )
            text.append(f"  {report.train.path.name} by estimated tokens, against {against}:\n")
        for bucket in histogram:
            label = f"> {bucket.low:,}" if bucket.over_limit else f"≤ {bucket.high:,}"
            bar = "█" * max(1 if bucket.count else 0, round(bucket.count / top * 30))
            style = "red" if bucket.over_limit else ("yellow" if bucket is histogram[-1] else "")
            text.append(f"  {label:>10} ")
            text.append(f"{bar:<30}", style=style)
            text.append(f" {bucket.count:,}\n")
        text.append(f"  Estimated with {ESTIMATE_METHOD}.\n", style="dim")
        text.append(self._estimate(report))
        return text

    def _estimate(self, report: ValidationReport) -> Text:
        model = report.model
        custom = model.customization(report.rules.kind)
        spec = custom.hyperparameter("epochCount") if custom else None
        epochs = int(spec.default) if spec is not None and spec.default is not None else 1
        prices = self._prices if self._prices and self._prices.model_id == model.id else None
        cost = estimate(model, report.train.stats.total, epochs, prices=prices)
        text = Text("\nEstimate", style="bold")
        text.append(f" (USD, prices for {cost.prices.region})\n")
        for label, line in estimate_lines(cost, model):
            text.append(f"  {label:<10} {line}\n")
        return text

    @on(DataTable.RowHighlighted, "#validate-groups")
    def _group_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_problems(event.cursor_row)

    def _show_problems(self, index: int) -> None:
        table = self.query_one("#validate-problems", DataTable)
        table.clear()
        self._shown = list(self._groups[index].problems) if 0 <= index < len(self._groups) else []
        for problem in self._shown:
            table.add_row(
                "-" if problem.line is None else str(problem.line),
                problem.path or "-",
                problem.message[:110],
            )

    @on(DataTable.RowSelected, "#validate-problems")
    def _problem_chosen(self, event: DataTable.RowSelected) -> None:
        if not 0 <= event.cursor_row < len(self._shown) or self._report is None:
            return
        problem = self._shown[event.cursor_row]
        if problem.line is None or problem.offset is None:
            self.notify("This problem is about the whole file, not one record.")
            return
        path = Path(problem.file)
        try:
            raw = read_record(path, problem.offset)
        except OSError as error:
            self.show_error(BedrockTuneError(f"Cannot read {path}: {error.strerror}."))
            return
        same_line = [
            p
            for g in self._report.groups
            for p in g.problems
            if p.file == problem.file and p.line == problem.line
        ]
        self.app.push_screen(
            ProblemRecordScreen(f"{path.name}, line {problem.line}", same_line, raw)
        )

    # ------------------------------------------------------------------ fix-ups

    @on(Button.Pressed, "#validate-fixups Button")
    def _fix_pressed(self, event: Button.Pressed) -> None:
        fix = _FIX_BUTTONS.get(event.button.id or "")
        if fix is None or self._report is None:
            return
        report = self._report
        self.clear_error()
        self._busy(f"{fix.label}...")
        validation = report.validation.path if report.validation else None
        prepared = self._is_prepared(report.train.path)
        bucket = self.host.wizard_run.bucket
        self.run_fixup(
            fix,
            report.train.path,
            validation,
            report.rules.model,
            report.rules.kind,
            bucket,
            prepared,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="validate", name="fixup")
    def run_fixup(
        self,
        fix: Fix,
        train: Path,
        validation: Path | None,
        model: BaseModel,
        kind: CustomizationType,
        bucket: str | None,
        prepared: bool,
    ) -> PreparedFolderFixed | FilesFixed:
        """Write the fixed files in a thread (`prepared`: the run's prepared folder, whose
        fixed files go to a new folder)."""
        worker = get_current_worker()
        rules = rules_for(model, kind, dataset_bucket=bucket)
        progress = self._progress_from_thread
        if prepared:
            return PreparedFolderFixed(
                fix_prepared(
                    train.parent,
                    fix,
                    rules,
                    progress=progress,
                    cancelled=lambda: worker.is_cancelled,
                )
            )
        results = [
            apply_fix(train, fix, rules, progress=progress, cancelled=lambda: worker.is_cancelled)
        ]
        if validation is not None:
            results.append(
                apply_fix(
                    validation,
                    fix,
                    rules,
                    reference=train,
                    progress=progress,
                    cancelled=lambda: worker.is_cancelled,
                )
            )
        return FilesFixed(tuple(results))

    @on(PreparedFolderFixed)
    def _prepared_folder_fixed(self, message: PreparedFolderFixed) -> None:
        result = message.fixed
        note = f"\nThe run now uses {result.directory}; {result.source} is unchanged."
        self.host.update_run(
            replace(self.host.wizard_run, prepared_dir=str(result.directory), validated_ok=None)
        )
        self._fill_paths()
        self._fixed(result.results, note)

    @on(FilesFixed)
    def _files_fixed(self, message: FilesFixed) -> None:
        results = message.results
        self.query_one("#validate-train", Input).value = str(results[0].path)
        if len(results) > 1:
            self.query_one("#validate-validation", Input).value = str(results[1].path)
        self._fixed(results, "\nThe source files are unchanged.")

    def _fixed(self, results: Sequence[FixResult], note: str) -> None:
        changed = sum(r.changed for r in results)
        changed_text = f"{fmt.plural(changed, 'record')} changed"
        text = Text(f"✔ {results[0].fix.label}: {changed_text}.\n", style="green")
        text.append("\n".join(r.summary for r in results))
        text.append(note, style="dim")
        self.query_one("#validate-fix-status", Static).update(text)
        self.notify(f"{changed_text}; validating the new files.", title="Fix-up")
        self.action_run_validation()
