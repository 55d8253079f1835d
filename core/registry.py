"""The local registry: every run, and every resource bedrock-tune created, so that nothing is lost
when the terminal closes and nothing billable is forgotten.

One JSON file (`registry.json`) under the platform's state directory (or `BEDROCK_TUNE_STATE_DIR`),
written atomically (a temp file in the same folder, fsync, rename) with mode 0600, and locked
against a second bedrock-tune process. It never holds a credential: a run names a profile and an
endpoint, never keys or tokens.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.errors import BedrockTuneError
from core.run import Run

STATE_ENV = "BEDROCK_TUNE_STATE_DIR"
FILE_NAME = "registry.json"
VERSION = 1
_TERMINAL = {"Completed", "Failed", "Stopped"}
_PENDING = {"Creating", "Updating"}
"""Provisioned throughput / custom model deployment statuses on the way to ready."""


class RegistryError(BedrockTuneError):
    """The registry file cannot be read or written."""

    default_title = "Local registry problem"


def state_dir() -> Path:
    """Where bedrock-tune keeps its state (`BEDROCK_TUNE_STATE_DIR` overrides)."""
    override = os.environ.get(STATE_ENV)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_state_dir("bedrock-tune", appauthor=False))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_run_id() -> str:
    """A short unique run id (also the value of the `bedrock-tune:run` tag)."""
    return uuid.uuid4().hex[:12]


@dataclass(frozen=True)
class RunRecord:
    """A run as the registry keeps it."""

    id: str
    created: str
    updated: str
    run: Run

    @property
    def in_progress(self) -> bool:
        """A job was launched (or about to be) and has not ended."""
        run = self.run
        launched = run.job_arn is not None or run.client_request_token is not None
        return launched and (run.job_status or "InProgress") not in _TERMINAL

    @property
    def serving_pending(self) -> bool:
        """A provisioned throughput or deployment was created and was not ready yet."""
        run = self.run
        return run.serving_arn is not None and (run.serving_status or "Creating") in _PENDING

    @property
    def resumable(self) -> bool:
        """Something of this run was still going when bedrock-tune closed: a job or a
        deployment being created."""
        return self.in_progress or self.serving_pending


@dataclass(frozen=True)
class ResourceRecord:
    """One AWS resource bedrock-tune created or reused for a run."""

    kind: str
    """e.g. `s3-bucket`, `iam-role`, `customization-job`, `custom-model`,
    `provisioned-throughput`, `custom-model-deployment`."""
    identifier: str
    """Name or ARN."""
    region: str
    account_id: str
    run_id: str | None
    created: str = field(default_factory=_now)
    billable: bool = False
    created_by_us: bool = True
    details: dict[str, Any] = field(default_factory=dict)


class Registry:
    """Read and update the registry file. Every change is written at once, atomically."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or state_dir()
        self.path = self.directory / FILE_NAME
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ file access

    def _read(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {"version": VERSION, "runs": {}, "resources": []}
        except OSError as error:
            raise RegistryError(
                f"Cannot read {self.path}: {error.strerror}.",
                hint="Check the file's permissions, or point BEDROCK_TUNE_STATE_DIR elsewhere.",
            ) from error
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise RegistryError(
                f"{self.path} is not valid JSON (line {error.lineno}, column {error.colno}).",
                hint="It was edited by hand or damaged. Move it aside to start a new registry; "
                "teardown then relies on resource tags.",
            ) from error
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise RegistryError(
                f"{self.path} is not a bedrock-tune registry of version {VERSION}.",
                hint="Move it aside to start a new one.",
            )
        return data

    def _write(self, data: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temp = tempfile.mkstemp(prefix=".registry-", suffix=".tmp", dir=self.directory)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(data, out, indent=2, sort_keys=True)
                out.flush()
                os.fsync(out.fileno())
            Path(temp).chmod(0o600)  # mkstemp already makes it 0600; say so explicitly
            Path(temp).replace(self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                Path(temp).unlink()
            raise

    @contextlib.contextmanager
    def _editing(self) -> Iterator[dict[str, Any]]:
        """Read, let the caller change, write; locked against threads and other processes."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._lock, (self.directory / ".lock").open("a+") as lock_file:
            try:
                import fcntl

                fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
            except ImportError:  # pragma: no cover - Windows: the thread lock is what we have
                pass
            data = self._read()
            yield data
            self._write(data)

    # ------------------------------------------------------------------ runs

    def save_run(self, run_id: str, run: Run) -> RunRecord:
        """Create or replace the run `run_id`."""
        with self._editing() as data:
            previous = data["runs"].get(run_id)
            created = previous["created"] if previous else _now()
            record = RunRecord(run_id, created, _now(), run)
            data["runs"][run_id] = {
                "id": run_id,
                "created": created,
                "updated": record.updated,
                "run": run.to_dict(),
            }
        return record

    def runs(self) -> list[RunRecord]:
        """Every run, most recently updated first."""
        data = self._read()
        records = [
            RunRecord(r["id"], r["created"], r["updated"], Run.from_dict(r.get("run", {})))
            for r in data["runs"].values()
        ]
        return sorted(records, key=lambda r: r.updated, reverse=True)

    def get_run(self, run_id: str) -> RunRecord | None:
        """One run, or None."""
        return next((r for r in self.runs() if r.id == run_id), None)

    def runs_in_progress(self) -> list[RunRecord]:
        """Runs whose job, or whose deployment being created, had not finished (what a
        restart offers to resume)."""
        return [r for r in self.runs() if r.resumable]

    def forget_run(self, run_id: str) -> None:
        """Remove a run (its resources stay listed until they are deleted)."""
        with self._editing() as data:
            data["runs"].pop(run_id, None)

    # ------------------------------------------------------------------ resources

    def add_resource(self, resource: ResourceRecord) -> None:
        """Record a resource (replacing an entry of the same kind and identifier)."""
        with self._editing() as data:
            data["resources"] = [
                r
                for r in data["resources"]
                if (r["kind"], r["identifier"]) != (resource.kind, resource.identifier)
            ]
            data["resources"].append(asdict(resource))

    def resources(self) -> list[ResourceRecord]:
        """Every recorded resource, billable first, newest first within each group."""
        records = [ResourceRecord(**r) for r in self._read()["resources"]]
        records.sort(key=lambda r: r.created, reverse=True)
        records.sort(key=lambda r: not r.billable)
        return records

    def remove_resource(self, kind: str, identifier: str) -> None:
        """Forget a resource (after it was deleted)."""
        with self._editing() as data:
            data["resources"] = [
                r for r in data["resources"] if (r["kind"], r["identifier"]) != (kind, identifier)
            ]
