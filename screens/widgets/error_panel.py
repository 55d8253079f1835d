"""One place to show an error: title, message and what to do about it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

if TYPE_CHECKING:
    from core.errors import BedrockTuneError


class ErrorPanel(Static):
    """A panel that shows a `BedrockTuneError` (hidden while there is none)."""

    DEFAULT_CSS = """
    ErrorPanel {
        display: none;
        border: round $error;
        border-title-color: $error;
        border-title-style: bold;
        padding: 0 1;
        margin: 1 0 0 0;
        height: auto;
    }
    ErrorPanel.-visible { display: block; }
    ErrorPanel.-warning { border: round $warning; border-title-color: $warning; }
    """

    def show_error(self, error: BedrockTuneError, *, warning: bool = False) -> None:
        """Show `error` (as a warning when it does not block the step)."""
        self.error = error
        self.border_title = error.title
        text = Text(error.message)
        if error.hint:
            text.append("\n")
            text.append("What to do: ", style="bold")
            text.append(error.hint)
        self.update(text)
        self.set_class(warning, "-warning")
        self.add_class("-visible")

    def reveal(self) -> None:
        """Scroll the panel into view once it is laid out (a long step, at 80x24, would
        otherwise keep the error below the fold)."""
        self.call_after_refresh(self.scroll_visible, animate=False)

    def clear(self) -> None:
        """Hide the panel."""
        self.error = None
        self.remove_class("-visible")
        self.update("")

    error: BedrockTuneError | None = None
