"""Why a SageMaker training job failed, in words a person can act on.

SageMaker's `FailureReason` and status messages are matched against the failures the walkthroughs
meet: no capacity for the instance type, the account's quota for it, a spot interruption, a gated
Hugging Face model without a token, the execution role refused, bad training data, and a GPU out of
memory. The first rule that matches explains; anything else is shown as SageMaker says it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.sagemaker.watch import TrainingSnapshot


@dataclass(frozen=True)
class TrainingFailure:
    """One explained failure."""

    rule: str
    what: str
    fix: str


_RULES: tuple[tuple[str, re.Pattern[str], str, str], ...] = (
    (
        "quota",
        re.compile(r"ResourceLimitExceeded|service limit|quota", re.I),
        "The account's quota for this instance type in training jobs is too low (often 0 for "
        "GPU instances in a new account).",
        "Ask for more in Service Quotas (SageMaker: '<instance type> for training job usage'), "
        "or choose an instance type with quota.",
    ),
    (
        "max-wait",
        re.compile(r"MaxWaitTimeExceeded", re.I),
        "Managed spot training waited longer than its maximum wait for spot capacity.",
        "Start it again with a longer maximum wait, or train on demand (turn spot off).",
    ),
    (
        "spot-interrupted",
        re.compile(r"spot|interrupt", re.I),
        "The spot capacity was taken back and the job could not finish within its maximum wait.",
        "Start it again: the QLoRA script resumes from the last checkpoint in S3. Or train on "
        "demand (turn spot off).",
    ),
    (
        "capacity",
        re.compile(r"InsufficientCapacity|CapacityError|capacity", re.I),
        "SageMaker had no free instance of this type in the Region.",
        "Start it again later, choose another instance type, or turn on managed spot training "
        "(it waits for capacity up to its maximum wait).",
    ),
    (
        "hf-token",
        re.compile(r"gated|401|403 Client Error|HF_TOKEN|Unauthorized|access to model", re.I),
        "Hugging Face refused the base model: it is gated, and the job had no valid HF_TOKEN "
        "(or the token expired, or its account has not accepted the model's licence).",
        "Accept the licence on the model's Hugging Face page, create a read token, and pass it to "
        "the job as HF_TOKEN (hyperparameter or environment); then start it again.",
    ),
    (
        "access-denied",
        re.compile(r"AccessDenied|not authorized|Access Denied", re.I),
        "The execution role may not read the training data or write the output.",
        "Open the Infrastructure step and apply the plan again (it fixes the role's policy).",
    ),
    (
        "out-of-memory",
        re.compile(r"out of memory|OutOfMemory|OOM", re.I),
        "The GPU ran out of memory.",
        "Lower max_seq_length or per_device_train_batch_size, or choose a larger instance.",
    ),
    (
        "data",
        re.compile(r"\.jsonl|line \d+|no \.jsonl|JSONDecodeError", re.I),
        "The training data could not be read by the training script.",
        "Validate the prepared files (the Validate step) and upload them again.",
    ),
)


def explain_training_failure(reason: str | None) -> TrainingFailure:
    """What went wrong and what to do, for a `FailureReason` (or a stalled status message)."""
    text = reason or ""
    for rule, pattern, what, fix in _RULES:
        if pattern.search(text):
            return TrainingFailure(rule, what, fix)
    return TrainingFailure(
        "other",
        text or "SageMaker gave no reason.",
        "Read the job's log in CloudWatch Logs (/aws/sagemaker/TrainingJobs) for the cause.",
    )


def explain_failure(snapshot: TrainingSnapshot) -> str | None:
    """What happened and what to do about a failed job, in one line (None unless it failed). A
    job that ran out of spot wait says so even when its `FailureReason` is empty."""
    if snapshot.status != "Failed":
        return None
    reason = snapshot.failure_reason or ""
    if not reason and any(t.status == "MaxWaitTimeExceeded" for t in snapshot.timeline):
        reason = "MaxWaitTimeExceeded"
    failure = explain_training_failure(reason)
    return failure.fix if failure.rule == "other" else f"{failure.what} {failure.fix}"


def interruptions(snapshot: TrainingSnapshot) -> int:
    """How many times managed spot training was interrupted (each resumes from the checkpoint
    when the job has a `CheckpointConfig`)."""
    return sum(1 for t in snapshot.timeline if t.status == "Interrupted")
