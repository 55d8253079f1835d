"""Test records: what to send a model and the reference answer, read from a prepared test file
in any Bedrock format, each with a key that stays the same for the same record in any file (so
that evaluations of different runs line up on the same records)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from core.errors import DatasetError, ValidationError
from core.files import check_readable_file


@dataclass(frozen=True)
class TestRecord:
    """A test record: what to send and the reference answer."""

    __test__ = False  # not a pytest test class, whatever imports it

    line: int
    system: str
    user: str
    reference: str

    @property
    def key(self) -> str:
        """A short hash of system, prompt and reference: the same record has the same key in
        every test file and every evaluation."""
        digest = hashlib.sha256(
            "\x1f".join((self.system, self.user, self.reference)).encode("utf-8")
        )
        return digest.hexdigest()[:16]

    @property
    def schema(self) -> list[str]:
        """The SQL schema statements in the record (text-to-SQL records carry one)."""
        from core.evaluation.sql import extract_schema

        return extract_schema([self.system, self.user])


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return ""


def load_test_records(path: Path, limit: int | None = None) -> list[TestRecord]:
    """Read a prepared test file in any Bedrock format (messages, conversation, prompt and
    completion).

    Raises:
        ValidationError: `limit` below 1.
        DatasetError: no such file, not a regular readable file (a FIFO is refused from its
            stat, never opened), bad JSON, or no record with a reference answer.
    """
    records: list[TestRecord] = []
    if limit is not None and limit < 1:
        raise ValidationError(
            f"Asked to evaluate {limit} records.", hint="Evaluate 1 record or more."
        )
    check_readable_file(
        path, "test file", hint="Give the test.jsonl that preparation wrote (prepare a test split)."
    )
    with path.open("rb") as stream:
        for number, raw in enumerate(stream, 1):
            if not raw.strip():
                continue
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise DatasetError(
                    f"{path}, line {number}: not valid JSON.", hint="Validate the file first."
                ) from None
            if not isinstance(record, dict):
                raise DatasetError(
                    f"{path}, line {number}: not a JSON object.", hint="Validate the file first."
                )
            if "prompt" in record:
                records.append(
                    TestRecord(number, "", str(record["prompt"]), str(record.get("completion", "")))
                )
            else:
                system = record.get("system", "")
                system_text = system if isinstance(system, str) else _text(system)
                messages = record.get("messages") or []
                users = [_text(m.get("content")) for m in messages if m.get("role") == "user"]
                answers = [
                    _text(m.get("content")) for m in messages if m.get("role") == "assistant"
                ]
                if not users or not answers:
                    continue
                records.append(TestRecord(number, system_text, users[-1], answers[-1]))
            if limit is not None and len(records) >= limit:
                break
    if not records:
        raise DatasetError(
            f"{path} holds no record with a reference answer.",
            hint="Use the test.jsonl that preparation wrote.",
        )
    return records
