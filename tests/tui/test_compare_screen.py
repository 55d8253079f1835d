"""The comparison view, reached from the evaluate step: two runs and their base model on the
same test records, with intervals, win / tie / loss and the verdict."""

from __future__ import annotations

from textual.widgets import DataTable, SelectionList

from core.evaluation.evaluate import Report, Result, Row
from core.evaluation.records import TestRecord
from core.evaluation.report import report_json
from core.evaluation.scores import compare
from core.evaluation.store import EvaluationStore
from core.run import Run
from screens.compare import CompareScreen
from tests.tui.helpers import click_button, settle, text_of
from tui.app import BedrockTuneApp

BASE = "us.amazon.nova-micro-v1:0"
REFERENCES = ["the cat sat on the mat", "a dog ran in the park", "birds fly south", "sun rises"]
BASE_ANSWERS = ["a cat", "a dog", "birds", "stars"]


def _report(model: str, answers: list[str]) -> Report:
    rows = []
    for i, (reference, answer) in enumerate(zip(REFERENCES, answers, strict=True)):
        record = TestRecord(i + 1, "", f"describe {i}", reference)
        base = Result(BASE_ANSWERS[i], compare(BASE_ANSWERS[i], reference), None, 30, 8)
        rows.append(Row(record, Result(answer, compare(answer, reference), None, 30, 8), base))
    return Report(model, BASE, tuple(rows), tuned_base_id="amazon.nova-micro-v1:0:128k")


def table_rows(app: BedrockTuneApp, selector: str) -> list[list[str]]:
    table = app.screen.query_one(selector, DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_two_runs_and_the_base_model_compared() -> None:
    app = BedrockTuneApp()
    async with app.run_test(size=(170, 60)) as pilot:
        registry = app.registry()
        store = EvaluationStore(registry)
        for run_id, answers in (
            ("good", REFERENCES),
            ("weak", ["a cat sat", "a dog ran", "birds fly", "moon"]),
        ):
            registry.save_run(run_id, Run(run_id=run_id))
            model = f"arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/{run_id}"
            store.save(run_id, report_json(_report(model, answers)))
        app.push_screen(CompareScreen(registry, ("good",)))
        await settle(pilot, lambda: isinstance(app.screen, CompareScreen))
        listing = app.screen.query_one("#compare-runs", SelectionList)
        await settle(pilot, lambda: listing.option_count == 2)
        assert list(listing.selected) == ["good"]  # this run, preselected
        listing.focus()
        listing.highlighted = 1
        await pilot.press("space")  # and the other one
        assert sorted(listing.selected) == ["good", "weak"]
        await click_button(pilot, "#compare-go")
        await settle(pilot, lambda: "beats" in text_of(app, "#compare-verdict"))
        verdict = text_of(app, "#compare-verdict")
        assert "run good beats base" in verdict and "4 test records in common" in verdict
        metrics = table_rows(app, "#compare-metrics")
        assert [row[0] for row in metrics] == [f"base {BASE}", "run good", "run weak"]
        # Each metric as mean [95% interval]; the serving cost per 1K requests at the end.
        assert all("[" in cell for row in metrics for cell in row[1:-1])
        assert metrics[1][-1].startswith("$")
        records = table_rows(app, "#compare-records")
        assert records[0][:5] == [f"run good vs base {BASE}", "ROUGE-L", "4", "0", "0"]
        assert records[1][0] == f"run weak vs base {BASE}"
        assert "reference:" in text_of(app, "#compare-disagreements")
        await pilot.press("escape")
        await settle(pilot, lambda: not isinstance(app.screen, CompareScreen))
