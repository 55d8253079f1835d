"""What the snapshot tests start from: the data files, the app in the sandbox on a fixed clock,
a prepared run, and typing into a field like a user."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from textual.pilot import Pilot

from core.catalog.lookup import find_model
from core.data.prepare import PrepareOptions, prepare
from core.data.sources import SourceSpec
from core.data.templates import PRESETS, template_to_toml
from core.sandbox.server import Sandbox
from screens.base import LaunchOptions
from tests.fakes import Clock
from tui.app import BedrockTuneApp

NOVA = "amazon.nova-micro-v1:0:128k"
"""Nova Micro: offered in the sandbox's us-east-1, deployed on demand."""
JOB_SECONDS = 10.0
READY_SECONDS = 30.0


def write_dialogs(folder: Path, rows: int = 80) -> None:
    """`dialogs.jsonl` (dialogue / summary records) and `bad.jsonl` (not what Nova reads)."""
    lines = [
        {"dialogue": f"#Person1#: Hello {i}.\n#Person2#: Hi {i}.", "summary": f"They greet {i}."}
        for i in range(rows)
    ]
    (folder / "dialogs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    bad = [{"prompt": f"question {i}", "completion": f"answer {i}"} for i in range(40)]
    (folder / "bad.jsonl").write_text("".join(json.dumps(r) + "\n" for r in bad) + "{oops\n")


def sandbox_app(clock: Clock, port: int) -> BedrockTuneApp:
    """The app in its own sandbox on `port`, whose jobs and deployments play out on
    `clock`."""
    return BedrockTuneApp(
        LaunchOptions(sandbox=True, poll_interval=0.05),
        sandbox_factory=lambda: Sandbox(
            port=port, job_seconds=JOB_SECONDS, ready_seconds=READY_SECONDS, clock=clock
        ),
    )


def prepare_run(app: BedrockTuneApp, folder: Path) -> None:
    """The run as the first steps leave it: Nova Micro, dialogs.jsonl through the
    dialogue-summary template, prepared (40 / 8 / 8) into `folder/prepared` and validated."""
    write_dialogs(folder)
    template = PRESETS["dialogue-summary"]
    out = folder / "prepared"
    source = SourceSpec(str(folder / "dialogs.jsonl"))
    prepare(source, template, find_model(NOVA), out, PrepareOptions(train=40, validation=8, test=8))
    app.update_run(
        replace(
            app.wizard_run,
            base_model_id=NOVA,
            source_location=source.location,
            template_toml=template_to_toml(template),
            train_size=40,
            validation_size=8,
            test_size=8,
            prepared_dir=str(out),
            validated_ok=True,
            validated_dir=str(out),
        )
    )


async def retype(pilot: Pilot[None], selector: str, text: str) -> None:
    """Click the field, empty it and type `text`, as a user would."""
    await pilot.click(selector)
    await pilot.press("end", "ctrl+u", *text)
