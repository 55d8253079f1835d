"""At 80x24 the header and the Teardown step keep every price in view: the header's counter with
what bills and its hourly total (its sources, several here, shortened away into its tooltip),
and each teardown row with its price (a long name gives way in its middle instead)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from textual.widgets import SelectionList

from core import format as fmt
from core.billing import Charge, summarize
from core.registry import BUCKET, DEPLOYMENT, JOB, MODEL, PREFIX, ROLE, THROUGHPUT
from core.sagemaker import kinds
from core.sandbox.server import SANDBOX_ACCOUNT_ID, Sandbox
from core.teardown.items import CostClass, TeardownItem, imported_model_note
from screens.base import LaunchOptions
from screens.quit_guard import QuitGuardScreen
from screens.teardown import TeardownScreen, prompt_of
from screens.widgets.status_header import HeaderTexts, fit_header
from tests.fakes import Clock
from tests.snapshots.conftest import screen_text
from tests.snapshots.world import JOB_SECONDS, READY_SECONDS, billing_world
from tests.tui.helpers import settle, text_of
from tui.app import BedrockTuneApp


async def test_at_80_columns_the_header_and_every_teardown_row_show_their_prices() -> None:
    clock = Clock()
    app = BedrockTuneApp(
        LaunchOptions(sandbox=True, poll_interval=0.05),
        sandbox_factory=lambda: Sandbox(
            job_seconds=JOB_SECONDS, ready_seconds=READY_SECONDS, clock=clock
        ),
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        figures = billing_world(app, clock)
        app.go_to_step("teardown")
        await settle(pilot, lambda: isinstance(app.screen, TeardownScreen))
        screen = app.screen
        assert isinstance(screen, TeardownScreen)
        listing = screen.query_one("#teardown-items", SelectionList)
        await settle(pilot, lambda: listing.option_count >= 10, rounds=1000)
        await settle(pilot)

        # The header: what bills, its total per hour, and where (all on its one line).
        summary = app.billing_summary()
        assert summary.count == 3 and summary.per_hour is not None
        assert len(summary.hourly_sources) == 2  # built-in and the Price List API
        header = screen_text(pilot).splitlines()[0]
        assert f"3 billable, {fmt.money(summary.per_hour)}/h + per token" in header
        assert "SANDBOX" in header and SANDBOX_ACCOUNT_ID in header and "us-east-1" in header
        # The sources and dates the header leaves out are a hover away.
        billing = screen.query_one("#header-billing")
        assert billing.tooltip == summary.counter()
        assert "built-in, " in summary.counter() and "Price List API, " in summary.counter()

        # Every row, scrolled into view in turn, shows its price whole beside its name's end.
        items = [i for i in screen._items if i.origin == "ours"]
        kinds = {i.kind for i in items}
        assert {"provisioned-throughput", "custom-model", "custom-model-deployment"} <= kinds
        assert {"sagemaker-endpoint", "customization-job", "s3-bucket", "s3-prefix"} <= kinds
        assert "iam-role" in kinds
        shown: list[str] = []
        for index, item in enumerate(items):
            listing.highlighted = index
            await pilot.pause()
            [row] = [line for line in screen_text(pilot).splitlines() if item.label[-10:] in line]
            assert f"  {item.short_cost_text}" in row, (item.label, row)
            shown.append(row)
        for figure in figures:  # the throughput's and the endpoint's hourly prices
            assert any(figure in row for row in shown), figure
        assert any("/month" in row for row in shown)  # the custom model's storage

        # Quitting lists what bills with every source and date in full.
        await pilot.press("ctrl+q")
        await settle(pilot, lambda: isinstance(app.screen, QuitGuardScreen))
        total = text_of(app, "#billing-total")
        assert "built-in, " in total and "Price List API, " in total
        await pilot.press("escape")


def test_the_header_keeps_its_full_text_where_it_fits_and_gives_way_in_order() -> None:
    billing = summarize(
        [
            Charge(per_hour=7.10, source="built-in, 2024-11-01"),
            Charge(per_hour=1.515, source="Price List API, 2026-12-01"),
            Charge(per_hour=0.0, per_token=True),
        ]
    )
    account, region = "123456789012", "us-east-1"
    full = HeaderTexts(True, billing.counter(), "account 123456789012 | region us-east-1")
    assert fit_header(160, billing, account, region, True) == full
    assert fit_header(0, billing, account, region, True) == full  # not laid out yet
    # 80 columns: no sources, short place, no app name; every figure stays.
    assert fit_header(80, billing, account, region, True) == HeaderTexts(
        False, "3 billable, $8.615/h + per token", "123456789012 | us-east-1"
    )
    no_sources = "3 billable, $8.615/h + per token"
    assert fit_header(100, billing, account, region, True) == replace(full, billing=no_sources)
    assert fit_header(90, billing, account, region, True) == HeaderTexts(
        True, no_sources, "123456789012 | us-east-1"
    )
    # The step's title gets the room left, cut after a whole word.
    assert fit_header(80, billing, account, region, True, "Teardown").step == "Teardown"
    assert fit_header(80, billing, account, region, True, "Infrastructure").step == ""
    assert fit_header(82, billing, account, region, True, "Train on SageMaker").step == "Train on…"
    assert fit_header(78, billing, account, region, True, "Train on SageMaker").step == "Train…"
    assert fit_header(0, billing, account, region, True, "Infrastructure").step == "Infrastructure"
    # Nothing billing, outside the sandbox: 80 columns hold the whole place.
    assert fit_header(80, None, None, None, False) == HeaderTexts(
        True, "", "account: not checked | region: not chosen"
    )
    assert fit_header(40, None, None, None, False).where == "no account | no region"


def test_every_kind_of_teardown_row_keeps_its_price_whole_in_48_columns() -> None:
    """48 columns: what a row has at 80x24 (the sidebar, the list's border and checkbox)."""
    long = "bt-narrow-rows-with-a-rather-long-name"
    window_note = imported_model_note(0.2859, 1.95, "Price List API, 2026-12-01", "built-in, x")
    rows = [
        row(THROUGHPUT, f"{long}-pt", "hourly", hourly_cost=7.10, price_source="built-in, x"),
        row(DEPLOYMENT, f"{long}-dep", "hourly", hourly_cost=0.0, cost_note="per token"),
        row(JOB, f"{long}-job", "hourly", cost_note="training is billed by the tokens"),
        row(MODEL, f"{long}-model", "storage", monthly_cost=1.95, price_source="built-in, x"),
        row("imported-model", f"{long}-imp", "hourly", window_cost=0.2859, monthly_cost=1.95,
            hourly_cost=0.0, cost_note=window_note),
        row(kinds.ENDPOINT, f"{long}-ep", "hourly", hourly_cost=1.515, price_source="x, y"),
        row(BUCKET, f"{long}-bucket", "free"),
        row(PREFIX, f"s3://{long}-bucket/bedrock-tune/run-20250601/", "free"),
        row(ROLE, f"{long}-role", "free"),
    ]  # fmt: skip
    for item in rows:
        shown = prompt_of(item, 48).plain
        assert len(shown) <= 48, shown
        assert f"  {item.short_cost_text}" in shown, shown
        assert shown.startswith(item.label[:4]), shown  # its kind
        assert item.label[-4:] in shown, shown  # the distinctive end of its name
        # With some more room, the price's words come back (not yet its source).
        unsourced = item.unsourced_cost_text
        assert "built-in" not in unsourced and "Price List" not in unsourced, unsourced
        enough = len(item.label) + 2 + len(unsourced)
        assert prompt_of(item, enough).plain == f"{item.label}  {unsourced}"
        # Wide enough, the row is whole, with where its price comes from.
        assert prompt_of(item, 400).plain.startswith(f"{item.label}  us-east-1  {item.cost_text}")


def row(kind: str, name: str, cost_class: CostClass, **fields: Any) -> TeardownItem:
    words = {BUCKET: "S3 bucket", PREFIX: "S3 folder", ROLE: "IAM role", MODEL: "Custom model"}
    label = words.get(kind, "Imported model" if kind == "imported-model" else kind)
    return TeardownItem(
        kind=kind,
        identifier=name,
        region="us-east-1",
        label=f"{label} {name}",
        action="delete",
        effect="",
        cost_class=cost_class,
        **fields,
    )
