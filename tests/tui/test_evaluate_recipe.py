"""The Evaluate step and recipes in the app: a recipe's [evaluation] opened with F3 fills the
Evaluate step's form (a custom rubric included); running an evaluation keeps its choices with
the run, so F2 then saves them in the recipe."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from textual.widgets import Button, Input, Select, Switch

from core.evaluation.rubrics import Criterion, Rubric, rubric_to_toml
from core.recipe import load_recipe, save_recipe
from core.run import EvaluationChoices
from core.statuses import ServingKind, ServingStatus
from screens.file_dialog import FileDialog
from tests.tui.helpers import settle, text_of
from tests.tui.test_recipes import chosen_run, dataset, ready, sandbox_app, type_path

CUSTOM = Rubric("support", "You grade support answers.", (Criterion("polite", "It is polite."),))
CHOICES = EvaluationChoices(
    records=3,
    compare_base=False,
    sql=True,
    judge_model="Nova Pro",  # a name: the form shows the catalog model it names
    rubric=rubric_to_toml(CUSTOM),
    batch="on",
    seed=9,
)


def _test_file(folder: Path) -> None:
    rows = [
        {
            "messages": [
                {"role": "user", "content": f"Summarize: hello {i}."},
                {"role": "assistant", "content": f"A greeting {i}."},
            ]
        }
        for i in range(4)
    ]
    (folder / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


async def test_a_recipe_s_evaluation_fills_the_evaluate_step_and_a_run_keeps_it(
    tmp_path: Path,
) -> None:
    recipe = tmp_path / "recipe.toml"
    app = sandbox_app()
    async with app.run_test(size=(170, 60)) as pilot:
        await ready(app, pilot)
        chosen_run(app, dataset(tmp_path))
        save_recipe(replace(app.wizard_run, evaluation=CHOICES), recipe)
        old = app.wizard_run

        await pilot.press("f3")
        await settle(pilot, lambda: isinstance(app.screen, FileDialog))
        await type_path(pilot, recipe)
        await settle(pilot, lambda: app.wizard_run.run_id != old.run_id)
        assert app.wizard_run.evaluation == CHOICES

        # Served (a base model stands in for the deployment: the sandbox answers it the same).
        _test_file(tmp_path)
        app.update_run(
            replace(
                app.wizard_run,
                serving_arn="us.amazon.nova-lite-v1:0",
                serving_kind=ServingKind.CUSTOM_MODEL_DEPLOYMENT,
                serving_status=ServingStatus.ACTIVE,
                prepared_dir=str(tmp_path),
            )
        )
        app.go_to_step("evaluate")
        await settle(pilot, lambda: app.current_step == "evaluate")
        screen = app.screen
        await settle(pilot, lambda: screen.query_one("#count", Input).value == "3")
        assert screen.query_one("#eval-compare", Switch).value is False
        assert screen.query_one("#eval-sql", Switch).value is True
        assert screen.query_one("#eval-batch", Switch).value is True
        assert screen.query_one("#judge", Select).value == "us.amazon.nova-pro-v1:0"
        assert screen.query_one("#rubric", Select).value == "custom"
        await settle(pilot, lambda: "judge:" in text_of(app, "#eval-estimate"))
        assert "3 test records" in text_of(app, "#eval-estimate")

        # Changed in the form and run: the run keeps the choices as run (the rest kept).
        count = screen.query_one("#count", Input)
        count.value = "2"
        screen.query_one("#eval-sql", Switch).value = False
        screen.query_one("#run", Button).press()
        await settle(pilot, lambda: "Report saved" in text_of(app, "#eval-summary"), rounds=1000)
        kept = app.wizard_run.evaluation
        assert kept == replace(
            CHOICES, records=2, sql=False, judge_model="us.amazon.nova-pro-v1:0"
        ), kept
        saved = tmp_path / "again.toml"
        save_recipe(app.wizard_run, saved)
        assert load_recipe(saved).run_for("111122223333").evaluation == kept
