"""Which steps a route replays, in the route's order, and which of them bill.

Step ids are the route table's (`core.run.routes`), so `--until STEP` takes the names the TUI's
sidebar and palette show. After serving, a recipe with an [evaluation] section evaluates the
served model; chat and teardown are a person's to do and are not replayed.
"""

from __future__ import annotations

from core.errors import ValidationError
from core.run.routes import ROUTE_STEPS, step
from core.run.types import Route, Run

PERSON_STEPS = frozenset({"chat", "teardown"})
"""Steps a person does (talking to the model, deciding what to delete): never replayed."""


def _replayed(route: Route, *, without: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The route's steps in its order, without a person's steps and `without`."""
    return tuple(s for s in ROUTE_STEPS[route] if s not in PERSON_STEPS and s not in without)


REPLAYED: dict[Route, tuple[str, ...]] = {
    Route.BEDROCK_CUSTOMIZATION: _replayed(Route.BEDROCK_CUSTOMIZATION),
    Route.SAGEMAKER_IMPORT: _replayed(Route.SAGEMAKER_IMPORT),
    Route.IMPORT_ONLY: _replayed(Route.IMPORT_ONLY, without=("evaluate",)),
}
"""Each replayable route's replayed steps (a route missing here is not replayable yet)."""

BILLING: frozenset[str] = frozenset({"launch", "train", "deploy", "import", "evaluate"})
"""Steps that create something billed (a customization or SageMaker training job, a deployment
or throughput, an imported model) or send billed requests (an evaluation's answers and grades):
a replay asks before each, unless told yes beforehand."""


class NotReplayableError(ValidationError):
    """A recipe whose route has no replay yet."""

    default_title = "Not yet replayable"


def check_replayable(route: Route) -> tuple[str, ...]:
    """The route's replayed steps; a route without a replay yet is refused (before anything
    else, credentials included: nothing can be done with its recipe here).

    Raises:
        NotReplayableError: the route is not replayable yet (named in the message).
    """
    ids = REPLAYED.get(route)
    if ids is None:
        able = ", ".join(r.value for r in REPLAYED)
        raise NotReplayableError(
            f"Recipes of the route '{route.value}' ({route.label}) are not yet replayable.",
            hint=f"Replayable routes: {able}. Do this route's steps with its commands "
            "(`bedrock-tune --help` lists them).",
        )
    return ids


def replayed_steps(run: Run) -> tuple[str, ...]:
    """The steps a replay of `run`'s recipe goes through: the route's, without serving when
    the recipe names no way to serve (a route that imports serves the imported model on
    demand: it has no deploy step), and without evaluating when it has no [evaluation] (or
    nothing served to evaluate).

    Raises:
        NotReplayableError: the run's route is not replayable yet (named in the message).
    """
    ids = check_replayable(run.route)
    if run.serving_kind is None and "deploy" in ids:
        ids = tuple(i for i in ids if i not in ("deploy", "evaluate"))
    if run.evaluation is None:
        ids = tuple(i for i in ids if i != "evaluate")
    return ids


def check_until(run: Run, until: str | None) -> None:
    """Refuse an `--until` that is not one of the replayed steps (they are listed).

    Raises:
        ValidationError: an unknown step, or one this recipe does not replay.
    """
    if until is None:
        return
    ids = replayed_steps(run)
    if until in ids:
        return
    why = ""
    if until == "deploy":
        why = " The recipe has no [serving] kind, so nothing is deployed."
    elif until == "evaluate" and run.evaluation is None:
        why = " The recipe has no [evaluation] section, so nothing is evaluated."
    elif until == "evaluate":
        why = " The recipe has no [serving] kind, so there is nothing to evaluate."
    elif until in ROUTE_STEPS[run.route]:
        why = f" {step(until).title} is left to you after a replay."
    raise ValidationError(
        f"--until {until}: not a step this replay goes through.{why}",
        hint=f"Steps: {', '.join(ids)}.",
    )
