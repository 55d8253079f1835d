"""The local registry: every run, and every resource bedrock-tune created, so that nothing is lost
when the terminal closes and nothing billable is forgotten.

One JSON file (`registry.json`) under the platform's state directory (or `BEDROCK_TUNE_STATE_DIR`),
written atomically (a temp file in the same folder, fsync, rename) with mode 0600, and locked
against a second bedrock-tune process. It never holds a credential: a run names a profile and an
endpoint, never keys or tokens.

The file carries a schema version. Version 2 keeps each run's route and status beside the run
(for anyone reading the file, e.g. with jq). A version-1 file, as bedrock-tune wrote before
routes, is read as version 2 in memory; the first write copies it to `registry.json.v1.bak`
and then replaces it with the version-2 file in one atomic rename.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import types
import uuid
from collections.abc import Callable, Iterator
from dataclasses import MISSING, asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from core.errors import BedrockTuneError
from core.ownership import install_id
from core.run.status import (
    RunStatus,
    import_in_progress,
    job_in_progress,
    run_status,
    serving_pending,
)
from core.run.types import Route, Run, RunDataError
from core.state_dir import state_dir

FILE_NAME = "registry.json"
VERSION = 2
"""The schema version this code writes (and the newest it reads)."""
BACKUP_V1 = "registry.json.v1.bak"
"""Where the version-1 file is kept when it is migrated."""


class RegistryError(BedrockTuneError):
    """The registry file cannot be read or written."""

    default_title = "Local registry problem"


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
    def route(self) -> Route:
        """The run's route."""
        return self.run.route

    @property
    def status(self) -> RunStatus:
        """Where the run stands (from the run itself)."""
        return run_status(self.run)

    @property
    def in_progress(self) -> bool:
        """A job or an import was launched (or about to be) and has not ended."""
        return job_in_progress(self.run) or import_in_progress(self.run)

    @property
    def serving_pending(self) -> bool:
        """A provisioned throughput or deployment was created and was not ready yet."""
        return serving_pending(self.run)

    @property
    def resumable(self) -> bool:
        """Something of this run was still going when bedrock-tune closed: a job, an import or
        a deployment being created."""
        return self.in_progress or self.serving_pending


def _run_data(entry: Any) -> Any:
    return entry.get("run", {}) if isinstance(entry, dict) else entry


def _entry(run_id: str, created: str, updated: str, run: Run) -> dict[str, Any]:
    """One run as the file keeps it (version 2)."""
    return {
        "id": run_id,
        "created": created,
        "updated": updated,
        "route": run.route.value,
        "status": run_status(run).value,
        "run": run.to_dict(),
    }


# The kinds of resource a ResourceRecord holds (its `kind`).
JOB = "customization-job"
BATCH_JOB = "batch-inference-job"
"""A Bedrock batch inference job an evaluation started (billed by the tokens it processes)."""
THROUGHPUT = "provisioned-throughput"
DEPLOYMENT = "custom-model-deployment"
MODEL = "custom-model"
PREFIX = "s3-prefix"
BUCKET = "s3-bucket"
ROLE = "iam-role"
IMPORT_JOB = "model-import-job"
"""An import job: it cannot be stopped or deleted (Bedrock has no such call); teardown forgets it
once it has ended, and deletes the model it made."""
IMPORTED_MODEL = "imported-model"


@dataclass(frozen=True)
class ResourceRecord:
    """One AWS resource bedrock-tune created or reused for a run."""

    kind: str
    """One of the kinds above: `s3-bucket`, `iam-role`, `customization-job`, `custom-model`..."""
    identifier: str
    """Name or ARN."""
    region: str
    account_id: str
    run_id: str | None
    created: str = field(default_factory=_now)
    billable: bool = False
    created_by_us: bool = True
    details: dict[str, Any] = field(default_factory=dict)


_DAMAGED_HINT = (
    "It was edited by hand or damaged. Move it aside (e.g. rename it to registry.json.bad) to "
    "start a new registry; teardown then relies on resource tags."
)


_TYPE_NAMES = {str: "text", bool: "true or false", dict: "an object", list: "a list"}


def _type_problem(value: Any, expected: Any) -> str | None:
    """Why `value` (from JSON) does not fit the type hint `expected` (str, bool, dict[...],
    `X | None`), or None."""
    if get_origin(expected) is types.UnionType:
        problems = [_type_problem(value, option) for option in get_args(expected)]
        return None if None in problems else next(p for p in problems if p)
    if expected is type(None):
        return None if value is None else f"is {json.dumps(value)[:40]}, not null"
    wanted = get_origin(expected) or expected
    if not isinstance(value, wanted):
        return f"is {json.dumps(value)[:40]}, not {_TYPE_NAMES.get(wanted, wanted.__name__)}"
    return None


def _record_problem(entry: Any, cls: type, where: str) -> str | None:
    """Why the JSON object `entry` cannot become a `cls` dataclass (None when it can)."""
    if not isinstance(entry, dict):
        return f"{where} is {json.dumps(entry)[:40]}, not an object"
    hints = get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(entry) - set(known))
    if unknown:
        return f"{where} has unknown field(s) {', '.join(unknown)}"
    for name, spec in known.items():
        required = spec.default is MISSING and spec.default_factory is MISSING
        if name not in entry:
            if required:
                return f"{where} has no '{name}'"
            continue
        problem = _type_problem(entry[name], hints[name])
        if problem is not None:
            return f"{where}.{name} {problem}"
    return None


def resources_problem(resources: list[Any]) -> str | None:
    """Why the registry's resource list does not have the shape the code expects (None when it
    does): every field of every entry has its type, so nothing fails later (a resource must be
    readable before anything is created or deleted). Runs are checked one by one when read
    (`Registry._run_of`), so that a bad run can still be forgotten."""
    for index, entry in enumerate(resources):
        problem = _record_problem(entry, ResourceRecord, f"resources[{index}]")
        if problem is not None:
            return problem
    return None


class Registry:
    """Read and update the registry file. Every change is written at once, atomically."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or state_dir()
        self.path = self.directory / FILE_NAME
        self._lock = threading.Lock()

    def install_id(self) -> str:
        """This install's id, kept beside the registry (created once): the value of the
        `bedrock-tune:install` tag on everything this install creates (core/ownership.py)."""
        return install_id(self.directory)

    # ------------------------------------------------------------------ file access

    def _read(self) -> dict[str, Any]:
        """The file's data as version 2 (a version-1 file is migrated in memory)."""
        data = self._read_file()
        if data.get("version") == 1:
            return self._migrated(data)
        return data

    def _read_file(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {"version": VERSION, "runs": {}, "resources": []}
        except OSError as error:
            raise RegistryError(
                f"Cannot read {self.path}: {error.strerror}.",
                hint="Check the file's permissions, or point BEDROCK_TUNE_STATE_DIR elsewhere.",
            ) from error
        except UnicodeDecodeError as error:
            raise RegistryError(
                f"{self.path} is not UTF-8 text (byte {error.start}).", hint=_DAMAGED_HINT
            ) from error
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise RegistryError(
                f"{self.path} is not valid JSON (line {error.lineno}, column {error.colno}).",
                hint="It was edited by hand or damaged. Move it aside to start a new registry; "
                "teardown then relies on resource tags.",
            ) from error
        version = data.get("version") if isinstance(data, dict) else None
        if isinstance(version, int) and not isinstance(version, bool) and version > VERSION:
            raise RegistryError(
                f"{self.path} was written by a newer bedrock-tune (registry version {version}; "
                f"this one reads up to {VERSION}).",
                hint="Upgrade bedrock-tune, or point BEDROCK_TUNE_STATE_DIR elsewhere.",
            )
        if (
            not isinstance(data, dict)
            or version not in (1, VERSION)
            or not isinstance(data.get("runs"), dict)
            or not isinstance(data.get("resources"), list)
        ):
            raise RegistryError(
                f"{self.path} is not a bedrock-tune registry (version 1 or {VERSION}).",
                hint="Move it aside to start a new one.",
            )
        problem = resources_problem(data["resources"])
        if problem is not None:
            raise RegistryError(f"{self.path}: {problem}.", hint=_DAMAGED_HINT)
        return data

    def _migrated(self, data: dict[str, Any]) -> dict[str, Any]:
        """Version-1 data as version 2: every version-1 run was a Bedrock customization run.

        An entry that cannot be read is carried over as it is (with its route), so that
        reading it still names the problem and `runs forget` can still remove it.
        """
        runs: dict[str, Any] = {}
        for run_id, entry in data["runs"].items():
            if not isinstance(entry, dict) or not isinstance(entry.get("run"), dict):
                runs[run_id] = entry
                continue
            entry = {**entry, "run": {**entry["run"], "route": Route.BEDROCK_CUSTOMIZATION.value}}
            try:
                run = self._run_of(run_id, entry)
            except RegistryError:
                runs[run_id] = {**entry, "route": Route.BEDROCK_CUSTOMIZATION.value}
                continue
            runs[run_id] = _entry(run_id, entry["created"], entry["updated"], run)
        migrated = {"version": VERSION, "runs": runs, "resources": data["resources"]}
        if "evaluations" in data:  # references to stored evaluations (core/evaluation/store.py)
            migrated["evaluations"] = data["evaluations"]
        return migrated

    def _run_of(self, run_id: str, entry: Any) -> Run:
        """The run of one entry, or a RegistryError naming the file, the run and the field."""
        try:
            if not isinstance(entry, dict):
                raise RunDataError(f"the entry is {type(entry).__name__}, not an object")
            for key in ("created", "updated"):
                if not isinstance(entry.get(key), str):
                    raise RunDataError(f"'{key}' is not a date text")
            return Run.from_dict(_run_data(entry))
        except RunDataError as error:
            raise RegistryError(
                f"Run {run_id} in {self.path} cannot be read: {error.message}.",
                hint="The file was edited by hand or by another program. Fix that value, or "
                f"forget the run with `bedrock-tune runs forget {run_id}`.",
            ) from error

    def _backup_v1(self) -> None:
        """Keep the version-1 file before it is replaced (written whole, then renamed)."""
        target = self.directory / BACKUP_V1
        if target.exists():
            target = self.directory / f"{BACKUP_V1}.{datetime.now(UTC):%Y%m%dT%H%M%S%f}"
        self._write_atomically(target, self.path.read_bytes())

    def _write(self, data: dict[str, Any]) -> None:
        text = json.dumps(data, indent=2, sort_keys=True)
        self._write_atomically(self.path, text.encode("utf-8"))

    def _write_atomically(self, path: Path, content: bytes) -> None:
        """A temp file in the same folder, fsync, mode 0600, rename over `path`."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temp = tempfile.mkstemp(prefix=".registry-", suffix=".tmp", dir=self.directory)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            Path(temp).chmod(0o600)  # mkstemp already makes it 0600; say so explicitly
            Path(temp).replace(path)
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
            data = self._read_file()
            if data.get("version") == 1:
                data = self._migrated(data)  # (raises, changing nothing, if it cannot)
                self._backup_v1()
            yield data
            self._write(data)

    def check(self) -> None:
        """Read the file and raise RegistryError when it cannot be read or is damaged.

        Call it before creating anything in AWS: what is created must be recorded, and a
        damaged registry found only after the call would leave the resource unrecorded.
        """
        self._read()

    # ------------------------------------------------------------------ runs

    def save_run(self, run_id: str, run: Run) -> RunRecord:
        """Create or replace the run `run_id`."""
        with self._editing() as data:
            previous = data["runs"].get(run_id)
            created = previous["created"] if isinstance(previous, dict) else None
            record = RunRecord(run_id, created if isinstance(created, str) else _now(), _now(), run)
            data["runs"][run_id] = _entry(run_id, record.created, record.updated, run)
        return record

    def runs(self) -> list[RunRecord]:
        """Every run, most recently updated first."""
        data = self._read()
        records = [
            RunRecord(run_id, entry["created"], entry["updated"], self._run_of(run_id, entry))
            for run_id, entry in data["runs"].items()
        ]
        return sorted(records, key=lambda r: r.updated, reverse=True)

    def get_run(self, run_id: str) -> RunRecord | None:
        """One run, or None."""
        return next((r for r in self.runs() if r.id == run_id), None)

    def runs_in_progress(self) -> list[RunRecord]:
        """Runs whose job, or whose deployment being created, had not finished (what a
        restart offers to resume)."""
        return [r for r in self.runs() if r.resumable]

    def forget_run(self, run_id: str) -> bool:
        """Remove a run (its resources stay listed until they are deleted); False when there
        was no such run."""
        with self._editing() as data:
            return data["runs"].pop(run_id, None) is not None

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

    def replace_resource(self, kind: str, identifier: str, resource: ResourceRecord) -> None:
        """Put `resource` in the place of the entry (`kind`, `identifier`) in one write, so a
        crash leaves one of the two, never neither (a pending deployment becoming its ARN)."""
        with self._editing() as data:
            gone = {(kind, identifier), (resource.kind, resource.identifier)}
            data["resources"] = [
                r for r in data["resources"] if (r["kind"], r["identifier"]) not in gone
            ]
            data["resources"].append(asdict(resource))

    def resources(self) -> list[ResourceRecord]:
        """Every recorded resource, billable first, newest first within each group."""
        records = [ResourceRecord(**r) for r in self._read()["resources"]]
        records.sort(key=lambda r: r.created, reverse=True)
        records.sort(key=lambda r: not r.billable)
        return records

    def remove_resource(
        self,
        kind: str,
        identifier: str,
        *,
        update_runs: Callable[[Run], Run] | None = None,
    ) -> None:
        """Forget a resource (after it was deleted) and, in the same write, replace every run
        by `update_runs(run)` where that differs (a run forgets what no longer exists)."""
        with self._editing() as data:
            data["resources"] = [
                r for r in data["resources"] if (r["kind"], r["identifier"]) != (kind, identifier)
            ]
            if update_runs is not None:
                self._update_runs(data, update_runs)

    def update_resource(
        self,
        kind: str,
        identifier: str,
        change: Callable[[ResourceRecord], ResourceRecord],
        *,
        update_runs: Callable[[Run], Run] | None = None,
    ) -> None:
        """Replace the entry (`kind`, `identifier`) by `change(entry)` (nothing when there is
        no such entry) and, in the same write, every run by `update_runs(run)` where that
        differs: a crash leaves both as they were or both changed."""
        with self._editing() as data:
            for index, entry in enumerate(data["resources"]):
                if (entry["kind"], entry["identifier"]) == (kind, identifier):
                    data["resources"][index] = asdict(change(ResourceRecord(**entry)))
            if update_runs is not None:
                self._update_runs(data, update_runs)

    def _update_runs(self, data: dict[str, Any], update_runs: Callable[[Run], Run]) -> None:
        """Replace, in `data` being edited, every run by `update_runs(run)` where that differs."""
        for run_id, entry in data["runs"].items():
            run = self._run_of(run_id, entry)
            updated = update_runs(run)
            if updated != run:
                data["runs"][run_id] = _entry(run_id, entry["created"], _now(), updated)

    # ------------------------------------------------------------------ evaluations
    # References only (the reports live in their own files: core/evaluation/store.py).

    def add_evaluation(self, run_id: str, reference: dict[str, Any]) -> None:
        """Record that run `run_id` has the evaluation `reference` (`{"id", "path", ...}`)."""
        with self._editing() as data:
            runs = data.setdefault("evaluations", {})
            kept = [e for e in runs.get(run_id, []) if e.get("id") != reference.get("id")]
            runs[run_id] = [*kept, reference]

    def evaluations(self, run_id: str | None = None) -> dict[str, list[dict[str, Any]]]:
        """The evaluation references by run (of one run when `run_id` is given)."""
        recorded = self._read().get("evaluations") or {}
        if run_id is not None:
            return {run_id: list(recorded.get(run_id, []))}
        return {key: list(value) for key, value in recorded.items()}
