"""The customization job's API enums: the customization type and the job status.

They live in a module of their own, with nothing heavy imported, because the run (`core.run`)
carries them and the App imports the run before its first frame.
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
