"""Looking models up: the built-in catalog, one model by id, the regions, and the view that
merges the built-in data with a region's live `ListFoundationModels` answer."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from core.catalog.types import (
    BaseModel,
    CatalogView,
    CustomizationType,
    Hyperparameter,
    Lifecycle,
    LifecycleStage,
    LifecycleStatus,
    Limits,
    LiveModel,
    ModelAvailability,
)
from core.errors import (
    BedrockTuneError,
    NotFoundError,
    RegionNotSupportedError,
    aws_call,
)

if TYPE_CHECKING:
    from types_boto3_bedrock import BedrockClient

    from core.aws import AwsContext


def builtin_models() -> tuple[BaseModel, ...]:
    """Every model of the built-in catalog, in display order."""
    from core.catalog.data import MODELS

    return MODELS


def customization_regions() -> tuple[str, ...]:
    """The regions where at least one catalog model can be customized, sorted."""
    return tuple(sorted({r for m in builtin_models() for r in m.regions}))


def find_model(model_id: str, models: Sequence[BaseModel] | None = None) -> BaseModel:
    """Find a model by customization id, inference id or (case-insensitive) name.

    Raises:
        NotFoundError: with the closest known ids as the hint.
    """
    pool = builtin_models() if models is None else tuple(models)
    wanted = model_id.strip()
    for model in pool:
        if wanted in (model.id, model.inference_id) or wanted.lower() == model.name.lower():
            return model
    # An inference profile (us.amazon.nova-micro-v1:0) or the plain id without the context suffix.
    for model in pool:
        plain = (
            model.inference_id.split(".", 1)[1]
            if model.inference_id[:3] in {"us.", "eu."}
            else model.inference_id
        )
        if wanted in (plain, f"us.{plain}", f"eu.{plain}", f"global.{plain}"):
            return model
    if models is None:  # the models SageMaker trains: by Public Hub id or Autopilot name
        from core.catalog.open_weight import open_weight_models
        from core.catalog.sagemaker_models import (
            autopilot_catalog_models,
            jumpstart_catalog_models,
        )

        for model in (
            *open_weight_models(),
            *autopilot_catalog_models(),
            *jumpstart_catalog_models(),
        ):
            if wanted == model.id:
                return model
    close = difflib.get_close_matches(wanted, [m.id for m in pool], n=3, cutoff=0.4)
    hint = "Run `bedrock-tune models` to list them."
    if close:
        hint = f"Did you mean {', '.join(close)}? " + hint
    raise NotFoundError(f"'{model_id}' is not a customizable model bedrock-tune knows.", hint=hint)


def distillation_teachers(model_id: str | None, customization_type: str) -> tuple[str, ...]:
    """The teacher ids a run's role must be able to invoke: every teacher the catalog pairs
    with its model when the run distills (so the launch step may pick any), else none."""
    if model_id is None or customization_type != CustomizationType.DISTILLATION.value:
        return ()
    custom = find_model(model_id).customization(CustomizationType.DISTILLATION)
    return tuple(t.id for t in custom.teachers) if custom else ()


def fetch_live_models(
    bedrock_client: BedrockClient, customization_type: CustomizationType | None = None
) -> list[LiveModel]:
    """Ask ListFoundationModels which models this client's region can customize.

    Args:
        bedrock_client: a boto3 `bedrock` client (its region is the one asked).
        customization_type: one type, or None for every type we support.
    """
    kinds = [customization_type] if customization_type else list(CustomizationType)
    found: dict[str, LiveModel] = {}
    region = bedrock_client.meta.region_name or "this region"
    for kind in kinds:
        with aws_call(f"listing the models {region} can customize ({kind.cli_name})"):
            response = bedrock_client.list_foundation_models(byCustomizationType=kind.value)
        for summary in response.get("modelSummaries", []):
            live = LiveModel.from_summary(summary)
            previous = found.get(live.model_id)
            if previous is not None:
                merged = tuple(dict.fromkeys(previous.customizations + live.customizations))
                live = LiveModel(**{**live.__dict__, "customizations": merged})
            found[live.model_id] = live
    return list(found.values())


def lifecycle_in(
    model: BaseModel, region: str, live: LiveModel | None = None, today: date | None = None
) -> LifecycleStatus:
    """The model's lifecycle in `region`.

    The status is the live `modelLifecycle.status` when the region answered (`live`), else the
    built-in fact for the region. Dates are the live answer's when it carries them, else the
    sources'. A model whose end-of-life date has passed (on `today`, default the UTC date) is
    end of life whatever the status says: Bedrock then answers ResourceNotFoundException.
    """
    today = today or datetime.now(UTC).date()
    fact = model.lifecycle_fact(region)
    if fact is not None:
        stage, source, note = fact.stage, f"{fact.source.name} ({fact.source.date})", fact.note
        legacy_since, end_of_life = fact.legacy_since, fact.end_of_life
    else:
        legacy = model.lifecycle is Lifecycle.LEGACY
        stage = LifecycleStage.LEGACY if legacy else LifecycleStage.ACTIVE
        source, note, legacy_since, end_of_life = "bedrock-tune's catalog", "", None, None
    basis: Any = "catalog"
    if live is not None:
        basis = "live"
        stage = LifecycleStage.LEGACY if live.lifecycle == "LEGACY" else LifecycleStage.ACTIVE
        source = f"ListFoundationModels in {region}"
        if stage is LifecycleStage.ACTIVE:
            legacy_since, end_of_life, note = None, live.end_of_life, ""
        else:
            legacy_since = live.legacy_since or legacy_since
            end_of_life = live.end_of_life or end_of_life
    if end_of_life is not None and date.fromisoformat(end_of_life) <= today:
        stage = LifecycleStage.END_OF_LIFE
    instead = () if stage is LifecycleStage.ACTIVE else model.instead
    return LifecycleStatus(stage, end_of_life, legacy_since, basis, source, note, instead)


def instead_text(status: LifecycleStatus, models: Sequence[BaseModel] | None = None) -> str:
    """`Nova 2 Lite (us-east-1) or Llama 3.3 70B Instruct (us-west-2)`, or '' when none."""
    pool = builtin_models() if models is None else tuple(models)
    by_id = {m.id: m for m in pool}
    names = [
        f"{by_id[i].name} ({', '.join(by_id[i].regions)})" for i in status.instead if i in by_id
    ]
    return " or ".join(names) if len(names) < 3 else f"{', '.join(names[:-1])} or {names[-1]}"


def end_of_life_problem(
    model: BaseModel, region: str | None, today: date | None = None
) -> str | None:
    """Why a job on `model` cannot run in `region` (or, when the region is not known, in any
    of the model's customization regions) because the model is at its end of life there; None
    when it is not."""
    regions = [region] if region else list(model.regions)
    statuses = [lifecycle_in(model, r, today=today) for r in regions]
    if not statuses or any(s.stage is not LifecycleStage.END_OF_LIFE for s in statuses):
        return None
    where = ", ".join(regions)
    since = f" since {statuses[0].end_of_life}" if statuses[0].end_of_life else ""
    alternatives = instead_text(statuses[0])
    return f"{model.name} is at its end of life in {where}{since}: requests to it fail" + (
        f". Pick {alternatives} instead" if alternatives else ""
    )


def default_model(view: CatalogView) -> ModelAvailability | None:
    """The model to highlight when the user has chosen none: the first available, active one.
    Never a legacy or end-of-life model (None when the region offers no active model)."""
    return next((e for e in view.models if e.available and e.lifecycle.active), None)


def _regions_text(regions: Iterable[str]) -> str:
    items = list(regions)
    return ", ".join(items) if items else "no region"


def build_view(
    region: str,
    live: Sequence[LiveModel] | None,
    *,
    customization_type: CustomizationType | None = None,
    live_error: str = "",
    models: Sequence[BaseModel] | None = None,
    today: date | None = None,
) -> CatalogView:
    """Merge the built-in catalog with a region's live list (or None when there was none).

    A model at its end of life in the region is unavailable there, whatever the list says.
    """
    pool = builtin_models() if models is None else tuple(models)
    if customization_type is not None:
        pool = tuple(m for m in pool if m.supports(customization_type))
    live_by_id = {m.model_id: m for m in live} if live is not None else {}
    entries: list[ModelAvailability] = []
    for model in pool:
        listed = live_by_id.get(model.id)
        status = lifecycle_in(model, region, listed, today)
        if live is not None:
            basis: Any = "live"
            available = listed is not None
            reason = (
                f"listed by ListFoundationModels in {region}"
                if available
                else f"not offered for customization in {region}; the catalog lists "
                f"{_regions_text(model.regions)}"
            )
        else:
            basis = "catalog"
            available = region in model.regions
            reason = (
                f"the catalog lists {region} (not confirmed live)"
                if available
                else f"customization is offered in {_regions_text(model.regions)} only"
            )
        if status.stage is LifecycleStage.END_OF_LIFE:
            available = False
            reason = f"{status.describe(region)}: requests to it fail"
            alternatives = instead_text(status, models)
            if alternatives:
                reason += f"; pick {alternatives} instead"
        entries.append(ModelAvailability(model, region, available, basis, reason, listed, status))
    known = {m.id for m in builtin_models()}
    unknown = tuple(m for m in (live or ()) if m.model_id not in known)
    return CatalogView(
        region=region,
        models=tuple(entries),
        live_checked=live is not None,
        live_error=live_error,
        unknown_live=unknown,
    )


def load_view(
    context: AwsContext | None,
    region: str,
    customization_type: CustomizationType | None = None,
    today: date | None = None,
) -> CatalogView:
    """The catalog seen from `region`: live when `context` can ask AWS, else built-in.

    A failed live call (no credentials, access denied, no network) does not fail the view: the
    built-in availability is used and `live_error` says why.
    """
    if context is None:
        return build_view(region, None, customization_type=customization_type, today=today)
    try:
        live = fetch_live_models(context.client("bedrock", region=region), customization_type)
    except BedrockTuneError as error:
        return build_view(
            region,
            None,
            customization_type=customization_type,
            live_error=error.describe(),
            today=today,
        )
    return build_view(region, live, customization_type=customization_type, today=today)


def hyperparameter_json(h: Hyperparameter) -> dict[str, Any]:
    """A hyperparameter as plain JSON data."""
    return {
        "name": h.name,
        "type": h.kind,
        "min": h.minimum,
        "max": h.maximum,
        "default": h.default,
        "description": h.description,
        "note": h.note,
    }


def limits_json(limits: Limits) -> dict[str, Any]:
    """Limits as plain JSON data (None means unknown)."""
    data = {k: v for k, v in limits.__dict__.items() if k != "notes"}
    data["max_chars_per_record"] = limits.max_chars_per_record
    data["notes"] = list(limits.notes)
    return data


def model_json(entry: ModelAvailability) -> dict[str, Any]:
    """One catalog entry as the object `bedrock-tune models --json` prints."""
    model = entry.model
    return {
        "id": model.id,
        "name": model.name,
        "provider": model.provider,
        "family": model.family,
        "inference_id": model.inference_id,
        "customization_types": [t.cli_name for t in model.customization_types],
        "available": entry.available,
        "availability_basis": entry.basis,
        "availability_reason": entry.reason,
        "region": entry.region,
        "regions": list(model.regions),
        "lifecycle": entry.lifecycle.stage.value,
        "end_of_life": entry.lifecycle.end_of_life,
        "legacy_since": entry.lifecycle.legacy_since,
        "lifecycle_basis": entry.lifecycle.basis,
        "lifecycle_source": entry.lifecycle.source,
        "lifecycle_note": entry.lifecycle.note,
        "instead": list(entry.lifecycle.instead),
        "deployment_options": [d.value for d in model.deployment_options],
        "input_modalities": list(model.input_modalities),
        "customizations": [
            {
                "type": c.type.cli_name,
                "data_format": c.data_format.value,
                "limits": limits_json(c.limits),
                "hyperparameters": [hyperparameter_json(h) for h in c.hyperparameters],
                "teachers": [
                    {"id": t.id, "name": t.name, "cross_region": t.cross_region, "note": t.note}
                    for t in c.teachers
                ],
            }
            for c in model.customizations
        ],
        "pricing": {
            **{k: v for k, v in model.pricing.__dict__.items() if k != "notes"},
            "notes": list(model.pricing.notes),
        },
        "sources": [s.__dict__ for s in model.sources],
        "notes": list(model.notes),
    }


def check_region(region: str) -> None:
    """Raise `RegionNotSupportedError` when no catalog model can be customized in `region`."""
    supported = customization_regions()
    if region in supported:
        return
    offered = ", ".join(supported)
    examples = sorted(
        {
            m.regions[0]
            for m in builtin_models()
            if m.regions and lifecycle_in(m, m.regions[0]).active
        }
    )
    raise RegionNotSupportedError(
        f"Bedrock model customization is not offered in {region}.",
        hint=f"Choose one of {offered} (for example {' or '.join(examples)}); "
        "your S3 bucket must be in that region too.",
    )
