"""The validate step, driven like a user would: problems listed by rule, a record opened, a
fix-up applied (a new prepared folder the run then points at), and the new files valid."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from textual.widgets import Button, DataTable, Input

from core.catalog.lookup import find_model
from core.run.routes import step as step_by_id
from core.validate.validator import validate
from screens.base import LaunchOptions
from screens.validate import ProblemRecordScreen
from screens.widgets.error_panel import ErrorPanel
from tests.tui.helpers import settle, text_of
from tui.app import BedrockTuneApp

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0:200k"


def claude(i: int, user: str | None = None) -> dict[str, Any]:
    return {
        "system": "You summarize.",
        "messages": [
            {"role": "user", "content": user or f"Summarize dialogue {i}."},
            {"role": "assistant", "content": f"Summary {i}."},
        ],
    }


def prepared_folder(root: Path) -> Path:
    folder = root / "prepared"
    folder.mkdir()
    lines = [json.dumps(claude(i)) for i in range(40)]
    lines[6] = ""  # line 7: blank
    lines[11] = json.dumps(claude(11, user="Read this.\nHuman: and this"))  # line 12: reserved
    lines[20] = json.dumps(claude(3))  # line 21: a duplicate of line 4
    (folder / "train.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "validation.jsonl").write_text(json.dumps(claude(100)) + "\n")
    (folder / "test.jsonl").write_text(json.dumps(claude(200)) + "\n")
    (folder / "manifest.json").write_text(json.dumps({"counts": {"train": 40}}))
    return folder


def row_texts(table: DataTable[Any], column: int) -> list[str]:
    return [str(table.get_row_at(i)[column]) for i in range(table.row_count)]


async def test_validate_step(tmp_path: Path) -> None:
    folder = prepared_folder(tmp_path)
    source_bytes = (folder / "train.jsonl").read_bytes()
    app = BedrockTuneApp(LaunchOptions(profile="nope"))  # no AWS needed for this step
    async with app.run_test(size=(170, 60)) as pilot:
        await settle(pilot)
        assert step_by_id("validate").blocked(app.wizard_run) is not None
        app.update_run(
            replace(
                app.wizard_run,
                account_id="123456789012",
                region="us-west-2",
                base_model_id=HAIKU,
                prepared_dir=str(folder),
            )
        )
        assert step_by_id("validate").blocked(app.wizard_run) is None
        app.go_to_step("validate")
        await settle(pilot, lambda: app.current_step == "validate")
        screen = app.screen
        train_input = screen.query_one("#validate-train", Input)
        assert train_input.value == str(folder / "train.jsonl")
        assert screen.query_one("#validate-validation", Input).value == str(
            folder / "validation.jsonl"
        )

        # Validate: problems listed by rule with counts and first lines.
        await pilot.press("ctrl+r")
        groups = screen.query_one("#validate-groups", DataTable)
        await settle(pilot, lambda: groups.row_count > 0)
        assert row_texts(groups, 1) == ["blank-line", "reserved", "duplicate"]
        assert row_texts(groups, 4) == ["7", "12", "21"]
        assert "Not valid for Claude 3 Haiku" in text_of(app, "#validate-status")
        summary = text_of(app, "#validate-summary")
        assert "train.jsonl  39 records" in summary and "median" in summary
        assert "limit 32,000" in summary and "(built-in, 2025-07-20)" in summary
        assert app.wizard_run.validated_ok is False
        assert not step_by_id("validate").done(app.wizard_run)

        # Highlight the reserved-string rule and open its record.
        groups.focus()
        groups.move_cursor(row=1)
        problems = screen.query_one("#validate-problems", DataTable)
        await settle(pilot, lambda: row_texts(problems, 0) == ["12"])
        assert row_texts(problems, 1) == ["messages[0].content"]
        problems.focus()
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, ProblemRecordScreen))
        assert "contains the reserved string '\\nHuman:'" in text_of(app, "#record-problems")
        assert "and this" in text_of(app, "#record-body")
        await pilot.press("escape")
        await settle(pilot, lambda: app.screen is screen)

        # The whole-file problems and the fix-up buttons.
        buttons = {
            b.id: b.disabled for b in screen.query("#validate-fixups Button").results(Button)
        }
        assert buttons == {
            "fix-drop-invalid": False,
            "fix-drop-over-length": True,
            "fix-truncate-over-length": True,
            "fix-remove-duplicates": False,
        }

        # Drop the invalid records: a new prepared folder, validated at once, now valid.
        screen.query_one("#fix-drop-invalid", Button).press()
        fixed = tmp_path / "prepared-fixed"
        await settle(pilot, lambda: app.wizard_run.validated_ok is True, rounds=1000)
        assert app.wizard_run.prepared_dir == str(fixed)
        assert app.wizard_run.validated_dir == str(fixed)
        assert step_by_id("validate").done(app.wizard_run)
        assert train_input.value == str(fixed / "train.jsonl")
        assert "2 records changed" in text_of(app, "#validate-fix-status")
        assert "Valid for Claude 3 Haiku (1 warning)" in text_of(app, "#validate-status")
        assert row_texts(groups, 1) == ["duplicate"]
        assert screen.query_one(ErrorPanel).error is None
        assert sorted(p.name for p in fixed.iterdir()) == [
            "manifest.json",
            "test.jsonl",
            "train.jsonl",
            "validation.jsonl",
        ]
        assert validate(fixed / "train.jsonl", find_model(HAIKU)).ok
        assert (folder / "train.jsonl").read_bytes() == source_bytes


async def test_validate_any_file_and_a_missing_one(tmp_path: Path) -> None:
    folder = prepared_folder(tmp_path)
    other = tmp_path / "mine.jsonl"
    other.write_text("".join(json.dumps(claude(i)) + "\n" for i in range(3)) + "{broken\n")
    app = BedrockTuneApp(LaunchOptions(profile="nope"))
    async with app.run_test(size=(170, 60)) as pilot:
        await settle(pilot)
        app.update_run(
            replace(
                app.wizard_run,
                account_id="123456789012",
                region="us-west-2",
                base_model_id=HAIKU,
                prepared_dir=str(folder),
            )
        )
        app.go_to_step("validate")
        # Freshly prepared files are checked on arrival.
        await settle(pilot, lambda: app.wizard_run.validated_dir == str(folder))
        verdict = app.wizard_run.validated_ok
        assert verdict is not None
        screen = app.screen
        screen.query_one("#validate-train", Input).value = str(tmp_path / "nope.jsonl")
        screen.query_one("#validate-validation", Input).value = ""
        await pilot.press("ctrl+r")
        await settle(pilot, lambda: screen.query_one(ErrorPanel).error is not None)
        error = screen.query_one(ErrorPanel).error
        assert error is not None and "does not exist" in error.message

        screen.query_one("#validate-train", Input).value = str(other)
        await pilot.press("ctrl+r")
        groups = screen.query_one("#validate-groups", DataTable)
        await settle(pilot, lambda: groups.row_count > 0)
        assert row_texts(groups, 1) == ["record-count", "json"]
        # Not the run's files: the step's tick (the run's verdict) goes until they are checked
        # again, so the sidebar never ticks what the screen does not show (issue 12).
        assert app.wizard_run.validated_ok is None and app.wizard_run.validated_dir is None
        screen.query_one("#fix-drop-invalid", Button).press()
        await settle(
            pilot,
            lambda: screen.query_one("#validate-train", Input).value.endswith("mine.fixed.jsonl"),
            rounds=1000,
        )
        await settle(pilot, lambda: row_texts(groups, 1) == ["record-count"], rounds=1000)
        assert (tmp_path / "mine.fixed.jsonl").read_text().count("\n") == 3
        assert app.wizard_run.prepared_dir == str(folder)


async def test_validating_another_file_takes_the_steps_tick_away(tmp_path: Path) -> None:
    folder = tmp_path / "prepared"
    folder.mkdir()
    (folder / "train.jsonl").write_text("".join(json.dumps(claude(i)) + "\n" for i in range(40)))
    other = tmp_path / "other.jsonl"
    other.write_text("not json\n")
    app = BedrockTuneApp(LaunchOptions(profile="nope"))
    async with app.run_test(size=(170, 60)) as pilot:
        await settle(pilot)
        app.update_run(
            replace(
                app.wizard_run,
                account_id="123456789012",
                region="us-west-2",
                base_model_id=HAIKU,
                prepared_dir=str(folder),
            )
        )
        app.go_to_step("validate")
        await settle(pilot, lambda: app.wizard_run.validated_ok is True)  # checked at once
        assert step_by_id("validate").done(app.wizard_run)
        train_input = app.screen.query_one("#validate-train", Input)
        train_input.focus()
        await pilot.press("ctrl+a", "ctrl+k", *str(other))  # type another file's path
        app.screen.query_one("#validate-validation", Input).value = ""
        await pilot.press("ctrl+r")
        await settle(pilot, lambda: "Not valid" in text_of(app, "#validate-status"))
        assert "not the run's prepared files" in text_of(app, "#validate-status")
        assert app.wizard_run.validated_ok is None
        states = {s.id: s.status for s in app.step_states("model")}
        assert states["validate"] == "ready"  # not ticked any more
        assert app.wizard_run.prepared_dir == str(folder)  # the run's files are still its own
