"""Evaluate on held-out data: N test records through the tuned and the base model (bounded
concurrency, progress, cancel), ROUGE-1/2/L and exact match with 95% confidence intervals, and
on request SQL run in SQLite, an LLM judge by a rubric, and batch inference; the estimate (both
ways where batch is offered) shown before it runs; the per-record table (worst first); the
report saved as JSON, CSV and HTML (`o` opens it) and stored with the run; `c` compares runs.

The form opens with the run's last evaluation choices (`Run.evaluation`: from an earlier run
of this step, `bedrock-tune evaluate --run`, or the recipe the run was opened from), else with
what fits the run's template; running an evaluation keeps its choices with the run.

Workers return typed results (`EstimateReady`, `EvaluationDone`), handled by type; a batch
job's progress is posted while it runs (`BatchJobChanged`)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, DataTable, Input, Label, Select, Static, Switch
from textual.worker import get_current_worker

from core.catalog.lookup import builtin_models, find_model
from core.data.prepared import PreparedDir
from core.errors import BedrockTuneError, NotFoundError, ValidationError
from core.evaluation.batch import BatchStatus
from core.evaluation.choices import TEMPLATE_RUBRIC, default_rubric_reference, prepare_evaluation
from core.evaluation.costs import judge_cost_text
from core.evaluation.evaluate import Options, evaluate, load_test_records
from core.evaluation.rubrics import PRESETS
from core.run.routes import serving_target
from core.run.types import BatchChoice, EvaluationChoices
from screens.base import StepScreen
from screens.widgets.task_progress import TaskProgress
from screens.workers import WorkerResult

if TYPE_CHECKING:
    from core.aws import AwsContext
    from core.evaluation.report import SavedReport
    from core.registry import Registry

CUSTOM_RUBRIC = "custom"
"""The rubric Select's value for a custom rubric the run keeps as TOML (from a recipe or
`bedrock-tune evaluate --rubric FILE`); the template's own is `TEMPLATE_RUBRIC`."""
SIDES = (("Tuned", "tuned"), ("Base ", "base"))
SHOWN = (
    ("judge", "judge"),
    ("sql_execution_match", "SQL exec"),
    ("rouge1", "ROUGE-1"),
    ("rouge2", "ROUGE-2"),
    ("rougeL", "ROUGE-L"),
)


def _judge_value(model: str | None) -> str | None:
    """The judge Select's value (an inference id) for a kept judge (a name or any id)."""
    if not model:
        return None
    try:
        return find_model(model).inference_id
    except NotFoundError:
        return None


@dataclass
class EstimateReady(WorkerResult):
    """What the evaluation would cost and take, as lines to show."""

    lines: list[str]


class BatchJobChanged(Message):
    """A batch job of the evaluation moved on (posted while the worker runs)."""

    def __init__(self, side: str, status: BatchStatus) -> None:
        super().__init__()
        self.side = side
        self.status = status


@dataclass
class EvaluationDone(WorkerResult):
    """The report (as JSON data) and where it was saved."""

    data: dict[str, Any]
    saved: SavedReport
    chosen: EvaluationChoices
    """What was chosen for it (the run keeps it)."""


@dataclass(frozen=True)
class Choices:
    """What the evaluate step's controls say (read on the event loop, handed to workers)."""

    count: int
    test_file: Path
    tuned: str
    base: str | None
    options: Options
    chosen: EvaluationChoices
    """The choices as the run keeps them."""


def _interval(entry: Any) -> str:
    if not isinstance(entry, dict) or entry.get("mean") is None:
        return "-"
    return f"{entry['mean']:.3f} [{entry['ci_low']:.3f}, {entry['ci_high']:.3f}]"


class EvaluateScreen(StepScreen):
    """Score the tuned model against the base model on the test split."""

    STEP_ID = "evaluate"
    STEP_TITLE = "Evaluate"
    CSS_PATH = "styles/evaluate.tcss"
    BINDINGS = [
        Binding("ctrl+r", "run_evaluation", "Run", id="run-evaluation"),
        Binding("o", "open_report", "Open report", id="eval-open"),
        Binding("c", "compare_runs", "Compare runs", id="eval-compare-runs"),
    ]
    """Ctrl+R (or Enter in the Records field) runs the evaluation."""

    _saved: SavedReport | None = None
    _custom_rubric: str | None = None
    """A custom rubric's TOML, when the kept choices have one."""

    def compose_body(self) -> ComposeResult:
        yield Label("How much better is the tuned model?", classes="step-heading")
        yield Static("", id="eval-source")
        with Horizontal(classes="button-row"):
            yield Label("Test file", classes="inline-label")
            yield Input(
                placeholder="a JSONL test file (default: the prepared test.jsonl)",
                id="eval-test-file",
            )
        with Horizontal(classes="button-row"):
            yield Label("Records", classes="inline-label")
            yield Input("20", id="count", type="integer")
            yield Label("Compare with the base model", classes="inline-label")
            yield Switch(value=True, id="eval-compare")
        yield Static("", id="count-error", classes="field-error")
        with Horizontal(classes="button-row", id="eval-options"):
            yield Label("Judge", classes="inline-label")
            yield Select[str](self._judges(), id="judge", prompt="no LLM judge")
            yield Label("Rubric", classes="inline-label")
            yield Select[str](
                [(f"preset:{name}", name) for name in PRESETS],
                id="rubric",
                allow_blank=False,
                value="summarization",
            )
            yield Label("SQL", classes="inline-label")
            yield Switch(value=False, id="eval-sql")
            yield Label("Batch", classes="inline-label")
            yield Switch(value=False, id="eval-batch")
        yield Static("", id="eval-estimate")
        yield TaskProgress(id="eval-progress")
        with Horizontal(classes="button-row step-actions"):
            yield Button("Run", id="run", variant="primary")
            yield Button("Cancel", id="cancel-eval", disabled=True)
        yield Static("", id="eval-summary")
        with Horizontal(classes="button-row"):
            yield Button("Open report (o)", id="open-report", disabled=True)
            yield Button("Compare runs (c)", id="compare-runs")
        table: DataTable[str] = DataTable(id="eval-rows", cursor_type="row")
        yield table

    @staticmethod
    def _judges() -> list[tuple[str, str]]:
        """Catalog base models a judge can be (by name; the value is the inference id)."""
        return [
            (model.name, model.inference_id)
            for model in builtin_models()
            if model.lifecycle.value == "ACTIVE"
        ]

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#eval-rows", DataTable).add_columns(
            "line",
            "tuned ROUGE-L",
            "base ROUGE-L",
            "tuned judge",
            "tuned SQL",
            "reference",
            "tuned answer",
        )
        self._describe()

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self._describe()

    def _test_file(self) -> Path | None:
        """The JSONL file typed in, else the run's prepared test.jsonl (None: neither, as on
        the import-only route, which prepares no data)."""
        typed = self.query_one("#eval-test-file", Input).value.strip()
        if typed:
            return Path(typed).expanduser()
        prepared = self.host.wizard_run.prepared_dir
        return PreparedDir(Path(prepared)).test if prepared else None

    def _template_data(self) -> dict[str, Any]:
        text = self.host.wizard_run.template_toml
        if not text:
            return {}
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            return {}

    def _describe(self) -> None:
        test_file = self._test_file()
        self.query_one("#eval-source", Static).update(
            Text.assemble(("Test records ", "bold"), str(test_file))
            if test_file
            else Text(
                "This run prepared no test file: type the path of a JSONL file with reference "
                "answers (any format bedrock-tune prepares) below.",
                style="yellow",
            )
        )
        template = self._template_data()
        rubric = self.query_one("#rubric", Select)
        options = [(f"preset:{name}", name) for name in PRESETS]
        if "rubric" in template:
            options.append(("the template's rubric", TEMPLATE_RUBRIC))
        rubric.set_options(options)
        kept = self.host.wizard_run.evaluation
        reference = (kept.rubric if kept else None) or default_rubric_reference(
            self.host.wizard_run.template_toml
        )
        self._custom_rubric = None
        if reference.startswith("preset:") and reference.removeprefix("preset:") in PRESETS:
            rubric.value = reference.removeprefix("preset:")
        elif reference == TEMPLATE_RUBRIC and "rubric" in template:
            rubric.value = TEMPLATE_RUBRIC
        elif reference != TEMPLATE_RUBRIC and not reference.startswith("preset:"):
            self._custom_rubric = reference
            rubric.set_options([*options, ("the run's own rubric", CUSTOM_RUBRIC)])
            rubric.value = CUSTOM_RUBRIC
        else:
            rubric.value = "summarization"
        if kept is None:
            self.query_one("#eval-sql", Switch).value = template.get("name") == "text-to-sql"
        else:
            self._fill_from(kept)
        self._estimate_soon()

    def _fill_from(self, kept: EvaluationChoices) -> None:
        """The form as the run's kept choices say (the rubric is set by `_describe`)."""
        self.query_one("#count", Input).value = str(kept.records)
        self.query_one("#eval-compare", Switch).value = kept.compare_base
        self.query_one("#eval-sql", Switch).value = kept.sql
        self.query_one("#eval-batch", Switch).value = kept.batch == "on"
        judge = self.query_one("#judge", Select)
        value = _judge_value(kept.judge_model)
        if value is None or value not in {v for _, v in self._judges()}:
            judge.clear()  # (a judge no longer offered: none, rather than a wrong one)
        else:
            judge.value = value

    # ------------------------------------------------------------------ the choices

    def _rubric_reference(self) -> str:
        value = str(self.query_one("#rubric", Select).value)
        if value == TEMPLATE_RUBRIC:
            return TEMPLATE_RUBRIC
        if value == CUSTOM_RUBRIC and self._custom_rubric:
            return self._custom_rubric
        return f"preset:{value if value in PRESETS else 'summarization'}"

    def _chosen(self, count: int) -> EvaluationChoices:
        """The form as choices the run keeps (what the form does not show, such as the seed or
        batch `off`, is kept from the run's earlier choices)."""
        kept = self.host.wizard_run.evaluation or EvaluationChoices()
        judge_value = self.query_one("#judge", Select).value
        judge = str(judge_value) if isinstance(judge_value, str) else None
        batch: BatchChoice = (
            "on"
            if self.query_one("#eval-batch", Switch).value
            else ("off" if kept.batch == "off" else "auto")
        )
        return replace(
            kept,
            records=count,
            compare_base=self.query_one("#eval-compare", Switch).value,
            sql=self.query_one("#eval-sql", Switch).value,
            judge_model=judge,
            rubric=self._rubric_reference() if judge else None,
            batch=batch,
        )

    def _choices(self) -> Choices:
        """The controls' values (raises ValidationError naming what is wrong)."""
        run = self.host.wizard_run
        try:
            count = int(self.query_one("#count", Input).value or "0")
        except ValueError:
            count = 0
        if count <= 0:
            raise ValidationError("Records must be a whole number above 0.")
        tuned = serving_target(run)  # an imported model on the import routes
        if not tuned:
            raise BedrockTuneError("Nothing deployed.", hint="Deploy (or import) the model first.")
        chosen = self._chosen(count)
        # An open-weight model trained on SageMaker has no Bedrock base: nothing to compare.
        prepared = prepare_evaluation(
            chosen, run, registry=self.host.registry(), where="the Evaluate step"
        )
        test_file = self._test_file()
        if test_file is None:
            raise ValidationError(
                "No test file: this run prepared none.",
                hint="Type the path of a JSONL test file (records with a reference answer).",
            )
        return Choices(count, test_file, tuned, prepared.base, prepared.options, chosen)

    # ------------------------------------------------------------------ the estimate

    @on(Input.Changed, "#eval-test-file")
    def _test_file_changed(self) -> None:
        test_file = self._test_file()
        self.query_one("#eval-source", Static).update(
            Text.assemble(("Test records ", "bold"), str(test_file or "-"))
        )
        self._estimate_soon()

    @on(Input.Changed, "#count")
    @on(Switch.Changed)
    @on(Select.Changed)
    def _estimate_soon(self) -> None:
        try:
            choices = self._choices()
        except BedrockTuneError as error:
            self.query_one("#eval-estimate", Static).update(Text(error.message, style="dim"))
            return
        context = self.host.aws_context()
        region = context.region if context else self.host.wizard_run.region or "us-east-1"
        self.estimate(choices, region, context)

    @work(thread=True, exclusive=True, exit_on_error=False, group="estimate")
    def estimate(
        self, choices: Choices, region: str, context: AwsContext | None = None
    ) -> EstimateReady:
        """What the evaluation would cost and take (reads the test file and asks the Price List
        off the event loop)."""
        from core.evaluation.plan import plan_evaluation
        from core.pricing.service import PriceService

        try:
            records = load_test_records(choices.test_file, limit=choices.count)
        except BedrockTuneError as error:
            return EstimateReady([error.message])
        prices = PriceService(context if context and context.has_credentials() else None)
        plan = plan_evaluation(
            records, choices.tuned, choices.base, choices.options, region, prices=prices
        )
        return EstimateReady(plan.text())

    @on(EstimateReady)
    def _show_estimate(self, message: EstimateReady) -> None:
        self.query_one("#eval-estimate", Static).update(Text("\n".join(message.lines)))

    # ------------------------------------------------------------------ running

    def _count_is_whole(self) -> bool:
        """Whether the record count is a whole number above 0; when it is not, that is said at
        the field, where it is fixed (not in the panel under the table)."""
        field = self.query_one("#count", Input)
        try:
            whole = int(field.value or "0") > 0
        except ValueError:
            whole = False
        self.query_one("#count-error", Static).update(
            "" if whole else Text("✘ Records must be a whole number above 0.", style="red")
        )
        field.set_class(not whole, "-invalid")
        if not whole:
            field.focus()
        return whole

    @on(Input.Submitted, "#count")
    @on(Button.Pressed, "#run")
    def action_run_evaluation(self) -> None:
        """Run the evaluation with the options as set."""
        if any(w.group == "evaluate" and w.is_running for w in self.workers):
            return
        if not self._count_is_whole():
            return
        try:
            choices = self._choices()
            context = self.require_context()
        except BedrockTuneError as error:
            self.show_error(error)
            return
        self.clear_error()
        self.query_one("#run", Button).disabled = True
        self.query_one("#cancel-eval", Button).disabled = False
        self.query_one("#eval-progress", TaskProgress).start()
        self.run_evaluation(context, choices, self.host.registry(), self.host.wizard_run.run_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="evaluate", name="evaluate")
    def run_evaluation(
        self, context: AwsContext, choices: Choices, registry: Registry, run_id: str | None
    ) -> EvaluationDone:
        """Evaluate, save the report beside the test file and store it with the run
        (everything it needs is passed in: a worker thread reads no widget)."""
        from core.evaluation.report import report_json, save_report
        from core.evaluation.store import EvaluationStore
        from core.pricing.service import PriceService

        worker = get_current_worker()
        records = load_test_records(choices.test_file, limit=choices.count)

        def progress(done: int, total: int) -> None:
            self.app.call_from_thread(self._progress, done, total)

        def batch_changed(side: str, status: BatchStatus) -> None:
            self.post_message(BatchJobChanged(side, status))

        report = evaluate(
            context,
            records,
            choices.tuned,
            choices.base,
            progress=progress,
            cancelled=lambda: worker.is_cancelled,
            options=choices.options,
            on_batch=batch_changed,
        )
        title = f"Evaluation of run {run_id}" if run_id else "bedrock-tune evaluation"
        prices = PriceService(context)
        saved = save_report(report, choices.test_file.parent, title=title, prices=prices)
        data = report_json(report, prices)
        EvaluationStore(registry).save(run_id, data)
        return EvaluationDone(data, saved, choices.chosen)

    def _progress(self, done: int, total: int) -> None:
        self.query_one("#eval-progress", TaskProgress).update(total=total, progress=done)

    @on(BatchJobChanged)
    def _batch_changed(self, message: BatchJobChanged) -> None:
        status = message.status
        self.query_one("#eval-estimate", Static).update(
            Text(
                f"{message.side} model batch job: {status.status}, "
                f"{status.processed}/{status.total} records",
                style="bold",
            )
        )

    @on(Button.Pressed, "#cancel-eval")
    def _cancel(self) -> None:
        for worker in self.workers:
            if worker.group == "evaluate":
                worker.cancel()
        self.query_one("#eval-progress", TaskProgress).hide()
        self.query_one("#run", Button).disabled = False
        self.query_one("#cancel-eval", Button).disabled = True

    @on(EvaluationDone)
    def _show_report(self, message: EvaluationDone) -> None:
        data = message.data
        self._saved = message.saved
        # The run keeps how it was evaluated: its recipe then evaluates the same way.
        self.host.update_run(replace(self.host.wizard_run, evaluation=message.chosen))
        self.query_one("#eval-progress", TaskProgress).finish()
        self.query_one("#run", Button).disabled = False
        self.query_one("#cancel-eval", Button).disabled = True
        self.query_one("#open-report", Button).disabled = False
        text = Text()
        for label, which in SIDES:
            side = data.get(which)
            if not side or not side.get("answered"):
                continue
            text.append(f"{label}  ", style="bold")
            parts = [f"{name} {_interval(side[key])}" for key, name in SHOWN if key in side]
            exact = side.get("exact_match") or {}
            if exact.get("mean") is not None:
                parts.append(f"exact {exact['mean']:.0%}")
            text.append("  ".join(parts) + f"  ({side['answered']} answered)\n")
        if data.get("verdict"):
            text.append(data["verdict"] + "\n", style="bold green")
        failed = (data.get("tuned") or {}).get("failed", 0)
        if failed:
            noun = "record" if failed == 1 else "records"
            text.append(f"{failed} {noun} failed on the tuned model.\n", style="yellow")
        judge = data.get("judge")
        if judge:
            tuned = judge.get("tuned") or {}
            text.append(
                f"Judge {judge['model']}: {judge['calls']} calls, {judge_cost_text(judge)}; "
                f"{tuned.get('unparseable', 0)} unparseable, {tuned.get('failed', 0)} failed.\n"
            )
        sql = (data.get("sql") or {}).get("tuned")
        if sql:
            text.append(
                f"SQL: {sql['execution_match']} of {sql['scored']} return the reference's rows; "
                f"{sql['does_not_parse']} do not parse, {sql['runs_with_an_error']} fail, "
                f"{sql['timed_out']} timed out.\n"
            )
        for note in data.get("notes") or []:
            text.append(note + "\n", style="yellow")
        text.append(
            f"Report saved: {message.saved.json} (and evaluation.csv, evaluation.html: press o)",
            style="dim",
        )
        self.query_one("#eval-summary", Static).update(text)
        self._fill_table(data)

    def _fill_table(self, data: dict[str, Any]) -> None:
        table = self.query_one("#eval-rows", DataTable)
        table.clear()

        def rouge_l(answer: Any) -> float | None:
            scores = (answer or {}).get("scores")
            return None if not scores else float(scores["rouge_l"])

        ordered = sorted(data["rows"], key=lambda r: rouge_l(r["tuned"]) or -1.0)
        for row in ordered:
            tuned, base = rouge_l(row["tuned"]), rouge_l(row.get("base"))
            judge = (row["tuned"].get("judge") or {}).get("overall")
            sql = (row["tuned"].get("sql") or {}).get("status", "")
            table.add_row(
                str(row["line"]),
                "failed" if tuned is None else f"{tuned:.3f}",
                "-" if base is None else f"{base:.3f}",
                "-" if judge is None else f"{judge:.2f}",
                sql or "-",
                row["reference"][:60],
                (row["tuned"]["answer"] or row["tuned"]["error"] or "")[:60],
            )

    def worker_failed(self, name: str, error: BaseException) -> None:
        if name == "evaluate":
            self.query_one("#eval-progress", TaskProgress).hide()
            self.query_one("#run", Button).disabled = False
            self.query_one("#cancel-eval", Button).disabled = True
        self.show_error(error)

    # ------------------------------------------------------------------ report and comparison

    @on(Button.Pressed, "#open-report")
    def action_open_report(self) -> None:
        """Open the HTML report in the browser."""
        if self._saved is not None:
            self.app.open_url(self._saved.html.as_uri())
        else:
            self.notify("Run an evaluation first: its report opens here.")

    @on(Button.Pressed, "#compare-runs")
    def action_compare_runs(self) -> None:
        """Show runs compared (this run preselected)."""
        from screens.compare import CompareScreen

        run_id = self.host.wizard_run.run_id
        self.app.push_screen(CompareScreen(self.host.registry(), (run_id,) if run_id else ()))
