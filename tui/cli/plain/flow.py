"""The prompt mode's walk: the route's steps in core's order (`core.run.routes`), each asked by
its module here, over the same core and the same run as the app, ending with the recipe saved.

A run resumed with `--resume` skips the steps that are done (as the app's sidebar marks them)
after its place is checked again. A step that fails says why and offers to try again; Ctrl+C at
any question, or "stop", ends the walk with the run saved and a line saying how to resume.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from core.errors import BedrockTuneError
from core.run import Route
from core.run.routes import steps_of
from core.run.status import has_choices, still_going
from tui.cli.plain.data import dataset_step, template_step
from tui.cli.plain.finish import save_recipe_step, teardown_step
from tui.cli.plain.infra import infrastructure_step
from tui.cli.plain.job import launch_step, watch_step
from tui.cli.plain.model import model_step
from tui.cli.plain.prepare import prepare_step, validate_step
from tui.cli.plain.serving import chat_step, deploy_step
from tui.cli.plain.session import Session, StopFlow
from tui.cli.plain.where import credentials_step, reconnect

EXIT_OK = 0
EXIT_STOPPED = 1
"""The person stopped before the end (the run is saved)."""
EXIT_INTERRUPTED = 130

STEPS: dict[str, Callable[[Session], None]] = {
    "credentials": credentials_step,
    "model": model_step,
    "dataset": dataset_step,
    "template": template_step,
    "prepare": prepare_step,
    "validate": validate_step,
    "infrastructure": infrastructure_step,
    "launch": launch_step,
    "watch": watch_step,
    "deploy": deploy_step,
    "chat": chat_step,
    "teardown": teardown_step,
}
"""Step id -> the function that asks it. The route's other steps (evaluate) are pointed at
their commands instead."""

ROUTE = Route.BEDROCK_CUSTOMIZATION
"""The route the prompt mode walks."""


def _attempt(session: Session, step_id: str, title: str) -> None:
    """Run one step; on an error, say it and offer to try again (no: stop, run saved)."""
    while True:
        try:
            STEPS[step_id](session)
            return
        except BedrockTuneError as error:
            session.ask.say(error.describe())
            if not session.ask.confirm(f"Try the {title.lower()} step again?", default=True):
                raise StopFlow from None


def walk(session: Session) -> None:
    """Every step of the route in order (on resume, from the first one not done), then the
    teardown offer and the recipe."""
    resuming = session.run.run_id is not None
    steps = steps_of(ROUTE)
    for number, step in enumerate(steps, 1):
        header = f"\n── Step {number} of {len(steps)}: {step.title} ──"
        if step.id == "credentials" and resuming:
            session.ask.say(header)
            reconnect(session)
            continue
        if step.id not in STEPS:
            session.ask.say(
                f"{header}\n{step.description}\nRun it any time with "
                f"`bedrock-tune {step.id}` (or in the app)."
            )
            continue
        if resuming and step.done(session.run) and step.id != "teardown":
            session.ask.say(f"✔ {step.title}: done already.")
            continue
        blocked = step.blocked(session.run)
        if blocked:  # e.g. chat when the model was not deployed: core's table says why
            session.ask.say(f"{header}\nSkipped: {blocked}.")
            continue
        session.ask.say(header)
        _attempt(session, step.id, step.title)
    save_recipe_step(session)


def resume_line(session: Session) -> str:
    """How to go on with the run (and that the app can, when something is still going)."""
    run = session.run
    if run.run_id is None or not has_choices(run):  # only a place: nothing was recorded
        return "Nothing was recorded yet: start again with `bedrock-tune new --plain`."
    lines = [
        f"Run {run.run_id} is saved. Resume it with `bedrock-tune new --plain --resume "
        f"{run.run_id}`."
    ]
    going = still_going(run)
    if going:
        lines.append(" ".join(going) + " The app (`bedrock-tune`) also offers to re-attach to it.")
    return "\n".join(lines)


def run_walk(session: Session) -> int:
    """Walk the route; the exit code (0 done, 1 stopped, 130 interrupted). Never a
    traceback: the run is saved whatever happens, and the line says how to resume."""
    try:
        walk(session)
        return EXIT_OK
    except StopFlow:
        sys.stderr.write("Stopped.\n" + resume_line(session) + "\n")
        return EXIT_STOPPED
    except (KeyboardInterrupt, EOFError):  # Ctrl+C at a question or while waiting; Ctrl+D
        sys.stderr.write("\nInterrupted.\n" + resume_line(session) + "\n")
        return EXIT_INTERRUPTED
    finally:
        session.close()
