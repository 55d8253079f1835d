"""The run: every choice made so far and every resource that exists because of it.

A run is immutable plain data. Screens and the CLI make a changed copy with
`dataclasses.replace(run, field=value)` (so a misspelt field fails mypy) and hand it over whole;
the registry saves it after every change. `to_dict` / `from_dict` round-trip it through JSON,
enums included, and `from_dict` refuses values of the wrong type with the field named.

The region has one owner: `Run.region`. The AWS context a screen or command works with is built
from the run (or checked against it), never the other way round.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field, fields, is_dataclass
from enum import Enum, StrEnum
from functools import cache
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from core.errors import BedrockTuneError
from core.statuses import CustomizationType, ImportStatus, JobStatus, ServingKind, ServingStatus

Target = Literal["aws", "sandbox"]
_Data = TypeVar("_Data")


class Route(StrEnum):
    """Which platform trains the model and which serves it: the route decides the steps."""

    BEDROCK_CUSTOMIZATION = "bedrock-customization"
    """Fine-tuning, continued pre-training or distillation on Bedrock; served by provisioned
    throughput or an on-demand deployment."""
    SAGEMAKER_IMPORT = "sagemaker-import"
    """An open-weight model trained on SageMaker, imported into Bedrock."""
    IMPORT_ONLY = "import-only"
    """A model tuned anywhere (a local folder, S3, a Hugging Face id), imported into Bedrock."""
    SAGEMAKER_AUTOPILOT = "sagemaker-autopilot"
    """SageMaker Autopilot (CreateAutoMLJobV2), served by a SageMaker endpoint."""
    SAGEMAKER_JUMPSTART = "sagemaker-jumpstart"
    """A JumpStart training job, served by a SageMaker endpoint."""

    @property
    def label(self) -> str:
        """How the route is named to a person."""
        return _ROUTE_LABELS[self]


_ROUTE_LABELS = {
    Route.BEDROCK_CUSTOMIZATION: "Customize on Bedrock",
    Route.SAGEMAKER_IMPORT: "Train on SageMaker, import into Bedrock",
    Route.IMPORT_ONLY: "Import a model tuned elsewhere",
    Route.SAGEMAKER_AUTOPILOT: "SageMaker Autopilot",
    Route.SAGEMAKER_JUMPSTART: "SageMaker JumpStart",
}


BatchChoice = Literal["auto", "on", "off"]
"""`auto`: batch inference from the threshold on; `on`: whenever a model offers it; `off`: never."""


@dataclass(frozen=True)
class EvaluationChoices:
    """What a person chose for the Evaluate step (there, or with `bedrock-tune evaluate --run`):
    kept with the run so that its recipe keeps it, the app's Evaluate step opens with it, and a
    replay evaluates the same way. A saved run without it (older files) reads as None."""

    records: int = 20
    """How many test records are sent (the first N of the test split)."""
    compare_base: bool = True
    """Whether the base model answers too (compared with the tuned model)."""
    sql: bool = False
    """Whether answers are run as SQL in SQLite (SQL execution match)."""
    judge_model: str | None = None
    """The LLM judge: a catalog base model's id, name or inference id (None: no judge)."""
    rubric: str | None = None
    """The judge's rubric: `preset:NAME`, `template` (the run's template's [rubric] table), or
    a custom rubric as TOML text with a [rubric] table (None: the template's fitting preset)."""
    pairwise: bool = True
    """Whether the judge also compares tuned with base, A against B (with compare_base)."""
    batch: BatchChoice = "auto"
    batch_threshold: int | None = None
    """Records from which `auto` uses batch inference (None: bedrock-tune's default)."""
    seed: int | None = None
    """The seed of the bootstrap intervals and SQL's made-up rows (None: the default)."""


class RunDataError(BedrockTuneError):
    """Saved run data that does not describe a run (a wrong type, an unknown status...)."""

    default_title = "Saved run is damaged"


@dataclass(frozen=True)
class Run:
    """The choices and results of one run (immutable: change it with `dataclasses.replace`)."""

    run_id: str | None = None
    """Set when the run is first saved in the registry; jobs carry it as a tag."""
    route: Route = Route.BEDROCK_CUSTOMIZATION
    """Which steps the run goes through (chosen in the model step, or by the CLI command)."""

    # Where: the credentials step.
    target: Target | None = None
    """`aws` for the user's own account, `sandbox` for the local one; None until chosen."""
    profile: str | None = None
    region: str | None = None
    """The run's region, and the only place it is kept: the AWS context is built from it."""
    endpoint_url: str | None = None
    sandbox_id: str | None = None
    """The sandbox instance the run works in (`core.sandbox.background`): a sandbox started
    later, even on the same port, is another world without this run's jobs and files."""
    account_id: str | None = None
    principal_arn: str | None = None

    # What: the model step (or, on the import routes, the model source step).
    base_model_id: str | None = None
    """The customization id (`baseModelIdentifier`) of the chosen base model."""
    customization_type: CustomizationType = CustomizationType.FINE_TUNING
    model_source: str | None = None
    """Import routes: the weights to import (a local folder, an s3:// URI or a Hugging Face id)."""
    model_checked_ok: bool | None = None
    """Import routes: whether the import check passed (None: not checked yet)."""

    # The data: the dataset, template and prepare steps.
    source_location: str | None = None
    """A path or a Hugging Face dataset id."""
    source_config: str | None = None
    source_split: str | None = None
    template_toml: str | None = None
    """The template as TOML text (plain data, so the run stays JSON)."""
    train_size: int | None = None
    """Records asked for in train.jsonl (None: not prepared yet; the step proposes sizes)."""
    validation_size: int | None = None
    test_size: int | None = None
    max_chars: int | None = None
    """Longest record kept, in characters of system + user + assistant (None: no limit)."""
    max_tokens: int | None = None
    """Longest record kept, in estimated tokens (None: no limit)."""
    dedupe: bool | None = None
    """Whether repeated records were dropped (None: not prepared yet)."""
    seed: int | None = None
    """The seed of the sample and split (the same seed gives the same files)."""
    prepared_dir: str | None = None
    """The folder holding train.jsonl / validation.jsonl / test.jsonl and manifest.json."""
    validated_ok: bool | None = None
    """Whether the last validation of the prepared files passed (None: not validated yet)."""
    validated_dir: str | None = None
    """The prepared folder that verdict is about (preparing again makes it stale)."""

    # Infrastructure and upload.
    bucket: str | None = None
    s3_prefix: str | None = None
    """The key prefix of the run folders in the bucket (`<prefix>/<run id>/...`)."""
    role_arn: str | None = None
    kms_key_id: str | None = None
    training_uri: str | None = None
    validation_uri: str | None = None
    test_uri: str | None = None
    output_uri: str | None = None

    # The job: the launch and watch steps.
    job_name: str | None = None
    custom_model_name: str | None = None
    client_request_token: str | None = None
    """Stored before the job is created, so a retry (or a rerun after a crash) can never start
    a second job."""
    hyperparameters: dict[str, str] = field(default_factory=dict)
    """The values set by hand (the others take the model's defaults). Read-only by convention:
    replace the whole dict."""
    tags: dict[str, str] = field(default_factory=dict)
    """The user's tags on the job and the custom model (bedrock-tune adds its own)."""
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    job_arn: str | None = None
    job_status: JobStatus | None = None
    custom_model_arn: str | None = None
    teacher_model_id: str | None = None
    """Distillation: the teacher model (or inference profile) the job learns from."""
    max_response_length: int | None = None
    """Distillation: `maxResponseLengthForInference` (None: Bedrock's default)."""

    # SageMaker training (route sagemaker-import): the train step. The job itself is `job_name`,
    # `job_arn` and `job_status` above; `hyperparameters` are the QLoRA script's overrides.
    training_mode: Literal["serverless", "instance"] | None = None
    """Serverless model customization, or bedrock-tune's QLoRA script on an instance."""
    training_technique: Literal["SFT", "DPO"] | None = None
    """Serverless: the customization technique (with LoRA)."""
    sequence_length: str | None = None
    """Serverless: the longest sequence, e.g. `8K` (None: SageMaker chooses)."""
    eula_accepted: bool | None = None
    """Serverless: the base model's licence accepted, explicitly, by the user."""
    instance_type: str | None = None
    spot: bool | None = None
    """Instance: managed spot training, with checkpoints in S3."""
    model_artifacts: str | None = None
    """Where the finished training job left the model (`S3ModelArtifacts`)."""
    import_role_arn: str | None = None
    """Route sagemaker-import: the Custom Model Import role (`role_arn` is then SageMaker's
    execution role)."""

    # The import (import routes): the import check and import steps.
    model_uri: str | None = None
    """The S3 folder CreateModelImportJob reads: the source itself for an s3:// source, else
    where bedrock-tune uploaded the checked files (`<prefix>/<run id>/model/`)."""
    model_architecture: str | None = None
    """The model's `model_type` (from the check, then as Bedrock reports it)."""
    import_job_name: str | None = None
    imported_model_name: str | None = None
    import_token: str | None = None
    """Stored before CreateModelImportJob is sent, so a retry never imports twice."""
    import_job_arn: str | None = None
    import_status: ImportStatus | None = None
    custom_model_units: int | None = None
    """Custom model units per copy of the imported model (its serving price scales with them).
    The imported model's ARN is `custom_model_arn`."""

    # Serving: the deploy and chat steps.
    serving_kind: ServingKind | None = None
    serving_arn: str | None = None
    serving_status: ServingStatus | None = None
    chatted_with: str | None = None
    """The served model (deployment, throughput or imported model ARN) that answered in the
    chat step: the step is done while the run still serves that model."""

    # Serving on SageMaker (the Autopilot and JumpStart routes): the endpoint step. The
    # endpoint's ARN and status are `serving_arn` / `serving_status` (kind SAGEMAKER_ENDPOINT).
    endpoint_name: str | None = None
    """Stored before anything is created: its model and config are `<name>-model` and
    `<name>-config`, so a rerun finds what an interrupted deploy made."""
    endpoint_source: str | None = None
    """What the endpoint serves: `training-job:NAME` or `autopilot:NAME`."""
    endpoint_instance_type: str | None = None

    # Evaluation: the evaluate step.
    evaluation: EvaluationChoices | None = None
    """The evaluation last run on this run's model, as chosen (the report is in the store)."""

    # Replay: `bedrock-tune replay FILE` (core.replay).
    recipe_digest: str | None = None
    """The digest of the recipe this run replays (`core.recipe.recipe_digest`): a rerun of the
    same recipe in the same place finds this run and continues it."""

    @property
    def identity_checked(self) -> bool:
        """Whether the credentials step has confirmed an identity."""
        return self.account_id is not None and self.region is not None

    def place_only(self) -> Run:
        """A fresh run that works where this one works (target, profile, region, endpoint,
        sandbox, identity) and has chosen nothing else yet; it keeps no run id."""
        return Run(
            target=self.target,
            profile=self.profile,
            region=self.region,
            endpoint_url=self.endpoint_url,
            sandbox_id=self.sandbox_id,
            account_id=self.account_id,
            principal_arn=self.principal_arn,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data: enums as their values, tuples as lists."""
        return {f.name: _encode(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Run:
        """Rebuild from `to_dict` output, ignoring keys this version does not know.

        Raises:
            RunDataError: a value of the wrong type, or a status this version does not know.
        """
        if not isinstance(data, dict):
            raise RunDataError(f"a run is a JSON object, not {type(data).__name__}")
        return _decode_dataclass("", cls, data)


def _encode(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value


@cache
def _field_types(cls: Any) -> dict[str, Any]:
    hints = get_type_hints(cls)
    return {f.name: hints[f.name] for f in fields(cls)}


def _decode_dataclass(prefix: str, cls: type[_Data], data: dict[str, Any]) -> _Data:
    """`data` as a `cls` (a Run, or a dataclass field of it), ignoring keys this version does
    not know; a wrong value is named with its path (`evaluation.records`)."""
    of: Any = cls  # (a class is hashable; mypy cannot tell it of a type variable's class)
    hints = _field_types(of)
    values = {
        name: _decode(prefix + name, hints[name], v) for name, v in data.items() if name in hints
    }
    return cls(**values)


def _decode(name: str, hint: Any, value: Any) -> Any:
    """`value` as the field's type, or RunDataError naming the field."""
    optional = False
    if get_origin(hint) in (Union, types.UnionType):
        members = get_args(hint)
        rest = [m for m in members if m is not type(None)]
        optional = len(rest) < len(members)
        (hint,) = rest  # every optional field is `X | None` with one X
    if value is None:
        if optional:
            return None
        raise RunDataError(f"{name} has no value (null)")
    origin = get_origin(hint)
    if origin is Literal:
        if value in get_args(hint):
            return value
        allowed = ", ".join(str(a) for a in get_args(hint))
        raise RunDataError(f"{name} is '{value}', not one of: {allowed}")
    if isinstance(hint, type) and issubclass(hint, Enum):
        try:
            return hint(value)
        except ValueError:
            allowed = ", ".join(str(m.value) for m in hint)
            raise RunDataError(f"{name} is '{value}', not one of: {allowed}") from None
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is str:
        if isinstance(value, str):
            return value
    elif origin is dict:
        if isinstance(value, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            return dict(value)
    elif origin is tuple:
        if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            return tuple(value)
    elif isinstance(hint, type) and is_dataclass(hint):
        if isinstance(value, dict):
            return _decode_dataclass(f"{name}.", hint, value)
    else:  # pragma: no cover - a field type added without teaching the decoder
        raise TypeError(f"no decoder for {name}: {hint}")
    raise RunDataError(f"{name} is {type(value).__name__} {value!r}, not {_type_name(hint)}")


def _type_name(hint: Any) -> str:
    origin = get_origin(hint)
    if origin is dict:
        return "an object of strings"
    if origin is tuple:
        return "a list of strings"
    if isinstance(hint, type) and is_dataclass(hint):
        return "an object"
    return {bool: "true or false", int: "an integer", str: "a string"}.get(hint, str(hint))
