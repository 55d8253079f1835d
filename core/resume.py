"""Resume: which saved runs a restart offers, and how one is re-attached.

A run is offered when something of it was still going when bedrock-tune closed (a job, or a
deployment being created) and its route is one this version shows. Re-attaching rebuilds the
run's AWS context from the run (the run owns the region, profile and endpoint), checks who the
credentials belong to, finds the job a saved launch token created when the process died before
the job's ARN was saved, and names the step to continue on.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from core.aws import AwsContext, Identity
from core.errors import BedrockTuneError, ConnectionFailedError
from core.jobs.customization import find_launched_job
from core.registry import RunRecord
from core.run.routes import landing_step
from core.run.types import Route, Run, Target

if TYPE_CHECKING:
    from core.sandbox.background import SandboxInfo

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class RunWorldGoneError(ConnectionFailedError):
    """The sandbox a run was made in is not running any more: its jobs and files went with
    it, and the run can only be forgotten."""

    default_title = "This run's sandbox is gone"


def target_of(endpoint_url: str | None, *, sandbox: bool = False) -> Target:
    """`sandbox` for the embedded sandbox or any loopback endpoint (a standalone
    `bedrock-tune sandbox` reached through AWS_ENDPOINT_URL), else `aws`."""
    host = urlparse(endpoint_url).hostname if endpoint_url else None
    return "sandbox" if sandbox or host in _LOOPBACK else "aws"


def resumable_runs(records: Iterable[RunRecord], offered: Collection[Route]) -> list[RunRecord]:
    """The runs a restart offers to re-attach to: something was still going, on a route
    this version shows (a route still being built is never offered)."""
    return [r for r in records if r.resumable and r.route in offered]


def world_gone(
    run: Run, shared: SandboxInfo | None, probe: Callable[[str], str | None]
) -> str | None:
    """Why the world `run` was made in is gone (its sandbox stopped), or None when it is there
    or cannot be told without asking AWS.

    Args:
        run: a saved run.
        shared: the shared sandbox running now, if any.
        probe: asks an endpoint which sandbox answers there (`core.sandbox.background.identify`);
            only called for a sandbox the app did not start (a standalone `bedrock-tune
            sandbox`).
    """
    if run.target != "sandbox":
        return None
    gone = (
        "The sandbox this run was made in is not running any more (it was stopped, or the "
        "machine restarted), and its job and files went with it."
    )
    if run.sandbox_id is not None:
        alive = shared is not None and shared.instance_id == run.sandbox_id
        return None if alive else gone
    if not run.endpoint_url or probe(run.endpoint_url) is None:
        return f"Nothing answers at {run.endpoint_url} any more. " + gone
    return None


def context_for_run(run: Run) -> AwsContext:
    """The AWS context the run was made with, built from the run alone.

    Raises:
        BedrockTuneError: the run has no region, or is a sandbox run without an address.
    """
    if run.region is None:
        raise BedrockTuneError("The saved run has no region.", hint="Start a new run.")
    if run.target == "sandbox":
        if not run.endpoint_url:
            raise BedrockTuneError("The saved run has no sandbox address.", hint="Start a new run.")
        from core.sandbox.server import SANDBOX_CREDENTIALS

        return AwsContext.for_endpoint(run.endpoint_url, SANDBOX_CREDENTIALS, run.region)
    return AwsContext.from_environment(run.profile, run.region, run.endpoint_url)


@dataclass(frozen=True)
class Reattached:
    """A saved run brought back: its context, who it runs as, the run brought up to date, and
    the step to continue on."""

    context: AwsContext
    identity: Identity
    run: Run
    step: str


def reattach(run: Run) -> Reattached:
    """Rebuild the run's context, check it, and find its job (blocking: call from a worker).

    Raises:
        RunWorldGoneError: a sandbox run whose sandbox does not answer any more.
        ConnectionFailedError: the endpoint does not answer.
        BedrockTuneError: the credentials do not work, or the run lacks its region.
    """
    context = context_for_run(run)
    try:
        identity = context.whoami()
    except ConnectionFailedError as error:
        if run.target == "sandbox":
            raise RunWorldGoneError(
                f"The sandbox this run used ({run.endpoint_url}) is not running any more, and "
                "its job and files went with it.",
                hint="Forget the run in the resume dialog (it deletes nothing), and start a new "
                "one.",
            ) from error
        raise
    name, token = run.job_name, run.client_request_token
    if run.job_arn is None and name and token:
        # The process died right after launching: find the job this token created (a SageMaker
        # training job: the job of the run's name tagged with its id).
        if run.route is Route.SAGEMAKER_IMPORT:
            from core.sagemaker.launching import find_launched_training

            training = find_launched_training(context, name, run.run_id)
            run = replace(run, job_arn=training.arn if training else None)
        else:
            run = replace(run, job_arn=find_launched_job(context, name, token))
    if run.import_job_arn is None and run.import_job_name and run.import_token and run.run_id:
        # The same for an import: its job carries the run's id as a tag.
        from core.importing.jobs import find_launched_import

        found = find_launched_import(context, run.import_job_name, run.run_id)
        if found is not None:
            run = replace(run, import_job_arn=found.arn, import_status=found.status)
    return Reattached(context, identity, run, landing_step(run))
