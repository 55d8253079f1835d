"""Chat with the deployed model, streaming, with the system prompt it was trained with; in compare
mode each message also goes to the base model (by its inference id) and both answers show side
by side with latency and tokens. A test record can be loaded, with its reference answer."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Label, Static, Switch, TextArea
from textual.worker import get_current_worker

from core.catalog.lookup import find_model
from core.catalog.types import CustomizationType
from core.data.prepared import PreparedDir
from core.errors import BedrockTuneError, NotFoundError, ValidationError
from core.evaluation.evaluate import load_test_records
from core.importing.architectures import architecture_of
from core.run.routes import serving_target
from core.serving.chat import (
    Answer,
    Settings,
    Turn,
    base_inference_id,
    converse_stream,
    folds_system,
    invoke_openai_chat,
)
from core.serving.endpoint import endpoint_of, invoke_endpoint_stream
from screens.base import StepScreen

if TYPE_CHECKING:
    from core.aws import AwsContext


class Transcript(VerticalScroll):
    """One side of the conversation; it follows the end of an answer as it streams in, until
    the user scrolls up (and again once they scroll back to the end)."""

    DEFAULT_CSS = """
    Transcript { height: 1fr; border: round $panel; padding: 0 1; }
    Transcript > Static { margin-bottom: 1; }
    """

    def on_mount(self) -> None:
        self.anchor()

    def add(self, text: Text) -> Static:
        """Append a message (the anchor scrolls to it)."""
        widget = Static(text)
        self.mount(widget)
        return widget


class PromptArea(TextArea):
    """The message box: several lines; Enter sends, Ctrl+J (or Alt+Enter) starts a new line."""

    BINDINGS = [
        Binding(
            "ctrl+j,alt+enter,shift+enter",
            "new_line",
            "New line",
            id="prompt-new-line",
            key_display="^j",
        ),
    ]

    @dataclass
    class Submitted(Message):
        """Enter was pressed in the box: send its text."""

        prompt_area: PromptArea

        @property
        def control(self) -> PromptArea:
            """The box (for `@on(PromptArea.Submitted, "#id")`)."""
            return self.prompt_area

    async def _on_key(self, event: events.Key) -> None:
        # Runs before TextArea's own handler, which would insert a line break for Enter.
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.post_message(self.Submitted(self))

    def action_new_line(self) -> None:
        """Insert a line break at the cursor."""
        self.insert("\n")


class ChatScreen(StepScreen):
    """The chat, with the optional base-model comparison."""

    STEP_ID = "chat"
    STEP_TITLE = "Chat"
    CSS_PATH = "styles/chat.tcss"

    BINDINGS = [Binding("ctrl+o", "load_test_record", "Test record", id="load-test-record")]
    """Enter in the message box sends; Ctrl+O puts the next test record in it (Ctrl+T is the
    app's New run)."""

    def __init__(self) -> None:
        super().__init__()
        self._history: list[Turn] = []
        self._test_index = 0
        self._live: dict[str, tuple[Static, list[str]]] = {}

    def compose_body(self) -> ComposeResult:
        yield Label("Chat with your model", classes="step-heading")
        yield Static("", id="chat-models")
        with Horizontal(id="chat-settings"):
            yield Label("Compare with the base model", classes="inline-label")
            yield Switch(value=True, id="compare")
            yield Label("max tokens", classes="inline-label")
            yield Input("512", id="max-tokens", type="integer")
            yield Label("temperature", classes="inline-label")
            yield Input("0.7", id="temperature", type="number")
            yield Label("top p", classes="inline-label")
            yield Input("0.9", id="top-p", type="number")
        yield Label("System prompt (from the template)", classes="field-label")
        yield TextArea(id="system", soft_wrap=True)
        with Horizontal(id="transcripts"):
            with Vertical():
                yield Label("Tuned model", classes="field-label")
                yield Transcript(id="tuned")
            with Vertical(id="base-column"):
                yield Label("Base model", classes="field-label")
                yield Transcript(id="base")
        yield Static("", id="reference")
        with Horizontal(id="chat-input-row"):
            yield PromptArea(id="message", soft_wrap=True, show_line_numbers=False)
            with Vertical(id="chat-buttons"):
                yield Button("Send", id="send", variant="primary")
                yield Button("Load test record", id="load-test")
        yield Static(Text("Enter sends; Ctrl+J starts a new line.", style="dim"), id="message-help")

    def on_mount(self) -> None:
        run = self.host.wizard_run
        if run.template_toml:
            system = tomllib.loads(run.template_toml).get("system", "")
            self.query_one("#system", TextArea).text = str(system)
        self._show_models()
        self.query_one("#message", PromptArea).focus()

    def on_screen_resume(self) -> None:
        self._show_models()

    def _models(self) -> tuple[str | None, str | None]:
        """(the model the run serves, the base model to compare with: none for an import)."""
        run = self.host.wizard_run
        try:
            base = base_inference_id(find_model(run.base_model_id)) if run.base_model_id else None
        except NotFoundError:
            base = None  # not a Bedrock model (an open-weight, JumpStart or Autopilot base)
        return serving_target(run), base or None

    def _converses(self) -> bool:
        """Whether the served model answers Converse (an imported Qwen or GPT-OSS model answers
        InvokeModel only, with the OpenAI chat body)."""
        run = self.host.wizard_run
        if run.model_architecture is None or run.custom_model_arn != serving_target(run):
            return True
        found = architecture_of(run.model_architecture)
        return found is None or found.converse

    def _fold_system(self) -> bool:
        """Whether the model was trained with the system prompt inside its prompt."""
        run = self.host.wizard_run
        tuned, _ = self._models()
        if tuned is not None and endpoint_of(tuned) is not None:
            return True  # trained on prompt/completion text pairs (core.serving.endpoint)
        if not run.base_model_id:
            return False
        kind = CustomizationType.parse(run.customization_type)
        try:
            customization = find_model(run.base_model_id).customization(kind)
        except NotFoundError:
            return False
        return folds_system(customization.data_format if customization else None)

    def _show_models(self) -> None:
        tuned, base = self._models()
        self.query_one("#chat-models", Static).update(
            Text.assemble(
                ("Tuned ", "bold"), tuned or "not deployed", ("   Base ", "bold"), base or "-"
            )
        )
        self.query_one("#base-column").display = (
            base is not None and self.query_one("#compare", Switch).value
        )

    def _settings(self) -> Settings:
        try:
            settings = Settings(
                int(self.query_one("#max-tokens", Input).value or 512),
                float(self.query_one("#temperature", Input).value or 0.7),
                float(self.query_one("#top-p", Input).value or 0.9),
            )
        except ValueError:
            raise ValidationError(
                "Max tokens, temperature and top p must be numbers.",
                hint="For example 512, 0.7 and 0.9.",
            ) from None
        settings.check()  # nan, inf and out-of-range values never reach the API
        return settings

    @on(Switch.Changed, "#compare")
    def _compare_changed(self, event: Switch.Changed) -> None:
        self.query_one("#base-column").display = event.value and self._models()[1] is not None

    @on(PromptArea.Submitted, "#message")
    @on(Button.Pressed, "#send")
    def send(self) -> None:
        """Send the message to the tuned model (and the base model in compare mode)."""
        box = self.query_one("#message", PromptArea)
        question = box.text.strip()
        tuned, base = self._models()
        if not question:
            return
        if tuned is None:
            self.notify("Deploy (or import) the model first.", severity="warning")
            return
        try:
            settings = self._settings()
            context = self.require_context()
        except BedrockTuneError as error:
            self.show_error(error)
            return
        fold = self._fold_system()
        self.clear_error()
        box.text = ""
        system = self.query_one("#system", TextArea).text
        self._history.append(Turn("user", question))
        compare = self.query_one("#compare", Switch).value and base is not None
        for side in ("tuned", "base") if compare else ("tuned",):
            transcript = self.query_one(f"#{side}", Transcript)
            transcript.add(Text(f"you: {question}", style="bold"))
            self._live[side] = (transcript.add(Text("...", style="dim")), [])
        history = list(self._history)
        self.stream(context, "tuned", tuned, system, history, settings, fold, self._converses())
        if compare and base:
            self.stream(context, "base", base, system, [Turn("user", question)], settings, fold)

    @work(thread=True, exit_on_error=False, group="chat")
    def stream(
        self,
        context: AwsContext,
        side: str,
        model: str,
        system: str,
        turns: list[Turn],
        settings: Settings,
        fold: bool,
        converses: bool = True,
    ) -> None:
        """Stream one model's answer into its transcript (`fold`: the system prompt goes in
        front of the message, as the model was trained; without `converses`, one InvokeModel
        answer in the OpenAI chat shape instead)."""
        worker = get_current_worker()

        def warming(times: int) -> None:
            if not worker.is_cancelled:
                self.app.call_from_thread(self._warming, side, times)

        if not converses:
            answer = invoke_openai_chat(context, model, system, turns, settings, on_cold=warming)
            if not worker.is_cancelled:
                self.app.call_from_thread(self._piece, side, answer)
            return
        endpoint = endpoint_of(model)
        pieces = (
            invoke_endpoint_stream(context, endpoint, system, turns, settings)
            if endpoint is not None
            else converse_stream(
                context, model, system, turns, settings, fold_system=fold, on_cold=warming
            )
        )
        for piece in pieces:
            if worker.is_cancelled:
                return  # the screen is closing: nothing is left to show the rest in
            self.app.call_from_thread(self._piece, side, piece)

    def _warming(self, side: str, times: int) -> None:
        """The model answered that its copy is still loading: say so while it is retried."""
        widget, parts = self._live[side]
        if not parts:
            widget.update(
                Text(
                    f"warming up: the imported model's copy is loading (a cold start after an "
                    f"idle spell); retrying ({times})...",
                    style="italic yellow",
                )
            )

    def _piece(self, side: str, piece: str | Answer) -> None:
        widget, parts = self._live[side]
        if isinstance(piece, Answer):
            text = Text(piece.text)
            details = [
                f"{piece.latency_ms} ms" if piece.latency_ms else "",
                f"{piece.input_tokens} in / {piece.output_tokens} out tokens"
                if piece.output_tokens
                else "",
            ]
            text.append("\n" + ", ".join(d for d in details if d), style="dim")
            if piece.cut:
                text.append("\n[the stream was cut: this answer is partial]", style="bold yellow")
            widget.update(text)
            if side == "tuned":
                self._history.append(Turn("assistant", piece.text))
                self._answered()
            return
        parts.append(piece)
        widget.update(Text("".join(parts)))

    def _answered(self) -> None:
        """The first answer of the served model marks the step done."""
        run = self.host.wizard_run
        tuned, _ = self._models()
        if tuned is not None and run.chatted_with != tuned:
            self.host.update_run(replace(run, chatted_with=tuned))

    @on(Button.Pressed, "#load-test")
    def action_load_test_record(self) -> None:
        """Put the next test record's prompt in the box and show its reference answer."""
        run = self.host.wizard_run
        path = PreparedDir(Path(run.prepared_dir or ".")).test
        try:
            records = load_test_records(path, limit=self._test_index + 1)
        except BedrockTuneError as error:
            self.show_error(error)
            return
        record = records[min(self._test_index, len(records) - 1)]
        self._test_index += 1
        box = self.query_one("#message", PromptArea)
        box.text = record.user
        box.move_cursor(box.document.end)
        box.focus()
        self.query_one("#reference", Static).update(
            Text.assemble(
                ("Reference answer (line ", "bold"),
                (str(record.line), "bold"),
                ("): ", "bold"),
                record.reference,
            )
        )
