"""Run the CLI in a child process that kills itself with SIGKILL at a named write point
(core/faults.py), like `kill -9` at the worst moment: no `finally`, no cleanup."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from core.faults import KILL_ENV
from tests.conftest import REPO


def cli_killed_at(point: str, args: list[str], *, cwd: Path, timeout: float = 120) -> str:
    """Run `bedrock-tune <args>` until it reaches `point` and dies; its stderr.

    The child gets this process's environment (the tests' isolated AWS and state dir, and a
    sandbox's AWS_ENDPOINT_URL when one is set). Fails when the child was not killed there.
    """
    env = {**os.environ, KILL_ENV: point, "PYTHONPATH": str(REPO)}
    child = subprocess.run(
        [sys.executable, "-m", "tui.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, (
        f"not killed at {point} (exit {child.returncode}):\n{child.stdout}\n{child.stderr}"
    )
    return child.stderr
