"""Evaluation on held-out data: N test records through the tuned model (and the base model),
scored with ROUGE-1/2/L and exact match against each record's reference answer; a report as
JSON and CSV. Concurrency is bounded; throttling is retried by botocore's standard retries.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import mean
from typing import Any

import orjson

from core.atomic import AtomicFiles
from core.aws import AwsContext
from core.errors import BedrockTuneError, DatasetError
from core.evaluation.scores import Comparison, compare
from core.serving.chat import Settings, Turn, converse

DETERMINISTIC = Settings(max_tokens=512, temperature=0.0, top_p=1.0)
"""Evaluation settings: temperature 0, so that base and tuned are compared fairly."""


@dataclass(frozen=True)
class TestRecord:
    """A test record: what to send and the reference answer."""

    line: int
    system: str
    user: str
    reference: str


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return ""


def load_test_records(path: Path, limit: int | None = None) -> list[TestRecord]:
    """Read a prepared test file in any Bedrock format (messages, conversation, prompt and
    completion)."""
    records: list[TestRecord] = []
    try:
        stream = path.open("rb")
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file.", hint="Prepare a test split first.") from None
    with stream:
        for number, raw in enumerate(stream, 1):
            if not raw.strip():
                continue
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise DatasetError(
                    f"{path}, line {number}: not valid JSON.", hint="Validate the file first."
                ) from None
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


@dataclass(frozen=True)
class Result:
    """One model's answer to one record, scored."""

    answer: str
    scores: Comparison | None
    error: str | None = None


@dataclass(frozen=True)
class Row:
    """One test record through the tuned (and base) model."""

    record: TestRecord
    tuned: Result
    base: Result | None


@dataclass(frozen=True)
class Report:
    """The whole evaluation."""

    tuned_model: str
    base_model: str | None
    rows: tuple[Row, ...]

    def summary(self, which: str) -> dict[str, float]:
        """Mean ROUGE-1/2/L and exact-match rate of `tuned` or `base`."""
        results = [getattr(r, which) for r in self.rows if getattr(r, which) is not None]
        scored = [r.scores for r in results if r.scores is not None]
        if not scored:
            return {}
        return {
            "rouge1": mean(s.rouge1 for s in scored),
            "rouge2": mean(s.rouge2 for s in scored),
            "rougeL": mean(s.rouge_l for s in scored),
            "exact_match": mean(1.0 if s.exact else 0.0 for s in scored),
            "answered": float(len(scored)),
        }


def _ask(context: AwsContext, model: str, record: TestRecord, settings: Settings) -> Result:
    try:
        answer = converse(context, model, record.system, [Turn("user", record.user)], settings)
    except BedrockTuneError as error:
        return Result("", None, error.message)
    return Result(answer.text, compare(answer.text, record.reference))


def evaluate(
    context: AwsContext,
    records: list[TestRecord],
    tuned_model: str,
    base_model: str | None = None,
    *,
    settings: Settings = DETERMINISTIC,
    concurrency: int = 4,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> Report:
    """Run every record through the models (bounded concurrency) and score the answers."""
    rows: list[Row] = []

    def one(record: TestRecord) -> Row | None:
        if cancelled():
            return None
        tuned = _ask(context, tuned_model, record, settings)
        base = _ask(context, base_model, record, settings) if base_model else None
        return Row(record, tuned, base)

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        for done, row in enumerate(pool.map(one, records), 1):
            if row is not None:
                rows.append(row)
            if progress:
                progress(done, len(records))
    return Report(tuned_model, base_model, tuple(rows))


def report_json(report: Report) -> dict[str, Any]:
    """The report as plain data."""
    return {
        "tuned_model": report.tuned_model,
        "base_model": report.base_model,
        "tuned": report.summary("tuned"),
        "base": report.summary("base") if report.base_model else None,
        "rows": [
            {
                "line": r.record.line,
                "reference": r.record.reference,
                "tuned": {
                    "answer": r.tuned.answer,
                    "error": r.tuned.error,
                    "scores": asdict(r.tuned.scores) if r.tuned.scores else None,
                },
                "base": None
                if r.base is None
                else {
                    "answer": r.base.answer,
                    "error": r.base.error,
                    "scores": asdict(r.base.scores) if r.base.scores else None,
                },
            }
            for r in report.rows
        ],
    }


def save_report(report: Report, out_dir: Path) -> tuple[Path, Path]:
    """Write `evaluation.json` and `evaluation.csv` (atomically)."""
    data = report_json(report)
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(
        [
            "line",
            "tuned_rouge1",
            "tuned_rouge2",
            "tuned_rougeL",
            "tuned_exact",
            "base_rouge1",
            "base_rouge2",
            "base_rougeL",
            "base_exact",
            "reference",
            "tuned_answer",
            "base_answer",
        ]
    )
    for row in report.rows:
        tuned, base = row.tuned.scores, row.base.scores if row.base else None
        writer.writerow(
            [
                row.record.line,
                *(
                    ("", "", "", "")
                    if tuned is None
                    else (
                        f"{tuned.rouge1:.4f}",
                        f"{tuned.rouge2:.4f}",
                        f"{tuned.rouge_l:.4f}",
                        tuned.exact,
                    )
                ),
                *(
                    ("", "", "", "")
                    if base is None
                    else (
                        f"{base.rouge1:.4f}",
                        f"{base.rouge2:.4f}",
                        f"{base.rouge_l:.4f}",
                        base.exact,
                    )
                ),
                row.record.reference,
                row.tuned.answer,
                row.base.answer if row.base else "",
            ]
        )
    with AtomicFiles(out_dir) as files:
        files.open("evaluation.json").write(json.dumps(data, indent=2, ensure_ascii=False).encode())
        files.open("evaluation.csv").write(table.getvalue().encode())
    return out_dir / "evaluation.json", out_dir / "evaluation.csv"
