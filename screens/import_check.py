"""The pre-import check, as the validate step reports a dataset: what the model is (architecture,
parameters, dtype, context, the APIs it will answer), then every problem with its rule, file and
fix, grouped errors first. A Hugging Face model is downloaded first (only what an import needs),
with a progress bar. Nothing is uploaded or created here."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Label, ProgressBar, Static

from core import format as fmt
from core.importing.check import check_model
from core.importing.report import ImportCheckReport, ImportProblem
from core.importing.source import DownloadProgress, open_source, parse_source
from screens.base import StepScreen
from screens.widgets.error_panel import ErrorPanel
from screens.workers import WorkerResult

if TYPE_CHECKING:
    from core.aws import AwsContext


@dataclass
class ModelChecked(WorkerResult):
    """The source was read (downloaded when it is on the hub) and checked."""

    source: str
    report: ImportCheckReport


def facts_text(report: ImportCheckReport) -> Text:
    """What the check learned about the model."""
    facts = report.facts
    text = Text()
    rows = [
        (
            "Architecture",
            f"{facts.architecture} (model_type {facts.model_type})" if facts.model_type else None,
        ),
        ("Family", facts.family or ("not supported" if facts.model_type else None)),
        (
            "Parameters",
            f"{facts.parameters:,} in {fmt.plural(facts.shards, 'shard')}"
            if facts.parameters
            else None,
        ),
        (
            "Weights",
            f"{fmt.size(facts.weights_bytes)}, {facts.dtype or 'dtype unknown'}"
            if facts.weights_bytes
            else None,
        ),
        ("Context", f"{facts.context_length:,} tokens" if facts.context_length else None),
        ("Answers", ", ".join(facts.apis) if facts.apis else None),
        (
            "Upload",
            f"{fmt.plural(len(report.upload), 'file')}, {fmt.size(report.upload_bytes)}"
            if report.upload
            else None,
        ),
    ]
    for label, value in rows:
        if value:
            text.append(f"{label:<13}", style="bold")
            text.append(f"{value}\n")
    return text


def problem_text(problem: ImportProblem) -> Text:
    """One problem: mark, rule, file, message, and the fix (code kept as it is)."""
    error = problem.severity == "error"
    text = Text()
    text.append("✘ " if error else "! ", style="bold red" if error else "bold yellow")
    text.append(problem.rule, style="bold")
    if problem.file:
        text.append(f" [{problem.file}]", style="dim")
    text.append(f"  {problem.title}\n")
    text.append(f"  {problem.message}\n")
    text.append("  fix: ", style="bold")
    text.append(problem.fix + "\n", style="cyan")
    return text


def verdict(report: ImportCheckReport) -> Text:
    """The one-line verdict."""
    if report.ok:
        warnings = f" ({fmt.plural(len(report.warnings), 'warning')})" if report.warnings else ""
        return Text(f"✔ Ready to import{warnings}.", style="bold green")
    return Text(
        f"✘ Not importable: {fmt.plural(len(report.errors), 'error')}, "
        f"{fmt.plural(len(report.warnings), 'warning')}. Fix them and check again.",
        style="bold red",
    )


class ImportCheckScreen(StepScreen):
    """Check the model before anything is uploaded."""

    STEP_ID = "import-check"
    STEP_TITLE = "Import check"
    CSS_PATH = "styles/importing.tcss"

    BINDINGS = [Binding("ctrl+r", "check", "Check again", id="check-model")]
    """Ctrl+R reads and checks the source again (after fixing the model); Ctrl+N goes on once
    it passes."""

    def __init__(self) -> None:
        super().__init__()
        self._checked: str | None = None
        """The source the shown report is about."""

    def compose_body(self) -> ComposeResult:
        yield Label("Will Custom Model Import take this model?", classes="step-heading")
        yield Static("", id="check-source")
        yield ProgressBar(id="check-download", show_eta=False)
        yield Static("", id="check-verdict")
        yield Static("", id="check-facts")
        yield Static("", id="check-problems")
        with Horizontal(classes="button-row step-actions"):
            yield Button("Check again", id="check")
            yield Button("Next: infrastructure", id="check-next", variant="primary", disabled=True)

    def on_mount(self) -> None:
        self.query_one("#check-download").display = False
        self._start_if_new()

    def on_screen_resume(self) -> None:
        self._start_if_new()

    def _start_if_new(self) -> None:
        source = self.host.wizard_run.model_source
        if source and source != self._checked:
            self.start_check()

    def action_check(self) -> None:
        """Ctrl+R: check again (not while a check is running)."""
        if any(w.group == "import-check" and w.is_running for w in self.workers):
            self.notify("The check is running.")
            return
        self.start_check()

    @on(Button.Pressed, "#check")
    def start_check(self) -> None:
        """Read and check the run's source in a worker."""
        run = self.host.wizard_run
        if not run.model_source:
            return
        self.clear_error()
        source = parse_source(run.model_source)
        self.query_one("#check-source", Static).update(
            Text.assemble(("Checking ", "bold"), str(source), ("...", "dim"))
        )
        self.query_one("#check-next", Button).disabled = True
        self.query_one("#check-download").display = source.kind == "hf"
        self.check_source(run.model_source, self.host.aws_context(), run.region)

    @work(thread=True, exclusive=True, exit_on_error=False, group="import-check", name="check")
    def check_source(
        self, source_text: str, context: AwsContext | None, region: str | None
    ) -> ModelChecked:
        """Open the source (downloading a hub model, with progress) and run every rule."""

        def downloaded(progress: DownloadProgress) -> None:
            self.app.call_from_thread(self._download_progress, progress)

        files = open_source(parse_source(source_text), context=context, on_progress=downloaded)
        return ModelChecked(source_text, check_model(files, region=region))

    def _download_progress(self, progress: DownloadProgress) -> None:
        self.query_one("#check-download", ProgressBar).update(
            total=progress.total_bytes or 1, progress=progress.done_bytes
        )

    @on(ModelChecked)
    def _checked_model(self, message: ModelChecked) -> None:
        report = message.report
        self._checked = message.source
        self.query_one("#check-source", Static).update(
            Text.assemble(("Checked ", "bold"), report.source)
        )
        self.query_one("#check-verdict", Static).update(verdict(report))
        self.query_one("#check-facts", Static).update(facts_text(report))
        problems = [problem_text(p) for p in (*report.errors, *report.warnings)]
        self.query_one("#check-problems", Static).update(Group(*problems))
        self.query_one("#check-next", Button).disabled = not report.ok
        run = self.host.wizard_run
        if run.model_source == message.source:
            self.host.update_run(
                replace(run, model_checked_ok=report.ok, model_architecture=report.facts.model_type)
            )

    def accept(self) -> bool:
        """Ctrl+N moves on only once the model passed the check (as the Next button does)."""
        if any(w.group == "import-check" and w.is_running for w in self.workers):
            self.notify("The check is running.")
            return True
        if self.query_one("#check-next", Button).disabled:
            self.notify(
                "Fix what the check reports, then check again (Ctrl+R).", severity="warning"
            )
            return True
        return False

    @on(Button.Pressed, "#check-next")
    def _next(self) -> None:
        self.host.next_step(self.STEP_ID)

    def worker_failed(self, name: str, error: BaseException) -> None:
        self.query_one("#check-source", Static).update(
            Text("The source could not be read.", style="bold red")
        )
        self.query_one("#check-download").display = False
        self.show_error(error)
        self.query_one(ErrorPanel).reveal()
