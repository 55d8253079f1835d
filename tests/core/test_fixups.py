"""Fix-ups: each writes a new file (never the source), says how many records it changed, and
leaves a file that passes the rules it fixed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from core.catalog.lookup import find_model
from core.validate.fixups import (
    Fix,
    apply_fix,
    fix_prepared,
    fixed_path,
    offered_fixes,
    truncate_record,
)
from core.validate.rules import rules_for
from core.validate.validator import ValidationCancelled, validate

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0:200k"
LLAMA_31 = "meta.llama3-1-8b-instruct-v1:0:128k"
COHERE_LIGHT = "cohere.command-light-text-v14:7:4k"


def claude(i: int, user: str | None = None) -> dict[str, Any]:
    return {
        "system": "s",
        "messages": [
            {"role": "user", "content": user or f"question {i}"},
            {"role": "assistant", "content": f"answer {i}"},
        ],
    }


def messy(path: Path) -> Path:
    """40 good records, then a BOM, a broken line, a blank line, an over-length record, a
    reserved string and two duplicates, at known lines."""
    lines = [orjson.dumps(claude(i)) for i in range(40)]
    lines[0] = b"\xef\xbb\xbf" + lines[0]
    lines[4] = b"{broken"
    lines[6] = b""
    lines[9] = orjson.dumps(claude(9, user="w" * 100_000))
    lines[11] = orjson.dumps(claude(11, user="hi\nHuman: there"))
    lines[20] = orjson.dumps(claude(2))
    lines[21] = orjson.dumps(claude(2))
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def rules_left(path: Path) -> set[str]:
    return {g.rule for g in validate(path, find_model(HAIKU)).groups}


def test_drop_invalid(tmp_path: Path) -> None:
    source = messy(tmp_path / "train.jsonl")
    before = source.read_bytes()
    result = apply_fix(source, Fix.DROP_INVALID, rules_for(find_model(HAIKU)))
    assert source.read_bytes() == before
    assert result.path == tmp_path / "train.fixed.jsonl" and result.path.is_file()
    assert (result.records, result.dropped, result.kept) == (40, 4, 36)
    assert result.removed_bom and result.changed == 4
    assert "dropped 4 of 40 lines" in result.summary
    assert rules_left(result.path) == {"duplicate"}


def test_drop_over_length(tmp_path: Path) -> None:
    source = messy(tmp_path / "train.jsonl")
    result = apply_fix(source, Fix.DROP_OVER_LENGTH, rules_for(find_model(HAIKU)))
    assert result.dropped == 1 and result.truncated == 0
    assert "tokens" not in rules_left(result.path)
    assert "json" in rules_left(result.path)


def test_truncate_over_length(tmp_path: Path) -> None:
    source = messy(tmp_path / "train.jsonl")
    result = apply_fix(source, Fix.TRUNCATE_OVER_LENGTH, rules_for(find_model(HAIKU)))
    assert result.truncated == 1 and result.dropped == 0 and result.kept == 40
    report = validate(result.path, find_model(HAIKU))
    assert not {"tokens", "tokens-near-limit"} & {g.rule for g in report.groups}
    line = result.path.read_bytes().split(b"\n")[9]
    record = json.loads(line)
    assert record["messages"][0]["content"].startswith("www")
    assert record["messages"][1]["content"] == "answer 9"
    assert report.train.stats.maximum <= 32_000 * 0.9


def test_truncate_respects_separate_input_and_output_limits() -> None:
    rules = rules_for(find_model(COHERE_LIGHT))
    record = {"prompt": "p" * 30_000, "completion": "c" * 15_000}
    shorter = truncate_record(record, rules)
    assert shorter is not None
    assert len(shorter["prompt"]) <= 4096 * 0.9 * 6 and len(shorter["completion"]) <= 2048 * 0.9 * 6
    assert record["prompt"] == "p" * 30_000  # the original is not changed


def test_truncate_gives_up_when_the_fixed_part_is_too_long() -> None:
    rules = rules_for(find_model(HAIKU))
    record = {"system": "s" * 100_000, "messages": claude(0)["messages"]}
    assert truncate_record(record, rules) is None


def test_remove_duplicates(tmp_path: Path) -> None:
    source = messy(tmp_path / "train.jsonl")
    result = apply_fix(source, Fix.REMOVE_DUPLICATES, rules_for(find_model(HAIKU)))
    assert result.dropped == 2
    assert "duplicate" not in rules_left(result.path)


def test_remove_validation_records_found_in_training(tmp_path: Path) -> None:
    train = tmp_path / "train.jsonl"
    train.write_bytes(b"".join(orjson.dumps(claude(i)) + b"\n" for i in range(40)))
    validation = tmp_path / "validation.jsonl"
    validation.write_bytes(orjson.dumps(claude(100)) + b"\n" + orjson.dumps(claude(5)) + b"\n")
    result = apply_fix(
        validation, Fix.REMOVE_DUPLICATES, rules_for(find_model(HAIKU)), reference=train
    )
    assert result.dropped == 1 and result.kept == 1


def test_fixed_names_never_overwrite(tmp_path: Path) -> None:
    source = tmp_path / "train.jsonl"
    source.write_text("x\n")
    assert fixed_path(source).name == "train.fixed.jsonl"
    (tmp_path / "train.fixed.jsonl").write_text("")
    assert fixed_path(source).name == "train.fixed-2.jsonl"
    with pytest.raises(ValueError, match="never writes over"):
        apply_fix(source, Fix.DROP_INVALID, rules_for(find_model(HAIKU)), out=source)


def test_cancel_writes_nothing(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    source = messy(work / "train.jsonl")
    rules = rules_for(find_model(HAIKU))
    for fix in Fix:
        with pytest.raises(ValidationCancelled):
            apply_fix(source, fix, rules, cancelled=lambda: True)
    with pytest.raises(ValidationCancelled):
        fix_prepared(work, Fix.DROP_INVALID, rules, cancelled=lambda: True)
    assert sorted(p.name for p in work.iterdir()) == ["train.jsonl"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "home") == ["work"]


def test_fix_a_prepared_folder(tmp_path: Path) -> None:
    tmp_path = tmp_path / "work"
    tmp_path.mkdir()
    prepared = tmp_path / "run"
    prepared.mkdir()
    messy(prepared / "train.jsonl")
    (prepared / "validation.jsonl").write_bytes(
        orjson.dumps(claude(200)) + b"\n" + orjson.dumps(claude(3)) + b"\n"
    )
    (prepared / "test.jsonl").write_text('{"prompt": "t"}\n')
    (prepared / "manifest.json").write_text(json.dumps({"counts": {"train": 40}, "seed": 1}))
    rules = rules_for(find_model(HAIKU))
    fixed = fix_prepared(prepared, Fix.REMOVE_DUPLICATES, rules)
    assert fixed.directory == tmp_path / "run-fixed"
    assert sorted(p.name for p in fixed.directory.iterdir()) == [
        "manifest.json",
        "test.jsonl",
        "train.jsonl",
        "validation.jsonl",
    ]
    assert fixed.changed == 3  # two in train, one validation record repeating training
    assert (fixed.directory / "test.jsonl").read_text() == '{"prompt": "t"}\n'
    manifest = json.loads((fixed.directory / "manifest.json").read_text())
    assert manifest["seed"] == 1 and manifest["fixed_from"] == str(prepared)
    assert manifest["counts"] == {"train": 38, "validation": 1}
    assert manifest["fixups"][0]["fix"] == "remove-duplicates"
    # Again on the fixed folder: a new sibling, the fix-ups accumulate.
    again = fix_prepared(fixed.directory, Fix.DROP_INVALID, rules)
    assert again.directory == tmp_path / "run-fixed-2"
    assert len(json.loads((again.directory / "manifest.json").read_text())["fixups"]) == 2
    report = validate(again.directory / "train.jsonl", find_model(HAIKU))
    assert report.ok and report.count("warning") == 0
    # The sources are untouched and no temporary folder is left behind.
    assert (prepared / "train.jsonl").read_bytes().startswith(b"\xef\xbb\xbf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "run-fixed", "run-fixed-2"]


def test_llama_over_length_prompt_is_truncated(tmp_path: Path) -> None:
    source = tmp_path / "train.jsonl"
    records = [{"prompt": f"q{i}", "completion": f"a{i}"} for i in range(120)]
    records[7] = {"prompt": "w " * 60_000, "completion": "short"}
    source.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    result = apply_fix(source, Fix.TRUNCATE_OVER_LENGTH, rules_for(find_model(LLAMA_31)))
    assert result.truncated == 1
    assert validate(result.path, find_model(LLAMA_31)).ok


def test_the_fix_ups_offered_are_those_that_would_change_something(tmp_path: Path) -> None:
    haiku = find_model(HAIKU)
    assert offered_fixes(validate(messy(tmp_path / "train.jsonl"), haiku)) == list(Fix)
    clean = tmp_path / "clean.jsonl"
    clean.write_bytes(b"\n".join(orjson.dumps(claude(i)) for i in range(40)) + b"\n")
    assert offered_fixes(validate(clean, haiku)) == []
    repeated = tmp_path / "repeated.jsonl"
    repeated.write_bytes(b"\n".join(orjson.dumps(claude(i % 30)) for i in range(40)) + b"\n")
    assert offered_fixes(validate(repeated, haiku)) == [Fix.REMOVE_DUPLICATES]
