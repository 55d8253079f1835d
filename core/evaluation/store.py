"""Every evaluation stored with its run, so runs can be compared later.

A report is written whole (atomically, mode 0600) as
`<state dir>/evaluations/<run id>/<evaluation id>.json`, and the registry records a reference
to it under the run (`Registry.add_evaluation`). An evaluation made without a run (the CLI on a
model ARN that no run serves) is stored under the run id `adhoc`.

The store is its own small API (save, list, latest, load) so that it does not depend on how the
registry keeps runs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.atomic import atomic_write_bytes
from core.errors import BedrockTuneError
from core.registry import Registry

ADHOC = "adhoc"
"""The run id of evaluations that belong to no run."""
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


class EvaluationStoreError(BedrockTuneError):
    """A stored evaluation cannot be read."""

    default_title = "Stored evaluation problem"


@dataclass(frozen=True)
class StoredEvaluation:
    """One stored evaluation, as the registry references it."""

    id: str
    run_id: str
    created: str
    path: Path
    tuned_model: str
    base_model: str | None
    records: int

    def to_json(self) -> dict[str, Any]:
        """The reference the registry keeps."""
        return {
            "id": self.id,
            "created": self.created,
            "path": str(self.path),
            "tuned_model": self.tuned_model,
            "base_model": self.base_model,
            "records": self.records,
        }


class EvaluationStore:
    """Save and find evaluations by run."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.directory = registry.directory / "evaluations"

    def save(self, run_id: str | None, report: dict[str, Any]) -> StoredEvaluation:
        """Write `report` (the evaluate JSON) for `run_id` and reference it in the registry."""
        owner = run_id or ADHOC
        now = datetime.now(UTC)
        evaluation_id = f"{now:%Y%m%dT%H%M%S%f}"
        path = self.directory / _SAFE.sub("_", owner) / f"{evaluation_id}.json"
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        stored = StoredEvaluation(
            evaluation_id,
            owner,
            str(report.get("created") or now.isoformat(timespec="seconds")),
            path,
            str(report.get("tuned_model", "")),
            report.get("base_model"),
            int(report.get("records") or 0),
        )
        data = {**report, "run_id": owner, "evaluation_id": evaluation_id}
        atomic_write_bytes(path, json.dumps(data, ensure_ascii=False).encode(), mode=0o600)
        self.registry.add_evaluation(owner, stored.to_json())
        return stored

    def for_run(self, run_id: str) -> list[StoredEvaluation]:
        """The run's evaluations whose files still exist, newest first."""
        found = []
        for entry in self.registry.evaluations(run_id).get(run_id, []):
            path = Path(str(entry.get("path", "")))
            if path.is_file():
                found.append(
                    StoredEvaluation(
                        str(entry.get("id")),
                        run_id,
                        str(entry.get("created", "")),
                        path,
                        str(entry.get("tuned_model", "")),
                        entry.get("base_model"),
                        int(entry.get("records") or 0),
                    )
                )
        return sorted(found, key=lambda e: e.id, reverse=True)

    def latest(self, run_id: str) -> StoredEvaluation | None:
        """The run's newest evaluation, or None."""
        found = self.for_run(run_id)
        return found[0] if found else None

    def runs(self) -> list[str]:
        """Run ids that have at least one stored evaluation (sorted)."""
        return sorted(r for r in self.registry.evaluations() if self.for_run(r))

    @staticmethod
    def load(stored: StoredEvaluation) -> dict[str, Any]:
        """The report of a stored evaluation.

        Raises:
            EvaluationStoreError: the file is missing or damaged.
        """
        try:
            data = json.loads(stored.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise EvaluationStoreError(
                f"{stored.path} cannot be read ({error}).",
                hint=f"Evaluate run {stored.run_id} again to store a new report.",
            ) from error
        if not isinstance(data, dict) or data.get("version") != 2 or "rows" not in data:
            raise EvaluationStoreError(
                f"{stored.path} is not an evaluation report bedrock-tune can compare.",
                hint=f"Evaluate run {stored.run_id} again to store a new report.",
            )
        return data
