"""`bedrock-tune evaluate`: held-out records through the tuned (and base) model, scored."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from core import format as fmt
from core.evaluation.evaluate import evaluate, load_test_records, report_json, save_report
from tui.cli.common import EXIT_OK, add_aws_options, aws_context, print_json


def register(subparsers: Any) -> None:
    """Add the `evaluate` parser."""
    parser = subparsers.add_parser(
        "evaluate",
        help="score a tuned model on the test split (ROUGE, exact match), against the base",
        description="Send N test records to the tuned model (and with --compare to the base "
        "model), score the answers against the references with ROUGE-1/2/L and exact match, "
        "and save evaluation.json and evaluation.csv.",
    )
    add_aws_options(parser, suppress=True)
    parser.add_argument("--model", required=True, help="provisioned throughput/deployment ARN")
    parser.add_argument("--test", required=True, type=Path, help="the prepared test.jsonl")
    parser.add_argument("--compare", metavar="BASE_ID", help="the base model's inference id")
    parser.add_argument("-n", type=int, default=50, help="how many records (default 50)")
    parser.add_argument("--concurrency", type=int, default=4, help="parallel requests")
    parser.add_argument("--out", type=Path, help="folder for the report (default: beside --test)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Evaluate and print the means, best and worst records."""
    records = load_test_records(args.test, limit=max(1, args.n))

    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty():
            sys.stderr.write(f"\r{done}/{total} records")

    with aws_context(args) as context:
        report = evaluate(
            context,
            records,
            args.model,
            args.compare,
            concurrency=args.concurrency,
            progress=progress,
        )
    json_path, csv_path = save_report(report, args.out or args.test.parent)
    if args.json:
        print_json(report_json(report))
        return EXIT_OK
    for label, which in (("tuned", "tuned"), ("base", "base")):
        summary = report.summary(which)
        if summary:
            print(
                f"{label:<6} ROUGE-1 {summary['rouge1']:.3f}  ROUGE-2 {summary['rouge2']:.3f}  "
                f"ROUGE-L {summary['rougeL']:.3f}  exact {summary['exact_match']:.1%}  "
                f"({int(summary['answered'])} answered)"
            )
    failed = [r for r in report.rows if r.tuned.error]
    if failed:
        print(
            f"{fmt.plural(len(failed), 'record')} failed on the tuned model, "
            f"e.g. line {failed[0].record.line}:"
            f" {failed[0].tuned.error}"
        )
    scored = sorted((r.tuned.scores.rouge_l, r.record.line) for r in report.rows if r.tuned.scores)
    if scored:
        print(f"worst: line {scored[0][1]}; best: line {scored[-1][1]} (by ROUGE-L)")
    print(f"Report: {json_path} and {csv_path}")
    return EXIT_OK
