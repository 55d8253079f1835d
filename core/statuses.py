"""The AWS APIs' enums that a run carries: the customization type, the customization job's and
the import job's status, and what serves a custom model with the states it goes through.

Plain enums at the bottom of core (only core.errors imported): the run and the registry keep them,
the packages that call the APIs (catalog, jobs, importing, serving, teardown) read and compare
them, and the App imports the run before its first frame.
"""

from __future__ import annotations

from enum import StrEnum

from core.errors import ValidationError


class CustomizationType(StrEnum):
    """The values of the API's `customizationType` that bedrock-tune supports."""

    FINE_TUNING = "FINE_TUNING"
    CONTINUED_PRE_TRAINING = "CONTINUED_PRE_TRAINING"
    DISTILLATION = "DISTILLATION"

    @property
    def cli_name(self) -> str:
        """`fine-tuning`, `continued-pre-training` or `distillation`."""
        return self.value.lower().replace("_", "-")

    @property
    def label(self) -> str:
        """A human label: `Fine-tuning`."""
        return self.cli_name.replace("-", " ").capitalize()

    @classmethod
    def parse(cls, text: str) -> CustomizationType:
        """Accept the CLI spelling (`fine-tuning`) or the API one (`FINE_TUNING`)."""
        key = text.strip().upper().replace("-", "_")
        try:
            return cls(key)
        except ValueError:
            names = ", ".join(t.cli_name for t in cls)
            raise ValidationError(
                f"unknown customization type '{text}'", hint=f"Use one of: {names}."
            ) from None


class JobStatus(StrEnum):
    """`ModelCustomizationJobStatus`."""

    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"
    STOPPING = "Stopping"
    STOPPED = "Stopped"

    @property
    def terminal(self) -> bool:
        """Whether the job can no longer change."""
        return self in {JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.STOPPED}


class ImportStatus(StrEnum):
    """`ModelImportJobStatus` (botocore's bedrock model: InProgress | Completed | Failed)."""

    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"

    @property
    def terminal(self) -> bool:
        """Whether the import can no longer change."""
        return self is not ImportStatus.IN_PROGRESS


class ServingKind(StrEnum):
    """How a custom model is served: on Bedrock, or on a SageMaker real-time endpoint."""

    PROVISIONED_THROUGHPUT = "provisioned-throughput"
    CUSTOM_MODEL_DEPLOYMENT = "custom-model-deployment"
    SAGEMAKER_ENDPOINT = "sagemaker-endpoint"

    @property
    def label(self) -> str:
        """`provisioned throughput` / `custom model deployment` / `SageMaker endpoint`."""
        if self is ServingKind.SAGEMAKER_ENDPOINT:
            return "SageMaker endpoint"
        return self.value.replace("-", " ")


class ServingStatus(StrEnum):
    """`ProvisionedModelStatus` (Creating | InService | Updating | Failed) and
    `CustomModelDeploymentStatus` (Creating | Active | Failed) together; a SageMaker
    `EndpointStatus` is kept as the nearest of these (`from_endpoint_status`)."""

    CREATING = "Creating"
    UPDATING = "Updating"
    IN_SERVICE = "InService"
    ACTIVE = "Active"
    FAILED = "Failed"

    @property
    def ready(self) -> bool:
        """Whether the model can be called through it (InService or Active)."""
        return self in {ServingStatus.IN_SERVICE, ServingStatus.ACTIVE}

    @property
    def pending(self) -> bool:
        """On the way to ready (Creating or Updating)."""
        return self in {ServingStatus.CREATING, ServingStatus.UPDATING}


def from_endpoint_status(status: str) -> ServingStatus:
    """A SageMaker `EndpointStatus` as the run keeps it: SystemUpdating and RollingBack are
    updates, OutOfService and UpdateRollbackFailed cannot serve (failed), Deleting is on its way
    out (kept as failed: it will not serve again)."""
    known = {s.value: s for s in ServingStatus}
    if status in known:
        return known[status]
    if status in ("SystemUpdating", "RollingBack"):
        return ServingStatus.UPDATING
    return ServingStatus.FAILED
