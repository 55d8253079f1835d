"""The evaluate step's options in the sandbox: the estimate before it runs, an LLM judge, SQL
that runs, batch asked for, the report opened with one key, and the comparison view."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from textual.widgets import Button, DataTable, Select, Switch

from core.data.templates import PRESETS, template_to_toml
from core.statuses import ServingKind, ServingStatus
from screens.base import LaunchOptions
from screens.compare import CompareScreen
from tests.tui.helpers import settle, text_of
from tui.app import BedrockTuneApp

NOVA = "amazon.nova-micro-v1:0:128k"
SCHEMA = "CREATE TABLE head (name VARCHAR, age INTEGER)"


async def test_evaluate_with_judge_sql_and_batch_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "test.jsonl").write_text(
        "".join(
            json.dumps(
                {
                    "system": f"You write SQL for the tables below.\n\n{SCHEMA}",
                    "messages": [
                        {"role": "user", "content": f"Who is older than {i}?"},
                        {"role": "assistant", "content": f"SELECT name FROM head WHERE age > {i}"},
                    ],
                }
            )
            + "\n"
            for i in range(2)
        )
    )
    app = BedrockTuneApp(LaunchOptions(sandbox=True))
    opened: list[str] = []
    monkeypatch.setattr(app, "open_url", lambda url, **_: opened.append(url))
    async with app.run_test(size=(170, 60)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        app.update_run(
            replace(
                app.wizard_run,
                base_model_id=NOVA,
                # A base model stands in for the deployment: the sandbox answers it the same way.
                serving_arn="us.amazon.nova-lite-v1:0",
                serving_kind=ServingKind.CUSTOM_MODEL_DEPLOYMENT,
                serving_status=ServingStatus.ACTIVE,
                prepared_dir=str(tmp_path),
                template_toml=template_to_toml(PRESETS["text-to-sql"]),
            )
        )
        app.go_to_step("evaluate")
        await settle(pilot, lambda: app.current_step == "evaluate")
        screen = app.screen
        # The text-to-SQL template turns SQL on and picks its rubric.
        assert screen.query_one("#eval-sql", Switch).value
        assert screen.query_one("#rubric", Select).value == "text-to-sql"
        await settle(pilot, lambda: "Estimate on demand" in text_of(app, "#eval-estimate"))
        screen.query_one("#judge", Select).value = "us.amazon.nova-pro-v1:0"
        screen.query_one("#eval-batch", Switch).value = True
        await settle(pilot, lambda: "judge:" in text_of(app, "#eval-estimate"))
        estimate = text_of(app, "#eval-estimate")
        # Batch was asked for, but this run has no bucket and role: said before it runs.
        assert "batch needs the run's bucket and role" in estimate
        screen.query_one("#run", Button).press()
        await settle(pilot, lambda: "Report saved" in text_of(app, "#eval-summary"), rounds=1000)
        summary = text_of(app, "#eval-summary")
        assert "Tuned" in summary and "Base" in summary and "(2 answered)" in summary
        assert "SQL: 0 of 2" in summary and "2 do not parse" in summary
        assert "Judge us.amazon.nova-pro-v1:0" in summary and "2 unparseable" in summary
        assert "needs the run's bucket and role" in summary  # the fallback note
        assert screen.query_one("#eval-rows", DataTable).row_count == 2
        assert (tmp_path / "evaluation.html").is_file()
        screen.query_one("#eval-rows", DataTable).focus()
        await pilot.press("o")
        assert opened == [(tmp_path / "evaluation.html").as_uri()]
        await pilot.press("c")
        await settle(pilot, lambda: isinstance(app.screen, CompareScreen))
