"""The replayed steps that check a recipe against the world before anything is made: the
place (and what recipes do not keep), the model with its hyperparameters and sizes, the
dataset and the template. A value the world refuses is reported with the recipe's line, and a
recipe refused here leaves no run behind."""

from __future__ import annotations

import tomllib
from collections.abc import Callable

from core.catalog.lookup import end_of_life_problem, find_model
from core.catalog.types import BaseModel, Customization, CustomizationType
from core.data.prepare import (
    PrepareOptions,
    chars_limit_or_default,
    check_sizes,
    sizes_or_defaults,
)
from core.data.sources import SourceSpec, detect_kind
from core.data.templates import Template, check_syntax, template_from_dict
from core.errors import BedrockTuneError, DatasetError, NotFoundError, ValidationError
from core.infra.policies import check_bucket_name, check_role_name, prefix_problem
from core.replay.shop import Workshop
from core.run.types import Run


def model_of(shop: Workshop, run: Run) -> tuple[BaseModel, Customization]:
    """The run's base model and its customization, or the recipe's line that is wrong."""
    try:
        model = find_model(run.base_model_id or "")
    except NotFoundError as error:
        raise shop.recipe.field_error(
            "base_model_id",
            f"the base model '{run.base_model_id}' is not in this bedrock-tune's catalog.",
            error.hint or "Run `bedrock-tune models` for the models it knows.",
        ) from None
    kind = CustomizationType(run.customization_type)
    custom = model.customization(kind)
    if custom is None:
        raise shop.recipe.field_error(
            "customization_type",
            f"{model.name} does not support {kind.label.lower()}.",
            "Run `bedrock-tune models` to see what each model supports.",
        )
    return model, custom


def prepare_options(custom: Customization, run: Run) -> PrepareOptions:
    """The recipe's sizes, filters and seed, with the model's defaults for what it leaves out."""
    train, validation, test = sizes_or_defaults(
        custom.limits, run.train_size, run.validation_size, run.test_size
    )
    max_chars = chars_limit_or_default(custom.limits, run.train_size, run.max_chars, run.max_tokens)
    return PrepareOptions(
        train=train,
        validation=validation,
        test=test,
        max_chars=max_chars,
        max_tokens=run.max_tokens,
        dedupe=True if run.dedupe is None else run.dedupe,
        seed=42 if run.seed is None else run.seed,
        overwrite=True,  # the run's own folder: whatever is there is an earlier try of this run
    )


def _size_field(problem: str, run: Run) -> str:
    """The recipe key a size problem is about (the training size unless it names validation
    alone), so that the error shows that line."""
    if "validation" in problem and "training" not in problem and run.validation_size is not None:
        return "validation_size"
    return "train_size"


def check_recipe_sizes(shop: Workshop, run: Run, model: BaseModel) -> None:
    """Refuse sizes the model does not take, with the recipe's line, before anything is made
    (prepare would refuse them too, after the run was saved and without the line)."""
    _, custom = model_of(shop, run)
    kind = CustomizationType(run.customization_type)
    problems = check_sizes(model, kind, prepare_options(custom, run))
    if problems:
        raise shop.recipe.field_error(
            _size_field(problems[0], run),
            f"the sizes do not fit {model.name}: " + "; ".join(problems) + ".",
            "Lower the sizes in [prepare] (validation_size and test_size may be 0).",
        )


# --------------------------------------------------------------------------- checks


def check_credentials(shop: Workshop, run: Run) -> Run:
    """The identity was checked before the run was made; say where the replay works, and
    refuse a recipe that needs a value recipes do not keep (a KMS key, a VPC) without it."""
    recipe, settings = shop.recipe.recipe, shop.settings
    if recipe.uses_kms_key and not (settings.kms_key or run.kms_key_id):
        raise shop.recipe.error(
            "infrastructure",
            "uses_kms_key",
            "the recipe's run encrypted its data with a KMS key, and recipes keep no key.",
            "Pass --kms-key KEY (an id, ARN or alias in this account).",
        )
    if recipe.uses_vpc and not (
        (settings.subnet_ids or run.subnet_ids)
        and (settings.security_group_ids or run.security_group_ids)
    ):
        raise shop.recipe.error(
            "infrastructure",
            "uses_vpc",
            "the recipe's job ran in a VPC, and recipes keep no subnets or security groups.",
            "Pass --subnet ID and --security-group ID (repeat them for several).",
        )
    _check_names(shop, run)
    where = " (sandbox)" if run.target == "sandbox" else ""
    shop.note(f"account {run.account_id}, {run.region}{where}")
    return run


def _check_names(shop: Workshop, run: Run) -> None:
    """The recipe's bucket (with its account and region filled in), role and key prefix are
    names AWS takes: refused here with their line, not after preparing and validating."""
    named: list[tuple[str, str | None, Callable[[str], None]]] = [
        ("bucket", run.bucket, check_bucket_name),
        ("role_name", shop.recipe.recipe.role_name, check_role_name),
    ]
    for key, name, check in named:
        if name:
            try:
                check(name)
            except ValidationError as error:
                raise shop.recipe.error(
                    "infrastructure", key, error.message, error.hint or "Fix the name."
                ) from None
    wrong = prefix_problem(run.s3_prefix) if run.s3_prefix is not None else None
    if wrong:
        raise shop.recipe.error(
            "infrastructure",
            "s3_prefix",
            f"{wrong}.",
            "For example bedrock-tune or team-a/bedrock.",
        )


def check_model_here(shop: Workshop, run: Run, model: BaseModel, elsewhere: str) -> None:
    """The model is offered in the run's region (else `elsewhere`, with the regions it is in)
    and not at its end of life there."""
    if run.region not in model.regions:
        raise shop.recipe.field_error(
            "base_model_id",
            elsewhere,
            f"Replay it in one of: {', '.join(model.regions)} (--region).",
        )
    problem = end_of_life_problem(model, run.region)
    if problem:
        raise shop.recipe.field_error(
            "base_model_id", problem + ".", "Save the recipe again with a current model."
        )


def check_model(shop: Workshop, run: Run) -> Run:
    """The recipe's base model is known, customizable that way, not at its end of life in
    the run's region, and takes the recipe's hyperparameters (names and ranges)."""
    model, custom = model_of(shop, run)
    check_model_here(shop, run, model, f"{model.name} is not customized in {run.region}.")
    for name, value in run.hyperparameters.items():
        spec = custom.hyperparameter(name)
        if spec is None:
            known = ", ".join(h.name for h in custom.hyperparameters) or "none"
            raise shop.recipe.error(
                "hyperparameters",
                name,
                f"{model.name} has no hyperparameter `{name}`.",
                f"It has: {known}.",
            )
        reason = spec.check(value)
        if reason:
            raise shop.recipe.error(
                "hyperparameters", name, reason + ".", "Give a value in the model's range."
            )
    check_recipe_sizes(shop, run, model)
    shop.note(f"{model.name}, {CustomizationType(run.customization_type).label.lower()}")
    return run


def check_dataset(shop: Workshop, run: Run) -> Run:
    """The recipe's dataset is something that can be opened (a file, a folder, a hub id)."""
    spec = SourceSpec(run.source_location or "", run.source_config, run.source_split)
    try:
        kind = detect_kind(spec)
    except DatasetError as error:
        raise shop.recipe.field_error(
            "source_location", error.message, error.hint or "Fix the path."
        ) from None
    shop.note(f"{run.source_location} ({kind})")
    return run


def template_of(shop: Workshop, run: Run) -> Template:
    """The recipe's template, read and checked, or the recipe's line that is wrong."""
    try:
        template = template_from_dict(tomllib.loads(run.template_toml or ""))
        check_syntax(template)
    except tomllib.TOMLDecodeError as error:
        raise shop.recipe.field_error(
            "template_toml", f"the template is not valid TOML: {error}.", "Fix the template."
        ) from None
    except BedrockTuneError as error:
        raise shop.recipe.field_error(
            "template_toml", error.message, error.hint or "Fix the template."
        ) from None
    return template


def check_template(shop: Workshop, run: Run) -> Run:
    """The recipe's template reads and its placeholders are well formed."""
    if not run.template_toml:
        raise shop.recipe.error(
            "data", None, "the recipe has no template.", "Add `template = '''...'''` to [data]."
        )
    template = template_of(shop, run)
    shop.note(f"template {template.name or '(unnamed)'}")
    return run
