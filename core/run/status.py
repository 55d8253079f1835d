"""Where a run stands, decided from the run alone: for lists (`bedrock-tune runs`), the
registry's records, and what a restart offers to resume."""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum

from core.run.types import Route, Run
from core.statuses import ImportStatus, JobStatus, ServingStatus


class RunStatus(StrEnum):
    """One word for a whole run."""

    NEW = "new"
    """Nothing launched yet."""
    LAUNCHING = "launching"
    """The launch token is saved but the job was never confirmed (the launch was interrupted)."""
    TRAINING = "training"
    STOPPING = "stopping"
    TRAINED = "trained"
    """The job completed; nothing serves the model."""
    STOPPED = "stopped"
    FAILED = "failed"
    """The job failed, or the deployment did."""
    DEPLOYING = "deploying"
    SERVING = "serving"
    IMPORTING = "importing"
    """An import was launched (or about to be) and had not ended."""
    IMPORTED = "imported"
    """The import completed: the model answers on demand."""


_FROM_JOB = {
    JobStatus.IN_PROGRESS: RunStatus.TRAINING,
    JobStatus.STOPPING: RunStatus.STOPPING,
    JobStatus.COMPLETED: RunStatus.TRAINED,
    JobStatus.STOPPED: RunStatus.STOPPED,
    JobStatus.FAILED: RunStatus.FAILED,
}


def has_choices(run: Run) -> bool:
    """Whether the run holds anything beyond where it works (a model, a dataset, a job...).

    A run with nothing else is not worth recording: opening the app and closing it again
    leaves no empty run behind.
    """
    return run != replace(run.place_only(), run_id=run.run_id)


def launched(run: Run) -> bool:
    """A job was launched, or was about to be (its token is saved)."""
    return run.job_arn is not None or run.client_request_token is not None


def job_in_progress(run: Run) -> bool:
    """A job was launched (or about to be) and had not ended when last seen."""
    return launched(run) and not (run.job_status or JobStatus.IN_PROGRESS).terminal


def import_in_progress(run: Run) -> bool:
    """An import was launched (or about to be: its token is saved) and had not ended."""
    launched = run.import_job_arn is not None or run.import_token is not None
    return launched and not (run.import_status or ImportStatus.IN_PROGRESS).terminal


def serving_pending(run: Run) -> bool:
    """A provisioned throughput or deployment was created and was not ready when last seen."""
    return run.serving_arn is not None and (run.serving_status or ServingStatus.CREATING).pending


def holds_sandbox_world(run: Run) -> bool:
    """Whether the run still has something going or kept in its place (a job not seen ending,
    a custom model, something serving): what a shared sandbox stays up for."""
    return (
        job_in_progress(run)
        or serving_pending(run)
        or run.custom_model_arn is not None
        or run.serving_arn is not None
    )


def run_status(run: Run) -> RunStatus:
    """The run's status: serving first (it is the later step), then the job."""
    if run.serving_arn is not None:
        serving = run.serving_status or ServingStatus.CREATING
        if serving.ready:
            return RunStatus.SERVING
        return RunStatus.FAILED if serving is ServingStatus.FAILED else RunStatus.DEPLOYING
    if run.import_job_arn is not None or run.import_token is not None:
        if import_in_progress(run):
            return RunStatus.IMPORTING
        return (
            RunStatus.IMPORTED if run.import_status is ImportStatus.COMPLETED else RunStatus.FAILED
        )
    if run.job_arn is None and run.client_request_token is not None:
        return RunStatus.LAUNCHING
    if run.job_arn is not None:
        return _FROM_JOB[run.job_status or JobStatus.IN_PROGRESS]
    return RunStatus.NEW


_JOB_KIND = {
    Route.IMPORT_ONLY: "model import job",
    Route.SAGEMAKER_IMPORT: "training job",
    Route.SAGEMAKER_AUTOPILOT: "Autopilot job",
    Route.SAGEMAKER_JUMPSTART: "training job",
}
"""What a run's job is, by route (a Bedrock customization job when not named here)."""


def still_going(run: Run) -> list[str]:
    """What of the run keeps going after the app closes (a job, a model import, a deployment
    being created), one sentence each; empty when nothing does. For the quit notice."""
    where = (
        "in the sandbox, which keeps running in the background"
        if run.target == "sandbox"
        else f"in AWS ({run.region})"
    )
    going: list[str] = []
    if job_in_progress(run):
        kind = _JOB_KIND.get(run.route, "customization job")
        name = run.job_name or "being launched"
        status = run.job_status or JobStatus.IN_PROGRESS
        going.append(f"The {kind} {name} ({status}) keeps running {where}.")
    if serving_pending(run):
        kind = run.serving_kind.label if run.serving_kind else "deployment"
        going.append(f"The {kind} keeps being created {where}.")
    return going
