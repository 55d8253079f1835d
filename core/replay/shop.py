"""What every replayed step works with: the command line's settings, the recipe, the AWS
context and the registry (`Workshop`), and the error a step's bad outcome raises."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from core.aws import AwsContext
from core.errors import BedrockTuneError
from core.recipe import RecipeFile
from core.registry import Registry
from core.run.types import Run


class ReplayStepFailed(BedrockTuneError):
    """A step ran and its outcome is bad (invalid data, a failed job or deployment): the
    recipe or its data need a fix, not the command line."""

    default_title = "Replay stopped"


@dataclass(frozen=True)
class ReplaySettings:
    """What the command line adds to a recipe, and how long to wait between polls."""

    until: str | None = None
    """Stop after this step (None: every replayed step)."""
    kms_key: str | None = None
    """The KMS key for a recipe whose run encrypted with one (it is not kept in recipes)."""
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    poll_interval: float = 15.0
    """Seconds before the first status poll of the job and the deployment (then backing off)."""
    sleep: Callable[[float], None] = time.sleep
    """How polls wait (tests pass a fake clock's sleep)."""
    accept_eula: bool = False
    """The base model's licence is accepted (serverless training needs it said explicitly;
    recipes keep no acceptance)."""
    new: bool = False
    """Start a new run even when a run of this recipe is saved in the same place."""


@dataclass
class Workshop:
    """What every step works with."""

    context: AwsContext
    registry: Registry
    recipe: RecipeFile
    settings: ReplaySettings
    note: Callable[[str], None]
    """Progress of the current step (a line for a person)."""
    save: Callable[[Run], Run]
    """Save the run in the registry now (before a billed request) and return it."""
