"""Choose the dataset: a Hugging Face id (+ config, split), a local JSONL / JSON / CSV / Parquet
file (path field or file browser), or a `save_to_disk` folder; see its columns, row count and
records, and open any record whole."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, DirectoryTree, Input, Label, Static

from core import format as fmt
from core.data.sources import Preview, SourceSpec, preview
from screens.base import StepScreen
from screens.workers import WorkerResult

PREVIEW_ROWS = 50
_DATA_SUFFIXES = {".jsonl", ".ndjson", ".json", ".csv", ".parquet", ".pq"}


@dataclass
class PreviewLoaded(WorkerResult):
    """The head of the dataset: its columns, row count and first records."""

    preview: Preview


class DataFiles(DirectoryTree):
    """A file browser that shows folders and dataset files only; Backspace goes up a folder
    (past the one bedrock-tune started in), Esc closes it."""

    BINDINGS = [
        Binding("backspace", "parent", "Parent folder", id="browse-parent", key_display="⌫"),
        Binding("escape", "close", "Close browser", id="browse-close"),
    ]

    @dataclass
    class Closed(Message):
        """The user closed the browser without choosing (Esc)."""

    def filter_paths(self, paths: list[Path]) -> list[Path]:  # type: ignore[override]
        return [
            p
            for p in paths
            if not p.name.startswith(".") and (p.is_dir() or p.suffix.lower() in _DATA_SUFFIXES)
        ]

    def on_mount(self) -> None:
        self.border_title = str(self.path)

    def action_parent(self) -> None:
        """Show the folder above the one shown."""
        current = Path(self.path).resolve()
        if current.parent != current:
            self.path = current.parent
            self.border_title = str(current.parent)

    def action_close(self) -> None:
        """Close without choosing."""
        self.post_message(self.Closed())


class RecordScreen(ModalScreen[None]):
    """One record, whole, as pretty JSON."""

    DEFAULT_CSS = """
    RecordScreen { align: center middle; }
    RecordScreen > VerticalScroll {
        width: 90%; height: 85%; border: round $accent; background: $surface; padding: 1 2;
    }
    """
    BINDINGS = [Binding("escape", "dismiss", "Close", id="close-record")]

    def __init__(self, title: str, record: dict[str, object]) -> None:
        super().__init__()
        self._title = title
        self._record = record

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Label(self._title, classes="step-heading")
            text = json.dumps(self._record, indent=2, ensure_ascii=False, default=str)
            yield Static(Syntax(text, "json", word_wrap=True, theme="ansi_dark"), id="record-json")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)


def _cell(value: object, width: int = 48) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


class DatasetScreen(StepScreen):
    """Open a dataset and look at it."""

    STEP_ID = "dataset"
    STEP_TITLE = "Dataset"
    CSS_PATH = "styles/dataset.tcss"

    BINDINGS = [
        Binding("ctrl+n", "next_step", "Use dataset", id="next-step"),
        Binding("ctrl+o", "open_source", "Open", id="open-dataset"),
        Binding("ctrl+b", "toggle_browser", "Browse files", id="browse-files"),
    ]
    """Enter in the path field opens it; Ctrl+N uses the opened dataset and moves on."""

    def __init__(self) -> None:
        super().__init__()
        self._preview: Preview | None = None

    def compose_body(self) -> ComposeResult:
        yield Label("Which data do you want to train on?", classes="step-heading")
        yield Static(
            "A local JSONL, JSON, CSV or Parquet file, a folder saved with `save_to_disk`, or a "
            "Hugging Face dataset id (e.g. cnn_dailymail, config 3.0.0, split train). Only the "
            "first records are read.",
            classes="step-intro",
        )
        with Horizontal(id="source-row"):
            yield Input(placeholder="path or Hugging Face id", id="source")
            yield Input(placeholder="config (hub)", id="config")
            yield Input(placeholder="split", id="split")
        with Horizontal(id="source-buttons", classes="button-row"):
            yield Button("Open", id="open", variant="primary")
            yield Button("Browse", id="browse")
        # The file browser is mounted here when first opened (listing a folder is not free).
        yield Static("", id="dataset-summary")
        with Horizontal(id="dataset-columns", classes="columns"):
            with Vertical(id="columns-column"):
                yield Label("Columns", classes="field-label")
                columns: DataTable[str] = DataTable(id="columns", cursor_type="none")
                yield columns
            with Vertical(id="records-column"):
                yield Label("Records (Enter opens one)", classes="field-label")
                records: DataTable[str] = DataTable(id="records", cursor_type="row")
                yield records
        with Horizontal(classes="button-row step-actions"):
            yield Button("Use this dataset", id="use", variant="primary", disabled=True)

    def on_mount(self) -> None:
        self.query_one("#columns", DataTable).add_columns("name", "type")
        self.query_one("#source", Input).focus()
        run = self.host.wizard_run
        if run.source_location:
            self.query_one("#source", Input).value = run.source_location
            self.query_one("#config", Input).value = run.source_config or ""
            self.query_one("#split", Input).value = run.source_split or ""
            self.action_open_source()

    def _spec(self) -> SourceSpec | None:
        location = self.query_one("#source", Input).value.strip()
        if not location:
            return None
        return SourceSpec(
            location,
            self.query_one("#config", Input).value.strip() or None,
            self.query_one("#split", Input).value.strip() or None,
        )

    def action_toggle_browser(self) -> None:
        """Show or hide the file browser (it opens on the folder of the path typed, if any)."""
        found = self.query("#browser").results(DataFiles)
        browser = next(found, None)
        if browser is None:
            browser = DataFiles(self._browse_from(), id="browser")
            self.query_one("#step-body").mount(browser, after="#source-buttons")
        if browser.has_class("-open"):
            self._close_browser()
        else:
            browser.add_class("-open")
            browser.focus()

    def _browse_from(self) -> Path:
        """The folder of the path typed (or the folder itself), else the working folder."""
        typed = self.query_one("#source", Input).value.strip()
        if typed:
            path = Path(typed).expanduser().resolve()
            folder = path if path.is_dir() else path.parent
            if folder.is_dir():
                return folder
        return Path.cwd()

    def _close_browser(self) -> None:
        for browser in self.query("#browser").results(DataFiles):
            browser.remove_class("-open")
        self.query_one("#source", Input).focus()

    @on(DataFiles.Closed)
    def _browser_closed(self) -> None:
        self._close_browser()

    @on(Button.Pressed, "#browse")
    def _browse(self) -> None:
        self.action_toggle_browser()

    @on(DirectoryTree.FileSelected, "#browser")
    def _file_chosen(self, event: DirectoryTree.FileSelected) -> None:
        self.query_one("#source", Input).value = str(event.path)
        self._close_browser()
        self.action_open_source()

    @on(DirectoryTree.DirectorySelected, "#browser")
    def _folder_chosen(self, event: DirectoryTree.DirectorySelected) -> None:
        if (event.path / "dataset_dict.json").is_file() or (event.path / "state.json").is_file():
            self.query_one("#source", Input).value = str(event.path)
            self._close_browser()
            self.action_open_source()

    @on(Input.Submitted)
    @on(Button.Pressed, "#open")
    def action_open_source(self) -> None:
        """Read the head of the source."""
        spec = self._spec()
        if spec is None:
            self.notify("Type a path or a Hugging Face dataset id first.", severity="warning")
            return
        self.clear_error()
        self.query_one("#use", Button).disabled = True
        self.query_one("#dataset-summary", Static).update(f"Opening {spec.describe()}...")
        self.load_preview(spec)

    @work(thread=True, exclusive=True, exit_on_error=False, group="preview", name="preview")
    def load_preview(self, spec: SourceSpec) -> PreviewLoaded:
        """The head of the dataset (the hub is streamed; local files read from the start)."""
        return PreviewLoaded(preview(spec, PREVIEW_ROWS))

    def worker_failed(self, name: str, error: BaseException) -> None:
        # Nothing of an earlier dataset stays on screen under the error: it would look opened.
        self._preview = None
        self.query_one("#columns", DataTable).clear()
        self.query_one("#records", DataTable).clear(columns=True)
        self.query_one("#dataset-summary", Static).update(Text("Could not open it.", style="red"))
        self.show_error(error)

    @on(PreviewLoaded)
    def _show(self, message: PreviewLoaded) -> None:
        shown = self._preview = message.preview
        rows = "row count unknown" if shown.num_rows is None else fmt.plural(shown.num_rows, "row")
        summary = Text()
        summary.append(f"{shown.spec.describe()}", style="bold")
        summary.append(f"  {shown.kind}, {rows}, {fmt.plural(len(shown.columns), 'column')}")
        if shown.note:
            summary.append(f"  ({shown.note})", style="dim")
        self.query_one("#dataset-summary", Static).update(summary)
        columns = self.query_one("#columns", DataTable)
        columns.clear()
        for column in shown.columns:
            columns.add_row(column.name, column.type)
        records = self.query_one("#records", DataTable)
        records.clear(columns=True)
        names = shown.column_names[:6]
        records.add_columns("#", *names)
        for index, row in enumerate(shown.rows):
            records.add_row(str(index), *(_cell(row.get(n, "")) for n in names), key=str(index))
        self.query_one("#use", Button).disabled = not shown.rows

    @on(DataTable.RowSelected, "#records")
    def _record_chosen(self, event: DataTable.RowSelected) -> None:
        if self._preview is None or event.row_key.value is None:
            return
        index = int(event.row_key.value)
        self.app.push_screen(
            RecordScreen(
                f"Record {index} of {self._preview.spec.describe()}", self._preview.rows[index]
            )
        )

    def accept(self) -> bool:
        if self._preview is None or not self._preview.rows:
            self.notify(
                "Open a dataset first: type its path or id and press Enter (Ctrl+B browses).",
                severity="warning",
            )
        else:
            self._use()
        return True

    @on(Button.Pressed, "#use")
    def _use(self) -> None:
        shown = self._preview
        if shown is None:
            return
        self.host.update_run(
            replace(
                self.host.wizard_run,
                source_location=shown.spec.location,
                source_config=shown.spec.config,
                source_split=shown.spec.split,
            )
        )
        self.host.next_step(self.STEP_ID)
