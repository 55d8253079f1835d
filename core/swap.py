"""Replacing a set of files in a folder as a whole: on disk the set is always all-old or all-new.

Renaming files one by one is atomic per file, not per set: a kill between two renames leaves
train.jsonl from one run beside test.jsonl from another. So the new set is written into a
sibling folder and the folders are swapped:

1. write the set into `.<name>.bt-swap-<pid>-<token>.partial/` beside the target, fsync it;
2. rename it to `....ready` (complete: it may now replace the target);
3. move every entry of the target that is *not* part of the set (the user's own files, an
   evaluation report) into the ready folder, so the new folder holds them too;
4. rename the target to `....old`, then the ready folder to the target;
5. retire the old folder: delete the old set's files, move anything else left in it back.

Steps 2-5 run under a lock on the parent folder, so two processes never swap one folder at once.
A process killed anywhere leaves folders whose name says which stage they reached; `recover`
(run by the next swap, and by readers such as upload) finishes or undoes the swap from them:
a missing target is restored from the ready folder (or, lacking one, the old), and every
leftover folder is retired into the target. Leftovers are only ever the folders of dead
processes (the pid in their name), and retiring one deletes only files that belong to the set;
anything else is moved back, never deleted.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from core.errors import ValidationError
from core.faults import write_point
from core.locks import directory_lock, pid_alive

_MARK = "bt-swap"
_LEFTOVER = re.compile(
    rf"^\.(?P<name>.+)\.{_MARK}-(?P<pid>\d+)-(?P<token>[0-9a-f]{{8}})\.(?P<stage>partial|ready|old)$"
)
_STAGES = ("old", "ready", "partial")


@dataclass(frozen=True)
class _Leftover:
    path: Path
    pid: int
    token: str
    stage: str


def _normalized(target: Path) -> Path:
    """The real path of the folder swapped (through symbolic links: a link to it stays valid)."""
    return target.expanduser().resolve()


def _leftovers(target: Path) -> list[_Leftover]:
    """The swap folders of `target` in its parent (ours by name, real folders only)."""
    found: list[_Leftover] = []
    try:
        entries = list(target.parent.iterdir())
    except OSError:
        return found
    for entry in entries:
        match = _LEFTOVER.match(entry.name)
        if match is None or match["name"] != target.name:
            continue
        if entry.is_symlink() or not entry.is_dir():
            continue
        found.append(_Leftover(entry, int(match["pid"]), match["token"], match["stage"]))
    return found


def _is_set_file(name: str, owned: Collection[str]) -> bool:
    """A file of the set, or a temporary file an older version wrote for one
    (`.train.jsonl.x.tmp`)."""
    if name in owned:
        return True
    return name.endswith(".tmp") and any(name.startswith(f".{o}.") for o in owned)


def _fsync_dir(directory: Path) -> None:
    """Make renames in `directory` durable (best effort; not possible on every platform)."""
    if os.name == "nt":  # pragma: no cover
        return
    with contextlib.suppress(OSError):
        handle = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def _retire(source: Path, target: Path, owned: Collection[str]) -> None:
    """Empty the swap folder `source` into `target`: files of the set are deleted, anything else
    is moved to `target` (beside a same-named entry, under a new name: never over it)."""
    for entry in sorted(source.iterdir()):
        if _is_set_file(entry.name, owned) and (entry.is_symlink() or entry.is_file()):
            entry.unlink()
            continue
        destination = target / entry.name
        if destination.exists() or destination.is_symlink():
            if entry.is_file() and destination.is_file() and entry.samefile(destination):
                entry.unlink()  # the same file under two names: drop this one
                continue
            destination = target / f"{entry.name}.recovered-{secrets.token_hex(4)}"
        entry.rename(destination)
    source.rmdir()


def _discard(source: Path, owned: Collection[str]) -> None:
    """Delete the set's files in a swap folder that has no target to go to; the folder goes
    too once empty (anything else in it stays, for the user to see)."""
    for entry in source.iterdir():
        if _is_set_file(entry.name, owned) and (entry.is_symlink() or entry.is_file()):
            entry.unlink()
    with contextlib.suppress(OSError):
        source.rmdir()


def recover(target: Path, owned: Collection[str]) -> None:
    """Finish or undo a swap of `target` that a killed process left half-done (see the module
    docstring). Folders of live processes are left alone. Cheap when there is nothing to do."""
    target = _normalized(target)
    stale = [f for f in _leftovers(target) if not pid_alive(f.pid)]
    if not stale:
        return
    with directory_lock(target.parent):
        stale = [f for f in _leftovers(target) if not pid_alive(f.pid)]
        if not target.exists():
            olds = {f.token for f in stale if f.stage == "old"}
            ready = [f for f in stale if f.stage == "ready"]
            # The swap that set the target aside had a complete new folder: finish it.
            ready.sort(key=lambda f: (f.token in olds, f.path.stat().st_mtime), reverse=True)
            restore = ready[0] if ready else next((f for f in stale if f.stage == "old"), None)
            if restore is not None:
                restore.path.rename(target)
                stale.remove(restore)
        for leftover in sorted(stale, key=lambda f: _STAGES.index(f.stage)):
            if target.is_dir():
                _retire(leftover.path, target, owned)
            else:
                _discard(leftover.path, owned)
        _fsync_dir(target.parent)


def check_swappable(target: Path) -> None:
    """Refuse a target that cannot be replaced as a folder, before any work is done.

    Raises:
        ValidationError: `target` is a file, the current folder, a mount point, or in a folder
            that cannot be written.
    """
    if target.exists() and not target.is_dir():
        raise ValidationError(
            f"{target} is a file, not a folder.",
            hint="Give a folder for the prepared files (it is created when missing).",
        )
    real = target.resolve()
    if real == Path.cwd().resolve():
        raise ValidationError(
            f"{target} is the current folder: the prepared files are replaced as a whole "
            "folder (so an interruption never mixes old and new files), which cannot be done "
            "to the folder you are in.",
            hint=f"Give a folder of its own, for example {target / 'prepared'}.",
        )
    if real.exists() and os.path.ismount(real):
        raise ValidationError(
            f"{target} is a mount point: it cannot be replaced as a folder.",
            hint=f"Give a folder inside it, for example {target / 'prepared'}.",
        )
    parent = real.parent
    if parent.is_dir() and not os.access(parent, os.W_OK | os.X_OK):
        raise ValidationError(
            f"{target} cannot be replaced as a folder: its parent folder {parent} is read-only "
            "for you (the new files are written beside it, then swapped in).",
            hint=f"Give a folder inside it, for example {target / 'prepared'}.",
        )


class FolderSwap:
    """Write a set of files into a staging folder; on success it replaces the target's set.

    Example:
        with FolderSwap(out_dir, owned=("train.jsonl", "manifest.json"), point="prepare") as new:
            (new / "train.jsonl").write_bytes(...)

    On an error (or cancel) inside the block, nothing changes in the target. Names in `owned`
    make up the set: the old ones are removed even when the new set lacks them; every other
    entry of the target stays. `point` prefixes the fault-injection write points.

    Raises:
        ValidationError: the target cannot be replaced (see `check_swappable`) or its parent
            cannot be written.
    """

    def __init__(self, target: Path, owned: Collection[str], *, point: str = "swap") -> None:
        self.target = _normalized(target)
        self.owned = tuple(owned)
        self.point = point
        self._stem = f".{self.target.name}.{_MARK}-{os.getpid()}-{secrets.token_hex(4)}"
        self.staging = self.target.parent / f"{self._stem}.partial"

    def _stage(self, stage: str) -> Path:
        return self.target.parent / f"{self._stem}.{stage}"

    def __enter__(self) -> Path:
        check_swappable(self.target)
        try:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            recover(self.target, self.owned)
            self.staging.mkdir()
        except PermissionError as error:
            raise ValidationError(
                f"Cannot write beside {self.target}: {error.strerror}.",
                hint="Choose an output folder in a place you can write to.",
            ) from error
        return self.staging

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if kind is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            return
        try:
            self._swap()
        except BaseException:
            self._undo()
            raise

    def _swap(self) -> None:
        _fsync_dir(self.staging)
        write_point(f"{self.point}.staged")
        ready, old = self._stage("ready"), self._stage("old")
        with directory_lock(self.target.parent):
            self.staging.rename(ready)
            write_point(f"{self.point}.ready")
            if self.target.exists():
                for entry in sorted(self.target.iterdir()):
                    if not _is_set_file(entry.name, self.owned):
                        entry.rename(ready / entry.name)  # the user's files come along
                write_point(f"{self.point}.carried")
                self.target.rename(old)
                write_point(f"{self.point}.set-aside")
            ready.rename(self.target)
            _fsync_dir(self.target.parent)
            write_point(f"{self.point}.swapped-in")
            if old.exists():
                _retire(old, self.target, self.owned)
                _fsync_dir(self.target.parent)
            write_point(f"{self.point}.retired")

    def _undo(self) -> None:
        """Put the target back as it was after a failure inside `_swap` (best effort)."""
        ready, old = self._stage("ready"), self._stage("old")
        with contextlib.suppress(OSError), directory_lock(self.target.parent):
            if not self.target.exists() and old.exists():
                old.rename(self.target)
            for leftover in (ready, self.staging, old):
                if leftover.is_dir() and self.target.is_dir():
                    _retire(leftover, self.target, self.owned)
