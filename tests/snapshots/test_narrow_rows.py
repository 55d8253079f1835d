"""Snapshots of long names and several price sources: the header's billing counter (resources
priced from the built-in table and from the Price List API, with their dates) and the Teardown
step's rows (every kind, each with a long name) and its confirmation, at 80x24 and 160x50."""

from __future__ import annotations

from textual.widgets import SelectionList

from screens.confirm import ConfirmScreen
from screens.teardown import TeardownScreen
from tests.fakes import Clock
from tests.snapshots.conftest import DRIVE_SIZE, Shots
from tests.snapshots.world import billing_world, sandbox_app
from tests.tui.helpers import settle


async def test_many_prices_and_long_names(sandbox_port: int, shots: Shots) -> None:
    clock = Clock(1_750_000_000.0)
    app = sandbox_app(clock, sandbox_port)
    async with app.run_test(size=DRIVE_SIZE) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        billing_world(app, clock)
        app.go_to_step("teardown")
        await settle(pilot, lambda: isinstance(app.screen, TeardownScreen))
        listing = app.screen.query_one("#teardown-items", SelectionList)
        await settle(pilot, lambda: listing.option_count >= 10, rounds=1000)
        await settle(pilot)
        await shots(pilot, "teardown")
        # The confirmation says each price in full, with its source and date.
        await pilot.press("ctrl+a", "delete")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await shots(pilot, "teardown-confirm")
