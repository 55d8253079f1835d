"""A dialog that asks for a file path and checks it before closing: the check (reading a
recipe, writing one) runs in a thread, and what is wrong is shown in the dialog, so the path can
be fixed there. A check may ask before replacing a file (`ReplaceNeeded`): Enter again replaces.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static
from textual.worker import Worker, WorkerState

from core.errors import BedrockTuneError
from screens.base import error_of
from screens.workers import WorkerResult, post_worker_result


class ReplaceNeeded(BedrockTuneError):
    """The path names a file that exists: the check asks before replacing it."""

    default_title = "File exists"


FileCheck = Callable[[Path, bool], Any]
"""`check(path, replace)`: the dialog's result for `path` (blocking; run in a thread). Raises
BedrockTuneError for a path that will not do, `ReplaceNeeded` when `replace` is False and the
file exists."""


@dataclass
class FileChecked(WorkerResult):
    """The check passed: what it gave back is the dialog's result."""

    value: Any


class FileDialog(ModalScreen[Any]):
    """Ask for a path; dismiss with the check's result (None when cancelled)."""

    DEFAULT_CSS = """
    FileDialog { align: center middle; }
    FileDialog > Vertical {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $surface; padding: 1 2;
    }
    FileDialog #file-title { text-style: bold; margin-bottom: 1; }
    FileDialog #file-error { height: auto; margin-top: 1; }
    FileDialog #file-buttons { height: auto; margin-top: 1; align-horizontal: right; }
    FileDialog Button { margin-left: 2; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="file-cancel")]

    def __init__(
        self, title: str, message: str, initial: str, action: str, check: FileCheck
    ) -> None:
        super().__init__()
        self._title = title
        self._message = message
        self._initial = initial
        self._action = action
        self._check = check
        self._replace_armed: str | None = None
        """The path the person was told exists: Enter on it again replaces it."""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self._title, id="file-title")
            yield Static(self._message, id="file-message")
            yield Input(self._initial, id="file-path", placeholder="a path, e.g. recipe.toml")
            yield Static("", id="file-error")
            with Horizontal(id="file-buttons"):
                yield Button("Cancel", id="file-no")
                yield Button(self._action, id="file-yes", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#file-path", Input).focus()

    @on(Input.Submitted, "#file-path")
    @on(Button.Pressed, "#file-yes")
    def _submit(self) -> None:
        text = self.query_one("#file-path", Input).value.strip()
        if not text:
            self._show(Text("Type a path first.", style="yellow"))
            return
        self._show(Text("Checking...", style="dim"))
        self.query_one("#file-yes", Button).disabled = True
        self.check_path(text, replace=self._replace_armed == text)

    @on(Input.Changed, "#file-path")
    def _typed(self) -> None:
        self._replace_armed = None

    @work(thread=True, exclusive=True, exit_on_error=False, group="file", name="check")
    def check_path(self, text: str, *, replace: bool) -> FileChecked:
        """Run the check on the typed path (expanded `~`)."""
        return FileChecked(self._check(Path(text).expanduser(), replace))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.node is not self:
            return
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.query_one("#file-yes", Button).disabled = False
            error = error_of(event.worker.error)
            if isinstance(error, ReplaceNeeded):
                self._replace_armed = self.query_one("#file-path", Input).value.strip()
            self._show(Text(error.describe(), style="red"))
        else:
            post_worker_result(event)

    @on(FileChecked)
    def _checked(self, message: FileChecked) -> None:
        self.dismiss(message.value)

    def _show(self, text: Text) -> None:
        self.query_one("#file-error", Static).update(text)

    @on(Button.Pressed, "#file-no")
    def action_cancel(self) -> None:
        """Close without a result."""
        self.dismiss(None)
