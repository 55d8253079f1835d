"""What the prompt mode holds while it walks a route: the run (saved to the registry after every
change, as the app saves it, so the app and `--resume` find it), the AWS context, the shared
sandbox, and where time comes from (injected in tests)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import BedrockTuneError
from core.run import Run
from core.run.status import has_choices
from tui.cli.plain.ask import Asker

if TYPE_CHECKING:
    from core.aws import AwsContext
    from core.registry import Registry
    from core.sandbox.server import Sandbox
    from tui.shared_sandbox import SharedSandbox


class StopFlow(Exception):
    """The person chose to stop here; the run is saved and can be resumed."""


@dataclass(frozen=True)
class PlainOptions:
    """How `bedrock-tune new --plain` was started."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    sandbox: bool = False
    resume: str | None = None
    """The id of a saved run to go on with (None: a new run)."""
    poll_interval: float = 15.0
    """Seconds between the first polls of the job and the deployment (they back off)."""
    recipe: str | None = None
    """Where to save the recipe at the end (None: asked, with a default)."""


@dataclass
class Session:
    """The prompt mode's state (one per `new --plain`)."""

    ask: Asker
    registry: Registry
    options: PlainOptions = field(default_factory=PlainOptions)
    run: Run = field(default_factory=Run)
    context: AwsContext | None = None
    sandbox_factory: Callable[[], Sandbox] | None = None
    """Serve the shared sandbox from a thread of this process (tests); by default it is the
    app's detached sandbox process, which outlives this command like AWS does."""
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    _sandbox: SharedSandbox | None = None

    def update(self, run: Run) -> None:
        """Make `run` the run, and save it in the registry before going on (a launch token, a
        job ARN is never lost). A run that only knows where it works is not recorded yet."""
        self.run = run
        if run.run_id is not None and has_choices(run):
            self.registry.save_run(run.run_id, run)

    def require_context(self) -> AwsContext:
        """The AWS context (the credentials step made it)."""
        if self.context is None:
            raise BedrockTuneError("No AWS context.", hint="Check your credentials first.")
        return self.context

    def shared_sandbox(self) -> SharedSandbox:
        """The app's shared sandbox, held while this command runs."""
        if self._sandbox is None:
            from tui.shared_sandbox import SharedSandbox

            directory: Callable[[], Path] = lambda: self.registry.directory  # noqa: E731
            self._sandbox = SharedSandbox(directory, self.sandbox_factory)
        return self._sandbox

    def close(self) -> None:
        """Let the shared sandbox go (it keeps running for the app and for resume)."""
        if self._sandbox is not None:
            self._sandbox.release()
