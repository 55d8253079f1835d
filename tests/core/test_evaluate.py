"""Evaluation: test records in every format, scores, the report files, a failed answer kept."""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path

import pytest

from core.aws import AwsContext
from core.errors import DatasetError, FileAccessError, ValidationError
from core.evaluation.evaluate import Report, Result, Row, evaluate, load_test_records
from core.evaluation.judge import Verdict
from core.evaluation.records import TestRecord
from core.evaluation.report import report_json, save_report, spreadsheet_safe
from core.evaluation.scores import compare
from core.serving.chat import Settings


def test_records_in_every_format(tmp_path: Path) -> None:
    path = tmp_path / "test.jsonl"
    lines = [
        {"prompt": "Q1", "completion": "A1"},
        {
            "system": "S",
            "messages": [{"role": "user", "content": "Q2"}, {"role": "assistant", "content": "A2"}],
        },
        {
            "schemaVersion": "bedrock-conversation-2024",
            "system": [{"text": "S3"}],
            "messages": [
                {"role": "user", "content": [{"text": "Q3"}]},
                {"role": "assistant", "content": [{"text": "A3"}]},
            ],
        },
    ]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    records = load_test_records(path)
    assert [(r.system, r.user, r.reference) for r in records] == [
        ("", "Q1", "A1"),
        ("S", "Q2", "A2"),
        ("S3", "Q3", "A3"),
    ]
    assert len(load_test_records(path, limit=2)) == 2
    with pytest.raises(DatasetError):
        load_test_records(tmp_path / "missing.jsonl")


def test_base_and_tuned_scored_and_saved(tmp_path: Path, sandbox_context: AwsContext) -> None:
    path = tmp_path / "test.jsonl"
    path.write_text(json.dumps({"prompt": "hello", "completion": "sandbox base model"}) + "\n")
    report = evaluate(
        sandbox_context,
        load_test_records(path),
        "us.amazon.nova-micro-v1:0",
        "amazon.nova-micro-v1:0:128k",
    )  # a customization id: fails, kept
    row = report.rows[0]
    assert row.tuned.scores is not None and row.tuned.scores.rouge1 > 0
    assert row.base is not None and row.base.error and "Model not found" in row.base.error
    assert report.summary("tuned")["answered"] == 1.0
    assert report.summary("base") == {}
    json_path, csv_path, html_path = save_report(report, tmp_path / "out")
    saved = json.loads(json_path.read_text())
    assert saved["tuned"]["rouge1"]["mean"] > 0
    assert saved["tuned"]["rouge1"]["ci_low"] == saved["tuned"]["rouge1"]["ci_high"]  # one record
    assert "<svg" in html_path.read_text()
    rows = list(csv.reader(csv_path.open()))
    assert rows[0][0] == "line" and len(rows) == 2
    assert report_json(report)["rows"][0]["base"]["scores"] is None


# --------------------------------------------------------------------------- hostile input

FORMULAS = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


def _report(answers: list[str]) -> Report:
    rows = tuple(
        Row(
            TestRecord(number, "", f"q{number}", reference),
            Result(
                answer,
                compare(answer, reference),
                judge=Verdict("scored", {"fit": 3}, f"@{number} half right", 1),
            ),
            Result(answer, None, f"-{number}: refused") if number % 2 else None,
        )
        for number, (reference, answer) in enumerate(
            zip(answers, reversed(answers), strict=True), 1
        )
    )
    return Report("tuned", "base", rows)


def test_csv_cells_that_a_spreadsheet_would_run_are_escaped(tmp_path: Path) -> None:
    """OWASP's recipe for CSV injection: a leading single quote makes the cell text. The JSON
    report keeps the raw text (issue 11, item 11)."""
    report = _report([*FORMULAS, "plain = text", "a-b"])
    saved = save_report(report, tmp_path)
    rows = list(csv.DictReader(saved.csv.open(newline="")))
    texts = ("reference", "tuned_answer", "base_answer", "base_error", "tuned_judge_reason")
    cells = [row[c] for row in rows for c in texts]
    for cell in cells:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert '\'=HYPERLINK("http://x")' in cells and "'\tTAB" in cells and "'\rCR" in cells
    assert "plain = text" in cells and "a-b" in cells  # only the first character counts
    assert "'-1: refused" in cells and "'@1 half right" in cells  # errors and reasons too
    data = json.loads(saved.json.read_text())
    assert [r["reference"] for r in data["rows"]] == [*FORMULAS, "plain = text", "a-b"]
    assert data["rows"][0]["tuned"]["answer"] == "a-b"
    assert spreadsheet_safe("") == ""


def test_evaluate_refuses_bad_settings_and_concurrency_before_any_call() -> None:
    record = TestRecord(1, "", "q", "a")
    for settings in (
        Settings(512, math.nan, 0.9),
        Settings(512, 0.5, 2.0),
        Settings(0, 0.5, 0.5),
        Settings(512, math.inf, 0.5),
    ):
        with pytest.raises(ValidationError, match="Invalid inference settings"):
            evaluate(NoCalls(), [record], "m", settings=settings)  # type: ignore[arg-type]
    for concurrency in (0, -1):
        with pytest.raises(ValidationError, match="sends no request"):
            evaluate(NoCalls(), [record], "m", concurrency=concurrency)  # type: ignore[arg-type]


def test_an_empty_prompt_fails_its_record_without_a_call() -> None:
    report = evaluate(NoCalls(), [TestRecord(1, "", "  ", "a")], "m")  # type: ignore[arg-type]
    assert report.rows[0].tuned.error == "Message 1 of the conversation is empty."
    assert report.all_failed


def test_a_count_below_one_or_a_fifo_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "test.jsonl"
    path.write_text(json.dumps({"prompt": "q", "completion": "a"}) + "\n")
    for limit in (0, -1):
        with pytest.raises(ValidationError, match=f"Asked to evaluate {limit} records"):
            load_test_records(path, limit=limit)
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(DatasetError, match=r"named pipe \(FIFO\)"):
        load_test_records(tmp_path / "fifo")  # refused from its stat: it would block
    with pytest.raises(DatasetError, match="is a folder"):
        load_test_records(tmp_path)


def test_the_report_is_not_written_into_a_file_or_under_proc(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "taken").write_text("x")
    for where in (folder / "taken", Path("/proc/bedrock-tune")):
        with pytest.raises(FileAccessError):
            save_report(_report(["a"]), where)
    assert sorted(p.name for p in folder.iterdir()) == ["taken"]


class NoCalls:
    """An AWS context that fails the test when a client is asked for."""

    region = "us-east-1"

    def client(self, service: str, region: str | None = None) -> object:
        raise AssertionError(f"AWS ({service}) was called")
