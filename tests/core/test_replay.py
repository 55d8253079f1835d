"""core.replay without AWS: which saved run a replay continues (the recipe's digest and the
place), which steps a route replays, and `--until` checked against them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from core.errors import ValidationError
from core.recipe import parse_recipe, read_recipe, recipe_digest, save_recipe
from core.registry import RunRecord
from core.replay.start import run_from_recipe, start_replay
from core.replay.steps import REPLAYED, NotReplayableError, check_until, replayed_steps
from core.replay.training import training_question
from core.run import EvaluationChoices, Route, Run
from core.run.routes import ROUTE_STEPS
from core.statuses import ServingKind

NOVA = "amazon.nova-micro-v1:0:128k"
HERE = Run(
    target="aws",
    profile="dev",
    region="us-west-2",
    account_id="111122223333",
    principal_arn="arn:aws:iam::111122223333:user/me",
)


def _recipe(folder: Path, **changes: object) -> Path:
    run = Run(
        region="us-east-1",
        account_id="999988887777",
        base_model_id=NOVA,
        source_location="data.jsonl",
        seed=3,
        bucket="bedrock-tune-999988887777-us-east-1",
        role_arn="arn:aws:iam::999988887777:role/bedrock-tune-us-east-1",
        job_name="bt-old",
        client_request_token="old-token",
        **changes,  # type: ignore[arg-type]
    )
    path = folder / "r.toml"
    save_recipe(run, path)
    return path


def _record(run: Run, updated: str = "2026-01-01T00:00:00+00:00") -> RunRecord:
    return RunRecord(run.run_id or "", updated, updated, run)


def test_a_run_from_a_recipe_works_here_with_names_filled_and_nothing_carried(
    tmp_path: Path,
) -> None:
    (tmp_path / "data.jsonl").write_text("{}\n")
    recipe = read_recipe(_recipe(tmp_path))
    run = run_from_recipe(recipe.recipe, HERE, recipe.folder)
    assert (run.target, run.profile, run.region, run.account_id) == (
        "aws",
        "dev",
        "us-west-2",
        "111122223333",
    )
    assert run.bucket == "bedrock-tune-111122223333-us-west-2"
    assert run.role_arn == "arn:aws:iam::111122223333:role/bedrock-tune-us-east-1"
    assert run.source_location == str(tmp_path / "data.jsonl")  # beside the recipe
    assert (run.job_name, run.client_request_token, run.run_id) == (None, None, None)
    with pytest.raises(ValueError, match="checked identity"):
        run_from_recipe(recipe.recipe, Run())


def test_a_rerun_continues_the_recipes_run_in_the_same_place_only(tmp_path: Path) -> None:
    recipe = read_recipe(_recipe(tmp_path))
    first = start_replay(recipe, HERE, [])
    assert not first.resumed and first.run.recipe_digest == recipe_digest(recipe.recipe)
    going = replace(first.run, job_name="bt-new", client_request_token="tok")
    older = replace(going, run_id="older", job_name="bt-older")
    records = [_record(older, "2026-01-01T00:00:00+00:00"), _record(going, "2026-01-02T00:00:00")]

    again = start_replay(recipe, replace(HERE, profile="other"), records)
    assert again.resumed and again.run.run_id == going.run_id  # the newest one
    assert (again.run.job_name, again.run.profile) == ("bt-new", "other")

    elsewhere = start_replay(recipe, replace(HERE, region="eu-west-1"), records)
    assert not elsewhere.resumed and elsewhere.run.run_id != going.run_id
    assert not start_replay(recipe, HERE, records, new=True).resumed

    # A comment changes nothing; a changed choice is another recipe (a new run).
    path = Path(recipe.where)
    path.write_text("# edited\n" + path.read_text())
    assert start_replay(read_recipe(path), HERE, records).resumed
    path.write_text(path.read_text().replace("seed = 3", "seed = 4"))
    assert not start_replay(read_recipe(path), HERE, records).resumed


def test_the_steps_replayed_and_until(tmp_path: Path) -> None:
    served = Run(route=Route.BEDROCK_CUSTOMIZATION, serving_kind=ServingKind.PROVISIONED_THROUGHPUT)
    assert replayed_steps(served)[-3:] == ("launch", "watch", "deploy")
    assert "deploy" not in replayed_steps(replace(served, serving_kind=None))
    check_until(served, "validate")
    with pytest.raises(ValidationError, match="no \\[serving\\] kind"):
        check_until(replace(served, serving_kind=None), "deploy")
    with pytest.raises(ValidationError, match="no \\[evaluation\\] section"):
        check_until(served, "evaluate")
    with pytest.raises(ValidationError, match="Chat is left to you"):
        check_until(served, "chat")
    evaluated = replace(served, evaluation=EvaluationChoices())
    assert replayed_steps(evaluated)[-2:] == ("deploy", "evaluate")
    check_until(evaluated, "evaluate")
    unserved = replace(evaluated, serving_kind=None)
    assert "evaluate" not in replayed_steps(unserved)
    with pytest.raises(ValidationError, match="nothing to evaluate"):
        check_until(unserved, "evaluate")
    with pytest.raises(ValidationError, match="not a step"):
        check_until(served, "nope")
    assert replayed_steps(Run(route=Route.IMPORT_ONLY))[-1] == "import"
    for route in set(Route) - set(REPLAYED):
        with pytest.raises(NotReplayableError, match=f"'{route.value}'"):
            replayed_steps(Run(route=route))
    assert set(Route) - set(REPLAYED) == {Route.SAGEMAKER_AUTOPILOT, Route.SAGEMAKER_JUMPSTART}
    assert replayed_steps(Run(route=Route.SAGEMAKER_IMPORT))[-4:] == (
        "train",
        "watch",
        "import-check",
        "import",
    )
    for route, ids in REPLAYED.items():  # every replayed step is on its route, in order
        on_route = [i for i in ROUTE_STEPS[route] if i in ids]
        assert on_route == list(ids)


def test_a_recipe_error_about_a_field_names_its_line(tmp_path: Path) -> None:
    recipe = read_recipe(_recipe(tmp_path, hyperparameters={"epochCount": "2"}))
    lines = recipe.text.splitlines()
    seed_line = next(n for n, row in enumerate(lines, 1) if row.startswith("seed"))
    table_line = lines.index("[hyperparameters]") + 1
    assert f"line {seed_line}:" in recipe.field_error("seed", "bad", "fix").message
    assert f"line {table_line}:" in recipe.field_error("hyperparameters", "bad", "fix").message
    assert parse_recipe(recipe.text).choices == recipe.recipe.choices


def test_the_train_question_says_the_instance_and_the_price_in_sentences() -> None:
    """What `replay` asks before the SageMaker training: the instance, then each thing known
    (or not) of the price as a sentence of its own."""
    run = Run(
        route=Route.SAGEMAKER_IMPORT,
        base_model_id="meta-textgeneration-llama-3-8b",
        training_mode="instance",
        instance_type="ml.g5.2xlarge",
    )
    question = training_question(run)
    assert question.startswith(
        "Train meta-textgeneration-llama-3-8b on SageMaker (one ml.g5.2xlarge instance) with "
        "the uploaded data? "
    )
    assert "The hourly price of ml.g5.2xlarge is unknown: no source has this rate. " in question
    assert question.endswith(" The imported model is asked for next.")
