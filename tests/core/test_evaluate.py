"""Evaluation: test records in every format, scores, the report files, a failed answer kept."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from core.aws import AwsContext
from core.errors import DatasetError
from core.evaluation.evaluate import evaluate, load_test_records
from core.evaluation.report import report_json, save_report


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
