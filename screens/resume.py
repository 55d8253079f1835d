"""At start: the runs whose job (or deployment being created) is still going, offered for
re-attaching."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, OptionList, Static
from textual.widgets.option_list import Option

from core.jobs.types import JobStatus
from core.registry import RunRecord
from core.serving.status import ServingStatus


def describe_run(record: RunRecord) -> Text:
    """One run as two lines: job and model; where and when."""
    run = record.run
    text = Text()
    text.append(run.job_name or "(launch interrupted)", style="bold")
    text.append(f"  {run.base_model_id or ''}", style="dim")
    if record.serving_pending:
        kind = run.serving_kind.label if run.serving_kind else "deployment"
        text.append(f"\n  {kind} {run.serving_status or ServingStatus.CREATING}")
    else:
        text.append(f"\n  {run.job_status or JobStatus.IN_PROGRESS}")
    where = "sandbox" if run.target == "sandbox" else f"account {run.account_id}"
    text.append(f" - {where}, {run.region} - updated {record.updated}", style="dim")
    return text


class ResumeScreen(ModalScreen[str | None]):
    """Pick a run to re-attach to (dismisses with its id), or start a new one (None)."""

    DEFAULT_CSS = """
    ResumeScreen { align: center middle; }
    ResumeScreen > Vertical {
        width: 90; height: auto; max-height: 80%;
        border: thick $accent; background: $surface; padding: 1 2;
    }
    ResumeScreen #resume-runs { height: auto; max-height: 16; margin: 1 0; }
    ResumeScreen #resume-buttons { height: auto; align-horizontal: right; }
    ResumeScreen Button { margin-left: 2; }
    """
    BINDINGS = [Binding("escape", "new_run", "Start a new run", id="resume-new")]

    def __init__(self, records: Sequence[RunRecord]) -> None:
        super().__init__()
        self._records = list(records)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Resume a run?", classes="step-heading")
            yield Static(
                "These runs have a customization job, or a deployment being created, that had "
                "not finished when bedrock-tune last closed. Re-attach to one to keep watching "
                "it, or start a new run."
            )
            yield OptionList(
                *[Option(describe_run(r), id=r.id) for r in self._records], id="resume-runs"
            )
            with Horizontal(id="resume-buttons"):
                yield Button("Start a new run", id="resume-no")
                yield Button("Resume", id="resume-yes", variant="primary")

    def on_mount(self) -> None:
        runs = self.query_one("#resume-runs", OptionList)
        runs.highlighted = 0
        runs.focus()

    def _chosen(self) -> str | None:
        runs = self.query_one("#resume-runs", OptionList)
        if runs.highlighted is None:
            return None
        return runs.get_option_at_index(runs.highlighted).id

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(self._chosen() if event.button.id == "resume-yes" else None)

    def action_new_run(self) -> None:
        """Close and start fresh."""
        self.dismiss(None)
