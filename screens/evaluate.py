"""Evaluate on held-out data: N test records through the tuned and the base model (bounded
concurrency, progress, cancel), ROUGE-1/2/L and exact match for each, the per-record table
(worst first), and a saved JSON / CSV report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Input, Label, ProgressBar, Static, Switch
from textual.worker import get_current_worker

from core import format as fmt
from core.catalog.lookup import find_model
from core.data.prepared import PreparedDir
from core.errors import BedrockTuneError, ValidationError
from core.evaluation.evaluate import Report, evaluate, load_test_records, save_report
from core.serving.chat import base_inference_id
from screens.base import StepScreen
from screens.workers import WorkerResult

if TYPE_CHECKING:
    from core.aws import AwsContext


@dataclass
class EvaluationDone(WorkerResult):
    """The scores, and where the report was saved."""

    report: Report
    saved: Path


class EvaluateScreen(StepScreen):
    """Score the tuned model against the base model on the test split."""

    STEP_ID = "evaluate"
    STEP_TITLE = "Evaluate"

    def compose_body(self) -> ComposeResult:
        yield Label("How much better is the tuned model?", classes="step-heading")
        yield Static("", id="eval-source")
        with Horizontal(classes="button-row"):
            yield Label("Records", classes="inline-label")
            yield Input("20", id="count", type="integer")
            yield Label("Compare with the base model", classes="inline-label")
            yield Switch(value=True, id="eval-compare")
            yield Button("Run", id="run", variant="primary")
            yield Button("Cancel", id="cancel-eval", disabled=True)
        yield ProgressBar(id="eval-progress", show_eta=False)
        yield Static("", id="eval-summary")
        table: DataTable[str] = DataTable(id="eval-rows", cursor_type="row")
        yield table

    def on_mount(self) -> None:
        self.query_one("#eval-rows", DataTable).add_columns(
            "line", "tuned ROUGE-L", "base ROUGE-L", "reference", "tuned answer"
        )
        self._describe()

    def on_screen_resume(self) -> None:
        self._describe()

    def _test_file(self) -> Path:
        return PreparedDir(Path(self.host.wizard_run.prepared_dir or ".")).test

    def _describe(self) -> None:
        self.query_one("#eval-source", Static).update(
            Text.assemble(("Test records ", "bold"), str(self._test_file()))
        )

    @on(Button.Pressed, "#run")
    def _run_pressed(self) -> None:
        run = self.host.wizard_run
        try:
            count = int(self.query_one("#count", Input).value or "0")
            if count <= 0:
                raise ValueError
        except ValueError:
            self.show_error(ValidationError("Records must be a whole number above 0."))
            return
        if not run.serving_arn or not run.base_model_id:
            self.show_error(BedrockTuneError("Nothing deployed.", hint="Deploy the model first."))
            return
        try:
            context = self.require_context()
        except BedrockTuneError as error:
            self.show_error(error)
            return
        base = (
            base_inference_id(find_model(run.base_model_id))
            if self.query_one("#eval-compare", Switch).value
            else None
        )
        self.clear_error()
        self.query_one("#run", Button).disabled = True
        self.query_one("#cancel-eval", Button).disabled = False
        self.run_evaluation(context, self._test_file(), count, run.serving_arn, base)

    @work(thread=True, exclusive=True, exit_on_error=False, group="evaluate", name="evaluate")
    def run_evaluation(
        self, context: AwsContext, test_file: Path, count: int, tuned: str, base: str | None
    ) -> EvaluationDone:
        """Evaluate and save the report beside the test file (everything it needs is passed
        in: a worker thread reads no widget)."""
        worker = get_current_worker()
        records = load_test_records(test_file, limit=count)

        def progress(done: int, total: int) -> None:
            self.app.call_from_thread(self._progress, done, total)

        report = evaluate(
            context, records, tuned, base, progress=progress, cancelled=lambda: worker.is_cancelled
        )
        json_path, _ = save_report(report, test_file.parent)
        return EvaluationDone(report, json_path)

    def _progress(self, done: int, total: int) -> None:
        self.query_one("#eval-progress", ProgressBar).update(total=total, progress=done)

    @on(Button.Pressed, "#cancel-eval")
    def _cancel(self) -> None:
        for worker in self.workers:
            if worker.group == "evaluate":
                worker.cancel()
        self.query_one("#run", Button).disabled = False
        self.query_one("#cancel-eval", Button).disabled = True

    @on(EvaluationDone)
    def _show_report(self, message: EvaluationDone) -> None:
        report, path = message.report, message.saved
        self.query_one("#run", Button).disabled = False
        self.query_one("#cancel-eval", Button).disabled = True
        text = Text()
        for label, which in (("Tuned", "tuned"), ("Base ", "base")):
            summary = report.summary(which)
            if summary:
                text.append(f"{label}  ", style="bold")
                text.append(
                    f"ROUGE-1 {summary['rouge1']:.3f}  ROUGE-2 {summary['rouge2']:.3f}  "
                    f"ROUGE-L {summary['rougeL']:.3f}  exact {summary['exact_match']:.0%}  "
                    f"({int(summary['answered'])} answered)\n"
                )
        failed = sum(1 for r in report.rows if r.tuned.error)
        if failed:
            text.append(
                f"{fmt.plural(failed, 'record')} failed on the tuned model.\n", style="yellow"
            )
        text.append(f"Report saved: {path} (and evaluation.csv)", style="dim")
        self.query_one("#eval-summary", Static).update(text)
        table = self.query_one("#eval-rows", DataTable)
        table.clear()
        ordered = sorted(
            report.rows, key=lambda r: r.tuned.scores.rouge_l if r.tuned.scores else -1
        )
        for row in ordered:
            tuned = row.tuned.scores.rouge_l if row.tuned.scores else None
            base = row.base.scores.rouge_l if row.base and row.base.scores else None
            table.add_row(
                str(row.record.line),
                "failed" if tuned is None else f"{tuned:.3f}",
                "-" if base is None else f"{base:.3f}",
                row.record.reference[:60],
                (row.tuned.answer or row.tuned.error or "")[:60],
            )

    def worker_failed(self, name: str, error: BaseException) -> None:
        self.query_one("#run", Button).disabled = False
        self.query_one("#cancel-eval", Button).disabled = True
        self.show_error(error)
