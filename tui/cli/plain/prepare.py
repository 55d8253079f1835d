"""Prompt mode, the prepare and validate steps: sizes inside the model's limits (fitted to the
dataset), a maximum length, dedupe and a seed, then the files written with progress lines; then
every rule checked, the report as text (files, token statistics, histogram, estimate, problems
by rule), and the fix-ups offered, each writing a new folder the run then uses."""

from __future__ import annotations

import sys
import tomllib
from dataclasses import replace
from pathlib import Path

from core import format as fmt
from core.catalog.lookup import find_model
from core.catalog.types import BaseModel, Customization
from core.data.locations import default_prepared_dir, git_checkout_of
from core.data.prepare import (
    PrepareOptions,
    chars_limit_or_default,
    check_sizes,
    default_sizes,
    fit_sizes,
    prepare,
    sizes_or_defaults,
)
from core.data.prepared import PreparedDir
from core.data.sources import SourceSpec, preview
from core.data.templates import template_from_dict
from core.data.tokens import ESTIMATE_METHOD
from core.errors import BedrockTuneError, DatasetError, ValidationError
from core.estimate import estimate, estimate_lines
from core.files import output_folder_problem
from core.validate.fixups import fix_prepared, offered_fixes
from core.validate.rules import rules_for
from core.validate.validator import ValidationReport, validate
from tui.cli.plain.ask import Check, Option
from tui.cli.plain.session import Session, StopFlow


def whole_number(low: int = 0) -> Check:
    """Validation as you type: a whole number of `low` or more ("" is refused)."""

    def check(text: str) -> str | None:
        cleaned = text.strip().replace(",", "").replace("_", "")
        if not cleaned.isdigit():
            return f"Type a whole number ({low} or more)."
        return None if int(cleaned) >= low else f"Type a whole number of {low} or more."

    return check


def optional_number(text: str) -> str | None:
    """Validation as you type: empty, or a whole number above 0."""
    return None if not text.strip() else whole_number(1)(text)


def _folder_check(text: str) -> str | None:
    """Validation as you type: a folder the prepared files can be written into."""
    problem = output_folder_problem(Path(text.strip() or ".").expanduser())
    return None if problem is None else f"{text.strip() or '.'} {problem}."


def _number(text: str) -> int | None:
    cleaned = text.strip().replace(",", "").replace("_", "")
    return int(cleaned) if cleaned else None


class ProgressLine:
    """Progress as one line rewritten in place (a terminal), or nothing (tests, pipes)."""

    def __call__(self, done: int, total: int | None, what: str) -> None:
        if sys.stdout.isatty():
            amount = f"{done:,} of {total:,}" if total else f"{done:,}"
            sys.stdout.write(f"\r{what}: {amount}   ")
            sys.stdout.flush()

    def end(self) -> None:
        """Leave the line."""
        if sys.stdout.isatty():
            sys.stdout.write("\n")


def _model(session: Session) -> tuple[BaseModel, Customization]:
    run = session.run
    if not run.base_model_id:
        raise ValidationError("No base model chosen.", hint="Choose one in the model step.")
    model = find_model(run.base_model_id)
    customization = model.customization(run.customization_type)
    if customization is None:
        raise ValidationError(f"{model.name} has no {run.customization_type.label.lower()}.")
    return model, customization


def limits_line(model: BaseModel, customization: Customization) -> str:
    """The model's limits in one line (as the prepare step shows them)."""
    limits = customization.limits
    parts = [f"{model.name}: {customization.data_format.label}"]
    if limits.min_records:
        parts.append(f"at least {limits.min_records:,} records")
    if limits.max_train_records:
        parts.append(f"at most {limits.max_train_records:,} training")
    if limits.max_validation_records:
        parts.append(f"{limits.max_validation_records:,} validation")
    if not limits.validation_data_supported:
        parts.append("no validation data")
    return ", ".join(parts)


def _ask_options(session: Session, model: BaseModel, rows: int | None) -> PrepareOptions:
    """The sizes, the filters and the seed, asked until the sizes fit the model."""
    ask, run = session.ask, session.run
    _, customization = _model(session)
    limits = customization.limits
    sizes = default_sizes(limits)
    if run.train_size is not None:
        sizes = sizes_or_defaults(limits, run.train_size, run.validation_size, run.test_size)
    elif rows is not None:
        try:
            sizes, _ = fit_sizes(rows, sizes, limits.min_records, counted="in the dataset")
        except DatasetError as error:
            ask.say(f"✘ {error.message}")
    while True:
        train = ask.text("Training records:", str(sizes[0]), whole_number(1))
        validation = ask.text("Validation records (0: none):", str(sizes[1]), whole_number())
        test = ask.text("Test records (0: none):", str(sizes[2]), whole_number())
        chars = chars_limit_or_default(limits, run.train_size, run.max_chars, run.max_tokens)
        max_chars = ask.text(
            "Longest record kept, in characters (Enter: no limit):",
            str(chars or ""),
            optional_number,
        )
        seed = ask.text("Seed of the sample and split:", str(run.seed or 42), whole_number())
        dedupe = ask.confirm("Remove duplicate records?", default=run.dedupe is not False)
        options = PrepareOptions(
            train=_number(train) or 0,
            validation=_number(validation) or 0,
            test=_number(test) or 0,
            max_chars=_number(max_chars),
            dedupe=dedupe,
            seed=_number(seed) or 0,
        )
        problems = check_sizes(model, run.customization_type, options)
        if rows is not None:
            try:
                fitted, _ = fit_sizes(
                    rows,
                    (options.train, options.validation, options.test),
                    limits.min_records,
                    counted="in the dataset",
                )
            except DatasetError as error:
                problems.append(error.message)
            else:
                if fitted != (options.train, options.validation, options.test):
                    ask.say(
                        f"The dataset has {rows:,} rows, fewer than these sizes ask for: they "
                        f"shrink in proportion to {', '.join(map(str, fitted))}."
                    )
        if not problems:
            return options
        ask.say("\n".join(f"✘ {problem}" for problem in problems))
        sizes = (options.train, options.validation, options.test)


def prepare_step(session: Session) -> None:
    """Write train / validation / test files with a manifest; the run records the choices."""
    ask, run = session.ask, session.run
    model, customization = _model(session)
    if not (run.source_location and run.template_toml):
        raise ValidationError("Choose a dataset and a template first.")
    spec = SourceSpec(run.source_location, run.source_config, run.source_split)
    ask.say(limits_line(model, customization))
    try:
        rows = preview(spec, 1).num_rows
    except BedrockTuneError:
        rows = None  # preparing says why
    options = _ask_options(session, model, rows)
    default_out = run.prepared_dir or str(default_prepared_dir(run.run_id))
    while True:
        out = Path(
            ask.path(
                "Output folder:",
                default_out,
                _folder_check,
                folders_only=True,
            ).strip()
            or "."
        ).expanduser()
        checkout = git_checkout_of(out)
        if checkout is not None and not ask.confirm(
            f"{out} is inside the git checkout {checkout}, where the records could end up in a "
            "commit. Write there anyway?",
            default=False,
        ):
            continue
        present = PreparedDir(out).existing()
        if present and not ask.confirm(
            f"{out} already holds {', '.join(present)}. Replace them?", default=False
        ):
            continue
        options = replace(options, overwrite=bool(present))
        break
    template = template_from_dict(tomllib.loads(run.template_toml))
    progress = ProgressLine()
    try:
        result = prepare(
            spec, template, model, out, options, kind=run.customization_type, progress=progress
        )
    finally:
        progress.end()
    counts = ", ".join(f"{n} {k}" for k, n in result.counts.items())
    ask.say(f"✔ Prepared in {result.out_dir}: {counts}")
    if result.dropped:
        dropped = ", ".join(f"{n:,} {r}" for r, n in sorted(result.dropped.items()))
        ask.say(f"  dropped {dropped} (of {result.examined:,} examined)")
    for note in result.notes:
        ask.say(f"  Note: {note}")
    session.update(
        replace(
            session.run,
            prepared_dir=str(result.out_dir),
            train_size=options.train,
            validation_size=options.validation,
            test_size=options.test,
            max_chars=options.max_chars,
            max_tokens=options.max_tokens,
            dedupe=options.dedupe,
            seed=options.seed,
        )
    )


def describe_report(report: ValidationReport) -> str:
    """The validation report as the app's validate step shows it, as text."""
    errors, warnings = report.count("error"), report.count("warning")
    if report.ok:
        note = f" ({fmt.plural(warnings, 'warning')})" if warnings else ""
        lines = [f"✔ Valid for {report.model.name}{note}."]
    else:
        counts = f"{fmt.plural(errors, 'error')}, {fmt.plural(warnings, 'warning')}"
        lines = [f"✘ Not valid for {report.model.name}: {counts}."]
    if report.headline:
        lines.append(report.headline)
    for file in report.files:
        stats = file.stats
        lines.append(
            f"{file.path.name}  {fmt.plural(file.records, 'record')}, {fmt.size(file.size_bytes)}"
        )
        if stats.records:
            limit = f"limit {stats.limit:,}" if stats.limit else "limit unknown"
            lines.append(
                f"  tokens per record: min {stats.minimum:,}  median {stats.median:,}  "
                f"p95 {stats.p95:,}  max {stats.maximum:,}  ({limit}); total {stats.total:,}"
            )
    histogram = report.train.stats.histogram
    top = max((b.count for b in histogram), default=0) or 1
    for bucket in histogram:
        label = f"> {bucket.low:,}" if bucket.over_limit else f"≤ {bucket.high:,}"
        bar = "█" * max(1 if bucket.count else 0, round(bucket.count / top * 30))
        lines.append(f"  {label:>10} {bar:<30} {bucket.count:,}")
    lines.append(f"  Estimated with {ESTIMATE_METHOD}.")
    model = report.model
    customization = model.customization(report.rules.kind)
    spec = customization.hyperparameter("epochCount") if customization else None
    epochs = int(spec.default) if spec is not None and spec.default is not None else 1
    cost = estimate(model, report.train.stats.total, epochs)
    lines.append(f"Estimate (USD, prices for {cost.prices.region}):")
    lines += [f"  {label:<10} {line}" for label, line in estimate_lines(cost, model)]
    if report.groups:
        lines.append("Problems by rule:")
    for group in report.groups:
        mark = "✘" if group.severity == "error" else "!"
        where = Path(group.file).name if group.file else "(dataset)"
        first = ", ".join(map(str, group.first_lines[:6])) or "-"
        message = group.problems[0].message if group.problems else group.title
        lines.append(
            f"  {mark} {group.rule} ({group.count:,}) in {where}, lines {first}: {message}"
        )
    return "\n".join(lines)


def validate_step(session: Session) -> None:
    """Validate the prepared files, offering fix-ups, until they pass or the person goes on
    (or stops); the run records the verdict."""
    ask = session.ask
    model, _ = _model(session)
    while True:
        run = session.run
        if run.prepared_dir is None:
            raise ValidationError("Prepare the files first.")
        folder = PreparedDir(Path(run.prepared_dir))
        ask.say(f"Validating {folder.train}...")
        progress = ProgressLine()
        try:
            report = validate(
                folder.train,
                model,
                run.customization_type,
                validation=folder.validation_if_present(),
                dataset_bucket=run.bucket,
                progress=progress,
            )
        finally:
            progress.end()
        ask.say(describe_report(report))
        session.update(replace(run, validated_ok=report.ok, validated_dir=run.prepared_dir))
        fixes = offered_fixes(report)
        if report.ok and not fixes:
            return
        choices = [Option(f"Fix-up: {fix.label} (writes a new folder)", fix) for fix in fixes]
        choices.append(
            Option("Go on" if report.ok else "Go on anyway (the job will likely fail)", "go")
        )
        choices.append(Option("Stop here (the run is saved)", "stop"))
        picked = ask.select(
            "What now?", choices, default=fixes[0] if fixes and not report.ok else "go"
        )
        if picked == "go":
            return
        if picked == "stop":
            raise StopFlow
        rules = rules_for(model, run.customization_type, dataset_bucket=run.bucket)
        fixed = fix_prepared(Path(run.prepared_dir), picked, rules)
        ask.say(
            f"✔ {fixed.fix.label}: {fmt.plural(fixed.changed, 'record')} changed. The run now "
            f"uses {fixed.directory}; {fixed.source} is unchanged."
        )
        session.update(replace(session.run, prepared_dir=str(fixed.directory), validated_ok=None))
