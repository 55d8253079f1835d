"""The "fine-tune or RAG?" guide: reachable from the model step and the command palette, the
answer follows the questions, and it fits 80x24."""

from __future__ import annotations

from textual.app import App
from textual.widgets import Checkbox, Input

from core.sandbox.server import Sandbox
from screens.advise import AdviseScreen
from screens.base import LaunchOptions
from tests.tui.helpers import settle, text_of
from tui.app import BedrockTuneApp


class _Host(App[None]):
    def on_mount(self) -> None:
        self.push_screen(AdviseScreen())


async def test_the_answer_follows_the_questions_at_80x24() -> None:
    app = _Host()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: "Recommendation" in text_of(app, "#advice"))
        assert "Recommendation: NEITHER" in text_of(app, "#advice")

        app.screen.query_one("#q-changing_knowledge", Checkbox).value = True
        await settle(pilot, lambda: "Recommendation: RAG" in text_of(app, "#advice"))
        assert "Amazon Bedrock Knowledge Bases" in text_of(app, "#advice")

        app.screen.query_one("#q-style_or_format", Checkbox).value = True
        examples = app.screen.query_one("#q-labeled_examples", Input)
        examples.value = "500"
        await settle(pilot, lambda: "Recommendation: BOTH" in text_of(app, "#advice"))
        assert "embedding unknown" in text_of(app, "#advice")

        examples.value = ""  # not answered yet: the default (0 examples) stands
        await settle(pilot, lambda: "Recommendation: RAG" in text_of(app, "#advice"))

        await pilot.press("escape")
        await settle(pilot, lambda: not isinstance(app.screen, AdviseScreen))


async def test_reachable_from_the_model_step_and_the_palette() -> None:
    app = BedrockTuneApp(
        LaunchOptions(sandbox=True, poll_interval=0.05), sandbox_factory=lambda: Sandbox()
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        app.go_to_step("model")
        await settle(pilot, lambda: "offered" in text_of(app, "#models-status"))
        await pilot.press("f")
        await settle(pilot, lambda: isinstance(app.screen, AdviseScreen))
        await settle(pilot, lambda: "Recommendation" in text_of(app, "#advice"))
        # The sandbox's Price List answered: each cost says so, with its date.
        advice = text_of(app, "#advice")
        assert "training $" in advice and "(Price List API, " in advice
        assert "built-in" not in advice and "$0.00 " not in advice
        await pilot.press("escape")
        await settle(pilot, lambda: not isinstance(app.screen, AdviseScreen))

        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Fine-tune or RAG?" in titles
        await pilot.press("ctrl+p")
        await pilot.press(*"Fine-tune or RAG")
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, AdviseScreen))
