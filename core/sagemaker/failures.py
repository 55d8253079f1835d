"""A SageMaker training job's failure or interruption explained: what happened and what to do,
from its `FailureReason` and its secondary statuses (capacity, quota, spot interruptions, a
gated model without access). Shared by every SageMaker route's watch."""

from __future__ import annotations

from core.sagemaker.watch import TrainingSnapshot

_EXPLANATIONS: tuple[tuple[str, str], ...] = (
    (
        "CapacityError",
        "SageMaker found no capacity for this instance type in this region just now (no fault "
        "of the job). Launch again later, with another instance type (--instance), in another "
        "region, or with managed spot training and a longer maximum wait.",
    ),
    (
        "ResourceLimitExceeded",
        "The account's quota for this instance type is too low. Raise it in the Service Quotas "
        "console (Amazon SageMaker, '<instance> for training job usage'), or choose another "
        "instance type.",
    ),
    (
        "MaxWaitTimeExceeded",
        "Managed spot training waited longer than its maximum wait for spot capacity. Launch "
        "again with a longer maximum wait, or on demand (without --spot).",
    ),
    (
        "401",
        "The training container could not download a gated model: check the Hugging Face "
        "token (HF_TOKEN) and that its account accepted the model's licence.",
    ),
)


def explain_failure(snapshot: TrainingSnapshot) -> str | None:
    """What to do about the job's failure (None when it did not fail or nothing is known)."""
    if snapshot.status != "Failed":
        return None
    reason = snapshot.failure_reason or ""
    for marker, advice in _EXPLANATIONS:
        if marker in reason:
            return advice
    if any(t.status == "MaxWaitTimeExceeded" for t in snapshot.timeline):
        return _EXPLANATIONS[2][1]
    return None


def interruptions(snapshot: TrainingSnapshot) -> int:
    """How many times managed spot training was interrupted (each resumes from the checkpoint
    when the job has a `CheckpointConfig`)."""
    return sum(1 for t in snapshot.timeline if t.status == "Interrupted")
