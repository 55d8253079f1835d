"""The [evaluation] section of recipes: the Evaluate step's choices (`Run.evaluation`) written
commented, read back the same, checked with the line of a fault; and saved runs with and
without them."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from core.evaluation.choices import prepare_evaluation, resolve_rubric
from core.evaluation.rubrics import Criterion, Rubric, rubric_to_toml
from core.recipe import RecipeError, load_recipe, parse_recipe, recipe_from_run, save_recipe
from core.run.types import EvaluationChoices, Run, RunDataError

ACCOUNT = "123456789012"
CUSTOM = Rubric(
    "support",
    "You grade support answers.",
    (Criterion("polite", "It is polite."), Criterion("correct", "It answers the question.")),
)
CHOICES = EvaluationChoices(
    records=25,
    compare_base=False,
    sql=True,
    judge_model="us.amazon.nova-pro-v1:0",
    rubric=rubric_to_toml(CUSTOM),
    pairwise=False,
    batch="off",
    batch_threshold=500,
    seed=42,
)
RUN = Run(
    region="us-east-1",
    account_id=ACCOUNT,
    base_model_id="amazon.nova-micro-v1:0:128k",
    template_toml='[template]\nuser = "{q}"\nassistant = "{a}"\n',
    evaluation=CHOICES,
)


def test_the_evaluation_round_trips_through_a_commented_recipe(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    save_recipe(RUN, path)
    text = path.read_text()
    assert "[evaluation]\n# test records sent to the model\nrecords = 25\n" in text
    assert "# the judge's rubric: preset:NAME, template, or a [rubric] table as TOML" in text
    assert tomllib.loads(text)["evaluation"]["batch"] == "off"
    recipe = load_recipe(path)
    assert recipe == recipe_from_run(RUN)
    assert recipe.run_for("210987654321", "us-west-2").evaluation == CHOICES
    # The custom rubric travels whole, and reads back as the same rubric.
    assert resolve_rubric(CHOICES.rubric, None, "here") == CUSTOM


def test_a_run_without_evaluation_writes_no_section_and_old_runs_read_as_none() -> None:
    text = "\n".join(
        line for line in _text(Run(region="us-east-1")).splitlines() if "evaluation" in line
    )
    assert text == ""
    assert Run.from_dict({"region": "us-east-1"}).evaluation is None  # a file from before
    assert Run.from_dict(RUN.to_dict()) == RUN
    with pytest.raises(RunDataError, match=r"evaluation\.records is str"):
        Run.from_dict({"evaluation": {"records": "many"}})
    with pytest.raises(RunDataError, match=r"evaluation\.batch is 'maybe'"):
        Run.from_dict({"evaluation": {"batch": "maybe"}})


def _text(run: Run) -> str:
    from core.recipe import recipe_text

    return recipe_text(recipe_from_run(run))


def _line(text: str, start: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith(start))


@pytest.mark.parametrize(
    ("good", "bad", "said"),
    [
        ("records = 25", "records = 0", "[evaluation] records cannot be less than 1"),
        ("batch_threshold = 500", "batch_threshold = 0", "batch_threshold cannot be less than 1"),
        ("pairwise = false", 'pairwise = "no"', "[evaluation] pairwise must be bool"),
        ("seed = 42", "seed = -1", "[evaluation] seed cannot be negative"),
        (
            'judge_model = "us.amazon.nova-pro-v1:0"',
            'judge_model = "Claude 99"',
            "judge_model = 'Claude 99' is not a base model of the catalog",
        ),
        ("[rubric.criteria]", "[rubric.kriteria]", "unknown key(s) in [rubric]: kriteria"),
    ],
)
def test_a_bad_value_names_its_line_even_after_a_multi_line_rubric(
    good: str, bad: str, said: str
) -> None:
    text = _text(RUN)
    assert good in text
    text = text.replace(good, bad)
    with pytest.raises(RecipeError) as caught:
        parse_recipe(text, "r.toml")
    at = "rubric = '''" if "rubric." in bad else bad
    assert f"r.toml, line {_line(text, at)}: " in caught.value.message
    assert said in caught.value.message


def test_a_rubric_needs_a_judge_and_the_template_rubric_needs_a_template_with_one() -> None:
    text = _text(RUN)
    alone = "\n".join(line for line in text.splitlines() if not line.startswith("judge_model"))
    with pytest.raises(RecipeError, match="no judge_model to grade by it"):
        parse_recipe(alone)
    from dataclasses import replace

    templated = _text(replace(RUN, evaluation=replace(CHOICES, rubric="template")))
    with pytest.raises(RecipeError, match=r"line \d+: .*has no \[rubric\] table"):
        parse_recipe(templated)


def test_choices_become_the_options_evaluate_runs_with() -> None:
    prepared = prepare_evaluation(CHOICES, RUN, registry=None)
    assert prepared.base is None  # compare_base is off
    options = prepared.options
    assert options.sql and options.batch == "off" and options.batch_threshold == 500
    assert options.seed == 42 and options.judge is not None
    assert options.judge.rubric == CUSTOM and options.judge.pairwise is False
    compared = prepare_evaluation(
        EvaluationChoices(judge_model="Nova Pro", rubric="preset:summarization"),
        RUN,
        registry=None,
    )
    assert compared.base == "us.amazon.nova-micro-v1:0"
    assert compared.options.judge is not None and compared.options.judge.pairwise
    assert compared.options.judge.model_id == "us.amazon.nova-pro-v1:0"
