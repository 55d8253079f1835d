"""The prices audit, in the sandbox (whose Price List answers): every money figure the main
surfaces show says where it comes from and its date, none is "$0.00", and none is "unknown"
when the Price List has it. Surfaces: `prices`, `models`, `advise`, the evaluation estimate
and report, imported models' rates, SageMaker training estimates (spot too), the SageMaker
endpoint's price, the Train step's, Autopilot's and JumpStart's estimates, the billing counter
and quit guard (endpoints, running training jobs, on-demand deployments), and in the app the
model step's detail and the "fine-tune or RAG?" dialog."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.widgets import DataTable

from core.aws import AwsContext
from core.billing import cached_hourly_price, summarize_records
from core.evaluation.costs import judge_cost_text, serving_text
from core.evaluation.evaluate import JudgeSetup, Options, Report, Result, Row
from core.evaluation.plan import plan_evaluation
from core.evaluation.records import TestRecord
from core.evaluation.report import report_json
from core.evaluation.rubrics import PRESETS
from core.evaluation.scores import compare
from core.pricing.cache import PriceCache
from core.pricing.imports import storage_text, window_text
from core.pricing.service import PriceService
from core.pricing.types import total_text
from core.registry import DEPLOYMENT, ResourceRecord
from core.sagemaker import kinds
from core.sagemaker.autopilot import CompletionCriteria, estimate_autopilot_cost
from core.sagemaker.deploying import endpoint_cost_text, price_details
from core.sagemaker.launching import training_cost
from core.sagemaker.training import estimate_instance_cost
from core.sandbox.server import Sandbox
from screens.advise import AdviseScreen
from screens.base import LaunchOptions
from tests.tui.helpers import settle, text_of
from tui.app import BedrockTuneApp
from tui.cli.main import main

FIGURE = re.compile(r"\$\d[\d,]*(?:\.\d+)?")
SOURCED = re.compile(r"Price List API, \d{4}-\d\d-\d\d")
"""In the sandbox every figure is the Price List's: each line with one says so, dated."""
NOVA_MICRO = "us.amazon.nova-micro-v1:0"
THROUGHPUT = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123"


def unsourced(text: str) -> list[str]:
    """The lines of `text` that show a money figure without the Price List's name and date,
    or show $0.00 (the header's idle `$0.00/h` is a fact, not a price, and is not here)."""
    bad = []
    for line in text.splitlines():
        if not FIGURE.search(line):
            continue
        if "$0.00" in FIGURE.findall(line) or not SOURCED.search(line):
            bad.append(line)
    return bad


def unsourced_figures(text: str) -> list[str]:
    """The money figures of `text` whose sentence does not say the Price List and its date,
    and any "$0.00" (for text where a figure and its source may be a clause apart)."""
    bad = []
    for sentence in re.split(r"(?<=[.;])\s+(?=[A-Z⚠(])|\n", text):
        for figure in FIGURE.findall(sentence):
            if figure == "$0.00" or not SOURCED.search(sentence[sentence.index(figure) :]):
                bad.append(f"{figure} in: {sentence}")
    return bad


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_the_cli_surfaces_say_where_each_figure_comes_from(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for region in ("us-east-1", "us-west-2"):
        table = cli(capsys, "prices", "--sandbox", "--region", region)
        rows = table.split("\n\n")[0].splitlines()[1:]  # the table, not the note below it
        assert rows and unsourced("\n".join(rows)) == []
        # Every customizable model has a training price and a serving price there.
        assert all("unknown" not in row.split()[2] for row in rows), table
    models = cli(capsys, "models", "--sandbox", "--region", "us-east-1")
    assert unsourced(models) == []
    assert "unknown" not in models
    advice = cli(capsys, "advise", "--sandbox", "--region", "us-west-2", "--model",
                 "anthropic.claude-3-haiku-20240307-v1:0:200k", "--task-skill")  # fmt: skip
    assert unsourced(advice.split("Assuming:")[0]) == []
    assert "training: $" in advice  # Haiku: no built-in training price, the Price List's


def test_the_core_surfaces_say_where_each_figure_comes_from(
    sandbox_context: AwsContext, tmp_path: Path
) -> None:
    prices = PriceService(sandbox_context, cache=PriceCache(tmp_path))
    # The evaluation estimate: answers, judge, batch; a throughput is billed by the hour.
    records = [TestRecord(i, "", "q" * 600, "an answer") for i in range(1, 5)]
    options = Options(judge=JudgeSetup(NOVA_MICRO, PRESETS["summarization"]), batch="on")
    plan = plan_evaluation(records, THROUGHPUT, NOVA_MICRO, options, "us-east-1", prices=prices)
    assert unsourced("\n".join(plan.text())) == []
    # The report: the judge's cost and the serving costs.
    result = Result("an answer", compare("an answer", "an answer"), None, 400, 100)
    report = Report(
        THROUGHPUT,
        NOVA_MICRO,
        (Row(records[0], result, result),),
        judge_model=NOVA_MICRO,
        judge_usage=(2, 1000, 200),
        tuned_base_id="amazon.nova-micro-v1:0:128k",
        region="us-east-1",
    )
    data = report_json(report, prices)
    shown = [judge_cost_text(data["judge"])]
    shown += [serving_text(c["serving"]) for c in data["compared"]["contenders"]]
    assert unsourced("\n".join(shown)) == [], shown
    # Imported models' custom model units, and SageMaker training (on demand and spot).
    cmu = prices.import_prices("us-east-1")
    assert (
        unsourced(f"{window_text(cmu.per_window(2))}\n{storage_text(cmu.storage_per_month(2))}")
        == []
    )
    g5 = prices.instance_prices("ml.g5.12xlarge", "us-east-1")
    for spot in (False, True):
        note = estimate_instance_cost("ml.g5.12xlarge", 1, 2.5, g5, spot=spot).note
        assert unsourced(note) == [], note
    assert "up to 90% less (SageMaker Developer Guide" in g5.spot.text()


def test_the_sagemaker_surfaces_use_the_price_service_and_say_their_source(
    sandbox_context: AwsContext,
) -> None:
    """The endpoint step and CLI, the Train step, Autopilot and JumpStart, the billing counter
    and the quit guard: each figure is the Price List's (via the PriceService), dated."""
    prices = PriceService(sandbox_context)  # the state dir's cache, as the app's workers
    small = prices.instance_prices("ml.g5.2xlarge", "us-east-1")
    big = prices.instance_prices("ml.g5.12xlarge", "us-east-1")
    assert (small.endpoint.source, big.training.source) == ("price-list-api", "price-list-api")
    shown = [endpoint_cost_text(small.endpoint, "ml.g5.2xlarge")]
    for spot in (False, True):
        shown += training_cost("instance", "ml.g5.12xlarge", 2.5, big.training, spot=spot).lines
    shown.append(estimate_autopilot_cost(big, 2.0, CompletionCriteria()).text())
    shown.append(estimate_instance_cost("ml.g5.12xlarge", 1, 2.5, big, spot=True).text())
    shown.append(total_text(big.training, 2.5, "for 2.5 h"))  # JumpStart's estimate
    for text in shown:
        assert unsourced_figures(text) == [], text
        assert "unknown" not in text, text
    # The header's counter and the quit guard: a live endpoint (its price recorded when it was
    # created), a running training job (priced by its recorded instances, from the cache the
    # Train step filled) and an on-demand deployment (no idle cost, said in words).
    endpoint = ResourceRecord(
        kinds.ENDPOINT, "bt-ep", "us-east-1", "1", "r1", billable=True,
        details={"instance_type": "ml.g5.2xlarge", **price_details(small.endpoint)},
    )  # fmt: skip
    job = ResourceRecord(
        kinds.TRAINING_JOB, "bt-job", "us-east-1", "1", "r2", billable=True,
        details={"instance_type": "ml.g5.12xlarge", "instance_count": 1},
    )  # fmt: skip
    deployment = ResourceRecord(
        DEPLOYMENT, "arn:d", "us-east-1", "1", "r3", billable=True, details={"per_hour": 0.0}
    )
    # The lookup reads the cache (the event loop never calls AWS).
    summary = summarize_records([endpoint, job], cached_hourly_price)
    for text in (summary.counter(), summary.headline()):
        assert unsourced_figures(text) == [] and "unknown" not in text, text
    assert small.endpoint.amount is not None and big.training.amount is not None
    assert summary.per_hour == pytest.approx(small.endpoint.amount + big.training.amount)
    idle = summarize_records([deployment]).counter()
    assert idle == "1 billable, no idle cost, bills per token"


async def test_the_app_surfaces_say_where_each_figure_comes_from() -> None:
    app = BedrockTuneApp(LaunchOptions(sandbox=True), sandbox_factory=Sandbox)
    async with app.run_test(size=(180, 50)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        app.go_to_step("model")
        await settle(pilot, lambda: bool(app.screen.query("#models")))
        table = app.screen.query_one("#models", DataTable)
        haiku = "anthropic.claude-3-haiku-20240307-v1:0:200k"
        await settle(pilot, lambda: table.row_count > 0 and haiku in table.rows)
        table.move_cursor(row=table.get_row_index("amazon.nova-micro-v1:0:128k"))
        await settle(pilot, lambda: "(Price List API, " in text_of(app, "#model-detail"))
        detail = text_of(app, "#model-detail")
        assert unsourced(detail) == [], detail
        await pilot.press("f")
        await settle(pilot, lambda: isinstance(app.screen, AdviseScreen))
        await settle(pilot, lambda: "Recommendation" in text_of(app, "#advice"))
        advice = " ".join(text_of(app, "#advice").split())  # as read, not as wrapped
        figures = list(FIGURE.finditer(advice))
        assert len(figures) >= 5  # both paths' costs
        for figure in figures:  # each figure followed by its source and date
            after = advice[figure.end() : figure.end() + 60]
            assert SOURCED.search(after), advice[figure.start() : figure.end() + 60]
        assert "$0.00 " not in advice
        await pilot.press("escape")
