"""An evaluation as a person chose it (`core.run.types.EvaluationChoices`, kept with the run)
turned into what `core.evaluation.evaluate` runs: the rubric, the judge, the base model and the
options. The Evaluate step, `bedrock-tune evaluate --run` and a recipe's replay all go through
here, so the same choices always evaluate the same way.

A rubric is named `preset:NAME`, `template` (the run's template's own [rubric] table), or kept
whole as TOML text (a custom rubric travels with the run and its recipe, not as a path).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import Any

from core.errors import NotFoundError, ValidationError
from core.evaluation.batch import DEFAULT_THRESHOLD, BatchPlace
from core.evaluation.evaluate import JudgeSetup, Options
from core.evaluation.judge import resolve_judge
from core.evaluation.rubrics import (
    PRESETS,
    Rubric,
    load_rubric,
    rubric_for_template,
    rubric_from_toml,
)
from core.evaluation.stats import DEFAULT_SEED
from core.registry import Registry
from core.run.types import EvaluationChoices, Run

TEMPLATE_RUBRIC = "template"
"""The rubric reference for the run's template's own [rubric] table."""


def _template_data(template_toml: str | None) -> dict[str, Any]:
    if not template_toml:
        return {}
    try:
        return tomllib.loads(template_toml)
    except tomllib.TOMLDecodeError:
        return {}


def default_rubric_reference(template_toml: str | None) -> str:
    """The rubric that fits a template: its own [rubric] table, else the preset of the same
    purpose, else the summarization preset."""
    data = _template_data(template_toml)
    if "rubric" in data:
        return TEMPLATE_RUBRIC
    fitting = rubric_for_template(str(data.get("name", "")))
    return f"preset:{fitting.name if fitting else 'summarization'}"


def resolve_rubric(reference: str | None, template_toml: str | None, where: str) -> Rubric:
    """The rubric `reference` names (None: the one that fits the template).

    Raises:
        ValidationError: an unknown preset, `template` with a template that has no [rubric]
            table, or custom TOML that is not a rubric (named with `where`).
    """
    reference = reference or default_rubric_reference(template_toml)
    if reference.startswith("preset:"):
        return load_rubric(reference)
    if reference == TEMPLATE_RUBRIC:
        data = _template_data(template_toml)
        if "rubric" not in data:
            raise ValidationError(
                f"{where}: the rubric is the template's, and the template has no [rubric] table.",
                title="Invalid rubric",
                hint="Name a preset (" + ", ".join(f"preset:{p}" for p in PRESETS) + ").",
            )
        return rubric_from_toml(data, f"{where} (the template's [rubric])")
    try:
        data = tomllib.loads(reference)
    except tomllib.TOMLDecodeError as error:
        raise ValidationError(
            f"{where}: the rubric is neither a preset, `template`, nor TOML ({error}).",
            title="Invalid rubric",
            hint="Name a preset (" + ", ".join(f"preset:{p}" for p in PRESETS) + "), "
            "`template`, or write the rubric as TOML with a [rubric] table.",
        ) from None
    return rubric_from_toml(data, where)


def base_inference_model(run: Run) -> str | None:
    """The inference id the run's base model answers by (None: it has none on Bedrock, as an
    open-weight model trained on SageMaker, or no base model is known)."""
    from core.catalog.lookup import find_model
    from core.serving.chat import base_inference_id

    if not run.base_model_id:
        return None
    try:
        return base_inference_id(find_model(run.base_model_id)) or None
    except NotFoundError:
        return None


@dataclass(frozen=True)
class Prepared:
    """The choices resolved for one evaluation of a run."""

    base: str | None
    """The base model's inference id (None: no comparison)."""
    options: Options


def prepare_evaluation(
    choices: EvaluationChoices,
    run: Run,
    *,
    registry: Registry | None,
    account_id: str = "",
    where: str = "the evaluation",
) -> Prepared:
    """What `evaluate` needs for `choices` on `run`: the base model to compare with, the judge
    and its rubric (checked before anything is sent), batch and the seed.

    Raises:
        ValidationError: fewer than 1 record, or a rubric that cannot be read.
        NotFoundError: a judge that is not a catalog base model.
    """
    if choices.records < 1:
        raise ValidationError(f"{where}: records must be at least 1.", hint="Evaluate 1 or more.")
    base = base_inference_model(run) if choices.compare_base else None
    judge = None
    if choices.judge_model:
        rubric = resolve_rubric(choices.rubric, run.template_toml, where)
        judge = JudgeSetup(
            resolve_judge(choices.judge_model), rubric, pairwise=choices.pairwise and bool(base)
        )
    options = Options(
        sql=choices.sql,
        judge=judge,
        batch=choices.batch,
        batch_threshold=choices.batch_threshold or DEFAULT_THRESHOLD,
        batch_place=BatchPlace.for_run(run),
        registry=registry,
        account_id=account_id or run.account_id or "",
        seed=DEFAULT_SEED if choices.seed is None else choices.seed,
        tuned_base_id=run.base_model_id,
    )
    return Prepared(base, options)
