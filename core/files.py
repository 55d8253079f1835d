"""Checks on local paths before bedrock-tune reads or writes them.

Every path a person gives (a dataset, a template, a prepared file, an output folder) is checked
here first, so a mistake gets a sentence saying what is wrong and where, instead of a traceback
or a hang: opening a FIFO for reading blocks until something writes to it, so a non-regular file
is refused from its `stat`, without ever being opened.

The `*_problem` functions return that sentence (or None); the `check_*` functions raise it as
the caller's error type. The CLI uses the same functions for its argument types.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from core.errors import BedrockTuneError, DatasetError, FileAccessError

SYSTEM_FOLDERS: tuple[Path, ...] = (Path("/proc"), Path("/sys"), Path("/dev"))
"""Kernel file systems: they hold no files of ours, and writing there changes the system."""


def _kind_of(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def readable_file_problem(path: Path) -> str | None:
    """Why `path` cannot be read as a regular file (None when it can), without opening it.

    The answer completes a sentence that starts with the path: "... is a folder, not a regular
    file".
    """
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return "does not exist"
    except PermissionError:
        return "cannot be reached: permission denied on a folder of its path"
    except OSError as error:
        return f"cannot be read ({error.strerror or error})"
    if not stat.S_ISREG(mode):
        return f"is {_kind_of(mode)}, not a regular file"
    if not os.access(path, os.R_OK):
        return "cannot be read: permission denied"
    return None


def check_readable_file(
    path: Path,
    what: str = "file",
    *,
    error: type[BedrockTuneError] = DatasetError,
    hint: str = "Check the path and the file's permissions.",
) -> Path:
    """Return `path` when it is a readable regular file; else raise `error` naming `what`."""
    problem = readable_file_problem(path)
    if problem is not None:
        raise error(f"The {what} {path} {problem}.", hint=hint)
    return path


def _in_system_folder(path: Path) -> Path | None:
    for root in SYSTEM_FOLDERS:
        if path == root or root in path.parents:
            return root
    return None


def _read_only_mount(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # AttributeError: no statvfs (Windows)
        return False


def output_folder_problem(path: Path) -> str | None:
    """Why files cannot be written into the folder `path` (None when they can).

    The answer completes a sentence that starts with the path. The folder may not exist yet:
    it is created with its missing parents (as `mkdir -p` does), so the nearest folder that
    exists must be writable.
    """
    resolved = path.expanduser().resolve()
    system = _in_system_folder(resolved)
    if system is not None:
        return f"is under {system}, a system folder where bedrock-tune writes nothing"
    existing = resolved
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        if existing == resolved:
            return "is a file, not a folder"
        return f"cannot be made: {existing} is a file, not a folder"
    if not os.access(existing, os.W_OK | os.X_OK) or _read_only_mount(existing):
        return f"cannot be written: the folder {existing} is read-only for you"
    return None


def output_file_problem(path: Path, *, overwrite: bool = False) -> str | None:
    """Why the file `path` cannot be written (None when it can): its folder must exist and be
    writable (not under /proc, /sys or /dev), and the path must not be a folder, a FIFO or a
    device; an existing file is refused unless `overwrite`. The answer completes a sentence
    that starts with the path."""
    resolved = path.expanduser().resolve()
    system = _in_system_folder(resolved)
    if system is not None:
        return f"is under {system}, a system folder where bedrock-tune writes nothing"
    if resolved.exists():
        if not resolved.is_file():
            return f"is {_kind_of(resolved.stat().st_mode)}, not a file"
        if not overwrite:
            return "already exists"
    folder = resolved.parent
    if not folder.is_dir():
        return f"cannot be written: its folder {folder} does not exist"
    if not os.access(folder, os.W_OK | os.X_OK) or _read_only_mount(folder):
        return f"cannot be written: the folder {folder} is read-only for you"
    return None


def check_output_folder(
    path: Path,
    what: str = "output folder",
    *,
    error: type[BedrockTuneError] = FileAccessError,
) -> Path:
    """Return `path` when files can be written into it; else raise `error` naming `what`."""
    problem = output_folder_problem(path)
    if problem is not None:
        raise error(
            f"The {what} {path} {problem}.",
            hint="Choose a folder you can write to (for example one under your home folder).",
        )
    return path
