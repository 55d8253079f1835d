"""Locks between bedrock-tune processes on one machine, and telling a live process from a dead one.

Two kinds:
- `directory_lock(folder)`: a short exclusive lock on a folder (held while a few renames run), so
  two processes never swap or clean the same output folder at once.
- `HolderLock(path)`: a lock file held for as long as a piece of work runs (an upload of one run).
  It is an advisory `flock`, which the kernel releases the moment the holder dies, even by
  `kill -9`: a lock that can be taken is proof that no live process holds it. The file also
  records who holds it (pid, start time) so a refusal can say so.

On platforms without `fcntl` (Windows) the locks are no-ops and `pid_alive` answers True for any
pid but ours is unknown: nothing is ever taken for dead there, so nothing is cleaned up wrongly.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType, TracebackType
from typing import IO, Any

fcntl: ModuleType | None
try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (ours, or anyone's we may not signal)."""
    if pid <= 0:
        return False
    if pid == os.getpid() or os.name == "nt":
        return True  # on Windows os.kill(pid, 0) would terminate the process: never guess
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists; it belongs to someone else
    return True


@contextlib.contextmanager
def directory_lock(directory: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on `directory` (blocking) for the `with` block."""
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    handle = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # closing releases the lock


@dataclass(frozen=True)
class Holder:
    """Who holds a `HolderLock`, as its file says."""

    pid: int
    started: str
    """ISO 8601 UTC time the holder took the lock."""
    what: str

    def describe(self) -> str:
        """`process 4242 (since 2026-01-01T10:00:00+00:00)`."""
        return f"process {self.pid} (since {self.started})"


class LockBusyError(Exception):
    """The lock is held by a live process."""

    def __init__(self, holder: Holder | None) -> None:
        super().__init__(holder.describe() if holder else "another process")
        self.holder = holder


class HolderLock:
    """An exclusive, non-blocking lock file for one piece of work; see the module docstring.

    Example:
        with HolderLock(state / "locks" / "upload-abc.lock", "upload of run abc") as lock:
            ...  # lock.acquired_at is when we took it

    Raises:
        LockBusyError: (on enter) a live process holds it.
    """

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        self.what = what
        self.acquired_at: datetime | None = None
        self._file: IO[str] | None = None

    def __enter__(self) -> HolderLock:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        stream = os.fdopen(handle, "r+", encoding="utf-8")
        if fcntl is not None:
            try:
                fcntl.flock(stream.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = _read_holder(stream)
                stream.close()
                raise LockBusyError(holder) from None
        self.acquired_at = datetime.now(UTC)
        stream.seek(0)
        stream.truncate()
        json.dump(
            {
                "pid": os.getpid(),
                "started": self.acquired_at.isoformat(timespec="seconds"),
                "what": self.what,
            },
            stream,
        )
        stream.flush()
        self._file = stream
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._file is not None:
            # The file stays (unlinking it would race with a process about to lock it); only
            # the lock is released, by closing.
            self._file.close()
            self._file = None


def _read_holder(stream: IO[str]) -> Holder | None:
    try:
        stream.seek(0)
        data: Any = json.loads(stream.read() or "null")
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    try:
        return Holder(int(data["pid"]), str(data["started"]), str(data.get("what", "")))
    except (KeyError, TypeError, ValueError):
        return None
