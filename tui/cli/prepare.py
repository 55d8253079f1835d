"""`bedrock-tune prepare`: render, filter, dedupe, sample and split a dataset into Bedrock's
JSONL files for one model, with a manifest."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from core import format as fmt
from core.catalog.lookup import find_model
from core.catalog.types import CustomizationType
from core.data.prepare import PrepareOptions, default_sizes, prepare
from core.data.prepared import DATA_FILES, MANIFEST, SPLITS, split_file_name
from core.data.sources import SourceSpec
from core.data.templates import PRESETS, load_template
from tui.cli.common import (
    EXIT_OK,
    non_negative_int,
    output_folder,
    positive_int,
    print_json,
    template_reference,
)


def register(subparsers: Any) -> None:
    """Add the `prepare` parser."""
    presets = ", ".join(f"preset:{name}" for name in PRESETS)
    parser = subparsers.add_parser(
        "prepare",
        help="turn a dataset into Bedrock training files",
        description="Render every record with a template into the format the model takes, "
        "drop records that are too long, empty or duplicated, sample with a seed, and write "
        f"{', '.join(DATA_FILES)} and {MANIFEST}.",
    )
    parser.add_argument("source", metavar="SOURCE", help="a path or a Hugging Face dataset id")
    parser.add_argument("--config", help="the hub dataset's config")
    parser.add_argument("--split", help="the split (default train)")
    parser.add_argument(
        "--template",
        required=True,
        type=template_reference,
        help=f"a template TOML file, or one of: {presets}",
    )
    parser.add_argument("--model", required=True, help="base model id (sets the format)")
    parser.add_argument(
        "--type",
        default="fine-tuning",
        choices=[t.cli_name for t in CustomizationType],
        help="customization type (default fine-tuning)",
    )
    parser.add_argument("--out", required=True, type=output_folder, help="output folder")
    parser.add_argument(
        "--train", type=positive_int, help="training records (default: the model's)"
    )
    parser.add_argument(
        "--validation", type=non_negative_int, help="validation records (0: no file)"
    )
    parser.add_argument("--test", type=non_negative_int, help="test records (0: no file)")
    parser.add_argument(
        "--max-chars", type=positive_int, help="maximum characters of system + user + assistant"
    )
    parser.add_argument(
        "--max-tokens", type=positive_int, help="maximum estimated tokens per record"
    )
    parser.add_argument("--no-dedupe", action="store_true", help="keep duplicate records")
    parser.add_argument(
        "--seed", type=non_negative_int, default=42, help="sampling seed (default 42)"
    )
    parser.add_argument(
        "--force", action="store_true", help="overwrite prepared files already in --out"
    )
    parser.add_argument("--json", action="store_true", help="print the manifest as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Prepare, with a progress line on stderr."""
    model = find_model(args.model)
    kind = CustomizationType.parse(args.type)
    custom = model.customization(kind)
    if custom is None:
        from core.errors import ValidationError

        raise ValidationError(
            f"{model.name} does not support {kind.label.lower()}.",
            hint="Run `bedrock-tune models` to see what each model supports.",
        )
    train, validation, test = default_sizes(custom.limits)
    max_chars = args.max_chars
    if max_chars is None and args.max_tokens is None:
        max_chars = custom.limits.max_chars_per_record
    options = PrepareOptions(
        train=train if args.train is None else args.train,
        validation=validation if args.validation is None else args.validation,
        test=test if args.test is None else args.test,
        max_chars=max_chars,
        max_tokens=args.max_tokens,
        dedupe=not args.no_dedupe,
        seed=args.seed,
        overwrite=args.force,
    )
    template = load_template(args.template)

    def progress(done: int, total: int | None, what: str) -> None:
        if sys.stderr.isatty():
            amount = f"{done:,}/{total:,}" if total else f"{done:,}"
            sys.stderr.write(f"\r{what}: {amount}   ")

    result = prepare(
        SourceSpec(args.source, args.config, args.split),
        template,
        model,
        args.out,
        options,
        kind=kind,
        progress=progress,
    )
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    if args.json:
        for note in result.notes:
            sys.stderr.write(f"Note: {note}\n")
        print_json(result.manifest)
        return EXIT_OK
    print(f"Prepared {custom.data_format.label} records for {model.name} in {args.out}:")
    for split in SPLITS:
        count = result.counts.get(split, 0)
        if count:
            print(f"  {split_file_name(split):<18} {fmt.plural(count, 'record')}")
    if result.dropped:
        dropped = ", ".join(f"{n:,} {reason}" for reason, n in sorted(result.dropped.items()))
        print(f"  dropped            {dropped} (of {result.examined:,} examined)")
    for note in result.notes:
        print(f"  Note: {note}")
    print(f"  {MANIFEST:<18} how they were made (source, template, seed, counts)")
    return EXIT_OK
