"""What a newcomer tripped over, each fixed and checked: the model details start at their top,
the file browser goes above the launch folder and closes with Esc, a failed load leaves no old
preview, an idle progress bar is hidden, a hyperparameter's note follows the validation data,
a bad hyperparameter or record count is said at its field, and teardown's summary never adds
an unknown price as $0."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Input, Static

from core.statuses import ServingKind, ServingStatus
from core.teardown.items import THROUGHPUT, TeardownItem
from screens.base import LaunchOptions
from screens.credentials import CredentialsScreen
from screens.dataset import DataFiles
from screens.teardown import summary_of
from screens.widgets.error_panel import ErrorPanel
from screens.widgets.task_progress import TaskProgress
from tests.tui.helpers import settle, text_of
from tui.app import BedrockTuneApp

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0:200k"
NOVA = "amazon.nova-micro-v1:0:128k"


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No credential discovery and no resume look-up: the run is set by the test."""
    monkeypatch.setattr(CredentialsScreen, "discover", lambda self: None)
    monkeypatch.setattr(BedrockTuneApp, "find_resumable", lambda self: None)


def set_run(app: BedrockTuneApp, **run_fields: object) -> None:
    """A run whose identity is checked (no AWS: nothing is called), with `run_fields`."""
    run = replace(app.wizard_run, account_id="123456789012", region="us-east-1")
    app.update_run(replace(run, **run_fields))  # type: ignore[arg-type]


async def test_another_model_s_details_start_at_their_top() -> None:
    app = BedrockTuneApp(LaunchOptions(sandbox=True))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        await pilot.press("ctrl+n")
        await settle(pilot, lambda: app.current_step == "model")
        models = app.screen.query_one("#models", DataTable)
        await settle(pilot, lambda: models.row_count > 1)
        detail = app.screen.query_one("#model-detail-column", VerticalScroll)
        await settle(pilot, lambda: detail.max_scroll_y > 0)
        detail.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        assert detail.scroll_y > 0
        models.focus()
        await pilot.press("down")
        await settle(pilot, lambda: detail.scroll_y == 0)


@pytest.mark.usefixtures("offline")
async def test_the_file_browser_goes_up_and_closes_with_escape(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    launch_folder = tmp_path / "projects" / "bot"
    launch_folder.mkdir(parents=True)
    (tmp_path / "projects" / "data.jsonl").write_text('{"a": 1}\n')
    monkeypatch.chdir(launch_folder)
    app = BedrockTuneApp()
    async with app.run_test(size=(120, 40)) as pilot:
        set_run(app, base_model_id=NOVA)
        app.go_to_step("dataset")
        await settle(pilot, lambda: app.current_step == "dataset")
        await pilot.press("ctrl+b")
        browser = app.screen.query_one(DataFiles)
        await settle(pilot, lambda: browser.has_focus)
        assert Path(browser.path) == launch_folder
        await pilot.press("backspace")  # above the folder bedrock-tune started in
        await settle(pilot, lambda: Path(browser.path) == launch_folder.parent)
        assert str(launch_folder.parent) in str(browser.border_title)
        await settle(pilot, lambda: "data.jsonl" in [str(c.label) for c in browser.root.children])
        await pilot.press("escape")
        await settle(pilot, lambda: not browser.has_class("-open"))
        assert app.screen.query_one("#source", Input).has_focus
        assert app.current_step == "dataset"  # Esc closed the browser, nothing else


@pytest.mark.usefixtures("offline")
async def test_a_failed_load_leaves_no_earlier_preview(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "good.jsonl").write_text(json.dumps({"q": "a question", "a": "an answer"}) + "\n")
    app = BedrockTuneApp()
    async with app.run_test(size=(120, 40)) as pilot:
        set_run(app, base_model_id=NOVA)
        app.go_to_step("dataset")
        await settle(pilot, lambda: app.current_step == "dataset")
        records = app.screen.query_one("#records", DataTable)
        await pilot.press(*"good.jsonl", "enter")
        await settle(pilot, lambda: records.row_count == 1)
        await pilot.press("ctrl+u", *"gone.jsonl", "enter")
        await settle(pilot, lambda: app.screen.query_one(ErrorPanel).error is not None)
        assert records.row_count == 0 and app.screen.query_one("#columns", DataTable).row_count == 0
        assert "good.jsonl" not in text_of(app, "#dataset-summary")
        await pilot.press("ctrl+n")  # nothing opened: nothing to use
        await pilot.pause()
        assert app.current_step == "dataset" and app.wizard_run.source_location is None


@pytest.mark.usefixtures("offline")
async def test_an_idle_progress_bar_is_hidden(tmp_path: Path) -> None:
    app = BedrockTuneApp()
    async with app.run_test(size=(120, 40)) as pilot:
        set_run(
            app,
            base_model_id=NOVA,
            source_location=str(tmp_path / "data.jsonl"),
            template_toml='user = "{q}"\nassistant = "{a}"\n',
        )
        app.go_to_step("prepare")
        await settle(pilot, lambda: app.current_step == "prepare")
        bar = app.screen.query_one("#progress", TaskProgress)

        def shown() -> bool:
            return bool(bar.display)

        assert not shown()  # not "--%" animating while nothing runs
        bar.start()
        await pilot.pause()
        assert shown() and bar.total is None
        bar.hide()
        await pilot.pause()
        assert not shown()


@pytest.mark.usefixtures("offline")
async def test_hyperparameter_notes_and_problems_are_at_their_field() -> None:
    app = BedrockTuneApp()
    async with app.run_test(size=(160, 50)) as pilot:
        set_run(app, base_model_id=HAIKU)
        app.go_to_step("launch")
        await settle(pilot, lambda: app.current_step == "launch")
        note = app.screen.query_one("#hp-note-earlyStoppingThreshold", Static)
        await settle(pilot, lambda: note.display)
        assert "Early stopping needs validation data" in text_of(
            app, "#hp-note-earlyStoppingThreshold"
        )
        await pilot.click("#validation-uri")
        await pilot.press(*"s3://bucket/validation.jsonl")
        await settle(pilot, lambda: not note.display)  # there is validation data now

        epochs = app.screen.query_one("#hp-epochCount", Input)
        await pilot.click("#hp-epochCount")
        await pilot.press(*"99")
        await settle(pilot, lambda: "between 1 and 10" in text_of(app, "#hp-problem-epochCount"))
        assert epochs.has_class("-invalid")
        await pilot.press("backspace", "backspace", "3")
        await settle(pilot, lambda: text_of(app, "#hp-problem-epochCount").strip() == "")
        assert not epochs.has_class("-invalid")


@pytest.mark.usefixtures("offline")
async def test_a_bad_record_count_is_said_at_its_field() -> None:
    app = BedrockTuneApp()
    async with app.run_test(size=(120, 40)) as pilot:
        set_run(
            app,
            base_model_id=NOVA,
            custom_model_arn="arn:aws:bedrock:us-east-1:123456789012:custom-model/m",
            serving_kind=ServingKind.CUSTOM_MODEL_DEPLOYMENT,
            serving_arn="arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/d",
            serving_status=ServingStatus.ACTIVE,
        )
        app.go_to_step("evaluate")
        await settle(pilot, lambda: app.current_step == "evaluate")
        count = app.screen.query_one("#count", Input)
        await pilot.click("#count")
        await pilot.press("end", "ctrl+u", "0", "ctrl+r")
        await settle(pilot, lambda: "whole number above 0" in text_of(app, "#count-error"))
        assert count.has_class("-invalid") and count.has_focus
        assert app.screen.query_one(ErrorPanel).error is None  # not in the panel under the table
        error_row = app.screen.query_one("#count-error").region.y
        assert error_row < app.screen.query_one("#eval-rows").region.y


def test_an_unknown_hourly_price_is_never_summed_as_zero() -> None:
    throughput = TeardownItem(
        THROUGHPUT,
        "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc",
        "us-east-1",
        "Provisioned throughput pt",
        "delete",
        "stops the hourly bill",
        cost_class="hourly",
        hourly_cost=None,
    )
    summary = summary_of([throughput])
    assert "price unknown" in summary
    assert "$0.00" not in summary and "known" not in summary.replace("unknown", "")
