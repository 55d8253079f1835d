"""What a job's `failureMessage` means and what to do about it (reference/bedrock.md §4.3, §10)."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class FailureExplanation:
    """A known failure: its likely cause and the fix."""

    cause: str
    fix: str


_KNOWN: tuple[tuple[re.Pattern[str], FailureExplanation], ...] = (
    (
        re.compile(r"Could not validate (GetObject|PutObject) permissions|S3 perms missing", re.I),
        FailureExplanation(
            "The service role cannot read the training data or write the output: it lacks "
            "s3:GetObject / s3:ListBucket / s3:PutObject on the bucket, the bucket is in another "
            "region than the job, the data is encrypted with a KMS key the role cannot use "
            "(kms:Decrypt), or the role's trust policy does not let bedrock.amazonaws.com "
            "assume it.",
            "Re-run the infrastructure step's check (it verifies the role's trust and S3 access "
            "and the bucket's region), fix what it reports, then launch again.",
        ),
    ),
    (
        re.compile(
            r"Could not assume provided IAM role|not authorized to perform: sts:AssumeRole", re.I
        ),
        FailureExplanation(
            "Bedrock could not assume the service role: its trust policy does not name "
            "bedrock.amazonaws.com, or its aws:SourceAccount / aws:SourceArn conditions do not "
            "match this account and region.",
            "Let the infrastructure step update the role's trust policy (it shows the exact JSON), "
            "then launch again.",
        ),
    ),
    (
        re.compile(r"Unable to parse Amazon S3 file|must conform to JSONL", re.I),
        FailureExplanation(
            "A data file is not JSONL: pretty-printed JSON, blank lines, a byte-order mark or a "
            "line that is not one JSON object.",
            "Run the validation step on the file; it lists every bad line. Its fix-ups write a "
            "clean copy.",
        ),
    ),
    (
        re.compile(r"Input data at .* must follow|must follow '\{", re.I),
        FailureExplanation(
            "The records are in another format than this model takes (e.g. messages sent to a "
            "prompt/completion model).",
            "Choose the output format the model needs in the template step, prepare again, and "
            "validate against this model.",
        ),
    ),
    (
        re.compile(r"(Maximum|Max sum of) .*token.*exceeds|Input size exceeded", re.I),
        FailureExplanation(
            "At least one record is longer than the model's per-record limit.",
            "Validate against the model: the validator finds over-long records by estimate and "
            "its fix-up drops or truncates them. Lower the maximum length when preparing.",
        ),
    ),
    (
        re.compile(r"third-party license terms|Automated tests flagged", re.I),
        FailureExplanation(
            "Anthropic's automated checks flagged the training data as possibly against its "
            "license terms.",
            "Review the data for content that breaks the usage policy, remove it, and contact "
            "AWS Support if you believe the flag is wrong.",
        ),
    ),
    (
        re.compile(r"unexpected error when processing|internal error when processing", re.I),
        FailureExplanation(
            "A fault on the service side, not in your data.",
            "Launch again later (the same data and settings). If it keeps failing, try another "
            "region or model, or open an AWS Support case with the job ARN.",
        ),
    ),
    (
        re.compile(r"ServiceQuotaExceeded|quota", re.I),
        FailureExplanation(
            "A service quota is reached (concurrent jobs, custom models, or records per job).",
            "Delete custom models you no longer need, or request an increase in Service Quotas "
            "(search '(Model customization)').",
        ),
    ),
)


def explain_failure(message: str | None) -> FailureExplanation | None:
    """The explanation of a known failure message, or None when we have none."""
    if not message:
        return None
    for pattern, explanation in _KNOWN:
        if pattern.search(message):
            return explanation
    return None
