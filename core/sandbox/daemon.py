"""The shared sandbox's process: `python -m core.sandbox.daemon --state-dir DIR --instance ID`.

Started detached by `core.sandbox.background.ProcessStarter`. It serves a sandbox on a free
loopback port, records itself in `DIR/sandbox.json`, prints `ready <port>` once (its parent
waits for that line), and then serves until nothing needs it any more
(`SandboxHome.should_stop`) or it gets SIGTERM / SIGINT. On the way out it removes its state
file (if it still names it) and closes the port.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from core.sandbox.background import SandboxHome, SandboxInfo
from core.sandbox.server import Sandbox


def serve_until_unneeded(
    home: SandboxHome,
    sandbox: Sandbox,
    stop: threading.Event,
    *,
    idle_seconds: float,
    check_seconds: float,
    monotonic: Callable[[], float] = time.monotonic,
) -> None:
    """Every `check_seconds`, stop when nothing needs the sandbox any more (or `stop` is set).

    The state file is gone when this returns because nothing needed the sandbox; after a
    signal the caller removes it.
    """
    while not stop.wait(check_seconds):
        idle_for = monotonic() - sandbox.last_request
        if home.should_stop(sandbox.instance_id, idle_for, idle_seconds):
            return


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the shared sandbox of `--state-dir` (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m core.sandbox.daemon")
    parser.add_argument("--state-dir", required=True, type=Path)
    parser.add_argument("--instance", required=True)
    parser.add_argument("--idle-seconds", type=float, default=600.0)
    parser.add_argument("--check-seconds", type=float, default=15.0)
    args = parser.parse_args(argv)
    home = SandboxHome(args.state_dir)
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    if hasattr(signal, "SIGHUP"):
        # Not the terminal's: it runs in a session of its own, but be sure.
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    sandbox = Sandbox(instance_id=args.instance).start()
    try:
        home.write_state(
            SandboxInfo(
                instance_id=sandbox.instance_id,
                pid=os.getpid(),
                host=sandbox.host,
                port=sandbox.port,
                region=sandbox.region,
                started=datetime.now(UTC).isoformat(timespec="seconds"),
            )
        )
        sys.stdout.write(f"ready {sandbox.port}\n")
        sys.stdout.flush()
        # The parent closes its end of the pipe: nothing more may go there.
        with open(os.devnull, "w") as null:  # noqa: PTH123 - a file descriptor to dup
            os.dup2(null.fileno(), sys.stdout.fileno())
        serve_until_unneeded(
            home,
            sandbox,
            stop,
            idle_seconds=args.idle_seconds,
            check_seconds=args.check_seconds,
        )
    finally:
        with contextlib.suppress(OSError), home.locked():
            home.remove_state(sandbox.instance_id)
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
