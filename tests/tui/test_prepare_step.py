"""The prepare step proposes sizes the dataset can fill: a 500-row file with the defaults
(1,000 / 100 / 100) never gives an empty split behind a tick, and a file under the model's
minimum keeps Prepare disabled with the reason."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from textual.widgets import Button, Input

from screens.base import LaunchOptions
from tests.tui.helpers import click_button, settle, text_of
from tui.app import BedrockTuneApp

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0:200k"
TEMPLATE = 'user = "{q}"\nassistant = "{a}"\n'


def rows(path: Path, n: int) -> Path:
    path.write_text(
        "".join(json.dumps({"q": f"question {i}", "a": f"a{i}"}) + "\n" for i in range(n))
    )
    return path


def sizes(app: BedrockTuneApp) -> tuple[str, ...]:
    return tuple(
        app.screen.query_one(f"#{f}", Input).value for f in ("train", "validation", "test")
    )


async def test_500_rows_get_sizes_that_fit_and_no_empty_split(tmp_path: Path) -> None:
    app = BedrockTuneApp(LaunchOptions(sandbox=True))
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        app.update_run(
            replace(
                app.wizard_run,
                base_model_id=HAIKU,
                source_location=str(rows(tmp_path / "d.jsonl", 500)),
                template_toml=TEMPLATE,
            )
        )
        app.go_to_step("prepare")
        await settle(pilot, lambda: app.current_step == "prepare")
        # The defaults, then (once the rows are counted) sizes 500 rows can fill.
        await settle(pilot, lambda: sizes(app) == ("418", "41", "41"))
        assert text_of(app, "#size-problems").strip() == ""
        app.screen.query_one("#out-dir", Input).value = str(tmp_path / "out")
        await click_button(pilot, "#prepare")
        await settle(pilot, lambda: app.wizard_run.prepared_dir is not None)
        for name, count in (("train", 418), ("validation", 41), ("test", 41)):
            lines = (tmp_path / "out" / f"{name}.jsonl").read_text().splitlines()
            assert len(lines) == count
        assert "418 train, 41 validation, 41 test" in text_of(app, "#prepare-status")

        # Sizes typed over the row count: a note says they will shrink; nothing is blocked.
        app.screen.query_one("#train", Input).value = "1000"
        await settle(pilot, lambda: "will shrink" in text_of(app, "#size-note"))
        note = " ".join(text_of(app, "#size-note").split())
        assert "The dataset has 500 rows" in note
        assert not app.screen.query_one("#prepare", Button).disabled


async def test_a_dataset_under_the_models_minimum_cannot_be_prepared(tmp_path: Path) -> None:
    app = BedrockTuneApp(LaunchOptions(sandbox=True))
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        app.update_run(
            replace(
                app.wizard_run,
                base_model_id=HAIKU,
                source_location=str(rows(tmp_path / "d.jsonl", 20)),
                template_toml=TEMPLATE,
            )
        )
        app.go_to_step("prepare")
        await settle(pilot, lambda: "Only 20 records" in text_of(app, "#size-problems"))
        problems = " ".join(text_of(app, "#size-problems").split())
        assert "at least 32 training + validation" in problems
        assert app.screen.query_one("#prepare", Button).disabled
        assert sizes(app) == ("1000", "100", "100")  # not shrunk to something that cannot work
