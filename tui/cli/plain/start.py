"""Starting the prompt mode from the command line: a new run, or a saved one (`--resume`)."""

from __future__ import annotations

import argparse

from core.errors import NotFoundError, ValidationError
from core.registry import Registry
from tui.cli.plain.ask import Asker
from tui.cli.plain.flow import ROUTE, run_walk
from tui.cli.plain.session import PlainOptions, Session


def options_from(args: argparse.Namespace) -> PlainOptions:
    """The prompt mode's options from `new --plain`'s arguments."""
    return PlainOptions(
        profile=getattr(args, "profile", None),
        region=getattr(args, "region", None),
        endpoint_url=getattr(args, "endpoint_url", None),
        sandbox=bool(getattr(args, "sandbox", False)),
        resume=args.resume,
        poll_interval=args.poll_interval,
        recipe=args.recipe,
    )


def start_session(args: argparse.Namespace, ask: Asker) -> int:
    """Walk a new run, or the saved run `--resume` names; the exit code."""
    options = options_from(args)
    registry = Registry()
    session = Session(ask, registry, options)
    if options.resume is not None:
        record = registry.get_run(options.resume)
        if record is None:
            raise NotFoundError(
                f"There is no run '{options.resume}' in the registry ({registry.path}).",
                title="Unknown run",
                hint="List the runs and their ids with `bedrock-tune runs`.",
            )
        if record.route is not ROUTE:
            raise ValidationError(
                f"Run {record.id} is on the route '{record.route.label}'; the prompt mode walks "
                f"'{ROUTE.label}' only.",
                title="Another route",
                hint="Open it in the app (`bedrock-tune`), or use the commands of its route.",
            )
        session.run = record.run
    return run_walk(session)
