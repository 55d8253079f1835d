"""`bedrock-tune replay FILE` of a recipe with an [evaluation] section, against the sandbox: the
evaluate step after deploy, asked for (it bills), stored with the run as the summary says, not
done twice, done again when [evaluation] changes; and bad [evaluation] values with their line."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from core.evaluation.store import EvaluationStore
from core.registry import Registry
from core.run import EvaluationChoices
from core.sandbox.server import Sandbox
from tests.cli.test_cli_replay import _jobs, _recipe
from tests.fakes import Clock
from tui.cli.main import main

CHOICES = EvaluationChoices(
    records=3,
    compare_base=True,
    judge_model="us.amazon.nova-pro-v1:0",
    rubric="preset:summarization",
    seed=11,
)


@pytest.fixture
def fast_polls(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Polls wait on the sandbox's clock: the job and the deployment finish without waiting."""
    monkeypatch.setattr("tui.cli.replay.sleep", clock.sleep)
    return clock


def _summary(capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, Any], str]:
    out, err = capsys.readouterr()
    return json.loads(out), err


def test_a_recipe_with_evaluation_evaluates_the_served_model_and_stores_it(
    tmp_path: Path,
    exported_sandbox: Sandbox,
    fast_polls: Clock,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recipe = _recipe(tmp_path, evaluation=CHOICES)
    assert "[evaluation]" in recipe.read_text()
    # Without a terminal the evaluation (billed) needs --yes, like the other billed steps.
    assert main(["replay", str(recipe), "--yes", "--until", "deploy", "--json"]) == 0
    first, _ = _summary(capsys)
    assert first["steps_remaining"] == ["evaluate"] and first["evaluation"] is None
    assert main(["replay", str(recipe), "--until", "evaluate", "--json"]) == 2
    stopped, err = _summary(capsys)
    assert stopped["stopped_before"] == "evaluate" and "pass --yes" in err.lower()
    assert "[evaluate] ✔" not in err
    # In a terminal it is asked, with the estimate; a no stops before it (exit 1).
    monkeypatch.setattr("tui.cli.replay._can_ask", lambda: True)
    monkeypatch.setattr("sys.stdin.readline", lambda: "n\n")
    assert main(["replay", str(recipe), "--json"]) == 1
    declined, err = _summary(capsys)
    assert declined["stopped_before"] == "evaluate"
    assert "Evaluate the tuned model on up to 3 test records, graded by us.amazon.nova-pro" in err
    assert "Estimate on demand: about" in err and "judge" in err
    monkeypatch.setattr("tui.cli.replay._can_ask", lambda: False)
    assert EvaluationStore(Registry()).for_run(first["run_id"]) == []

    assert main(["replay", str(recipe), "--yes", "--until", "evaluate", "--json"]) == 0
    summary, err = _summary(capsys)
    assert summary["run_id"] == first["run_id"] and summary["steps_done"][-1] == "evaluate"
    assert "[evaluate] ✔ Evaluate" in err
    assert err.index("[evaluate]   3 test records. Estimate on demand") < err.index("✔ Evaluate")
    evaluation = summary["evaluation"]
    [stored] = EvaluationStore(Registry()).for_run(summary["run_id"])
    assert evaluation["id"] == stored.id and evaluation["stored"] == str(stored.path)
    assert evaluation["records"] == 3 and evaluation["base_model"] is not None
    assert set(evaluation["tuned"]) >= {"rougeL", "rouge1"} and evaluation["base"]
    report = Path(evaluation["report"])
    assert report.name == "evaluation.html" and report.is_file()
    data = EvaluationStore.load(stored)
    assert data["tuned_model"] == summary["resources"]["serving_arn"]
    assert data["judge"]["rubric"]["name"] == "summarization" and data["seed"] == 11
    assert data["choices"] == asdict(CHOICES)
    record = Registry().get_run(summary["run_id"])
    assert record is not None and record.run.evaluation == CHOICES

    # Again: the evaluation is stored, nothing is evaluated (or billed) twice.
    assert main(["replay", str(recipe), "--json"]) == 0
    again, _ = _summary(capsys)
    assert "evaluate" in again["steps_already_done"] and again["evaluation"]["id"] == stored.id
    assert len(EvaluationStore(Registry()).for_run(summary["run_id"])) == 1

    # A changed [evaluation] evaluates the same run's model again (no second job).
    recipe.write_text(recipe.read_text().replace("records = 3", "records = 2"))
    assert main(["replay", str(recipe), "--yes", "--json"]) == 0
    changed, _ = _summary(capsys)
    assert changed["run_id"] == summary["run_id"] and changed["steps_done"][-1] == "evaluate"
    assert changed["evaluation"]["records"] == 2 and changed["evaluation"]["id"] != stored.id
    assert len(_jobs(exported_sandbox)) == 1


def test_a_recipe_without_evaluation_does_not_evaluate(
    tmp_path: Path, exported_sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = _recipe(tmp_path)
    assert main(["replay", str(recipe), "--until", "evaluate"]) == 2
    err = capsys.readouterr().err
    assert "no [evaluation] section" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("good", "bad", "said"),
    [
        ("records = 3", "records = 0", "[evaluation] records cannot be less than 1"),
        (
            'judge_model = "us.amazon.nova-pro-v1:0"',
            'judge_model = "gpt-5"',
            "judge_model = 'gpt-5' is not a base model of the catalog",
        ),
        ('rubric = "preset:summarization"', 'rubric = "preset:poetry"', "no rubric preset"),
        ('rubric = "preset:summarization"', 'rubric = "template"', "has no [rubric] table"),
        ('batch = "auto"', 'batch = "sometimes"', "is not one of auto, on, off"),
        ("seed = 11", "sed = 11", "unknown key `sed` in [evaluation]"),
    ],
)
def test_a_bad_evaluation_value_is_reported_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], good: str, bad: str, said: str
) -> None:
    recipe = _recipe(tmp_path, evaluation=CHOICES)
    text = recipe.read_text()
    assert good in text
    text = text.replace(good, bad)
    recipe.write_text(text)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row == bad)
    assert main(["replay", str(recipe), "--yes"]) == 2
    err = capsys.readouterr().err
    assert f"{recipe}, line {line}: " in err and said in err, err
    assert "Traceback" not in err and Registry().runs() == []
    assert main(["recipe", "check", str(recipe)]) != 0
    assert f"line {line}" in capsys.readouterr().err
