"""Which models Bedrock batch inference (`CreateModelInvocationJob`) can run, and where.

From the Bedrock user guide, "Supported Regions and models for batch inference"
(docs.aws.amazon.com/bedrock/latest/userguide/batch-inference-supported.html, 2026 copy) and
"Process multiple prompts with batch inference" (same guide, batch-inference.html):

* Nova Micro, Lite and Pro: the foundation model in us-east-1 (and us-gov-west-1); their
  inference profiles in us-east-1, us-east-2, us-west-2 and other regions; custom models: N/A.
* Nova 2 Lite: through its inference profile only (the rows read list Asia-Pacific regions
  first; the us.* profile regions are taken as for the other Nova models ⚠).
* "Batch inference isn't supported for provisioned models"; a custom model deployment is not
  among the model kinds `CreateModelInvocationJob` takes (botocore's `ModelId` pattern:
  foundation model, inference profile or custom model).
* The rows for Claude 3 Haiku, Llama, Titan Text and Cohere were not in the copies read, so
  bedrock-tune does not offer batch for them (it falls back to on-demand and says why).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import NotFoundError

SOURCE = "Bedrock user guide, batch-inference-supported (2026)"
_PROFILE_REGIONS = (
    "us-east-1",
    "us-east-2",
    "us-west-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "eu-central-1",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-3",
)
_FOUNDATION_REGIONS = ("us-east-1", "us-gov-west-1")

_BASE_MODELS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # catalog id: (regions for the foundation model, regions for its inference profile)
    "amazon.nova-micro-v1:0:128k": (_FOUNDATION_REGIONS, _PROFILE_REGIONS),
    "amazon.nova-lite-v1:0:300k": (_FOUNDATION_REGIONS, _PROFILE_REGIONS),
    "amazon.nova-pro-v1:0:300k": (_FOUNDATION_REGIONS, _PROFILE_REGIONS),
    "amazon.nova-2-lite-v1:0:256k": ((), _PROFILE_REGIONS),
}


@dataclass(frozen=True)
class BatchSupport:
    """Whether batch inference can answer for a model in a region, and why (not)."""

    offered: bool
    reason: str
    family: str = ""
    """The catalog family (for the model's InvokeModel body) when offered."""


def batch_support(model_id: str, region: str) -> BatchSupport:
    """Whether Bedrock batch inference runs `model_id` (a base inference id or profile, or a
    provisioned throughput / deployment / custom model ARN) in `region`."""
    from core.catalog.lookup import find_model

    if model_id.startswith("endpoint:"):
        return BatchSupport(False, "a SageMaker endpoint answers InvokeEndpoint only")
    if ":provisioned-model/" in model_id:
        return BatchSupport(
            False,
            'Bedrock does not run batch inference on provisioned throughput ("Batch inference '
            "isn't supported for provisioned models\", Bedrock user guide)",
        )
    if ":custom-model-deployment/" in model_id:
        return BatchSupport(
            False, "batch inference takes a base model or a custom model, not a deployment"
        )
    if ":custom-model/" in model_id:
        return BatchSupport(
            False, f"the user guide lists no batch inference for custom models of it ({SOURCE})"
        )
    try:
        model = find_model(model_id)
    except NotFoundError:
        return BatchSupport(False, f"{model_id} is not a catalog model bedrock-tune knows")
    regions = _BASE_MODELS.get(model.id)
    if regions is None:
        return BatchSupport(False, f"{model.name} is not listed for batch inference in {SOURCE}")
    foundation, profile = regions
    is_profile = model_id.split(".", 1)[0] in ("us", "eu", "apac", "global")
    allowed = profile if is_profile else foundation
    if region not in allowed:
        kind = "its inference profile" if is_profile else "the foundation model"
        return BatchSupport(
            False, f"batch inference for {model.name} ({kind}) is not offered in {region}"
        )
    return BatchSupport(True, f"{model.name}: batch inference offered in {region}", model.family)
