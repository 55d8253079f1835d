"""The header's billing counter and the quit guard price what bills from the Price List (its
cached answer), with the source and date, even for a throughput recorded without a price."""

from __future__ import annotations

from core.pricing.service import PriceService
from core.registry import Registry, ResourceRecord
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
        assert "1 billable resource, $60.50/h (Price List API, " in shown
        assert "unknown" not in shown and "$0.00" not in shown
        await pilot.press("ctrl+q")
        await settle(pilot, lambda: isinstance(app.screen, QuitGuardScreen))
        assert "$60.50/h (Price List API, " in text_of(app, "#billing-total")
        await pilot.press("escape")
