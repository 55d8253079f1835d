"""Rubrics an LLM judge grades answers by: two presets and a custom one from a template's TOML.

A rubric is a short instruction and a few named criteria, each scored 1 (worst) to 5 (best).
The presets follow the walkthroughs: summarization asks whether a summary is faithful,
complete and concise; text-to-SQL asks whether the query answers the question given the schema.

A custom rubric is a `[rubric]` table in a template TOML file (the same file as the template):

    [rubric]
    name = "support-answers"
    instructions = "You grade a support assistant's answers."

    [rubric.criteria]
    resolves = "The answer resolves the customer's issue."
    polite = "The answer is courteous."
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import ValidationError

SCALE = (1, 5)
"""Every criterion is scored on this whole-number scale."""
_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
MAX_CRITERIA = 8


@dataclass(frozen=True)
class Criterion:
    """One thing the judge scores."""

    name: str
    description: str


@dataclass(frozen=True)
class Rubric:
    """What the judge is told to grade, and by which criteria."""

    name: str
    instructions: str
    criteria: tuple[Criterion, ...]

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data (stored with the report, so a score can be read with its rubric)."""
        return {
            "name": self.name,
            "instructions": self.instructions,
            "criteria": {c.name: c.description for c in self.criteria},
            "scale": list(SCALE),
        }


PRESETS: dict[str, Rubric] = {
    "summarization": Rubric(
        name="summarization",
        instructions="You grade summaries. Judge the candidate summary against the source text "
        "in the task and the reference summary.",
        criteria=(
            Criterion(
                "faithful", "Every statement is supported by the source; nothing is made up."
            ),
            Criterion("complete", "It covers the points the reference summary covers."),
            Criterion("concise", "It says it without repetition or padding."),
        ),
    ),
    "text-to-sql": Rubric(
        name="text-to-sql",
        instructions="You grade SQL queries written for a question about the tables whose "
        "schema is in the task. The reference query is one correct answer; others may be "
        "written differently and still be correct.",
        criteria=(
            Criterion(
                "answers",
                "Run on the schema given, the query returns exactly what the question asks "
                "(5), mostly (3), or something else or nothing valid (1).",
            ),
        ),
    ),
}


def _bad(where: str, message: str) -> ValidationError:
    return ValidationError(
        f"{where}: {message}",
        title="Invalid rubric",
        hint="A rubric is a [rubric] table with name, instructions and a [rubric.criteria] "
        'table of name = "what it means" (lower-case names, 1 to 8 of them).',
    )


def rubric_from_toml(data: Mapping[str, Any], where: str) -> Rubric:
    """Build a rubric from the `[rubric]` table of a TOML file.

    Raises:
        ValidationError: naming the file and the key that is wrong.
    """
    table = data.get("rubric")
    if not isinstance(table, Mapping):
        raise _bad(where, "there is no [rubric] table")
    unknown = sorted(set(table) - {"name", "instructions", "criteria"})
    if unknown:
        raise _bad(where, f"unknown key(s) in [rubric]: {', '.join(unknown)}")
    name, instructions = table.get("name", "custom"), table.get("instructions", "")
    if not isinstance(name, str) or not isinstance(instructions, str):
        raise _bad(where, "name and instructions must be strings")
    criteria = table.get("criteria")
    if not isinstance(criteria, Mapping) or not criteria:
        raise _bad(where, "[rubric.criteria] is missing or empty")
    if len(criteria) > MAX_CRITERIA:
        raise _bad(where, f"{len(criteria)} criteria; at most {MAX_CRITERIA} keep a judge focused")
    parsed = []
    for key, text in criteria.items():
        if not _NAME.fullmatch(str(key)):
            raise _bad(where, f"criterion '{key}' must be a lower-case name (a-z, 0-9, _)")
        if not isinstance(text, str) or not text.strip():
            raise _bad(where, f"criterion '{key}' needs a description")
        parsed.append(Criterion(str(key), text.strip()))
    return Rubric(name.strip() or "custom", instructions.strip(), tuple(parsed))


def load_rubric(reference: str) -> Rubric:
    """`preset:summarization`, `preset:text-to-sql`, or a TOML file with a `[rubric]` table.

    Raises:
        ValidationError: an unknown preset, a missing or unreadable file, or a bad rubric.
    """
    if reference.startswith("preset:"):
        key = reference.removeprefix("preset:")
        if key not in PRESETS:
            raise ValidationError(
                f"There is no rubric preset '{key}'.",
                title="Invalid rubric",
                hint=f"Presets: {', '.join('preset:' + p for p in PRESETS)}; or a TOML file "
                "with a [rubric] table.",
            )
        return PRESETS[key]
    path = Path(reference).expanduser()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _bad(str(path), "no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise _bad(str(path), f"cannot be read ({error})") from None
    except tomllib.TOMLDecodeError as error:
        raise _bad(str(path), f"not valid TOML ({error})") from None
    return rubric_from_toml(data, str(path))


def rubric_for_template(template_name: str | None) -> Rubric | None:
    """The preset that fits a template preset of the same purpose, if any."""
    if template_name in ("dialogue-summary", "news-summary"):
        return PRESETS["summarization"]
    if template_name == "text-to-sql":
        return PRESETS["text-to-sql"]
    return None


def rubric_to_toml(rubric: Rubric) -> str:
    """The rubric as TOML text with a `[rubric]` table (`rubric_from_toml` reads it back): how
    a custom rubric is kept with a run and in its recipe, so that it travels with them."""
    import tomli_w

    table = {
        "name": rubric.name,
        "instructions": rubric.instructions,
        "criteria": {c.name: c.description for c in rubric.criteria},
    }
    return tomli_w.dumps({"rubric": table})
