"""Ctrl+G in the launch and infrastructure steps shows the run as code at 80x24, keyboard only:
formats switch with the arrow keys, `c` copies it all, Ctrl+S saves it, Escape closes."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from textual.widgets import Input, TextArea

from core.export import export_text
from core.sandbox.server import Sandbox
from screens.base import LaunchOptions
from screens.export import ExportScreen
from screens.launch import LaunchScreen
from tests.tui.helpers import settle
from tui.app import BedrockTuneApp

NOVA = "amazon.nova-micro-v1:0:128k"


def _shown(app: BedrockTuneApp) -> str:
    return app.screen.query_one("#export-text", TextArea).text


def _fits(app: BedrockTuneApp, selector: str) -> None:
    """The widget is on screen, whole, at the terminal's size."""
    region = app.screen.query_one(selector).region
    assert region.height > 0 and app.screen.region.contains_region(region), (selector, region)


async def test_the_export_dialog_from_the_launch_and_infrastructure_steps(
    tmp_path: Path,
) -> None:
    app = BedrockTuneApp(LaunchOptions(sandbox=True), sandbox_factory=Sandbox)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        data = tmp_path / "data"
        data.mkdir()
        (data / "train.jsonl").write_text('{"prompt": "a", "completion": "b"}\n')
        app.update_run(
            replace(
                app.wizard_run,
                base_model_id=NOVA,
                hyperparameters={"epochCount": "3"},
                prepared_dir=str(data),
            )
        )
        app.go_to_step("launch")
        await settle(pilot, lambda: app.screen.query("#hp-epochCount").first(Input).value == "3")
        launch = app.screen

        await pilot.press("ctrl+g")
        await settle(pilot, lambda: isinstance(app.screen, ExportScreen))
        for selector in ("#export-formats", "#export-text", "#export-path"):
            _fits(app, selector)
        assert isinstance(launch, LaunchScreen)
        run = launch.form_run()
        assert _shown(app) == export_text(run, "boto3")
        assert '"epochCount": "3"' in _shown(app)
        account = app.wizard_run.account_id
        assert account is not None and account not in _shown(app)

        await pilot.press("right")  # the next format: the AWS CLI script
        await settle(pilot, lambda: _shown(app).startswith("#!/usr/bin/env bash"))
        assert _shown(app) == export_text(run, "cli")

        await pilot.press("c")
        assert app.clipboard == export_text(run, "cli")

        # Save: Tab to the file field (past the text), type a path, Ctrl+S.
        target = tmp_path / "run.sh"
        path_field = app.screen.query_one("#export-path", Input)
        for _ in range(5):
            if path_field.has_focus:
                break
            await pilot.press("tab")
        assert path_field.has_focus
        await pilot.press("end", "ctrl+u", *str(target), "ctrl+s")
        await settle(pilot, lambda: target.exists())
        assert target.read_text() == export_text(run, "cli")
        assert os.access(target, os.X_OK)
        # An existing file is replaced only when asked twice.
        target.write_text("mine")
        await pilot.press("ctrl+s")
        assert target.read_text() == "mine"
        await pilot.press("ctrl+s")
        assert target.read_text() == export_text(run, "cli")

        await pilot.press("escape")
        await settle(pilot, lambda: app.screen is launch)

        app.go_to_step("infrastructure")
        await settle(pilot, lambda: getattr(app.screen, "STEP_ID", "") == "infrastructure")
        await pilot.press("ctrl+g")
        await settle(pilot, lambda: isinstance(app.screen, ExportScreen))
        assert _shown(app) == export_text(app.wizard_run, "boto3")
        await pilot.press("escape")
