"""The model step's detail panel: one model's availability in the region, data format, limits,
hyperparameters and prices, each with its source and date."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from core.catalog.lookup import instead_text
from core.catalog.types import BaseModel, CustomizationType, ModelAvailability
from core.pricing.builtin import builtin_prices
from core.pricing.types import ModelPrices


def describe_model(
    entry: ModelAvailability, kind: CustomizationType, prices: ModelPrices | None = None
) -> Group:
    """The detail panel for one model: availability, format, limits, hyperparameters, prices
    (each with its source and date; `prices` default to the built-in figures)."""
    model: BaseModel = entry.model
    parts: list[Table | Text] = []
    head = Text()
    head.append(model.name, style="bold")
    head.append(f"  {model.provider}", style="dim")
    lifecycle = entry.lifecycle
    if not lifecycle.active:
        head.append(f"  {lifecycle.stage.label}", style="bold yellow")
    head.append("\n")
    if not lifecycle.active:
        head.append(f"⚠ {lifecycle.describe(entry.region).capitalize()}", style="yellow")
        head.append(f" ({lifecycle.source})\n", style="dim")
        if lifecycle.note:
            head.append(f"  {lifecycle.note}\n", style="dim")
        alternatives = instead_text(lifecycle)
        if alternatives:
            head.append(f"  Pick {alternatives} instead.\n", style="yellow")
    head.append(
        "✔ available" if entry.available else "✘ unavailable",
        style="green" if entry.available else "red",
    )
    head.append(f": {entry.reason}\n")
    head.append("Customization id  ", style="bold")
    head.append(f"{model.id}\n")
    head.append("Base inference id ", style="bold")
    head.append(f"{model.inference_id}\n")
    head.append("Regions           ", style="bold")
    head.append(", ".join(model.regions) + "\n")
    head.append("Deploy with       ", style="bold")
    head.append(", ".join(d.value.replace("-", " ") for d in model.deployment_options))
    parts.append(head)
    custom = model.customization(kind)
    if custom is None:
        types = ", ".join(t.label for t in model.customization_types)
        parts.append(
            Text(
                f"\n{model.name} does not support {kind.label.lower()} ({types} only).",
                style="yellow",
            )
        )
    else:
        limits = custom.limits
        data_format_text = Text()
        data_format_text.append("\nData format  ", style="bold")
        data_format_text.append(f"{custom.data_format.label}\n")
        data_format_text.append(custom.data_format.example + "\n", style="dim")
        if custom.teachers:
            data_format_text.append("Teachers     ", style="bold")
            teachers = ", ".join(f"{t.name} ({t.id})" for t in custom.teachers)
            data_format_text.append(teachers + "\n")
            data_format_text.append("  chosen in the Launch step\n", style="dim")
        parts.append(data_format_text)
        table = Table(
            title="Limits", title_justify="left", show_header=False, box=None, padding=(0, 1)
        )
        rows = [
            ("records (min)", limits.min_records),
            ("training records (max)", limits.max_train_records),
            ("validation records (max)", limits.max_validation_records),
            ("train + validation (max)", limits.max_total_records),
            ("tokens per record (max)", limits.max_tokens_per_record),
            ("chars per token (planning)", limits.chars_per_token),
        ]
        for label, value in rows:
            table.add_row(
                label,
                "unknown"
                if value is None
                else f"{value:,}"
                if isinstance(value, int)
                else f"{value:g}",
            )
        if not limits.validation_data_supported:
            table.add_row("validation data", "not supported")
        parts.append(table)
        for note in limits.notes:
            parts.append(Text(f"⚠ {note}", style="yellow"))
        if custom.hyperparameters:
            hps = Table(title="Hyperparameters", title_justify="left", box=None, padding=(0, 1))
            hps.add_column("name")
            hps.add_column("range")
            hps.add_column("default")
            for hp in custom.hyperparameters:
                hps.add_row(
                    hp.name,
                    f"{hp.format(hp.minimum)} to {hp.format(hp.maximum)}",
                    hp.default_text or "none",
                )
            parts.append(hps)
        else:
            parts.append(
                Text("\nNo documented hyperparameters for this customization.", style="yellow")
            )
    row = prices or builtin_prices(model, entry.region)
    cost = Text()
    cost.append(f"\nPrices in {row.region}\n", style="bold")
    for label, price in (
        ("training", row.training),
        ("storage", row.storage),
        ("provisioned throughput", row.provisioned),
        ("on demand, input", row.on_demand_input),
        ("on demand, output", row.on_demand_output),
    ):
        cost.append(f"  {label}: ")
        cost.append(price.text() + "\n", style="" if price.is_known else "yellow")
    parts.append(cost)
    for note in (*row.notes, *model.notes):
        parts.append(Text(f"⚠ {note}", style="yellow"))
    return Group(*parts)
