"""Shared tools for the bad-input tests: run the CLI, get its exit code whichever way it ends,
and check that what it printed is a clear message (no traceback, no broken hint)."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tui.cli.main import main

DOUBLE_STOP = re.compile(r"(?<!\.)\.\.$", re.MULTILINE)
"""A sentence ending in two full stops (an ellipsis "..." is fine)."""


def exit_code(argv: Sequence[str]) -> int:
    """main's return value, or the code of the SystemExit argparse raises on a bad argument."""
    try:
        return main(list(argv))
    except SystemExit as stop:
        return int(stop.code or 0)


def assert_clear(err: str, *expected: str) -> None:
    """stderr holds each expected phrase, says what to do, and shows no traceback."""
    for phrase in expected:
        assert phrase in err, f"{phrase!r} not in {err!r}"
    assert "Traceback" not in err
    assert "Hint:" in err or "--help" in err  # what to do next
    assert "For example ." not in err, err
    assert not DOUBLE_STOP.search(err), err


@contextmanager
def no_hang(seconds: int = 10) -> Iterator[None]:
    """Fail (instead of blocking the suite) when the body blocks, e.g. by opening a FIFO."""

    def expired(signum: int, frame: Any) -> None:
        raise TimeoutError(f"blocked for {seconds} s (a FIFO opened for reading?)")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def deny_access(monkeypatch: pytest.MonkeyPatch, target: Path, mode: int) -> None:
    """Make `os.access(target, mode)` answer False, as it does for a user without that
    permission (tests run as root here, and root may read and write anything)."""
    real: Callable[..., bool] = os.access
    denied = target.resolve()

    def access(path: Any, wanted: int, *args: Any, **kwargs: Any) -> bool:
        if Path(path).resolve() == denied and wanted & mode:
            return False
        return real(path, wanted, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)


def files_under(folder: Path) -> list[str]:
    """Every file and folder under `folder` (relative), to show nothing was written."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
