"""Shared fixtures. Every test runs with an isolated, credential-free AWS environment: no real
profile, key or token on the machine can reach a test, and no test can reach AWS."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import textual._wait as textual_wait
import textual.constants as textual_constants

from core.aws import AwsContext
from core.sandbox.server import Sandbox
from tests.fakes import Clock, SandboxSetup, context_for, export_sandbox
from tests.tui.drawing import draw_only_when_looked_at

# Textual's Pilot waits after each key press and `pause()` until the process looks idle: it sleeps
# in 20 ms slices until one passes with under 1 ms of CPU, so every press costs at least 20 ms
# even when the app settled in 2 ms (a walk through the wizard presses hundreds of keys). Slices
# of 5 ms with the same CPU ratio (1/20) keep the meaning of "idle" and make each wait 4x shorter.
textual_wait.SLEEP_GRANULARITY = 1 / 200
textual_wait.SLEEP_IDLE = textual_wait.SLEEP_GRANULARITY / 20.0
# Apps under test move without animations (TEXTUAL_ANIMATIONS=none, read when an App is made):
# a scroll or a highlight lands at once instead of over frames that cost CPU and only delay
# the state a test waits for (the suite spends most of its time drawing). Shots were always
# taken once animations ended, so they are the same.
setattr(textual_constants, "TEXTUAL_ANIMATIONS", "none")  # noqa: B010 (Final in Textual)
# Headless apps draw their screen when a test looks at it, not 60 times a second for no one
# (tests/tui/drawing.py).
draw_only_when_looked_at()


@pytest.hookimpl(tryfirst=True, optionalhook=True)  # xdist's hook; known without xdist too
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto` (make test): two workers per core, at most 16.

    A test spends about a quarter of its time waiting (the sandbox's job timings, the CLI's
    processes, an app waiting for its workers), so one worker per core leaves the cores idle that
    long: on 2 cores the suite took 240 s with 2 workers, 183-202 s with 4, and no less with 6.
    PYTEST_XDIST_AUTO_NUM_WORKERS still sets the number (xdist's own hook reads it).
    """
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return min(2 * (cores or 1), 16)


REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
DIALOGSUM = SHARED / "data" / "dialogsum"


@pytest.fixture(autouse=True)
def isolated_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Remove every AWS_* variable and point the AWS files at empty ones under tmp_path.

    Returns the fake home directory (its `.aws/` holds `config` and `credentials`).
    """
    for name in list(os.environ):
        if name.startswith("AWS_") or name in {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"}:
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    aws = home / ".aws"
    aws.mkdir(parents=True)
    (aws / "config").write_text("")
    (aws / "credentials").write_text("")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(aws / "credentials"))
    # Never ask the instance metadata service (a link-local address) for credentials.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("BEDROCK_TUNE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("BEDROCK_TUNE_DATA_DIR", str(tmp_path / "data"))
    return home


@pytest.fixture(autouse=True)
def no_shared_sandbox_left(tmp_path: Path) -> Iterator[None]:
    """Stop the shared sandbox a test's app started (it outlives apps by design, not tests)."""
    yield
    state = tmp_path / "state"
    if (state / "sandbox.json").exists():
        from core.sandbox.background import SandboxHome

        SandboxHome(state).stop()


@pytest.fixture
def aws_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake access keys in the environment (moto accepts any)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def clock() -> Clock:
    """The clock the `sandbox` fixture's jobs and deployments play out by; move it by hand."""
    return Clock(1_000.0)


@pytest.fixture
def sandbox_setup() -> SandboxSetup:
    """How the `sandbox` fixture behaves: override this fixture in a module to change it."""
    return SandboxSetup()


@pytest.fixture
def sandbox(clock: Clock, sandbox_setup: SandboxSetup) -> Iterator[Sandbox]:
    """A sandbox of its own (a free port, empty) on the test's `clock`."""
    with Sandbox(
        job_seconds=sandbox_setup.job_seconds,
        ready_seconds=sandbox_setup.ready_seconds,
        region=sandbox_setup.region,
        list_page_size=sandbox_setup.list_page_size,
        clock=clock,
    ) as running:
        yield running


@pytest.fixture
def sandbox_context(sandbox: Sandbox) -> AwsContext:
    """A context that calls the `sandbox` fixture directly."""
    return context_for(sandbox)


@pytest.fixture
def exported_sandbox(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """The `sandbox` fixture, reached through the environment (AWS_ENDPOINT_URL, keys) as the CLI
    and the app reach `bedrock-tune sandbox`."""
    export_sandbox(sandbox, monkeypatch)
    return sandbox


WriteAwsFiles = Callable[..., None]


@pytest.fixture
def write_aws_config(isolated_aws: Path) -> WriteAwsFiles:
    """A function `write(config="", credentials="")` for the fake ~/.aws files."""

    def write(config: str = "", credentials: str = "") -> None:
        (isolated_aws / ".aws" / "config").write_text(config)
        (isolated_aws / ".aws" / "credentials").write_text(credentials)

    return write


def needs_shared() -> pytest.MarkDecorator:
    """Skip a test when ../shared (CI's test data) is not beside the checkout."""
    return pytest.mark.skipif(
        not DIALOGSUM.is_dir(),
        reason=f"needs the shared test data in {DIALOGSUM} (present in CI, not in a user's clone)",
    )
