"""The model step shows legacy and end-of-life models with their dates and what to pick instead,
and never highlights one by default."""

from __future__ import annotations

from textual.widgets import Button, DataTable, Select

from core.catalog.types import CustomizationType
from core.sandbox.server import Sandbox
from screens.base import LaunchOptions
from tests.tui.helpers import settle, text_of
from tui.app import BedrockTuneApp

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0:200k"
TITAN = "amazon.titan-text-express-v1:0:8k"
LEGACY_OR_GONE = {HAIKU, TITAN, "amazon.titan-text-lite-v1:0:4k"}


async def test_lifecycle_in_the_model_step() -> None:
    app = BedrockTuneApp(
        LaunchOptions(sandbox=True, region="us-west-2", poll_interval=0.05),
        sandbox_factory=lambda: Sandbox(region="us-west-2"),
    )
    async with app.run_test(size=(170, 50)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        assert app.wizard_run.region == "us-west-2"
        app.go_to_step("model")
        await settle(pilot, lambda: "offered" in text_of(app, "#models-status"))
        models = app.screen.query_one("#models", DataTable)
        keys = [str(key.value) for key in models.rows]
        # Nothing chosen yet: the highlighted model is an active one.
        highlighted = keys[models.cursor_row]
        assert highlighted not in LEGACY_OR_GONE and not highlighted.startswith("cohere.")
        haiku_row = models.get_row(HAIKU)
        assert "end of life since 2026-09-10" in str(haiku_row[1])

        models.move_cursor(row=models.get_row_index(HAIKU))
        await settle(pilot, lambda: "Claude 3 Haiku" in text_of(app, "#model-detail"))
        detail = " ".join(text_of(app, "#model-detail").split())
        assert "End of life in us-west-2 since 2026-09-10" in detail
        assert "Pick Nova 2 Lite (us-east-1)" in detail
        assert app.screen.query_one("#use", Button).disabled

        # A legacy model can still be chosen on purpose, with its status said again.
        models.move_cursor(row=models.get_row_index(TITAN))
        await settle(pilot, lambda: "Titan Text G1 Express" in text_of(app, "#model-detail"))
        assert "Legacy in us-west-2" in text_of(app, "#model-detail")
        assert not app.screen.query_one("#use", Button).disabled
        await pilot.click("#use")
        await settle(pilot, lambda: app.wizard_run.base_model_id == TITAN)
        await settle(pilot, lambda: any("legacy" in n.message for n in app._notifications))


async def test_no_active_model_means_nothing_is_preselected_as_if_it_were() -> None:
    app = BedrockTuneApp(
        LaunchOptions(sandbox=True, poll_interval=0.05), sandbox_factory=lambda: Sandbox()
    )
    async with app.run_test(size=(170, 50)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        app.go_to_step("model")
        await settle(pilot, lambda: "offered" in text_of(app, "#models-status"))
        kind = app.screen.query_one("#customization-type", Select)
        kind.value = CustomizationType.CONTINUED_PRE_TRAINING.value
        await settle(pilot, lambda: "Titan" in text_of(app, "#model-detail"))
        assert "no active model" in text_of(app, "#models-status").lower()
        assert app.wizard_run.base_model_id is None
