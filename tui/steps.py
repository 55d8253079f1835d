"""The wizard's steps, in order: which screen shows each, and when it is possible.

Only steps that are built appear here (a step that is not finished is not shown). A step is
*blocked* while an earlier choice is missing; the reason is shown in the sidebar.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual.screen import Screen

from core.run import Run


@dataclass(frozen=True)
class Step:
    """One step of the wizard."""

    id: str
    title: str
    description: str
    screen: Callable[[], Screen[None]]
    blocked: Callable[[Run], str | None]
    """Why the step is not possible for this run yet (None when it is)."""
    done: Callable[[Run], bool]


def _credentials_screen() -> Screen[None]:
    from screens.credentials import CredentialsScreen

    return CredentialsScreen()


def _model_screen() -> Screen[None]:
    from screens.model import ModelScreen

    return ModelScreen()


def _dataset_screen() -> Screen[None]:
    from screens.dataset import DatasetScreen

    return DatasetScreen()


def _template_screen() -> Screen[None]:
    from screens.template import TemplateScreen

    return TemplateScreen()


def _prepare_screen() -> Screen[None]:
    from screens.prepare import PrepareScreen

    return PrepareScreen()


def _validate_screen() -> Screen[None]:
    from screens.validate import ValidateScreen

    return ValidateScreen()


def _needs_prepared(run: Run) -> str | None:
    return _needs_model(run) or (None if run.prepared_dir else "prepare the files first")


def _needs_dataset(run: Run) -> str | None:
    return _needs_model(run) or (None if run.source_location else "choose a dataset first")


def _needs_template(run: Run) -> str | None:
    return _needs_dataset(run) or (None if run.template_toml else "write the template first")


def _infrastructure_screen() -> Screen[None]:
    from screens.infrastructure import InfrastructureScreen

    return InfrastructureScreen()


def _needs_prepared_data(run: Run) -> str | None:
    return _needs_identity(run) or (None if run.prepared_dir else "prepare the data first")


def _launch_screen() -> Screen[None]:
    from screens.launch import LaunchScreen

    return LaunchScreen()


def _watch_screen() -> Screen[None]:
    from screens.watch import WatchScreen

    return WatchScreen()


def _needs_model(run: Run) -> str | None:
    return _needs_identity(run) or (None if run.base_model_id else "choose a base model first")


def _deploy_screen() -> Screen[None]:
    from screens.deploy import DeployScreen

    return DeployScreen()


def _chat_screen() -> Screen[None]:
    from screens.chat import ChatScreen

    return ChatScreen()


def _evaluate_screen() -> Screen[None]:
    from screens.evaluate import EvaluateScreen

    return EvaluateScreen()


def _needs_serving(run: Run) -> str | None:
    ready = run.serving_status in ("Active", "InService")
    return _needs_identity(run) or (None if ready else "deploy the model first")


def _needs_custom_model(run: Run) -> str | None:
    return _needs_identity(run) or (
        None if run.custom_model_arn else "a completed customization job first"
    )


def _needs_identity(run: Run) -> str | None:
    return None if run.identity_checked else "check your credentials first"


def _teardown_screen() -> Screen[None]:
    from screens.teardown import TeardownScreen

    return TeardownScreen()


STEPS: tuple[Step, ...] = (
    Step(
        id="credentials",
        title="Credentials",
        description="Pick an AWS profile (or the sandbox) and a region; check who you are.",
        screen=_credentials_screen,
        blocked=lambda run: None,
        done=lambda run: run.identity_checked,
    ),
    Step(
        id="model",
        title="Base model",
        description="Choose the foundation model to customize and how (fine-tuning, "
        "continued pre-training, distillation), with its limits and prices.",
        screen=_model_screen,
        blocked=_needs_identity,
        done=lambda run: run.base_model_id is not None,
    ),
    Step(
        id="dataset",
        title="Dataset",
        description="Open a Hugging Face dataset, a local JSONL / JSON / CSV / Parquet file, or "
        "a save_to_disk folder; see its columns, row count and records.",
        screen=_dataset_screen,
        blocked=_needs_model,
        done=lambda run: run.source_location is not None,
    ),
    Step(
        id="template",
        title="Template",
        description="Write the system prompt and the user and assistant texts with {column} "
        "placeholders (or start from a preset), and see each record as the exact JSON line "
        "Bedrock will get, with its size against the model's limit. Ctrl+] / Ctrl+[ move "
        "between records.",
        screen=_template_screen,
        blocked=_needs_dataset,
        done=lambda run: run.template_toml is not None,
    ),
    Step(
        id="prepare",
        title="Prepare",
        description="Choose sizes inside the model's limits, a maximum length, dedupe and a "
        "seed, and write train / validation / test JSONL files with a manifest.",
        screen=_prepare_screen,
        blocked=_needs_template,
        done=lambda run: run.prepared_dir is not None,
    ),
    Step(
        id="validate",
        title="Validate",
        description="Check every record against the model's rules (format, roles, reserved "
        "strings, media, estimated tokens, counts, sizes, names, duplicates), see the token "
        "statistics and the cost estimate, open the record behind a problem, and fix the data "
        "into new files. Any JSONL file can be checked too.",
        screen=_validate_screen,
        blocked=_needs_prepared,
        done=lambda run: run.validated_ok is True and run.validated_dir == run.prepared_dir,
    ),
    Step(
        id="infrastructure",
        title="Infrastructure",
        description="See the plan first: the S3 bucket and the service role, each marked "
        "create, reuse or update, with the exact policy JSON. Create them (every call logged), "
        "fix a reused bucket or role that is not right, then upload the prepared files with a "
        "progress bar per file.",
        screen=_infrastructure_screen,
        blocked=_needs_prepared_data,
        done=lambda run: run.training_uri is not None,
    ),
    Step(
        id="launch",
        title="Launch",
        description="Name the job, point it at the data and the service role, set the "
        "hyperparameters (checked against the model's ranges), review the exact request, and "
        "launch it once: a stored client request token makes a retry safe.",
        screen=_launch_screen,
        blocked=_needs_model,
        done=lambda run: run.job_arn is not None,
    ),
    Step(
        id="watch",
        title="Watch",
        description="Follow the job live: phases, elapsed time, the loss curves as they appear, "
        "a stall warning, the failure explained, and Stop. The region's jobs are listed below "
        "(bedrock-tune's marked with ★); open any of them.",
        screen=_watch_screen,
        blocked=_needs_identity,
        done=lambda run: run.job_status == "Completed",
    ),
    Step(
        id="deploy",
        title="Deploy",
        description="Serve the custom model: an on-demand deployment where the model supports "
        "it (no idle cost), else provisioned throughput (billed every hour until deleted, "
        "confirmed with its price). Every billable resource is recorded at once.",
        screen=_deploy_screen,
        blocked=_needs_custom_model,
        done=lambda run: run.serving_status in ("Active", "InService"),
    ),
    Step(
        id="chat",
        title="Chat",
        description="Talk to the deployed model (streamed) with the system prompt it was "
        "trained with; compare mode sends each message to the base model too and shows both "
        "answers with latency and tokens. Load a test record to see its reference answer.",
        screen=_chat_screen,
        blocked=_needs_serving,
        done=lambda run: False,
    ),
    Step(
        id="evaluate",
        title="Evaluate",
        description="Run N test records through the tuned and the base model, score them with "
        "ROUGE-1/2/L and exact match, see the worst and best records, and save a JSON / CSV "
        "report beside the test file.",
        screen=_evaluate_screen,
        blocked=_needs_serving,
        done=lambda run: False,
    ),
    Step(
        id="teardown",
        title="Teardown",
        description="List everything bedrock-tune made (from the registry and the "
        "bedrock-tune:managed tag), billable first with its cost, tick what to delete, confirm "
        "once, and watch it go in a safe order. A bucket or role bedrock-tune did not create is "
        "never deleted.",
        screen=_teardown_screen,
        blocked=_needs_identity,
        done=lambda run: False,
    ),
)


def step_by_id(step_id: str) -> Step:
    """The step called `step_id` (KeyError when there is none)."""
    for step in STEPS:
        if step.id == step_id:
            return step
    raise KeyError(step_id)
