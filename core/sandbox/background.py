"""The shared sandbox: one sandbox per state folder, in a process of its own that outlives the app.

A sandbox inside the app died with it (a quit, a closed terminal, kill -9) and took its jobs
along, so a run launched in it could never be resumed. Now the app starts the sandbox as a
detached process (`python -m core.sandbox.daemon`, in a session of its own, so neither closing
the terminal nor killing the app reaches it) on a loopback port. Nothing of its world is saved
to disk: the process *is* the world, as AWS is, and its jobs go on by the wall clock while no
app watches. The next app (or a second one on the same HOME) finds it through `sandbox.json`
and reuses it. Finding and starting are one locked step, so two apps never start two sandboxes.

Files in the state folder (the folder 0700, each file 0600):

* `sandbox.json`: which sandbox runs: instance id, process id, port, start time;
* `sandbox.lock`: held while an app finds or starts the sandbox, and while the sandbox decides
  whether to stop;
* `sandbox.users`: each app using the sandbox holds a shared lock on it; the kernel drops it
  when the app ends, even by kill -9, so the sandbox knows whether anyone is attached;
* `sandbox.log`: what the sandbox process wrote to stderr.

The sandbox stops itself when nothing needs it any more (`SandboxHome.should_stop`): no app is
attached, no saved run still has something going or held in it (a job, a custom model, a
deployment), and it has had no request for a while. Tearing a run's resources down or
forgetting the run is what lets it go. A machine restart ends it too: its runs are then offered
once more, marked as gone, and can be forgotten.

Tests (and anyone embedding the app) can serve the sandbox from a thread of their own process
instead (`ThreadStarter`): the same files and rules, a sandbox that outlives an App but not the
process.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol

from core.atomic import atomic_write_text
from core.aws import StaticCredentials
from core.sandbox.server import (
    IDENTITY_HEADER,
    IDENTITY_PATH,
    SANDBOX_CREDENTIALS,
    Sandbox,
    SandboxError,
)

STATE_FILE = "sandbox.json"
LOCK_FILE = "sandbox.lock"
USERS_FILE = "sandbox.users"
LOG_FILE = "sandbox.log"
STATE_VERSION = 1

READY_TIMEOUT = 90.0
"""Seconds a starting sandbox process has to say it listens (importing moto takes a few
seconds on a busy machine)."""


@dataclass(frozen=True)
class SandboxInfo:
    """A running shared sandbox, as `sandbox.json` describes it."""

    instance_id: str
    pid: int
    host: str
    port: int
    region: str
    started: str
    """When it started (ISO 8601, UTC)."""

    @property
    def endpoint_url(self) -> str:
        """The URL clients send every call to."""
        return f"http://{self.host}:{self.port}"

    @property
    def credentials(self) -> StaticCredentials:
        """The static keys every sandbox accepts."""
        return SANDBOX_CREDENTIALS

    def to_json(self) -> str:
        """The state file's text."""
        return json.dumps({"version": STATE_VERSION, **asdict(self)}, indent=2)

    @classmethod
    def from_json(cls, text: str) -> SandboxInfo | None:
        """The info in a state file's text, or None when it is not one this version wrote."""
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
                return None
            info = cls(
                instance_id=str(data["instance_id"]),
                pid=int(data["pid"]),
                host=str(data["host"]),
                port=int(data["port"]),
                region=str(data["region"]),
                started=str(data["started"]),
            )
        except (ValueError, KeyError, TypeError):
            return None
        return info


def new_instance_id() -> str:
    """A fresh sandbox instance id."""
    return uuid.uuid4().hex[:12]


def identify(endpoint_url: str, timeout: float = 3.0) -> str | None:
    """The instance id of the bedrock-tune sandbox answering at `endpoint_url`, or None when
    nothing (or something else) answers there.

    Blocking (up to `timeout`): call it from a worker. Never through a proxy: the sandbox is on
    this machine.
    """
    request = urllib.request.Request(
        endpoint_url.rstrip("/") + IDENTITY_PATH, headers={IDENTITY_HEADER: "identify"}
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as answer:
            data = json.loads(answer.read())
    except (OSError, ValueError, http.client.HTTPException):
        # A sandbox closing its port mid-answer reads as IncompleteRead: it is not there.
        return None
    instance = data.get("instance") if isinstance(data, dict) else None
    return instance if isinstance(instance, str) else None


class Starter(Protocol):
    """Starts and stops the shared sandbox (a process of its own, or a thread of this one)."""

    def start(self, home: SandboxHome, instance_id: str) -> SandboxInfo:
        """Start sandbox `instance_id`; it has written `sandbox.json` when this returns."""

    def stop(self, info: SandboxInfo) -> bool:
        """Stop the sandbox `info` describes (when this starter can); whether it was stopped."""


@dataclass
class SandboxLease:
    """An app's use of the shared sandbox: while it is held, the sandbox does not stop on its
    own. Release it when the app ends (the kernel does it too when the app dies)."""

    info: SandboxInfo
    _handle: IO[str] | None

    def release(self) -> None:
        """Stop using the sandbox (idempotent)."""
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.close()  # closing drops the shared lock


def _lock(handle: IO[str], exclusive: bool, wait: bool = True) -> bool:
    """flock the file; False when `wait` is off and someone else holds a conflicting lock.
    Without fcntl (Windows) there are no locks: True."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return True
    flags = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    try:
        fcntl.flock(handle.fileno(), flags | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


class SandboxHome:
    """The shared sandbox of one state folder: find it, start it, use it, stop it."""

    def __init__(
        self,
        directory: Path,
        starter: Starter | None = None,
        *,
        probe: Callable[[str], str | None] = identify,
    ) -> None:
        """Args:
        directory: the state folder (the registry's).
        starter: how a missing sandbox is started (by default a detached process).
        probe: asks an endpoint which sandbox answers there (`identify`).
        """
        self.directory = directory
        self.starter: Starter = starter or ProcessStarter()
        self._probe = probe
        self._thread_lock = threading.Lock()

    # ------------------------------------------------------------------ files

    @property
    def state_path(self) -> Path:
        """`sandbox.json`."""
        return self.directory / STATE_FILE

    def _open(self, name: str) -> IO[str]:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.directory / name
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        return os.fdopen(descriptor, "r+", encoding="utf-8")

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold `sandbox.lock` (threads of this process and other processes wait)."""
        with self._thread_lock, self._open(LOCK_FILE) as handle:
            _lock(handle, exclusive=True)
            yield

    def read_state(self) -> SandboxInfo | None:
        """What `sandbox.json` says (None when there is none, or it is damaged)."""
        try:
            text = self.state_path.read_text(encoding="utf-8")
        except OSError:
            return None
        return SandboxInfo.from_json(text)

    def write_state(self, info: SandboxInfo) -> None:
        """Write `sandbox.json` (atomically, mode 0600)."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write_text(self.state_path, info.to_json(), mode=0o600)

    def remove_state(self, instance_id: str) -> None:
        """Remove `sandbox.json` if it still names `instance_id`."""
        info = self.read_state()
        if info is not None and info.instance_id == instance_id:
            with contextlib.suppress(FileNotFoundError):
                self.state_path.unlink()

    # ------------------------------------------------------------------ finding and starting

    def running(self) -> SandboxInfo | None:
        """The shared sandbox if it runs and answers as itself (blocking: a local HTTP probe).

        A state file whose sandbox does not answer (the machine restarted, the process was
        killed) is stale: it is removed when the lock is held (`ensure`).
        """
        info = self.read_state()
        if info is None:
            return None
        return info if self._probe(info.endpoint_url) == info.instance_id else None

    def ensure(self, *, start: bool = True) -> SandboxLease | None:
        """Use the shared sandbox, starting it when none runs (None when `start` is off and
        none runs). Blocking: call it from a worker.

        Raises:
            SandboxError: the sandbox could not be started.
        """
        with self.locked():
            info = self.running()
            if info is None:
                stale = self.read_state()
                if stale is not None:
                    self.remove_state(stale.instance_id)
                if not start:
                    return None
                info = self.starter.start(self, new_instance_id())
            return SandboxLease(info, self._attach())

    def _attach(self) -> IO[str] | None:
        handle = self._open(USERS_FILE)
        _lock(handle, exclusive=False)
        return handle

    def in_use(self) -> bool:
        """Whether some app holds a lease (without fcntl: always, as nobody can tell)."""
        with self._open(USERS_FILE) as handle:
            return not _lock(handle, exclusive=True, wait=False)

    def stop(self) -> bool:
        """Stop the shared sandbox now, whoever uses it; whether one was stopped."""
        with self.locked():
            info = self.read_state()
            if info is None:
                return False
            stopped = self.starter.stop(info) or _SERVED_HERE.stop(info)
            if not stopped and self._probe(info.endpoint_url) == info.instance_id:
                # It answers as itself, so the pid it recorded is its own (not a process that
                # got the number after a restart): signal it.
                stopped = _terminate(info)
            self.remove_state(info.instance_id)
            return stopped

    # ------------------------------------------------------------------ stopping on its own

    def should_stop(self, instance_id: str, idle_for: float, idle_seconds: float) -> bool:
        """Whether sandbox `instance_id` may stop now: no app attached, no saved run still
        needs it, idle for `idle_seconds` or more. When it may, its state file is removed
        before the lock is let go, so no app can find it any more.
        """
        if idle_for < idle_seconds:
            return False
        with self.locked():
            if self.in_use() or self.needed_by_runs(instance_id):
                return False
            self.remove_state(instance_id)
            return True

    def needed_by_runs(self, instance_id: str) -> bool:
        """Whether a saved run made in sandbox `instance_id` still has something going or
        held in it (a job not seen ending, a custom model, something serving). A registry
        that cannot be read counts as needing it: the sandbox cannot tell."""
        from core.registry import Registry, RegistryError
        from core.run.status import holds_sandbox_world

        try:
            runs = Registry(self.directory).runs()
        except RegistryError:
            return True
        return any(r.run.sandbox_id == instance_id and holds_sandbox_world(r.run) for r in runs)


def _terminate(info: SandboxInfo) -> bool:
    """Send SIGTERM to another process's sandbox (never to this process)."""
    if info.pid == os.getpid() or info.pid <= 0:
        return False
    try:
        os.kill(info.pid, signal.SIGTERM)
    except OSError:
        return False
    return True


# ---------------------------------------------------------------------- starters


class ProcessStarter:
    """Starts the sandbox as a detached process (`python -m core.sandbox.daemon`)."""

    def __init__(
        self,
        *,
        idle_seconds: float = 600.0,
        check_seconds: float = 15.0,
        ready_timeout: float = READY_TIMEOUT,
    ) -> None:
        """Args:
        idle_seconds: how long the sandbox stays up with nothing needing it.
        check_seconds: how often it looks.
        ready_timeout: how long it may take to start.
        """
        self.idle_seconds = idle_seconds
        self.check_seconds = check_seconds
        self.ready_timeout = ready_timeout

    def command(self, home: SandboxHome, instance_id: str) -> list[str]:
        """The command line of the sandbox process."""
        return [
            sys.executable,
            "-m",
            "core.sandbox.daemon",
            "--state-dir",
            str(home.directory),
            "--instance",
            instance_id,
            "--idle-seconds",
            str(self.idle_seconds),
            "--check-seconds",
            str(self.check_seconds),
        ]

    def start(self, home: SandboxHome, instance_id: str) -> SandboxInfo:
        """Start the process and wait until it says it listens."""
        import core

        # The process imports this very copy of bedrock-tune, wherever it was imported from.
        root = str(Path(core.__file__).resolve().parent.parent)
        paths = [root, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
        home.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        log_path = home.directory / LOG_FILE
        log = os.fdopen(os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab")
        detach: dict[str, Any] = (
            {"start_new_session": True}
            if os.name == "posix"
            else {"creationflags": getattr(subprocess, "DETACHED_PROCESS", 0)}
        )
        with log:
            process = subprocess.Popen(
                self.command(home, instance_id),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                cwd=home.directory,
                env=env,
                close_fds=True,
                **detach,
            )
        _CHILDREN.append(process)  # not reaped (and warned about) while it runs
        ready = _first_line(process, self.ready_timeout)
        if not ready.startswith("ready"):
            raise SandboxError(
                "The sandbox did not start." + _log_tail(log_path),
                hint=f"Its log is {log_path}. Run `bedrock-tune sandbox` in a terminal to see "
                "it start, or pick an AWS profile instead.",
            )
        info = home.read_state()
        if info is None or info.instance_id != instance_id:
            raise SandboxError(
                f"The sandbox started but did not record itself in {home.state_path}.",
                hint="Check that the folder is writable, or point BEDROCK_TUNE_STATE_DIR "
                "elsewhere.",
            )
        return info

    def stop(self, info: SandboxInfo) -> bool:
        """Processes are stopped with a signal (`SandboxHome.stop`): nothing to do here."""
        return False


_CHILDREN: list[subprocess.Popen[bytes]] = []
"""The sandbox processes this process started."""


def _first_line(process: subprocess.Popen[bytes], timeout: float) -> str:
    """The first line the process prints; '' when it ends first, or when `timeout` passes
    first (the process is then killed)."""
    lines: list[bytes] = []
    stream = process.stdout
    if stream is None:  # pragma: no cover - always a pipe here
        return ""
    reader = threading.Thread(target=lambda: lines.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if reader.is_alive():
        with contextlib.suppress(OSError):
            process.kill()  # the read then ends with the pipe
        reader.join()
    stream.close()
    return lines[0].decode(errors="replace").strip() if lines else ""


def _log_tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return (" It said: " + " / ".join(text[-lines:])) if text else ""


class _ServedHere:
    """The sandboxes this process serves from a thread (`ThreadStarter`), by instance id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sandboxes: dict[str, Sandbox] = {}

    def add(self, sandbox: Sandbox) -> None:
        with self._lock:
            self._sandboxes[sandbox.instance_id] = sandbox

    def get(self, instance_id: str) -> Sandbox | None:
        with self._lock:
            return self._sandboxes.get(instance_id)

    def stop(self, info: SandboxInfo) -> bool:
        with self._lock:
            sandbox = self._sandboxes.pop(info.instance_id, None)
        if sandbox is None:
            return False
        sandbox.stop()
        return True


_SERVED_HERE = _ServedHere()


def served_here(instance_id: str) -> Sandbox | None:
    """The in-process sandbox `instance_id` (ThreadStarter's), or None."""
    return _SERVED_HERE.get(instance_id)


class ThreadStarter:
    """Serves the shared sandbox from a thread of this process (tests inject a clock this way):
    it outlives an App, not the process."""

    def __init__(self, factory: Callable[[], Sandbox] = Sandbox) -> None:
        self._factory = factory

    def start(self, home: SandboxHome, instance_id: str) -> SandboxInfo:
        """Start `factory()` in a thread and record it in `sandbox.json`."""
        sandbox = self._factory()
        sandbox.instance_id = instance_id
        sandbox.start()
        info = SandboxInfo(
            instance_id=instance_id,
            pid=os.getpid(),
            host=sandbox.host,
            port=sandbox.port,
            region=sandbox.region,
            started=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        home.write_state(info)
        _SERVED_HERE.add(sandbox)
        return info

    def stop(self, info: SandboxInfo) -> bool:
        """Stop it if this process serves it."""
        return _SERVED_HERE.stop(info)
