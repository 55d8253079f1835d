"""Runs compared, reachable from the evaluate step: pick runs with a stored evaluation, and see
them beside their base model on the same test records: each metric with its 95% interval, win /
tie / loss against the base, the serving cost per 1K requests, the verdict in words and the
records they disagree on most. `o` opens the comparison as an HTML page."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Label, SelectionList, Static
from textual.widgets.selection_list import Selection
from textual.worker import Worker, WorkerState

from core import format as fmt
from core.errors import BedrockTuneError
from core.evaluation.costs import serving_text
from core.registry import Registry
from screens.base import error_of
from screens.widgets.error_panel import ErrorPanel
from screens.workers import WorkerResult, post_worker_result


@dataclass
class RunsListed(WorkerResult):
    """The runs that have a stored evaluation: (run id, label) pairs."""

    runs: list[tuple[str, str]]


@dataclass
class ComparisonReady(WorkerResult):
    """The comparison of the chosen runs (JSON data) and its HTML page."""

    data: dict[str, Any]
    html: Path


@dataclass
class ComparisonFailed(WorkerResult):
    """The chosen runs cannot be compared (why, as our error)."""

    error: BedrockTuneError


def _cell(entry: Any) -> str:
    if not isinstance(entry, dict) or entry.get("mean") is None:
        return "-"
    return f"{entry['mean']:.3f} [{entry['ci_low']:.3f}, {entry['ci_high']:.3f}]"


class CompareScreen(Screen[None]):
    """Runs and their base model on the same records (see the module doc)."""

    DEFAULT_CSS = """
    CompareScreen #compare-body { padding: 0 1; }
    CompareScreen #compare-runs { height: 8; }
    CompareScreen #compare-buttons { height: auto; margin: 1 0; }
    CompareScreen #compare-buttons Button { margin-right: 2; }
    CompareScreen DataTable { height: auto; max-height: 14; margin-bottom: 1; }
    """
    BINDINGS = [
        Binding("escape", "back", "Back", id="compare-back"),
        Binding("o", "open_report", "Open HTML", id="compare-open"),
    ]

    def __init__(self, registry: Registry, preselected: tuple[str, ...] = ()) -> None:
        super().__init__()
        self._registry = registry
        self._preselected = preselected
        self._html: Path | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="compare-body"):
            yield Label("Runs compared on the same test records", classes="step-heading")
            yield Static("Looking for stored evaluations...", id="compare-status")
            yield SelectionList[str](id="compare-runs")
            with Horizontal(id="compare-buttons"):
                yield Button("Compare", id="compare-go", variant="primary", disabled=True)
                yield Button("Open HTML (o)", id="compare-open", disabled=True)
                yield Button("Back (Esc)", id="compare-back")
            yield Static("", id="compare-verdict")
            yield DataTable(id="compare-metrics", cursor_type="row")
            yield DataTable(id="compare-records", cursor_type="row")
            yield Static("", id="compare-disagreements")
            yield ErrorPanel(id="error-panel")
        yield Footer()

    def on_mount(self) -> None:
        self.list_runs(self._registry)

    @work(thread=True, exclusive=True, exit_on_error=False, group="compare-list")
    def list_runs(self, registry: Registry) -> RunsListed:
        """The runs with a stored evaluation (reads the registry off the event loop)."""
        from core.evaluation.store import EvaluationStore

        store = EvaluationStore(registry)
        runs = []
        for run_id in store.runs():
            latest = store.latest(run_id)
            if latest is None:
                continue
            base = f", base {latest.base_model}" if latest.base_model else ""
            label = f"{run_id}: {fmt.plural(latest.records, 'record')}{base} ({latest.created})"
            runs.append((run_id, label))
        return RunsListed(runs)

    @on(RunsListed)
    def _show_runs(self, message: RunsListed) -> None:
        listing = self.query_one("#compare-runs", SelectionList)
        listing.clear_options()
        listing.add_options(
            [
                Selection(label, run_id, run_id in self._preselected)
                for run_id, label in message.runs
            ]
        )
        status = self.query_one("#compare-status", Static)
        if message.runs:
            status.update(
                "Choose the runs (space), then Compare. One run is compared with its base model."
            )
        else:
            status.update("No run has a stored evaluation yet: evaluate one first.")
        self.query_one("#compare-go", Button).disabled = not message.runs

    @on(Button.Pressed, "#compare-go")
    def _compare_pressed(self) -> None:
        chosen = list(self.query_one("#compare-runs", SelectionList).selected)
        if not chosen:
            self.query_one(ErrorPanel).show_error(
                error_of(BedrockTuneError("No run chosen.", hint="Select runs with space."))
            )
            return
        self.query_one(ErrorPanel).clear()
        self.query_one("#compare-go", Button).disabled = True
        self.compare(self._registry, tuple(chosen))

    @work(thread=True, exclusive=True, exit_on_error=False, group="compare")
    def compare(
        self, registry: Registry, run_ids: tuple[str, ...]
    ) -> ComparisonReady | ComparisonFailed:
        """Build the comparison and its HTML page (file reads and bootstrap off the loop)."""
        from core.atomic import atomic_write_text
        from core.evaluation.html import render_comparison
        from core.evaluation.runs import compare_runs

        try:
            data = compare_runs(registry, run_ids)
        except BedrockTuneError as error:
            return ComparisonFailed(error)
        html = registry.directory / "evaluations" / f"compare-{'-'.join(run_ids)}.html"
        atomic_write_text(html, render_comparison(data))
        return ComparisonReady(data, html)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.query_one("#compare-go", Button).disabled = False
            self.query_one(ErrorPanel).show_error(error_of(event.worker.error))
        else:
            post_worker_result(event)

    @on(ComparisonFailed)
    def _failed(self, message: ComparisonFailed) -> None:
        self.query_one("#compare-go", Button).disabled = False
        self.query_one(ErrorPanel).show_error(message.error)

    @on(ComparisonReady)
    def _show(self, message: ComparisonReady) -> None:
        self._html = message.html
        self.query_one("#compare-go", Button).disabled = False
        self.query_one("#compare-open", Button).disabled = False
        compared = message.data["compared"]
        contenders = compared["contenders"]
        names = {c["id"]: c["label"] for c in contenders}
        verdict = Text()
        for pair in compared["pairs"]:
            verdict.append(pair["verdict"] + "\n", style="bold")
        for note in message.data["notes"]:
            verdict.append(note + "\n", style="yellow")
        verdict.append(f"{compared['records']} test records in common.", style="dim")
        self.query_one("#compare-verdict", Static).update(verdict)
        metrics = self.query_one("#compare-metrics", DataTable)
        metrics.clear(columns=True)
        metrics.add_columns("model", *compared["metric_labels"].values(), "serving / 1K requests")
        for contender in contenders:
            metrics.add_row(
                contender["label"],
                *(_cell(contender["metrics"].get(k)) for k in compared["metric_labels"]),
                serving_text(contender.get("serving")),
            )
        records = self.query_one("#compare-records", DataTable)
        records.clear(columns=True)
        records.add_columns("compared", "metric", "wins", "ties", "losses", "difference [95% CI]")
        primary = compared["primary"]
        for pair in compared["pairs"]:
            result = pair["metrics"][primary]
            difference = (
                "-"
                if result["difference"] is None
                else f"{result['difference']:+.3f} [{result['ci_low']:+.3f}, "
                f"{result['ci_high']:+.3f}]"
            )
            records.add_row(
                f"{names[pair['a']]} vs {names[pair['b']]}",
                compared["metric_labels"][primary],
                str(result["wins"]),
                str(result["ties"]),
                str(result["losses"]),
                difference,
            )
        text = Text()
        for pair in compared["pairs"]:
            for item in pair["disagreements"][:3]:
                text.append(f"line {item['line']}  ", style="bold")
                text.append(f"reference: {item['reference'][:90]}\n", style="dim")
                text.append(
                    f"  {names[pair['a']]} ({item['a_value']:.3f}): {item['a_answer'][:90]}\n"
                )
                text.append(
                    f"  {names[pair['b']]} ({item['b_value']:.3f}): {item['b_answer'][:90]}\n"
                )
        self.query_one("#compare-disagreements", Static).update(text)

    @on(Button.Pressed, "#compare-open")
    def action_open_report(self) -> None:
        """Open the comparison's HTML page in the browser."""
        if self._html is not None:
            self.app.open_url(self._html.as_uri())

    @on(Button.Pressed, "#compare-back")
    def action_back(self) -> None:
        """Back to the evaluate step."""
        self.dismiss()
