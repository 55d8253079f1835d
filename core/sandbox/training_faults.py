"""The SageMaker training faults the sandbox plays, so every one can be seen and tested:

- **no quota**: an instance type this sandbox account has no training quota for is refused at
  CreateTrainingJob with `ResourceLimitExceeded`, naming the quota (as SageMaker does);
- **no capacity**: an instance type SageMaker cannot find capacity for here: the job is created,
  then fails while starting with a `CapacityError`;
- **spot interruption**: a managed spot job (`EnableManagedSpotTraining`) is interrupted once
  halfway through training, restarts, and resumes from its checkpoint (`CheckpointConfig`).

The state of jobs lives in `core/sandbox/training.py`; this module says which jobs meet which
fault and with what timeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Phase = tuple[str, float, str]
"""(secondary status, fraction of the job at which it ends, its message)."""

NO_QUOTA: dict[str, str] = {
    "ml.p4d.24xlarge": "ml.p4d.24xlarge for training job usage",
    "ml.p4de.24xlarge": "ml.p4de.24xlarge for training job usage",
}
"""Instance types the sandbox account has a training quota of 0 for, with the quota's name."""
NO_CAPACITY = frozenset({"ml.p5.48xlarge"})
"""Instance types the sandbox never finds capacity for."""
CAPACITY_REASON = (
    "CapacityError: Unable to provision requested ML compute capacity. Please retry using a "
    "different ML instance type."
)
CAPACITY_AT = 0.10
"""The fraction of the job (the end of Starting) at which a job without capacity fails."""

NORMAL: tuple[Phase, ...] = (
    ("Starting", 0.10, "Preparing the instances for training"),
    ("Downloading", 0.20, "Downloading the training image and the input data"),
    ("Training", 0.85, "Training image download completed. Training in progress."),
    ("Uploading", 1.00, "Uploading generated training model"),
)
SPOT_BILLABLE = 0.4
"""The share of the training time a sandbox spot job bills (the spot saving shown)."""


def spot_phases(checkpoint_uri: str) -> tuple[Phase, ...]:
    """The timeline of a spot job interrupted once and resumed from `checkpoint_uri`."""
    return (
        NORMAL[0],
        NORMAL[1],
        ("Training", 0.45, "Training image download completed. Training in progress."),
        ("Interrupted", 0.50, "The spot instance was reclaimed; the job will restart."),
        ("Restarting", 0.55, f"Restarting training from the checkpoint in {checkpoint_uri}"),
        ("Training", 0.85, f"Training resumed from the checkpoint in {checkpoint_uri}."),
        NORMAL[3],
    )


def quota_refusal(body: dict[str, Any]) -> str | None:
    """ResourceLimitExceeded's message when the request asks for an instance type without
    quota here (None otherwise), in SageMaker's words."""
    instance = str((body.get("ResourceConfig") or {}).get("InstanceType", ""))
    quota = NO_QUOTA.get(instance)
    if quota is None:
        return None
    count = int((body.get("ResourceConfig") or {}).get("InstanceCount", 1) or 1)
    return (
        f"The account-level service limit '{quota}' is 0 Instances, with current utilization of "
        f"0 Instances and a request delta of {count} Instances. Please use AWS Service Quotas to "
        "request an increase for this quota. If AWS Service Quotas is not available, contact AWS "
        "support to request an increase for this quota."
    )


@dataclass(frozen=True)
class Plan:
    """How a sandbox training job plays out."""

    phases: tuple[Phase, ...] = NORMAL
    failure: tuple[float, str] | None = None
    """(fraction of the job, FailureReason) when it fails."""
    billable_share: float = 1.0


def plan_for(body: dict[str, Any]) -> Plan:
    """The plan of the job CreateTrainingJob asked for with `body`."""
    instance = str((body.get("ResourceConfig") or {}).get("InstanceType", ""))
    if "ServerlessJobConfig" not in body and instance in NO_CAPACITY:
        return Plan(failure=(CAPACITY_AT, CAPACITY_REASON))
    if body.get("EnableManagedSpotTraining"):
        checkpoint = str((body.get("CheckpointConfig") or {}).get("S3Uri", "")) or "(none)"
        return Plan(spot_phases(checkpoint), billable_share=SPOT_BILLABLE)
    return Plan()
