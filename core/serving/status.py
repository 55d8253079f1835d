"""What serves a custom model, and the states it goes through (the API's enums).

Kept apart from `deploy.py` (and free of imports) because the run carries them and the App
imports the run before its first frame.
"""

from __future__ import annotations

from enum import StrEnum


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
