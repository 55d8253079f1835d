"""Prompt mode, the base model step: how to customize, then the model, grouped as the app groups
them (offered in the region, legacy or at its end of life there, not offered), with its details
(availability, format, limits, hyperparameters, prices) before it is used."""

from __future__ import annotations

from core.catalog.lookup import default_model, instead_text, load_view
from core.catalog.types import CatalogView, CustomizationType, ModelAvailability
from core.pricing.service import PriceService, pricing_region
from core.pricing.types import ModelPrices
from core.run import Route
from core.run.changes import change_model
from tui.cli.plain.ask import Heading, Option
from tui.cli.plain.session import Session

_SHORT = {
    CustomizationType.FINE_TUNING: "FT",
    CustomizationType.CONTINUED_PRE_TRAINING: "CPT",
    CustomizationType.DISTILLATION: "distill",
}


def prices_of(service: PriceService, entry: ModelAvailability) -> ModelPrices:
    """The model's prices where it would be customized (the Price List's, cached a day, else
    the built-in figures), as the app's model step shows them."""
    return service.model_prices(entry.model, pricing_region(entry.model, entry.region))


def model_title(entry: ModelAvailability, kind: CustomizationType, prices: ModelPrices) -> str:
    """One model as a line of the list: name, provider, types, tokens per record, price (with
    its source and date)."""
    model = entry.model
    custom = model.customization(kind)
    limit = custom.limits.max_tokens_per_record if custom else None
    price = prices.training
    tag = f" ({entry.lifecycle.tag})" if entry.lifecycle.tag else ""
    types = ", ".join(_SHORT[t] for t in model.customization_types)
    tokens = "unknown" if limit is None else f"{limit:,}"
    training = f"{price.money()}/1K ({price.provenance})" if price.is_known else "unknown"
    return (
        f"{model.name}{tag} · {model.provider} · {types} · {tokens} tokens/record · "
        f"training {training}"
    )


def model_options(
    view: CatalogView, kind: CustomizationType, service: PriceService
) -> list[Option | Heading]:
    """The models in the app's groups: offered in the region (active first), legacy or end of
    life, then those the region does not offer (shown, not pickable, with why)."""
    offered = [e for e in view.models if e.available and e.lifecycle.active]
    aging = [e for e in view.models if e.available and not e.lifecycle.active]
    missing = [e for e in view.models if not e.available]
    options: list[Option | Heading] = []
    for title, entries in (
        (f"Offered in {view.region}", offered),
        (f"Legacy or at their end of life in {view.region}", aging),
        (f"Not offered in {view.region}", missing),
    ):
        if not entries:
            continue
        options.append(Heading(title))
        for entry in entries:
            why = None
            if not entry.available:
                why = entry.reason
            elif not entry.model.supports(kind):
                why = f"no {kind.label.lower()}"
            title = model_title(entry, kind, prices_of(service, entry))
            options.append(Option(title, entry.model.id, why))
    return options


def describe_model(entry: ModelAvailability, kind: CustomizationType, prices: ModelPrices) -> str:
    """The model's details as text (what the app's detail panel shows)."""
    model = entry.model
    lines = [f"{model.name} ({model.provider})"]
    status = entry.lifecycle
    if not status.active:
        lines.append(f"  ⚠ {status.describe(entry.region).capitalize()} ({status.source})")
        alternatives = instead_text(status)
        if alternatives:
            lines.append(f"  Pick {alternatives} instead.")
    lines.append(f"  {'✔ available' if entry.available else '✘ unavailable'}: {entry.reason}")
    lines.append(f"  Customization id   {model.id}")
    lines.append(f"  Base inference id  {model.inference_id}")
    deploy = ", ".join(d.value.replace("-", " ") for d in model.deployment_options)
    lines.append(f"  Deploy with        {deploy}")
    custom = model.customization(kind)
    if custom is None:
        lines.append(f"  {model.name} does not support {kind.label.lower()}.")
    else:
        limits = custom.limits
        lines.append(f"  Data format        {custom.data_format.label}")
        for label, value in (
            ("records (min)", limits.min_records),
            ("training records (max)", limits.max_train_records),
            ("validation records (max)", limits.max_validation_records),
            ("tokens per record (max)", limits.max_tokens_per_record),
        ):
            lines.append(f"  {label:<26} {'unknown' if value is None else f'{value:,}'}")
        lines += [f"  ⚠ {note}" for note in limits.notes]
        for hp in custom.hyperparameters:
            lines.append(
                f"  {hp.name:<26} {hp.format(hp.minimum)} to {hp.format(hp.maximum)}, "
                f"default {hp.default_text or 'none'}"
            )
    lines.append(f"  Prices in {prices.region}:")
    lines += [f"  ⚠ {note}" for note in prices.notes]
    for label, price in (
        ("training", prices.training),
        ("storage", prices.storage),
        ("provisioned throughput", prices.provisioned),
        ("on demand, input", prices.on_demand_input),
        ("on demand, output", prices.on_demand_output),
    ):
        lines.append(f"    {label}: {price.text()}")
    return "\n".join(lines)


def model_step(session: Session) -> None:
    """Choose the customization type and the base model; the run records them."""
    ask, run = session.ask, session.run
    context = session.require_context()
    region = run.region or context.region
    kind = ask.select(
        "How do you want to customize a model?",
        [Option(t.label, t) for t in CustomizationType],
        default=run.customization_type,
    )
    view = load_view(context, region, kind)
    if view.live_checked:
        offered = sum(e.available for e in view.models)
        ask.say(f"{offered} of {len(view.models)} models are offered in {region} (live list).")
    else:
        ask.say(f"Availability in {region} from the built-in catalog ({view.live_error}).")
    # Asked once per region (cached a day); without pricing:GetProducts, the built-in figures.
    service = PriceService(context)
    first = default_model(view)
    chosen = run.base_model_id or (first.model.id if first else None)
    while True:
        model_id = ask.select(
            "Which model?",
            model_options(view, kind, service),
            default=chosen,
            search=True,
        )
        entry = view.get(model_id)
        if entry is None:  # pragma: no cover - the options are the view's models
            continue
        ask.say(describe_model(entry, kind, prices_of(service, entry)))
        if ask.confirm(f"Use {entry.model.name} ({kind.label.lower()})?", default=True):
            break
        chosen = model_id
    change = change_model(session.run, entry.model, kind, Route.BEDROCK_CUSTOMIZATION)
    session.update(change.after)
    ask.say(f"✔ {entry.model.name} ({kind.label.lower()}) chosen.")
