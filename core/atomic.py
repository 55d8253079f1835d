"""Writing files so that nothing is ever left half-written.

Every file is written to a temporary file in the same folder, flushed to disk, and renamed over
its final name (an atomic step on POSIX and Windows). `AtomicFiles` does that for a set of files
that must appear together: on any error or cancel, none of them appears.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from types import TracebackType
from typing import BinaryIO


def atomic_write_bytes(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write `data` to `path` atomically (optionally with file `mode`, e.g. 0o600)."""
    with AtomicFiles(path.parent, mode=mode) as files:
        files.open(path.name).write(data)


def atomic_write_text(path: Path, text: str, *, mode: int | None = None) -> None:
    """Write UTF-8 `text` to `path` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"), mode=mode)


class AtomicFiles:
    """Write several files in one folder; they all appear on success, none on failure.

    Example:
        with AtomicFiles(out_dir) as files:
            files.open("train.jsonl").write(b"...")
            files.open("manifest.json").write(b"...")
    """

    def __init__(self, directory: Path, *, mode: int | None = None) -> None:
        self.directory = directory
        self._mode = mode
        self._pending: dict[str, tuple[str, BinaryIO]] = {}

    def __enter__(self) -> AtomicFiles:
        self.directory.mkdir(parents=True, exist_ok=True)
        return self

    def open(self, name: str) -> BinaryIO:
        """A binary handle for the file `name` (its content replaces the file on success)."""
        if name in self._pending:
            return self._pending[name][1]
        handle, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.directory)
        stream = os.fdopen(handle, "wb")
        self._pending[name] = (temp, stream)
        return stream

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if kind is not None:
            self.discard()
            return
        try:
            for temp, stream in self._pending.values():
                stream.flush()
                os.fsync(stream.fileno())
                stream.close()
                if self._mode is not None:
                    Path(temp).chmod(self._mode)
            for name, (temp, _) in self._pending.items():
                Path(temp).replace(self.directory / name)
        except BaseException:
            self.discard()
            raise
        finally:
            self._pending.clear()

    def discard(self) -> None:
        """Delete every temporary file (nothing appears)."""
        for temp, stream in self._pending.values():
            with contextlib.suppress(OSError):
                stream.close()
            with contextlib.suppress(OSError):
                Path(temp).unlink()
        self._pending.clear()
