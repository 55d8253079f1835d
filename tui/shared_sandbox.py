"""The App's use of the shared sandbox (`core.sandbox.background`): found or started when the
user picks the sandbox or resumes a run made in it, held while the App runs, let go (never
stopped) when it ends, so the sandbox outlives the App like AWS does.

Every method blocks (a lock, a local HTTP probe, maybe starting a process): call them from
workers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.sandbox.background import SandboxHome, SandboxInfo, SandboxLease
    from core.sandbox.server import Sandbox


class SharedSandbox:
    """The one shared sandbox this App uses, and its lease on it."""

    def __init__(
        self,
        directory: Callable[[], Path],
        factory: Callable[[], Sandbox] | None = None,
    ) -> None:
        """Args:
        directory: the state folder (the registry's), asked for when first needed.
        factory: serve the sandbox from a thread of this process, made by `factory` (tests
            pass one with a fake clock); by default it is a detached process.
        """
        self._directory = directory
        self._factory = factory
        self._lock = threading.Lock()
        self._home: SandboxHome | None = None
        self._lease: SandboxLease | None = None

    def home(self) -> SandboxHome:
        """The state folder's shared sandbox."""
        with self._lock:
            if self._home is None:
                from core.sandbox.background import SandboxHome, ThreadStarter

                starter = ThreadStarter(self._factory) if self._factory is not None else None
                self._home = SandboxHome(self._directory(), starter)
            return self._home

    def start(self) -> SandboxInfo:
        """The shared sandbox, started if none runs; the App holds it from now on."""
        lease = self.home().ensure()
        if lease is None:  # pragma: no cover - ensure() starts one
            raise RuntimeError("no sandbox")
        self._hold(lease)
        return lease.info

    def join(self, instance_id: str) -> SandboxInfo | None:
        """Hold the shared sandbox if it is instance `instance_id` (a resumed run's); None when
        that sandbox is gone (nothing is started)."""
        lease = self.home().ensure(start=False)
        if lease is None or lease.info.instance_id != instance_id:
            if lease is not None:
                lease.release()
            return None
        self._hold(lease)
        return lease.info

    def running(self) -> SandboxInfo | None:
        """The shared sandbox if one runs (nothing is started or held)."""
        return self.home().running()

    def current(self) -> SandboxInfo | None:
        """The sandbox the App holds, if any."""
        with self._lock:
            return self._lease.info if self._lease is not None else None

    def _hold(self, lease: SandboxLease) -> None:
        with self._lock:
            previous, self._lease = self._lease, lease
        if previous is not None:
            previous.release()

    def release(self) -> None:
        """Let the sandbox go (it keeps running; it stops on its own once nothing needs it)."""
        with self._lock:
            lease, self._lease = self._lease, None
        if lease is not None:
            lease.release()
