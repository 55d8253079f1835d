"""`bedrock-tune recipe save RUN_ID FILE`: a run from the registry as a readable, commented TOML
recipe without account values; `recipe check FILE`: read a recipe and report what is wrong in it,
with the line. Neither touches AWS."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from core.errors import NotFoundError, ValidationError
from core.recipe import RecipeError, load_recipe, save_recipe
from core.registry import Registry
from tui.cli.common import EXIT_BAD, EXIT_OK, output_file, print_json, readable_file


def register(subparsers: Any) -> None:
    """Add `recipe save` and `recipe check`."""
    parser = subparsers.add_parser(
        "recipe",
        help="save a run as a TOML recipe, or check one",
        description="A recipe is a run's choices (route, model, data source, template, sizes, "
        "seed, infrastructure names, hyperparameters, serving) as commented TOML, with no "
        "credentials, local paths or account-specific values: the account id and region in "
        "names become {account_id} and {region}, the role is kept by name.",
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    save = actions.add_parser(
        "save",
        help="write a run's recipe",
        description="Write the recipe of a run in the local registry (see `bedrock-tune runs`).",
    )
    save.add_argument("run_id", metavar="RUN_ID", help="the run's id (see `bedrock-tune runs`)")
    save.add_argument(
        "file", metavar="FILE", type=output_file(overwrite=True), help="the .toml file to write"
    )
    save.add_argument("--force", action="store_true", help="replace FILE if it exists")
    save.add_argument("--json", action="store_true", help="print JSON: {run_id, file}")
    save.set_defaults(handler=run_save)
    check = actions.add_parser(
        "check",
        help="check a recipe (exit 1 with the line of what is wrong)",
        description="Read a recipe and check every key: bad TOML, unknown or misspelt keys, "
        "wrong types and versions are reported with their line.",
    )
    check.add_argument("file", metavar="FILE", type=readable_file, help="the recipe (.toml)")
    check.add_argument("--json", action="store_true", help="print JSON: {ok, file, error}")
    check.set_defaults(handler=run_check)


def run_save(args: argparse.Namespace) -> int:
    """Write the recipe of `args.run_id` to `args.file`."""
    registry = Registry()
    record = registry.get_run(args.run_id)
    if record is None:
        raise NotFoundError(
            f"There is no run '{args.run_id}' in the registry ({registry.path}).",
            title="Unknown run",
            hint="List the runs and their ids with `bedrock-tune runs`.",
        )
    path: Path = args.file
    if path.exists() and not args.force:
        raise ValidationError(
            f"{path} exists.", title="File exists", hint="Pick another name, or pass --force."
        )
    save_recipe(record.run, path, title=f"run {record.id}")
    if args.json:
        print_json({"run_id": record.id, "file": str(path)})
    else:
        print(f"Saved the recipe of run {record.id} to {path}.")
    return EXIT_OK


def run_check(args: argparse.Namespace) -> int:
    """Check a recipe: exit 0 when it reads, 1 with the error when it does not."""
    try:
        recipe = load_recipe(args.file)
    except RecipeError as error:
        if args.json:
            print_json({"ok": False, "file": str(args.file), "error": error.describe()})
        else:
            sys.stderr.write(error.describe() + "\n")
        return EXIT_BAD
    if args.json:
        print_json({"ok": True, "file": str(args.file), "route": recipe.route.value})
    else:
        print(f"{args.file} is a good recipe ({recipe.route.label}).")
    return EXIT_OK
