"""`bedrock-tune validate`: exit codes 0 / 1 / 2, the JSON shape, the human report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from core.state_dir import state_dir
from tui.cli.main import main

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0:200k"
NOVA_MICRO = "amazon.nova-micro-v1:0:128k"
PROBLEM_KEYS = {"line", "path", "rule", "message", "hint"}


def claude(i: int, user: str | None = None) -> dict[str, Any]:
    return {
        "system": "s",
        "messages": [
            {"role": "user", "content": user or f"question {i}"},
            {"role": "assistant", "content": f"answer {i}"},
        ],
    }


def write(path: Path, records: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" if r != "" else "\n" for r in records))
    return path


def run_json(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = main(["validate", *args, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_valid_file_exits_0_with_the_json_shape(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train = write(tmp_path / "train.jsonl", [claude(i) for i in range(40)])
    val = write(tmp_path / "val.jsonl", [claude(i) for i in range(100, 110)])
    code, data = run_json(
        [str(train), "--validation-file", str(val), "--model", HAIKU, "--epochs", "3"], capsys
    )
    assert code == 0
    assert set(data) == {"ok", "records", "errors", "warnings", "stats", "estimate"}
    assert data["ok"] is True and data["records"] == 40
    assert data["errors"] == [] and data["warnings"] == []
    stats = data["stats"]
    assert stats["train"]["records"] == 40 and stats["validation"]["records"] == 10
    tokens = stats["train"]["tokens"]
    assert tokens["min"] <= tokens["median"] <= tokens["p95"] <= tokens["max"]
    assert stats["train"]["limit"] == 32_000 and len(stats["train"]["histogram"]) == 10
    assert stats["estimate_method"] and stats["chars_per_token"] == 3.0
    estimate = data["estimate"]
    assert estimate["training_tokens"] == tokens["total"] and estimate["epochs"] == 3
    assert estimate["training_cost"] is None  # no Haiku training price in the catalog
    assert estimate["storage_per_month"] == 1.95 and estimate["prices_as_of"]


def test_invalid_file_exits_1_with_every_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records: list[Any] = [claude(i) for i in range(40)]
    records[2] = ""
    records[5] = claude(5, user="x\nHuman: y")
    records[8] = claude(1)
    train = write(tmp_path / "train.jsonl", records)
    code, data = run_json([str(train), "--model", HAIKU], capsys)
    assert code == 1 and data["ok"] is False and data["records"] == 39
    assert all(set(p) == PROBLEM_KEYS for p in data["errors"] + data["warnings"])
    errors = {(p["rule"], p["line"], p["path"]) for p in data["errors"]}
    assert errors == {("blank-line", 3, ""), ("reserved", 6, "messages[0].content")}
    assert [(p["rule"], p["line"]) for p in data["warnings"]] == [("duplicate", 9)]
    assert "line 2" in data["warnings"][0]["message"]


def test_file_level_problems_have_a_null_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train = write(tmp_path / "train.jsonl", [claude(i) for i in range(5)])
    code, data = run_json([str(train), "--model", HAIKU], capsys)
    assert code == 1
    [problem] = data["errors"]
    assert problem["rule"] == "record-count" and problem["line"] is None


def test_validation_file_problems_say_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train = write(tmp_path / "train.jsonl", [claude(i) for i in range(40)])
    val = write(tmp_path / "val.jsonl", [claude(100), {"prompt": "p", "completion": "c"}])
    code, data = run_json([str(train), "--validation-file", str(val), "--model", HAIKU], capsys)
    assert code == 1
    [problem] = data["errors"]
    assert problem["rule"] == "wrong-format" and problem["line"] == 2
    assert problem["message"].startswith("validation file val.jsonl: ")


def test_wrong_family_names_the_right_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train = write(
        tmp_path / "train.jsonl", [{"prompt": f"p{i}", "completion": "c"} for i in range(40)]
    )
    assert main(["validate", str(train), "--model", HAIKU]) == 1
    out = capsys.readouterr().out
    assert "train.jsonl looks like prompt / completion" in out
    assert "needs Claude messages" in out and '"messages"' in out


def test_human_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records: list[Any] = [claude(i) for i in range(40)]
    records[3] = "{oops"
    train = tmp_path / "train.jsonl"
    write(train, records)
    text = train.read_text().replace('"{oops"', "{oops")
    train.write_text(text)
    assert main(["validate", str(train), "--model", NOVA_MICRO, "--price-per-1k", "0.5"]) == 1
    out = capsys.readouterr().out
    assert "json (1)" in out and "line 4" in out and "hint:" in out
    assert "wrong-format (39)" in out
    assert "tokens-unchecked" in out
    assert "x $0.50 per 1K" in out and "(your figure)" in out and "on-demand deployment" in out
    assert "$1.95 per month while the model exists (built-in, 2025-07-20)" in out
    assert "✘ Not valid for Nova Micro" in out


def test_the_estimate_uses_the_price_list_when_it_answers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train = tmp_path / "train.jsonl"
    write(train, [claude(i) for i in range(40)])
    # Claude 3 Haiku is customized in us-west-2: its prices come from there.
    assert main(["--sandbox", "validate", str(train), "--model", HAIKU, "--json"]) == 0
    captured = capsys.readouterr()
    estimate = json.loads(captured.out)["estimate"]
    assert (estimate["price_source"], estimate["prices_region"]) == ("price-list-api", "us-west-2")
    assert estimate["training_cost"] is not None and estimate["price_per_1k"] > 0
    assert "Note:" not in captured.err
    # Without credentials (and the cache gone) the built-in figures answer, with one note.
    shutil.rmtree(state_dir() / "prices")
    assert main(["validate", str(train), "--model", HAIKU, "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["estimate"]["price_source"] == "built-in"
    assert captured.err.count("Note: Prices are the built-in figures") == 1


def test_cannot_run_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as missing:  # refused by the argument's type
        main(["validate", str(tmp_path / "missing.jsonl"), "--model", HAIKU])
    assert missing.value.code == 2
    assert "does not exist" in capsys.readouterr().err
    train = write(tmp_path / "train.jsonl", [claude(i) for i in range(40)])
    assert main(["validate", str(train), "--model", "gpt-9"]) == 2
    assert "not a customizable model" in capsys.readouterr().err
    assert main(["validate", str(train), "--model", HAIKU, "--type", "distillation"]) == 2
    assert "does not support distillation" in capsys.readouterr().err
    assert main(["validate", str(train), "--model", HAIKU, "--epochs", "11"]) == 2
    assert "epochCount must be between 1 and 10" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", str(train)])  # --model is required
    assert exit_info.value.code == 2
