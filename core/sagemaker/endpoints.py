"""SageMaker real-time endpoints: what a trained model is served from, the three requests that
serve it (CreateModel, CreateEndpointConfig, CreateEndpoint), its status over time, and deleting
it. The serving target of the `sagemaker-autopilot` and `sagemaker-jumpstart` routes.

Where a model comes from:
- a training job (a JumpStart fine-tuning job, or any other): DescribeTrainingJob's
  `ModelArtifacts.S3ModelArtifacts` (a `model.tar.gz`, or a folder when the job wrote its output
  uncompressed) and its `RoleArn`; the serving image is given, else the one the Public Hub
  entry of the job's JumpStart model serves it with (`HostingEcrUri`), else the Hugging Face text
  generation inference image (`core.sagemaker.images`);
- an Autopilot job: DescribeAutoMLJobV2's `BestCandidate.InferenceContainers` (image, model data
  and environment, as Autopilot says to serve them) and its `RoleArn`.

Facts from botocore's sagemaker model (1.44): the name patterns (`EndpointName`,
`EndpointConfigName`, `ModelName`: at most 63 characters), `EndpointStatus`, `ContainerDefinition`
(`ModelDataUrl` for an archive, `ModelDataSource.S3DataSource` with `CompressionType: None` for a
folder), `ResourceLimitExceeded` on the three create calls. What they do not say is marked ⚠.

Nothing here records anything: `core/sagemaker/deploying.py` creates once, with the registry.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from core.aws import AwsContext
from core.errors import (
    BedrockTuneError,
    NotFoundError,
    QuotaExceededError,
    ValidationError,
    aws_call,
    error_code,
)
from core.poll import Backoff, Pacing, Poller
from core.sagemaker.images import TGI_ENVIRONMENT, serving_image

SourceKind = Literal["training-job", "autopilot"]

NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
"""botocore's `EndpointName` and `EndpointConfigName` (a `ModelName` accepts more)."""
MAX_ENDPOINT_NAME = 55
"""An endpoint name leaves room for the `-config` suffix of its endpoint config (63 in all)."""
INSTANCE_TYPE = re.compile(r"ml\.[a-z0-9]+\.[a-z0-9]+")
"""The shape of every `ProductionVariantInstanceType` (botocore's enum lists them all)."""
VARIANT = "AllTraffic"
READY = "InService"
FAILED = frozenset({"Failed", "UpdateRollbackFailed", "OutOfService"})
"""Where an endpoint ends when it cannot serve (polling stops)."""
ENDPOINT_POLL = Backoff.starting_at(30.0, jitter=0.1)
"""⚠ Creating an LLM endpoint takes minutes (pulling the image, loading the weights): first check
after 30 s, then less often (up to 4 minutes)."""

QUOTA_PATTERN = re.compile(r"service limit '([^']+)' is (\d+) ([A-Za-z]+)")
"""SageMaker's ResourceLimitExceeded text: "The account-level service limit 'ml.g5.12xlarge for
endpoint usage' is 0 Instances, with current utilization of 0 Instances and a request delta of 1
Instances. Please use AWS Service Quotas to request an increase for this quota."."""


@dataclass(frozen=True)
class Container:
    """One inference container: its image, where its model is, and its environment."""

    image: str
    model_data: str | None
    environment: Mapping[str, str] = field(default_factory=dict)

    def to_api(self) -> dict[str, Any]:
        """A `ContainerDefinition`: an archive as `ModelDataUrl`, a folder (ending in `/`) as an
        uncompressed `ModelDataSource`, which SageMaker copies as it is into /opt/ml/model."""
        container: dict[str, Any] = {"Image": self.image}
        if self.model_data and self.model_data.endswith("/"):
            container["ModelDataSource"] = {
                "S3DataSource": {
                    "S3Uri": self.model_data,
                    "S3DataType": "S3Prefix",
                    "CompressionType": "None",
                }
            }
        elif self.model_data:
            container["ModelDataUrl"] = self.model_data
        if self.environment:
            container["Environment"] = dict(self.environment)
        return container


@dataclass(frozen=True)
class ModelSource:
    """What a trained model is served from."""

    kind: SourceKind
    name: str
    """The training job's or Autopilot job's name."""
    role_arn: str
    """The execution role the job ran with (the model reads its artifacts with it)."""
    containers: tuple[Container, ...]
    base_model: str | None = None
    """The Autopilot `BaseModelName`, or the JumpStart model id, where known."""
    candidate: str | None = None
    """Autopilot: the best candidate's name."""
    image_origin: str = ""
    """Where the serving image comes from, in words (for a training job's model)."""

    @property
    def key(self) -> str:
        """`training-job:NAME` / `autopilot:NAME` (what a run records as its endpoint source)."""
        return f"{self.kind}:{self.name}"

    @property
    def label(self) -> str:
        """How the source is named to a person."""
        if self.kind == "autopilot":
            best = f" (best candidate {self.candidate})" if self.candidate else ""
            return f"Autopilot job {self.name}{best}"
        return f"training job {self.name}"


def _not_found(error: BedrockTuneError) -> bool:
    """SageMaker says ValidationException ("Could not find ...") or ResourceNotFound for
    something that does not exist."""
    if isinstance(error, NotFoundError) or error_code(error) == "ResourceNotFound":
        return True
    text = error.message.lower()
    return isinstance(error, ValidationError) and (
        "could not find" in text or "does not exist" in text or "not found" in text
    )


def source_from_training_job(
    context: AwsContext, name: str, image: str | None = None
) -> ModelSource:
    """The model a completed training job made, served by `image` (default: `serving_image`:
    its JumpStart model's own image from the Public Hub, else TGI).

    Raises:
        NotFoundError: no such training job.
        ValidationError: the job has not completed, or wrote no model.
    """
    try:
        with aws_call(f"reading the training job {name}"):
            job: dict[str, Any] = dict(
                context.client("sagemaker").describe_training_job(TrainingJobName=name)
            )
    except BedrockTuneError as error:
        if _not_found(error):
            raise NotFoundError(
                f"There is no training job '{name}' in {context.region}.",
                hint="Check the name and the region (`bedrock-tune runs` lists your runs' jobs).",
            ) from error
        raise
    status = str(job.get("TrainingJobStatus", ""))
    artifacts = (job.get("ModelArtifacts") or {}).get("S3ModelArtifacts")
    if status != "Completed" or not artifacts:
        raise ValidationError(
            f"The training job {name} is {status or 'not finished'}: it has no model to serve yet.",
            title="No model to deploy",
            hint=f"Deploy once it has completed (`bedrock-tune jumpstart watch {name}` follows it)."
            if status in ("InProgress", "Stopping", "")
            else "Only a completed job has a model; launch the training again.",
        )
    hyperparameters = job.get("HyperParameters") or {}
    base = hyperparameters.get("model_id") or None
    origin = "given (--image)"
    if image is None:
        image, origin = serving_image(context, job)
    return ModelSource(
        "training-job",
        name,
        str(job.get("RoleArn", "")),
        (Container(image, str(artifacts), TGI_ENVIRONMENT),),
        base_model=str(base).strip('"') if base else None,
        image_origin=origin,
    )


def source_from_autopilot(context: AwsContext, name: str) -> ModelSource:
    """The best candidate of an Autopilot job, served by its own inference containers.

    Raises:
        NotFoundError: no such Autopilot job.
        ValidationError: the job has no best candidate (yet), or the candidate no containers.
    """
    try:
        with aws_call(f"reading the Autopilot job {name}"):
            job: dict[str, Any] = dict(
                context.client("sagemaker").describe_auto_ml_job_v2(AutoMLJobName=name)
            )
    except BedrockTuneError as error:
        if _not_found(error):
            raise NotFoundError(
                f"There is no Autopilot job '{name}' in {context.region}.",
                hint="Check the name and the region (`bedrock-tune runs` lists your runs' jobs).",
            ) from error
        raise
    status = str(job.get("AutoMLJobStatus", ""))
    best = job.get("BestCandidate")
    containers = (best or {}).get("InferenceContainers") or []
    if not containers:
        by_unit = (best or {}).get("InferenceContainerDefinitions") or {}
        containers = next(iter(by_unit.values()), [])
    if not best or not containers:
        raise ValidationError(
            f"The Autopilot job {name} is {status or 'not finished'} and has no best candidate "
            "to serve" + (f" ({job['FailureReason']})" if job.get("FailureReason") else "") + ".",
            title="No model to deploy",
            hint=f"Deploy once it has completed (`bedrock-tune autopilot watch {name}`)."
            if status in ("InProgress", "Stopping")
            else "Only a completed Autopilot job has a best candidate; launch it again.",
        )
    config = (job.get("AutoMLProblemTypeConfig") or {}).get("TextGenerationJobConfig") or {}
    return ModelSource(
        "autopilot",
        name,
        str(job.get("RoleArn", "")),
        tuple(
            Container(
                str(c["Image"]),
                str(c["ModelDataUrl"]) if c.get("ModelDataUrl") else None,
                {str(k): str(v) for k, v in (c.get("Environment") or {}).items()},
            )
            for c in containers
        ),
        base_model=config.get("BaseModelName"),
        candidate=str(best.get("CandidateName", "")) or None,
    )


def model_source(
    context: AwsContext, kind: SourceKind, name: str, image: str | None = None
) -> ModelSource:
    """The model source of `kind` named `name` (an Autopilot job serves its own containers)."""
    if kind == "autopilot":
        return source_from_autopilot(context, name)
    return source_from_training_job(context, name, image)


@dataclass(frozen=True)
class EndpointPlan:
    """An endpoint to create: its name, where the model comes from, the instance type."""

    endpoint_name: str
    source: ModelSource
    instance_type: str
    instance_count: int = 1
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def model_name(self) -> str:
        """The SageMaker model: `<endpoint>-model` (at most 63 characters)."""
        return f"{self.endpoint_name}-model"

    @property
    def config_name(self) -> str:
        """The endpoint config: `<endpoint>-config` (at most 63 characters)."""
        return f"{self.endpoint_name}-config"

    def _tags(self) -> list[dict[str, str]]:
        return [
            {"Key": k, "Value": v} for k, v in {"bedrock-tune:managed": "true", **self.tags}.items()
        ]

    def model_request(self) -> dict[str, Any]:
        """The keyword arguments of `sagemaker.create_model`."""
        request: dict[str, Any] = {
            "ModelName": self.model_name,
            "ExecutionRoleArn": self.source.role_arn,
            "Tags": self._tags(),
        }
        containers = [c.to_api() for c in self.source.containers]
        if len(containers) == 1:
            request["PrimaryContainer"] = containers[0]
        else:  # an inference pipeline (Autopilot may serve several containers in order)
            request["Containers"] = containers
        return request

    def config_request(self) -> dict[str, Any]:
        """The keyword arguments of `sagemaker.create_endpoint_config`."""
        return {
            "EndpointConfigName": self.config_name,
            "ProductionVariants": [
                {
                    "VariantName": VARIANT,
                    "ModelName": self.model_name,
                    "InitialInstanceCount": self.instance_count,
                    "InstanceType": self.instance_type,
                }
            ],
            "Tags": self._tags(),
        }

    def endpoint_request(self) -> dict[str, Any]:
        """The keyword arguments of `sagemaker.create_endpoint`."""
        return {
            "EndpointName": self.endpoint_name,
            "EndpointConfigName": self.config_name,
            "Tags": self._tags(),
        }


def check_plan(plan: EndpointPlan) -> list[str]:
    """Every reason SageMaker would refuse the plan (empty when it is fine)."""
    problems = []
    if len(plan.endpoint_name) > MAX_ENDPOINT_NAME or not NAME.fullmatch(plan.endpoint_name):
        problems.append(
            f"endpoint name '{plan.endpoint_name}': 1-{MAX_ENDPOINT_NAME} letters, digits and "
            "'-', starting and ending with a letter or digit"
        )
    if not INSTANCE_TYPE.fullmatch(plan.instance_type):
        problems.append(f"instance type '{plan.instance_type}' is not like ml.g5.2xlarge")
    if plan.instance_count < 1:
        problems.append("at least one instance")
    if not plan.source.role_arn:
        problems.append(f"the {plan.source.label} names no execution role")
    if not plan.source.containers:
        problems.append(f"the {plan.source.label} has no inference container")
    return problems


def default_endpoint_name(source_name: str) -> str:
    """`bt-<source name>` (at most `MAX_ENDPOINT_NAME` characters): the same source gets the
    same name, so deploying it again finds the endpoint the first deploy made."""
    stem = re.sub(r"[^a-zA-Z0-9-]+", "-", source_name).strip("-") or "model"
    stem = re.sub(r"-{2,}", "-", stem)
    if not stem.startswith("bt-"):
        stem = f"bt-{stem}"
    return stem[:MAX_ENDPOINT_NAME].rstrip("-")


def quota_error(error: BedrockTuneError, instance_type: str, region: str) -> QuotaExceededError:
    """ResourceLimitExceeded explained: which quota, its value, and how to raise it."""
    found = QUOTA_PATTERN.search(error.message)
    quota = found.group(1) if found else f"{instance_type} for endpoint usage"
    value = f" is {found.group(2)} {found.group(3).lower()}" if found else " is reached"
    return QuotaExceededError(
        f"The SageMaker quota '{quota}'{value} in {region}: the endpoint cannot start an "
        f"{instance_type}.",
        title="No quota for this instance type",
        hint="Request an increase: Service Quotas console > Amazon SageMaker > "
        f"'{quota}' in {region} (or `aws service-quotas list-service-quotas --service-code "
        "sagemaker` to find its code, then `request-service-quota-increase`). Meanwhile choose "
        "an instance type you have quota for (--instance).",
    )


@dataclass(frozen=True)
class EndpointSnapshot:
    """An endpoint as DescribeEndpoint describes it at one moment."""

    name: str
    arn: str
    status: str
    """Creating | InService | Updating | Failed | Deleting | ... (botocore's `EndpointStatus`)."""
    failure_reason: str | None
    config_name: str
    created: datetime | None

    @property
    def ready(self) -> bool:
        """InService: it answers InvokeEndpoint."""
        return self.status == READY

    @property
    def settled(self) -> bool:
        """Ready or failed: polling stops."""
        return self.ready or self.status in FAILED

    def fingerprint(self) -> tuple[object, ...]:
        """What changes when the endpoint moves on."""
        return (self.status, self.failure_reason)


def snapshot_from(response: Mapping[str, Any]) -> EndpointSnapshot:
    """A DescribeEndpoint answer as a snapshot."""
    created = response.get("CreationTime")
    return EndpointSnapshot(
        name=str(response.get("EndpointName", "")),
        arn=str(response.get("EndpointArn", "")),
        status=str(response.get("EndpointStatus", "")),
        failure_reason=response.get("FailureReason") or None,
        config_name=str(response.get("EndpointConfigName", "")),
        created=created if isinstance(created, datetime) else None,
    )


def describe_endpoint(context: AwsContext, name: str) -> EndpointSnapshot:
    """The endpoint now.

    Raises:
        NotFoundError: there is no endpoint of that name (deleted, or never created).
    """
    try:
        with aws_call(f"reading the endpoint {name}"):
            response = context.client("sagemaker").describe_endpoint(EndpointName=name)
    except BedrockTuneError as error:
        if _not_found(error):
            raise NotFoundError(
                f"There is no SageMaker endpoint '{name}' in {context.region}.",
                hint="Deploy one: bedrock-tune endpoint deploy (--autopilot NAME | "
                "--training-job NAME) --instance TYPE --yes.",
            ) from error
        raise
    return snapshot_from(response)


def endpoint_poller(
    fetch: Callable[[], EndpointSnapshot],
    *,
    backoff: Backoff = ENDPOINT_POLL,
    pacing: Pacing | None = None,
) -> Poller[EndpointSnapshot]:
    """The one poller (`core.poll`), set up to follow an endpoint until InService or failed."""
    return Poller(
        fetch,
        finished=lambda snapshot: snapshot.settled,
        backoff=backoff,
        fingerprint=EndpointSnapshot.fingerprint,
        pacing=pacing,
    )


Part = Literal["model", "config", "endpoint"]


def find_part(context: AwsContext, what: Part, name: str) -> dict[str, Any] | None:
    """The SageMaker model, endpoint config or endpoint `name` as its Describe call answers
    (None when it does not exist)."""
    client = context.client("sagemaker")
    try:
        with aws_call(f"looking for the {what} {name}"):
            if what == "model":
                return dict(client.describe_model(ModelName=name))
            if what == "config":
                return dict(client.describe_endpoint_config(EndpointConfigName=name))
            return dict(client.describe_endpoint(EndpointName=name))
    except BedrockTuneError as error:
        if _not_found(error):
            return None
        raise


ARN_KEYS: dict[str, str] = {
    "model": "ModelArn",
    "config": "EndpointConfigArn",
    "endpoint": "EndpointArn",
}
"""Where each Describe answer has the ARN."""


def tags_of(context: AwsContext, arn: str) -> dict[str, str]:
    """A SageMaker resource's tags."""
    with aws_call(f"reading the tags of {arn.rsplit('/', 1)[-1]}"):
        tags = context.client("sagemaker").list_tags(ResourceArn=arn).get("Tags", [])
    return {str(t.get("Key")): str(t.get("Value")) for t in tags}


def delete_part(context: AwsContext, what: Part, name: str) -> bool:
    """Delete the SageMaker model, endpoint config or endpoint `name`; False when it was
    already gone. Deleting an endpoint stops its billing (its config and model are free)."""
    client = context.client("sagemaker")
    try:
        with aws_call(f"deleting the {what} {name}"):
            if what == "model":
                client.delete_model(ModelName=name)
            elif what == "config":
                client.delete_endpoint_config(EndpointConfigName=name)
            else:
                client.delete_endpoint(EndpointName=name)
    except BedrockTuneError as error:
        if _not_found(error):
            return False
        raise
    return True
