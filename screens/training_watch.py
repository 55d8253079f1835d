"""The watch step of the routes that train on SageMaker (`sagemaker-import`, `sagemaker-
jumpstart`): follow the training job to its end.

Its status and secondary statuses as a timeline, the training loss from the job's logs
(CloudWatch Logs) as a chart, spot interruptions and what spot saved, the failure explained,
Stop, and, once it completes, where the model is and what comes next: on `sagemaker-import` the
import check of that folder (then the import, as on route `import-only`), on `sagemaker-
jumpstart` a SageMaker endpoint. Polling runs in one thread worker with the one poller
(`core.poll`), which backs off while nothing changes and keeps going through throttling and
dropped connections; a restart lands here again while the job runs
(`core.run.routes.landing_step`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Label, Sparkline, Static
from textual.worker import get_current_worker

from core import format as fmt
from core.poll import Backoff, PollUpdate
from core.run.types import Route
from core.sagemaker.failures import explain_training_failure, interruptions
from core.sagemaker.kinds import TRAINING_JOB
from core.sagemaker.launching import job_ended
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

if TYPE_CHECKING:
    from core.aws import AwsContext
    from core.run import Run

_MARKS = {
    "Completed": ("✔", "green"),
    "Failed": ("✘", "bold red"),
    "Stopped": ("■", "yellow"),
    "Stopping": ("■", "yellow"),
    "Interrupted": ("⚡", "yellow"),
}


@dataclass
class TrainingEnded(WorkerResult):
    """The training job ended (Completed, Failed or Stopped)."""

    snapshot: TrainingSnapshot | None


@dataclass
class StopAsked(WorkerResult):
    """SageMaker accepted the request to stop the job."""

    name: str


def shown_clock(moment: datetime) -> str:
    """A moment in local time, as the timeline shows it (snapshot tests fix it)."""
    return f"{moment.astimezone():%H:%M:%S}"


def timeline_text(snapshot: TrainingSnapshot) -> Text:
    """The secondary statuses as lines: mark, status, start and end times, message."""
    text = Text()
    for index, step in enumerate(snapshot.timeline):
        last = index == len(snapshot.timeline) - 1
        mark, style = _MARKS.get(step.status, ("▶", "bold cyan") if last else ("✔", "green"))
        if step.ended is not None and step.status not in _MARKS:
            mark, style = "✔", "green"
        text.append(f"{mark} {step.status:<12}", style=style)
        if step.started is not None:
            text.append(f" {shown_clock(step.started)}", style="dim")
        if step.ended is not None:
            text.append(f" -> {shown_clock(step.ended)}", style="dim")
        if step.message:
            text.append(f"  {step.message}", style="dim")
        text.append("\n")
    return text or Text("No status reported yet.", style="dim")


def loss_summary(points: tuple[LossPoint, ...]) -> Text:
    """The loss read so far in one line."""
    if not points:
        return Text("Training loss: none logged yet (it appears while the job trains).", "dim")
    losses = [p.loss for p in points]
    epoch = points[-1].epoch
    return Text(
        f"Training loss: {fmt.plural(len(points), 'point')}, last {losses[-1]:.4f}"
        + (f" (epoch {epoch:g})" if epoch is not None else "")
        + f", first {losses[0]:.4f}, lowest {min(losses):.4f}"
    )


def spot_saving(snapshot: TrainingSnapshot) -> str | None:
    """The managed spot saving once the job reports its billable time, and how often spot
    took the instance back (None when neither applies)."""
    count = interruptions(snapshot)
    resumed = (
        f"Spot took the instance back {fmt.plural(count, 'time')}; the job resumed from its "
        "checkpoint. "
        if count
        else ""
    )
    trained, billed = snapshot.training_seconds, snapshot.billable_seconds
    if not trained or billed is None or billed >= trained:
        return resumed.strip() or None
    saved = 100 * (trained - billed) / trained
    return resumed + (
        f"Managed spot: billed for {fmt.duration(billed)} of {fmt.duration(trained)} "
        f"trained ({saved:.0f}% saved)."
    )


def _serves_on_endpoint(run: Run) -> bool:
    """Whether the run's model goes to a SageMaker endpoint next (else to Bedrock's import)."""
    return run.route is Route.SAGEMAKER_JUMPSTART


class TrainingWatchScreen(StepScreen):
    """Follow the run's training job until it ends."""

    STEP_ID = "watch"
    STEP_TITLE = "Watch the training"
    CSS_PATH = "styles/watch.tcss"

    BINDINGS = [
        Binding("s", "stop_job", "Stop job", id="stop-training"),
        Binding("r", "restart_watch", "Refresh", id="refresh-training"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._points: tuple[LossPoint, ...] = ()
        self._watched: str | None = None

    def compose_body(self) -> ComposeResult:
        yield Label("The training job", classes="step-heading")
        yield Static("", id="training-status")
        yield Static("", id="training-timeline")
        yield Static(loss_summary(()), id="training-loss-summary")
        yield Sparkline([], id="training-loss")
        yield Static("", id="training-result")
        with Horizontal(classes="button-row"):
            yield Button("Stop", id="training-stop", variant="error")
            yield Button(
                "Deploy on an endpoint"
                if _serves_on_endpoint(self.host.wizard_run)
                else "Check the model",
                id="training-next",
                variant="primary",
                disabled=True,
            )

    def on_mount(self) -> None:
        self._start_watching()

    def on_screen_resume(self) -> None:
        if not any(w.group == "watch" and w.is_running for w in self.workers):
            self._start_watching()

    def _start_watching(self) -> None:
        run = self.host.wizard_run
        self._show_state(run)
        if not run.job_name or run.job_arn is None:
            self.query_one("#training-status", Static).update(
                Text("No training job yet: start one in the Train step.", style="yellow")
            )
            return
        context = self.host.aws_context()
        if context is None:
            return
        if run.job_name != self._watched:  # another job (a new attempt): its own loss
            self._watched = run.job_name
            self._points = ()
            self.query_one("#training-loss", Sparkline).data = []
            self.query_one("#training-loss-summary", Static).update(loss_summary(()))
            self.query_one("#training-result", Static).update("")
        self.watch_training(context, run.job_name, self.host.launch.poll_interval)

    def action_restart_watch(self) -> None:
        """Poll again now (a fresh poller)."""
        self._start_watching()

    def _show_state(self, run: Run) -> None:
        status = run.job_status
        self.query_one("#training-stop", Button).disabled = run.job_arn is None or (
            status is not None and status is not JobStatus.IN_PROGRESS
        )
        self.query_one("#training-next", Button).disabled = status is not JobStatus.COMPLETED

    # ------------------------------------------------------------------ polling

    @work(thread=True, exclusive=True, exit_on_error=False, group="watch", name="watch")
    def watch_training(self, context: AwsContext, name: str, interval: float) -> TrainingEnded:
        """Poll the job until it ends; read the new loss lines after every poll.

        When the screen goes away the worker is cancelled: it stops within a poll tick, and a
        cancelled worker's result is never delivered."""
        worker = get_current_worker()
        tokens: dict[str, str] = {}

        def update(polled: PollUpdate[TrainingSnapshot]) -> None:
            points: tuple[LossPoint, ...] = ()
            if polled.error is None and polled.value is not None:
                read = read_loss(context, name, tokens)
                tokens.update(read.tokens)
                points = read.points
                if polled.value.ended:
                    # It bills nothing more: recorded before the screen (and header) says so.
                    job_ended(self.host.registry(), TRAINING_JOB, name)
            self.app.call_from_thread(self._show_update, polled, points)

        poller = training_poller(
            lambda: describe_training_job(context, name), backoff=Backoff.starting_at(interval)
        )
        final = poller.run(update, cancelled=lambda: worker.is_cancelled)
        return TrainingEnded(final or poller.last)

    def _show_update(
        self, update: PollUpdate[TrainingSnapshot], points: tuple[LossPoint, ...]
    ) -> None:
        if update.error is not None:
            self.show_error(update.error, warning=not update.needs_reauth)
            return
        snapshot = update.value
        if snapshot is None:
            return
        self.clear_error()
        self._show_snapshot(snapshot)
        if points:
            self._points = self._points + points
            self.query_one("#training-loss", Sparkline).data = [p.loss for p in self._points]
            self.query_one("#training-loss-summary", Static).update(loss_summary(self._points))

    def _show_snapshot(self, snapshot: TrainingSnapshot) -> None:
        status = Text.assemble(
            ("Job     ", "bold"),
            f"{snapshot.name}: ",
            (snapshot.status, "bold"),
            f" ({snapshot.secondary_status})" if snapshot.secondary_status else "",
        )
        self.query_one("#training-status", Static).update(status)
        self.query_one("#training-timeline", Static).update(timeline_text(snapshot))
        run = self.host.wizard_run
        if snapshot.status in {s.value for s in JobStatus}:
            job_status = JobStatus(snapshot.status)
            if run.job_status is not job_status:
                self.host.update_run(replace(run, job_status=job_status))
        self._show_state(self.host.wizard_run)

    @on(TrainingEnded)
    def _ended(self, message: TrainingEnded) -> None:
        snapshot = message.snapshot
        if snapshot is None or not snapshot.ended:
            return
        self._show_snapshot(snapshot)
        result = Text()
        run = self.host.wizard_run
        if snapshot.status == "Completed" and snapshot.model_artifacts and _serves_on_endpoint(run):
            result.append("✔ The tuned model is at ", style="bold green")
            result.append(f"{snapshot.model_artifacts}\n", style="bold")
            result.append("Next: serve it on a SageMaker endpoint.\n", "dim")
            if run.model_artifacts != snapshot.model_artifacts:
                self.host.update_run(replace(run, model_artifacts=snapshot.model_artifacts))
                self.notify("Training completed: deploy it next.", title="Training")
        elif snapshot.status == "Completed" and snapshot.model_artifacts:
            result.append("✔ The merged model is at ", style="bold green")
            result.append(f"{snapshot.model_artifacts}\n", style="bold")
            result.append("Next: the import check of that folder, then the import.\n", "dim")
            if run.model_artifacts != snapshot.model_artifacts:
                # The import reads the training output where SageMaker wrote it.
                self.host.update_run(
                    replace(
                        run,
                        model_artifacts=snapshot.model_artifacts,
                        model_source=snapshot.model_artifacts,
                        model_uri=snapshot.model_artifacts,
                        model_checked_ok=None,
                    )
                )
                self.notify("Training completed: check the model next.", title="Training")
        elif snapshot.status == "Failed":
            failure = explain_training_failure(snapshot.failure_reason)
            result.append("✘ The training job failed: ", style="bold red")
            result.append(f"{failure.what}\n")
            if snapshot.failure_reason and failure.rule != "other":
                result.append(f"SageMaker says: {snapshot.failure_reason}\n", style="dim")
            result.append(f"What to do: {failure.fix}\n", style="yellow")
        elif snapshot.status == "Stopped":
            result.append("■ The training job was stopped: it made no model.\n", style="yellow")
        saving = spot_saving(snapshot)
        if saving:
            result.append(saving + "\n")
        self.query_one("#training-result", Static).update(result)
        self._show_state(self.host.wizard_run)

    # ------------------------------------------------------------------ stop and next

    @on(Button.Pressed, "#training-stop")
    def action_stop_job(self) -> None:
        """Ask to stop the job (confirmed first: a stopped job makes no model)."""
        run = self.host.wizard_run
        if run.job_name is None or run.job_arn is None:
            return
        if run.job_status is not None and run.job_status is not JobStatus.IN_PROGRESS:
            self.notify(f"The job is {run.job_status.value}: nothing to stop.")
            return
        name = run.job_name

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.stop_training(self.require_context(), name)

        self.app.push_screen(
            ConfirmScreen(
                "Stop the training job?",
                f"{name} stops (SageMaker bills the time it ran) and makes no model.",
                "Stop job",
            ),
            confirmed,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="stop", name="stop")
    def stop_training(self, context: AwsContext, name: str) -> StopAsked:
        """StopTrainingJob (the job goes Stopping, then Stopped)."""
        from core.errors import aws_call

        with aws_call(f"stopping the training job {name}"):
            context.client("sagemaker").stop_training_job(TrainingJobName=name)
        return StopAsked(name)

    @on(StopAsked)
    def _stop_asked(self, message: StopAsked) -> None:
        self.host.update_run(replace(self.host.wizard_run, job_status=JobStatus.STOPPING))
        self.notify(f"Stopping {message.name}.", title="Training")
        self._show_state(self.host.wizard_run)

    @on(Button.Pressed, "#training-next")
    def _next(self) -> None:
        self.host.next_step(self.STEP_ID)
