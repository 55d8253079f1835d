"""On quit: what is still billing, with an offer to delete it first, and what keeps going (a
job, an import, a deployment being created) that the next start re-attaches to."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from core import format as fmt
from core.billing import cached_hourly_price, charge_of_record, summarize_records
from core.registry import ResourceRecord
from core.sagemaker.kinds import ENDPOINT, TRAINING_JOB

QuitChoice = Literal["delete", "keep", "stay"]


def _line(record: ResourceRecord) -> str:
    """`- kind: name (region)`; a SageMaker endpoint or training job with its instance type
    and hourly price (with the price's source and date, or unknown)."""
    name = record.details.get("name") or record.identifier.rsplit("/", 1)[-1]
    line = f"- {record.kind}: {name} ({record.region})"
    if record.kind == ENDPOINT or (
        record.kind == TRAINING_JOB and record.details.get("instance_type")
    ):
        charge = charge_of_record(record, cached_hourly_price)
        price = (
            f"{fmt.money(charge.per_hour)}/h" + (f" ({charge.source})" if charge.source else "")
            if charge.per_hour is not None
            else "price unknown"
        )
        line += f", {record.details.get('instance_type') or 'instance'} at {price}"
    return line


class QuitGuardScreen(ModalScreen[QuitChoice]):
    """Lists the billable resources and what keeps going; dismisses with delete / keep / stay
    ("keep" quits)."""

    DEFAULT_CSS = """
    QuitGuardScreen { align: center middle; }
    QuitGuardScreen > Vertical {
        width: 84; max-width: 100%; height: auto; max-height: 100%;
        border: thick $error; background: $surface; padding: 1 2;
    }
    QuitGuardScreen #billing-list { height: auto; max-height: 40vh; overflow-y: auto; }
    QuitGuardScreen #quit-buttons {
        height: auto; margin-top: 1; align-horizontal: right; dock: bottom;
    }
    QuitGuardScreen Button { margin-left: 2; }
    """
    BINDINGS = [Binding("escape", "stay", "Stay", id="quit-stay")]

    def __init__(self, resources: Sequence[ResourceRecord], going: Sequence[str] = ()) -> None:
        """Args:
        resources: what still bills.
        going: what keeps going after the app closes, one sentence each
            (`core.run.status.still_going`).
        """
        super().__init__()
        self._resources = list(resources)
        self._going = list(going)

    def compose(self) -> ComposeResult:
        lines = "\n".join(_line(r) for r in self._resources)
        endpoints = [r for r in self._resources if r.kind == ENDPOINT]
        with Vertical():
            if self._resources:
                yield Label("These still bill while they exist", classes="step-heading")
                yield Static(lines, id="billing-list")
                yield Static(
                    summarize_records(self._resources, cached_hourly_price).headline(),
                    id="billing-total",
                )
                bedrock = [r for r in self._resources if not r.kind.startswith("sagemaker-")]
                yield Static(
                    "Delete them now, or quit and keep them"
                    + (
                        " (provisioned throughput bills every hour, used or not; "
                        "`bedrock-tune undeploy NAME` deletes one later)."
                        if bedrock
                        else "."
                    ),
                    id="billing-advice",
                )
                if endpoints:
                    yield Static(
                        "A SageMaker endpoint bills its instances every hour until deleted "
                        "(`bedrock-tune endpoint delete NAME` deletes one later).",
                        id="endpoint-note",
                    )
            if self._going:
                yield Label("This keeps going after you quit", classes="step-heading")
                yield Static(
                    "\n".join(self._going)
                    + "\nThe next start of bedrock-tune offers to re-attach to it.",
                    id="going-list",
                )
            with Horizontal(id="quit-buttons"):
                yield Button("Stay", id="stay")
                if self._resources:
                    yield Button("Quit, keep them", id="keep")
                    yield Button("Delete them and quit", id="delete", variant="error")
                else:
                    yield Button("Quit", id="keep", variant="primary")

    def on_mount(self) -> None:
        # With something billing, the safe answer is to stay; otherwise quitting is safe.
        self.query_one("#stay" if self._resources else "#keep", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        choice: QuitChoice = "stay"
        if event.button.id == "delete":
            choice = "delete"
        elif event.button.id == "keep":
            choice = "keep"
        self.dismiss(choice)

    def action_stay(self) -> None:
        """Do not quit."""
        self.dismiss("stay")
