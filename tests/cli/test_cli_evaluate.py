"""`bedrock-tune evaluate` with SQL, a judge and runs, and `bedrock-tune compare`, against a
sandbox reached through AWS_ENDPOINT_URL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.data.templates import PRESETS, template_to_toml
from core.registry import Registry
from core.run import EvaluationChoices, Run
from core.sandbox.server import Sandbox, sandbox_environment
from tui.cli.main import main

NOVA_LITE = "us.amazon.nova-lite-v1:0"
NOVA_MICRO = "us.amazon.nova-micro-v1:0"
SCHEMA = "CREATE TABLE head (name VARCHAR, age INTEGER)"


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    with Sandbox() as running:
        for key, value in sandbox_environment(running).items():
            monkeypatch.setenv(key, value)
        yield running


@pytest.fixture
def prepared(tmp_path: Path) -> Path:
    folder = tmp_path / "prepared"
    folder.mkdir()
    lines = [
        {
            "system": f"You write SQL for the tables below.\n\n{SCHEMA}",
            "messages": [
                {"role": "user", "content": f"Question {i}?"},
                {"role": "assistant", "content": f"SELECT name FROM head WHERE age > {i}"},
            ],
        }
        for i in range(3)
    ]
    (folder / "test.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    return folder


def test_evaluate_json_has_intervals_and_sql(
    sandbox: Sandbox, prepared: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    test = str(prepared / "test.jsonl")
    code = main(
        [
            "evaluate",
            "--model",
            NOVA_LITE,
            "--test",
            test,
            "--compare",
            NOVA_MICRO,
            "--sql",
            "--json",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data = json.loads(captured.out)
    for side in ("tuned", "base"):
        entry = data[side]["rouge1"]
        assert {"mean", "ci_low", "ci_high", "n"} <= set(entry)
    # The sandbox's stand-in answers are no SQL: counted as not parsing, never as matches.
    assert data["sql"]["tuned"]["does_not_parse"] == 3
    assert data["sql"]["tuned"]["execution_match"] == 0
    assert "Estimate on demand" in captured.err  # the estimate comes before the answers
    assert (prepared / "evaluation.html").is_file()
    # Stored (no run serves this model: as an ad-hoc evaluation).
    assert Registry().evaluations()["adhoc"][0]["records"] == 3


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--rubric", "preset:summarization"], "--rubric needs --judge"),
        (["--judge", "gpt-5", "--rubric", "preset:summarization"], "Unknown judge model"),
        (["--judge", "Nova Pro"], "--judge needs a rubric"),
        (["--judge", "Nova Pro", "--rubric", "preset:poetry"], "no rubric preset"),
        (["--run", "nope"], "no run 'nope'"),
        (["-n", "0"], "-n must be at least 1"),
    ],
)
def test_bad_evaluate_options_are_clear_errors(
    sandbox: Sandbox,
    prepared: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    code = main(["evaluate", "--model", NOVA_LITE, "--test", str(prepared / "test.jsonl"), *extra])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err
    assert not (prepared / "evaluation.json").exists()


def _run(run_id: str, prepared: Path, model: str) -> Run:
    return Run(
        run_id=run_id,
        region="us-east-1",
        base_model_id="amazon.nova-micro-v1:0:128k",
        prepared_dir=str(prepared),
        serving_arn=model,
        template_toml=template_to_toml(PRESETS["text-to-sql"]),
    )


def test_runs_evaluated_then_compared(
    sandbox: Sandbox, prepared: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = Registry()
    registry.save_run("r1", _run("r1", prepared, NOVA_LITE))
    registry.save_run("r2", _run("r2", prepared, "us.amazon.nova-pro-v1:0"))
    # With a run: its model, test split and base; the judge's rubric from its template.
    code = main(
        ["evaluate", "--run", "r1", "--compare", "base", "--judge", "Nova Pro", "--sql", "--json"]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data = json.loads(captured.out)
    assert data["judge"]["rubric"]["name"] == "text-to-sql"
    # The sandbox's base model answers no JSON: every grade is unparseable after a second ask.
    assert data["judge"]["tuned"]["unparseable"] == 3 and data["judge"]["tuned"]["retried"] == 3
    assert data["judge"]["pairwise"]["unparseable"] == 3
    # The run keeps the choices (its recipe then has them); the rubric came from the template.
    kept = registry.get_run("r1")
    assert kept is not None and kept.run.evaluation == EvaluationChoices(
        records=50, compare_base=True, sql=True, judge_model="us.amazon.nova-pro-v1:0"
    )
    assert main(["evaluate", "--run", "r2", "--compare", "base"]) == 0
    out = capsys.readouterr().out
    assert "tuned  " in out and "base   " in out and "[" in out  # means with intervals
    html = tmp_path / "compare.html"
    assert main(["compare", "r1", "r2", "--html", str(html)]) == 0
    out = capsys.readouterr().out
    assert f"base {NOVA_MICRO}" in out and "run r1" in out and "run r2" in out
    assert "wins" in out and "serving / 1K requests" in out
    assert "<svg" in html.read_text()
    assert main(["compare", "r1", "--json"]) == 0
    compared = json.loads(capsys.readouterr().out)["compared"]
    assert [c["id"] for c in compared["contenders"]] == [f"base:{NOVA_MICRO}", "run:r1"]
    assert compared["pairs"][0]["metrics"]["rougeL"]["n"] == 3
    assert main(["compare", "nope"]) == 2
    err = capsys.readouterr().err
    assert "no run 'nope'" in err and "Traceback" not in err


def test_a_rubric_file_and_the_seed_are_kept_with_the_run_for_its_recipe(
    sandbox: Sandbox, prepared: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from core.evaluation.choices import resolve_rubric
    from core.recipe import load_recipe, save_recipe

    registry = Registry()
    registry.save_run("r1", _run("r1", prepared, NOVA_LITE))
    rubric = tmp_path / "rubric.toml"
    rubric.write_text('[rubric]\nname = "mine"\n[rubric.criteria]\nright = "It is right."\n')
    args = ["evaluate", "--run", "r1", "-n", "2", "--judge", "Nova Pro", "--rubric", str(rubric)]
    assert main([*args, "--no-pairwise", "--no-batch", "--seed", "5", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["seed"] == 5 and data["judge"]["rubric"]["name"] == "mine"
    record = registry.get_run("r1")
    assert record is not None and record.run.evaluation is not None
    kept = record.run.evaluation
    assert (kept.records, kept.seed, kept.batch, kept.pairwise) == (2, 5, "off", False)
    assert kept.compare_base is False and kept.judge_model == "us.amazon.nova-pro-v1:0"
    # The rubric is kept whole (not as this machine's path): the recipe carries it.
    rubric.unlink()
    path = tmp_path / "r1.toml"
    save_recipe(record.run, path)
    again = load_recipe(path).run_for("111122223333").evaluation
    assert again == kept and again.rubric is not None
    assert resolve_rubric(again.rubric, None, "here").criteria[0].name == "right"
