"""`bedrock-tune advise`: flags, JSON, defaults without a terminal, asking in one, a dataset."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pexpect
import pytest

from core.advise import QUESTIONS, Question
from tests.conftest import REPO
from tui.cli import advise as advise_cli
from tui.cli import missing
from tui.cli.main import main


def _json(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


@pytest.fixture
def no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(missing, "in_a_terminal", lambda: False)


@pytest.mark.usefixtures("no_terminal")
def test_in_the_sandbox_every_cost_comes_from_the_price_list_with_its_date(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["advise", "--sandbox", "--region", "us-east-1", "--style-or-format"]) == 0
    out = capsys.readouterr().out
    for name in ("training", "storage", "serving input", "serving output"):
        line = next(x for x in out.splitlines() if x.strip().startswith(f"{name}:"))
        assert "(Price List API, " in line and "$0.00 " not in line, line
    # A knowledge base has no price in any source: unknown with what to do, never $0.
    assert "embedding: unknown: bedrock-tune has no embedding price" in out
    assert "in us-east-1: Price List API, " in out  # the assumptions name the source too


@pytest.mark.usefixtures("no_terminal")
def test_json_has_the_recommendation_reasons_costs_and_what_was_defaulted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["advise", "--changing-knowledge", "--no-task-skill", "--json"]) == 0
    data = _json(capsys)
    assert data["recommendation"] == "rag"
    assert data["reasons"] and set(data["costs"]) == {"fine-tune", "rag"}
    assert data["costs"]["rag"]["embedding"]["amount"] is None
    assert data["costs"]["fine-tune"]["training"]["source"] == "built-in"
    assert "changing_knowledge" not in data["defaulted"]
    assert "task_skill" not in data["defaulted"]
    assert "style_or_format" in data["defaulted"]


@pytest.mark.usefixtures("no_terminal")
def test_text_says_which_questions_took_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["advise", "--style-or-format", "--labeled-examples", "1,000"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Recommendation: fine-tune")
    assert "defaults used: --changing-knowledge, --task-skill" in out
    assert "--labeled-examples" not in out.split("defaults used:")[1]


def test_in_a_terminal_unanswered_questions_are_asked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asked: list[str] = []

    def answer(question: Question) -> bool | int | None:
        asked.append(question.name)
        return {"task_skill": True, "labeled_examples": 400}.get(question.name, False)

    monkeypatch.setattr(missing, "in_a_terminal", lambda: True)
    monkeypatch.setattr(advise_cli, "ask_in_terminal", answer)
    assert main(["advise", "--requests-per-month", "50", "--json"]) == 0
    data = _json(capsys)
    assert asked == [q.name for q in QUESTIONS if q.name != "requests_per_month"]
    assert data["recommendation"] == "fine-tune" and data["defaulted"] == []


def test_giving_up_on_a_question_interrupts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(missing, "in_a_terminal", lambda: True)
    monkeypatch.setattr(advise_cli, "ask_in_terminal", lambda question: None)
    assert main(["advise"]) == 130
    assert capsys.readouterr().out == ""


@pytest.mark.usefixtures("no_terminal")
def test_a_dataset_is_looked_at(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "qa.jsonl"
    records = [
        {
            "context": f"Room {i} is on floor {i % 5}.",
            "question": f"Where is room {i}?",
            "answer": f"Room {i} is on floor {i % 5}.",
        }
        for i in range(30)
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert main(["advise", "--dataset", str(data), "--json"]) == 0
    found = _json(capsys)
    assert found["dataset"]["records"] == 30 and found["dataset"]["grounded_share"] == 1.0
    assert found["recommendation"] == "rag"


@pytest.mark.usefixtures("no_terminal")
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--dataset", "/no/such/file.jsonl"], "file.jsonl"),
        (["--split", "train"], "no --dataset was given"),
        (["--model", "no.such-model"], "not a customizable model"),
        (["--requests-per-month", "lots"], "'lots' is not a whole number"),
    ],
)
def test_bad_input_is_a_clear_usage_error(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = main(["advise", *argv])
    except SystemExit as exit_:
        code = int(str(exit_.code))
    assert code == 2
    captured = capsys.readouterr()
    assert message in captured.err and "Traceback" not in captured.err
    assert captured.out == ""


def test_a_real_terminal_is_asked_with_questionary(tmp_path: Path) -> None:
    child = pexpect.spawn(
        sys.executable,
        [
            "-m",
            "tui.cli.main",
            "advise",
            "--no-changing-knowledge",
            "--no-style-or-format",
            "--no-latency-sensitive",
            "--requests-per-month",
            "10",
        ],
        cwd=str(REPO),
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TERM": "xterm"},
        encoding="utf-8",
        dimensions=(24, 120),
        timeout=30,
    )
    try:
        child.expect_exact("task skill")
        child.send("y")  # a confirm takes the key alone
        child.expect_exact("How many labelled examples")
        child.send("\x15")  # clear the default (0), then type
        child.sendline("250")
        child.expect_exact("Recommendation: fine-tune")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
