"""Recipes in the app, with the keyboard at 80x24: F2 saves the run as a recipe (asking before
replacing a file), F3 (or the command palette) opens one: a recipe with a typo is refused in the
dialog with its line, a good one starts a new run with its steps filled, landing on Prepare."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input

from core.catalog.lookup import find_model
from core.catalog.types import CustomizationType
from core.data.prepare import default_sizes
from core.data.templates import load_template, template_to_toml
from core.recipe import load_recipe, save_recipe
from core.registry import Registry
from core.replay.checks import prepare_options
from core.sandbox.server import SANDBOX_ACCOUNT_ID, Sandbox
from core.statuses import ServingKind
from screens.base import LaunchOptions
from screens.file_dialog import FileDialog
from tests.fakes import Clock
from tests.tui.helpers import settle, text_of
from tui.app import BedrockTuneApp

NOVA = "amazon.nova-micro-v1:0:128k"
REGION = "us-east-1"


def sandbox_app() -> BedrockTuneApp:
    clock = Clock(1_000.0)
    return BedrockTuneApp(
        LaunchOptions(sandbox=True, poll_interval=0.05),
        sandbox_factory=lambda: Sandbox(job_seconds=100, clock=clock),
    )


async def ready(app: BedrockTuneApp, pilot: Pilot[None]) -> None:
    await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)


async def type_path(pilot: Pilot[None], path: Path) -> None:
    """Replace the dialog's path with `path` (keys only) and press Enter."""
    await pilot.press("end", "ctrl+u", *str(path), "enter")


def chosen_run(app: BedrockTuneApp, data: Path) -> None:
    app.update_run(
        replace(
            app.wizard_run,
            base_model_id=NOVA,
            source_location=str(data),
            template_toml=template_to_toml(load_template("preset:dialogue-summary")),
            train_size=40,
            validation_size=8,
            test_size=8,
            seed=7,
            bucket=f"bedrock-tune-{SANDBOX_ACCOUNT_ID}-{REGION}",
            role_arn=f"arn:aws:iam::{SANDBOX_ACCOUNT_ID}:role/bedrock-tune-{REGION}",
            hyperparameters={"epochCount": "2"},
            serving_kind=ServingKind.CUSTOM_MODEL_DEPLOYMENT,
        )
    )


def dataset(folder: Path) -> Path:
    rows = [{"dialogue": f"#Person1#: Hi {i}.", "summary": f"A greeting {i}."} for i in range(60)]
    path = folder / "dialogs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


async def test_f2_saves_the_run_as_a_recipe_and_asks_before_replacing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = sandbox_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        await pilot.press("f2")
        await pilot.pause()
        assert not isinstance(app.screen, FileDialog)  # nothing chosen yet: nothing to save
        chosen_run(app, dataset(tmp_path))
        run = app.wizard_run
        await pilot.press("f2")
        await settle(pilot, lambda: isinstance(app.screen, FileDialog))
        field = app.screen.query_one("#file-path", Input)
        assert field.has_focus and field.value == f"recipe-{run.run_id}.toml"
        await pilot.press("enter")
        await settle(pilot, lambda: not isinstance(app.screen, FileDialog))
        saved = tmp_path / f"recipe-{run.run_id}.toml"
        recipe = load_recipe(saved)
        assert recipe.choices["base_model_id"] == NOVA and recipe.choices["train_size"] == 40
        assert SANDBOX_ACCOUNT_ID not in saved.read_text()

        # Again to the same file: asked first, Enter again replaces it.
        saved.write_text("# old\n")
        await pilot.press("f2")
        await settle(pilot, lambda: isinstance(app.screen, FileDialog))
        await pilot.press("enter")
        await settle(pilot, lambda: "already exists" in text_of(app, "#file-error"))
        assert "Press Enter again to replace it" in text_of(app, "#file-error")
        assert saved.read_text() == "# old\n"
        await pilot.press("enter")
        await settle(pilot, lambda: not isinstance(app.screen, FileDialog))
        assert load_recipe(saved).choices["seed"] == 7

        # Escape leaves without writing anything.
        await pilot.press("f2")
        await settle(pilot, lambda: isinstance(app.screen, FileDialog))
        await type_path(pilot, tmp_path / "no" / "such" / "folder.toml")
        await settle(pilot, lambda: "does not exist" in text_of(app, "#file-error"))
        await pilot.press("escape")
        await settle(pilot, lambda: not isinstance(app.screen, FileDialog))
    assert not (tmp_path / "no").exists()


async def test_f3_opens_a_recipe_as_a_new_run_with_its_steps_filled(tmp_path: Path) -> None:
    recipe = tmp_path / "recipe.toml"
    app = sandbox_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        chosen_run(app, dataset(tmp_path))
        old = app.wizard_run
        from core.recipe import save_recipe

        save_recipe(old, recipe)
        good = recipe.read_text()
        typo = good.replace("seed = 7", "sede = 7")
        recipe.write_text(typo)
        line = next(n for n, row in enumerate(typo.splitlines(), 1) if row.startswith("sede"))

        await pilot.press("f3")
        await settle(pilot, lambda: isinstance(app.screen, FileDialog))
        await type_path(pilot, recipe)
        await settle(pilot, lambda: "unknown key" in text_of(app, "#file-error"))
        error = text_of(app, "#file-error")
        assert f"line {line}: unknown key `sede` in [prepare]" in error
        assert "Did you mean `seed`?" in error
        assert app.wizard_run.run_id == old.run_id  # nothing started

        recipe.write_text(good)  # fixed: Enter again opens it
        await pilot.press("enter")
        await settle(pilot, lambda: app.wizard_run.run_id != old.run_id)
        new = app.wizard_run
        await settle(pilot, lambda: app.current_step == "prepare")
        assert (new.base_model_id, new.train_size, new.seed) == (NOVA, 40, 7)
        assert new.template_toml == old.template_toml
        assert new.hyperparameters == {"epochCount": "2"}
        assert new.bucket == f"bedrock-tune-{SANDBOX_ACCOUNT_ID}-{REGION}"
        assert (new.prepared_dir, new.job_name, new.client_request_token) == (None, None, None)
        screen = app.screen
        await settle(pilot, lambda: screen.query_one("#train", Input).value == "40")
        assert screen.query_one("#seed", Input).value == "7"
        app.save_run_now()
        await settle(pilot)
    assert {r.id for r in Registry().runs()} >= {old.run_id, new.run_id}


async def test_the_palette_offers_both(tmp_path: Path) -> None:
    app = sandbox_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        assert {"Open recipe", "Save run as recipe"} <= set(commands)
        await pilot.press("ctrl+p")
        await settle(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"Open recipe")
        results = app.screen.query_one(CommandList)
        await settle(pilot, lambda: results.option_count > 0 and results.highlighted == 0)
        assert "Open recipe" in str(results.get_option_at_index(0).prompt)
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, FileDialog))
        assert text_of(app, "#file-title").strip() == "Open a recipe"


async def test_a_recipe_that_states_some_sizes_fills_the_others_as_replay_does(
    tmp_path: Path,
) -> None:
    """A hand-written recipe with the training size alone: the Prepare step proposes the
    model's default validation and test sizes, the ones `replay` prepares with, and no length
    limit (the recipe of a run prepared without one), as replay does."""
    recipe = tmp_path / "recipe.toml"
    app = sandbox_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        chosen_run(app, dataset(tmp_path))
        save_recipe(app.wizard_run, recipe)
        text = recipe.read_text()
        for line in ("validation_size = 8\n", "test_size = 8\n"):
            assert line in text
            text = text.replace(line, "")
        recipe.write_text(text)
        opened = load_recipe(recipe).run_for(SANDBOX_ACCOUNT_ID)
        custom = find_model(NOVA).customization(CustomizationType.FINE_TUNING)
        assert custom is not None
        replayed = prepare_options(custom, opened)
        assert (replayed.train, replayed.validation, replayed.test) == (
            40,
            *default_sizes(custom.limits)[1:],
        )

        await pilot.press("f3")
        await settle(pilot, lambda: isinstance(app.screen, FileDialog))
        await type_path(pilot, recipe)
        await settle(pilot, lambda: app.current_step == "prepare")
        screen = app.screen
        await settle(pilot, lambda: screen.query_one("#train", Input).value == "40")
        shown = [screen.query_one(f"#{field}", Input).value for field in ("validation", "test")]
        assert shown == [str(replayed.validation), str(replayed.test)]
        assert replayed.max_chars is None and screen.query_one("#max-chars", Input).value == ""
