"""Snapshots of the import-only route's own steps in the sandbox, walked with the keyboard: the
model source (what Custom Model Import takes, a folder that is not there), the import check (a
model with problems, then ready) and the import (the request and its cost, running, completed)."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import core.pricing.cache
import core.sandbox.imports
import screens.import_model
from core.importing.tiny import write_tiny_model
from core.naming import default_import_job_name
from core.run import Route
from core.sandbox.server import SANDBOX_ACCOUNT_ID, Sandbox
from core.statuses import ImportStatus
from screens.base import LaunchOptions
from screens.widgets.error_panel import ErrorPanel
from tests.fakes import Clock
from tests.snapshots.conftest import DRIVE_SIZE, FIXED_NOW, Shots
from tests.tui.helpers import settle, text_of
from tui.app import BedrockTuneApp

BUCKET = f"bedrock-tune-{SANDBOX_ACCOUNT_ID}-us-east-1"
ROLE = f"arn:aws:iam::{SANDBOX_ACCOUNT_ID}:role/bedrock-tune-import-us-east-1"
IMPORT_SECONDS = 40.0


class _FixedDatetime(datetime):
    """`datetime` whose `now()` is `FIXED_NOW` (when the sandbox's import started)."""

    @classmethod
    def now(cls, tz: Any = None) -> _FixedDatetime:
        return cls.fromtimestamp(FIXED_NOW.timestamp(), tz)


@pytest.fixture(autouse=True)
def fixed_import(monkeypatch: pytest.MonkeyPatch) -> None:
    """The import job's name, ARNs and start, the time it is seen at, and the Price List's
    date, fixed."""
    monkeypatch.setattr(
        screens.import_model,
        "default_import_job_name",
        lambda name, now=None: default_import_job_name(name, FIXED_NOW),
    )
    counter = itertools.count(1)
    monkeypatch.setattr(
        core.sandbox.imports, "uuid", SimpleNamespace(uuid4=lambda: uuid.UUID(int=next(counter)))
    )
    monkeypatch.setattr(core.sandbox.imports, "datetime", _FixedDatetime)
    monkeypatch.setattr(
        screens.import_model, "time", SimpleNamespace(time=lambda: FIXED_NOW.timestamp() + 60)
    )
    monkeypatch.setattr(
        core.pricing.cache.CachedAnswer,
        "as_of",
        property(lambda self: FIXED_NOW.date().isoformat()),
    )


async def test_model_source_check_and_import(
    workdir: Path, shots: Shots, sandbox_port: int
) -> None:
    clock = Clock(1_750_000_000.0)
    app = BedrockTuneApp(
        LaunchOptions(sandbox=True, poll_interval=0.05),
        sandbox_factory=lambda: Sandbox(
            port=sandbox_port, import_seconds=IMPORT_SECONDS, clock=clock
        ),
    )
    # A model saved with too long a context and without its tokenizer.
    folder = write_tiny_model(workdir / "sql-llama-merged", context_length=1_000_000)
    (folder / "tokenizer.json").unlink()
    async with app.run_test(size=DRIVE_SIZE) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        app.update_run(replace(app.wizard_run, route=Route.IMPORT_ONLY))
        app.go_to_step("model-source")
        await settle(pilot, lambda: app.current_step == "model-source")
        await settle(pilot)
        await shots(pilot, "model-source")

        await pilot.press(*str(workdir / "nowhere"), "enter")
        await settle(pilot, lambda: app.screen.query_one(ErrorPanel).error is not None)
        await shots(pilot, "model-source-missing")
        await pilot.press("ctrl+u", *str(folder), "ctrl+n")  # Ctrl+N uses the source
        await settle(pilot, lambda: app.current_step == "import-check")
        await settle(pilot, lambda: "Not importable" in text_of(app, "#check-verdict"))
        await settle(pilot)
        await shots(pilot, "import-check-problems")
        await pilot.press("ctrl+n")  # not while the model has problems
        await pilot.pause()
        assert app.current_step == "import-check"

        write_tiny_model(folder)  # fixed: the tokenizer back, a context Bedrock takes
        await pilot.press("ctrl+r")
        await settle(pilot, lambda: "Ready to import" in text_of(app, "#check-verdict"))
        await settle(pilot)
        await shots(pilot, "import-check-ready")
        await pilot.press("ctrl+n")
        await settle(pilot, lambda: app.current_step == "infrastructure")

        # ---------------------------------------------------------------- import
        context = app.aws_context()
        assert context is not None
        context.client("s3").create_bucket(Bucket=BUCKET)
        app.update_run(replace(app.wizard_run, bucket=BUCKET, role_arn=ROLE))
        app.go_to_step("import")
        await settle(pilot, lambda: app.current_step == "import")
        await settle(pilot, lambda: "(Price List API, " in text_of(app, "#import-cost"))
        await settle(pilot)
        await shots(pilot, "import")
        await pilot.press("ctrl+l")
        await settle(pilot, lambda: "InProgress" in text_of(app, "#import-status"), rounds=1000)
        await settle(pilot)
        await shots(pilot, "import-running")
        clock.t += IMPORT_SECONDS + 1
        await settle(
            pilot, lambda: app.wizard_run.import_status is ImportStatus.COMPLETED, rounds=1000
        )
        await settle(pilot, lambda: "Model units" in text_of(app, "#import-model"))
        await settle(pilot)
        await shots(pilot, "import-completed")
        await pilot.press("ctrl+n")
        await settle(pilot, lambda: app.current_step == "chat")
