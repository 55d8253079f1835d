"""`bedrock-tune new`: start a new run: in the terminal app, or with `--plain` as questions in
the normal terminal (selects, confirmations, paths with completion), over the same core and the
same run, ending with its recipe saved. `--plain --resume RUN_ID` goes on with a saved run."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tui.cli import missing
from tui.cli.common import EXIT_USAGE, add_aws_options, positive_float


def register(subparsers: Any) -> None:
    """Add the `new` parser."""
    parser = subparsers.add_parser(
        "new",
        help="start a new run (in the app, or --plain as questions in the terminal)",
        description="Start a new run from dataset to chat. With --plain, every step of the app "
        "is asked as a question in the normal terminal (no full-screen app), over the same "
        "run (the app can resume it), ending with the run's recipe saved. Ctrl+C at any "
        "question stops with the run saved and says how to resume.",
    )
    add_aws_options(parser, suppress=True)
    parser.add_argument(
        "--plain",
        action="store_true",
        help="ask the steps as questions in the terminal instead of the full-screen app",
    )
    parser.add_argument(
        "--resume",
        metavar="RUN_ID",
        help="with --plain: go on with this saved run from its first step not done (see "
        "`bedrock-tune runs`)",
    )
    parser.add_argument(
        "--recipe",
        metavar="FILE",
        help="with --plain: save the recipe here at the end (default: asked)",
    )
    parser.add_argument(
        "--poll-interval",
        type=positive_float,
        default=15.0,
        help="with --plain: seconds between the first polls of the job and the deployment "
        "(default 15; they back off from there)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """The app, or the prompt mode in a terminal (exit 2 without one)."""
    if not args.plain:
        if args.resume or args.recipe:
            sys.stderr.write("--resume and --recipe go with --plain.\n")
            return EXIT_USAGE
        from tui.launch import launch_tui

        return launch_tui(args)
    if not missing.in_a_terminal():
        sys.stderr.write(
            "bedrock-tune new --plain asks questions, but its input or output is not a "
            "terminal.\nHint: run it in a terminal; in a script, use the commands "
            "(`bedrock-tune prepare`, `infra apply`, `upload`, `jobs launch`...) instead.\n"
        )
        return EXIT_USAGE
    from tui.cli.plain.ask import TerminalAsker
    from tui.cli.plain.start import start_session

    return start_session(args, TerminalAsker())
