"""The `?` help names every key that works everywhere (the app's own) and the export key of the
infrastructure and launch steps, as the footer would show them."""

from __future__ import annotations

from textual.binding import Binding
from textual.dom import DOMNode

from screens.help import KEYS
from screens.infrastructure import InfrastructureScreen
from screens.launch import LaunchScreen
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
