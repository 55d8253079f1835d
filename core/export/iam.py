"""The export as the IAM policy documents (JSON): the bucket policy, the role's trust policy and
its inline permissions policy, exactly as `core.infra.policies` builds them, with the values that
belong to one account or run left as `{placeholders}`."""

from __future__ import annotations

import json
from typing import Any

from core.export.text import about
from core.export.types import ExportPlan, placeholders

_MEANINGS = {
    "account_id": "the account id (aws sts get-caller-identity)",
    "region": "the job's region",
    "partition": "the ARN partition: aws (aws-cn in China, aws-us-gov in GovCloud)",
    "bucket": "the S3 bucket holding the data and the output",
    "kms_key_arn": "the ARN of the KMS key the data is encrypted with",
}


def _used(value: Any) -> set[str]:
    if isinstance(value, str):
        return set(placeholders(value))
    if isinstance(value, dict):
        return set().union(*(_used(v) for v in value.values())) if value else set()
    if isinstance(value, list | tuple):
        return set().union(*(_used(v) for v in value)) if value else set()
    return set()


def iam_documents(plan: ExportPlan, source: str) -> dict[str, Any]:
    """The documents as one JSON object (see `iam_json`)."""
    infra = plan.infrastructure
    documents: dict[str, Any] = {
        "bucket_policy": {
            "why": "The bucket's policy: deny every request not made over TLS.",
            "document": infra.bucket_policy,
        },
        "trust_policy": {
            "why": "Who may assume the service role: Bedrock, only for this account's "
            "customization jobs in the region (the confused deputy conditions).",
            "role_description": infra.role_description,
            "document": infra.trust_policy,
        },
        "permissions_policy": {
            "why": "The role's inline policy: read the data folders, write the output folders, "
            "list the bucket (and use the KMS key when there is one).",
            "policy_name": infra.policy_name,
            "document": infra.permissions_policy,
        },
    }
    used = sorted(_used(documents))
    return {
        "about": " ".join(about(plan, source)[:1])
        + " These are the documents its scripts send; fill in the placeholders before use.",
        "placeholders": {f"{{{name}}}": _MEANINGS.get(name, name) for name in used},
        **documents,
    }


def iam_json(plan: ExportPlan, source: str) -> str:
    """The IAM documents as indented JSON text."""
    return json.dumps(iam_documents(plan, source), indent=2) + "\n"
