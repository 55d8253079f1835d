"""Prices shown in the app come from the Price List when it answers, with the source and date:
the model step's table and detail, the header's billing counter and the quit guard (even for a
throughput recorded without a price)."""

from __future__ import annotations

from textual.widgets import DataTable

from core.pricing.service import PriceService
from core.registry import Registry, ResourceRecord
from core.sandbox.server import Sandbox
from screens.base import LaunchOptions
from screens.quit_guard import QuitGuardScreen
from tests.pricing_fixtures import expect_region, pricing_stub
from tests.tui.helpers import settle, text_of
from tui.app import BedrockTuneApp

NOVA_2_LITE = "amazon.nova-2-lite-v1:0:256k"


async def test_header_and_quit_guard_show_the_price_lists_figure() -> None:
    client, stubber = pricing_stub()
    expect_region(stubber, "us-east-1")
    PriceService(None, client=client).region_prices("us-east-1")  # a worker's earlier read
    Registry().add_resource(
        ResourceRecord(
            "provisioned-throughput",
            "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc",
            "us-east-1",
            "123456789012",
            None,
            billable=True,
            details={"base_model_id": NOVA_2_LITE, "per_hour": None},
        )
    )
    app = BedrockTuneApp(LaunchOptions(profile="nope"))
    async with app.run_test(size=(160, 50)) as pilot:
        header = app.screen.query_one("#header-billing")
        await settle(pilot, lambda: "billable" in str(header.render()))
        shown = str(header.render())
        assert "1 billable, $60.50/h (Price List API, " in shown
        assert "unknown" not in shown and "$0.00" not in shown
        await pilot.press("ctrl+q")
        await settle(pilot, lambda: isinstance(app.screen, QuitGuardScreen))
        assert "$60.50/h (Price List API, " in text_of(app, "#billing-total")
        await pilot.press("escape")


async def test_the_model_step_shows_the_price_lists_figures() -> None:
    app = BedrockTuneApp(LaunchOptions(sandbox=True), sandbox_factory=Sandbox)
    async with app.run_test(size=(180, 50)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        app.go_to_step("model")
        await settle(pilot, lambda: bool(app.screen.query("#models")))
        table = app.screen.query_one("#models", DataTable)

        def source_of(model_id: str) -> str:
            return str(table.get_row(model_id)[-1]) if table.row_count else ""

        await settle(
            pilot, lambda: source_of("amazon.nova-lite-v1:0:300k").startswith("Price List")
        )
        # Nova Lite has no built-in training price; the sandbox's Price List has one.
        assert str(table.get_row("amazon.nova-lite-v1:0:300k")[-2]) == "$0.002"
        table.move_cursor(row=table.get_row_index("amazon.nova-lite-v1:0:300k"))
        await settle(pilot, lambda: "(Price List API, " in text_of(app, "#model-detail"))
        detail = text_of(app, "#model-detail")
        assert "training: $0.002 per 1K tokens (Price List API, " in detail
        assert "$0.00 " not in detail
