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


def _launch_screen() -> Screen[None]:
    from screens.launch import LaunchScreen

    return LaunchScreen()


def _watch_screen() -> Screen[None]:
    from screens.watch import WatchScreen

    return WatchScreen()


def _needs_model(run: Run) -> str | None:
    return _needs_identity(run) or (None if run.base_model_id else "choose a base model first")


def _needs_identity(run: Run) -> str | None:
    return None if run.identity_checked else "check your credentials first"


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
)


def step_by_id(step_id: str) -> Step:
    """The step called `step_id` (KeyError when there is none)."""
    for step in STEPS:
        if step.id == step_id:
            return step
    raise KeyError(step_id)
