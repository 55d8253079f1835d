"""The export of the current run as code, in a dialog: a format chooser, the text in a read-only
editor (select and copy with the keyboard, or copy it all), and saving it to a file.

Opened by Ctrl+G in the infrastructure and launch steps. The text is `core.export`'s, the same
as `bedrock-tune export RUN_ID --as FORMAT` prints.
"""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Static, Tab, Tabs, TextArea

from core.errors import BedrockTuneError, file_error
from core.export import (
    FORMAT_LABELS,
    FORMATS,
    ExportFormat,
    export_text,
    suggested_name,
    write_export,
)
from core.files import output_file_problem
from core.run import Run

_TAB_LABELS: dict[ExportFormat, str] = {
    "boto3": "boto3 script",
    "cli": "AWS CLI script",
    "iam": "IAM JSON",
    "cloudformation": "CloudFormation",
}


class ExportScreen(ModalScreen[None]):
    """The run as a boto3 script, an AWS CLI script, IAM documents or a CloudFormation
    template; Escape closes it."""

    DEFAULT_CSS = """
    ExportScreen { align: center middle; }
    ExportScreen > Vertical {
        width: 100%; max-width: 110; height: 100%; max-height: 40;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    ExportScreen #export-title { text-style: bold; }
    ExportScreen #export-text { height: 1fr; min-height: 5; }
    ExportScreen #export-save-row { height: auto; }
    ExportScreen #export-path { width: 1fr; }
    ExportScreen #export-status { height: auto; color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape", "close", "Close", id="close-export"),
        Binding("c", "copy_all", "Copy all", id="export-copy"),
        Binding("ctrl+s", "save", "Save to file", id="export-save"),
    ]

    def __init__(self, run: Run, folder: Path | None = None) -> None:
        super().__init__()
        self._run = run
        self._folder = folder or Path.cwd()
        self._format: ExportFormat = "boto3"
        self._text = ""
        self._replace: Path | None = None
        """A file that exists, which the next save replaces (the user saved once already)."""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Export the run as code", id="export-title")
            yield Tabs(
                *(Tab(_TAB_LABELS[f], id=f"export-{f}") for f in FORMATS), id="export-formats"
            )
            yield TextArea(
                "", read_only=True, soft_wrap=False, show_line_numbers=False, id="export-text"
            )
            with Horizontal(id="export-save-row"):
                yield Input(id="export-path", placeholder="file to write")
                yield Button("Save", id="export-save-button")
            yield Static("", id="export-status")
        yield Footer()

    def on_mount(self) -> None:
        self._show("boto3")
        self.query_one(Tabs).focus()

    @on(Tabs.TabActivated, "#export-formats")
    def _format_chosen(self, event: Tabs.TabActivated) -> None:
        chosen = str(event.tab.id or "").removeprefix("export-")
        if chosen in FORMATS and chosen != self._format:
            self._show(chosen)

    def _show(self, fmt: ExportFormat) -> None:
        """Render the run in `fmt` into the editor, and suggest a file name for it."""
        path = self.query_one("#export-path", Input)
        old = str(self._folder / suggested_name(self._run, self._format))
        self._format = fmt
        if not path.value or path.value == old:
            path.value = str(self._folder / suggested_name(self._run, fmt))
        self._replace = None
        try:
            self._text = export_text(self._run, fmt)
        except BedrockTuneError as error:
            self._text = ""
            self.query_one("#export-text", TextArea).load_text(error.describe())
            self._status(f"Nothing to export: {error.message}")
            return
        self.query_one("#export-text", TextArea).load_text(self._text)
        lines = self._text.count("\n")
        self._status(
            f"{FORMAT_LABELS[fmt]}, {lines} lines. Tab: select in the text. c: copy it all."
        )

    def _status(self, text: str) -> None:
        self.query_one("#export-status", Static).update(text)

    def action_copy_all(self) -> None:
        """Put the whole export on the clipboard (the terminal's, through OSC 52)."""
        if not self._text:
            self.notify("There is nothing to copy.", severity="warning")
            return
        self.app.copy_to_clipboard(self._text)
        self.notify(f"Copied the {FORMAT_LABELS[self._format]} to the clipboard.")

    @on(Button.Pressed, "#export-save-button")
    @on(Input.Submitted, "#export-path")
    def action_save(self) -> None:
        """Write the export to the path in the field (atomically); an existing file is replaced
        only when asked twice."""
        if not self._text:
            self.notify("There is nothing to save.", severity="warning")
            return
        raw = self.query_one("#export-path", Input).value.strip()
        if not raw:
            self._status("Type the file to write first.")
            return
        path = Path(raw).expanduser()
        exists = path.exists()
        problem = output_file_problem(path, overwrite=True)
        if problem is not None:
            self._status(f"Cannot write there: {path} {problem}.")
            return
        if exists and self._replace != path:
            self._replace = path
            self._status(f"{path} exists: press Ctrl+S again to replace it.")
            return
        try:
            write_export(path, self._text, self._format)
        except OSError as error:
            self._status(file_error(error).describe())
            return
        self._replace = None
        self._status(f"Saved the {FORMAT_LABELS[self._format]} to {path}.")
        self.notify(f"Saved {path.name}.")

    def action_close(self) -> None:
        """Close the dialog."""
        self.dismiss(None)
