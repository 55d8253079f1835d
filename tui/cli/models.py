"""`bedrock-tune models`: the customizable base models, their limits, hyperparameters, prices,
and whether the region offers them (live when AWS answers, else from the built-in catalog)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from core.catalog.lookup import instead_text, load_view, model_json
from core.catalog.types import BaseModel, CatalogView, CustomizationType
from core.pricing.service import PriceService, pricing_region
from core.pricing.types import ModelPrices
from tui.cli.common import EXIT_OK, add_aws_options, aws_context, print_json


def register(subparsers: Any) -> None:
    """Add the `models` parser."""
    parser = subparsers.add_parser(
        "models",
        help="list the base models that can be customized",
        description="List the base models bedrock-tune can customize, with their limits and "
        "hyperparameter ranges, and whether the region offers them.",
    )
    add_aws_options(parser, suppress=True)
    parser.add_argument(
        "--type",
        choices=[t.cli_name for t in CustomizationType],
        help="only models that support this customization type",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="do not ask AWS; use the built-in catalog only",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """List the models; without credentials, fall back to the built-in catalog and say so."""
    kind = CustomizationType.parse(args.type) if args.type else None
    with aws_context(args) as context:
        view = load_view(None if args.offline else context, context.region, kind)
        asking = not args.offline and context.has_credentials()
        # The training price of each model from the Price List (cached a day), else built-in;
        # a model the region does not offer is priced where it is offered.
        service = PriceService(context if asking else None)
        wanted: dict[str, list[BaseModel]] = {}
        for entry in view.models:
            wanted.setdefault(pricing_region(entry.model, view.region), []).append(entry.model)
        by_id = {
            row.model_id: row
            for region, models in wanted.items()
            for row in service.region_prices(region, models).rows
        }
    if not view.live_checked and view.live_error and not args.offline:
        sys.stderr.write(
            f"Note: could not ask AWS which models {view.region} offers ({view.live_error}); "
            "availability below comes from the built-in catalog.\n"
        )
    if args.json:
        print_json([{**model_json(e), "prices": by_id[e.model.id].to_json()} for e in view.models])
    else:
        _print_table(view, by_id)
    return EXIT_OK


def _training(prices: ModelPrices) -> str:
    """`$0.001 (Price List API, 2026-12-02)`, or unknown with where to look."""
    price = prices.training
    if price.amount is None:
        return "unknown (`bedrock-tune prices --model ID` says why)"
    return f"{price.money()} ({price.provenance})"


def _print_table(view: CatalogView, prices: dict[str, ModelPrices]) -> None:
    basis = "live list" if view.live_checked else "built-in catalog"
    print(f"Customizable base models in {view.region} ({basis}):\n")
    rows = [("", "MODEL", "ID", "TYPES", "REGIONS", "TRAINING PER 1K (SOURCE, DATE)")]
    for entry in view.models:
        model = entry.model
        rows.append(
            (
                "✔" if entry.available else "✘",
                model.name + (f" ({entry.lifecycle.tag})" if entry.lifecycle.tag else ""),
                model.id,
                ", ".join(t.cli_name for t in model.customization_types),
                ", ".join(model.regions),
                _training(prices[model.id]),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    aging = [e for e in view.models if not e.lifecycle.active]
    if aging:
        print(f"\nNot active in {view.region} (never picked by default):")
        for entry in aging:
            line = f"  {entry.model.name}: {entry.lifecycle.describe(view.region)}"
            alternatives = instead_text(entry.lifecycle)
            print(line + (f"; pick {alternatives} instead" if alternatives else ""))
    unavailable = [e for e in view.models if not e.available]
    if unavailable:
        print(f"\n✘ = not offered in {view.region}:")
        for entry in unavailable:
            print(f"  {entry.model.name}: {entry.reason}")
    print(
        "\nPrices above are the built-in figures with their dates; `bedrock-tune prices` asks "
        "the AWS Price List API."
    )
    if view.unknown_live:
        names = ", ".join(m.model_id for m in view.unknown_live)
        print(f"\nAlso offered by {view.region} but not yet in bedrock-tune's catalog: {names}")
