"""The import job's status enum, in a module of its own with nothing heavy imported: the run
(`core.run`) carries it and the App imports the run before its first frame."""

from __future__ import annotations

from enum import StrEnum


class ImportStatus(StrEnum):
    """`ModelImportJobStatus` (botocore's bedrock model: InProgress | Completed | Failed)."""

    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"

    @property
    def terminal(self) -> bool:
        """Whether the import can no longer change."""
        return self is not ImportStatus.IN_PROGRESS
