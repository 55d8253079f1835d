"""The steps of each route, as data: id, title, description, when a step is done and when it is
possible, in the order DESIGN.md's route table gives.

The sidebar, Ctrl+N (next step), the command palette and resume all read this one table. The
TUI maps step ids to screens; a route is offered to users only when every one of its steps has a
screen (`routes_offered`), so a route still being built is carried by the table, the registry
and the sidebar but never shown.

"Possible when" is written as `blocked(run)`: the reason the step is not possible yet, or None.
Every function here is a pure function of the run.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Literal

from core.run.status import import_in_progress, serving_pending
from core.run.types import Route, Run
from core.statuses import JobStatus, ServingKind

Follows = Literal["job", "import", "serving"]


@dataclass(frozen=True)
class Step:
    """One step of a route."""

    id: str
    title: str
    description: str
    done: Callable[[Run], bool]
    """Whether the step's work is done for this run."""
    blocked: Callable[[Run], str | None]
    """Why the step is not possible for this run yet (None when it is)."""
    follows: Follows | None = None
    """What the step watches over time (a restart lands on it when that is still going)."""


# ---------------------------------------------------------------------- "possible when"

_IMPORTING_ROUTES = frozenset({Route.SAGEMAKER_IMPORT, Route.IMPORT_ONLY})
"""Routes that end with Custom Model Import: the imported model is served on demand."""


def _needs_identity(run: Run) -> str | None:
    return None if run.identity_checked else "check your credentials first"


def _needs_model(run: Run) -> str | None:
    return _needs_identity(run) or (None if run.base_model_id else "choose a base model first")


def _needs_dataset(run: Run) -> str | None:
    return _needs_model(run) or (None if run.source_location else "choose a dataset first")


def _needs_template(run: Run) -> str | None:
    return _needs_dataset(run) or (None if run.template_toml else "write the template first")


def _needs_prepared(run: Run) -> str | None:
    return _needs_model(run) or (None if run.prepared_dir else "prepare the files first")


def _needs_infrastructure_input(run: Run) -> str | None:
    if run.route is Route.IMPORT_ONLY:  # nothing to upload: the model is imported from its source
        return _needs_identity(run) or (
            None if run.model_source else "choose the model to import first"
        )
    return _needs_identity(run) or (None if run.prepared_dir else "prepare the data first")


def _needs_uploaded_data(run: Run) -> str | None:
    return _needs_model(run) or (None if run.training_uri else "upload the data first")


def _needs_model_source(run: Run) -> str | None:
    return _needs_identity(run) or (None if run.model_source else "a model to import first")


def _needs_checked_model(run: Run) -> str | None:
    return (
        _needs_model_source(run)
        or (None if run.model_checked_ok else "check the model first")
        or (None if run.role_arn else "set up the infrastructure first")
    )


def _needs_custom_model(run: Run) -> str | None:
    return _needs_identity(run) or (
        None if run.custom_model_arn else "a completed customization job first"
    )


def servable(run: Run) -> bool:
    """Whether the run's model can be called: an imported model as soon as it exists, a
    customized one once its throughput, deployment or endpoint is ready."""
    if run.route in _IMPORTING_ROUTES:
        return run.custom_model_arn is not None
    return run.serving_status is not None and run.serving_status.ready


def serving_target(run: Run) -> str | None:
    """The model id the chat and evaluate steps ask: the imported model on the import routes,
    `endpoint:NAME` for a SageMaker endpoint, else the provisioned throughput or deployment
    (None while there is none)."""
    if run.route in _IMPORTING_ROUTES:
        return run.custom_model_arn
    if run.serving_kind is ServingKind.SAGEMAKER_ENDPOINT:
        return f"endpoint:{run.endpoint_name}" if run.endpoint_name and run.serving_arn else None
    return run.serving_arn


def _needs_trained_model(run: Run) -> str | None:
    """The endpoint step: a completed training or Autopilot job to serve."""
    trained = run.job_name is not None and run.job_status is JobStatus.COMPLETED
    return _needs_identity(run) or (None if trained else "a completed training job first")


def _needs_serving(run: Run) -> str | None:
    # An imported model is served as soon as it exists: there is no deploy step to point at.
    todo = "import the model first" if run.route in _IMPORTING_ROUTES else "deploy the model first"
    return _needs_identity(run) or (None if servable(run) else todo)


def _never_done(run: Run) -> bool:
    """Steps that can always be done again (evaluate, teardown) are never "done"."""
    return False


def _chatted(run: Run) -> bool:
    """The model the run serves now has answered in the chat (a model deployed since has
    not)."""
    return run.chatted_with is not None and run.chatted_with in (
        run.serving_arn,
        run.custom_model_arn,
        serving_target(run),
    )


# ---------------------------------------------------------------------- the steps

_ALL_STEPS: tuple[Step, ...] = (
    Step(
        "credentials",
        "Credentials",
        "Pick an AWS profile (or the sandbox) and a region; check who you are.",
        done=lambda run: run.identity_checked,
        blocked=lambda run: None,
    ),
    Step(
        "model",
        "Base model",
        "Choose the foundation model to customize and how (fine-tuning, continued "
        "pre-training, distillation), with its limits and prices.",
        done=lambda run: run.base_model_id is not None,
        blocked=_needs_identity,
    ),
    Step(
        "model-source",
        "Model source",
        "Point at the tuned model to import: a local folder, an s3:// URI or a Hugging Face id.",
        done=lambda run: run.model_source is not None,
        blocked=_needs_identity,
    ),
    Step(
        "dataset",
        "Dataset",
        "Open a Hugging Face dataset, a local JSONL / JSON / CSV / Parquet file, or a "
        "save_to_disk folder; see its columns, row count and records.",
        done=lambda run: run.source_location is not None,
        blocked=_needs_model,
    ),
    Step(
        "template",
        "Template",
        "Write the system prompt and the user and assistant texts with {column} placeholders "
        "(or start from a preset), and see each record as the exact JSON line Bedrock will get, "
        "with its size against the model's limit. F8 / F7 move between records.",
        done=lambda run: run.template_toml is not None,
        blocked=_needs_dataset,
    ),
    Step(
        "prepare",
        "Prepare",
        "Choose sizes inside the model's limits, a maximum length, dedupe and a seed, and "
        "write train / validation / test JSONL files with a manifest.",
        done=lambda run: run.prepared_dir is not None,
        blocked=_needs_template,
    ),
    Step(
        "validate",
        "Validate",
        "Check every record against the model's rules (format, roles, reserved strings, "
        "media, estimated tokens, counts, sizes, names, duplicates), see the token statistics "
        "and the cost estimate, open the record behind a problem, and fix the data into new "
        "files. Any JSONL file can be checked too.",
        done=lambda run: run.validated_ok is True and run.validated_dir == run.prepared_dir,
        blocked=_needs_prepared,
    ),
    Step(
        "infrastructure",
        "Infrastructure",
        "See the plan first: the S3 bucket and the service role, each marked create, reuse or "
        "update, with the exact policy JSON. Create them (every call logged), fix a reused "
        "bucket or role that is not right, then upload the prepared files with a progress bar "
        "per file.",
        done=lambda run: (
            run.role_arn is not None
            if run.route is Route.IMPORT_ONLY
            else run.training_uri is not None
        ),
        blocked=_needs_infrastructure_input,
    ),
    Step(
        "launch",
        "Launch",
        "Name the job, point it at the data and the service role, set the hyperparameters "
        "(checked against the model's ranges), review the exact request, and launch it once: "
        "a stored client request token makes a retry safe.",
        done=lambda run: run.job_arn is not None,
        blocked=_needs_model,
    ),
    Step(
        "train",
        "Train",
        "Start the SageMaker training (serverless customization or a training job running the "
        "QLoRA script) on the uploaded data, once: a stored token makes a retry safe.",
        done=lambda run: run.job_arn is not None,
        blocked=_needs_uploaded_data,
    ),
    Step(
        "watch",
        "Watch",
        "Follow the job live: phases, elapsed time, the loss curves as they appear, a stall "
        "warning, the failure explained, and Stop. The region's jobs are listed below "
        "(bedrock-tune's marked with ★); open any of them.",
        done=lambda run: run.job_status is JobStatus.COMPLETED,
        blocked=_needs_identity,
        follows="job",
    ),
    Step(
        "import-check",
        "Import check",
        "Check the model before importing it: architecture, files, size and the Region's "
        "import limits.",
        done=lambda run: run.model_checked_ok is True,
        blocked=_needs_model_source,
    ),
    Step(
        "import",
        "Import",
        "Import the model into Bedrock with Custom Model Import and follow the import job.",
        done=lambda run: run.custom_model_arn is not None,
        blocked=_needs_checked_model,
        follows="import",
    ),
    Step(
        "deploy",
        "Deploy",
        "Serve the custom model: an on-demand deployment where the model supports it (no idle "
        "cost), else provisioned throughput (billed every hour until deleted, confirmed with "
        "its price). Every billable resource is recorded at once.",
        done=lambda run: run.serving_status is not None and run.serving_status.ready,
        blocked=_needs_custom_model,
        follows="serving",
    ),
    Step(
        "endpoint",
        "Endpoint",
        "Serve the model on a SageMaker real-time endpoint (billed every hour until deleted, "
        "confirmed with its price).",
        done=lambda run: run.serving_status is not None and run.serving_status.ready,
        blocked=_needs_trained_model,
        follows="serving",
    ),
    Step(
        "chat",
        "Chat",
        "Talk to the deployed model (streamed) with the system prompt it was trained with; "
        "compare mode sends each message to the base model too and shows both answers with "
        "latency and tokens. Load a test record to see its reference answer. Done once the "
        "model has answered.",
        done=_chatted,
        blocked=_needs_serving,
    ),
    Step(
        "evaluate",
        "Evaluate",
        "Run N test records through the tuned and the base model, score them with "
        "ROUGE-1/2/L and exact match, see the worst and best records, and save a JSON / CSV "
        "report beside the test file.",
        done=_never_done,
        blocked=_needs_serving,
    ),
    Step(
        "teardown",
        "Teardown",
        "List everything this install made (from the registry and its install id in the "
        "tags), billable first with its cost, tick what to delete, confirm once, and watch it "
        "go in a safe order. What bedrock-tune made elsewhere is listed apart and never ticked "
        "for you; a bucket or role bedrock-tune did not create is never deleted.",
        done=_never_done,
        blocked=_needs_identity,
    ),
)

STEPS: dict[str, Step] = {step.id: step for step in _ALL_STEPS}
"""Every step any route has, by id."""

_TRAIN_ON_DATA = ("credentials", "model", "dataset", "template", "prepare", "validate")
_AFTER_SERVING = ("chat", "evaluate", "teardown")

ROUTE_STEPS: dict[Route, tuple[str, ...]] = {
    Route.BEDROCK_CUSTOMIZATION: (
        *_TRAIN_ON_DATA,
        "infrastructure",
        "launch",
        "watch",
        "deploy",
        *_AFTER_SERVING,
    ),
    Route.SAGEMAKER_IMPORT: (
        *_TRAIN_ON_DATA,
        "infrastructure",
        "train",
        "watch",
        "import-check",
        "import",
        *_AFTER_SERVING,
    ),
    Route.IMPORT_ONLY: (
        "credentials",
        "model-source",
        "import-check",
        "infrastructure",
        "import",
        *_AFTER_SERVING,
    ),
    Route.SAGEMAKER_AUTOPILOT: (
        *_TRAIN_ON_DATA,
        "infrastructure",
        "launch",
        "watch",
        "endpoint",
        *_AFTER_SERVING,
    ),
    Route.SAGEMAKER_JUMPSTART: (
        *_TRAIN_ON_DATA,
        "infrastructure",
        "launch",
        "watch",
        "endpoint",
        *_AFTER_SERVING,
    ),
}
"""Each route's steps in order (DESIGN.md section 1, "Routes")."""

FIRST_STEP = "credentials"
"""Every route starts by choosing where to work."""


def step(step_id: str) -> Step:
    """The step called `step_id` (KeyError when there is none)."""
    return STEPS[step_id]


def steps_of(route: Route) -> tuple[Step, ...]:
    """The route's steps, in order."""
    return tuple(STEPS[step_id] for step_id in ROUTE_STEPS[route])


def next_step(route: Route, after: str) -> Step | None:
    """The step after `after` on the route (None after the last, or for a step not on it)."""
    ids = ROUTE_STEPS[route]
    if after not in ids:
        return None
    index = ids.index(after)
    return STEPS[ids[index + 1]] if index + 1 < len(ids) else None


def routes_offered(built: Collection[str]) -> tuple[Route, ...]:
    """The routes whose every step is in `built` (the step ids that have a screen): the only
    routes a user is offered. A route with a step still to build is not shown anywhere."""
    return tuple(r for r in Route if all(step_id in built for step_id in ROUTE_STEPS[r]))


def landing_step(run: Run) -> str:
    """Where a re-attached run continues: the route's step that follows what is still going
    (a deployment being created, else an import, else the job), or, when the job was never
    created (the launch was interrupted before it reached AWS), the step before it that launches
    it again (an import is launched and followed by the same step)."""
    wanted: Follows = (
        "serving" if serving_pending(run) else "import" if import_in_progress(run) else "job"
    )
    ids = ROUTE_STEPS[run.route]
    index = next((i for i, s in enumerate(ids) if STEPS[s].follows == wanted), None)
    if index is None:
        return FIRST_STEP
    if wanted == "job" and run.job_arn is None and index > 0:
        return ids[index - 1]
    return ids[index]
