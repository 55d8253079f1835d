"""Recipes: a run saved as commented TOML without account values, read back the same, and bad
recipes refused with the line and the right key."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from core.recipe import (
    RecipeError,
    load_recipe,
    parse_recipe,
    recipe_from_run,
    recipe_text,
    save_recipe,
)
from core.run.types import Route, Run
from core.statuses import CustomizationType, ServingKind

ACCOUNT = "123456789012"
TEMPLATE = '[template]\nuser = "{question}"\nassistant = "{answer}"\n'

RUN = Run(
    run_id="r-1",
    route=Route.BEDROCK_CUSTOMIZATION,
    profile="work",
    region="us-east-1",
    endpoint_url="http://127.0.0.1:5000",
    account_id=ACCOUNT,
    principal_arn=f"arn:aws:iam::{ACCOUNT}:user/alice",
    base_model_id="amazon.nova-micro-v1:0:128k",
    customization_type=CustomizationType.FINE_TUNING,
    source_location="data/qa.jsonl",
    template_toml=TEMPLATE,
    train_size=800,
    validation_size=100,
    test_size=100,
    seed=7,
    max_tokens=4000,
    dedupe=True,
    prepared_dir="/home/alice/.local/state/bedrock-tune/r-1",
    bucket=f"bedrock-tune-{ACCOUNT}-us-east-1",
    s3_prefix="runs",
    role_arn=f"arn:aws:iam::{ACCOUNT}:role/service-role/BedrockTuneRole",
    kms_key_id=f"arn:aws:kms:us-east-1:{ACCOUNT}:key/abcd",
    training_uri=f"s3://bedrock-tune-{ACCOUNT}-us-east-1/runs/r-1/train.jsonl",
    job_name="bt-job-1",
    client_request_token="tok-1",
    hyperparameters={"epochCount": "2", "learningRate": "0.0001"},
    tags={"team": "search"},
    job_arn=f"arn:aws:bedrock:us-east-1:{ACCOUNT}:model-customization-job/abc",
    custom_model_arn=f"arn:aws:bedrock:us-east-1:{ACCOUNT}:custom-model/abc",
    serving_kind=ServingKind.CUSTOM_MODEL_DEPLOYMENT,
)


def test_the_recipe_is_readable_commented_and_has_nothing_account_specific() -> None:
    text = recipe_text(recipe_from_run(RUN))
    assert ACCOUNT not in text and "arn:" not in text
    for private in ("work", "127.0.0.1", "/home/alice", "bt-job-1", "tok-1", "alice"):
        assert private not in text
    assert 'bucket = "bedrock-tune-{account_id}-{region}"' in text
    assert 'role_name = "BedrockTuneRole"' in text
    assert "# the same seed gives the same sample and split" in text
    assert "'''\n" + TEMPLATE + "'''" in text  # the template as itself, not escaped
    data = tomllib.loads(text)
    assert data["version"] == 1 and data["hyperparameters"]["epochCount"] == "2"
    assert data["infrastructure"]["uses_kms_key"] is True


def test_round_trip_replays_the_same_choices_in_another_account(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    save_recipe(RUN, path)
    recipe = load_recipe(path)
    assert recipe == recipe_from_run(RUN)
    same = recipe.run_for(ACCOUNT)
    for name in (
        "route",
        "base_model_id",
        "source_location",
        "template_toml",
        "train_size",
        "validation_size",
        "test_size",
        "seed",
        "max_tokens",
        "dedupe",
        "bucket",
        "s3_prefix",
        "hyperparameters",
        "tags",
        "serving_kind",
        "region",
    ):
        assert getattr(same, name) == getattr(RUN, name), name
    assert same.role_arn == f"arn:aws:iam::{ACCOUNT}:role/BedrockTuneRole"
    other = recipe.run_for("210987654321", "us-west-2")
    assert other.bucket == "bedrock-tune-210987654321-us-west-2"
    assert other.role_arn == "arn:aws:iam::210987654321:role/BedrockTuneRole"
    assert other.job_name is None and other.client_request_token is None
    assert other.job_arn is None and other.run_id is None and other.prepared_dir is None


def _error(text: str) -> RecipeError:
    with pytest.raises(RecipeError) as caught:
        parse_recipe(text, "r.toml")
    return caught.value


GOOD = recipe_text(recipe_from_run(RUN))


def _line(text: str, start: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith(start))


def test_a_typo_names_the_line_and_the_right_key() -> None:
    text = GOOD.replace("train_size =", "trian_size =")
    error = _error(text)
    assert f"r.toml, line {_line(text, 'trian_size')}" in error.message
    assert "unknown key `trian_size` in [prepare]" in error.message
    assert error.hint == "Did you mean `train_size`?"
    section = _error(GOOD.replace("[prepare]", "[prepair]"))
    assert "unknown section [prepair]" in section.message and "`prepare`" in section.hint


def test_wrong_types_choices_and_versions_name_the_line() -> None:
    text = GOOD.replace("seed = 7", 'seed = "seven"')
    error = _error(text)
    assert (
        f"line {_line(text, 'seed')}" in error.message and "must be int, not str" in error.message
    )
    choice = _error(GOOD.replace('kind = "custom-model-deployment"', 'kind = "custom-deployment"'))
    assert "is not one of" in choice.message and "custom-model-deployment" in choice.hint
    newer_text = GOOD.replace("version = 1", "version = 9")
    newer = _error(newer_text)
    assert f"line {_line(newer_text, 'version')}: version 9 is not one" in newer.message
    assert "no `version`" in _error(GOOD.replace("version = 1", "")).message
    arn = _error(
        GOOD.replace('s3_prefix = "runs"', f's3_prefix = "arn:aws:kms:us-east-1:{ACCOUNT}:key/x"')
    )
    assert "[infrastructure] s3_prefix holds an ARN with an account id" in arn.message


def test_bad_toml_gives_the_line_from_the_parser() -> None:
    error = _error("version = 1\nroute = \n")
    assert "r.toml: not valid TOML" in error.message and "line 2" in error.message


def test_an_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match="Cannot read the recipe"):
        load_recipe(tmp_path / "missing.toml")


def test_a_version_other_than_the_one_there_is_and_limits_below_one_name_the_line() -> None:
    for wrong in ("0", "-1", '"1"'):
        text = GOOD.replace("version = 1", f"version = {wrong}")
        error = _error(text)
        assert f"r.toml, line {_line(text, 'version')}: version" in error.message, wrong
        assert "`version = 1`" in (error.hint or "")
    for key in ("max_tokens", "max_chars"):
        text = GOOD.replace("max_tokens = 4000", f"{key} = 0")
        error = _error(text)
        assert f"line {_line(text, key)}: [prepare] {key} cannot be less than 1" in error.message
    sizes = GOOD.replace("test_size = 100", "test_size = 0")
    assert parse_recipe(sizes, "r.toml").choices["test_size"] == 0  # a size may be 0


def test_a_dataset_beside_the_recipe_is_kept_relative_to_it(tmp_path: Path) -> None:
    data = tmp_path / "data" / "qa.jsonl"
    data.parent.mkdir()
    data.write_text("{}\n")
    path = tmp_path / "run.toml"
    save_recipe(replace(RUN, source_location=str(data)), path)
    assert 'source = "data/qa.jsonl"' in path.read_text()
    elsewhere = "/srv/shared/qa.jsonl"  # not in the recipe's folder: kept as it is
    save_recipe(replace(RUN, source_location=elsewhere), path)
    assert f'source = "{elsewhere}"' in path.read_text()
    hub = "hf:knkarthick/dialogsum"
    save_recipe(replace(RUN, source_location=hub), path)
    assert load_recipe(path).choices["source_location"] == hub


def test_sagemaker_training_settings_travel_but_a_licence_acceptance_does_not(
    tmp_path: Path,
) -> None:
    run = replace(
        RUN,
        route=Route.SAGEMAKER_IMPORT,
        training_mode="instance",
        instance_type="ml.g5.2xlarge",
        spot=True,
        eula_accepted=True,
        serving_kind=None,
    )
    path = tmp_path / "sm.toml"
    save_recipe(run, path)
    data = tomllib.loads(path.read_text())
    assert data["training"] == {"mode": "instance", "instance_type": "ml.g5.2xlarge", "spot": True}
    back = load_recipe(path).run_for(ACCOUNT)
    assert (back.training_mode, back.instance_type, back.spot) == (
        "instance",
        "ml.g5.2xlarge",
        True,
    )
    assert back.eula_accepted is None  # the licence is accepted by a person, every time
    bad = path.read_text().replace('mode = "instance"', 'mode = "on-prem"')
    error = _error(bad)
    assert f"line {_line(bad, 'mode')}: [training] mode = 'on-prem' is not one of" in error.message


def test_an_s3_dataset_in_the_account_s_bucket_travels_with_the_account_as_a_parameter() -> None:
    source = f"s3://bedrock-tune-{ACCOUNT}-us-east-1/shared/qa.jsonl"
    recipe = recipe_from_run(replace(RUN, source_location=source))
    assert ACCOUNT not in recipe_text(recipe)
    other = recipe.run_for("210987654321")
    assert other.source_location == "s3://bedrock-tune-210987654321-us-east-1/shared/qa.jsonl"
