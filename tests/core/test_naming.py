"""core.naming: the default names of a run's job, custom model and serving, valid for the API."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from core.catalog.data import MODELS
from core.jobs.customization import JOB_NAME, MODEL_NAME
from core.naming import (
    default_custom_model_name,
    default_job_name,
    default_serving_name,
    model_stem,
)

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def valid_job_name(name: str) -> bool:
    return 1 <= len(name) <= 63 and JOB_NAME.fullmatch(name) is not None


def valid_resource_name(name: str) -> bool:
    """Custom model, deployment and throughput names share this shape."""
    return 1 <= len(name) <= 63 and MODEL_NAME.fullmatch(name) is not None


def test_job_name() -> None:
    assert (
        default_job_name("amazon.nova-micro-v1:0:128k", NOW) == "bt-nova-micro-v1-20260304-050607"
    )
    assert (
        default_job_name("anthropic.claude-3-haiku-20240307-v1:0:200k", NOW)
        == "bt-claude-3-haiku-20240307-v1-20260304-050607"
    )


@pytest.mark.parametrize(
    "model_id",
    [
        "meta.llama3.1_8b.instruct:0",  # dots and underscores after the provider
        "x" * 100 + ":0",  # too long: the stem is cut, the time stamp kept
        "..__--:0",  # nothing usable
        "plain",
    ],
)
def test_odd_model_ids_still_give_valid_names(model_id: str) -> None:
    job = default_job_name(model_id, NOW)
    assert valid_job_name(job), job
    assert job.endswith("-20260304-050607")
    model = default_custom_model_name(job)
    assert valid_resource_name(model), model
    assert valid_resource_name(default_serving_name(model))


def test_every_catalog_model_gets_valid_names() -> None:
    for base in MODELS:
        job = default_job_name(base.id, NOW)
        assert valid_job_name(job), job
        assert valid_resource_name(default_custom_model_name(job)), job


def test_model_stem() -> None:
    assert model_stem("amazon.nova-micro-v1:0:128k") == "nova-micro-v1"
    assert model_stem("meta.llama3.1_8b:0") == "llama3-1-8b"
    assert model_stem(":0") == "model"


def test_custom_model_name_follows_the_job_name() -> None:
    assert default_custom_model_name("bt-nova-micro-v1-20260304-050607") == (
        "bt-nova-micro-v1-20260304-050607-model"
    )
    assert default_custom_model_name("my.job+1") == "my-job-1-model"  # no dots or '+'
    long = default_custom_model_name("j" * 63)
    assert len(long) == 63 and long.endswith("-model")


def test_serving_name() -> None:
    assert default_serving_name("my-model") == "bt-my-model"
    assert default_serving_name("bt-my-model") == "bt-my-model"  # never bt-bt-
    arn = "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-micro-v1:0:128k/abc123"
    assert default_serving_name(arn) == "bt-abc123"
    assert len(default_serving_name("m" * 80)) == 63
    assert valid_resource_name(default_serving_name("weird name.with:chars"))


def test_an_autopilot_job_name_keeps_the_whole_time_in_32_characters() -> None:
    from core.naming import default_automl_job_name

    now = datetime(2026, 12, 2, 23, 40, 5, tzinfo=UTC)
    name = default_automl_job_name("Falcon40BInstruct", now)
    assert name == "bt-falcon40binst-20261202-234005" and len(name) == 32
    assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}", name)  # botocore's AutoMLJobName
    assert default_automl_job_name("Llama2-7B", now) == "bt-llama2-7b-20261202-234005"
