"""Where a run stands, decided from the run alone: for lists (`bedrock-tune runs`), the
registry's records, and what a restart offers to resume."""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum

from core.jobs.types import JobStatus
from core.run.types import Run
from core.serving.status import ServingStatus


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
    place_only = replace(
        Run(),
        run_id=run.run_id,
        target=run.target,
        profile=run.profile,
        region=run.region,
        endpoint_url=run.endpoint_url,
        account_id=run.account_id,
        principal_arn=run.principal_arn,
    )
    return run != place_only


def launched(run: Run) -> bool:
    """A job was launched, or was about to be (its token is saved)."""
    return run.job_arn is not None or run.client_request_token is not None


def job_in_progress(run: Run) -> bool:
    """A job was launched (or about to be) and had not ended when last seen."""
    return launched(run) and not (run.job_status or JobStatus.IN_PROGRESS).terminal


def serving_pending(run: Run) -> bool:
    """A provisioned throughput or deployment was created and was not ready when last seen."""
    return run.serving_arn is not None and (run.serving_status or ServingStatus.CREATING).pending


def run_status(run: Run) -> RunStatus:
    """The run's status: serving first (it is the later step), then the job."""
    if run.serving_arn is not None:
        serving = run.serving_status or ServingStatus.CREATING
        if serving.ready:
            return RunStatus.SERVING
        return RunStatus.FAILED if serving is ServingStatus.FAILED else RunStatus.DEPLOYING
    if run.job_arn is None and run.client_request_token is not None:
        return RunStatus.LAUNCHING
    if run.job_arn is not None:
        return _FROM_JOB[run.job_status or JobStatus.IN_PROGRESS]
    return RunStatus.NEW
