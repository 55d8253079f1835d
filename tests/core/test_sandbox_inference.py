"""Provisioned throughput, deployments and Converse in the sandbox, over HTTP."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from core.aws import AwsContext
from tests.fakes import Clock, train_model

if TYPE_CHECKING:
    from types_boto3_bedrock_runtime.type_defs import ConverseResponseTypeDef, MessageTypeDef

NOVA = "amazon.nova-micro-v1:0:128k"
RECORDS = [
    ("How do I reset my password?", "Open Settings, then Security, then Reset password."),
    ("Where is my invoice?", "Invoices are under Billing, in the Documents tab."),
]


def trained_model(context: AwsContext, clock: Clock) -> str:
    """A model trained on RECORDS: the sandbox answers with the closest record's answer."""
    lines = [
        {
            "schemaVersion": "bedrock-conversation-2024",
            "messages": [
                {"role": "user", "content": [{"text": q}]},
                {"role": "assistant", "content": [{"text": a}]},
            ],
        }
        for q, a in RECORDS
    ]
    body = "".join(json.dumps(r) + "\n" for r in lines).encode()
    return train_model(context, clock, "inf", NOVA, bucket="bt-inference", body=body).model_arn


def ask(context: AwsContext, model_id: str, text: str) -> ConverseResponseTypeDef:
    response = context.client("bedrock-runtime").converse(
        modelId=model_id,
        messages=[{"role": "user", "content": [{"text": text}]}],
        inferenceConfig={"maxTokens": 200},
    )
    return response


def test_provisioned_throughput_then_chat(sandbox_context: AwsContext, clock: Clock) -> None:
    model = trained_model(sandbox_context, clock)
    bedrock = sandbox_context.client("bedrock")
    pt = bedrock.create_provisioned_model_throughput(
        modelUnits=1, provisionedModelName="inf-pt", modelId=model
    )["provisionedModelArn"]
    assert bedrock.get_provisioned_model_throughput(provisionedModelId=pt)["status"] == "Creating"
    # Asked once: the app's clients retry this error with back-off (seconds of real sleep).
    once = sandbox_context.session().client(
        "bedrock-runtime",
        endpoint_url=sandbox_context.endpoint_url,
        config=Config(retries={"mode": "standard", "max_attempts": 1}),
    )
    with pytest.raises(ClientError) as early:
        once.converse(modelId=pt, messages=[{"role": "user", "content": [{"text": "reset"}]}])
    assert early.value.response["Error"]["Code"] == "ModelNotReadyException"
    clock.t += 31
    assert bedrock.get_provisioned_model_throughput(provisionedModelId=pt)["status"] == "InService"
    answer = ask(sandbox_context, pt, "I forgot my password, how can I reset it?")
    text = answer["output"]["message"]["content"][0]["text"]
    assert "most similar training record" in text
    assert "Reset password" in text
    assert answer["usage"]["totalTokens"] > 0 and answer["stopReason"] == "end_turn"
    bedrock.delete_provisioned_model_throughput(provisionedModelId=pt)
    assert bedrock.list_provisioned_model_throughputs()["provisionedModelSummaries"] == []


def test_a_throughput_names_its_models_by_arn(sandbox_context: AwsContext, clock: Clock) -> None:
    model = trained_model(sandbox_context, clock)
    bedrock = sandbox_context.client("bedrock")
    pt = bedrock.create_provisioned_model_throughput(
        modelUnits=1, provisionedModelName="by-name", modelId="inf-model"
    )["provisionedModelArn"]
    got = bedrock.get_provisioned_model_throughput(provisionedModelId=pt)
    # Asked by name, answered by ARN; the foundation model is the base the model was tuned from.
    assert got["modelArn"] == got["desiredModelArn"] == model
    assert got["foundationModelArn"] == f"arn:aws:bedrock:us-east-1::foundation-model/{NOVA}"
    pattern = bedrock.meta.service_model.shape_for("FoundationModelArn").metadata["pattern"]
    assert re.fullmatch(pattern, got["foundationModelArn"])
    listed = bedrock.list_provisioned_model_throughputs()["provisionedModelSummaries"]
    assert [s["foundationModelArn"] for s in listed] == [got["foundationModelArn"]]
    with pytest.raises(ClientError) as caught:
        bedrock.create_provisioned_model_throughput(
            modelUnits=1,
            provisionedModelName="nothing",
            modelId="arn:aws:bedrock:us-east-1:123456789012:custom-model/no-such-model",
        )
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_two_no_commitment_throughputs_at_most(sandbox_context: AwsContext, clock: Clock) -> None:
    model = trained_model(sandbox_context, clock)
    bedrock = sandbox_context.client("bedrock")
    for name in ("pt-1", "pt-2"):
        bedrock.create_provisioned_model_throughput(
            modelUnits=1, provisionedModelName=name, modelId=model
        )
    with pytest.raises(ClientError) as caught:
        bedrock.create_provisioned_model_throughput(
            modelUnits=1, provisionedModelName="pt-3", modelId=model
        )
    assert caught.value.response["Error"]["Code"] == "ServiceQuotaExceededException"


def test_deployment_needs_an_active_model(sandbox_context: AwsContext, clock: Clock) -> None:
    model = trained_model(sandbox_context, clock)
    bedrock = sandbox_context.client("bedrock")
    arn = bedrock.create_custom_model_deployment(modelDeploymentName="inf-dep", modelArn=model)[
        "customModelDeploymentArn"
    ]
    assert bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=arn)["status"] == (
        "Creating"
    )
    clock.t += 31
    summaries = bedrock.list_custom_model_deployments()["modelDeploymentSummaries"]
    assert [s["status"] for s in summaries] == ["Active"]
    answer = ask(sandbox_context, arn, "where can I find the invoice")
    assert "Invoices" in answer["output"]["message"]["content"][0]["text"]
    with pytest.raises(ClientError) as caught:
        bedrock.create_custom_model_deployment(
            modelDeploymentName="x",
            modelArn="arn:aws:bedrock:us-east-1:123456789012:custom-model/nope",
        )
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_base_models_and_the_customization_id(sandbox_context: AwsContext) -> None:
    answer = ask(sandbox_context, "us.amazon.nova-micro-v1:0", "hi")
    text = answer["output"]["message"]["content"][0]["text"]
    assert text.startswith("[sandbox: base model us.amazon.nova-micro-v1:0]")
    with pytest.raises(ClientError) as caught:
        ask(sandbox_context, NOVA, "hi")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert "Model not found" in caught.value.response["Error"]["Message"]


def test_lists_page_like_aws(sandbox_context: AwsContext, clock: Clock) -> None:
    model = trained_model(sandbox_context, clock)
    bedrock = sandbox_context.client("bedrock")
    arns = [
        bedrock.create_custom_model_deployment(modelDeploymentName=f"dep-{n}", modelArn=model)[
            "customModelDeploymentArn"
        ]
        for n in range(3)
    ]
    seen: list[str] = []
    kwargs: dict[str, Any] = {"maxResults": 2}
    pages = 0
    while True:
        page = bedrock.list_custom_model_deployments(**kwargs)
        pages += 1
        seen += [s["customModelDeploymentArn"] for s in page["modelDeploymentSummaries"]]
        if "nextToken" not in page:
            break
        kwargs["nextToken"] = page["nextToken"]
    assert pages == 2
    assert seen == list(reversed(arns))  # newest first, each once
    with pytest.raises(ClientError) as caught:
        bedrock.list_custom_model_deployments(nextToken="not-a-token")
    assert caught.value.response["Error"]["Code"] == "ValidationException"


UNKNOWN = "no.such-model-v1:0"


def test_an_unknown_model_is_refused_as_bedrock_refuses_it(sandbox_context: AwsContext) -> None:
    runtime = sandbox_context.client("bedrock-runtime")
    message: list[MessageTypeDef] = [{"role": "user", "content": [{"text": "hi"}]}]
    calls: dict[str, Callable[[], Any]] = {
        "Converse": lambda: runtime.converse(modelId=UNKNOWN, messages=message),
        "ConverseStream": lambda: runtime.converse_stream(modelId=UNKNOWN, messages=message),
        "InvokeModel": lambda: runtime.invoke_model(
            modelId=UNKNOWN, body=json.dumps({"prompt": "hi"})
        ),
    }
    for operation, call in calls.items():
        with pytest.raises(ClientError) as caught:
            call()
        error = caught.value.response["Error"]
        assert error["Code"] == "ValidationException", operation
        assert error["Message"] == "The provided model identifier is invalid.", operation
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_invoke_model_answers_in_the_familys_shape(
    sandbox_context: AwsContext, clock: Clock
) -> None:
    runtime = sandbox_context.client("bedrock-runtime")

    def invoke(model_id: str, body: dict[str, Any]) -> dict[str, Any]:
        response = runtime.invoke_model(modelId=model_id, body=json.dumps(body))
        answer: dict[str, Any] = json.loads(response["body"].read())
        return answer

    llama = invoke("us.meta.llama3-1-8b-instruct-v1:0", {"prompt": "hi", "max_gen_len": 50})
    assert llama["generation"].startswith("[sandbox: base model us.meta.llama3-1-8b")
    assert llama["stop_reason"] == "stop" and llama["generation_token_count"] > 0
    titan = invoke("amazon.titan-text-express-v1", {"inputText": "hi"})
    assert titan["results"][0]["outputText"].startswith("[sandbox: base model")
    model = trained_model(sandbox_context, clock)
    pt = sandbox_context.client("bedrock").create_provisioned_model_throughput(
        modelUnits=1, provisionedModelName="inv-pt", modelId=model
    )["provisionedModelArn"]
    clock.t += 31
    nova = invoke(
        pt,
        {
            "schemaVersion": "messages-v1",
            "messages": [{"role": "user", "content": [{"text": "where is my invoice?"}]}],
            "inferenceConfig": {"maxTokens": 100},
        },
    )
    assert "Invoices are under Billing" in nova["output"]["message"]["content"][0]["text"]
    assert nova["stopReason"] == "end_turn"
    with pytest.raises(ClientError) as caught:
        runtime.invoke_model(modelId=pt, body=json.dumps({"inputText": "not Nova's shape"}))
    assert caught.value.response["Error"]["Message"].startswith("Malformed input request")


def test_a_repeated_client_request_token_answers_with_the_same_resource(
    sandbox_context: AwsContext, clock: Clock
) -> None:
    """As AWS: "If this token matches a previous request, Amazon Bedrock ignores the request,
    but does not return an error" (both operations' clientRequestToken is an idempotencyToken);
    the same name with another token is a conflict."""
    model = trained_model(sandbox_context, clock)
    bedrock = sandbox_context.client("bedrock")

    def throughput(token: str) -> str:
        return bedrock.create_provisioned_model_throughput(
            modelUnits=1, provisionedModelName="bt-pt", modelId=model, clientRequestToken=token
        )["provisionedModelArn"]

    def deployment(token: str) -> str:
        return bedrock.create_custom_model_deployment(
            modelDeploymentName="bt-dep", modelArn=model, clientRequestToken=token
        )["customModelDeploymentArn"]

    def count() -> tuple[int, int]:
        return (
            len(bedrock.list_provisioned_model_throughputs()["provisionedModelSummaries"]),
            len(bedrock.list_custom_model_deployments()["modelDeploymentSummaries"]),
        )

    for create in (throughput, deployment):
        first = create("token-1")
        assert create("token-1") == first
        with pytest.raises(ClientError) as caught:
            create("token-2")
        assert caught.value.response["Error"]["Code"] == "ConflictException"
    assert count() == (1, 1)
