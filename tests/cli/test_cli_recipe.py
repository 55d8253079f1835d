"""`bedrock-tune recipe save` and `recipe check`: a registry run written as a recipe, and a
recipe with a typo reported with its line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.recipe import load_recipe
from core.registry import Registry
from core.run import Run
from tui.cli.main import main

ACCOUNT = "123456789012"


def _save_run() -> None:
    Registry().save_run(
        "r1",
        Run(
            run_id="r1",
            target="aws",
            region="us-east-1",
            account_id=ACCOUNT,
            base_model_id="amazon.nova-micro-v1:0:128k",
            source_location="data.jsonl",
            seed=3,
            bucket=f"bedrock-tune-{ACCOUNT}-us-east-1",
            role_arn=f"arn:aws:iam::{ACCOUNT}:role/BedrockTuneRole",
            hyperparameters={"epochCount": "1"},
        ),
    )


def test_save_then_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _save_run()
    path = tmp_path / "r1.toml"
    assert main(["recipe", "save", "r1", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"run_id": "r1", "file": str(path)}
    assert ACCOUNT not in path.read_text()
    assert (
        load_recipe(path).run_for(ACCOUNT).role_arn
        == f"arn:aws:iam::{ACCOUNT}:role/BedrockTuneRole"
    )
    assert main(["recipe", "check", str(path)]) == 0
    assert "is a good recipe" in capsys.readouterr().out

    # Not replaced by accident.
    assert main(["recipe", "save", "r1", str(path)]) == 2
    assert "pass --force" in capsys.readouterr().err
    assert main(["recipe", "save", "r1", str(path), "--force"]) == 0


def test_a_typo_is_reported_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _save_run()
    path = tmp_path / "r1.toml"
    assert main(["recipe", "save", "r1", str(path)]) == 0
    text = path.read_text().replace("seed = 3", "sed = 3")
    path.write_text(text)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row.startswith("sed"))
    capsys.readouterr()
    assert main(["recipe", "check", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}, line {line}: unknown key `sed` in [prepare]" in err
    assert "Did you mean `seed`?" in err and "Traceback" not in err


def test_unknown_run_and_missing_folder_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["recipe", "save", "nope", str(tmp_path / "x.toml")]) == 2
    assert "no run 'nope'" in capsys.readouterr().err
    _save_run()
    with pytest.raises(SystemExit) as caught:
        main(["recipe", "save", "r1", str(tmp_path / "no" / "x.toml")])
    assert caught.value.code == 2
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit) as missing:
        main(["recipe", "check", str(tmp_path / "none.toml")])
    assert missing.value.code == 2
