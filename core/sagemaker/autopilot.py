"""SageMaker Autopilot LLM fine-tuning (the `sagemaker-autopilot` route): the
`CreateAutoMLJobV2` request with `TextGenerationJobConfig`, the job seen over time
(`AutoMLJobStatus` and `AutoMLJobSecondaryStatus` as a timeline, the best candidate's metrics
and inference containers), stop, and the cost estimate.

Shapes from botocore's sagemaker model (1.44): `AutoMLJobName` (1-32, `[a-zA-Z0-9](-*[a-zA-Z0-9])`),
`AutoMLJobChannel`, `TextGenerationJobConfig`, `AutoMLJobCompletionCriteria`,
`DescribeAutoMLJobV2Response`, `AutoMLCandidate`, `MetricDatum.StandardMetricName` (Rouge1,
Rouge2, RougeL, RougeLSum, Perplexity, ValidationLoss, TrainingLoss...). CreateAutoMLJobV2 takes
no client token: the run (with the job name) is saved before the call and the job carries the
run's id as a tag, so a rerun finds its job instead of making a second one.

The models and hyperparameters are `core.sagemaker.autopilot_models`; the CSV,
`core.sagemaker.autopilot_data`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core import format as fmt
from core.aws import AwsContext
from core.errors import NotFoundError, ValidationError, aws_call
from core.poll import Backoff, Pacing, Poller
from core.pricing.types import InstancePrices
from core.sagemaker.autopilot_data import CONTENT_TYPE
from core.sagemaker.autopilot_models import autopilot_model, check_hyperparameters
from core.sagemaker.training import ROLE_ARN

JOB_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}")
"""botocore's `AutoMLJobName`."""
DEFAULT_MAX_RUNTIME = 72 * 3600
"""`MaxRuntimePerTrainingJobInSeconds` when not given: 72 h (reference)."""
TERMINAL = frozenset({"Completed", "Failed", "Stopped"})
AUTOPILOT_POLL = Backoff(first=60.0, maximum=300.0)
ASSUMED_INSTANCE = "ml.g5.12xlarge"
"""⚠ Autopilot chooses its training instance and does not say which before the job runs; the
estimate prices this one (the JumpStart walkthrough's) and says it is an assumption."""
METRIC_LABELS = {
    "Rouge1": "ROUGE-1",
    "Rouge2": "ROUGE-2",
    "RougeL": "ROUGE-L",
    "RougeLSum": "ROUGE-L-Sum",
    "Perplexity": "perplexity",
    "ValidationLoss": "validation loss",
    "TrainingLoss": "training loss",
}


@dataclass(frozen=True)
class CompletionCriteria:
    """When Autopilot stops: per training job and for the whole job (Autopilot trains one
    candidate for text generation)."""

    max_runtime_per_training_job: int = DEFAULT_MAX_RUNTIME
    max_job_runtime: int | None = None

    def to_api(self) -> dict[str, int]:
        """`AutoMLJobCompletionCriteria`."""
        criteria = {"MaxRuntimePerTrainingJobInSeconds": self.max_runtime_per_training_job}
        if self.max_job_runtime is not None:
            criteria["MaxAutoMLJobRuntimeInSeconds"] = self.max_job_runtime
        return criteria


@dataclass(frozen=True)
class AutopilotRequest:
    """Everything CreateAutoMLJobV2 needs to fine-tune one base model."""

    job_name: str
    role_arn: str
    base_model: str
    training_uri: str
    """s3:// of the CSV (a file or a prefix holding CSV files)."""
    output_uri: str
    validation_uri: str | None = None
    hyperparameters: Mapping[str, str] = field(default_factory=dict)
    completion: CompletionCriteria = field(default_factory=CompletionCriteria)
    accept_eula: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)

    def to_api(self) -> dict[str, Any]:
        """The exact keyword arguments of `sagemaker.create_auto_ml_job_v2`."""
        channels = [("training", self.training_uri)]
        if self.validation_uri:
            channels.append(("validation", self.validation_uri))
        config: dict[str, Any] = {
            "BaseModelName": self.base_model,
            "CompletionCriteria": self.completion.to_api(),
        }
        if self.hyperparameters:
            config["TextGenerationHyperParameters"] = dict(self.hyperparameters)
        if self.accept_eula:
            config["ModelAccessConfig"] = {"AcceptEula": True}
        return {
            "AutoMLJobName": self.job_name,
            "AutoMLJobInputDataConfig": [
                {
                    "ChannelType": kind,
                    "ContentType": CONTENT_TYPE,
                    "CompressionType": "None",
                    "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri}},
                }
                for kind, uri in channels
            ],
            "OutputDataConfig": {"S3OutputPath": self.output_uri},
            "AutoMLProblemTypeConfig": {"TextGenerationJobConfig": config},
            "RoleArn": self.role_arn,
            "Tags": [
                {"Key": k, "Value": v}
                for k, v in {"bedrock-tune:managed": "true", **self.tags}.items()
            ],
        }


def check_autopilot_request(request: AutopilotRequest) -> AutopilotRequest:
    """The request with its hyperparameters normalised; a ValidationError listing every
    problem (base model not offered, EULA not accepted, names, URIs, ranges)."""
    model = autopilot_model(request.base_model)  # raises: not offered, with the replacement
    hyperparameters = check_hyperparameters(request.hyperparameters)
    problems: list[str] = []
    if not JOB_NAME.fullmatch(request.job_name):
        problems.append(
            f"job name '{request.job_name}': 1-32 letters, digits and '-', starting and ending "
            "with a letter or digit"
        )
    if not ROLE_ARN.fullmatch(request.role_arn):
        problems.append(f"role '{request.role_arn}' is not an IAM role ARN")
    uris = [("training data", request.training_uri), ("output", request.output_uri)]
    if request.validation_uri:
        uris.append(("validation data", request.validation_uri))
    for label, uri in uris:
        if not uri.startswith("s3://") or len(uri) > 1024 or len(uri) <= len("s3://"):
            problems.append(f"{label} '{uri}' is not an s3:// URI")
    if model.eula and not request.accept_eula:
        problems.append(
            f"{model.name} has an end-user licence (EULA) to accept explicitly: read it, then "
            "accept it (--accept-eula; in the app, the licence checkbox)"
        )
    completion = request.completion
    if completion.max_runtime_per_training_job < 1 or (
        completion.max_job_runtime is not None and completion.max_job_runtime < 1
    ):
        problems.append("the completion criteria's runtimes must be at least 1 second")
    if problems:
        raise ValidationError(
            "The Autopilot request is not valid:\n" + "\n".join(f"- {p}" for p in problems),
            hint="Fix what is listed above (the flags, or the form); nothing was sent.",
        )
    return AutopilotRequest(
        job_name=request.job_name,
        role_arn=request.role_arn,
        base_model=request.base_model,
        training_uri=request.training_uri,
        output_uri=request.output_uri,
        validation_uri=request.validation_uri,
        hyperparameters=hyperparameters,
        completion=completion,
        accept_eula=request.accept_eula,
        tags=request.tags,
    )


# --------------------------------------------------------------------------- watching


@dataclass(frozen=True)
class InferenceContainer:
    """One container of the best candidate (what an endpoint serves)."""

    processing_unit: str
    """CPU or GPU (`AutoMLInferenceContainerDefinitions`); '' from `InferenceContainers`."""
    image: str
    model_data_url: str
    environment: Mapping[str, str]


@dataclass(frozen=True)
class Candidate:
    """The best candidate: its status, metrics and inference containers."""

    name: str
    status: str
    metrics: Mapping[str, float]
    """By `StandardMetricName` (Rouge1, Perplexity, ValidationLoss...)."""
    containers: tuple[InferenceContainer, ...]


@dataclass(frozen=True)
class AutopilotSnapshot:
    """An AutoML job as DescribeAutoMLJobV2 describes it at one moment."""

    name: str
    arn: str
    status: str
    """InProgress | Completed | Failed | Stopping | Stopped."""
    secondary_status: str
    failure_reason: str | None
    best: Candidate | None
    base_model: str | None
    modified: datetime | None

    @property
    def ended(self) -> bool:
        """Whether the job can no longer change."""
        return self.status in TERMINAL

    def fingerprint(self) -> tuple[object, ...]:
        """What changes when the job moves on."""
        metrics = tuple(sorted(self.best.metrics.items())) if self.best else ()
        return (self.status, self.secondary_status, self.failure_reason, metrics)


def _containers(candidate: Mapping[str, Any]) -> tuple[InferenceContainer, ...]:
    found: list[InferenceContainer] = []
    by_unit = candidate.get("InferenceContainerDefinitions") or {}
    for unit, containers in by_unit.items():
        for c in containers or []:
            found.append(
                InferenceContainer(
                    str(unit),
                    str(c.get("Image", "")),
                    str(c.get("ModelDataUrl", "")),
                    dict(c.get("Environment") or {}),
                )
            )
    if not found:
        for c in candidate.get("InferenceContainers") or []:
            found.append(
                InferenceContainer(
                    "",
                    str(c.get("Image", "")),
                    str(c.get("ModelDataUrl", "")),
                    dict(c.get("Environment") or {}),
                )
            )
    return tuple(found)


def _candidate(raw: Mapping[str, Any] | None) -> Candidate | None:
    if not raw:
        return None
    metrics: dict[str, float] = {}
    for datum in (raw.get("CandidateProperties") or {}).get("CandidateMetrics") or []:
        name = datum.get("StandardMetricName") or datum.get("MetricName")
        value = datum.get("Value")
        if name and isinstance(value, int | float):
            metrics[str(name)] = float(value)
    return Candidate(
        str(raw.get("CandidateName", "")),
        str(raw.get("CandidateStatus", "")),
        metrics,
        _containers(raw),
    )


def autopilot_snapshot_from(response: Mapping[str, Any]) -> AutopilotSnapshot:
    """A DescribeAutoMLJobV2 answer as a snapshot."""
    resolved = (
        ((response.get("ResolvedAttributes") or {}).get("AutoMLProblemTypeResolvedAttributes"))
        or {}
    ).get("TextGenerationResolvedAttributes") or {}
    asked = (response.get("AutoMLProblemTypeConfig") or {}).get("TextGenerationJobConfig") or {}
    modified = response.get("LastModifiedTime")
    if isinstance(modified, datetime) and modified.tzinfo is None:
        modified = modified.replace(tzinfo=UTC)
    return AutopilotSnapshot(
        name=str(response.get("AutoMLJobName", "")),
        arn=str(response.get("AutoMLJobArn", "")),
        status=str(response.get("AutoMLJobStatus", "InProgress")),
        secondary_status=str(response.get("AutoMLJobSecondaryStatus", "")),
        failure_reason=response.get("FailureReason"),
        best=_candidate(response.get("BestCandidate")),
        base_model=resolved.get("BaseModelName") or asked.get("BaseModelName"),
        modified=modified if isinstance(modified, datetime) else None,
    )


def describe_autopilot_job(context: AwsContext, name: str) -> AutopilotSnapshot:
    """The AutoML job now."""
    with aws_call(f"reading the Autopilot job {name}"):
        response = context.client("sagemaker").describe_auto_ml_job_v2(AutoMLJobName=name)
    return autopilot_snapshot_from(response)


def find_autopilot_job(context: AwsContext, name: str) -> AutopilotSnapshot | None:
    """The job called `name`, or None when there is none (SageMaker answers a missing AutoML
    job with ResourceNotFound or a ValidationException)."""
    try:
        return describe_autopilot_job(context, name)
    except (NotFoundError, ValidationError):
        return None


@dataclass
class Timeline:
    """The secondary statuses seen so far, each with when it was first seen: DescribeAutoMLJobV2
    has no transition list (unlike training jobs), so the watch builds one."""

    entries: list[tuple[str, datetime]] = field(default_factory=list)

    def see(self, snapshot: AutopilotSnapshot, now: datetime | None = None) -> bool:
        """Record the snapshot's secondary status when it is new; whether it was."""
        status = snapshot.secondary_status
        if self.entries and self.entries[-1][0] == status:
            return False
        self.entries.append((status, now or snapshot.modified or datetime.now(UTC)))
        return True

    @property
    def statuses(self) -> list[str]:
        """The secondary statuses in the order seen."""
        return [status for status, _ in self.entries]


def autopilot_poller(
    fetch: Callable[[], AutopilotSnapshot],
    *,
    backoff: Backoff = AUTOPILOT_POLL,
    pacing: Pacing | None = None,
) -> Poller[AutopilotSnapshot]:
    """The one poller (`core.poll`), set up to follow an AutoML job until it ends."""
    return Poller(
        fetch,
        finished=lambda snapshot: snapshot.ended,
        backoff=backoff,
        fingerprint=AutopilotSnapshot.fingerprint,
        pacing=pacing,
    )


def stop_autopilot_job(context: AwsContext, name: str) -> AutopilotSnapshot:
    """Ask SageMaker to stop the job (Stopping, then Stopped); the job after the ask."""
    with aws_call(f"stopping the Autopilot job {name}"):
        context.client("sagemaker").stop_auto_ml_job(AutoMLJobName=name)
    return describe_autopilot_job(context, name)


# --------------------------------------------------------------------------- cost


@dataclass(frozen=True)
class AutopilotEstimate:
    """What the job may cost: the expected hours and the ceiling its completion criterion sets."""

    instance_type: str
    per_hour: float | None
    expected: float | None
    ceiling: float | None
    note: str
    hours: float = 0.0
    """The hours `expected` is for."""
    provenance: str = ""
    """Where the training rate comes from and its date (`Price List API, 2026-12-02`)."""

    def text(self, limit: str = "by the completion criterion") -> str:
        """`About $14.18 for 2 h, at most $21.27 by the completion criterion (Price List API,
        2026-12-02). ⚠ Autopilot picks ...`: each amount with its source; only the note when
        the rate is unknown."""
        if self.expected is None or self.ceiling is None:
            return self.note
        where = f" ({self.provenance})" if self.provenance else ""
        return (
            f"About {fmt.money(self.expected)} for {self.hours:g} h, at most "
            f"{fmt.money(self.ceiling)} {limit}{where}. {self.note}"
        )


def estimate_autopilot_cost(
    prices: InstancePrices, hours: float, completion: CompletionCriteria
) -> AutopilotEstimate:
    """`hours` (and the completion criterion's maximum) at the training rate of `prices`."""
    note = (
        f"⚠ Autopilot picks its training instance itself; priced as {prices.instance_type} "
        "(an assumption), training rate "
        + prices.training.text()
        + ". Autopilot bills the SageMaker training it runs; see "
        "https://aws.amazon.com/sagemaker/pricing/"
    )
    rate = prices.training.amount if prices.training.is_known else None
    if rate is None:
        return AutopilotEstimate(prices.instance_type, None, None, None, note)
    limit_hours = completion.max_runtime_per_training_job / 3600
    if completion.max_job_runtime is not None:
        limit_hours = min(limit_hours, completion.max_job_runtime / 3600)
    return AutopilotEstimate(
        prices.instance_type,
        rate,
        rate * hours,
        rate * limit_hours,
        note,
        hours,
        prices.training.provenance,
    )
