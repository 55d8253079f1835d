"""`bedrock-tune upload DIR`: put a prepared folder in `s3://<bucket>/<prefix>/<run>/data/` and
print the URIs a customization job needs. Files already there are skipped; an interrupted upload
leaves no partial object and finishes when run again (with the same run id).

Once the files are up, the run is recorded in the registry as the TUI records it: the run
`--run` names (one `infra apply` made, say) gets the prepared folder, the bucket and the URIs,
or a new run of that id is made. `bedrock-tune runs` lists it; `jobs launch --run-id` and the
TUI continue it."""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from core.data.prepared import ALL_FILES, TRAIN_FILE
from core.infra.plan import DEFAULT_PREFIX, default_bucket_name
from core.registry import Registry
from core.run import Run
from core.upload import FileProgress, run_location, upload_prepared
from tui.cli.common import (
    EXIT_OK,
    add_aws_options,
    aws_context,
    print_json,
    run_to_record,
    s3_prefix,
)


def register(subparsers: Any) -> None:
    """Add the `upload` parser."""
    parser = subparsers.add_parser(
        "upload",
        help="upload prepared files to the run's S3 folder",
        description=f"Upload {TRAIN_FILE} (and {', '.join(ALL_FILES[1:])} when "
        "present) to s3://<bucket>/<prefix>/<run>/data/, checked and verified, and print the "
        "training, validation and output URIs. Run `bedrock-tune infra apply` first.",
    )
    add_aws_options(parser, suppress=True)
    parser.add_argument("directory", metavar="DIR", type=Path, help="the prepared folder")
    parser.add_argument("--bucket", help="bucket (default bedrock-tune-<account>-<region>)")
    parser.add_argument(
        "--prefix",
        default=DEFAULT_PREFIX,
        type=s3_prefix,
        help=f"key prefix of run folders ({DEFAULT_PREFIX})",
    )
    parser.add_argument(
        "--run",
        help="run id: the run recorded in the registry and its folder under the prefix "
        "(default: the folder's name)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run)


def default_run_id(directory: Path) -> str:
    """The folder's name as a run id: letters, digits and '-' (a run id is also a tag value and
    a folder in S3), at most 64 characters.

    Deterministic, so running the same upload again finishes it instead of starting anew.
    """
    name = re.sub(r"[^a-zA-Z0-9]+", "-", directory.resolve().name).strip("-")[:64].strip("-")
    return name or "run"


def progress_line(update: FileProgress) -> str:
    """`train.jsonl  12.0 MB / 40.0 MB  3.1 MB/s  9 s left` (or the final state)."""
    return f"{update.name}  {update.describe()}"


def run(args: argparse.Namespace) -> int:
    """Upload and print the URIs."""
    interactive = sys.stderr.isatty()

    def show(update: FileProgress) -> None:
        if update.state in ("done", "skipped"):
            sys.stderr.write(("\r" if interactive else "") + progress_line(update) + "\n")
        elif interactive and update.state == "uploading":
            sys.stderr.write("\r" + progress_line(update).ljust(70))
        sys.stderr.flush()

    run_id = args.run or default_run_id(args.directory)
    registry = Registry()
    with aws_context(args) as context:
        identity = context.whoami()
        saved = registry.get_run(run_id)
        bucket = (
            args.bucket
            or (saved.run.bucket if saved else None)
            or default_bucket_name(identity.account, context.region)
        )
        run_location(bucket, run_id, args.prefix)  # every URI checked before anything is kept
        run = run_to_record(registry, run_id, Run(), context, identity, args)
        run = replace(
            run,
            prepared_dir=str(args.directory.resolve()),
            bucket=bucket,
            s3_prefix=args.prefix,
        )
        result = upload_prepared(
            context,
            args.directory,
            bucket,
            run_id,
            prefix=args.prefix,
            account_id=identity.account,
            registry=registry,
            on_progress=show,
        )
        # Recorded once the files are up and verified (the s3-prefix resource is recorded before
        # the first byte); an interrupted upload is finished, and recorded, by the same command.
        registry.save_run(run_id, result.applied_to(run))
    summary = {
        "run_id": run_id,
        **result.run_fields(),
        "files": [
            {
                "name": f.name,
                "uri": f.uri,
                "bytes": f.size,
                "sha256": f.sha256,
                "skipped": f.skipped,
            }
            for f in result.files
        ],
    }
    if args.json:
        print_json(summary)
    else:
        sys.stdout.write(
            f"Training data    {result.training_uri}\n"
            + (f"Validation data  {result.validation_uri}\n" if result.validation_uri else "")
            + (f"Test data        {result.test_uri}\n" if result.test_uri else "")
            + f"Output folder    {result.output_uri}\n"
        )
    return EXIT_OK
