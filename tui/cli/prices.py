"""`bedrock-tune prices`: what each customizable model costs in a region, from the AWS Price List
API (cached a day) or, when it cannot answer, from the built-in figures, always with the source
and date."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from core.catalog.lookup import builtin_models, find_model
from core.catalog.types import BaseModel
from core.errors import ValidationError
from core.pricing.service import PriceService, RegionPrices
from core.pricing.types import Figure, ModelPrices, Price
from tui.cli.common import EXIT_OK, add_aws_options, aws_context, print_json


def register(subparsers: Any) -> None:
    """Add the `prices` parser."""
    parser = subparsers.add_parser(
        "prices",
        help="what each customizable model costs, with the source and date of every figure",
        description="Training per 1K tokens, storage per month, provisioned throughput per "
        "model-unit hour and on-demand tokens, per model and region: from the AWS Price List "
        "API (pricing:GetProducts, cached for a day) or, when it cannot answer, the built-in "
        "figures. Every row says its source (price-list-api or built-in) and date; a figure no "
        "source has is unknown (null in JSON), never $0.",
    )
    add_aws_options(parser, suppress=True)
    parser.add_argument(
        "--model",
        help="one base model id (default: every model the region offers; with no --region, "
        "the model in every region it is offered in)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print a JSON list of {model, region, training_per_1k_tokens, storage_per_month, "
        "provisioned_per_hour, on_demand_input_per_1k, on_demand_output_per_1k, source, as_of}",
    )
    parser.add_argument(
        "--refresh", action="store_true", help="ask the Price List API even if cached prices exist"
    )
    parser.set_defaults(handler=run)


def _queries(args: argparse.Namespace, context_region: str) -> list[tuple[str, list[BaseModel]]]:
    """(region, models) pairs to price."""
    region = getattr(args, "region", None)
    if args.model:
        model = find_model(args.model)
        if region is None:
            return [(r, [model]) for r in model.regions]
        if region not in model.regions:
            raise ValidationError(
                f"{model.name} ({model.id}) is not customizable in {region}.",
                hint=f"It is offered in {', '.join(model.regions)}: pass one with --region.",
            )
        return [(region, [model])]
    region = region or context_region
    offered = [m for m in builtin_models() if region in m.regions]
    if not offered:
        raise ValidationError(
            f"No model bedrock-tune knows is customizable in {region}.",
            hint="Try --region us-east-1 or us-west-2 (`bedrock-tune models` lists them).",
        )
    return [(region, offered)]


def run(args: argparse.Namespace) -> int:
    """Print the prices; say once when the built-in figures stand in, and why."""
    with aws_context(args) as context:
        queries = _queries(args, context.region)
        service = PriceService(context if context.has_credentials() else None, refresh=args.refresh)
        answers = [service.region_prices(region, models) for region, models in queries]
    for note in dict.fromkeys(a.note for a in answers if a.note):
        sys.stderr.write(f"Note: {note}\n")
    rows = [row for answer in answers for row in answer.rows]
    if args.json:
        print_json([row.to_json() for row in rows])
    else:
        _print_table(answers)
    return EXIT_OK


def _cell(price: Price) -> str:
    return price.money() if price.is_known else "unknown"


def _print_table(answers: list[RegionPrices]) -> None:
    header = ("MODEL", "REGION", "TRAIN/1K", "STORAGE/MO", "PT/HOUR", "IN/1K", "OUT/1K", "SOURCE")
    table = [header]
    rows: list[ModelPrices] = [row for answer in answers for row in answer.rows]
    for row in rows:
        table.append(
            (
                row.model_id,
                row.region,
                _cell(row.training),
                _cell(row.storage),
                _cell(row.provisioned),
                _cell(row.on_demand_input),
                _cell(row.on_demand_output),
                row.provenance,
            )
        )
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for line in table:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip())
    shown = [Figure.TRAINING, Figure.STORAGE, Figure.PROVISIONED]
    shown += [Figure.ON_DEMAND_INPUT, Figure.ON_DEMAND_OUTPUT]
    if any(not row[figure].is_known for row in rows for figure in shown):
        # Every "unknown" cell says what to do, whichever column it is in.
        print(
            "\nunknown: no source has the figure (a model that cannot be served on demand has "
            "no on-demand price); `--json` gives nulls. Use --refresh with pricing:GetProducts "
            "allowed, or see https://aws.amazon.com/bedrock/pricing/"
        )
