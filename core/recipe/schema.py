"""The recipe's schema: every key once (`SCHEMA`), its version and parameters, and the checked
`Recipe` (the package's docstring says what a recipe is)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from core.catalog.types import CustomizationType
from core.errors import BedrockTuneError
from core.run.types import Route, Run
from core.statuses import ServingKind

RECIPE_VERSION = 1
ACCOUNT = "{account_id}"
REGION = "{region}"


class RecipeError(BedrockTuneError):
    """A recipe that cannot be read: bad TOML, an unknown key, a wrong type or version."""

    default_title = "Bad recipe"


@dataclass(frozen=True)
class Key:
    """One key of a recipe section."""

    name: str
    kind: type
    """`str`, `int`, `bool` or `dict` (a table of strings)."""
    comment: str
    field: str | None = None
    """The `Run` field it fills (None: handled by name, e.g. `role_name`)."""
    choices: tuple[str, ...] = ()
    minimum: int = 0
    """The least value of an `int` key (a size may be 0, a length limit not)."""


def _values(enum: Any) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


SCHEMA: Mapping[str, tuple[Key, ...]] = {
    "": (
        Key("version", int, "recipe format version"),
        Key("route", str, "which platform trains and serves", "route", _values(Route)),
    ),
    "model": (
        Key("base_model_id", str, "the customization id of the base model", "base_model_id"),
        Key(
            "customization_type",
            str,
            "fine-tuning, continued pre-training or distillation",
            "customization_type",
            _values(CustomizationType),
        ),
        Key("teacher_model_id", str, "distillation: the teacher", "teacher_model_id"),
        Key(
            "max_response_length",
            int,
            "distillation: longest teacher answer",
            "max_response_length",
            minimum=1,
        ),
        Key("model_source", str, "import routes: the weights to import", "model_source"),
    ),
    "data": (
        Key("source", str, "a dataset path or a Hugging Face dataset id", "source_location"),
        Key("config", str, "the Hugging Face config", "source_config"),
        Key("split", str, "the split read", "source_split"),
        Key("template", str, "the template (TOML), as in `bedrock-tune preview`", "template_toml"),
    ),
    "prepare": (
        Key("train_size", int, "records in train.jsonl", "train_size"),
        Key("validation_size", int, "records in validation.jsonl", "validation_size"),
        Key("test_size", int, "records held out for evaluation", "test_size"),
        Key("seed", int, "the same seed gives the same sample and split", "seed"),
        Key("max_chars", int, "longest record kept, in characters", "max_chars", minimum=1),
        Key("max_tokens", int, "longest record kept, in estimated tokens", "max_tokens", minimum=1),
        Key("dedupe", bool, "drop repeated records", "dedupe"),
    ),
    "infrastructure": (
        Key("region", str, "where the run goes (replay may pass another)", "region"),
        Key("bucket", str, "S3 bucket; {account_id} and {region} are filled in", "bucket"),
        Key("s3_prefix", str, "key prefix of the run folders", "s3_prefix"),
        Key(
            "role_name",
            str,
            "IAM role Bedrock (SageMaker on the sagemaker routes) assumes; the ARN is derived in "
            "your account",
        ),
        Key("uses_kms_key", bool, "the run encrypted with a KMS key: pass its id when replaying"),
        Key("uses_vpc", bool, "the job ran in a VPC: pass subnets and security groups"),
    ),
    "training": (
        Key(
            "mode",
            str,
            "SageMaker: serverless customization, or the QLoRA script on an instance",
            "training_mode",
            ("serverless", "instance"),
        ),
        Key(
            "technique",
            str,
            "SageMaker serverless: the customization technique",
            "training_technique",
            ("SFT", "DPO"),
        ),
        Key(
            "sequence_length", str, "SageMaker serverless: the longest sequence", "sequence_length"
        ),
        Key("instance_type", str, "SageMaker instance: the training instance", "instance_type"),
        Key("spot", bool, "SageMaker instance: managed spot training", "spot"),
    ),
    "hyperparameters": (),
    "tags": (),
    "serving": (
        Key("kind", str, "how the custom model is served", "serving_kind", _values(ServingKind)),
        Key(
            "endpoint_instance_type",
            str,
            "a SageMaker endpoint's instance type",
            "endpoint_instance_type",
        ),
    ),
    # The Evaluate step's choices (`Run.evaluation`): a dotted field is a key of that table.
    "evaluation": (
        Key("records", int, "test records sent to the model", "evaluation.records", minimum=1),
        Key("compare_base", bool, "the base model answers too", "evaluation.compare_base"),
        Key("sql", bool, "answers run as SQL in SQLite", "evaluation.sql"),
        Key(
            "judge_model",
            str,
            "the LLM judge: a catalog base model (leave out for no judge)",
            "evaluation.judge_model",
        ),
        Key(
            "rubric",
            str,
            "the judge's rubric: preset:NAME, template, or a [rubric] table as TOML",
            "evaluation.rubric",
        ),
        Key("pairwise", bool, "the judge also compares tuned with base", "evaluation.pairwise"),
        Key(
            "batch",
            str,
            "batch inference: auto (from the threshold on), on, or off",
            "evaluation.batch",
            ("auto", "on", "off"),
        ),
        Key(
            "batch_threshold",
            int,
            "records from which auto uses batch inference",
            "evaluation.batch_threshold",
            minimum=1,
        ),
        Key("seed", int, "seed of the confidence intervals", "evaluation.seed"),
    ),
}
TABLES = ("hyperparameters", "tags")
"""Sections that are free tables of strings (their keys are not in `SCHEMA`)."""
_TABLE_FIELDS = {"hyperparameters": "hyperparameters", "tags": "tags"}
NESTED = ("evaluation",)
"""Sections that fill one dataclass field of the run (`evaluation.records` is its `records`)."""
_ARN_ACCOUNT = re.compile(r"arn:aws[\w-]*:[\w-]+:[\w-]*:(\d{12}):")


@dataclass(frozen=True)
class Recipe:
    """A checked recipe: the run's portable choices, with `{account_id}`/`{region}` left in."""

    route: Route
    choices: Mapping[str, Any]
    """`Run` field name -> value (placeholders not yet filled)."""
    role_name: str | None = None
    uses_kms_key: bool = False
    uses_vpc: bool = False

    def run_for(self, account_id: str, region: str | None = None) -> Run:
        """A fresh run from the recipe for `account_id` (and `region`, else the recipe's):
        placeholders filled, the role ARN derived, no job name, token or ARN carried over."""
        where = region or self.choices.get("region")

        def fill(value: Any) -> Any:
            if isinstance(value, str):
                value = value.replace(ACCOUNT, account_id)
                return value.replace(REGION, where) if where else value
            if isinstance(value, dict):
                return {k: fill(v) for k, v in value.items()}
            return value

        data = {name: fill(value) for name, value in self.choices.items()}
        data["route"] = self.route.value
        data["region"] = where
        if self.role_name:
            data["role_arn"] = f"arn:aws:iam::{account_id}:role/{self.role_name}"
        return replace(Run.from_dict(data), account_id=account_id)


def _lookup(data: Mapping[str, Any], field: str) -> Any:
    """The value of `field` in run data (a dotted field reads inside its table)."""
    head, _, rest = field.partition(".")
    value = data.get(head)
    if not rest:
        return value
    return value.get(rest) if isinstance(value, Mapping) else None


def _store(choices: dict[str, Any], field: str, value: Any) -> None:
    head, _, rest = field.partition(".")
    if rest:
        choices.setdefault(head, {})[rest] = value
    else:
        choices[head] = value
