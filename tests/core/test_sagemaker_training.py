"""SageMaker training for the sagemaker-import route: CreateTrainingJob requests in both modes
(validated by botocore against the real API model), the QLoRA script's data and arguments (no
torch), the script archive, and the execution role."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.validate import ParamValidator
from moto import mock_aws

from core.aws import AwsContext
from core.infra.plan import apply, plan, verify
from core.infra.policies import trust_policy, trust_problem
from core.pricing.types import InstancePrices, Price
from core.registry import Registry
from core.sagemaker.role import execution_policy
from core.sagemaker.scripts.train_qlora import load_records, parse_args, to_messages
from core.sagemaker.source import script_archive
from core.sagemaker.training import (
    QLORA_DEFAULTS,
    TrainingRequest,
    check_training_request,
    estimate_instance_cost,
)
from tests.api_model import operation

ROLE = "arn:aws:iam::123456789012:role/bedrock-tune-sagemaker-us-east-1"
DATA = "s3://bt-bucket/bedrock-tune/r1"


def validate(request: dict[str, Any]) -> None:
    """botocore's own validation of a CreateTrainingJob request (raises on any error)."""
    shape = operation("sagemaker", "CreateTrainingJob").input_shape
    assert shape is not None
    report = ParamValidator().validate(request, shape)
    assert not report.has_errors(), report.generate_report()


def request(**changes: Any) -> TrainingRequest:
    values: dict[str, Any] = {
        "job_name": "bt-sql-llama-20261201-000000",
        "role_arn": ROLE,
        "base_model": "meta-textgeneration-llama-3-8b",
        "training_uri": f"{DATA}/data/train.jsonl",
        "validation_uri": f"{DATA}/data/validation.jsonl",
        "output_uri": f"{DATA}/output/",
        "region": "us-east-1",
        "accept_eula": True,
        "script_uri": f"{DATA}/code/sourcedir.tar.gz",
        "tags": {"bedrock-tune:run": "r1"},
    }
    values.update(changes)
    return TrainingRequest(**values)


def test_a_serverless_request() -> None:
    made = request(mode="serverless", technique="DPO", sequence_length="8K")
    assert check_training_request(made) == []
    api = made.to_api()
    validate(api)
    assert api["ServerlessJobConfig"] == {
        "BaseModelArn": "arn:aws:sagemaker:us-east-1:aws:hub-content/SageMakerPublicHub/Model/"
        "meta-textgeneration-llama-3-8b",
        "JobType": "FineTuning",
        "CustomizationTechnique": "DPO",
        "Peft": "LORA",
        "AcceptEula": True,
        "SequenceLength": "8K",
    }
    assert "ResourceConfig" not in api and "AlgorithmSpecification" not in api
    assert api["OutputDataConfig"]["CompressionType"] == "NONE"  # the model as files, to import
    assert [c["ChannelName"] for c in api["InputDataConfig"]] == ["train", "validation"]
    assert {"Key": "bedrock-tune:run", "Value": "r1"} in api["Tags"]
    refused = check_training_request(request(accept_eula=False, sequence_length="8k"))
    assert any("EULA" in p for p in refused) and any("sequence length" in p for p in refused)


def test_an_instance_request_runs_the_qlora_script_uncompressed() -> None:
    made = request(mode="instance")
    assert check_training_request(made) == []
    api = made.to_api()
    validate(api)
    assert api["OutputDataConfig"]["CompressionType"] == "NONE"
    assert api["ResourceConfig"]["InstanceType"] == "ml.g5.12xlarge"
    hps = api["HyperParameters"]
    assert json.loads(hps["sagemaker_program"]) == "train_qlora.py"
    assert json.loads(hps["sagemaker_submit_directory"]).endswith("sourcedir.tar.gz")
    assert hps["model_id"] == "meta-llama/Meta-Llama-3-8B"
    assert (hps["lora_r"], hps["lora_alpha"], hps["lora_dropout"]) == ("16", "8", "0.05")
    assert "huggingface-pytorch-training" in api["AlgorithmSpecification"]["TrainingImage"]
    assert "EnableManagedSpotTraining" not in api
    assert check_training_request(request(mode="instance", script_uri=None)) != []


def test_spot_training_keeps_checkpoints() -> None:
    api = request(mode="instance", spot=True, max_runtime_seconds=7200).to_api()
    validate(api)
    assert api["EnableManagedSpotTraining"] is True
    assert api["StoppingCondition"] == {"MaxRuntimeInSeconds": 7200, "MaxWaitTimeInSeconds": 14400}
    assert api["CheckpointConfig"] == {
        "S3Uri": f"{DATA}/output/checkpoints/",
        "LocalPath": "/opt/ml/checkpoints",
    }
    bad = request(mode="instance", spot=True, max_runtime_seconds=7200, max_wait_seconds=60)
    assert any("maximum wait" in p for p in check_training_request(bad))


def test_the_estimate_is_known_only_where_the_reference_gives_a_price() -> None:
    known = estimate_instance_cost("ml.g5.12xlarge", 1, 2.5)
    assert known.total == pytest.approx(18.0)
    assert known.note.startswith("$7.20 per instance-hour on demand (built-in, 2026-12)")
    unknown = estimate_instance_cost("ml.p4d.24xlarge", 1, 2.5)
    assert unknown.total is None and "unknown" in unknown.note


def test_the_price_lists_rate_wins_and_spot_is_a_saving_never_a_zero_rate() -> None:
    rate = Price.known(7.09, "per instance-hour", "price-list-api", "2026-12-02", "USE1-Train:x")
    unknown = Price.unknown("per instance-hour", "no rate")
    prices = InstancePrices("ml.g5.12xlarge", "us-east-1", rate, unknown, unknown)
    listed = estimate_instance_cost("ml.g5.12xlarge", 2, 2.0, prices)
    assert listed.total == pytest.approx(28.36)
    assert listed.note == "$7.09 per instance-hour on demand (Price List API, 2026-12-02)"
    spot = estimate_instance_cost("ml.g5.12xlarge", 2, 2.0, prices, spot=True)
    assert spot.total == pytest.approx(28.36)  # the ceiling: the spot rate is not published
    assert spot.note.startswith(
        "managed spot training: up to 90% less (SageMaker Developer Guide, Managed Spot "
        "Training, checked 2026-12) than the on-demand $7.09 per instance-hour (Price List API, "
        "2026-12-02); the Price List publishes no managed spot training rate"
    )
    assert "$0.00" not in spot.note
    nothing = InstancePrices("ml.p4d.24xlarge", "us-east-1", unknown, unknown, unknown)
    blind = estimate_instance_cost("ml.p4d.24xlarge", 1, 1.0, nothing, spot=True)
    assert blind.total is None and "$0.00" not in blind.note
    assert (
        "up to 90% less" in blind.note and "on-demand rate that is unknown: no rate" in blind.note
    )
    assert prices.spot.to_json()["spot_rate"] is None


def test_the_script_takes_the_hyperparameters_the_request_sends() -> None:
    hps = request(mode="instance", hyperparameters={"epochs": "1"}).to_api()["HyperParameters"]
    argv = [
        part
        for name, value in hps.items()
        if not name.startswith("sagemaker_")  # the training toolkit consumes these itself
        for part in (f"--{name}", value)
    ]
    args = parse_args([*argv, "--train_dir", "/data/train"])
    assert args.model_id == "meta-llama/Meta-Llama-3-8B"
    assert (args.lora_r, args.lora_alpha, args.lora_dropout) == (16, 8, 0.05)
    assert args.epochs == 1 and args.load_in_4bit is True and args.packing is True
    assert args.bnb_4bit_quant_type == "nf4" and args.max_shard_size == "2GB"
    assert set(QLORA_DEFAULTS) <= set(vars(args))
    with pytest.raises(SystemExit):
        parse_args(["--model_id", "m", "--packing", "maybe"])
    with pytest.raises(SystemExit):
        parse_args(["--model_id", "m", "--lora_dropout", "1.5"])


def test_every_prepared_format_becomes_chat_messages() -> None:
    assert to_messages({"prompt": "Q", "completion": "A"}) == [
        {"role": "user", "content": "Q"},
        {"role": "assistant", "content": "A"},
    ]
    converse = {
        "schemaVersion": "bedrock-conversation-2024",
        "system": [{"text": "You translate questions to SQL."}],
        "messages": [
            {"role": "user", "content": [{"text": "How many users?"}]},
            {"role": "assistant", "content": [{"text": "SELECT COUNT(*) FROM users"}]},
        ],
    }
    assert to_messages(converse) == [
        {"role": "system", "content": "You translate questions to SQL."},
        {"role": "user", "content": "How many users?"},
        {"role": "assistant", "content": "SELECT COUNT(*) FROM users"},
    ]
    chat = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}
    assert to_messages(chat)[1] == {"role": "assistant", "content": "yo"}
    for bad in ({"text": "x"}, {"messages": [{"role": "user", "content": "unanswered"}]}):
        with pytest.raises(ValueError):
            to_messages(bad)


def test_records_load_from_the_channel_with_bad_lines_named(tmp_path: Path) -> None:
    (tmp_path / "train.jsonl").write_text(
        json.dumps({"prompt": "Q", "completion": "A"}) + "\n\n" + json.dumps({"x": 1}) + "\n"
    )
    with pytest.raises(ValueError, match=r"train\.jsonl line 3"):
        load_records(tmp_path)
    (tmp_path / "train.jsonl").write_text(json.dumps({"prompt": "Q", "completion": "A"}) + "\n")
    assert len(load_records(tmp_path)) == 1
    with pytest.raises(ValueError, match=r"no \.jsonl"):
        load_records(tmp_path / "empty")


def test_the_script_archive_is_reproducible() -> None:
    first, second = script_archive(), script_archive()
    assert first == second
    with tarfile.open(fileobj=io.BytesIO(first), mode="r:gz") as archive:
        assert archive.getnames() == ["train_qlora.py", "requirements.txt"]
        script = archive.extractfile("train_qlora.py")
        assert script is not None and b"merge_and_unload" in script.read()


@pytest.fixture
def east(aws_keys: None) -> Iterator[AwsContext]:
    with mock_aws():
        yield AwsContext.from_environment(region="us-east-1")


def test_the_execution_role_is_least_privilege(east: AwsContext) -> None:
    policy = execution_policy("b", "bedrock-tune", "us-east-1", "123456789012")
    resources = [r for s in policy["Statement"] for r in s["Resource"]]
    assert "*" not in resources
    assert "arn:aws:s3:::b/bedrock-tune/*/data/*" in resources
    assert any("log-group:/aws/sagemaker/TrainingJobs" in r for r in resources)
    assert any("log-group:/aws/sagemaker/Endpoints/*" in r for r in resources)
    trust = trust_policy("123456789012", "us-east-1", "sagemaker")
    statement = trust["Statement"][0]
    assert statement["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    assert trust_problem(trust, "123456789012", "us-east-1", "sagemaker") is None
    bedrock = trust_policy("123456789012", "us-east-1")
    assert "sagemaker.amazonaws.com" in (
        trust_problem(bedrock, "123456789012", "us-east-1", "sagemaker") or ""
    )
    registry = Registry()
    shown = plan(east, "123456789012", "us-east-1", purpose="sagemaker", preflight_check=False)
    assert shown.role.name == "bedrock-tune-sagemaker-us-east-1"
    done = apply(east, shown, registry, None)
    checked = verify(
        east,
        "123456789012",
        "us-east-1",
        bucket=done.bucket,
        role=done.role_name,
        purpose="sagemaker",
    )
    assert checked.ok, checked.failures()
