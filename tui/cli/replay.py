"""`bedrock-tune replay FILE`: run a recipe headless, step by step, through the same core as the
app; a rerun continues the recipe's run (`core.replay`). Progress goes to stderr, the summary
to stdout (JSON with --json). A step that bills asks first in a terminal; without one it needs
--yes, else the replay stops before that step with exit 2."""

from __future__ import annotations

import argparse
import sys
from time import sleep  # module-level: tests swap in a fake clock's sleep
from typing import Any

from core.recipe import read_recipe
from core.registry import Registry
from core.replay.engine import ReplayEvent, ReplayResult, replay
from core.replay.shop import ReplaySettings, ReplayStepFailed
from core.replay.steps import check_replayable
from core.run import Run
from tui.cli.common import (
    EXIT_BAD,
    EXIT_OK,
    EXIT_USAGE,
    add_aws_options,
    aws_context,
    placed,
    positive_float,
    print_json,
    readable_file,
)


def register(subparsers: Any) -> None:
    """Add the `replay` parser."""
    parser = subparsers.add_parser(
        "replay",
        help="run a recipe headless, or continue it",
        description="Run a recipe (see `bedrock-tune recipe`) step by step: check the model, "
        "dataset and template, prepare, validate, create the bucket and role and upload, launch "
        "the job, watch it, deploy, and evaluate when the recipe has [evaluation] (an "
        "import-only recipe: check the model, create the bucket and import role, upload and "
        "import it; a sagemaker-import recipe: the data steps, then train on SageMaker, watch, "
        "check and import the trained model). Run again after an interruption, it continues the "
        "recipe's run in the same place (nothing billable is created twice). Launching, "
        "training, deploying, importing and evaluating bill: in a terminal they are asked for; "
        "elsewhere pass --yes.",
    )
    add_aws_options(parser, suppress=True)
    parser.add_argument("file", metavar="FILE", type=readable_file, help="the recipe (.toml)")
    parser.add_argument(
        "--until",
        metavar="STEP",
        help="stop after this step (e.g. validate, infrastructure, launch or train, watch, deploy)",
    )
    parser.add_argument(
        "--yes",
        action="store_true",
        help="launch, train, deploy, import and evaluate without asking (they bill)",
    )
    parser.add_argument(
        "--accept-eula",
        action="store_true",
        help="sagemaker-import, serverless: accept the base model's licence (recipes keep no "
        "acceptance)",
    )
    parser.add_argument(
        "--new",
        action="store_true",
        help="start a new run even when this recipe's run is saved here (a second model)",
    )
    parser.add_argument("--kms-key", help="KMS key for the bucket (recipes keep none)")
    parser.add_argument(
        "--subnet", action="append", default=[], metavar="ID", help="VPC subnet (repeat)"
    )
    parser.add_argument(
        "--security-group",
        action="append",
        default=[],
        metavar="ID",
        help="VPC security group (repeat)",
    )
    parser.add_argument(
        "--poll-interval",
        type=positive_float,
        default=15.0,
        help="seconds before the first status poll of the job and the deployment (default 15)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(handler=run)


def _can_ask() -> bool:
    """Whether a person can answer on this terminal (the question goes to stderr, so stdout
    may be a pipe for --json)."""
    return sys.stdin.isatty() and sys.stderr.isatty()


def _ask(question: str) -> bool:
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def _report(result: ReplayResult, args: argparse.Namespace) -> None:
    if args.json:
        print_json(result.summary())
        return
    run = result.run
    print(f"Run {run.run_id}: " + (", ".join(result.done) or "nothing to do") + ".")
    for name, value in result.summary()["resources"].items():
        print(f"  {name:<18} {value}")
    evaluation = result.evaluation
    if evaluation:
        for side in ("tuned", "base"):
            means = evaluation.get(side) or {}
            if means:
                shown = "  ".join(f"{key} {value:.3f}" for key, value in means.items())
                print(f"  {side + ' model':<18} {shown}")
        if evaluation.get("verdict"):
            print(f"  {evaluation['verdict']}")
        print(f"  {'report':<18} {evaluation['report'] or evaluation['stored']}")
    if result.remaining and result.stopped_before is None:
        if getattr(args, "sandbox", False):
            print(SANDBOX_GONE)
        else:
            print(
                f"Continue with the same command (without --until): {', '.join(result.remaining)}."
            )


SANDBOX_GONE = (
    "The sandbox of --sandbox stopped with this command, and this run with it: to continue "
    "later, replay against `bedrock-tune sandbox` (AWS_ENDPOINT_URL)."
)
"""Why a replay with --sandbox cannot be continued by running it again."""


def _how_to_continue(args: argparse.Namespace) -> str:
    """What running the same command again does after a stop before a billed step."""
    return (
        SANDBOX_GONE if getattr(args, "sandbox", False) else "The same command continues this run."
    )


def run(args: argparse.Namespace) -> int:
    """Replay the recipe; exit 0 when every asked step is done, 1 when a step's outcome is bad
    or a billed step was declined, 2 when a billed step needs --yes (no terminal)."""
    recipe = read_recipe(args.file)
    check_replayable(recipe.recipe.route)  # before credentials: nothing to do with it here
    if getattr(args, "region", None) is None:
        # The recipe's region unless the command line names another.
        args.region = recipe.recipe.choices.get("region")
    settings = ReplaySettings(
        until=args.until,
        kms_key=args.kms_key,
        subnet_ids=tuple(args.subnet),
        security_group_ids=tuple(args.security_group),
        poll_interval=args.poll_interval,
        sleep=sleep,
        accept_eula=args.accept_eula,
        new=args.new,
    )
    unanswered: list[str] = []

    def confirm(step_id: str, question: str) -> bool:
        if args.yes:
            return True
        if not _can_ask():
            unanswered.append(step_id)
            return False
        return _ask(question)

    def progress(event: ReplayEvent) -> None:
        sys.stderr.write(event.describe() + "\n")
        sys.stderr.flush()

    registry = Registry()
    registry.check()  # a damaged registry stops here, before anything is made
    with aws_context(args) as context:
        place = placed(Run(), context, context.whoami(), args)
        try:
            result = replay(
                recipe, context, place, registry, settings, confirm=confirm, on_event=progress
            )
        except ReplayStepFailed as failed:
            sys.stderr.write(failed.describe() + "\n")
            return EXIT_BAD
    _report(result, args)
    if result.stopped_before is not None:
        if unanswered:
            sys.stderr.write(
                f"Stopped before {result.stopped_before}: it bills, and there is no terminal to "
                f"ask in. Pass --yes to allow it. {_how_to_continue(args)}\n"
            )
            return EXIT_USAGE
        sys.stderr.write(
            f"Stopped before {result.stopped_before}, as you answered. {_how_to_continue(args)}\n"
        )
        return EXIT_BAD
    return EXIT_OK
