"""CreateTrainingJob requests, in the two ways the `sagemaker-import` route trains:

- **serverless** model customization: `ServerlessJobConfig` with a SageMaker Public Hub base
  model (`BaseModelArn`), SFT or DPO with LoRA, the EULA accepted explicitly, no instance;
- **instance**: bedrock-tune's QLoRA script (`core/sagemaker/scripts/train_qlora.py`, shipped as
  `sourcedir.tar.gz`) in the Hugging Face PyTorch training container on an instance you choose,
  the output written uncompressed (`CompressionType: NONE`) as merged safetensors ready to
  import, with managed spot training and checkpoints as an option.

Facts from botocore's sagemaker model (1.44: `ServerlessJobConfig`, `OutputCompressionType`,
`TrainingInstanceType`, the name and ARN patterns) and reference/bedrock.md ("Beyond Bedrock's
own customization", 2026-12: the walkthrough's defaults). What neither says is marked ⚠.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from core import format as fmt
from core.aws import partition_of
from core.catalog.open_weight import OPEN_WEIGHT_MODELS as OPEN_WEIGHT_MODELS
from core.catalog.open_weight import OpenWeightModel as OpenWeightModel
from core.pricing.sagemaker import builtin_training_rate
from core.pricing.types import InstancePrices, Price, SpotSaving

TrainingMode = Literal["serverless", "instance"]
Technique = Literal["SFT", "DPO"]

PUBLIC_HUB = "SageMakerPublicHub"
JOB_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
"""botocore's `TrainingJobName`."""
HUB_MODEL_ARN = re.compile(
    r"(arn:[a-z0-9-\.]{1,63}:sagemaker:\w+(?:-\w+)+:(\d{12}|aws):hub-content\/)"
    r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}\/Model\/[a-zA-Z0-9](-*[a-zA-Z0-9]){0,63}"
    r"(\/\d{1,4}.\d{1,4}.\d{1,4})?"
)
"""botocore's `ServerlessJobBaseModelArn`."""
SEQUENCE_LENGTH = re.compile(r"\d+K")
"""botocore's `SequenceLength` (1K-1024K per the reference)."""
ROLE_ARN = re.compile(r"arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+")
"""botocore's sagemaker `RoleArn`."""

DEFAULT_INSTANCE = "ml.g5.12xlarge"
"""The walkthrough's instance (4x A10G): Llama 3 8B, 2 epochs, about 2.5 h (reference)."""
HF_TRAINING_IMAGE = (
    "763104351884.dkr.ecr.{region}.amazonaws.com/huggingface-pytorch-training:"
    "2.1.0-transformers4.36.0-gpu-py310-cu121-ubuntu20.04"
)
"""⚠ The Hugging Face PyTorch training Deep Learning Container: the account, repository and tag
are not in the reference (AWS's Deep Learning Containers list); pass --image to use another."""
SCRIPT = "train_qlora.py"
CHECKPOINTS = "/opt/ml/checkpoints"

QLORA_DEFAULTS: dict[str, str] = {
    "epochs": "2",
    "lora_r": "16",
    "lora_alpha": "8",
    "lora_dropout": "0.05",
    "load_in_4bit": "true",
    "bnb_4bit_quant_type": "nf4",
    "bnb_4bit_use_double_quant": "true",
    "packing": "true",
    "merge_weights": "true",
    "max_shard_size": "2GB",
    "learning_rate": "0.0002",
    "per_device_train_batch_size": "1",
    "gradient_accumulation_steps": "4",
    "max_seq_length": "2048",
}
"""The walkthrough's QLoRA (reference: 4-bit NF4 with double quantization, LoRA r=16, alpha=8,
dropout 0.05 on all linear layers, SFTTrainer with packing, 2 epochs, merged and saved in 2 GB
safetensors shards). ⚠ The learning rate, batch sizes and sequence length are not in the
reference: these are common QLoRA values, to change with --hp."""

TRAINING_INSTANCES: tuple[str, ...] = ("ml.g5.2xlarge", DEFAULT_INSTANCE, "ml.g5.48xlarge")
"""The instance types the train step offers (A10G GPUs: 1, 4 and 8 of them); the CLI takes any."""

PUBLIC_HUB_MODELS: dict[str, str] = {
    "meta-textgeneration-llama-3-8b": "meta-llama/Meta-Llama-3-8B",
    "huggingface-llm-mistral-7b": "mistralai/Mistral-7B-v0.1",
}
"""SageMaker Public Hub (JumpStart) ids and the Hugging Face id the QLoRA script loads for an
instance job. ⚠ The pairing is ours (the walkthrough's model; the reference's JumpStart id of
Mistral 7B); pass --hp model_id=org/name for another base model."""


def qlora_hyperparameter_problem(name: str, value: str) -> str | None:
    """Why the QLoRA script would refuse `--name value` (None when it takes it): the script's
    own arguments decide, read from its parser (its channels and folders are SageMaker's, not
    hyperparameters)."""
    from core.sagemaker.scripts.train_qlora import SAGEMAKER_ARGUMENTS, build_parser

    actions = {
        action.dest: action
        for action in build_parser({})._actions
        if action.option_strings and action.dest not in SAGEMAKER_ARGUMENTS | {"help"}
    }
    action = actions.get(name)
    if action is None:
        return f"the QLoRA script has no hyperparameter `{name}` (it has: {', '.join(actions)})"
    convert = action.type if callable(action.type) else str
    try:
        converted = convert(value)
    except (ValueError, TypeError, argparse.ArgumentTypeError):
        names: dict[object, str] = {int: "a whole number", float: "a number"}
        kind = names.get(action.type, "true or false")
        return f"`{name}` = '{value}' is not {kind}"
    if action.choices is not None and converted not in action.choices:
        return f"`{name}` = '{value}' is not one of {', '.join(map(str, action.choices))}"
    return None


def hub_model_arn(region: str, model_id: str, version: str | None = None) -> str:
    """The SageMaker Public Hub ARN of a hub model (`BaseModelArn` of serverless jobs)."""
    hub = f"arn:{partition_of(region)}:sagemaker:{region}:aws:hub-content/{PUBLIC_HUB}"
    arn = f"{hub}/Model/{model_id}"
    return f"{arn}/{version}" if version else arn


def training_image(region: str) -> str:
    """The Hugging Face PyTorch training image for `region` (⚠ see `HF_TRAINING_IMAGE`)."""
    return HF_TRAINING_IMAGE.format(region=region)


@dataclass(frozen=True)
class TrainingRequest:
    """Everything CreateTrainingJob needs for either mode."""

    job_name: str
    role_arn: str
    base_model: str
    """A SageMaker Public Hub model id (`meta-textgeneration-llama-3-8b`)."""
    training_uri: str
    output_uri: str
    region: str
    mode: TrainingMode = "serverless"
    validation_uri: str | None = None
    technique: Technique = "SFT"
    sequence_length: str | None = None
    accept_eula: bool = False
    instance_type: str = DEFAULT_INSTANCE
    instance_count: int = 1
    volume_gb: int = 200
    spot: bool = False
    max_runtime_seconds: int = 24 * 3600
    max_wait_seconds: int | None = None
    """Spot only: how long to wait for capacity plus train (at least the runtime)."""
    checkpoint_uri: str | None = None
    script_uri: str | None = None
    """Instance only: the `sourcedir.tar.gz` holding the QLoRA script."""
    image_uri: str | None = None
    hyperparameters: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)

    def _channels(self) -> list[dict[str, Any]]:
        channels = [("train", self.training_uri)]
        if self.validation_uri:
            channels.append(("validation", self.validation_uri))
        return [
            {
                "ChannelName": name,
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": uri,
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
                "ContentType": "application/jsonlines",
                "InputMode": "File",
            }
            for name, uri in channels
        ]

    def to_api(self) -> dict[str, Any]:
        """The exact keyword arguments of `sagemaker.create_training_job`."""
        request: dict[str, Any] = {
            "TrainingJobName": self.job_name,
            "RoleArn": self.role_arn,
            "InputDataConfig": self._channels(),
            "StoppingCondition": {"MaxRuntimeInSeconds": self.max_runtime_seconds},
            "Tags": [
                {"Key": k, "Value": v}
                for k, v in {"bedrock-tune:managed": "true", **self.tags}.items()
            ],
        }
        if self.mode == "serverless":
            config: dict[str, Any] = {
                "BaseModelArn": hub_model_arn(self.region, self.base_model),
                "JobType": "FineTuning",
                "CustomizationTechnique": self.technique,
                "Peft": "LORA",
                "AcceptEula": self.accept_eula,
            }
            if self.sequence_length:
                config["SequenceLength"] = self.sequence_length
            request["ServerlessJobConfig"] = config
            # Uncompressed, as for an instance job: the model lands as files for the import.
            # ⚠ The reference does not say what a serverless job writes; the API accepts
            # CompressionType on every training job.
            request["OutputDataConfig"] = {
                "S3OutputPath": self.output_uri,
                "CompressionType": "NONE",
            }
            if self.hyperparameters:
                request["HyperParameters"] = dict(self.hyperparameters)
            return request
        hyperparameters = {
            **QLORA_DEFAULTS,
            "model_id": PUBLIC_HUB_MODELS.get(self.base_model, self.base_model),
            **self.hyperparameters,
            # As the SageMaker Python SDK passes them: JSON strings the container decodes.
            "sagemaker_program": json.dumps(SCRIPT),
            "sagemaker_submit_directory": json.dumps(self.script_uri or ""),
        }
        request.update(
            {
                "AlgorithmSpecification": {
                    "TrainingImage": self.image_uri or training_image(self.region),
                    "TrainingInputMode": "File",
                    "MetricDefinitions": [
                        {"Name": "train:loss", "Regex": r"'loss': ([0-9.]+)"},
                    ],
                },
                "HyperParameters": hyperparameters,
                "ResourceConfig": {
                    "InstanceType": self.instance_type,
                    "InstanceCount": self.instance_count,
                    "VolumeSizeInGB": self.volume_gb,
                },
                # Uncompressed: the merged model lands as files, ready for Custom Model Import.
                "OutputDataConfig": {"S3OutputPath": self.output_uri, "CompressionType": "NONE"},
            }
        )
        if self.spot:
            request["EnableManagedSpotTraining"] = True
            request["StoppingCondition"]["MaxWaitTimeInSeconds"] = max(
                self.max_wait_seconds or 2 * self.max_runtime_seconds, self.max_runtime_seconds
            )
            request["CheckpointConfig"] = {
                "S3Uri": self.checkpoint_uri or f"{self.output_uri.rstrip('/')}/checkpoints/",
                "LocalPath": CHECKPOINTS,
            }
        return request


def check_training_request(request: TrainingRequest) -> list[str]:
    """Every reason CreateTrainingJob would refuse the request (empty when it is fine)."""
    problems: list[str] = []
    if not JOB_NAME.fullmatch(request.job_name):
        problems.append(
            f"job name '{request.job_name}': 1-63 letters, digits and '-', starting with a "
            "letter or digit"
        )
    if not ROLE_ARN.fullmatch(request.role_arn):
        problems.append(f"role '{request.role_arn}' is not an IAM role ARN")
    for label, uri in (("training data", request.training_uri), ("output", request.output_uri)):
        if not uri.startswith("s3://") or len(uri) > 1024:
            problems.append(f"{label} '{uri}' is not an s3:// URI")
    if request.mode == "serverless":
        if not HUB_MODEL_ARN.fullmatch(hub_model_arn(request.region, request.base_model)):
            problems.append(f"base model '{request.base_model}' is not a Public Hub model id")
        if request.sequence_length and not SEQUENCE_LENGTH.fullmatch(request.sequence_length):
            problems.append(f"sequence length '{request.sequence_length}': a number of K, e.g. 8K")
        if not request.accept_eula:
            problems.append(
                "the base model's EULA must be accepted explicitly (the licence box, or "
                "--accept-eula) for a serverless job"
            )
    else:
        if not request.script_uri:
            problems.append("no sourcedir.tar.gz location for the QLoRA script")
        wait = request.max_wait_seconds
        if request.spot and wait is not None and wait < request.max_runtime_seconds:
            problems.append("spot: the maximum wait must be at least the maximum runtime")
    return problems


@dataclass(frozen=True)
class TrainingEstimate:
    """What an instance job may cost (serverless prices are not in the reference)."""

    per_hour: float | None
    hours: float
    total: float | None
    note: str
    """Where the rate comes from (`Price List API, 2026-12-02`, or the reference's note), or
    why it is unknown; with managed spot training, the saving of up to N% and its source."""
    provenance: str = ""
    """The rate's source and date (`Price List API, 2026-12-02`), '' when it is unknown."""

    def text(self) -> str:
        """`$17.73 for 2.5 h (Price List API, 2026-12-02); <note>`, or `price unknown for
        2.5 h; <why>`."""
        if self.total is None:
            return f"price unknown for {self.hours:g} h; {self.note}"
        return f"{fmt.money(self.total)} for {self.hours:g} h ({self.provenance}); {self.note}"


def estimate_instance_cost(
    instance_type: str,
    instance_count: int,
    hours: float,
    prices: InstancePrices | None = None,
    *,
    spot: bool = False,
) -> TrainingEstimate:
    """`hours` of `instance_count` instances at the on-demand rate: the pricing service's
    (`prices`, from `PriceService.instance_prices`) when it has one, else the reference's.
    With `spot`, the total stays the on-demand ceiling and the note adds the saving of "up to
    N%" with its source (the Price List publishes no spot rate): never a $0 spot figure."""
    rate: Price | None = prices.training if prices is not None else None
    if rate is None or rate.amount is None:
        rate = builtin_training_rate(instance_type) or rate
    if rate is None or rate.amount is None:
        todo = (
            rate.todo
            if rate is not None
            else f"no price for {instance_type}; see https://aws.amazon.com/sagemaker/pricing/"
        )
        note = f"price of {instance_type} unknown: {todo}"
        if spot:
            note += f"; {SpotSaving(Price.unknown('per instance-hour', todo)).text()}"
        return TrainingEstimate(None, hours, None, note)
    per_hour = rate.amount * instance_count
    note = f"{fmt.money(rate.amount)} per instance-hour on demand ({rate.provenance})"
    if rate.source == "built-in" and rate.detail:
        note += f"; {rate.detail}"
    if spot:
        note = f"{SpotSaving(rate).text()}; the total is this on-demand ceiling"
        if rate.source == "built-in" and rate.detail:
            note += f" ({rate.detail})"
    return TrainingEstimate(per_hour, hours, per_hour * hours, note, rate.provenance)
