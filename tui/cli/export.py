"""`bedrock-tune export RUN_ID|FILE --as boto3|cli|iam|cloudformation [--out FILE]`: a run (or a
recipe) as code that does what the run did. Touches no AWS."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from core.errors import ValidationError
from core.export import FORMAT_LABELS, FORMATS, export_text, run_for_export, write_export
from core.registry import Registry
from tui.cli.common import EXIT_OK, output_file


def register(subparsers: Any) -> None:
    """Add the `export` parser."""
    parser = subparsers.add_parser(
        "export",
        help="write a run as a boto3 script, AWS CLI script, IAM documents or CloudFormation",
        description="Write code that does what a run did: the bucket with the same safety "
        "settings, the upload of the prepared files, the role and its policy, and the "
        "customization job with the run's hyperparameters (and serving, when asked). Every call "
        "has a comment saying why; names and client request tokens are parameters with fresh "
        "defaults, and no secret or account id is written. Formats: "
        + "; ".join(f"{name}: {label}" for name, label in FORMAT_LABELS.items())
        + ".",
    )
    parser.add_argument(
        "reference",
        metavar="RUN_ID|FILE",
        help="a run id (see `bedrock-tune runs`) or a recipe file (bedrock-tune recipe save)",
    )
    parser.add_argument(
        "--as",
        dest="format",
        required=True,
        choices=FORMATS,
        help="what to write",
    )
    parser.add_argument(
        "--out",
        metavar="FILE",
        type=output_file(overwrite=True),
        help="write it to FILE (default: print it)",
    )
    parser.add_argument("--force", action="store_true", help="replace FILE if it exists")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the export, or write it to --out atomically."""
    path: Path | None = args.out
    if path is not None and path.exists() and not args.force:
        raise ValidationError(
            f"{path} exists.", title="File exists", hint="Pick another name, or pass --force."
        )
    exported, source = run_for_export(args.reference, Registry())
    text = export_text(exported, args.format, source)
    if path is None:
        sys.stdout.write(text)
        return EXIT_OK
    write_export(path, text, args.format)
    sys.stderr.write(f"Wrote the {FORMAT_LABELS[args.format]} of {source} to {path}.\n")
    return EXIT_OK
