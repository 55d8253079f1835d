"""`bedrock-tune preview` and `prepare`: output, exit codes, errors on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import DIALOGSUM, needs_shared
from tui.cli.main import main


def test_preview_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps({"q": f"{i}", "a": "x"}) + "\n" for i in range(30)))
    assert main(["preview", str(path), "-n", "3", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["num_rows"] == 30 and len(data["records"]) == 3
    assert data["columns"] == [{"name": "q", "type": "string"}, {"name": "a", "type": "string"}]


def test_preview_error_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", str(tmp_path / "missing.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "no such file" in err and "Hint:" in err


@needs_shared()
def test_prepare_with_a_preset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "prepare",
        str(DIALOGSUM / "dev.jsonl"),
        "--template",
        "preset:dialogue-summary",
        "--model",
        "anthropic.claude-3-haiku-20240307-v1:0:200k",
        "--out",
        str(tmp_path / "o"),
        "--train",
        "64",
        "--validation",
        "16",
        "--test",
        "8",
        "--max-chars",
        "20000",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "train.jsonl        64 records" in out
    assert len((tmp_path / "o" / "validation.jsonl").read_text().splitlines()) == 16
    # Again without --force: refused, files untouched.
    before = (tmp_path / "o" / "train.jsonl").read_bytes()
    assert main([*args, "--seed", "9"]) == 2
    assert "already holds prepared files" in capsys.readouterr().err
    assert (tmp_path / "o" / "train.jsonl").read_bytes() == before
    assert main([*args, "--seed", "9", "--force", "--json"]) == 0
    manifest = json.loads(capsys.readouterr().out)
    assert manifest["options"]["seed"] == 9


def test_prepare_unknown_model_and_preset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["prepare", str(tmp_path), "--out", str(tmp_path / "o")]
    assert main([*base, "--template", "preset:news-summary", "--model", "gpt-9"]) == 2
    assert "not a customizable model" in capsys.readouterr().err
    assert (
        main([*base, "--template", "preset:poems", "--model", "amazon.nova-micro-v1:0:128k"]) == 2
    )
    assert "no preset 'poems'" in capsys.readouterr().err


def test_prepare_500_rows_with_default_sizes_shrinks_with_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "d.jsonl"
    source.write_text("".join(json.dumps({"q": f"q{i}", "a": f"a{i}"}) + "\n" for i in range(500)))
    template = tmp_path / "t.toml"
    template.write_text('user = "{q}"\nassistant = "{a}"\n')
    out = tmp_path / "o"
    haiku = "anthropic.claude-3-haiku-20240307-v1:0:200k"
    args = ["prepare", str(source), "--template", str(template), "--model", haiku]
    assert main([*args, "--out", str(out)]) == 0  # the defaults: 1000 / 100 / 100
    printed = capsys.readouterr().out
    assert "validation.jsonl   41 records" in printed and "test.jsonl         41 records" in printed
    assert "Note: Only 500 records passed the filters (1,200 asked)" in printed
    for name in ("train", "validation", "test"):
        assert (out / f"{name}.jsonl").stat().st_size > 0
    # Under Haiku's minimum of 32 records: an error, nothing written.
    source.write_text("".join(json.dumps({"q": f"q{i}", "a": "a"}) + "\n" for i in range(20)))
    assert main([*args, "--out", str(tmp_path / "small")]) == 2
    assert "at least 32 training + validation" in capsys.readouterr().err
    assert not (tmp_path / "small").exists()
