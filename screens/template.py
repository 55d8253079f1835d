"""Edit the prompt template, and see record i rendered as the exact JSON line Bedrock will get,
with its size against the model's per-record limit. Problems show inline, with the columns."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from core import format as fmt
from core.catalog.lookup import find_model
from core.catalog.types import BaseModel, Customization, CustomizationType
from core.data.record_preview import preview_record, template_problems
from core.data.sources import Preview, SourceSpec, preview
from core.data.templates import (
    PRESETS,
    Template,
    guess_template,
    load_template,
    save_template,
    template_from_dict,
    template_to_toml,
)
from core.errors import BedrockTuneError, TemplateError
from screens.base import StepScreen
from screens.workers import WorkerResult

CUSTOM = "custom"


@dataclass
class RecordsLoaded(WorkerResult):
    """The dataset's first records, to render through the template."""

    preview: Preview


class TemplateScreen(StepScreen):
    """The template editor with a live rendering of the records."""

    STEP_ID = "template"
    STEP_TITLE = "Template"
    CSS_PATH = "styles/template.tcss"

    BINDINGS = [
        Binding("ctrl+n", "next_step", "Use template", id="next-step"),
        # Function keys, not Ctrl+[ (which a terminal sends as Esc) nor Ctrl+] (not every
        # keyboard layout can type it): they work in every terminal and in the text areas.
        Binding("f7", "previous_record", "Prev record", id="prev-record"),
        Binding("f8", "next_record", "Next record", id="next-record"),
        Binding("ctrl+s", "save_template", "Save TOML", id="save-template"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._preview: Preview | None = None
        self._index = 0
        self._model: BaseModel | None = None
        self._custom: Customization | None = None
        self._loading = False

    def compose_body(self) -> ComposeResult:
        yield Label("How does a record become a training example?", classes="step-heading")
        yield Static("", id="format-line")
        with Horizontal(id="template-columns", classes="columns"):
            with Vertical(id="editor-column"):
                with Horizontal(id="preset-row"):
                    yield Label("Start from", classes="inline-label")
                    options = [(f"{p.name}: {p.description}", p.name) for p in PRESETS.values()]
                    yield Select[str](
                        [*options, ("custom", CUSTOM)], id="preset", allow_blank=False, value=CUSTOM
                    )
                yield Label("System prompt", classes="field-label")
                yield TextArea(id="system", soft_wrap=True)
                yield Label(
                    "User ({column} placeholders; [[ ... ]] is optional)", classes="field-label"
                )
                yield TextArea(id="user", soft_wrap=True)
                yield Label("Assistant (the answer to learn)", classes="field-label")
                yield TextArea(id="assistant", soft_wrap=True)
                yield Label("Or: a column that already holds chat messages", classes="field-label")
                yield Input(
                    id="messages-column", placeholder="e.g. messages (leave empty otherwise)"
                )
                with Horizontal(id="toml-row"):
                    yield Input(id="toml-path", placeholder="template.toml")
                    yield Button("Save", id="save")
                    yield Button("Load", id="load")
            with Vertical(id="render-column"):
                with Horizontal(id="record-nav"):
                    yield Button("<", id="previous")
                    yield Static("", id="record-position")
                    yield Button(">", id="next")
                yield Static("", id="columns-line")
                yield Static("", id="problems")
                yield Static("", id="record-stats")
                yield Static("", id="rendered")
        with Horizontal(classes="button-row step-actions"):
            yield Button("Use this template", id="use", variant="primary", disabled=True)

    # ------------------------------------------------------------------ loading

    def on_mount(self) -> None:
        self._load()

    def on_screen_resume(self) -> None:
        run = self.host.wizard_run
        spec = self._spec()
        if (
            self._preview is None
            or (spec and spec != self._preview.spec)
            or (self._model and self._model.id != run.base_model_id)
        ):
            self._load()

    def _spec(self) -> SourceSpec | None:
        run = self.host.wizard_run
        if not run.source_location:
            return None
        return SourceSpec(run.source_location, run.source_config, run.source_split)

    def _load(self) -> None:
        run = self.host.wizard_run
        if run.base_model_id:
            self._model = find_model(run.base_model_id)
            self._custom = self._model.customization(CustomizationType(run.customization_type))
        if self._custom and self._model:
            limit = self._custom.limits.max_tokens_per_record
            limit_text = f"{limit:,} tokens per record" if limit else "no known per-record limit"
            self.query_one("#format-line", Static).update(
                Text.assemble(
                    ("Format ", "bold"),
                    f"{self._custom.data_format.label}, as {self._model.name} needs; ",
                    limit_text,
                )
            )
        spec = self._spec()
        if spec is not None:
            self.load_records(spec)

    @work(thread=True, exclusive=True, exit_on_error=False, group="records", name="records")
    def load_records(self, spec: SourceSpec) -> RecordsLoaded:
        """The first records of the dataset, to render."""
        return RecordsLoaded(preview(spec, 50))

    @on(RecordsLoaded)
    def _records_loaded(self, message: RecordsLoaded) -> None:
        loaded = self._preview = message.preview
        self._index = 0
        self.query_one("#columns-line", Static).update(
            Text.assemble(("Columns ", "bold"), ", ".join(loaded.column_names))
        )
        run = self.host.wizard_run
        if run.template_toml:
            template = template_from_dict(tomllib.loads(run.template_toml))
        else:
            template = guess_template(loaded.column_names)
        self._set_template(template)

    def _set_template(self, template: Template) -> None:
        self._loading = True
        self.query_one("#system", TextArea).text = template.system
        self.query_one("#user", TextArea).text = template.user
        self.query_one("#assistant", TextArea).text = template.assistant
        self.query_one("#messages-column", Input).value = template.messages_column or ""
        select = self.query_one("#preset", Select)
        select.value = template.name if template.name in PRESETS else CUSTOM
        self._loading = False
        self._refresh()

    # ------------------------------------------------------------------ editing

    def template(self) -> Template:
        """The template as edited."""
        preset = self.query_one("#preset", Select).value
        return Template(
            name=preset if isinstance(preset, str) and preset != CUSTOM else "custom",
            system=self.query_one("#system", TextArea).text,
            user=self.query_one("#user", TextArea).text,
            assistant=self.query_one("#assistant", TextArea).text,
            messages_column=self.query_one("#messages-column", Input).value.strip() or None,
        )

    @on(Select.Changed, "#preset")
    def _preset_chosen(self, event: Select.Changed) -> None:
        if self._loading or not isinstance(event.value, str) or event.value == CUSTOM:
            return
        self._set_template(PRESETS[event.value])

    @on(TextArea.Changed)
    @on(Input.Changed, "#messages-column")
    def _edited(self) -> None:
        if not self._loading:
            self._refresh()

    def action_next_record(self) -> None:
        """Render the next record."""
        if self._preview and self._index + 1 < len(self._preview.rows):
            self._index += 1
            self._refresh()

    def action_previous_record(self) -> None:
        """Render the previous record."""
        if self._index > 0:
            self._index -= 1
            self._refresh()

    @on(Button.Pressed, "#next")
    def _next_pressed(self) -> None:
        self.action_next_record()

    @on(Button.Pressed, "#previous")
    def _previous_pressed(self) -> None:
        self.action_previous_record()

    def _refresh(self) -> None:
        shown = self._preview
        if shown is None or not shown.rows or self._custom is None:
            return
        template = self.template()
        record = shown.rows[self._index]
        self.query_one("#record-position", Static).update(
            f" record {self._index + 1} of {len(shown.rows)} "
        )
        checked = preview_record(template, shown.column_names, record, self._custom)
        panel = self.query_one("#problems", Static)
        if checked.problems:
            text = Text()
            for problem in checked.problems:
                text.append("✘ ", style="bold red")
                text.append(f"{problem.field}: ", style="bold")
                text.append(f"{problem.message}\n")
            panel.update(text)
            self.query_one("#rendered", Static).update("")
            self.query_one("#record-stats", Static).update("")
        else:
            panel.update(Text("✔ The template fits this record.", style="green"))
            stats = Text()
            stats.append(
                f"{fmt.plural(checked.chars, 'character')}, about "
                f"{fmt.plural(checked.tokens, 'token')}"
            )
            if checked.limit:
                share = checked.tokens / checked.limit
                style = "red" if share > 1 else "yellow" if share > 0.9 else "green"
                stats.append(f" of {checked.limit:,} allowed", style=style)
            self.query_one("#record-stats", Static).update(stats)
            self.query_one("#rendered", Static).update(
                Syntax(checked.line, "json", word_wrap=True, theme="ansi_dark")
            )
        self.query_one("#use", Button).disabled = bool(
            template_problems(template, shown.column_names, self._custom)
        )

    # ------------------------------------------------------------------ TOML and use

    def _toml_path(self) -> Path | None:
        text = self.query_one("#toml-path", Input).value.strip()
        if not text:
            self.notify("Type a file name for the template first.", severity="warning")
            return None
        return Path(text).expanduser()

    @on(Button.Pressed, "#save")
    def action_save_template(self) -> None:
        """Save the template as TOML."""
        path = self._toml_path()
        if path is None:
            return
        try:
            save_template(self.template(), path)
        except OSError as error:
            self.show_error(
                TemplateError(
                    f"Cannot write {path}: {error.strerror}.",
                    hint="Choose a folder you can write to.",
                )
            )
            return
        self.notify(f"Saved {path}.", title="Template")

    @on(Button.Pressed, "#load")
    def _load_pressed(self) -> None:
        path = self._toml_path()
        if path is None:
            return
        try:
            template = load_template(str(path))
        except BedrockTuneError as error:
            self.show_error(error)
            return
        self.clear_error()
        self._set_template(template)
        self.notify(f"Loaded {path}.", title="Template")

    def accept(self) -> bool:
        if self.query_one("#use", Button).disabled:
            self.notify(
                "The template does not fit the records yet: see the problems beside it.",
                severity="warning",
            )
        else:
            self._use()
        return True

    @on(Button.Pressed, "#use")
    def _use(self) -> None:
        self.host.update_run(
            replace(self.host.wizard_run, template_toml=template_to_toml(self.template()))
        )
        self.host.next_step(self.STEP_ID)
