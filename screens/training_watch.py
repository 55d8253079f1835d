"""Watch a SageMaker training job (the sagemaker-jumpstart route's watch step): status and
secondary statuses as a timeline (`SecondaryStatusTransitions`, with their messages), the
training loss read from the job's CloudWatch Logs as a sparkline, spot interruptions and what
they saved, the failure explained (capacity, quota...), and Stop.

One thread worker polls with the one poller (`core.sagemaker.watch.training_poller`); the
screen renders what it posts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, Label, Sparkline, Static
from textual.worker import get_current_worker

from core.errors import aws_call
from core.poll import Backoff, PollUpdate
from core.sagemaker.failures import explain_failure, interruptions
from core.sagemaker.watch import (
    LossPoint,
    TrainingSnapshot,
    describe_training_job,
    read_loss,
    training_poller,
)
from core.statuses import JobStatus
from screens.base import StepScreen
from screens.confirm import ConfirmScreen
from screens.workers import WorkerResult

_MARKS = {
    "Completed": ("✔", "green"),
    "Failed": ("✘", "bold red"),
    "Stopped": ("■", "yellow"),
    "Interrupted": ("⚡", "yellow"),
}


@dataclass
class TrainingProgress(Message):
    """One poll of the job and the loss lines logged since the last (from the thread)."""

    update: PollUpdate[TrainingSnapshot]
    losses: tuple[LossPoint, ...]


@dataclass
class TrainingStopAsked(WorkerResult):
    """SageMaker accepted the stop."""

    name: str


def timeline_text(snapshot: TrainingSnapshot) -> Text:
    """The secondary statuses with their times and messages, the current one marked."""
    text = Text()
    for index, step in enumerate(snapshot.timeline):
        current = index == len(snapshot.timeline) - 1 and not snapshot.ended
        mark, style = _MARKS.get(step.status, ("▶", "bold cyan") if current else ("✔", "green"))
        when = f"{step.started:%H:%M:%S}" if step.started else ""
        text.append(f"{mark} {step.status:<12} {when:<9}", style=style)
        text.append(f" {step.message}\n", style="dim")
    text.append(f"Status: {snapshot.status}", style="bold")
    return text


def outcome_text(snapshot: TrainingSnapshot) -> Text:
    """Where the model is, what spot saved, or why the job failed and what to do."""
    text = Text()
    count = interruptions(snapshot)
    if count:
        text.append(f"Spot: interrupted {count}x, resumed from the checkpoint.\n", style="yellow")
    if snapshot.billable_seconds and snapshot.training_seconds:
        text.append(
            f"Billed {snapshot.billable_seconds} s of {snapshot.training_seconds} s trained.\n"
        )
    if snapshot.model_artifacts:
        text.append(f"Model: {snapshot.model_artifacts}\n", style="green")
    if snapshot.failure_reason:
        text.append(f"Failed: {snapshot.failure_reason}\n", style="bold red")
        advice = explain_failure(snapshot)
        if advice:
            text.append(f"What to do: {advice}\n")
    return text


class TrainingWatchScreen(StepScreen):
    """Follow the run's SageMaker training job to its end."""

    STEP_ID = "watch"
    STEP_TITLE = "Watch (training job)"

    def compose_body(self) -> ComposeResult:
        yield Label("Follow the training job", classes="step-heading")
        yield Static("", id="training-job")
        yield Static("", id="training-timeline")
        yield Sparkline([], id="training-loss")
        yield Static("", id="training-loss-text")
        yield Static("", id="training-outcome")
        with Horizontal(classes="button-row"):
            yield Button("Stop the job", id="training-stop", variant="error", disabled=True)
            yield Button("Deploy on an endpoint", id="training-next", disabled=True)

    def on_mount(self) -> None:
        self._losses: list[float] = []
        run = self.host.wizard_run
        if not run.job_name:
            self.query_one("#training-job", Static).update("No training job yet: launch one.")
            return
        self.query_one("#training-job", Static).update(f"{run.job_name}  {run.job_arn or ''}")
        self.watch_job(run.job_name)

    @work(thread=True, exclusive=True, exit_on_error=False, group="watch", name="watch")
    def watch_job(self, name: str) -> None:
        """Poll the job (and read its loss lines) until it ends or the screen goes."""
        context = self.require_context()
        worker = get_current_worker()
        tokens: dict[str, str] = {}

        def report(update: PollUpdate[TrainingSnapshot]) -> None:
            losses: tuple[LossPoint, ...] = ()
            if update.error is None:
                read = read_loss(context, name, tokens)
                tokens.update(read.tokens)
                losses = read.points
            self.post_message(TrainingProgress(update, losses))

        training_poller(
            lambda: describe_training_job(context, name),
            backoff=Backoff.starting_at(self.host.launch.poll_interval),
        ).run(report, cancelled=lambda: worker.is_cancelled)

    @on(TrainingProgress)
    def _progress(self, message: TrainingProgress) -> None:
        update = message.update
        if update.error is not None:
            self.show_error(update.error, warning=True)
            return
        snapshot = update.value
        if snapshot is None:
            return
        self.clear_error()
        self._losses.extend(point.loss for point in message.losses)
        if self._losses:
            self.query_one("#training-loss", Sparkline).data = list(self._losses)
            self.query_one("#training-loss-text", Static).update(
                f"loss {self._losses[0]:.4f} → {self._losses[-1]:.4f} ({len(self._losses)} steps)"
            )
        self.query_one("#training-timeline", Static).update(timeline_text(snapshot))
        self.query_one("#training-outcome", Static).update(outcome_text(snapshot))
        self.query_one("#training-stop", Button).disabled = snapshot.ended or (
            snapshot.status == "Stopping"
        )
        self.query_one("#training-next", Button).disabled = snapshot.status != "Completed"
        run = self.host.wizard_run
        status = JobStatus(snapshot.status) if snapshot.status in set(JobStatus) else None
        if status is not None and run.job_status is not status:
            self.host.update_run(replace(run, job_status=status))

    @on(Button.Pressed, "#training-stop")
    def _stop_pressed(self) -> None:
        name = self.host.wizard_run.job_name or ""

        def chosen(yes: bool | None) -> None:
            if yes:
                self.stop(name)

        self.app.push_screen(
            ConfirmScreen(
                "Stop the training job?",
                f"{name} stops; it bills until it has stopped.",
                "Stop the job",
            ),
            chosen,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="stop", name="stop")
    def stop(self, name: str) -> TrainingStopAsked:
        """Ask SageMaker to stop the job."""
        context = self.require_context()
        with aws_call(f"stopping the training job {name}"):
            context.client("sagemaker").stop_training_job(TrainingJobName=name)
        return TrainingStopAsked(name)

    @on(TrainingStopAsked)
    def _stop_asked(self, message: TrainingStopAsked) -> None:
        self.notify(f"Stopping {message.name}.")

    @on(Button.Pressed, "#training-next")
    def _next(self) -> None:
        self.host.next_step(self.STEP_ID)
