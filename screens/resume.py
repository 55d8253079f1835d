"""At start: the runs whose job (or deployment being created) is still going, offered for
re-attaching; a run whose world is gone (its sandbox stopped) can only be forgotten, and any run
can be forgotten (from the registry only: nothing in AWS is touched)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from core.registry import Registry, RunRecord
from core.run.status import still_going
from core.statuses import JobStatus, ServingStatus
from screens.base import error_of
from screens.confirm import ConfirmScreen
from screens.workers import WorkerResult, post_worker_result


@dataclass
class RunForgotten(WorkerResult):
    """A run was removed from the registry (nothing was deleted in AWS)."""

    run_id: str


def describe_run(record: RunRecord, gone: str | None = None) -> Text:
    """One run as two lines (job and model; where and when), and why it is gone if it is."""
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
    if gone:
        text.append("\n  ✘ gone: ", style="bold red")
        text.append(f"{gone} Forget it (f).", style="red")
    return text


class ResumeScreen(ModalScreen[str | None]):
    """Pick a run to re-attach to (dismisses with its id), forget runs, or start a new run
    (dismisses with None)."""

    DEFAULT_CSS = """
    ResumeScreen { align: center middle; }
    ResumeScreen > Vertical {
        width: 90; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $surface; padding: 1 2;
    }
    ResumeScreen #resume-runs { height: auto; max-height: 40vh; margin: 1 0; }
    ResumeScreen #resume-buttons { height: auto; align-horizontal: right; dock: bottom; }
    ResumeScreen Button { margin-left: 2; }
    """
    BINDINGS = [
        Binding("escape", "new_run", "Start a new run", id="resume-new"),
        Binding("f", "forget", "Forget this run", id="resume-forget"),
    ]

    def __init__(
        self,
        records: Sequence[RunRecord],
        registry: Registry,
        gone: Mapping[str, str] | None = None,
    ) -> None:
        """Args:
        records: the runs offered.
        registry: where a forgotten run is removed.
        gone: run id -> why its world is gone (it cannot be resumed, only forgotten).
        """
        super().__init__()
        self._records = list(records)
        self._registry = registry
        self._gone = dict(gone or {})

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Resume a run?", classes="step-heading")
            yield Static(
                "These runs have a customization job, or a deployment being created, that had "
                "not finished when bedrock-tune last closed. Re-attach to one to keep watching "
                "it, forget one that is no use any more (f: nothing is deleted), or start a new "
                "run."
            )
            yield OptionList(
                *[Option(describe_run(r, self._gone.get(r.id)), id=r.id) for r in self._records],
                id="resume-runs",
            )
            with Horizontal(id="resume-buttons"):
                yield Button("Forget this run", id="resume-forget")
                yield Button("Start a new run", id="resume-no")
                yield Button("Resume", id="resume-yes", variant="primary")

    def on_mount(self) -> None:
        runs = self.query_one("#resume-runs", OptionList)
        runs.highlighted = 0
        runs.focus()

    def _highlighted(self) -> RunRecord | None:
        runs = self.query_one("#resume-runs", OptionList)
        if runs.highlighted is None:
            return None
        run_id = runs.get_option_at_index(runs.highlighted).id
        return next((r for r in self._records if r.id == run_id), None)

    def _resume(self, record: RunRecord | None) -> None:
        if record is None:
            return
        if record.id in self._gone:
            self.notify(
                "Its sandbox is gone: there is nothing to re-attach to. Forget it (f), or start "
                "a new run.",
                severity="warning",
            )
            return
        self.dismiss(record.id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._resume(next((r for r in self._records if r.id == event.option.id), None))

    @on(Button.Pressed, "#resume-yes")
    def _resume_pressed(self) -> None:
        self._resume(self._highlighted())

    @on(Button.Pressed, "#resume-no")
    def action_new_run(self) -> None:
        """Close and start fresh."""
        self.dismiss(None)

    # ------------------------------------------------------------------ forgetting

    @on(Button.Pressed, "#resume-forget")
    def action_forget(self) -> None:
        """Forget the highlighted run (asked first unless its world is gone)."""
        record = self._highlighted()
        if record is None:
            return
        if record.id in self._gone:
            self.forget(record.id)
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.forget(record.id)

        going = " ".join(still_going(record.run))
        self.app.push_screen(
            ConfirmScreen(
                f"Forget run {record.id}?",
                "bedrock-tune stops offering it and no longer lists it. Nothing is deleted: "
                f"{going} What it made keeps its bedrock-tune:managed tag, so Teardown still "
                "finds it.",
                "Forget this run",
            ),
            confirmed,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="forget", name="forget")
    def forget(self, run_id: str) -> RunForgotten:
        """Remove the run from the registry (only there)."""
        self._registry.forget_run(run_id)
        return RunForgotten(run_id)

    @on(RunForgotten)
    def _forgotten(self, message: RunForgotten) -> None:
        self.notify(
            f"Run {message.run_id} is forgotten: it is not offered again (nothing was deleted).",
            title="Resume",
        )
        self._records = [r for r in self._records if r.id != message.run_id]
        if not self._records:
            self.dismiss(None)
            return
        runs = self.query_one("#resume-runs", OptionList)
        runs.remove_option(message.run_id)
        runs.highlighted = 0

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            error = error_of(event.worker.error)
            self.notify(f"{error.message}\n{error.hint}", title=error.title, severity="error")
        else:
            post_worker_result(event)
