"""Fixtures of the CLI tests."""

from __future__ import annotations

import pytest

from core.aws import AwsContext
from core.sandbox.server import Sandbox
from tests.fakes import Clock, context_for, export_sandbox


@pytest.fixture
def clocked_teardown(sandbox: Sandbox, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> AwsContext:
    """The sandbox, which the CLI reaches through the environment, with `teardown`'s waits for
    stopped jobs on `clock` (its sleeps move it); a context on the sandbox, to set the scene."""
    export_sandbox(sandbox, monkeypatch)
    monkeypatch.setattr("tui.cli.teardown.sleep", clock.sleep)
    monkeypatch.setattr("tui.cli.teardown.monotonic", clock)
    return context_for(sandbox)
