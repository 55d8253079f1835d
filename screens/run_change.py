"""Before a change that undoes later steps (another region, account or base model): which steps
it resets and what of them goes, and the choice to reset them, start a new run instead, or keep
things as they are."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

if TYPE_CHECKING:
    # (The credentials step imports this module before its first frame: no catalog yet.)
    from core.run.changes import RunChange

RunChangeChoice = Literal["reset", "new"]


def describe_change(change: RunChange) -> Text:
    """The steps the change resets, one per line, or why it needs a new run."""
    text = Text()
    before = change.before
    if change.needs_new_run:
        what = f"job {before.job_name}" if before.job_name else "a job"
        if before.serving_arn and not before.job_name:
            what = "a deployment"
        text.append(
            f"This run has launched {what} there. It stays with this run, so the change starts "
            "a new run with the choices that still hold. This run stays in bedrock-tune's list "
            "as it is (resume it, or tear it down).\n"
        )
        return text
    text.append("It resets these steps:\n")
    for reset in change.resets:
        text.append(f"• {reset.title}", style="bold")
        text.append(f": {reset.detail}\n")
    text.append(
        "\nOr start a new run with the change, and keep this run as it is in bedrock-tune's list."
    )
    return text


class RunChangeScreen(ModalScreen[RunChangeChoice | None]):
    """Asks before a change that resets steps: dismisses with "reset", "new", or None (keep
    everything as it was)."""

    DEFAULT_CSS = """
    RunChangeScreen { align: center middle; }
    RunChangeScreen > Vertical {
        width: 84; max-width: 100%; height: auto; max-height: 100%;
        border: thick $warning; background: $surface; padding: 1 2;
    }
    RunChangeScreen #change-body { height: auto; max-height: 14; }
    RunChangeScreen #change-buttons { height: auto; margin-top: 1; align-horizontal: right; }
    RunChangeScreen Button { margin-left: 2; }
    """
    BINDINGS = [Binding("escape", "keep", "Keep as it was", id="change-keep")]

    def __init__(self, change: RunChange) -> None:
        super().__init__()
        self._change = change

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Change {self._change.what}?", classes="step-heading")
            with VerticalScroll(id="change-body"):
                yield Static(describe_change(self._change), id="change-resets")
            with Horizontal(id="change-buttons"):
                yield Button("Keep as it was", id="change-keep")
                yield Button("Start a new run", id="change-new")
                if not self._change.needs_new_run:
                    yield Button("Reset these steps", id="change-reset", variant="warning")

    def on_mount(self) -> None:
        primary = "#change-new" if self._change.needs_new_run else "#change-reset"
        self.query_one(primary, Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        choice: dict[str | None, RunChangeChoice] = {"change-reset": "reset", "change-new": "new"}
        self.dismiss(choice.get(event.button.id))

    def action_keep(self) -> None:
        """Change nothing."""
        self.dismiss(None)
