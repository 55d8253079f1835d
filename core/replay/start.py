"""The run a replay works on: the recipe's run found again in the registry (a rerun after a
kill, or after a stop before a billed step, continues it), or a new one made from the recipe.

A run replays a recipe when it carries the recipe's digest (`core.recipe.recipe_digest`: what
the recipe asks for, comments aside) and works in the same place (target, account, region,
endpoint). Editing what the recipe asks for therefore starts a new run; editing a comment does
not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from core.recipe import Recipe, RecipeFile, recipe_digest
from core.registry import RunRecord, new_run_id
from core.run.types import Run


def run_from_recipe(recipe: Recipe, place: Run, recipe_dir: Path | None = None) -> Run:
    """A fresh run with the recipe's choices, working where `place` works (its target,
    profile, region, endpoint, sandbox and checked identity). It has no run id yet.

    A relative dataset or model path is read from `recipe_dir` (the recipe's folder) when it is
    there:
    a recipe and its data travel together; else from the current folder.

    Raises:
        ValueError: `place` has no checked identity (the recipe's `{account_id}` needs one).
    """
    if place.account_id is None or place.region is None:
        raise ValueError("a run from a recipe needs a place with a checked identity")
    filled = recipe.run_for(place.account_id, place.region)
    if recipe_dir is not None:
        filled = _local_source(filled, recipe_dir)
    where = place.place_only()
    return replace(
        filled,
        target=where.target,
        profile=where.profile,
        region=where.region,
        endpoint_url=where.endpoint_url,
        sandbox_id=where.sandbox_id,
        account_id=where.account_id,
        principal_arn=where.principal_arn,
    )


def _beside(location: str | None, recipe_dir: Path) -> str | None:
    """`location` made absolute when it is a relative path found in `recipe_dir`."""
    if not location or location.startswith(("s3://", "hf:")):
        return location
    if Path(location).expanduser().is_absolute():
        return location
    beside = recipe_dir / location
    return str(beside) if beside.exists() else location


def _local_source(run: Run, recipe_dir: Path) -> Run:
    """The run with a relative dataset or model path found in `recipe_dir` made absolute."""
    return replace(
        run,
        source_location=_beside(run.source_location, recipe_dir),
        model_source=_beside(run.model_source, recipe_dir),
    )


def _same_place(a: Run, b: Run) -> bool:
    return (a.target, a.account_id, a.region, a.endpoint_url) == (
        b.target,
        b.account_id,
        b.region,
        b.endpoint_url,
    )


@dataclass(frozen=True)
class Started:
    """The run a replay works on, and whether it was found in the registry."""

    run: Run
    resumed: bool


def start_replay(
    recipe_file: RecipeFile, place: Run, records: Iterable[RunRecord], *, new: bool = False
) -> Started:
    """The recipe's run in `place`: the newest saved run that replays this recipe there
    (unless `new`), else a new run from the recipe with a fresh id and the recipe's digest.

    A resumed run keeps what it had (names, tokens, ARNs); it takes this invocation's profile
    and principal, which do not change the place, and the recipe's evaluation choices (they
    are not in the digest: an edited [evaluation] evaluates the same model again).
    """
    digest = recipe_digest(recipe_file.recipe)
    if not new:
        mine = [r for r in records if r.run.recipe_digest == digest and _same_place(r.run, place)]
        if mine:
            newest = max(mine, key=lambda r: r.updated)
            resumed = replace(
                newest.run,
                profile=place.profile,
                principal_arn=place.principal_arn,
                evaluation=run_from_recipe(recipe_file.recipe, place).evaluation,
            )
            return Started(replace(resumed, run_id=newest.id), resumed=True)
    run = run_from_recipe(recipe_file.recipe, place, recipe_file.folder)
    return Started(replace(run, run_id=new_run_id(), recipe_digest=digest), resumed=False)
