"""The App's recipe commands: save the current run as a recipe, and open a recipe as a new
run with its steps filled. The dialogs ask for the path (`screens.file_dialog.FileDialog`); the
checks here run in the dialog's thread (reading, checking and writing files)."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from core.errors import ValidationError
from core.files import output_file_problem
from core.recipe import RecipeFile, read_recipe, save_recipe
from core.replay.start import run_from_recipe
from core.run.routes import FIRST_STEP, steps_of
from core.run.types import Route, Run
from screens.file_dialog import FileCheck, ReplaceNeeded


def default_recipe_path(run: Run) -> str:
    """Where a run's recipe is proposed to go: `recipe-<run id>.toml` in the current folder."""
    return f"recipe-{run.run_id or 'run'}.toml"


def saving(run: Run) -> FileCheck:
    """The check of the save dialog: write `run`'s recipe there atomically (asking before
    replacing a file); its result is the path written."""

    def check(path: Path, replace: bool) -> Path:
        problem = output_file_problem(path, overwrite=True)
        if problem:
            raise ValidationError(f"{path} {problem}.", hint="Type another path.")
        if path.exists() and not replace:
            raise ReplaceNeeded(
                f"{path} already exists.", hint="Press Enter again to replace it, or type another."
            )
        save_recipe(run, path, title=f"run {run.run_id}")
        return path

    return check


def opening(offered: Collection[Route]) -> FileCheck:
    """The check of the open dialog: read and check the recipe (errors name the line) and its
    route; its result is the `RecipeFile`."""

    def check(path: Path, replace: bool) -> RecipeFile:
        recipe = read_recipe(path)
        route = recipe.recipe.route
        if route not in offered:
            raise ValidationError(
                f"{path}: the route '{route.value}' ({route.label}) is not in this version of "
                "bedrock-tune's app.",
                hint="Routes here: " + ", ".join(r.value for r in offered) + ".",
            )
        return recipe

    return check


def run_of_recipe(recipe: RecipeFile, place: Run) -> Run:
    """The new run a recipe opened in the app starts: its choices, where `place` works."""
    return run_from_recipe(recipe.recipe, place, recipe.folder)


def first_open_step(run: Run, built: Collection[str]) -> str:
    """The first step of the run's route that is not done and possible (where a run from a
    recipe continues: usually Prepare)."""
    for shown in steps_of(run.route):
        if shown.id in built and not shown.done(run) and shown.blocked(run) is None:
            return shown.id
    return FIRST_STEP
