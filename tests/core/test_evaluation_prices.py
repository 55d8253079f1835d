"""Evaluation costs come from the pricing service: the Price List's rates (batch's own where it
has one) with their source and date, the built-in ones when it cannot answer, never $0.00."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from core.aws import AwsContext, StaticCredentials
from core.evaluation.costs import (
    estimate_calls,
    judge_cost_text,
    serving_cost,
    serving_text,
    token_price,
)
from core.evaluation.evaluate import JudgeSetup, Options, Report, Result, Row
from core.evaluation.plan import plan_evaluation
from core.evaluation.records import TestRecord
from core.evaluation.report import report_json
from core.evaluation.rubrics import PRESETS
from core.evaluation.scores import compare
from core.pricing.cache import PriceCache
from core.pricing.service import PriceService
from tests.pricing_fixtures import READ_AT, expect_region, pricing_stub

NOVA_MICRO = "us.amazon.nova-micro-v1:0"
NOVA_2_LITE = "us.amazon.nova-2-lite-v1:0"
THROUGHPUT = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123"


def stubbed_service(tmp_path: Path) -> PriceService:
    client, stubber = pricing_stub()
    expect_region(stubber, "us-east-1")
    cache = PriceCache(tmp_path, clock=lambda: READ_AT + timedelta(minutes=1))
    return PriceService(None, cache=cache, client=client)


def test_batch_uses_the_price_lists_own_rate_where_it_has_one(tmp_path: Path) -> None:
    service = stubbed_service(tmp_path)
    micro = token_price(NOVA_MICRO, "us-east-1", service)
    assert micro is not None
    assert (micro.input_per_1k, micro.output_per_1k) == (0.000035, 0.00014)
    assert micro.source == "Price List API, 2026-12-02"
    # Nova Micro has batch rows: their rates, not half the on-demand ones by rule of thumb.
    assert (micro.batch_input_per_1k, micro.batch_output_per_1k) == (0.0000175, 0.00007)
    assert micro.batch_source == "Price List API, 2026-12-02"
    lite = token_price(NOVA_2_LITE, "us-east-1", service)
    assert lite is not None and lite.input_per_1k == 0.0003
    assert lite.batch_input_per_1k == 0.00015
    assert lite.batch_source.startswith("half the on-demand price (Price List API, 2026-12-02)")
    line = estimate_calls(
        "judge", NOVA_MICRO, ["x" * 6000] * 10, output_tokens_each=100, batch_offered=True,
        region="us-east-1", prices=service,
    )  # fmt: skip
    assert line.text() == (
        "judge: 10 calls, ~10.0K tokens in / 1.0K out, $0.00049 (Price List API, 2026-12-02) "
        "on demand or $0.000245 through batch (Price List API, 2026-12-02)"
    )


def test_the_plan_says_each_source_and_never_prices_a_throughput_at_zero(
    tmp_path: Path,
) -> None:
    service = stubbed_service(tmp_path)
    records = [TestRecord(i, "", "q" * 600, "an answer") for i in range(1, 5)]
    options = Options(judge=JudgeSetup(NOVA_MICRO, PRESETS["summarization"]))
    plan = plan_evaluation(records, THROUGHPUT, NOVA_MICRO, options, "us-east-1", prices=service)
    text = "\n".join(plan.text())
    assert "$0.00 " not in text and "$0.00," not in text and "$0.00\n" not in text
    assert "(besides the provisioned throughput's hourly bill)" in text
    assert "tuned model: 4 calls, ~400 tokens in / 8 out, provisioned throughput: billed" in text
    assert "Estimate on demand: about $0.000" in text and "(Price List API, 2026-12-02)" in text
    judge = plan.judge
    assert judge is not None and judge.source == "Price List API, 2026-12-02"


def test_an_endpoint_alone_is_never_estimated_at_zero(tmp_path: Path) -> None:
    records = [TestRecord(i, "", "q" * 600, "an answer") for i in range(1, 3)]
    plan = plan_evaluation(records, "endpoint:bt-ep", None, Options(), "us-east-1")
    text = "\n".join(plan.text())
    assert "$" not in text  # no per-answer figure at all, let alone $0.00
    assert text.startswith(
        "2 test records. Estimate: no per-answer charge; the SageMaker endpoint's "
        "instance-hours go on while it exists"
    )
    assert "provisioned throughput" not in text
    assert "SageMaker endpoint: billed per instance-hour, not per answer" in text
    # Beside a priced base model, the endpoint is named as what bills besides.
    service = stubbed_service(tmp_path)
    both = plan_evaluation(records, "endpoint:bt-ep", NOVA_MICRO, Options(), "us-east-1",
                           prices=service)  # fmt: skip
    assert "(besides the SageMaker endpoint's instance-hours)" in both.text()[0]


def test_an_unknown_model_says_what_to_do() -> None:
    line = estimate_calls("judge", "someone.unknown-model-v1", ["hello"], output_tokens_each=10)
    assert line.on_demand is None
    assert "price unknown (no on-demand token price for someone.unknown-model-v1" in line.text()
    assert "bedrock-tune prices --refresh" in line.text()


def test_the_report_prices_the_judge_and_serving_with_their_sources(tmp_path: Path) -> None:
    service = stubbed_service(tmp_path)
    record = TestRecord(1, "", "describe", "the cat sat")
    result = Result("the cat sat", compare("the cat sat", "the cat sat"), None, 400, 100)
    report = Report(
        "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/d1",
        NOVA_MICRO,
        (Row(record, result, result),),
        judge_model=NOVA_MICRO,
        judge_usage=(2, 1000, 200),
        tuned_base_id="amazon.nova-micro-v1:0:128k",
        region="us-east-1",
    )
    data = report_json(report, service)
    judge = data["judge"]
    assert judge["cost_source"] == "Price List API, 2026-12-02"
    assert judge_cost_text(judge) == "$0.000063 (Price List API, 2026-12-02)"
    tuned = data["compared"]["contenders"][0]["serving"]
    assert tuned["source"] == "Price List API, 2026-12-02"
    assert serving_text(tuned) == "$0.028 (Price List API, 2026-12-02)"


def test_a_throughput_is_served_at_its_hourly_rate_with_its_source(tmp_path: Path) -> None:
    service = stubbed_service(tmp_path)
    cost = serving_cost(
        THROUGHPUT, "amazon.titan-text-lite-v1:0:4k", 100, 10, region="us-east-1", prices=service
    )
    assert cost.per_1k_requests is None
    assert cost.note == (
        "provisioned throughput: $7.10 per model unit per hour (Price List API, 2026-12-02) "
        "whatever the traffic"
    )


def test_without_the_price_list_the_built_in_figures_stand_in_with_their_date(
    tmp_path: Path,
) -> None:
    context = AwsContext.for_endpoint(
        "http://127.0.0.1:9", StaticCredentials("a", "b"), region="us-east-1"
    )
    service = PriceService(context, cache=PriceCache(tmp_path))
    micro = token_price(NOVA_MICRO, "us-east-1", service)
    assert micro is not None and micro.source == "built-in, 2025-07-20"
    assert micro.batch_source.startswith("half the on-demand price (built-in, 2025-07-20)")


def test_an_imported_model_is_priced_per_custom_model_unit_window_not_per_token() -> None:
    imported = "arn:aws:bedrock:us-east-1:123456789012:imported-model/abc123"
    cost = serving_cost(
        imported, "meta-textgeneration-llama-3-8b", 100, 10, prices=PriceService(None)
    )
    assert cost.per_1k_requests is None  # it bills per active window, whatever the requests
    assert cost.note.startswith("imported model: billed per custom model unit, $")
    assert "per 5-min window while a copy is active (built-in, " in cost.note
    assert "bedrock/pricing" not in cost.note and cost.source.startswith("built-in")
