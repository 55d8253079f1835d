"""The import-only route's second step: where the model to import is (a local folder, an
`s3://` folder, or a Hugging Face id), with what Custom Model Import takes, and its source and
date. Nothing is read yet: the import check step does that."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Input, Label, Static

from core.errors import BedrockTuneError, NotFoundError
from core.importing import architectures as arch
from core.importing.source import parse_source
from core.run import Route
from screens.base import StepScreen
from screens.widgets.error_panel import ErrorPanel


def what_imports() -> Text:
    """What Custom Model Import takes, with the source and date of the list."""
    text = Text()
    text.append("Architectures  ", style="bold")
    text.append(", ".join(a.family for a in arch.ARCHITECTURES) + "\n")
    text.append("Files          ", style="bold")
    text.append(
        "config.json, *.safetensors (with model.safetensors.index.json when sharded), "
        "tokenizer_config.json and tokenizer.json or tokenizer.model\n"
    )
    text.append("Limits         ", style="bold")
    text.append(
        f"context up to {arch.MAX_CONTEXT:,} tokens; weights under 200 GB (text) or 100 GB "
        "(multimodal); float16, bfloat16 or float32\n"
    )
    text.append("Regions        ", style="bold")
    text.append(", ".join(arch.IMPORT_REGIONS) + "\n")
    text.append(f"as of {arch.AS_OF}: {arch.SOURCE}", style="dim")
    return text


class ModelSourceScreen(StepScreen):
    """Point at the model to import."""

    STEP_ID = "model-source"
    STEP_TITLE = "Model source"
    CSS_PATH = "styles/importing.tcss"

    BINDINGS = [Binding("ctrl+n", "next_step", "Use source", id="next-step")]
    """Ctrl+N (or Enter in the field) uses the source typed and goes on to the check."""

    def compose_body(self) -> ComposeResult:
        yield Label("Which model do you want to import?", classes="step-heading")
        yield Static(
            "A model tuned anywhere, saved with save_pretrained: a folder on this machine, an "
            "s3:// folder, or a Hugging Face id written hf:org/name (set HF_TOKEN for a gated "
            "model). A LoRA adapter must be merged into its base model first: the check says how.",
            classes="step-intro",
        )
        yield Label("Model source", classes="field-label")
        yield Input(
            placeholder="/path/to/merged-model, s3://bucket/models/sql/ or hf:org/name",
            id="model-source",
        )
        yield Static("", id="model-source-status")
        with Horizontal(classes="button-row"):
            yield Button("Use this source", id="use-source", variant="primary")
            yield Button("Customize a Bedrock model instead", id="bedrock-route")
        yield Static(what_imports(), id="imports-what")

    def on_mount(self) -> None:
        # A refused source is said right under the field (not below the reference panel).
        self.query_one("#step-body").move_child(
            self.query_one(ErrorPanel), after=self.query_one("#model-source-status")
        )
        box = self.query_one("#model-source", Input)
        box.value = self.host.wizard_run.model_source or ""
        box.focus()

    @on(Input.Submitted, "#model-source")
    @on(Button.Pressed, "#use-source")
    def use_source(self) -> None:
        """Check the source's form (no download, no AWS call) and keep it in the run."""
        text = self.query_one("#model-source", Input).value
        run = self.host.wizard_run
        try:
            source = parse_source(text)
            if source.kind == "folder" and not Path(source.location).is_dir():
                raise NotFoundError(
                    f"{source.location} is not a folder on this machine.",
                    hint="Point at the folder save_pretrained wrote (config.json, *.safetensors, "
                    "the tokenizer).",
                )
        except BedrockTuneError as error:
            self.show_error(error)
            return
        if run.import_token is not None and run.model_source != str(source):
            self.show_error(
                BedrockTuneError(
                    f"This run already imports {run.model_source}.",
                    hint="Start a new run (restart bedrock-tune) to import another model.",
                )
            )
            return
        self.clear_error()
        changed = run.model_source != str(source)
        self.host.update_run(
            replace(
                run,
                route=Route.IMPORT_ONLY,
                model_source=str(source),
                model_checked_ok=None if changed else run.model_checked_ok,
                model_architecture=None if changed else run.model_architecture,
                model_uri=(source.location if source.kind == "s3" else None)
                if changed
                else run.model_uri,
            )
        )
        self.query_one("#model-source-status", Static).update(
            Text(f"✔ {source}: the next step checks it.", style="green")
        )
        self.host.next_step(self.STEP_ID)

    def accept(self) -> bool:
        self.use_source()
        return True

    @on(Button.Pressed, "#bedrock-route")
    def _bedrock_route(self) -> None:
        run = self.host.wizard_run
        if run.import_token is not None:
            self.show_error(
                BedrockTuneError(
                    "This run has started an import.",
                    hint="Start a new run (restart bedrock-tune) to customize a Bedrock model.",
                )
            )
            return
        self.host.update_run(replace(run, route=Route.BEDROCK_CUSTOMIZATION))
        self.host.go_to_step("model")
