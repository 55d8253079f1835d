"""The SageMaker Public Hub read with boto3 alone (the sandbox's entries), and the JumpStart
CreateTrainingJob built from a model's spec: the EULA accepted explicitly, the hyperparameters
checked against the spec, the instance among those the model trains on."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from core.aws import AwsContext
from core.errors import NotFoundError, ValidationError
from core.sagemaker.hub import (
    describe_hub_model,
    fine_tunable_text_models,
    importable_base_models,
    iter_hub_models,
)
from core.sagemaker.jumpstart import JumpStartRequest, check_jumpstart_request
from core.sandbox.server import Sandbox
from tests.api_model import assert_valid

ROLE = "arn:aws:iam::123456789012:role/bedrock-tune-sagemaker-us-east-1"
LLAMA = "meta-textgeneration-llama-2-7b"


def request(context: AwsContext, **changes: object) -> JumpStartRequest:
    made = JumpStartRequest(
        job_name="bt-llama2-dolly",
        role_arn=ROLE,
        spec=describe_hub_model(context, LLAMA),
        training_uri="s3://bt/bedrock-tune/r1/data/",
        output_uri="s3://bt/bedrock-tune/r1/output/",
        instance_type="ml.g5.12xlarge",
        accept_eula=True,
        hyperparameters={"epoch": "1", "instruction_tuned": "True"},
    )
    return replace(made, **changes)  # type: ignore[arg-type]


def test_the_hub_lists_only_fine_tunable_text_models(sandbox_context: AwsContext) -> None:
    every = [m.model_id for m in iter_hub_models(sandbox_context)]
    assert "huggingface-sentencesimilarity-all-minilm-l6-v2" in every
    tunable = [m.model_id for m in fine_tunable_text_models(sandbox_context)]
    assert LLAMA in tunable and "meta-textgeneration-llama-3-8b" in tunable
    assert "huggingface-sentencesimilarity-all-minilm-l6-v2" not in tunable
    families = {m.model_id: m.import_family for m in importable_base_models(sandbox_context)}
    assert families["meta-textgeneration-llama-3-8b"] == "Llama"
    assert families["huggingface-llm-mistral-7b"] == "Mistral"
    assert "huggingface-llm-falcon-7b-instruct-bf16" not in families  # Import cannot serve it


def test_listing_follows_the_next_token(clock: object) -> None:
    with Sandbox(list_page_size=1) as sandbox:
        from tests.fakes import context_for

        context = context_for(sandbox)
        client = context.client("sagemaker")
        first = client.list_hub_contents(
            HubName="SageMakerPublicHub", HubContentType="Model", MaxResults=2
        )
        assert len(first["HubContentSummaries"]) == 2 and first["NextToken"]
        assert len(list(iter_hub_models(context))) == 5


def test_a_model_spec_has_what_a_training_job_needs(sandbox_context: AwsContext) -> None:
    spec = describe_hub_model(sandbox_context, LLAMA)
    assert spec.training_supported and spec.needs_eula and spec.eula_uri
    assert spec.training_image and spec.training_script and spec.training_artifact
    assert spec.default_instance == "ml.g5.12xlarge" and "ml.g5.48xlarge" in spec.instance_types
    assert spec.defaults()["epoch"] == "5"
    with pytest.raises(NotFoundError) as caught:
        describe_hub_model(sandbox_context, "meta-textgeneration-llama-9-1b")
    assert "jumpstart models" in caught.value.describe()


def test_the_request_is_valid_for_botocore_and_accepts_the_eula(
    sandbox_context: AwsContext,
) -> None:
    made = request(sandbox_context)
    check_jumpstart_request(made)
    api = made.to_api()
    assert_valid("sagemaker", "CreateTrainingJob", api)
    channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"] for c in api["InputDataConfig"]}
    assert channels["model"]["ModelAccessConfig"] == {"AcceptEula": True}
    assert channels["model"]["S3Uri"] == made.spec.training_artifact
    hyperparameters = api["HyperParameters"]
    assert hyperparameters["epoch"] == "1" and hyperparameters["lora_r"] == "8"  # default kept
    assert json.loads(hyperparameters["sagemaker_submit_directory"]) == made.spec.training_script
    assert api["AlgorithmSpecification"]["TrainingImage"] == made.spec.training_image


def test_the_eula_must_be_accepted_explicitly(sandbox_context: AwsContext) -> None:
    with pytest.raises(ValidationError) as caught:
        check_jumpstart_request(request(sandbox_context, accept_eula=False))
    text = caught.value.describe()
    assert "end-user licence agreement" in text and "--accept-eula" in text
    assert "llamaEula.txt" in text  # where to read it


def test_hyperparameters_and_instance_are_checked_against_the_spec(
    sandbox_context: AwsContext,
) -> None:
    with pytest.raises(ValidationError) as caught:
        check_jumpstart_request(
            request(
                sandbox_context,
                instance_type="ml.m5.large",
                hyperparameters={
                    "epoch": "0",
                    "instruction_tuned": "yes",
                    "lora_dropout": "x",
                    "epochs": "2",
                },
            )
        )
    text = caught.value.describe()
    assert "does not train on ml.m5.large" in text
    assert "epoch=0 is out of range: 1 to 1000" in text
    assert "instruction_tuned='yes': one of True, False" in text
    assert "lora_dropout='x' is not a number" in text
    assert "'epochs' is not a hyperparameter" in text
