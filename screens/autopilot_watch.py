"""The sagemaker-autopilot route's watch step: the job's `AutoMLJobStatus` and
`AutoMLJobSecondaryStatus` as a timeline, the best candidate's metrics (ROUGE, perplexity,
losses) and inference containers when they appear, the failure said plainly, and Stop.

One thread worker polls with the one poller (`core.poll`, backing off while nothing changes,
going on through throttling and dropped connections); the screen renders what it posts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, Label, Static
from textual.worker import get_current_worker

from core.poll import Backoff, PollUpdate
from core.sagemaker.autopilot import (
    METRIC_LABELS,
    AutopilotSnapshot,
    Timeline,
    autopilot_poller,
    describe_autopilot_job,
    stop_autopilot_job,
)
from core.sagemaker.kinds import AUTOML_JOB
from core.sagemaker.launching import job_ended
from core.statuses import JobStatus
from screens.base import StepScreen
from screens.confirm import ConfirmScreen
from screens.widgets.line import StatusLine
from screens.workers import WorkerResult

_MARKS = {"Completed": ("✔", "green"), "Failed": ("✘", "bold red"), "Stopped": ("■", "yellow")}


@dataclass
class AutopilotProgress(Message):
    """One poll of the job (posted from the watching thread)."""

    update: PollUpdate[AutopilotSnapshot]


@dataclass
class AutopilotStopAsked(WorkerResult):
    """SageMaker accepted the stop."""

    snapshot: AutopilotSnapshot


def timeline_text(timeline: Timeline, snapshot: AutopilotSnapshot) -> Text:
    """The secondary statuses seen, the current one marked."""
    text = Text()
    for index, (status, seen) in enumerate(timeline.entries):
        current = index == len(timeline.entries) - 1
        mark, style = _MARKS.get(status, ("▶", "bold cyan") if current else ("✔", "green"))
        text.append(f"{mark} {status:<16}", style=style)
        text.append(f" {seen.astimezone(UTC):%H:%M:%S} UTC\n", style="dim")
    text.append(f"Status: {snapshot.status}", style="bold")
    if snapshot.status == "Completed":
        text.append("\nDeploy the best candidate on an endpoint next (Ctrl+N).", style="dim")
    return text


def candidate_text(snapshot: AutopilotSnapshot) -> Text:
    """The best candidate: its metrics and inference containers."""
    best = snapshot.best
    text = Text()
    if best is None:
        return text
    text.append(f"Best candidate {best.name}\n", style="bold")
    for key, value in best.metrics.items():
        text.append(f"  {METRIC_LABELS.get(key, key):<16} {value:.4g}\n")
    for container in best.containers:
        unit = f" ({container.processing_unit})" if container.processing_unit else ""
        text.append(f"  Inference container{unit}\n")
        text.append(f"    image  {container.image}\n", style="dim")
        text.append(f"    model  {container.model_data_url}\n", style="dim")
    return text


class AutopilotWatchScreen(StepScreen):
    """Follow the run's Autopilot job to its end."""

    STEP_ID = "watch"
    STEP_TITLE = "Watch (Autopilot)"
    CSS_PATH = "styles/sagemaker_routes.tcss"

    BINDINGS = [Binding("s", "stop_job", "Stop job", id="stop-autopilot")]
    """`s` stops the job (confirmed first); Ctrl+N goes on to the endpoint once it completed."""

    def compose_body(self) -> ComposeResult:
        yield Label("Follow the Autopilot job", classes="step-heading")
        yield Static("", id="autopilot-job")
        yield Static("", id="autopilot-timeline")
        yield StatusLine(id="autopilot-candidate")
        yield StatusLine(id="autopilot-failure")
        with Horizontal(classes="button-row step-actions"):
            yield Button("Stop the job", id="autopilot-stop", variant="error", disabled=True)
            yield Button(
                "Deploy on an endpoint", id="autopilot-next", variant="primary", disabled=True
            )

    def on_mount(self) -> None:
        self._timeline = Timeline()
        run = self.host.wizard_run
        if not run.job_name:
            self.query_one("#autopilot-job", Static).update("No Autopilot job yet: launch one.")
            return
        self.query_one("#autopilot-job", Static).update(
            Text.assemble(("Job  ", "bold"), run.job_name, ("\n", ""), (run.job_arn or "", "dim"))
        )
        self.watch_job(run.job_name)

    @work(thread=True, exclusive=True, exit_on_error=False, group="watch", name="watch")
    def watch_job(self, name: str) -> None:
        """Poll the job until it ends or the screen goes."""
        context = self.require_context()
        worker = get_current_worker()
        poller = autopilot_poller(
            lambda: describe_autopilot_job(context, name),
            backoff=Backoff.starting_at(self.host.launch.poll_interval),
        )

        def report(update: PollUpdate[AutopilotSnapshot]) -> None:
            if update.value is not None and update.value.ended:
                # It bills nothing more: recorded before the screen (and header) says it ended.
                job_ended(self.host.registry(), AUTOML_JOB, name)
            self.post_message(AutopilotProgress(update))

        poller.run(report, cancelled=lambda: worker.is_cancelled)

    @on(AutopilotProgress)
    def _progress(self, message: AutopilotProgress) -> None:
        update = message.update
        if update.error is not None:
            self.show_error(update.error, warning=True)
            return
        snapshot = update.value
        if snapshot is None:
            return
        self.clear_error()
        self._timeline.see(snapshot, datetime.now(UTC))
        self.query_one("#autopilot-timeline", Static).update(
            timeline_text(self._timeline, snapshot)
        )
        self.query_one("#autopilot-candidate", Static).update(candidate_text(snapshot))
        failure = snapshot.failure_reason
        self.query_one("#autopilot-failure", Static).update(
            Text(f"Failed: {failure}", style="bold red") if failure else ""
        )
        self.query_one("#autopilot-stop", Button).disabled = snapshot.ended or (
            snapshot.status == "Stopping"
        )
        self.query_one("#autopilot-next", Button).disabled = snapshot.status != "Completed"
        run = self.host.wizard_run
        status = JobStatus(snapshot.status) if snapshot.status in set(JobStatus) else None
        if status is not None and run.job_status is not status:
            self.host.update_run(replace(run, job_status=status))

    @on(Button.Pressed, "#autopilot-stop")
    def action_stop_job(self) -> None:
        """Ask to stop the job (confirmed first: what it trained so far is lost)."""
        run = self.host.wizard_run
        if not run.job_name:
            self.notify("No Autopilot job to stop.")
            return
        if run.job_status is not None and run.job_status is not JobStatus.IN_PROGRESS:
            self.notify(f"The job is {run.job_status.value}: nothing to stop.")
            return
        name = run.job_name

        def chosen(yes: bool | None) -> None:
            if yes:
                self.stop(name)

        self.app.push_screen(
            ConfirmScreen(
                "Stop the Autopilot job?",
                f"{name} stops; what it trained so far is lost and it cannot be resumed.",
                "Stop the job",
            ),
            chosen,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="stop", name="stop")
    def stop(self, name: str) -> AutopilotStopAsked:
        """Ask SageMaker to stop the job."""
        return AutopilotStopAsked(stop_autopilot_job(self.require_context(), name))

    @on(AutopilotStopAsked)
    def _stop_asked(self, message: AutopilotStopAsked) -> None:
        self.notify(f"Stopping {message.snapshot.name} (now {message.snapshot.status}).")

    @on(Button.Pressed, "#autopilot-next")
    def _next(self) -> None:
        self.host.next_step(self.STEP_ID)
