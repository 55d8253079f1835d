"""Snapshots of the first steps, walked with the keyboard in the sandbox: credentials, model,
dataset, template, prepare and validate, each in its main state and its error states."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input

from screens.widgets.error_panel import ErrorPanel
from tests.fakes import Clock
from tests.snapshots.conftest import DRIVE_SIZE, Shots
from tests.snapshots.world import NOVA, retype, sandbox_app, write_dialogs
from tests.tui.helpers import settle, text_of


async def test_credentials_to_validate(workdir: Path, shots: Shots, sandbox_port: int) -> None:
    write_dialogs(workdir)
    app = sandbox_app(Clock(1_750_000_000.0), sandbox_port)
    async with app.run_test(size=DRIVE_SIZE) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        await settle(pilot)
        await shots(pilot, "credentials")

        # ------------------------------------------------------------------ model
        await pilot.press("ctrl+n")
        await settle(pilot, lambda: app.current_step == "model")
        models = app.screen.query_one("#models", DataTable)
        await settle(
            pilot, lambda: models.row_count > 0 and "offered" in text_of(app, "#models-status")
        )
        await shots(pilot, "model")
        await pilot.press("end")  # the last rows: models this region does not offer
        await settle(pilot)
        await shots(pilot, "model-unavailable")
        await pilot.press("home", *["down"] * models.get_row_index(NOVA))
        await pilot.press("enter")
        await settle(pilot, lambda: app.current_step == "dataset")

        # ------------------------------------------------------------------ dataset
        await pilot.press(*"missing.jsonl", "enter")
        await settle(pilot, lambda: app.screen.query_one(ErrorPanel).error is not None)
        await shots(pilot, "dataset-missing")
        await pilot.press("ctrl+u", *"dialogs.jsonl", "enter")
        await settle(pilot, lambda: app.screen.query_one("#records", DataTable).row_count > 0)
        await shots(pilot, "dataset")
        await pilot.press("ctrl+b")
        await settle(pilot)
        await shots(pilot, "dataset-browser")
        await pilot.press("escape")
        await settle(pilot, lambda: app.screen.query_one("#source", Input).has_focus)

        # ------------------------------------------------------------------ template
        await pilot.press("ctrl+n")
        await settle(pilot, lambda: app.current_step == "template")
        await settle(pilot, lambda: "messages" in text_of(app, "#rendered"))
        await shots(pilot, "template")
        await pilot.click("#user")
        await pilot.press("ctrl+e", *" {nope}")
        await settle(pilot, lambda: "names no column" in text_of(app, "#problems"))
        await shots(pilot, "template-problem")
        await pilot.press(*["backspace"] * len(" {nope}"))
        await settle(pilot, lambda: "fits this record" in text_of(app, "#problems"))
        await pilot.press("ctrl+n")
        await settle(pilot, lambda: app.current_step == "prepare")

        # ------------------------------------------------------------------ prepare
        await settle(pilot, lambda: app.screen.query_one("#train", Input).value != "")
        await shots(pilot, "prepare")
        await retype(pilot, "#train", "0")
        await settle(pilot, lambda: "at least" in text_of(app, "#size-problems"))
        await shots(pilot, "prepare-too-few")
        for field, size in (("#train", "40"), ("#validation", "8"), ("#test", "8")):
            await retype(pilot, field, size)
        await pilot.press("ctrl+r")
        await settle(pilot, lambda: app.wizard_run.prepared_dir is not None, rounds=1000)
        await settle(pilot)
        await shots(pilot, "prepared")

        # ------------------------------------------------------------------ validate
        await pilot.press("ctrl+n")
        await settle(pilot, lambda: app.current_step == "validate")
        await settle(pilot, lambda: app.wizard_run.validated_ok is not None, rounds=1000)
        await shots(pilot, "validate")
        await retype(pilot, "#validate-train", "bad.jsonl")
        await pilot.press("enter")
        await settle(pilot, lambda: "Not valid" in text_of(app, "#validate-status"))
        await settle(pilot)
        await shots(pilot, "validate-problems")
