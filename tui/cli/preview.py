"""`bedrock-tune preview`: a dataset's columns, row count and first records, fast."""

from __future__ import annotations

import argparse
import json
from typing import Any

from core import format as fmt
from core.data.sources import SourceSpec, preview
from tui.cli.common import EXIT_OK, positive_int, print_json


def register(subparsers: Any) -> None:
    """Add the `preview` parser."""
    parser = subparsers.add_parser(
        "preview",
        help="show a dataset's columns and first records",
        description="Show the columns (with types), the row count when known, and the first "
        "records of a local JSONL / JSON / CSV / Parquet file, a `save_to_disk` folder, or a "
        "Hugging Face dataset (streamed: only the head is read).",
    )
    parser.add_argument("source", metavar="SOURCE", help="a path or a Hugging Face dataset id")
    parser.add_argument("--config", help="the hub dataset's config (e.g. 3.0.0)")
    parser.add_argument("--split", help="the split (default train)")
    parser.add_argument("-n", type=positive_int, default=5, help="how many records (default 5)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run)


def _short(value: Any, width: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = text.replace("\n", "\\n")
    return text if len(text) <= width else text[: width - 1] + "…"


def run(args: argparse.Namespace) -> int:
    """Print the preview."""
    spec = SourceSpec(args.source, args.config, args.split)
    shown = preview(spec, args.n)
    if args.json:
        print_json(
            {
                "source": spec.describe(),
                "kind": shown.kind,
                "num_rows": shown.num_rows,
                "columns": [{"name": c.name, "type": c.type} for c in shown.columns],
                "records": list(shown.rows),
                "note": shown.note,
            }
        )
        return EXIT_OK
    rows = "unknown rows" if shown.num_rows is None else fmt.plural(shown.num_rows, "row")
    print(f"{spec.describe()}  ({shown.kind}, {rows})")
    if shown.note:
        print(f"  {shown.note}")
    print("\nColumns:")
    for column in shown.columns:
        print(f"  {column.name:<24} {column.type}")
    for index, record in enumerate(shown.rows):
        print(f"\nRecord {index}:")
        for key, value in record.items():
            print(f"  {key}: {_short(value)}")
    return EXIT_OK
