"""Prompt mode, the dataset and template steps: open a dataset and see its columns, row count
and first records as text; then a template (a preset, the run's, or written here) and the exact
JSON line Bedrock gets for a record, with its size against the model's limit."""

from __future__ import annotations

import json
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

from core import format as fmt
from core.catalog.lookup import find_model
from core.catalog.types import Customization
from core.data.record_preview import preview_record, template_problems
from core.data.sources import Preview, SourceSpec, looks_local, preview
from core.data.templates import (
    PRESETS,
    Template,
    diagnose,
    guess_template,
    load_template,
    template_from_dict,
    template_to_toml,
)
from core.errors import BedrockTuneError, ValidationError
from tui.cli.plain.ask import Check, Option
from tui.cli.plain.session import Session

PREVIEW_RECORDS = 3
"""Records shown after opening a dataset."""
TEMPLATE_RECORDS = 50
"""Records the template is tried on (as many as the app's template step reads)."""


def _short(value: Any, width: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = text.replace("\n", "\\n")
    return text if len(text) <= width else text[: width - 1] + "…"


def source_problem(text: str) -> str | None:
    """What is wrong with a typed dataset location, as it is typed (None: it may be opened)."""
    text = text.strip()
    if not text:
        return "Type a path, or a Hugging Face dataset id such as knkarthick/dialogsum."
    if looks_local(text) and not Path(text).expanduser().exists():
        return f"There is no file or folder at {text}."
    return None


def describe_preview(shown: Preview, records: int = PREVIEW_RECORDS) -> str:
    """The dataset as the app's dataset step shows it: summary, columns, first records."""
    rows = "row count unknown" if shown.num_rows is None else fmt.plural(shown.num_rows, "row")
    lines = [
        f"{shown.spec.describe()}  ({shown.kind}, {rows}, "
        f"{fmt.plural(len(shown.columns), 'column')})"
    ]
    if shown.note:
        lines.append(f"  {shown.note}")
    lines.append("Columns:")
    lines += [f"  {column.name:<24} {column.type}" for column in shown.columns]
    for index, record in enumerate(shown.rows[:records]):
        lines.append(f"Record {index}:")
        lines += [f"  {key}: {_short(value)}" for key, value in record.items()]
    return "\n".join(lines)


def dataset_step(session: Session) -> None:
    """Open a dataset until one is used; the run records its location."""
    ask, run = session.ask, session.run
    location = run.source_location or ""
    while True:
        location = ask.path(
            "Dataset: a JSONL / JSON / CSV / Parquet file, a save_to_disk folder, or a Hugging "
            "Face id",
            default=location,
            check=source_problem,
        ).strip()
        config = split = None
        if not looks_local(location):
            config = ask.text("Config of the hub dataset (Enter for none):").strip() or None
            split = ask.text("Split (Enter for train):").strip() or None
        spec = SourceSpec(location, config, split)
        ask.say(f"Opening {spec.describe()}...")
        try:
            shown = preview(spec, TEMPLATE_RECORDS)
        except BedrockTuneError as error:
            ask.say(f"Could not open it.\n{error.describe()}")
            continue
        ask.say(describe_preview(shown))
        if not shown.rows:
            ask.say("It has no records: choose another dataset.")
            continue
        if ask.confirm("Use this dataset?", default=True):
            break
    session.update(
        replace(session.run, source_location=location, source_config=config, source_split=split)
    )


def describe_record(
    template: Template, shown: Preview, index: int, customization: Customization
) -> str:
    """Record `index` through the template: its problems, or its JSON line and size."""
    checked = preview_record(template, shown.column_names, shown.rows[index], customization)
    head = f"Record {index + 1} of {len(shown.rows)}:"
    if checked.problems:
        problems = [f"  ✘ {p.field}: {p.message}" for p in checked.problems]
        return "\n".join([head, *problems])
    size = f"{fmt.plural(checked.chars, 'character')}, about {fmt.plural(checked.tokens, 'token')}"
    if checked.limit:
        size += f" of {checked.limit:,} allowed" + (" (too long)" if checked.over_limit else "")
    return f"{head} ✔ the template fits this record; {size}\n{checked.line}"


def _placeholder_check(shown: Preview, field: str) -> Check:
    """Validation as you type for one text of the template: its placeholders name columns."""

    def check(text: str) -> str | None:
        trial = Template(
            system=text if field == "system" else "",
            user=text if field == "user" else "",
            assistant=text if field == "assistant" else "",
        )
        problems = [p for p in diagnose(trial, shown.column_names) if p.kind != "empty"]
        return problems[0].message if problems else None

    return check


def _written(session: Session, shown: Preview, start: Template) -> Template:
    """A template written here, starting from `start`'s texts."""
    ask = session.ask
    ask.say(f"Columns: {', '.join(shown.column_names)}. Use {{column}}; [[ ... ]] is optional.")
    system = ask.text("System prompt:", start.system, _placeholder_check(shown, "system"))
    user = ask.text("User text:", start.user, _placeholder_check(shown, "user"))
    assistant = ask.text(
        "Assistant text (the answer to learn):",
        start.assistant,
        _placeholder_check(shown, "assistant"),
    )
    return Template(name="custom", system=system, user=user, assistant=assistant)


def _template_file_problem(text: str) -> str | None:
    if not text.strip():
        return "Type the path of a template TOML file."
    path = Path(text).expanduser()
    return None if path.is_file() else f"There is no file at {text}."


def template_step(session: Session) -> None:
    """Choose or write the template, seeing records as Bedrock will get them; the run records
    it as TOML."""
    ask, run = session.ask, session.run
    if not (run.base_model_id and run.source_location):
        raise ValidationError("Choose a model and a dataset first.")
    model = find_model(run.base_model_id)
    customization = model.customization(run.customization_type)
    if customization is None:
        raise ValidationError(f"{model.name} has no {run.customization_type.label.lower()}.")
    shown = preview(SourceSpec(run.source_location, run.source_config, run.source_split), 50)
    limit = customization.limits.max_tokens_per_record
    ask.say(
        f"Format: {customization.data_format.label}, as {model.name} needs; "
        + (f"{limit:,} tokens per record." if limit else "no known per-record limit.")
    )
    if run.template_toml:
        template = template_from_dict(tomllib.loads(run.template_toml))
    else:
        template = guess_template(shown.column_names)
    index = 0
    while True:
        ask.say(f"Template '{template.name}':\n{template_to_toml(template).rstrip()}")
        ask.say(describe_record(template, shown, index, customization))
        problems = template_problems(template, shown.column_names, customization)
        choices = [
            Option("Use this template", "use", problems[0].message if problems else None),
            Option("Show the next record", "next"),
            Option("Start from a preset", "preset"),
            Option("Write my own (from this one)", "write"),
            Option("Load a template TOML file", "load"),
        ]
        action = ask.select("The template:", choices, default="use" if not problems else "write")
        if action == "use":
            break
        if action == "next":
            index = (index + 1) % len(shown.rows)
        elif action == "preset":
            presets = [Option(f"{p.name}: {p.description}", name) for name, p in PRESETS.items()]
            template = PRESETS[ask.select("Which preset?", presets, default=template.name)]
        elif action == "write":
            template = _written(session, shown, template)
        else:
            path = ask.path("Template file:", check=_template_file_problem)
            try:
                template = load_template(str(Path(path).expanduser()))
            except BedrockTuneError as error:
                ask.say(error.describe())
    session.update(replace(session.run, template_toml=template_to_toml(template)))
