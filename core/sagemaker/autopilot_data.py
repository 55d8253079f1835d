"""The CSV Autopilot fine-tunes on: a header `input,output` and exactly those two columns
(reference §8: CSV by default, "exactly two columns, input and output, no others"; at least
1,000 rows recommended), written from the same prepared records the other routes train on.

A prepared record is one of the shapes `core.data.templates.to_bedrock` writes: prompt /
completion, Bedrock conversation (`bedrock-conversation-2024`) or Claude messages. Its prompt
side (system prompt and user turns) becomes `input`, its last assistant turn `output`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from core.atomic import atomic_write_text
from core.errors import DatasetError

COLUMNS = ("input", "output")
CONTENT_TYPE = "text/csv;header=present"
RECOMMENDED_ROWS = 1_000


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # [{"text": ...}] blocks
        return "".join(str(b.get("text", "")) for b in content if isinstance(b, Mapping))
    return ""


def autopilot_pair(record: Mapping[str, Any]) -> tuple[str, str]:
    """(input, output) of one prepared record; a DatasetError when it has no answer."""
    if "prompt" in record and "completion" in record:
        return str(record["prompt"]), str(record["completion"])
    messages = record.get("messages")
    if not isinstance(messages, list):
        raise DatasetError(
            "A record has neither prompt/completion nor messages.",
            hint="Prepare the data with a template that has a user and an assistant text.",
        )
    system = record.get("system")
    parts = [_text(system)] if system else []
    answer = ""
    for message in messages:
        if not isinstance(message, Mapping):
            continue
        text = _text(message.get("content"))
        if message.get("role") == "assistant":
            answer = text
        else:
            parts.append(text)
    if not answer.strip():
        raise DatasetError(
            "A record has no assistant answer: Autopilot's 'output' column would be empty.",
            hint="Autopilot learns from input/output pairs; use a template with an assistant text.",
        )
    return "\n\n".join(p for p in parts if p), answer


def autopilot_csv(records: Iterable[Mapping[str, Any]]) -> tuple[str, int]:
    """The CSV text for `records` and its row count (RFC 4180 quoting, header first)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    rows = 0
    for record in records:
        writer.writerow(autopilot_pair(record))
        rows += 1
    return out.getvalue(), rows


def write_autopilot_csv(prepared_jsonl: Path, destination: Path) -> int:
    """Write the CSV of a prepared JSONL file (atomically: never half-written); the rows."""

    def records() -> Iterable[Mapping[str, Any]]:
        with prepared_jsonl.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except ValueError:
                    raise DatasetError(
                        f"{prepared_jsonl}:{number} is not a JSON line.",
                        hint="Prepare the data again with `bedrock-tune prepare`.",
                    ) from None
                if isinstance(value, Mapping):
                    yield value

    text, rows = autopilot_csv(records())
    atomic_write_text(destination, text)
    return rows


def header_problem(header: list[str], where: str) -> str | None:
    """Why a CSV header is not Autopilot's (None when it is exactly input,output)."""
    names = [h.strip() for h in header]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        return (
            f"{where} has no '{missing[0]}' column (its header is {','.join(names) or 'empty'}); "
            "Autopilot needs exactly the columns input,output"
        )
    extra = [n for n in names if n not in COLUMNS]
    if extra:
        return f"{where} has columns other than input,output ({', '.join(extra)})"
    return None
