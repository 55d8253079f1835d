"""The image that serves a training job's model on an endpoint: the one the Public Hub entry of
its JumpStart model gives (`HostingEcrUri`), else the Hugging Face text generation inference
(TGI) Deep Learning Container. Both are marked uncertain where the reference does not settle
them (⚠)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.aws import AwsContext
from core.errors import NotFoundError, aws_call
from core.sagemaker.hub import describe_hub_model
from core.sagemaker.jumpstart import MODEL_TAG

TGI_INFERENCE_IMAGE = (
    "763104351884.dkr.ecr.{region}.amazonaws.com/huggingface-pytorch-tgi-inference:"
    "2.1.1-tgi1.4.0-gpu-py310-cu121-ubuntu22.04"
)
"""⚠ The Hugging Face text generation inference (TGI) Deep Learning Container: the account,
repository and tag are not in the reference (AWS's Deep Learning Containers list). A JumpStart
model's own serving image is in its Public Hub entry (`serving_image` uses it); this one serves a
training job that names no JumpStart model, or whose entry gives no image."""
TGI_ENVIRONMENT = {"HF_MODEL_ID": "/opt/ml/model", "SM_NUM_GPUS": "1"}
"""⚠ What the TGI container reads to serve the model SageMaker unpacked into /opt/ml/model."""


def tgi_image(region: str) -> str:
    """The TGI inference image for `region` (⚠ see `TGI_INFERENCE_IMAGE`)."""
    return TGI_INFERENCE_IMAGE.format(region=region)


def _jumpstart_model_of(context: AwsContext, job: Mapping[str, Any]) -> str | None:
    """The Public Hub model a JumpStart training job fine-tuned (its `MODEL_TAG`), if any."""
    arn = job.get("TrainingJobArn")
    if not arn:
        return None
    with aws_call(f"reading the tags of the training job {job.get('TrainingJobName', '')}"):
        tags = context.client("sagemaker").list_tags(ResourceArn=str(arn)).get("Tags") or []
    return next((str(t["Value"]) for t in tags if t.get("Key") == MODEL_TAG), None)


def serving_image(context: AwsContext, job: Mapping[str, Any]) -> tuple[str, str]:
    """The image that serves a training job's model, and where it comes from in words: the
    Public Hub entry of the JumpStart model the job fine-tuned when the entry gives one
    (`HostingEcrUri`), else the Hugging Face TGI image (⚠ both uncertain: the entry's field name
    is the SageMaker Python SDK's, and the TGI tag is not in the reference)."""
    model_id = _jumpstart_model_of(context, job)
    if model_id:
        try:
            spec = describe_hub_model(context, model_id)
        except NotFoundError:
            spec = None
        if spec is not None and spec.hosting_image:
            return spec.hosting_image, (
                f"the Public Hub entry of {model_id} (HostingEcrUri; ⚠ the field the SageMaker "
                "Python SDK reads)"
            )
    why = f"the Public Hub entry of {model_id} gives none" if model_id else "no JumpStart model"
    return tgi_image(context.region), (
        f"the Hugging Face TGI image ({why}; ⚠ its tag is not in the reference): --image "
        "names another"
    )
