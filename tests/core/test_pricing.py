"""The pricing service against recorded, real-shaped GetProducts pages (botocore Stubber):
pagination, the model mapping, the cache, the fallback to the built-in figures with one note."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from core.aws import AwsContext, StaticCredentials
from core.catalog.lookup import builtin_models, find_model
from core.errors import ServiceError
from core.pricing.builtin import builtin_prices
from core.pricing.cache import PriceCache
from core.pricing.mapping import MODEL_NAMES, per_1k_tokens
from core.pricing.pricelist import endpoint_region, fetch_items, parse_item, pricing_client
from core.pricing.service import PriceService
from core.pricing.types import Figure, Price
from tests.pricing_fixtures import READ_AT, expect_pages, expect_region, pricing_stub

NOVA_2_LITE = "amazon.nova-2-lite-v1:0:256k"
NOVA_MICRO = "amazon.nova-micro-v1:0:128k"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0:200k"
TITAN_LITE = "amazon.titan-text-lite-v1:0:4k"


def cache_at(directory: Path, hours_later: float = 0) -> PriceCache:
    return PriceCache(directory, clock=lambda: READ_AT + timedelta(hours=hours_later))


def test_us_east_1_reads_every_page_and_maps_the_figures(tmp_path: Path) -> None:
    client, stubber = pricing_stub()
    expect_region(stubber, "us-east-1")  # three pages, NextToken followed
    service = PriceService(None, cache=cache_at(tmp_path), client=client)
    region = service.region_prices("us-east-1")
    stubber.assert_no_pending_responses()
    assert region.note == ""
    rows = {row.model_id: row for row in region.rows}
    assert set(rows) == {m.id for m in builtin_models() if "us-east-1" in m.regions}

    nova = rows[NOVA_2_LITE]
    assert (nova.source, nova.as_of) == ("price-list-api", "2026-12-02")
    assert nova.training.amount == 0.00378
    assert nova.training.text() == "$0.00378 per 1K tokens (Price List API, 2026-12-02)"
    assert nova.training.detail == "USE1-Nova2.0Lite-Customization-Training"
    assert nova.storage.amount == 1.95
    assert nova.provisioned.amount == 60.5
    assert nova[Figure.PROVISIONED_1_MONTH].amount == 55.0
    assert not nova[Figure.PROVISIONED_6_MONTHS].is_known
    # A custom model is billed the custom-model rate, not the base model's $0.00033.
    assert nova.on_demand_input.amount == 0.0003
    assert nova.on_demand_input.detail == "USE1-Nova2.0Lite-input-tokens-custom-model"
    assert nova.on_demand_output.amount == 0.0025

    micro = rows[NOVA_MICRO]
    assert micro.training.amount == 0.001  # not the us-west-2 row's 0.009
    assert micro.on_demand_input.amount == 0.000035  # not the cache-read meter
    assert micro[Figure.BATCH_INPUT].amount == 0.0000175
    assert not micro.provisioned.is_known
    assert "no-commitment provisioned throughput rate" in micro.provisioned.todo

    titan = rows[TITAN_LITE]
    assert (titan.training.amount, titan.provisioned.amount) == (0.0004, 7.1)
    # Nova Pro has only a $0 row: no price, so it keeps its built-in figures, said why.
    pro = rows["amazon.nova-pro-v1:0:300k"]
    assert pro.source == "built-in"
    assert pro.notes[0] == "the Price List has no Nova Pro prices in us-east-1"


def test_us_west_2_marketplace_listing_and_unresolvable_rates(tmp_path: Path) -> None:
    client, stubber = pricing_stub()
    expect_region(stubber, "us-west-2")
    rows = {
        r.model_id: r
        for r in PriceService(None, cache=cache_at(tmp_path), client=client)
        .region_prices("us-west-2")
        .rows
    }
    stubber.assert_no_pending_responses()
    haiku = rows[HAIKU]
    assert haiku.source == "price-list-api"
    # Marketplace prices are per million tokens.
    assert haiku.on_demand_input.amount == pytest.approx(0.00025)
    assert haiku.on_demand_output.amount == pytest.approx(0.00125)
    assert haiku[Figure.BATCH_INPUT].amount == pytest.approx(0.000125)
    assert not haiku.training.is_known
    assert haiku.training.text().startswith(
        "unknown: the Price List has no training price for Claude 3 Haiku in us-west-2"
    )
    llama = rows["meta.llama3-1-70b-instruct-v1:0:128k"]
    assert llama.provisioned.amount == 24.0
    assert llama.on_demand_input.amount == 0.00072  # not the latency-optimized $0.0009
    assert rows["meta.llama3-3-70b-instruct-v1:0:128k"].training.amount == 0.00799
    conflict = rows["meta.llama3-2-1b-instruct-v1:0:128k"].on_demand_input
    assert not conflict.is_known
    assert "conflicting rates" in conflict.todo and "0.0001" in conflict.todo


def test_sagemaker_instance_rates(tmp_path: Path) -> None:
    client, stubber = pricing_stub()
    service = PriceService(None, cache=cache_at(tmp_path), client=client)
    g5 = [("regionCode", "us-east-1"), ("instanceType", "ml.g5.2xlarge")]
    assert expect_pages(stubber, "sagemaker-us-east-1-ml.g5.2xlarge.json", g5) == 2
    prices = service.instance_prices("ml.g5.2xlarge", "us-east-1")
    assert prices.training.text() == "$1.515 per instance-hour (Price List API, 2026-12-02)"
    assert prices.training.detail == "USE1-Train:ml.g5.2xlarge"
    assert prices.endpoint.amount == 1.515
    assert not prices.training_spot.is_known
    assert "at most the on-demand $1.515" in prices.training_spot.todo
    assert "saves up to 90%" in prices.training_spot.todo
    assert prices.spot.text().startswith("managed spot training: up to 90% less (")
    assert (
        "the on-demand $1.515 per instance-hour (Price List API, 2026-12-02)" in prices.spot.text()
    )
    m5 = [("regionCode", "us-east-1"), ("instanceType", "ml.m5.large")]
    expect_pages(stubber, "sagemaker-us-east-1-ml.m5.large.json", m5)
    small = service.instance_prices("ml.m5.large", "us-east-1")
    assert small.training.amount == 0.115
    assert small.endpoint.text().startswith("unknown: the Price List has no endpoint rate")
    stubber.assert_no_pending_responses()
    # Both instance types are now cached: no further call.
    again = PriceService(None, cache=cache_at(tmp_path, 2), client=client)
    assert again.instance_prices("ml.g5.2xlarge", "us-east-1").training.amount == 1.515


def test_sagemaker_rates_fall_back_to_the_built_in_training_rate(tmp_path: Path) -> None:
    client, stubber = pricing_stub()
    stubber.add_client_error(
        "get_products", service_error_code="AccessDeniedException", http_status_code=400
    )
    service = PriceService(None, cache=cache_at(tmp_path), client=client)
    g5 = service.instance_prices("ml.g5.12xlarge", "us-east-1")
    # The reference's training rate, dated, stands in; the note says why, once.
    assert g5.training.text().startswith("$7.20 per instance-hour (built-in, 2026-12)")
    assert g5.notes[0].startswith("Prices are the built-in figures, each with its date:")
    assert "pricing:GetProducts is not allowed" in g5.notes[0]
    # No built-in endpoint rate: unknown with what to do, never $0.
    assert not g5.endpoint.is_known
    assert "not allowed" in g5.endpoint.todo and "sagemaker/pricing" in g5.endpoint.todo
    # A type the reference does not price is unknown (the failure is remembered: no call).
    small = service.instance_prices("ml.g5.2xlarge", "us-east-1")
    assert not small.training.is_known and "not allowed" in small.training.todo
    stubber.assert_no_pending_responses()


def test_cached_sagemaker_rates_never_call_aws(tmp_path: Path) -> None:
    client, stubber = pricing_stub()
    g5 = [("regionCode", "us-east-1"), ("instanceType", "ml.g5.2xlarge")]
    expect_pages(stubber, "sagemaker-us-east-1-ml.g5.2xlarge.json", g5)
    PriceService(None, cache=cache_at(tmp_path), client=client).instance_prices(
        "ml.g5.2xlarge", "us-east-1"
    )
    stubber.assert_no_pending_responses()
    offline = PriceService(None, cache=cache_at(tmp_path, 3), client=client)  # nothing stubbed
    cached = offline.cached_instance_prices("ml.g5.2xlarge", "us-east-1")
    assert cached.endpoint.text() == "$1.515 per instance-hour (Price List API, 2026-12-02)"
    # Not read yet: the built-in training rate where there is one, else unknown.
    unread = offline.cached_instance_prices("ml.g5.12xlarge", "us-east-1")
    assert unread.training.provenance == "built-in, 2026-12"
    assert "were not read yet" in unread.endpoint.todo
    assert not offline.cached_instance_prices("ml.p4d.24xlarge", "us-east-1").training.is_known


def test_the_cache_answers_for_a_day_and_refresh_ignores_it(tmp_path: Path) -> None:
    client, stubber = pricing_stub()
    expect_region(stubber, "us-east-1")
    PriceService(None, cache=cache_at(tmp_path), client=client).region_prices("us-east-1")
    stubber.assert_no_pending_responses()
    # A new service (a new command) within the day: the cache answers, no call is made.
    later = PriceService(None, cache=cache_at(tmp_path, 23), client=client)
    assert later.model_prices(find_model(NOVA_2_LITE), "us-east-1").training.amount == 0.00378
    # cached_model_prices never calls AWS, and reads the same cache.
    offline = PriceService(None, cache=cache_at(tmp_path, 23))
    cached = offline.cached_model_prices(find_model(NOVA_2_LITE), "us-east-1")
    assert (cached.source, cached.as_of) == ("price-list-api", "2026-12-02")
    # After a day it is stale: without a way to ask, the built-in figures stand in.
    stale = PriceService(None, cache=cache_at(tmp_path, 25)).model_prices(
        find_model(NOVA_2_LITE), "us-east-1"
    )
    assert stale.source == "built-in"
    # --refresh asks again even when the cache is fresh.
    expect_region(stubber, "us-east-1")
    PriceService(None, cache=cache_at(tmp_path, 1), refresh=True, client=client).region_prices(
        "us-east-1"
    )
    stubber.assert_no_pending_responses()


def test_a_denied_call_falls_back_with_one_note_and_is_not_repeated(tmp_path: Path) -> None:
    client, stubber = pricing_stub()
    stubber.add_client_error(
        "get_products",
        service_error_code="AccessDeniedException",
        service_message="User: arn:aws:iam::123456789012:user/dev is not authorized to perform: "
        "pricing:GetProducts",
        http_status_code=400,
    )
    service = PriceService(None, cache=cache_at(tmp_path), client=client)
    region = service.region_prices("us-east-1")
    assert region.note.startswith("Prices are the built-in figures, each with its date:")
    assert "pricing:GetProducts is not allowed" in region.note
    nova = {r.model_id: r for r in region.rows}[NOVA_2_LITE]
    assert (nova.source, nova.as_of, nova.training.amount) == ("built-in", "2026-08", 0.00378)
    # The failure is remembered: the next lookup makes no call (none is stubbed).
    assert service.model_prices(find_model(NOVA_MICRO), "us-east-1").source == "built-in"
    stubber.assert_no_pending_responses()
    assert not (tmp_path / "bedrock-us-east-1.json").exists()  # a fallback is never cached


def test_an_unreachable_endpoint_falls_back(tmp_path: Path) -> None:
    unreachable = boto3.client(
        "pricing",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=1),
    )
    region = PriceService(None, cache=cache_at(tmp_path), client=unreachable).region_prices(
        "us-east-1"
    )
    assert "the Price List API could not be reached" in region.note
    assert all(row.source == "built-in" and row.as_of for row in region.rows)


def test_the_pricing_client_fails_fast_at_the_nearest_endpoint() -> None:
    context = AwsContext.for_endpoint(
        "http://127.0.0.1:9", StaticCredentials("a", "b"), region="eu-west-1"
    )
    client = pricing_client(context, endpoint_region("eu-west-1"))
    assert client.meta.region_name == "eu-central-1"
    assert client.meta.config.retries["total_max_attempts"] == 2
    assert client.meta.endpoint_url == "http://127.0.0.1:9"
    assert [endpoint_region(r) for r in ("us-west-2", "ap-northeast-1", "sa-east-1")] == [
        "us-east-1",
        "ap-south-1",
        "us-east-1",
    ]


def test_pagination_has_a_runaway_guard() -> None:
    client, stubber = pricing_stub()
    expect_pages(stubber, "bedrock-us-east-1.json")
    with pytest.raises(ServiceError, match="still paginating after 2 pages"):
        fetch_items(
            client,
            "AmazonBedrock",
            [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": "us-east-1"}],
            max_pages=2,
        )


def test_unreadable_items_and_zero_prices_give_nothing() -> None:
    def one(usd: object) -> str:
        return (
            '{"product":{"sku":"X","attributes":{"usagetype":"USE1-x"}},"terms":{"OnDemand":'
            '{"O":{"priceDimensions":{"R":{"unit":"1K tokens","pricePerUnit":{"USD":'
            f"{usd}"
            "}}}}}}}"
        )

    assert parse_item(one('"0.0010000000"'), "AmazonBedrock")[0].usd == 0.001
    for bad in ('"not-a-number"', '"0.0000000000"', "null"):
        assert parse_item(one(bad), "AmazonBedrock") == []
    assert parse_item("<html>404</html>", "AmazonBedrock") == []
    assert parse_item('{"product": {"sku": "BROKEN"}}', "AmazonBedrock") == []


def test_token_units_are_read_not_assumed() -> None:
    assert per_1k_tokens(0.00015, "1K tokens") == 0.00015
    assert per_1k_tokens(1.25, "1M tokens") == pytest.approx(0.00125)
    for unit in ("1B tokens", "", "1K Requests", "hour"):
        assert per_1k_tokens(0.1, unit) is None


def test_every_active_catalog_model_has_price_list_names() -> None:
    # A new catalog model must say how the Price List names it (or why it cannot).
    for model in builtin_models():
        if model.lifecycle.value == "ACTIVE":
            assert model.id in MODEL_NAMES, model.id


def test_a_price_always_says_where_it_comes_from() -> None:
    with pytest.raises(ValueError, match="source and date"):
        Price(1.0, "per hour")
    with pytest.raises(ValueError, match="say what to do"):
        Price.unknown("per hour", "")
    unknown = Price.unknown("per hour", "check the pricing page")
    assert unknown.text() == "unknown: check the pricing page"
    assert "$0.00" not in unknown.text() and unknown.money() == "price unknown"
    known = Price.known(7.1, "per hour", "built-in", "2024", "notes")
    assert known.times(2).text() == "$14.20 per hour (built-in, 2024)"
    # A product of binary fractions reads as the amount it is (advise --json prints it).
    tiny = Price.known(0.000035, "per 1K tokens", "built-in", "2025")
    assert tiny.times(2000).amount == 0.07 and tiny.times(1 / 3).amount == 0.0000116667
    assert Price.known(0.5, "per 1K tokens", "given", "").text() == (
        "$0.50 per 1K tokens (your figure)"
    )


def test_builtin_prices_keep_the_catalog_date_and_say_what_to_do() -> None:
    haiku = builtin_prices(
        find_model(HAIKU), "us-west-2", "the Price List API could not be reached"
    )
    assert (haiku.source, haiku.as_of) == ("built-in", "2025-07-20")
    assert haiku.notes[0] == "the Price List API could not be reached"
    assert not haiku.training.is_known
    assert "bedrock-tune prices --refresh" in haiku.training.todo
    assert haiku.to_json() == {
        "model": HAIKU,
        "region": "us-west-2",
        "training_per_1k_tokens": None,
        "storage_per_month": 1.95,
        "provisioned_per_hour": None,
        "on_demand_input_per_1k": 0.00025,
        "on_demand_output_per_1k": 0.00125,
        "source": "built-in",
        "as_of": "2025-07-20",
    }


def test_custom_model_unit_rates_of_imported_models(tmp_path: Path) -> None:
    client, stubber = pricing_stub()
    expect_region(stubber, "us-east-1")
    service = PriceService(None, cache=cache_at(tmp_path), client=client)
    prices = service.import_prices("us-east-1")
    assert (
        prices.per_cmu_minute.text() == "$0.05718 per CMU per minute (Price List API, 2026-12-02)"
    )
    assert prices.per_cmu_minute.detail == "USE1-CustomModelUnits-Minute"
    assert prices.storage_per_cmu_month.amount == 1.95
    assert prices.notes == ()
    # Two CMU: 2 x 5 minutes of the per-minute rate per window, and twice the storage.
    assert prices.per_window(2).amount == pytest.approx(0.5718)
    assert prices.per_window(2).provenance == "Price List API, 2026-12-02"
    assert prices.storage_per_month(2).amount == pytest.approx(3.9)
    details = prices.record_details(2)
    assert (details["price_source"], details["prices_as_of"]) == ("price-list-api", "2026-12-02")
    stubber.assert_no_pending_responses()
    # Read with the models' prices: cached together, no further call.
    again = PriceService(None, cache=cache_at(tmp_path, 3), client=client)
    assert again.cached_import_prices("us-east-1").per_cmu_minute.source == "price-list-api"


def test_without_custom_model_unit_rows_the_built_in_rates_stand_in_and_say_so(
    tmp_path: Path,
) -> None:
    client, stubber = pricing_stub()
    expect_region(stubber, "us-west-2")  # its pages have no custom model unit rows
    prices = PriceService(None, cache=cache_at(tmp_path), client=client).import_prices("us-west-2")
    assert prices.per_cmu_minute.provenance == "built-in, 2026-12"
    assert prices.per_cmu_minute.amount == 0.05718 and prices.storage_per_cmu_month.amount == 1.95
    assert prices.notes[0].startswith(
        "the Price List has no custom model unit rate per CMU per minute in us-west-2: the "
        "built-in rate stands in (built-in, 2026-12)"
    )
    # Not allowed to ask: the built-in rates, with the reason.
    denied = PriceService(None, cache=cache_at(tmp_path / "other")).import_prices("us-east-1")
    assert denied.per_cmu_minute.source == "built-in"
    assert denied.notes[0] == "no AWS credentials to ask the Price List API"


def test_the_readme_policy_allows_reading_prices_read_only() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```json\n(.*?)```", readme, flags=re.DOTALL)
    policies = [json.loads(b) for b in blocks if '"Statement"' in b]
    assert policies, "the README's permission policy is not a JSON block any more"
    statements = [s for p in policies for s in p["Statement"]]
    pricing = [s for s in statements if any(a.startswith("pricing:") for a in s["Action"])]
    # Exactly the read-only GetProducts, on no particular resource (the Price List is public).
    assert [(s["Effect"], s["Action"], s["Resource"]) for s in pricing] == [
        ("Allow", ["pricing:GetProducts"], "*")
    ]
