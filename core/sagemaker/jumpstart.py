"""A JumpStart fine-tuning job (the `sagemaker-jumpstart` route): `CreateTrainingJob` built from
the model's Public Hub spec (`core.sagemaker.hub`), the EULA accepted explicitly, the
hyperparameters checked against the spec, the instance among the supported ones. The job is
watched like every training job (`core.sagemaker.watch`).

Shapes from botocore's sagemaker model (1.44): `S3DataSource.ModelAccessConfig.AcceptEula` on
the channel that carries the gated base model. ⚠ The channel name `model`, the entry point
`transfer_learning.py` and passing the script as `sagemaker_submit_directory` follow what the
SageMaker Python SDK sends for a JumpStart estimator, not an AWS API document.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.errors import ValidationError
from core.sagemaker.hub import HubModelSpec, check_hub_hyperparameters
from core.sagemaker.training import JOB_NAME, ROLE_ARN

ENTRY_POINT = "transfer_learning.py"
"""⚠ The JumpStart training scripts' entry point (as the SageMaker Python SDK sets it)."""
MODEL_TAG = "bedrock-tune:jumpstart-model"
"""The tag that names a JumpStart training job's Public Hub model (the endpoint step serves the
job's model with that entry's image)."""
MODEL_CHANNEL = "model"
TRAINING_CHANNEL = "training"


@dataclass(frozen=True)
class JumpStartRequest:
    """Everything CreateTrainingJob needs to fine-tune one JumpStart model."""

    job_name: str
    role_arn: str
    spec: HubModelSpec
    training_uri: str
    output_uri: str
    instance_type: str
    accept_eula: bool = False
    hyperparameters: Mapping[str, str] = field(default_factory=dict)
    """Overrides of the model's defaults."""
    volume_gb: int = 256
    max_runtime_seconds: int = 24 * 3600
    tags: Mapping[str, str] = field(default_factory=dict)

    def to_api(self) -> dict[str, Any]:
        """The exact keyword arguments of `sagemaker.create_training_job`."""
        spec = self.spec
        model_source: dict[str, Any] = {
            "S3DataType": "S3Prefix",
            "S3Uri": spec.training_artifact or "",
            "S3DataDistributionType": "FullyReplicated",
        }
        if spec.needs_eula:
            # Accepted explicitly, and only when the user said so (the check refuses otherwise).
            model_source["ModelAccessConfig"] = {"AcceptEula": self.accept_eula}
        return {
            "TrainingJobName": self.job_name,
            "RoleArn": self.role_arn,
            "AlgorithmSpecification": {
                "TrainingImage": spec.training_image or "",
                "TrainingInputMode": "File",
            },
            "HyperParameters": {
                **spec.defaults(),
                **self.hyperparameters,
                "sagemaker_program": json.dumps(ENTRY_POINT),
                "sagemaker_submit_directory": json.dumps(spec.training_script or ""),
            },
            "InputDataConfig": [
                {
                    "ChannelName": TRAINING_CHANNEL,
                    "DataSource": {
                        "S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": self.training_uri,
                            "S3DataDistributionType": "FullyReplicated",
                        }
                    },
                    "InputMode": "File",
                },
                {
                    "ChannelName": MODEL_CHANNEL,
                    "DataSource": {"S3DataSource": model_source},
                    "InputMode": "File",
                },
            ],
            "OutputDataConfig": {"S3OutputPath": self.output_uri},
            "ResourceConfig": {
                "InstanceType": self.instance_type,
                "InstanceCount": 1,
                "VolumeSizeInGB": self.volume_gb,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": self.max_runtime_seconds},
            "Tags": [
                {"Key": k, "Value": v}
                for k, v in {
                    "bedrock-tune:managed": "true",
                    MODEL_TAG: spec.model_id,
                    **self.tags,
                }.items()
            ],
        }


def check_jumpstart_request(request: JumpStartRequest) -> None:
    """A ValidationError listing every reason CreateTrainingJob would refuse the request or the
    job would fail at once (EULA, instance, hyperparameters, names, URIs)."""
    spec = request.spec
    problems: list[str] = []
    if not (spec.training_supported and spec.training_image and spec.training_artifact):
        problems.append(
            f"{spec.model_id} cannot be fine-tuned: its Public Hub entry has no training image, "
            "script or artifacts"
        )
    if spec.needs_eula and not request.accept_eula:
        where = f" ({spec.eula_uri})" if spec.eula_uri else ""
        problems.append(
            f"{spec.model_id} has an end-user licence agreement{where}: read it, then accept it "
            "explicitly (--accept-eula; in the app, the licence checkbox)"
        )
    if spec.instance_types and request.instance_type not in spec.instance_types:
        problems.append(
            f"{spec.model_id} does not train on {request.instance_type}; it supports "
            + ", ".join(spec.instance_types)
        )
    problems += check_hub_hyperparameters(spec, request.hyperparameters)
    if not JOB_NAME.fullmatch(request.job_name):
        problems.append(
            f"job name '{request.job_name}': 1-63 letters, digits and '-', starting with a "
            "letter or digit"
        )
    if not ROLE_ARN.fullmatch(request.role_arn):
        problems.append(f"role '{request.role_arn}' is not an IAM role ARN")
    for label, uri in (("training data", request.training_uri), ("output", request.output_uri)):
        if not uri.startswith("s3://") or len(uri) <= len("s3://") or len(uri) > 1024:
            problems.append(f"{label} '{uri}' is not an s3:// URI")
    if problems:
        raise ValidationError(
            "The JumpStart training request is not valid:\n"
            + "\n".join(f"- {p}" for p in problems),
            hint="Fix what is listed above (the flags, or the form); nothing was sent.",
        )
