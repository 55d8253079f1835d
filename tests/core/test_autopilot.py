"""Autopilot LLM fine-tuning: the models it offers (and a clear refusal of one it does not), the
hyperparameter ranges, the EULA, the CreateAutoMLJobV2 request as botocore validates it, the
CSV written from prepared records, and a DescribeAutoMLJobV2 answer read back."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from core.errors import DatasetError, ValidationError
from core.pricing.types import InstancePrices, Price
from core.sagemaker.autopilot import (
    AutopilotRequest,
    CompletionCriteria,
    Timeline,
    autopilot_snapshot_from,
    check_autopilot_request,
    estimate_autopilot_cost,
)
from core.sagemaker.autopilot_data import (
    autopilot_csv,
    autopilot_pair,
    header_problem,
    write_autopilot_csv,
)
from core.sagemaker.autopilot_models import (
    AUTOPILOT_MODELS,
    FEATURE_STATUS,
    autopilot_model,
    check_hyperparameters,
)
from tests.api_model import assert_valid

ROLE = "arn:aws:iam::123456789012:role/bedrock-tune-sagemaker-us-east-1"


def request(**changes: object) -> AutopilotRequest:
    values: dict[str, object] = {
        "job_name": "bt-dialogsum-ap",
        "role_arn": ROLE,
        "base_model": "Falcon7BInstruct",
        "training_uri": "s3://bt/bedrock-tune/r1/data/train.csv",
        "output_uri": "s3://bt/bedrock-tune/r1/output/",
    }
    values.update(changes)
    return AutopilotRequest(**values)  # type: ignore[arg-type]


def test_every_model_is_legacy_and_the_feature_says_what_replaces_it() -> None:
    assert len(AUTOPILOT_MODELS) == 18
    assert {m.lifecycle for m in AUTOPILOT_MODELS} == {"legacy"}
    llama = autopilot_model("Llama2-13BChat")
    assert (llama.jumpstart_id, llama.row_limit, llama.context, llama.eula) == (
        "meta-textgeneration-llama-2-13b-f",
        7_000,
        2_048,
        True,
    )
    assert autopilot_model("Falcon7B").row_limit == 1_000
    assert "legacy" in FEATURE_STATUS and "jumpstart" in FEATURE_STATUS
    assert "Canvas" in FEATURE_STATUS


def test_a_model_autopilot_does_not_offer_is_refused_with_the_list() -> None:
    with pytest.raises(ValidationError) as caught:
        check_autopilot_request(request(base_model="Llama2-70B"))
    text = caught.value.describe()
    assert "does not offer the base model 'Llama2-70B'" in text and "uncertain" in text
    assert "Falcon7BInstruct" in text and "bedrock-tune jumpstart" in text
    with pytest.raises(ValidationError) as near:
        autopilot_model("mistral7b")
    assert "Did you mean Mistral7B?" in near.value.describe()


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("epochCount", "0", "epochCount=0 is out of range: give a value from 1 to 10"),
        ("epochCount", "11", "from 1 to 10"),
        ("epochCount", "2.5", "is not a whole number"),
        ("batchSize", "65", "from 1 to 64"),
        ("learningRate", "1.5", "from 0 to 1"),
        ("learningRate", "nan", "out of range"),
        ("learningRateWarmupSteps", "251", "from 0 to 250"),
        ("epochs", "3", "not an Autopilot hyperparameter"),
        ("epochcount", "3", "did you mean epochCount"),
    ],
)
def test_hyperparameters_out_of_range_are_refused(name: str, value: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_hyperparameters({name: value})
    assert fragment in caught.value.describe()


def test_hyperparameters_at_their_bounds_pass() -> None:
    values = {
        "epochCount": "10",
        "batchSize": "1",
        "learningRate": "1e-4",
        "learningRateWarmupSteps": "250",
    }
    assert check_hyperparameters(values) == values
    assert check_hyperparameters({"epochCount": " 1 "}) == {"epochCount": "1"}


def test_a_eula_model_needs_the_eula_accepted_explicitly() -> None:
    with pytest.raises(ValidationError, match="--accept-eula"):
        check_autopilot_request(request(base_model="Llama2-7B"))
    checked = check_autopilot_request(request(base_model="Llama2-7B", accept_eula=True))
    config = checked.to_api()["AutoMLProblemTypeConfig"]["TextGenerationJobConfig"]
    assert config["ModelAccessConfig"] == {"AcceptEula": True}


def test_the_request_is_valid_for_botocore() -> None:
    checked = check_autopilot_request(
        request(
            validation_uri="s3://bt/bedrock-tune/r1/data/validation.csv",
            hyperparameters={"epochCount": "3", "learningRate": "0.0001"},
            completion=CompletionCriteria(3600, 7200),
            tags={"bedrock-tune:run": "r1"},
        )
    )
    api = checked.to_api()
    assert_valid("sagemaker", "CreateAutoMLJobV2", api)
    assert [c["ChannelType"] for c in api["AutoMLJobInputDataConfig"]] == [
        "training",
        "validation",
    ]
    assert api["AutoMLJobInputDataConfig"][0]["ContentType"] == "text/csv;header=present"
    config = api["AutoMLProblemTypeConfig"]["TextGenerationJobConfig"]
    assert config["CompletionCriteria"] == {
        "MaxRuntimePerTrainingJobInSeconds": 3600,
        "MaxAutoMLJobRuntimeInSeconds": 7200,
    }
    assert config["TextGenerationHyperParameters"] == {"epochCount": "3", "learningRate": "0.0001"}
    assert "ModelAccessConfig" not in config  # never accepted on the user's behalf


def test_bad_names_and_uris_are_listed_together() -> None:
    with pytest.raises(ValidationError) as caught:
        check_autopilot_request(
            request(job_name="x" * 33, role_arn="admin", training_uri="bt/train.csv")
        )
    text = caught.value.describe()
    assert "1-32 letters" in text and "not an IAM role ARN" in text and "bt/train.csv" in text


def test_the_csv_has_input_and_output_from_each_prepared_shape(tmp_path: Path) -> None:
    records: list[dict[str, Any]] = [
        {"prompt": "Summarize: a, b", "completion": "ab"},
        {
            "schemaVersion": "bedrock-conversation-2024",
            "system": [{"text": "Be brief."}],
            "messages": [
                {"role": "user", "content": [{"text": 'He said "hi",\nthen left.'}]},
                {"role": "assistant", "content": [{"text": "A greeting."}]},
            ],
        },
        {
            "system": "S",
            "messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}],
        },
    ]
    text, rows = autopilot_csv(records)
    parsed = list(csv.reader(io.StringIO(text)))
    assert rows == 3
    assert parsed == [
        ["input", "output"],
        ["Summarize: a, b", "ab"],
        ['Be brief.\n\nHe said "hi",\nthen left.', "A greeting."],
        ["S\n\nQ", "A"],
    ]
    source = tmp_path / "train.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    assert write_autopilot_csv(source, tmp_path / "train.csv") == 3
    assert (tmp_path / "train.csv").read_text() == text


def test_a_record_without_an_answer_cannot_make_a_row() -> None:
    with pytest.raises(DatasetError, match="no assistant answer"):
        autopilot_pair({"messages": [{"role": "user", "content": "Q"}]})


def test_the_header_must_be_exactly_input_and_output() -> None:
    assert header_problem(["input", "output"], "train.csv") is None
    missing = header_problem(["input", "summary"], "s3://b/train.csv")
    assert missing is not None and "no 'output' column" in missing and "input,summary" in missing
    extra = header_problem(["input", "output", "topic"], "train.csv")
    assert extra is not None and "topic" in extra


def test_a_described_job_reads_back_with_its_candidate() -> None:
    container = {"Image": "img", "ModelDataUrl": "s3://b/m.tar.gz", "Environment": {"A": "1"}}
    snapshot = autopilot_snapshot_from(
        {
            "AutoMLJobName": "j",
            "AutoMLJobArn": "arn:aws:sagemaker:us-east-1:1:automl-job/j",
            "AutoMLJobStatus": "Completed",
            "AutoMLJobSecondaryStatus": "Completed",
            "LastModifiedTime": datetime(2026, 1, 1),
            "ResolvedAttributes": {
                "AutoMLProblemTypeResolvedAttributes": {
                    "TextGenerationResolvedAttributes": {"BaseModelName": "Falcon7BInstruct"}
                }
            },
            "BestCandidate": {
                "CandidateName": "c1",
                "CandidateStatus": "Completed",
                "InferenceContainerDefinitions": {"GPU": [container]},
                "CandidateProperties": {
                    "CandidateMetrics": [
                        {"StandardMetricName": "Rouge1", "Value": 0.4},
                        {"StandardMetricName": "Perplexity", "Value": 6.5},
                    ]
                },
            },
        }
    )
    assert snapshot.ended and snapshot.base_model == "Falcon7BInstruct"
    assert snapshot.best is not None and snapshot.best.metrics == {"Rouge1": 0.4, "Perplexity": 6.5}
    assert snapshot.best.containers[0].processing_unit == "GPU"
    assert snapshot.modified == datetime(2026, 1, 1, tzinfo=UTC)
    timeline = Timeline()
    assert timeline.see(snapshot) and not timeline.see(snapshot)
    assert timeline.statuses == ["Completed"]


def test_the_estimate_uses_the_training_rate_and_the_completion_ceiling() -> None:
    rate = Price.known(7.09, "per instance-hour", "price-list-api", "2026-12-01")
    unknown = Price.unknown("per instance-hour", "not listed")
    prices = InstancePrices("ml.g5.12xlarge", "us-east-1", rate, unknown, unknown)
    estimate = estimate_autopilot_cost(prices, 2, CompletionCriteria(4 * 3600, 3 * 3600))
    assert estimate.expected == pytest.approx(14.18)
    assert estimate.ceiling == pytest.approx(21.27)  # the shorter of the two limits
    assert "assumption" in estimate.note
    # Each amount says the rate's source and date; an unknown rate shows no amount at all.
    assert estimate.text().startswith(
        "About $14.18 for 2 h, at most $21.27 by the completion criterion "
        "(Price List API, 2026-12-01). ⚠"
    )
    none = estimate_autopilot_cost(
        InstancePrices("ml.g5.12xlarge", "us-east-1", unknown, unknown, unknown),
        2,
        CompletionCriteria(),
    )
    assert none.expected is None and none.ceiling is None
    assert none.text() == none.note and "$" not in none.text() and "not listed" in none.text()
