"""The AWS APIs' states that a run carries: the customization job's and the import job's status,
and what serves a custom model with the states it goes through.

Plain enums with nothing imported, at the bottom of core: the run and the registry keep them, and
the packages that call the APIs (jobs, importing, serving, teardown) read and compare them.
"""

from __future__ import annotations

from enum import StrEnum


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
    """How a custom model is served on Bedrock."""

    PROVISIONED_THROUGHPUT = "provisioned-throughput"
    CUSTOM_MODEL_DEPLOYMENT = "custom-model-deployment"

    @property
    def label(self) -> str:
        """`provisioned throughput` / `custom model deployment`."""
        return self.value.replace("-", " ")


class ServingStatus(StrEnum):
    """`ProvisionedModelStatus` (Creating | InService | Updating | Failed) and
    `CustomModelDeploymentStatus` (Creating | Active | Failed) together."""

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
