"""Walking a recipe's steps: each step not done yet is done, the run is saved after it, and a
step that bills is asked for first.

A replay asks nothing itself: the caller passes `confirm` (the CLI asks in a terminal, answers
yes with --yes, and stops without a terminal) and `on_event` (the CLI prints it on stderr).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from core import format as fmt
from core.aws import AwsContext
from core.errors import ValidationError
from core.locks import HolderLock, LockBusyError
from core.recipe import RecipeFile, recipe_digest
from core.registry import Registry
from core.replay.checks import check_credentials, check_dataset, check_model, check_template
from core.replay.evaluating import (
    do_evaluate,
    evaluated,
    evaluation_question,
    evaluation_summary,
)
from core.replay.importing import (
    check_model_source,
    do_import,
    do_import_check,
    do_import_infrastructure,
    infrastructure_done,
)
from core.replay.shop import ReplaySettings, Workshop
from core.replay.start import start_replay
from core.replay.steps import BILLING, check_until, replayed_steps
from core.replay.training import (
    check_training,
    do_train,
    do_train_watch,
    do_trained_import,
    trained,
    training_question,
)
from core.replay.work import (
    do_deploy,
    do_infrastructure,
    do_launch,
    do_prepare,
    do_validate,
    do_watch,
    prepared,
)
from core.run.routes import step
from core.run.types import Route, Run
from core.statuses import JobStatus, ServingKind

EventKind = Literal["start", "done", "already", "note"]


@dataclass(frozen=True)
class ReplayEvent:
    """One line of progress: a step starts, is done, was already done, or says something."""

    step: str
    kind: EventKind
    message: str = ""

    def describe(self) -> str:
        """The event as a line for a person (`[launch] launched bt-...`)."""
        title = step(self.step).title
        if self.kind == "start":
            return f"[{self.step}] {title}..."
        if self.kind == "done":
            return f"[{self.step}] ✔ {title}" + (f": {self.message}" if self.message else "")
        if self.kind == "already":
            return f"[{self.step}] ✔ {title}: already done by an earlier replay"
        return f"[{self.step}]   {self.message}"


@dataclass(frozen=True)
class _Work:
    done: Callable[[Run], bool]
    """Whether an earlier replay of this run did the step (checks are never "done": they run
    every time, and cost nothing)."""
    do: Callable[[Workshop, Run], Run]
    check: bool = False
    """A check of the recipe against the world (nothing is made): a recipe that fails one
    leaves no run in the registry."""
    stored: Callable[[Registry, Run], bool] | None = None
    """Whether the registry holds the step's outcome (an evaluation stored with the run): the
    step is done then too."""


def _never(run: Run) -> bool:
    return False


def _validated(run: Run) -> bool:
    return prepared(run) and run.validated_ok is True and run.validated_dir == run.prepared_dir


_ON_DATA: dict[str, _Work] = {
    "credentials": _Work(_never, check_credentials, check=True),
    "dataset": _Work(_never, check_dataset, check=True),
    "template": _Work(_never, check_template, check=True),
    "prepare": _Work(prepared, do_prepare),
    "validate": _Work(_validated, do_validate),
    "infrastructure": _Work(lambda run: run.training_uri is not None, do_infrastructure),
    "evaluate": _Work(_never, do_evaluate, stored=evaluated),
}
"""The work of the steps both routes that train on a dataset share (and evaluating)."""

_WORK: dict[Route, dict[str, _Work]] = {
    Route.BEDROCK_CUSTOMIZATION: {
        **_ON_DATA,
        "model": _Work(_never, check_model, check=True),
        "launch": _Work(lambda run: run.job_arn is not None, do_launch),
        "watch": _Work(lambda run: run.job_status is JobStatus.COMPLETED, do_watch),
        "deploy": _Work(
            lambda run: run.serving_status is not None and run.serving_status.ready, do_deploy
        ),
    },
    Route.SAGEMAKER_IMPORT: {
        **_ON_DATA,
        "model": _Work(_never, check_training, check=True),
        "train": _Work(lambda run: run.job_arn is not None, do_train),
        "watch": _Work(trained, do_train_watch),
        "import-check": _Work(_never, do_import_check, check=True),
        "import": _Work(lambda run: run.custom_model_arn is not None, do_trained_import),
    },
    Route.IMPORT_ONLY: {
        "credentials": _Work(_never, check_credentials, check=True),
        "model-source": _Work(_never, check_model_source, check=True),
        "import-check": _Work(_never, do_import_check, check=True),
        "infrastructure": _Work(infrastructure_done, do_import_infrastructure),
        "import": _Work(lambda run: run.custom_model_arn is not None, do_import),
    },
}
"""Each replayable route's steps: when an earlier replay did them, and how to do them."""

RESOURCE_FIELDS = (
    "prepared_dir",
    "bucket",
    "role_arn",
    "training_uri",
    "validation_uri",
    "output_uri",
    "job_name",
    "job_arn",
    "model_artifacts",
    "custom_model_name",
    "custom_model_arn",
    "import_job_name",
    "import_job_arn",
    "import_role_arn",
    "imported_model_name",
    "serving_kind",
    "serving_arn",
)
"""The run fields a replay's summary reports: what it made, or found made."""


@dataclass(frozen=True)
class ReplayResult:
    """Where a replay got to."""

    run: Run
    resumed: bool
    """The run was found in the registry (an earlier replay of the recipe, here)."""
    done: tuple[str, ...]
    """Steps done (or checked) by this replay."""
    already: tuple[str, ...]
    """Steps an earlier replay had done."""
    stopped_before: str | None
    """A billed step the caller did not confirm (the replay stopped before it)."""
    remaining: tuple[str, ...]
    """Replayed steps not reached (after `until`, or from `stopped_before` on)."""
    evaluation: dict[str, Any] | None = None
    """The run's stored evaluation (`core.replay.evaluating.evaluation_summary`) when the
    evaluate step is done."""

    def summary(self) -> dict[str, Any]:
        """The result as JSON data: the run id, the steps and what exists."""
        data = self.run.to_dict()
        return {
            "run_id": self.run.run_id,
            "route": self.run.route.value,
            "resumed": self.resumed,
            "steps_done": list(self.done),
            "steps_already_done": list(self.already),
            "stopped_before": self.stopped_before,
            "steps_remaining": list(self.remaining),
            "resources": {name: data[name] for name in RESOURCE_FIELDS if data[name] is not None},
            "evaluation": self.evaluation,
        }


def _sends_billed_request(step_id: str, run: Run) -> bool:
    """Whether doing the step now sends a request that bills: a launch always (a repeat with
    the saved token re-attaches, but only AWS knows whether the first one got there); a deploy
    unless the run already has its deployment (then it only waits for it)."""
    if step_id == "deploy":
        return run.serving_arn is None
    if step_id == "import":
        return run.import_job_arn is None
    if step_id == "train":
        return run.job_arn is None
    return step_id in BILLING


def billing_question(step_id: str, run: Run) -> str:
    """What confirming a billed step means, for `confirm`."""
    if step_id == "launch":
        sizes = f"{fmt.plural(run.train_size or 0, 'training record')}"
        return (
            f"Launch a customization job of {run.base_model_id} on {sizes}? Training is billed "
            "per token and epoch, and the custom model's storage per month until you delete it."
        )
    if step_id == "train":
        return training_question(run)
    if step_id == "import":
        return (
            f"Import {run.model_source} into Bedrock? The imported model's storage is billed "
            "per month, and each 5-minute window a copy of it is active, until you delete it "
            "(`bedrock-tune teardown`)."
        )
    kind = ServingKind(run.serving_kind or ServingKind.PROVISIONED_THROUGHPUT)
    if kind is ServingKind.PROVISIONED_THROUGHPUT:
        return (
            "Buy provisioned throughput for the custom model? It bills every hour, used or "
            "not, until you delete it (`bedrock-tune teardown`)."
        )
    return (
        "Deploy the custom model on demand? Its answers are billed per token while it exists "
        "(no idle cost); delete it with `bedrock-tune teardown`."
    )


Confirm = Callable[[str, str], bool]
"""`confirm(step_id, question)`: whether to do a billed step."""


def replay(
    recipe: RecipeFile,
    context: AwsContext,
    place: Run,
    registry: Registry,
    settings: ReplaySettings,
    *,
    confirm: Confirm,
    on_event: Callable[[ReplayEvent], None],
) -> ReplayResult:
    """Replay `recipe` where `place` works (its checked identity, region and endpoint): find
    the recipe's run there or start one, and do each replayed step not done yet, in order,
    saving the run in the registry after each. Blocking: call from a worker or the CLI.

    Raises:
        NotReplayableError: the recipe's route has no replay yet.
        ValidationError: `settings.until` is not a replayed step; a value the AWS side
            refuses; another replay of the recipe runs here now.
        RecipeError: a recipe value the world refuses (with the recipe's line).
        ReplayStepFailed: a step's outcome is bad (invalid data, a failed job).
        BedrockTuneError: an AWS call failed (the run is saved as far as it got).
    """
    try:
        with HolderLock(replay_lock_path(registry, recipe, place), f"replay of {recipe.where}"):
            return _replay_locked(recipe, context, place, registry, settings, confirm, on_event)
    except LockBusyError as busy:
        holder = busy.holder.describe() if busy.holder else "another process"
        raise ValidationError(
            f"Another replay of {recipe.where} is running here ({holder}).",
            title="Already replaying",
            hint="Let it finish (or stop it); the same command then continues its run.",
        ) from None


def replay_lock_path(registry: Registry, recipe: RecipeFile, place: Run) -> Path:
    """The lock a replay of `recipe` in `place` holds while it runs: two replays of one recipe
    in one place at once would both start a run (and a job)."""
    where = json.dumps([place.target, place.account_id, place.region, place.endpoint_url])
    digest = hashlib.sha256(f"{recipe_digest(recipe.recipe)} {where}".encode()).hexdigest()
    return registry.directory / "locks" / f"replay-{digest[:16]}.lock"


def _replay_locked(
    recipe: RecipeFile,
    context: AwsContext,
    place: Run,
    registry: Registry,
    settings: ReplaySettings,
    confirm: Confirm,
    on_event: Callable[[ReplayEvent], None],
) -> ReplayResult:
    started = start_replay(recipe, place, registry.runs(), new=settings.new)
    run = started.run
    ids = replayed_steps(run)  # the route first: "not yet replayable" before anything else
    check_until(run, settings.until)
    assert run.run_id is not None  # start_replay always names the run

    recorded = started.resumed

    def save(changed: Run) -> Run:
        nonlocal recorded
        registry.save_run(changed.run_id or "", changed)
        recorded = True
        return changed

    def result(stopped_before: str | None, remaining: tuple[str, ...]) -> ReplayResult:
        if not recorded:  # stopped after the checks alone: the run is kept all the same
            save(run)
        evaluation = evaluation_summary(registry, run) if "evaluate" in (*done, *already) else None
        return ReplayResult(
            run, started.resumed, tuple(done), tuple(already), stopped_before, remaining, evaluation
        )

    current = ids[0]
    shop = Workshop(
        context,
        registry,
        recipe,
        settings,
        note=lambda message: on_event(ReplayEvent(current, "note", message)),
        save=save,
    )
    done: list[str] = []
    already: list[str] = []
    for index, step_id in enumerate(ids):
        current = step_id
        work = _WORK[run.route][step_id]
        if work.done(run) or (work.stored is not None and work.stored(registry, run)):
            already.append(step_id)
            on_event(ReplayEvent(step_id, "already"))
        else:
            if _sends_billed_request(step_id, run) and not confirm(
                step_id,
                evaluation_question(shop, run)
                if step_id == "evaluate"
                else billing_question(step_id, run),
            ):
                return result(step_id, ids[index:])
            if not work.check and not recorded:
                save(run)  # before the first step that makes something: a kill leaves a run
            on_event(ReplayEvent(step_id, "start"))
            changed = work.do(shop, run)
            run = changed if work.check and not recorded else save(changed)
            done.append(step_id)
            on_event(ReplayEvent(step_id, "done"))
        if step_id == settings.until:
            return result(None, ids[index + 1 :])
    return result(None, ())
