"""The dataset, template and prepare steps, driven like a user would (in the sandbox)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from textual.widgets import Button, DataTable, Input, TextArea

from screens.base import LaunchOptions
from screens.confirm import ConfirmScreen
from screens.dataset import RecordScreen
from screens.widgets.error_panel import ErrorPanel
from tests.conftest import REPO
from tests.tui.helpers import click_button, settle, text_of
from tui.app import BedrockTuneApp

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0:200k"


def dialogs(path: Path, n: int = 80) -> Path:
    rows = [
        {"dialogue": f"#Person1#: Hello {i}.\n#Person2#: Hi {i}.", "summary": f"They greet {i}."}
        for i in range(n)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


async def test_dataset_template_prepare(tmp_path: Path) -> None:
    data = dialogs(tmp_path / "dialogs.jsonl")
    app = BedrockTuneApp(LaunchOptions(sandbox=True))
    async with app.run_test(size=(170, 60)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        app.update_run(replace(app.wizard_run, base_model_id=HAIKU, region="us-west-2"))
        app.go_to_step("dataset")
        await settle(pilot, lambda: app.current_step == "dataset")
        screen = app.screen

        # A path that does not exist: a clear error, nothing chosen.
        screen.query_one("#source", Input).value = str(tmp_path / "nope.jsonl")
        await pilot.click("#open")
        await settle(pilot, lambda: screen.query_one(ErrorPanel).error is not None)
        error = screen.query_one(ErrorPanel).error
        assert error is not None and "no such file" in error.message
        assert screen.query_one("#use", Button).disabled

        screen.query_one("#source", Input).value = str(data)
        await pilot.press("ctrl+o")  # the keyboard way (the button is still animating)
        await settle(pilot, lambda: screen.query_one("#columns", DataTable).row_count == 2)
        assert "80 rows" in text_of(app, "#dataset-summary")
        assert screen.query_one(ErrorPanel).error is None
        records = screen.query_one("#records", DataTable)
        assert records.row_count == 50
        records.focus()
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, RecordScreen))
        assert "Hello 0" in text_of(app, "#record-json")
        await pilot.press("escape")
        await settle(pilot, lambda: app.screen is screen)
        await click_button(pilot, "#use")
        await settle(pilot, lambda: app.current_step == "template")

        template = app.screen
        await settle(pilot, lambda: "messages" in text_of(app, "#rendered"))
        assert "Hello 0" in text_of(app, "#rendered")
        assert "tokens" in text_of(app, "#record-stats") and "32,000" in text_of(
            app, "#record-stats"
        )
        await pilot.click("#next")
        await settle(pilot, lambda: "Hello 1" in text_of(app, "#rendered"))
        assert "record 2 of 50" in text_of(app, "#record-position")
        user = template.query_one("#user", TextArea)
        user.text = "Summarize: {dialog}"
        await settle(pilot, lambda: "names no column" in text_of(app, "#problems"))
        assert "available: dialogue, summary" in text_of(app, "#problems")
        assert template.query_one("#use", Button).disabled
        user.text = "Summarize: {dialogue}"
        await settle(pilot, lambda: not template.query_one("#use", Button).disabled)
        template.query_one("#toml-path", Input).value = str(tmp_path / "t.toml")
        await pilot.click("#save")
        await settle(pilot, lambda: (tmp_path / "t.toml").exists())
        await click_button(pilot, "#use")
        await settle(pilot, lambda: app.current_step == "prepare")
        assert (
            app.wizard_run.template_toml and "Summarize: {dialogue}" in app.wizard_run.template_toml
        )

        prep = app.screen
        await settle(pilot, lambda: prep.query_one("#train", Input).value != "")
        prep.query_one("#train", Input).value = "40"
        prep.query_one("#validation", Input).value = "10"
        prep.query_one("#test", Input).value = "5"
        prep.query_one("#out-dir", Input).value = str(tmp_path / "out")
        await settle(pilot)
        prep.query_one("#train", Input).value = "20"  # under Haiku's minimum of 32
        await settle(pilot, lambda: "at least 32 records" in text_of(app, "#size-problems"))
        assert prep.query_one("#prepare", Button).disabled
        prep.query_one("#train", Input).value = "40"
        await settle(pilot, lambda: not prep.query_one("#prepare", Button).disabled)
        await click_button(pilot, "#prepare")
        await settle(pilot, lambda: app.wizard_run.prepared_dir is not None)
        out = tmp_path / "out"
        run = app.wizard_run  # the choices are the run's, not only the widgets'
        assert (run.train_size, run.validation_size, run.test_size) == (40, 10, 5)
        assert (run.seed, run.dedupe, run.max_tokens) == (42, True, None)
        assert len((out / "train.jsonl").read_text().splitlines()) == 40
        assert len((out / "test.jsonl").read_text().splitlines()) == 5
        first = json.loads((out / "train.jsonl").read_text().splitlines()[0])
        assert first["messages"][0]["content"].startswith("Summarize: #Person1#")
        before = (out / "train.jsonl").read_bytes()

        # Again: asks before replacing; Cancel leaves the files alone.
        prep.query_one("#seed", Input).value = "7"
        await click_button(pilot, "#prepare")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.click("#confirm-no")
        await settle(pilot, lambda: app.screen is prep)
        assert (out / "train.jsonl").read_bytes() == before


async def test_prepared_files_go_to_the_data_folder_and_a_git_checkout_is_asked_about(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.data.templates import load_template, template_to_toml

    monkeypatch.chdir(REPO)  # started from a checkout, as `make run` does
    data = dialogs(tmp_path / "dialogs.jsonl")
    app = BedrockTuneApp(LaunchOptions(sandbox=True))
    async with app.run_test(size=(170, 60)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        app.update_run(
            replace(
                app.wizard_run,
                base_model_id=HAIKU,
                region="us-west-2",
                source_location=str(data),
                template_toml=template_to_toml(load_template("preset:dialogue-summary")),
            )
        )
        app.go_to_step("prepare")
        await settle(pilot, lambda: app.current_step == "prepare")
        prep = app.screen
        await settle(pilot, lambda: prep.query_one("#out-dir", Input).value != "")
        default = Path(prep.query_one("#out-dir", Input).value)
        assert default == tmp_path / "data" / "runs" / str(app.wizard_run.run_id) / "prepared"
        assert not default.is_relative_to(REPO)
        assert str(tmp_path / "data") in text_of(app, "#out-dir-note")

        checkout = tmp_path / "project"
        (checkout / ".git").mkdir(parents=True)
        inside = checkout / "prepared"
        for field, value in (("#train", "40"), ("#validation", "10"), ("#test", "5")):
            prep.query_one(field, Input).value = value
        prep.query_one("#out-dir", Input).value = str(inside)
        await settle(pilot, lambda: not prep.query_one("#prepare", Button).disabled)
        await click_button(pilot, "#prepare")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert f"inside the git checkout {checkout}" in text_of(app, "#confirm-message")
        await pilot.click("#confirm-no")
        await settle(pilot, lambda: app.screen is prep)
        await settle(pilot)
        assert not inside.exists() and app.wizard_run.prepared_dir is None
        await click_button(pilot, "#prepare")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.click("#confirm-yes")
        await settle(pilot, lambda: app.wizard_run.prepared_dir == str(inside))
        assert (inside / "train.jsonl").exists()
