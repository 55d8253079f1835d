"""core.billing: one summary of what bills, from registry entries or teardown items; an unknown
price is never summed as $0."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from core.billing import (
    BillingSummary,
    Charge,
    billing_now,
    cached_hourly_price,
    summarize,
    summarize_items,
    summarize_records,
)
from core.catalog.lookup import find_model
from core.pricing.service import PriceService
from core.registry import ResourceRecord
from core.run.types import Run
from core.sagemaker import kinds
from core.statuses import JobStatus
from core.teardown.items import DEPLOYMENT, JOB, MODEL, PREFIX, THROUGHPUT, TeardownItem
from tests.pricing_fixtures import expect_pages, expect_region, pricing_stub


def record(kind: str, billable: bool = True, **details: Any) -> ResourceRecord:
    return ResourceRecord(
        kind, f"arn:{kind}", "us-east-1", "1", None, billable=billable, details=details
    )


def item(kind: str, cost_class: str, **fields: Any) -> TeardownItem:
    return TeardownItem(
        kind=kind,
        identifier=f"arn:{kind}:{len(fields)}",
        region="us-east-1",
        label=kind,
        action="delete",
        effect="",
        cost_class=cost_class,  # type: ignore[arg-type]
        **fields,
    )


def test_nothing_bills() -> None:
    empty = summarize([])
    assert empty == BillingSummary()
    assert empty.per_hour == 0.0 and not empty.price_unknown
    assert empty.headline() == "0 billable resources, nothing bills"


def test_known_prices_add_up() -> None:
    summary = summarize([Charge(per_hour=7.1), Charge(per_hour=14.08)])
    assert summary.count == 2 and summary.per_hour == pytest.approx(21.18)
    assert summary.hourly_text() == "$21.18/h"
    assert summary.headline() == "2 billable resources, $21.18/h"


def test_an_unknown_price_is_never_counted_as_zero() -> None:
    only_unknown = summarize([Charge(per_hour=None)])
    assert only_unknown.per_hour is None and only_unknown.price_unknown
    assert only_unknown.hourly_text() == "price unknown"
    assert "$0.00" not in only_unknown.headline()
    mixed = summarize([Charge(per_hour=7.1), Charge(per_hour=None), Charge(per_hour=None)])
    assert mixed.per_hour is None  # a total would be a lower bound
    assert mixed.known_per_hour == pytest.approx(7.1) and mixed.unknown_per_hour == 2
    assert mixed.hourly_text() == "$7.10/h + 2 prices unknown"


def test_per_token_parts_are_said_apart() -> None:
    summary = summarize([Charge(per_hour=0.0, per_token=True)])
    # A true zero idle cost, said in words: "$0.00/h" would read like a price nobody knows.
    assert summary.idle_free and summary.per_hour == 0.0
    assert summary.headline() == "1 billable resource, no idle cost, bills per token"
    assert summary.counter() == "1 billable, no idle cost, bills per token"
    assert summary.per_token == 1
    # Beside a throughput, the hourly total is a price again, with its source.
    mixed = summarize([Charge(per_hour=0.0, per_token=True), Charge(per_hour=7.1, source="x")])
    assert not mixed.idle_free
    assert mixed.counter() == "2 billable, $7.10/h (x) + per token"
    # An unknown price is never "no idle cost".
    unknown = summarize([Charge(per_hour=0.0, per_token=True), Charge(per_hour=None)])
    assert not unknown.idle_free and unknown.hourly_text() == "price unknown + per token"


def test_storage_is_summed_by_the_month_apart_from_what_bills_by_the_hour() -> None:
    summary = summarize(
        [
            Charge(per_hour=7.1),
            Charge(per_month=1.95, storage=True),
            Charge(per_month=None, storage=True),
        ]
    )
    assert summary.count == 1 and summary.storing == 2
    assert summary.monthly_text() == "$1.95/month + 1 price unknown"
    assert summarize([Charge(storage=True)]).monthly_text() == "price unknown"


def test_registry_entries() -> None:
    summary = summarize_records(
        [
            record(DEPLOYMENT, per_hour=0.0),
            record(THROUGHPUT, per_hour=7.1),
            record(THROUGHPUT),  # no price was recorded: unknown, not $0
            record(PREFIX, billable=False),
        ]
    )
    assert summary.count == 3 and summary.per_token == 1
    assert summary.known_per_hour == pytest.approx(7.1) and summary.unknown_per_hour == 1
    assert summary.headline() == (
        "3 billable resources, $7.10/h (as recorded) + 1 price unknown + per token"
    )
    old_deployment = summarize_records([record(DEPLOYMENT)])  # recorded before prices were
    assert old_deployment.per_hour == 0.0 and old_deployment.per_token == 1


def test_teardown_items() -> None:
    items = [
        item(THROUGHPUT, "hourly", hourly_cost=7.1),
        item(THROUGHPUT, "hourly", hourly_cost=None, status="x"),
        item(DEPLOYMENT, "hourly", hourly_cost=0.0),
        item(JOB, "hourly", cost_note="training is billed by the tokens it processes"),
        item(THROUGHPUT, "hourly", hourly_cost=99.0, exists=False),  # gone: bills nothing
        item(MODEL, "storage", monthly_cost=1.95),
        item(PREFIX, "free"),
    ]
    summary = summarize_items(items)
    assert summary.count == 4  # the two throughputs, the deployment and the running job
    assert summary.known_per_hour == pytest.approx(7.1)
    assert summary.unknown_per_hour == 1  # the job bills per token, not at an unknown rate
    assert summary.per_token == 2
    assert summary.storing == 1 and summary.known_per_month == pytest.approx(1.95)


def test_every_total_says_where_its_prices_come_from() -> None:
    summary = summarize_records(
        [
            record(
                THROUGHPUT, per_hour=60.5, price_source="price-list-api", price_as_of="2026-12-02"
            ),
            record(THROUGHPUT, per_hour=7.1, price_source="built-in", price_as_of="2024"),
            record(DEPLOYMENT, per_hour=0.0),
        ]
    )
    assert summary.headline() == (
        "3 billable resources, $67.60/h (Price List API, 2026-12-02; built-in, 2024) + per token"
    )
    items = summarize_items(
        [item(MODEL, "storage", monthly_cost=1.95, price_source="Price List API, 2026-12-02")]
    )
    assert items.monthly_text() == "$1.95/month (Price List API, 2026-12-02)"


def test_a_throughput_recorded_without_a_price_is_priced_from_the_cache() -> None:
    nova = find_model("amazon.nova-2-lite-v1:0:256k")
    unpriced = record(THROUGHPUT, base_model_id=nova.id)
    # Nothing cached and no built-in figure: unknown, never $0.
    assert summarize_records([unpriced], cached_hourly_price).hourly_text() == "price unknown"
    client, stubber = pricing_stub()
    expect_region(stubber, "us-east-1")
    # The Price List read (by a worker) is cached in the state dir...
    PriceService(None, client=client).region_prices("us-east-1")
    # ...where the event loop's lookup finds it without calling AWS.
    priced = summarize_records([unpriced], cached_hourly_price)
    assert priced.per_hour == 60.5
    assert priced.hourly_text().startswith("$60.50/h (Price List API, ")
    assert summarize_records([unpriced]).price_unknown  # no lookup: stays unknown


def test_an_imported_model_says_where_its_recorded_rates_come_from() -> None:
    live = record(
        "imported-model",
        per_window=0.5718,
        per_month=3.9,
        price_source="price-list-api",
        prices_as_of="2026-12-02",
        storage_source="built-in",
        storage_as_of="2026-12",
    )
    summary = summarize_records([live])
    assert summary.hourly_text() == (
        "no idle cost, bills $0.5718 per 5-min window while active (Price List API, 2026-12-02)"
    )
    assert summary.monthly_text() == "$3.90/month (built-in, 2026-12)"
    # Recorded before prices had a source: the reference's figures, with their date.
    older = record("imported-model", per_window=0.2859, per_month=1.95, prices_as_of="2026-12")
    assert summarize_records([older]).monthly_text() == "$1.95/month (reference, 2026-12)"
    # No rate at all: unknown, never $0.
    unknown = summarize_records([record("imported-model")])
    assert "per 5-min window while active (price unknown)" in unknown.hourly_text()
    assert unknown.monthly_text() == "price unknown"


def test_a_running_sagemaker_job_is_priced_by_its_instances_and_an_ended_one_bills_nothing() -> (
    None
):
    job = ResourceRecord(
        kinds.TRAINING_JOB,
        "bt-qlora",
        "us-east-1",
        "1",
        "run1",
        billable=True,
        details={"instance_type": "ml.g5.2xlarge", "instance_count": 2, "mode": "instance"},
    )
    # Nothing read yet, and no built-in rate for this type: unknown, never $0.
    assert summarize_records([job], cached_hourly_price).hourly_text() == "price unknown"
    client, stubber = pricing_stub()
    g5 = [("regionCode", "us-east-1"), ("instanceType", "ml.g5.2xlarge")]
    expect_pages(stubber, "sagemaker-us-east-1-ml.g5.2xlarge.json", g5)
    PriceService(None, client=client).instance_prices("ml.g5.2xlarge", "us-east-1")  # a worker
    priced = summarize_records([job], cached_hourly_price)
    assert priced.per_hour == pytest.approx(3.03)  # two instances at $1.515
    assert priced.counter().startswith("1 billable, $3.03/h (Price List API, ")
    # The reference's rate stands in for the walkthrough's instance type, with its date.
    walkthrough = replace(job, details={"instance_type": "ml.g5.12xlarge"})
    assert summarize_records([walkthrough], cached_hourly_price).hourly_text() == (
        "$7.20/h (built-in, 2026-12)"
    )
    # Managed spot: the on-demand rate is a ceiling, and said to be one.
    spot = replace(job, details={**job.details, "spot": True})
    assert (
        summarize_records([spot], cached_hourly_price)
        .hourly_text()
        .startswith("$3.03/h (spot: at most; Price List API, ")
    )
    # Once its run saw it end, the job bills nothing (its entry stays for teardown).
    running = {"run1": Run(job_name="bt-qlora", job_status=JobStatus.IN_PROGRESS)}
    ended = {"run1": Run(job_name="bt-qlora", job_status=JobStatus.COMPLETED)}
    throughput = record(THROUGHPUT, per_hour=7.1)
    assert billing_now([job, throughput], running) == [job, throughput]
    assert billing_now([job, throughput], ended) == [throughput]
    other = replace(job, identifier="bt-other")  # another job of the run: still billing
    assert billing_now([other], ended) == [other]


def test_a_narrow_header_drops_the_sources_then_shortens_the_words_never_a_figure() -> None:
    summary = summarize(
        [
            Charge(per_hour=7.10, source="built-in, 2024-11-01"),
            Charge(per_hour=1.515, source="Price List API, 2026-12-01"),
            Charge(per_hour=None),
            Charge(per_hour=0.0, per_token=True),
        ]
    )
    assert summary.counter() == (
        "4 billable, $8.615/h (Price List API, 2026-12-01; built-in, 2024-11-01) "
        "+ 1 price unknown + per token"
    )
    assert summary.counter(sources=False) == "4 billable, $8.615/h + 1 price unknown + per token"
    assert summary.counter(terse=True) == "4 billable, $8.615/h + 1 unknown + per token"
    windows = summarize(
        [
            Charge(per_hour=0.0, windowed=True, per_window=0.2859, source="Price List API, x"),
            Charge(per_hour=0.0, windowed=True, per_window=None),
        ]
    )
    assert windows.counter(sources=False) == (
        "2 billable, no idle cost, bills $0.2859 per 5-min window while active + 1 price unknown"
    )
    assert windows.counter(terse=True) == "2 billable, $0.2859/5-min window + 1 unknown"
    unknown = summarize([Charge(per_hour=0.0, windowed=True, per_window=None)])
    assert unknown.counter(terse=True) == "1 billable, 5-min window (price unknown)"
    tokens = summarize([Charge(per_hour=0.0, per_token=True)])
    assert tokens.counter(terse=True) == "1 billable, per token"


def test_a_narrow_teardown_row_shows_each_cost_by_its_figures_alone() -> None:
    sourced = {"price_source": "Price List API, 2026-12-01"}
    rows = {
        item(THROUGHPUT, "hourly", hourly_cost=7.10, **sourced): "$7.10/h",
        item(THROUGHPUT, "hourly", hourly_cost=None): "price unknown",
        item(DEPLOYMENT, "hourly", hourly_cost=0.0, cost_note="per token, nothing while idle"): (
            "per token"
        ),
        item(JOB, "hourly", cost_note="training is billed by the tokens it processes"): (
            "per token"
        ),
        item(MODEL, "storage", monthly_cost=1.95, **sourced): "$1.95/month",
        item(MODEL, "storage"): "storage price unknown",
        item("imported-model", "hourly", hourly_cost=0.0, window_cost=0.2859, monthly_cost=1.95): (
            "$0.2859/5-min window, $1.95/month"
        ),
        item(PREFIX, "free"): "no charge",
    }
    for row, short in rows.items():
        assert row.short_cost_text == short, row
        if row.cost_class != "free":
            assert "(" not in row.short_cost_text  # no source: the full row and summary say it


def test_the_sources_read_the_same_whatever_order_the_charges_come_in() -> None:
    """A registry entry rewritten later moves to the end; the header must not shuffle."""
    charges = [
        Charge(per_hour=7.1, source="built-in, 2024-11-01"),
        Charge(per_hour=1.515, source="Price List API, 2026-12-01"),
    ]
    assert summarize(charges).counter() == summarize(charges[::-1]).counter()
