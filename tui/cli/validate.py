"""`bedrock-tune validate`: check training (and validation) files against every rule of a model,
show the token statistics, and estimate what the customization will cost.

Exit codes: 0 valid (warnings allowed), 1 not valid, 2 cannot run (missing file, unknown model).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from core import format as fmt
from core.catalog.lookup import find_model
from core.catalog.types import BaseModel, CustomizationType, DeploymentOption
from core.data.tokens import ESTIMATE_METHOD
from core.errors import ValidationError
from core.estimate import Estimate, estimate, estimate_lines
from core.pricing.service import PriceService, pricing_region
from core.pricing.types import ModelPrices
from core.validate.validator import FileReport, Problem, RuleGroup, ValidationReport, validate
from tui.cli.common import EXIT_BAD, EXIT_OK, aws_context, finite_float, print_json, readable_file

_SHOWN_LINES = 10


def register(subparsers: Any) -> None:
    """Add the `validate` parser."""
    parser = subparsers.add_parser(
        "validate",
        help="check training files against a model's rules and estimate the cost",
        description="Check a training file (and a validation file) against every rule Bedrock "
        "applies for the model: JSON Lines, schema, roles, reserved strings, media, estimated "
        "tokens per record, record counts, file sizes and names, duplicates. Every problem is "
        "reported with its line, JSON path, rule and a hint; then the token statistics and the "
        "cost estimate. Exit 0 when valid (warnings allowed), 1 when not, 2 when it cannot run.",
    )
    parser.add_argument(
        "train", metavar="TRAIN.jsonl", type=readable_file, help="the training file"
    )
    parser.add_argument(
        "--validation-file", metavar="VAL.jsonl", type=readable_file, help="the validation file"
    )
    parser.add_argument("--model", required=True, help="base model id (sets the rules)")
    parser.add_argument(
        "--type",
        default="fine-tuning",
        choices=[t.cli_name for t in CustomizationType],
        help="customization type (default fine-tuning)",
    )
    parser.add_argument(
        "--epochs", type=int, help="epochs for the estimate (default: the model's default)"
    )
    parser.add_argument(
        "--price-per-1k",
        type=finite_float(0),
        metavar="USD",
        help="training price per 1,000 tokens, instead of the catalog's",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help='print one JSON object: {"ok", "records" (training records), "errors", '
        '"warnings", "stats", "estimate"}',
    )
    parser.set_defaults(handler=run)


def default_epochs(model: BaseModel, kind: CustomizationType) -> int:
    """The model's default epochCount (1 when it has none, e.g. distillation)."""
    custom = model.customization(kind)
    spec = custom.hyperparameter("epochCount") if custom else None
    return int(spec.default) if spec is not None and spec.default is not None else 1


def _epochs(model: BaseModel, kind: CustomizationType, given: int | None) -> int:
    if given is None:
        return default_epochs(model, kind)
    custom = model.customization(kind)
    spec = custom.hyperparameter("epochCount") if custom else None
    problem = spec.check(str(given)) if spec is not None else None
    if given < 1:
        problem = f"epochs must be 1 or more, not {given}"
    if problem:
        raise ValidationError(f"--epochs: {problem}.", hint="Give a number the model accepts.")
    return given


def run(args: argparse.Namespace) -> int:
    """Validate, print the report (or JSON), and return 0 / 1."""
    model = find_model(args.model)
    kind = CustomizationType.parse(args.type)
    epochs = _epochs(model, kind, args.epochs)
    if args.price_per_1k is not None and args.price_per_1k < 0:
        raise ValidationError("--price-per-1k cannot be negative.")
    tty = sys.stderr.isatty()

    def progress(done: int, total: int | None, what: str) -> None:
        if tty and total:
            sys.stderr.write(f"\r{what}: {done * 100 // total}%   ")

    report = validate(args.train, model, kind, validation=args.validation_file, progress=progress)
    if tty:
        sys.stderr.write("\r" + " " * 60 + "\r")
    prices, note = model_prices(args, model)
    if note:
        sys.stderr.write(f"Note: {note}\n")
    cost = estimate(
        model, report.train.stats.total, epochs, prices=prices, price_per_1k=args.price_per_1k
    )
    if args.json:
        print_json(report_json(report, cost))
    else:
        print_report(report, cost)
    return EXIT_OK if report.ok else EXIT_BAD


def model_prices(args: argparse.Namespace, model: BaseModel) -> tuple[ModelPrices, str]:
    """The model's prices where it would be customized (the AWS region when it offers the
    model, else the first region that does), and the note when the built-in figures stand in.
    Never fails: without credentials or access, the built-in figures answer."""
    with aws_context(args) as context:
        region = pricing_region(model, context.region)
        service = PriceService(context if context.has_credentials() else None)
        answer = service.region_prices(region, [model])
    return answer.rows[0], answer.note


# --------------------------------------------------------------------------- JSON


def problem_json(problem: Problem, report: ValidationReport) -> dict[str, Any]:
    """One problem as the issue's shape: line, path, rule, message, hint."""
    message = problem.message
    validation = report.validation
    if validation is not None and problem.file == str(validation.path):
        message = f"validation file {validation.path.name}: {message}"
    return {
        "line": problem.line,
        "path": problem.path,
        "rule": problem.rule,
        "message": message,
        "hint": problem.hint,
    }


def file_json(report: FileReport) -> dict[str, Any]:
    """Statistics of one file."""
    stats = report.stats
    return {
        "path": str(report.path),
        "bytes": report.size_bytes,
        "lines": report.lines,
        "records": report.records,
        "duplicates": report.duplicates,
        "duplicates_complete": report.duplicates_complete,
        "media": report.media,
        "tokens": {
            "total": stats.total,
            "min": stats.minimum,
            "median": stats.median,
            "p95": stats.p95,
            "max": stats.maximum,
            "counted_records": stats.records,
        },
        "limit": stats.limit,
        "near_limit": stats.near_limit,
        "over_limit": stats.over_limit,
        "histogram": [
            {"from": b.low, "to": b.high, "count": b.count, "over_limit": b.over_limit}
            for b in stats.histogram
        ],
    }


def estimate_json(cost: Estimate, model: BaseModel) -> dict[str, Any]:
    """The cost estimate (USD; null where the price is unknown)."""
    return {
        "currency": "USD",
        "training_tokens": cost.training_tokens,
        "epochs": cost.epochs,
        "price_per_1k": cost.price_per_1k,
        "training_cost": cost.training_cost,
        "storage_per_month": cost.storage_per_month,
        "provisioned_per_hour": cost.provisioned_per_hour,
        "on_demand_supported": DeploymentOption.ON_DEMAND_DEPLOYMENT in model.deployment_options,
        "on_demand_input_per_1k": cost.on_demand_input_per_1k,
        "on_demand_output_per_1k": cost.on_demand_output_per_1k,
        "prices_as_of": cost.prices_as_of,
        "price_source": cost.price_source,
        "training_price_source": cost.training_price.source,
        "prices_region": cost.prices.region,
        "notes": list(cost.prices.notes),
    }


def report_json(report: ValidationReport, cost: Estimate) -> dict[str, Any]:
    """The whole `--json` object."""
    rules = report.rules
    return {
        "ok": report.ok,
        "records": report.train.records,
        "errors": [problem_json(p, report) for p in report.problems("error")],
        "warnings": [problem_json(p, report) for p in report.problems("warning")],
        "stats": {
            "model": rules.model.id,
            "customization_type": rules.kind.cli_name,
            "format": rules.data_format.value,
            "estimate_method": ESTIMATE_METHOD,
            "chars_per_token": rules.chars_per_token,
            "error_count": report.count("error"),
            "warning_count": report.count("warning"),
            "train": file_json(report.train),
            "validation": file_json(report.validation) if report.validation else None,
            "problem_counts": [
                {
                    "rule": g.rule,
                    "severity": g.severity,
                    "count": g.count,
                    "file": g.file or None,
                    "first_lines": list(g.first_lines),
                }
                for g in report.groups
            ],
            "looks_like": report.headline,
        },
        "estimate": estimate_json(cost, rules.model),
    }


# --------------------------------------------------------------------------- text


def histogram_lines(report: FileReport, width: int = 30) -> list[str]:
    """A small text histogram of tokens per record against the limit."""
    buckets = report.stats.histogram
    if not buckets:
        return []
    top = max(b.count for b in buckets) or 1
    lines = []
    for bucket in buckets:
        label = f"> {bucket.low:,}" if bucket.over_limit else f"{bucket.low:,}-{bucket.high:,}"
        bar = "█" * max(1 if bucket.count else 0, round(bucket.count / top * width))
        lines.append(f"    {label:>15} {bar:<{width}} {bucket.count:,}")
    return lines


def _file_summary(report: FileReport, *, histogram: bool) -> list[str]:
    stats = report.stats
    records = fmt.plural(report.records, "record")
    lines = [f"{report.path.name}: {records}, {fmt.size(report.size_bytes)}"]
    if stats.records:
        limit = f" (limit {stats.limit:,})" if stats.limit else " (limit unknown)"
        lines.append(
            f"  estimated tokens per record: min {stats.minimum:,}, median {stats.median:,}, "
            f"p95 {stats.p95:,}, max {stats.maximum:,}{limit}; total {stats.total:,}"
        )
        if histogram:
            lines.extend(histogram_lines(report))
    return lines


def _group_lines(group: RuleGroup, report: ValidationReport) -> list[str]:
    mark = "✘" if group.severity == "error" else "!"
    where = ""
    if group.file:
        where = f" [{Path(group.file).name}]"
    first = group.problems[0] if group.problems else None
    message = first.message if first else group.title
    path = f" at {first.path}" if first and first.path else ""
    lines = [f"  {mark} {group.rule} ({group.count:,}){where}: {message}{path}"]
    shown = group.first_lines[:_SHOWN_LINES]
    if shown:
        more = " ..." if group.count > len(shown) else ""
        lines.append(
            f"      {fmt.plural_noun(len(shown), 'line')} {', '.join(map(str, shown))}{more}"
        )
    if first and first.hint:
        lines.append(f"      hint: {first.hint}")
    return lines


def print_report(report: ValidationReport, cost: Estimate) -> None:
    """The human-readable report."""
    rules = report.rules
    print(f"Validating for {rules.label}: {rules.data_format.label}")
    for file in report.files:
        print()
        for line in _file_summary(file, histogram=file is report.train):
            print(line)
    print(f"  (token estimate: {ESTIMATE_METHOD}; {rules.chars_per_token:g} chars per token)")
    if report.headline:
        print(f"\n✘ {report.headline}")
    errors, warnings = report.count("error"), report.count("warning")
    for severity, title in (("error", "Errors"), ("warning", "Warnings")):
        groups = [g for g in report.groups if g.severity == severity]
        if groups:
            print(f"\n{title}")
            for group in groups:
                for line in _group_lines(group, report):
                    print(line)
    print_estimate(cost, rules.model)
    print()
    if report.ok:
        note = f" ({fmt.plural(warnings, 'warning')})" if warnings else ""
        print(f"✔ Valid for {rules.model.name}{note}.")
    else:
        print(
            f"✘ Not valid for {rules.model.name}: {fmt.plural(errors, 'error')}, "
            f"{fmt.plural(warnings, 'warning')}."
        )


def print_estimate(cost: Estimate, model: BaseModel) -> None:
    """The estimate block."""
    print(f"\nEstimate, USD (prices for {cost.prices.region})")
    for label, text in estimate_lines(
        cost, model, unknown_price_hint="give one with --price-per-1k"
    ):
        print(f"  {label:<10} {text}")
