"""The shared sandbox: one per state folder, found again by the next app, never two at once,
its files private, and stopping on its own only once nothing needs it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from core.registry import Registry
from core.run import Run
from core.sandbox.background import (
    ProcessStarter,
    SandboxHome,
    SandboxInfo,
    ThreadStarter,
    identify,
    served_here,
)
from core.sandbox.daemon import serve_until_unneeded
from core.sandbox.server import IDENTITY_PATH, Sandbox
from core.statuses import JobStatus
from tests.conftest import REPO


class CountingFactory:
    """Makes in-process sandboxes and counts them."""

    def __init__(self) -> None:
        self.made = 0

    def __call__(self) -> Sandbox:
        self.made += 1
        return Sandbox()


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state"


def test_the_state_file_is_private_and_names_a_sandbox_that_answers(state: Path) -> None:
    home = SandboxHome(state, ThreadStarter())
    lease = home.ensure()
    assert lease is not None
    try:
        assert (state.stat().st_mode & 0o777) == 0o700
        for name in ("sandbox.json", "sandbox.lock", "sandbox.users"):
            assert ((state / name).stat().st_mode & 0o777) == 0o600, name
        info = home.read_state()
        assert info == lease.info and info.pid == os.getpid()
        assert identify(info.endpoint_url) == info.instance_id
        assert home.running() == info
    finally:
        lease.release()
        home.stop()


def test_the_next_app_reuses_the_running_sandbox(state: Path) -> None:
    factory = CountingFactory()
    first = SandboxHome(state, ThreadStarter(factory)).ensure()
    assert first is not None
    first.release()  # the first app ended
    second = SandboxHome(state, ThreadStarter(factory)).ensure()
    assert second is not None
    assert second.info == first.info and factory.made == 1
    second.release()
    SandboxHome(state).stop()
    assert SandboxHome(state).running() is None
    assert served_here(first.info.instance_id) is None


def test_two_apps_starting_at_once_share_one_sandbox(state: Path) -> None:
    factory = CountingFactory()
    ready = threading.Barrier(4)
    infos: list[SandboxInfo] = []

    def app() -> None:
        home = SandboxHome(state, ThreadStarter(factory))  # each app has its own
        ready.wait()
        lease = home.ensure()
        assert lease is not None
        infos.append(lease.info)

    threads = [threading.Thread(target=app) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert factory.made == 1 and len(set(infos)) == 1
    SandboxHome(state).stop()


def test_a_stale_state_file_is_replaced(state: Path) -> None:
    home = SandboxHome(state, ThreadStarter())
    state.mkdir(mode=0o700)
    stale = SandboxInfo("old000000000", 999_999, "127.0.0.1", 9, "us-east-1", "2025-01-01")
    home.write_state(stale)
    assert home.running() is None  # nothing answers at port 9
    assert home.ensure(start=False) is None
    assert home.read_state() is None  # removed
    lease = home.ensure()
    assert lease is not None and lease.info.instance_id != stale.instance_id
    lease.release()
    home.stop()


def test_a_damaged_state_file_reads_as_none(state: Path) -> None:
    state.mkdir(mode=0o700)
    (state / "sandbox.json").write_text("{not json")
    assert SandboxHome(state).read_state() is None
    (state / "sandbox.json").write_text('{"version": 99}')
    assert SandboxHome(state).read_state() is None


def test_the_identity_answer_needs_its_header() -> None:
    with Sandbox() as sandbox:
        assert identify(sandbox.endpoint_url) == sandbox.instance_id
        # A plain GET (what a web page could send without a preflight) gets no answer.
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(sandbox.endpoint_url + IDENTITY_PATH, timeout=5)
        assert refused.value.code in (400, 403)
    assert identify("http://127.0.0.1:9") is None


def sandbox_run(
    instance: str, job_arn: str | None = None, job_status: JobStatus | None = None
) -> Run:
    return Run(
        run_id="r1",
        target="sandbox",
        region="us-east-1",
        sandbox_id=instance,
        job_arn=job_arn,
        job_status=job_status,
    )


def test_it_may_stop_only_when_no_app_uses_it_no_run_needs_it_and_it_is_idle(
    state: Path,
) -> None:
    home = SandboxHome(state, ThreadStarter())
    lease = home.ensure()
    assert lease is not None
    instance = lease.info.instance_id
    registry = Registry(state)
    try:
        assert home.in_use()
        assert not home.should_stop(instance, idle_for=10_000, idle_seconds=600)  # an app
        lease.release()
        assert not home.in_use()
        assert not home.should_stop(instance, idle_for=599, idle_seconds=600)  # not idle yet
        registry.save_run("r1", sandbox_run(instance, job_arn="arn:job"))  # a job going on
        assert not home.should_stop(instance, idle_for=10_000, idle_seconds=600)
        registry.save_run(
            "r1", sandbox_run(instance, job_arn="arn:job", job_status=JobStatus.COMPLETED)
        )
        registry.save_run("r2", sandbox_run("another-one", job_arn="arn:job"))  # not this one's
        assert home.read_state() is not None
        assert home.should_stop(instance, idle_for=10_000, idle_seconds=600)
        assert home.read_state() is None  # nobody can find it any more
    finally:
        left = served_here(instance)
        if left is not None:
            left.stop()


def test_a_registry_it_cannot_read_keeps_it_running(state: Path) -> None:
    home = SandboxHome(state, ThreadStarter())
    lease = home.ensure()
    assert lease is not None
    lease.release()
    (state / "registry.json").write_text("{damaged")
    assert home.needed_by_runs(lease.info.instance_id)
    assert not home.should_stop(lease.info.instance_id, idle_for=10_000, idle_seconds=0)
    home.stop()


class CountedWaits(threading.Event):
    """An event whose `wait` returns at once, and True (stop) after `limit` calls."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.calls = 0
        self.limit = limit

    def wait(self, timeout: float | None = None) -> bool:
        self.calls += 1
        return self.calls > self.limit


def test_the_serving_loop_ends_once_nothing_needs_the_sandbox(state: Path) -> None:
    home = SandboxHome(state, ThreadStarter())
    lease = home.ensure()
    assert lease is not None
    sandbox = served_here(lease.info.instance_id)
    assert sandbox is not None
    clock = [sandbox.last_request + 100.0]
    held = CountedWaits(limit=5)
    serve_until_unneeded(
        home, sandbox, held, idle_seconds=50, check_seconds=1, monotonic=lambda: clock[0]
    )
    assert held.calls == 6 and home.read_state() is not None  # an app held it: kept
    lease.release()
    free = CountedWaits(limit=5)
    serve_until_unneeded(
        home, sandbox, free, idle_seconds=50, check_seconds=1, monotonic=lambda: clock[0]
    )
    assert free.calls == 1 and home.read_state() is None  # stopped at the first look
    sandbox.stop()


# ---------------------------------------------------------------------- real processes

ENSURE = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from core.sandbox.background import SandboxHome
    lease = SandboxHome(Path(sys.argv[1])).ensure()
    print(lease.info.instance_id, lease.info.pid, flush=True)
    """
)


def ensure_in_processes(state: Path, count: int) -> list[tuple[str, int]]:
    """Run `count` processes that each ensure the shared sandbox at once and exit."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", ENSURE, str(state)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    found = []
    for process in processes:
        out, errors = process.communicate(timeout=180)
        assert process.returncode == 0, errors
        instance, pid = out.split()
        found.append((instance, int(pid)))
    return found


def test_two_processes_share_one_sandbox_process_that_outlives_them(state: Path) -> None:
    found = ensure_in_processes(state, 2)
    assert len(set(found)) == 1
    instance, pid = found[0]
    info = SandboxHome(state).running()
    assert info is not None and (info.instance_id, info.pid) == (instance, pid)
    assert pid != os.getpid()  # a process of its own, alive after both apps ended
    assert SandboxHome(state).stop()
    assert SandboxHome(state).read_state() is None
    deadline = time.monotonic() + 60
    while identify(info.endpoint_url) is not None:  # SIGTERM: it closes its port and ends
        assert time.monotonic() < deadline, "the sandbox process did not stop"
        time.sleep(0.1)


def test_the_process_starter_reports_a_sandbox_that_cannot_start(state: Path) -> None:
    class Broken(ProcessStarter):
        def command(self, home: SandboxHome, instance_id: str) -> list[str]:
            return [sys.executable, "-c", "import sys; sys.stderr.write('no moto here'); exit(3)"]

    from core.sandbox.server import SandboxError

    with pytest.raises(SandboxError) as failed:
        SandboxHome(state, Broken()).ensure()
    assert "did not start" in failed.value.message and "no moto here" in failed.value.message
    assert str(state / "sandbox.log") in failed.value.hint
