"""The sagemaker-import route's own replayed steps: the training choices checked (the model
step), the SageMaker training started once (train) and followed to its end (watch), then the
trained model checked and imported (import-check, import) with the import-only route's steps.
The data steps and the infrastructure are the customization route's (`core.replay.work`).

The training job's name is saved in the run before CreateTrainingJob (SageMaker takes no client
token: the name is the token), and a job of that name tagged with the run's id is re-attached
(`core.sagemaker.launching`), so a rerun after a kill never trains twice. As in the app, the
import reads the model where the training wrote it (`S3ModelArtifacts`, uncompressed), with its
own import role beside SageMaker's execution role.
"""

from __future__ import annotations

import re
from dataclasses import replace

from core.catalog.open_weight import OPEN_WEIGHT_MODELS
from core.importing.role import ensure_import_role
from core.poll import Backoff, Pacing, PollUpdate
from core.replay.checks import check_model_here, check_recipe_sizes, model_of
from core.replay.importing import do_import, do_import_check
from core.replay.shop import ReplayStepFailed, Workshop
from core.run.types import Run
from core.sagemaker.failures import explain_failure
from core.sagemaker.launching import (
    TRAINING_JOB,
    WALKTHROUGH_HOURS,
    job_ended,
    launch_training,
    training_cost,
    training_job_name,
)
from core.sagemaker.training import (
    DEFAULT_INSTANCE,
    SEQUENCE_LENGTH,
    qlora_hyperparameter_problem,
)
from core.sagemaker.watch import TrainingSnapshot, describe_training_job, training_poller
from core.statuses import JobStatus

INSTANCE_TYPE = re.compile(r"ml\.[a-z0-9]+\.[a-z0-9]+")
"""A SageMaker training instance type (`ml.g5.12xlarge`)."""


def check_training(shop: Workshop, run: Run) -> Run:
    """The model step of a sagemaker-import recipe: an open-weight base model the train step
    offers, importable in the run's region; a training mode with what it needs (a sequence
    length SageMaker takes and the licence accepted for serverless, an instance type for an
    instance); hyperparameters the QLoRA script takes; sizes the model takes."""
    model, _ = model_of(shop, run)
    offered = {m.hub_id for m in OPEN_WEIGHT_MODELS}
    if model.id not in offered:
        raise shop.recipe.field_error(
            "base_model_id",
            f"{model.name} is not an open-weight model SageMaker trains here.",
            f"Use one of: {', '.join(sorted(offered))}.",
        )
    check_model_here(
        shop, run, model, f"a model trained from {model.name} cannot be imported in {run.region}."
    )
    if shop.recipe.recipe.choices.get("model_source"):  # the run's own is the training's
        raise shop.recipe.field_error(
            "model_source",
            "a sagemaker-import recipe imports the model it trains: it takes no model_source.",
            "Remove the line (import-only recipes name a model to import).",
        )
    _check_mode(shop, run)
    check_recipe_sizes(shop, run, model)
    how = (
        f"on {run.instance_type}" + (" (spot)" if run.spot else "")
        if run.training_mode == "instance"
        else f"serverless {run.training_technique or 'SFT'}"
    )
    shop.note(f"{model.name}, trained on SageMaker {how}")
    return run


def _check_mode(shop: Workshop, run: Run) -> None:
    """The [training] section holds what its mode needs, and the hyperparameters fit it."""
    recipe = shop.recipe
    if run.training_mode is None:
        raise recipe.error(
            "training",
            None,
            "the recipe says not how SageMaker trains (no `mode` in [training]).",
            'Add `mode = "serverless"` or `mode = "instance"` to [training].',
        )
    if run.training_mode == "serverless":
        if run.sequence_length and not SEQUENCE_LENGTH.fullmatch(run.sequence_length):
            raise recipe.error(
                "training",
                "sequence_length",
                f"'{run.sequence_length}' is not a sequence length SageMaker takes.",
                'A number of K, e.g. "8K".',
            )
        if not shop.settings.accept_eula:
            raise recipe.error(
                "training",
                "mode",
                "serverless training needs the base model's licence (EULA) accepted "
                "explicitly, and recipes keep no acceptance.",
                "Read the licence, then pass --accept-eula.",
            )
        return
    if not run.instance_type or not INSTANCE_TYPE.fullmatch(run.instance_type):
        raise recipe.error(
            "training",
            "instance_type" if run.instance_type else "mode",
            f"'{run.instance_type or ''}' is not a SageMaker training instance type."
            if run.instance_type
            else "an instance training needs `instance_type` in [training].",
            'For example instance_type = "ml.g5.12xlarge".',
        )
    for name, value in run.hyperparameters.items():
        wrong = qlora_hyperparameter_problem(name, str(value))
        if wrong:
            raise recipe.error(
                "hyperparameters", name, wrong + ".", "Fix or remove it in [hyperparameters]."
            )


def do_train(shop: Workshop, run: Run) -> Run:
    """Start the training once: the run, with the job's name, is saved before the request; a
    rerun finds the job that name and the run's id made instead of starting a second."""
    if run.job_name is None:
        run = replace(
            run,
            job_name=training_job_name(run.base_model_id or ""),
            eula_accepted=shop.settings.accept_eula if run.training_mode == "serverless" else None,
        )
    run = shop.save(run)  # before the call: a rerun looks the name up
    launched = launch_training(shop.context, run, shop.registry)
    verb = "re-attached to" if launched.reattached else "started"
    shop.note(f"{verb} the training job {run.job_name}")
    return launched.run


def training_question(run: Run) -> str:
    """What confirming the train step means: the job, where it runs, and what it may cost
    (the reference's hourly rate for the walkthrough's hours; serverless has no known rate)."""
    mode = run.training_mode or "serverless"
    instance = run.instance_type or DEFAULT_INSTANCE
    cost = training_cost(mode, instance, WALKTHROUGH_HOURS, None, spot=bool(run.spot))
    where = "serverless customization" if mode == "serverless" else f"one {instance} instance"
    said = " ".join(line if line.endswith((".", "?", "!")) else f"{line}." for line in cost.lines)
    return (
        f"Train {run.base_model_id} on SageMaker ({where}) with the uploaded data? {said} "
        "The imported model is asked for next."
    )


def trained(run: Run) -> bool:
    """The training completed and the run knows where its model is."""
    return run.job_status is JobStatus.COMPLETED and run.model_source is not None


def do_train_watch(shop: Workshop, run: Run) -> Run:
    """Follow the training job to its end; a completed job's model becomes the import's source
    (read where SageMaker wrote it), a failed or stopped one stops the replay with why."""
    context, name = shop.context, run.job_name or ""

    def reported(update: PollUpdate[TrainingSnapshot]) -> None:
        if update.error is not None:
            shop.note(f"(status check failed, retrying: {update.error.message})")
        elif update.changed and update.value is not None:
            snapshot = update.value
            shop.note(f"{snapshot.name}: {snapshot.status} ({snapshot.secondary_status})")

    poller = training_poller(
        lambda: describe_training_job(context, name),
        backoff=Backoff.starting_at(shop.settings.poll_interval),
        pacing=Pacing(sleep=shop.settings.sleep),
    )
    final = poller.run(reported)
    assert final is not None  # never cancelled: run returns once the job has ended
    job_ended(shop.registry, TRAINING_JOB, final.name)  # it bills nothing more
    status = JobStatus(final.status) if final.status in {s.value for s in JobStatus} else None
    run = replace(run, job_status=status)
    if final.status != "Completed" or not final.model_artifacts:
        shop.save(run)
        raise ReplayStepFailed(
            f"The training job {final.name} ended {final.status}"
            + (f": {final.failure_reason}" if final.failure_reason else "."),
            hint=explain_failure(final) or "Fix the cause, then replay with --new for a new job.",
        )
    shop.note(f"the trained model is at {final.model_artifacts}")
    return replace(
        run,
        model_artifacts=final.model_artifacts,
        model_source=final.model_artifacts,
        model_uri=final.model_artifacts,
        model_checked_ok=None,
    )


def do_trained_import(shop: Workshop, run: Run) -> Run:
    """Set up the import role (SageMaker's execution role trained the model; the import has its
    own, reading only the model folders), then import the trained model once."""
    if run.import_role_arn is None and run.import_job_arn is None:
        run = shop.save(ensure_import_role(shop.context, run, shop.registry))
    return do_import(shop, run)


__all__ = [
    "check_training",
    "do_import_check",
    "do_train",
    "do_train_watch",
    "do_trained_import",
    "trained",
    "training_question",
]
