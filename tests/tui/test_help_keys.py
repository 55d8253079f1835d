"""The `?` help names every key that works everywhere (the app's own) and the export key of the
infrastructure and launch steps, as the footer would show them."""

from __future__ import annotations

from dataclasses import replace

from textual.binding import Binding
from textual.dom import DOMNode
from textual.widgets import Label

from screens.base import LaunchOptions
from screens.help import KEYS, HelpScreen
from screens.infrastructure import InfrastructureScreen
from screens.launch import LaunchScreen
from tests.tui.helpers import settle
from tui.app import BedrockTuneApp


def _shown(key: str) -> str:
    """A Textual key as the help writes it: `ctrl+g` -> `Ctrl+G`, `f2` -> `F2`."""
    return "+".join(part.capitalize() if len(part) > 2 else part.upper() for part in key.split("+"))


def _bindings(owner: type[DOMNode]) -> list[Binding]:
    return [b for b in owner.BINDINGS if isinstance(b, Binding)]


def test_the_help_names_the_app_keys_and_the_export_key() -> None:
    keys = [b.key for b in _bindings(BedrockTuneApp)]
    for screen in (InfrastructureScreen, LaunchScreen):
        keys += [b.key for b in _bindings(screen) if b.id == "export-code"]
    assert "ctrl+g" in keys and "f2" in keys and "f3" in keys
    for key in keys:
        assert f"`{_shown(key)}`" in KEYS, key


async def test_the_header_under_a_dialog_follows_the_run() -> None:
    """A dialog leaves the step's header in view above it: a change of the run made while the
    dialog is open (an identity confirmed behind the resume dialog) shows there at once."""
    app = BedrockTuneApp(LaunchOptions(sandbox=True))
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        await pilot.press("question_mark")
        await settle(pilot, lambda: isinstance(app.screen, HelpScreen))
        app.update_run(replace(app.wizard_run, account_id="999988887777"))
        await pilot.pause()
        step = app.screen_stack[-2]
        where = step.query_one("#header-where", Label)
        assert "account 999988887777" in str(where.render())
