"""The SageMaker Public Hub in the sandbox: `ListHubContents` and `DescribeHubContent` of hub
`SageMakerPublicHub` for the models the sandbox's routes use (moto has no Public Hub).

The entries are the sandbox's stand-ins: their ids are JumpStart's, but the image, script and
artifact locations, the hyperparameter specs and the instance lists are illustrative (shaped
like the Public Hub's documents, `core.sagemaker.hub` reads them); nothing is downloaded from
them here. One entry is not a text-generation model, so listing has something to leave out.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from core.sandbox.paging import page
from core.sandbox.table import Reply, SandboxRequest, emulates, json_error

if TYPE_CHECKING:
    from core.sandbox.table import Sandbox

PUBLIC_HUB = "SageMakerPublicHub"
CREATED = datetime(2024, 4, 18, tzinfo=UTC).isoformat()
VERSION = "2.0.0"
_LLAMA_EULA = (
    "https://jumpstart-cache-prod-{region}.s3.{region}.amazonaws.com/fmhMetadata/eula/llamaEula.txt"
)
_TEXT_GEN = ("@task:text-generation", "@capability:fine-tuning", "@framework:huggingface")


def _hp(
    name: str, kind: str, default: Any, low: Any = None, high: Any = None, **extra: Any
) -> dict[str, Any]:
    spec: dict[str, Any] = {"Name": name, "Type": kind, "Default": default, "Scope": "algorithm"}
    if low is not None:
        spec["Min"] = low
    if high is not None:
        spec["Max"] = high
    spec.update(extra)
    return spec


_LLM_HYPERPARAMETERS = [
    _hp("epoch", "int", "5", 1, 1000),
    _hp("learning_rate", "float", "0.0001", 1e-08, 1),
    _hp("instruction_tuned", "text", "False", Options=["True", "False"]),
    _hp("chat_dataset", "text", "False", Options=["True", "False"]),
    _hp("lora_r", "int", "8", 1),
    _hp("lora_alpha", "int", "32", 1),
    _hp("lora_dropout", "float", "0.05", 0, 1),
    _hp("per_device_train_batch_size", "int", "4", 1, 1000),
    _hp("max_input_length", "int", "-1", -1),
]
"""⚠ Shaped like JumpStart's Llama fine-tuning spec; the values are the sandbox's."""

MODELS: dict[str, dict[str, Any]] = {
    "meta-textgeneration-llama-3-8b": {
        "display": "Meta Llama 3 8B",
        "eula": True,
        "instances": ["ml.g5.12xlarge", "ml.g5.24xlarge", "ml.g5.48xlarge", "ml.p4d.24xlarge"],
        "default_instance": "ml.g5.12xlarge",
        "keywords": _TEXT_GEN,
        "hyperparameters": _LLM_HYPERPARAMETERS,
    },
    "meta-textgeneration-llama-2-7b": {
        "display": "Llama 2 7B",
        "eula": True,
        "instances": [
            "ml.g5.12xlarge",
            "ml.g5.24xlarge",
            "ml.g5.48xlarge",
            "ml.p4d.24xlarge",
            "ml.p5.48xlarge",
        ],
        "default_instance": "ml.g5.12xlarge",
        "keywords": _TEXT_GEN,
        "hyperparameters": _LLM_HYPERPARAMETERS,
    },
    "huggingface-llm-mistral-7b": {
        "display": "Mistral 7B",
        "eula": False,
        "instances": ["ml.g5.12xlarge", "ml.g5.24xlarge", "ml.g5.48xlarge", "ml.p4d.24xlarge"],
        "default_instance": "ml.g5.12xlarge",
        "keywords": _TEXT_GEN,
        "hyperparameters": _LLM_HYPERPARAMETERS,
    },
    "huggingface-llm-falcon-7b-instruct-bf16": {
        "display": "Falcon 7B Instruct BF16",
        "eula": False,
        "instances": ["ml.g5.12xlarge", "ml.g5.24xlarge"],
        "default_instance": "ml.g5.12xlarge",
        "keywords": _TEXT_GEN,
        "hyperparameters": _LLM_HYPERPARAMETERS,
    },
    "huggingface-sentencesimilarity-all-minilm-l6-v2": {
        "display": "all-MiniLM-L6-v2",
        "eula": False,
        "instances": [],
        "default_instance": None,
        "keywords": ("@task:sentence-similarity", "@framework:huggingface"),
        "hyperparameters": [],
        "training": False,
    },
}
"""The sandbox's Public Hub: the routes' models and one that is not a text model."""


def _arn(region: str, name: str) -> str:
    # Public Hub content belongs to AWS: the account part of its ARN is `aws`.
    return f"arn:aws:sagemaker:{region}:aws:hub-content/{PUBLIC_HUB}/Model/{name}/{VERSION}"


def _summary(name: str, entry: dict[str, Any], region: str) -> dict[str, Any]:
    return {
        "HubContentName": name,
        "HubContentArn": _arn(region, name),
        "HubContentVersion": VERSION,
        "HubContentType": "Model",
        "DocumentSchemaVersion": "2.3.0",
        "HubContentDisplayName": entry["display"],
        "HubContentDescription": f"{entry['display']} (sandbox stand-in of the Public Hub entry)",
        "SupportStatus": "Supported",
        "HubContentSearchKeywords": list(entry["keywords"]),
        "HubContentStatus": "Available",
        "CreationTime": CREATED,
    }


def document(name: str, entry: dict[str, Any], region: str) -> dict[str, Any]:
    """The HubContentDocument (decoded) of one sandbox entry."""
    cache = f"s3://jumpstart-cache-prod-{region}"
    training = entry.get("training", True)
    doc: dict[str, Any] = {
        "Url": f"https://huggingface.co/{name}",
        "Task": "text-generation" if training else "sentence-similarity",
        "TrainingSupported": training,
        "FineTuningSupported": training,
        "HostingEcrUri": f"763104351884.dkr.ecr.{region}.amazonaws.com/sandbox-tgi-inference:2",
        "DefaultInferenceInstanceType": "ml.g5.2xlarge",
        "GatedBucket": entry["eula"],
    }
    if entry["eula"]:
        doc["HostingEulaUri"] = _LLAMA_EULA.format(region=region)
    if training:
        doc.update(
            {
                "TrainingEcrUri": (
                    f"763104351884.dkr.ecr.{region}.amazonaws.com/sandbox-pytorch-training:2"
                ),
                "TrainingScriptUri": f"{cache}/source-directory-tarballs/training/{name}/"
                "sourcedir.tar.gz",
                "TrainingArtifactUri": f"{cache}/training-artifacts/{name}/",
                "Hyperparameters": entry["hyperparameters"],
                "DefaultTrainingInstanceType": entry["default_instance"],
                "SupportedTrainingInstanceTypes": entry["instances"],
            }
        )
    return doc


def list_hub_contents(body: dict[str, Any], region: str, page_size: int) -> Reply:
    """ListHubContents of the Public Hub (models only), filtered by NameContains, paged."""
    hub = str(body.get("HubName", ""))
    if hub != PUBLIC_HUB and not hub.endswith(f"hub/{PUBLIC_HUB}"):
        return json_error("ResourceNotFound", f"Hub {hub} does not exist.")
    if body.get("HubContentType") != "Model":
        return Reply(200, {"HubContentSummaries": []})
    needle = str(body.get("NameContains") or "")
    items = [_summary(n, e, region) for n, e in sorted(MODELS.items()) if needle in n]
    limit = body.get("MaxResults")
    status, answer = page(
        items,
        "HubContentSummaries",
        page_size=page_size,
        max_results=None if limit is None else str(limit),
        next_token=body.get("NextToken"),
    )
    if status != 200:
        code, message = answer
        return json_error(code, message)
    if "nextToken" in answer:
        answer["NextToken"] = answer.pop("nextToken")
    return Reply(200, answer)


def describe_hub_content(body: dict[str, Any], region: str) -> Reply:
    """DescribeHubContent of one Public Hub model."""
    name = str(body.get("HubContentName", ""))
    entry = MODELS.get(name)
    if entry is None or body.get("HubContentType") != "Model":
        message = f"Hub content {name} does not exist in {PUBLIC_HUB}."
        return json_error("ResourceNotFound", message)
    return Reply(
        200,
        {
            **_summary(name, entry, region),
            "HubName": PUBLIC_HUB,
            "HubArn": f"arn:aws:sagemaker:{region}:aws:hub/{PUBLIC_HUB}",
            "HubContentDocument": json.dumps(document(name, entry, region)),
        },
    )


@emulates(
    "sagemaker",
    "POST",
    r"/",
    "ListHubContents / DescribeHubContent: the Public Hub entries of the sandbox's models",
)
def _hub(request: SandboxRequest, sandbox: Sandbox) -> Reply | None:
    from core.sandbox.training import parse_body

    operation = request.target.rpartition(".")[2]
    if operation == "ListHubContents":
        return list_hub_contents(parse_body(request.body), request.region, 100)
    if operation == "DescribeHubContent":
        return describe_hub_content(parse_body(request.body), request.region)
    return None
