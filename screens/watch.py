"""Watch a customization job live: status, the three phases as a timeline, elapsed time and an
estimated time left, the loss curves once the job completes (Bedrock uploads them at the end), a
stall warning, the failure explained, and Stop.

Polling runs in one thread worker (`JobWatcher`), which backs off while nothing changes and keeps
going through throttling, dropped connections and expired credentials; the screen only renders
what it reports.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Label, Sparkline, Static
from textual.worker import get_current_worker

from core import format as fmt
from core.errors import BedrockTuneError
from core.jobs.customization import (
    JobSnapshot,
    JobStatus,
    JobSummary,
    custom_model_status,
    get_job,
    list_jobs,
    managed_job_arns,
    stop_job,
)
from core.jobs.duration import estimate_duration, job_epochs, training_tokens
from core.jobs.failures import explain_failure
from core.jobs.metrics import MetricPoint, Metrics, find_metric_files, read_metrics
from core.jobs.watch import JobWatcher, WatchUpdate
from screens.base import StepScreen
from screens.confirm import ConfirmScreen
from screens.workers import WorkerResult

_PHASE_MARKS = {
    "Completed": ("✔", "green"),
    "InProgress": ("▶", "bold cyan"),
    "Failed": ("✘", "bold red"),
    "Stopped": ("■", "yellow"),
    "Stopping": ("■", "yellow"),
    "NotStarted": ("·", "dim"),
    "": ("·", "dim"),
}


@dataclass
class StopRequested(WorkerResult):
    """Bedrock accepted the request to stop the job."""

    arn: str


@dataclass
class ModelStatusRead(WorkerResult):
    """The custom model's status (Active once it can be deployed)."""

    arn: str
    status: str


@dataclass
class JobsListed(WorkerResult):
    """The region's jobs, newest first, each with whether bedrock-tune launched it."""

    jobs: tuple[tuple[JobSummary, bool], ...]


def wall_clock() -> datetime:
    """Now (what the elapsed time and the time left count from; tests fix it)."""
    return datetime.now(UTC)


def monotonic() -> float:
    """Seconds on a clock that never goes back (how long since the last answer)."""
    return time.monotonic()


def shown_time(moment: datetime, with_day: bool = False) -> str:
    """A moment in local time, as the screen shows it."""
    local = moment.astimezone()
    return f"{local:%Y-%m-%d %H:%M}" if with_day else f"{local:%H:%M:%S}"


def _clock(moment: datetime | None) -> str:
    return shown_time(moment) if moment else ""


def timeline(snapshot: JobSnapshot) -> Text:
    """The phases as lines: mark, label, status and times."""
    text = Text()
    for phase in snapshot.phases:
        mark, style = _PHASE_MARKS.get(phase.status, ("?", ""))
        text.append(f"{mark} ", style=style)
        text.append(f"{phase.label:<16}", style=style)
        text.append(f"{phase.status or 'not reported':<12}", style=style)
        if phase.started:
            text.append(f" {_clock(phase.started)}", style="dim")
            if phase.status in {"Completed", "Failed", "Stopped"} and phase.updated:
                text.append(f" -> {_clock(phase.updated)}", style="dim")
        text.append("\n")
    return text


def _loss_summary(label: str, points: tuple[MetricPoint, ...]) -> Text:
    if not points:
        return Text(f"{label}: no points yet", style="dim")
    losses = [p.loss for p in points]
    return Text(
        f"{label}: {fmt.plural(len(points), 'point')}, last {losses[-1]:.4f} "
        f"(step {points[-1].step}, "
        f"epoch {points[-1].epoch}), min {min(losses):.4f}"
    )


class WatchScreen(StepScreen):
    """Follow the run's job until it ends."""

    STEP_ID = "watch"
    STEP_TITLE = "Watch the job"
    CSS_PATH = "styles/watch.tcss"

    BINDINGS = [
        Binding("s", "stop_job", "Stop job", id="stop-job"),
        Binding("r", "restart_watch", "Refresh", id="refresh-job"),
        Binding("l", "list_jobs", "Reload jobs", id="list-jobs"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._snapshot: JobSnapshot | None = None
        self._watching: str | None = None
        self._last_success = monotonic()
        self._poll_error: BedrockTuneError | None = None
        self._announced_end = False
        self._training_tokens: tuple[str, int] | None = None
        """(training file URI, its token count) of the run's prepared data, once counted."""

    def compose_body(self) -> ComposeResult:
        yield Label("", id="job-title", classes="step-heading")
        yield Static("", id="job-status")
        yield Static("", id="time-left")
        with Horizontal(id="watch-columns", classes="columns"):
            with Vertical(id="timeline-column"):
                yield Label("Phases", classes="field-label")
                yield Static("", id="timeline")
                yield Static("", id="stall-warning")
            with Vertical(id="loss-column"):
                yield Label("Loss", classes="field-label")
                yield Static("", id="loss-note")
                yield Static("", id="training-loss-label")
                yield Sparkline([], id="training-loss")
                yield Static("", id="validation-loss-label")
                yield Sparkline([], id="validation-loss")
        yield Static("", id="failure")
        yield Static("", id="custom-model")
        with Horizontal(classes="button-row"):
            yield Button("Stop job", id="stop", variant="error", disabled=True)
        yield Label("Customization jobs in this region", classes="field-label")
        yield Static("Loading...", id="jobs-status")
        jobs: DataTable[str | Text] = DataTable(id="jobs", cursor_type="row", zebra_stripes=True)
        yield jobs

    def on_mount(self) -> None:
        self.query_one("#jobs", DataTable).add_columns(
            "", "Status", "Created", "Job", "Custom model"
        )
        self.set_interval(1.0, self._tick)
        self._start_if_needed()
        self.action_list_jobs()

    def on_screen_resume(self) -> None:
        self._start_if_needed()
        self.action_list_jobs()

    def _start_if_needed(self) -> None:
        arn = self.host.wizard_run.job_arn
        if arn and arn != self._watching:
            if self._watching is not None:
                self._forget_shown_job()
            self._watching = arn
            self._announced_end = False
            self.query_one("#job-title", Label).update(
                f"Job {self.host.wizard_run.job_name or arn}"
            )
            self.watch_job(arn)
            self.count_training_tokens()
        elif not arn:
            self.query_one("#job-title", Label).update(
                "No job in this run yet: launch one, or pick any job of the region below"
            )

    def _forget_shown_job(self) -> None:
        """Clear what the screen shows of the job watched until now (its model, its failure,
        its curves): none of it is about the job picked next."""
        self._snapshot = None
        self._training_tokens = None
        for selector in ("#custom-model", "#failure", "#stall-warning", "#time-left", "#timeline"):
            self.query_one(selector, Static).update("")
        for selector in ("#training-loss-label", "#validation-loss-label", "#loss-note"):
            self.query_one(selector, Static).update("")
        for selector in ("#training-loss", "#validation-loss"):
            self.query_one(selector, Sparkline).data = []

    def action_restart_watch(self) -> None:
        """Poll again now (and restart polling if it had stopped)."""
        arn = self.host.wizard_run.job_arn
        if arn:
            self._watching = arn
            self.watch_job(arn)

    @work(thread=True, exclusive=True, exit_on_error=False, group="watch", name="watch")
    def watch_job(self, arn: str) -> None:
        """Poll until the job ends; every update is rendered on the UI thread."""
        worker = get_current_worker()

        def fetch() -> JobSnapshot:
            context = self.host.aws_context()
            if context is None:
                raise BedrockTuneError("no AWS context", hint="Check your credentials first.")
            return get_job(context, arn)

        def metrics(snapshot: JobSnapshot) -> Metrics:
            context = self.host.aws_context()
            assert context is not None
            return read_metrics(
                context, find_metric_files(context, snapshot.output_uri, snapshot.arn)
            )

        interval = self.host.launch.poll_interval
        watcher = JobWatcher(
            fetch,
            fetch_metrics=metrics,
            min_interval=interval,
            max_interval=max(interval * 8, interval),
        )
        watcher.watch(
            lambda update: self.app.call_from_thread(self._apply, update),
            cancelled=lambda: worker.is_cancelled,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="tokens", name="tokens")
    def count_training_tokens(self) -> None:
        """Count the run's training tokens once, for the estimated time left."""
        run = self.host.wizard_run
        tokens = training_tokens(run)
        if tokens is not None and run.training_uri:
            self.app.call_from_thread(self._counted, run.training_uri, tokens)

    def _counted(self, training_uri: str, tokens: int) -> None:
        self._training_tokens = (training_uri, tokens)
        self._tick()

    def _apply(self, update: WatchUpdate) -> None:
        self._poll_error = update.error
        if update.error is None:
            self._last_success = monotonic()
            self.clear_error()
        else:
            self.show_error(update.error, warning=not update.needs_reauth)
        snapshot = update.snapshot
        if snapshot is None:
            return
        self._snapshot = snapshot
        self.query_one("#timeline", Static).update(timeline(snapshot))
        self.query_one("#stop", Button).disabled = snapshot.status is not JobStatus.IN_PROGRESS
        warning = self.query_one("#stall-warning", Static)
        if update.stalled_for:
            warning.update(
                Text(
                    f"⚠ Training has not started {fmt.duration(update.stalled_for)} after "
                    "validation finished. Jobs have been seen stuck like this for days with no "
                    "error; consider stopping it and launching again.",
                    style="bold yellow",
                )
            )
        else:
            warning.update("")
        note = self.query_one("#loss-note", Static)
        running = snapshot.status is JobStatus.IN_PROGRESS
        if not running or (update.metrics is not None and update.metrics.training):
            note.update("")
        else:
            note.update(
                Text(
                    "The loss curves appear when the job completes: Bedrock uploads them at the "
                    "end.",
                    style="dim",
                )
            )
        if update.metrics is not None:
            self._show_metrics(update.metrics)
        self._show_failure(snapshot)
        self._tick()
        if snapshot.status.terminal and not self._announced_end:
            self._announce_end(snapshot)

    def _show_metrics(self, metrics: Metrics) -> None:
        self.query_one("#training-loss", Sparkline).data = [p.loss for p in metrics.training]
        self.query_one("#validation-loss", Sparkline).data = [p.loss for p in metrics.validation]
        self.query_one("#training-loss-label", Static).update(
            _loss_summary("Training", metrics.training)
        )
        self.query_one("#validation-loss-label", Static).update(
            _loss_summary("Validation", metrics.validation)
        )

    def _show_failure(self, snapshot: JobSnapshot) -> None:
        panel = self.query_one("#failure", Static)
        if snapshot.status is not JobStatus.FAILED:
            panel.update("")
            return
        text = Text("The job failed: ", style="bold red")
        text.append(snapshot.failure_message or "no failure message")
        explanation = explain_failure(snapshot.failure_message)
        if explanation:
            text.append("\nLikely cause: ", style="bold")
            text.append(explanation.cause)
            text.append("\nWhat to do: ", style="bold")
            text.append(explanation.fix)
        panel.update(text)

    def _announce_end(self, snapshot: JobSnapshot) -> None:
        self._announced_end = True
        self.action_list_jobs()
        self.app.bell()
        severity: Literal["information", "error"] = (
            "information" if snapshot.status is JobStatus.COMPLETED else "error"
        )
        self.notify(
            f"Job {snapshot.name} {snapshot.status.value.lower()}.",
            title="Customization job",
            severity=severity,
            timeout=15,
        )
        model = self.query_one("#custom-model", Static)
        if snapshot.output_model_arn and snapshot.status is JobStatus.COMPLETED:
            model.update(Text(f"Custom model: {snapshot.output_model_arn}", style="bold green"))
            self.load_model_status(snapshot.output_model_arn)
        self.host.update_run(
            replace(
                self.host.wizard_run,
                job_status=snapshot.status,
                custom_model_arn=snapshot.output_model_arn
                if snapshot.status is JobStatus.COMPLETED
                else None,
            )
        )

    def _tick(self) -> None:
        snapshot = self._snapshot
        if snapshot is None:
            return
        started = snapshot.created
        end = snapshot.ended if snapshot.status.terminal else None
        elapsed = ""
        if started is not None:
            stop = end or wall_clock()
            elapsed = fmt.duration((stop - started.astimezone(UTC)).total_seconds())
        ago = fmt.duration(monotonic() - self._last_success)
        line = Text()
        line.append(f"{snapshot.status.value}", style="bold")
        if elapsed:
            line.append(f"   elapsed {elapsed}")
        line.append(
            f"   last updated {ago} ago", style="dim" if self._poll_error is None else "yellow"
        )
        if self._poll_error is not None:
            line.append("  (retrying)", style="yellow")
        self.query_one("#job-status", Static).update(line)
        self.query_one("#time-left", Static).update(self._time_left(snapshot))

    def _time_left(self, snapshot: JobSnapshot) -> Text:
        """The estimated time left while the job runs (from the run's training tokens, when
        this job trains on the run's file), said to be an estimate."""
        counted = self._training_tokens
        if snapshot.status is not JobStatus.IN_PROGRESS or not snapshot.created or not counted:
            return Text("")
        uri, tokens = counted
        if snapshot.training_uri != uri:
            return Text("")
        epochs = job_epochs(snapshot.hyperparameters, self.host.wizard_run.base_model_id)
        elapsed = (wall_clock() - snapshot.created.astimezone(UTC)).total_seconds()
        return Text(estimate_duration(tokens, epochs).describe(elapsed), style="dim")

    @on(Button.Pressed, "#stop")
    def _stop_pressed(self) -> None:
        self.action_stop_job()

    def action_stop_job(self) -> None:
        """Stop the job, after one confirmation."""
        snapshot = self._snapshot
        if snapshot is None or snapshot.status is not JobStatus.IN_PROGRESS:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.stop_now(snapshot.arn)

        self.app.push_screen(
            ConfirmScreen(
                "Stop the customization job?",
                f"{snapshot.name} will stop. Training done so far is billed, and a stopped job "
                "cannot be resumed: you would launch a new one.",
                "Stop job",
            ),
            confirmed,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="stop", name="stop")
    def stop_now(self, arn: str) -> StopRequested:
        """Ask Bedrock to stop the job; the watcher shows Stopping, then Stopped."""
        context = self.host.aws_context()
        if context is None:
            raise BedrockTuneError("no AWS context", hint="Check your credentials first.")
        stop_job(context, arn)
        return StopRequested(arn)

    @on(StopRequested)
    def _stop_requested(self) -> None:
        self.notify("Stop requested.", title="Customization job")
        self.action_restart_watch()

    @work(thread=True, exclusive=True, exit_on_error=False, group="model", name="model-status")
    def load_model_status(self, arn: str) -> ModelStatusRead:
        """The custom model's status (Active once it can be deployed)."""
        context = self.host.aws_context()
        if context is None:
            raise BedrockTuneError("No AWS context.", hint="Check your credentials first.")
        return ModelStatusRead(arn, custom_model_status(context, arn))

    @on(ModelStatusRead)
    def _model_status_read(self, message: ModelStatusRead) -> None:
        style = "bold green" if message.status == "Active" else "bold yellow"
        self.query_one("#custom-model", Static).update(
            Text(f"Custom model ({message.status}): {message.arn}", style=style)
        )

    # ------------------------------------------------------------------ the region's jobs

    def action_list_jobs(self) -> None:
        """List every customization job in the region (bedrock-tune's marked)."""
        if self.host.aws_context() is not None:
            self.query_one("#jobs-status", Static).update("Loading the region's jobs...")
            self.load_jobs()

    @work(thread=True, exclusive=True, exit_on_error=False, group="jobs", name="jobs")
    def load_jobs(self) -> JobsListed:
        """The region's jobs, newest first, each with whether bedrock-tune launched it."""
        context = self.host.aws_context()
        if context is None:
            return JobsListed(())
        ours = set(managed_job_arns(context))
        return JobsListed(tuple((job, job.arn in ours) for job in list_jobs(context)))

    @on(JobsListed)
    def _show_jobs(self, message: JobsListed) -> None:
        jobs = message.jobs
        table = self.query_one("#jobs", DataTable)
        table.clear()
        for job, ours in jobs:
            table.add_row(
                Text("★", style="bold") if ours else Text(""),
                job.status.value,
                shown_time(job.created, with_day=True) if job.created else "",
                job.name,
                job.custom_model_name or "",
                key=job.arn,
            )
        mine = sum(1 for _, ours in jobs if ours)
        self.query_one("#jobs-status", Static).update(
            Text(
                f"{fmt.plural(len(jobs), 'job')}, {mine} launched by bedrock-tune (★). "
                "Select one to watch it.",
                style="dim",
            )
            if jobs
            else Text("No customization jobs in this region yet.", style="dim")
        )

    @on(DataTable.RowSelected, "#jobs")
    def _job_chosen(self, event: DataTable.RowSelected) -> None:
        arn = event.row_key.value
        if not arn or arn == self._watching:
            return
        name = str(self.query_one("#jobs", DataTable).get_row(event.row_key)[3])
        self.host.update_run(
            replace(
                self.host.wizard_run,
                job_arn=arn,
                job_name=name,
                job_status=None,
                custom_model_arn=None,
            )
        )
        self._start_if_needed()
