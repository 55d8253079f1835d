"""`bedrock-tune compare RUN_ID ...`: runs (and their base model) on the same test records."""

from __future__ import annotations

import argparse
from typing import Any

from core.atomic import atomic_write_text
from core.evaluation.costs import serving_text
from core.evaluation.html import render_comparison
from core.evaluation.runs import compare_runs
from core.registry import Registry
from tui.cli.common import EXIT_OK, output_file, print_json


def register(subparsers: Any) -> None:
    """Add the `compare` parser."""
    parser = subparsers.add_parser(
        "compare",
        help="compare runs (and their base model) on the same test records",
        description="Line up the latest stored evaluation of each run, and the base model, on "
        "the test records they all answered: each metric with a 95%% bootstrap confidence "
        "interval, win/tie/loss per record against the base, the records they disagree on "
        "most, and the serving cost per 1K requests. One run is compared with its base model.",
    )
    parser.add_argument("runs", nargs="+", metavar="RUN_ID", help="runs to compare")
    parser.add_argument(
        "--html",
        type=output_file(overwrite=True),
        help="also write the comparison as an HTML page (replaced if it exists)",
    )
    parser.add_argument("--json", action="store_true", help="print the comparison as JSON")
    parser.set_defaults(handler=run)


def _cell(entry: Any) -> str:
    if not isinstance(entry, dict) or entry.get("mean") is None:
        return "-"
    return f"{entry['mean']:.3f} [{entry['ci_low']:.3f}, {entry['ci_high']:.3f}]"


def _table(compared: dict[str, Any]) -> list[str]:
    contenders = compared["contenders"]
    labels: dict[str, str] = compared["metric_labels"]
    width = max(len(c["label"]) for c in contenders) + 2
    lines = [" " * 22 + "".join(c["label"].ljust(width + 8) for c in contenders)]
    for key, label in labels.items():
        cells = "".join(_cell(c["metrics"].get(key)).ljust(width + 8) for c in contenders)
        lines.append(f"{label:<22}{cells}")
    lines.append("serving / 1K requests:")
    for contender in contenders:
        lines.append(f"  {contender['label']:<20}{serving_text(contender.get('serving'))}")
    return lines


def run(args: argparse.Namespace) -> int:
    """Compare and print the table, win/tie/loss, disagreements and the verdicts."""
    data = compare_runs(Registry(), args.runs)
    if args.html:
        atomic_write_text(args.html, render_comparison(data))
    if args.json:
        print_json(data)
        return EXIT_OK
    compared = data["compared"]
    print(f"{compared['records']} test records in common (95% bootstrap intervals)")
    for line in _table(compared):
        print(line)
    names = {c["id"]: c["label"] for c in compared["contenders"]}
    primary = compared["primary"]
    for pair in compared["pairs"]:
        record = pair["metrics"][primary]
        print(
            f"{names[pair['a']]} vs {names[pair['b']]} on "
            f"{compared['metric_labels'][primary]}: {record['wins']} wins, {record['ties']} "
            f"ties, {record['losses']} losses"
        )
        print(f"  {pair['verdict']}")
        for item in pair["disagreements"][:3]:
            print(f"  line {item['line']}: {item['a_value']:.3f} vs {item['b_value']:.3f}")
            print(f"    reference: {item['reference'][:100]}")
            print(f"    {names[pair['a']]}: {item['a_answer'][:100]}")
            print(f"    {names[pair['b']]}: {item['b_answer'][:100]}")
    for note in data["notes"]:
        print(f"note: {note}")
    if args.html:
        print(f"HTML: {args.html}")
    return EXIT_OK
