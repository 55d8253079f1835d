"""A line of status that takes no room while it says nothing."""

from __future__ import annotations

from rich.text import Text
from textual.visual import VisualType
from textual.widgets import Static


class StatusLine(Static):
    """A `Static` shown only while it has something to say: an empty one takes no line (a
    screen can keep its status lines in reading order, high on the screen, without gaps)."""

    def __init__(
        self,
        content: VisualType = "",
        *,
        id: str | None = None,  # noqa: A002 (Textual's name)
        classes: str | None = None,
    ) -> None:
        super().__init__(content, id=id, classes=classes)
        self.display = _says_something(content)

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        super().update(content, layout=layout)
        self.display = _says_something(content)


def _says_something(content: VisualType) -> bool:
    if isinstance(content, str | Text):
        return bool(str(content).strip())
    return True
