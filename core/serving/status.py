"""What serves a custom model, and the states it goes through (the API's enums).

Kept apart from `deploy.py` (and free of imports) because the run carries them and the App
imports the run before its first frame.
"""

from __future__ import annotations

from enum import StrEnum


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
