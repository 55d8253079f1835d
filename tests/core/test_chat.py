"""Chat: Converse and ConverseStream against the sandbox, the base-model id mapping, retries of
ModelNotReadyException, and a cut stream keeping its partial answer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

from core.aws import AwsContext
from core.catalog.lookup import builtin_models, find_model
from core.catalog.types import CustomizationType
from core.errors import AccessDeniedError, NotFoundError, ValidationError
from core.sandbox.server import Sandbox
from core.serving.chat import (
    Answer,
    Settings,
    StreamState,
    Turn,
    base_inference_id,
    converse,
    converse_stream,
    folds_system,
)
from tests.fakes import context_for


@pytest.fixture(scope="module")
def context() -> Iterator[AwsContext]:
    with Sandbox() as sandbox:
        yield context_for(sandbox)


def test_base_inference_never_uses_the_customization_id() -> None:
    for model in builtin_models():
        assert base_inference_id(model) != model.id
        assert not base_inference_id(model).endswith(("k", "0:128k"))


def test_converse_and_stream_in_the_sandbox(context: AwsContext) -> None:
    nova = find_model("amazon.nova-micro-v1:0:128k")
    answer = converse(context, base_inference_id(nova), "Be brief.", [Turn("user", "hello")])
    assert answer.text.startswith("[sandbox: base model us.amazon.nova-micro-v1:0]")
    assert answer.output_tokens and answer.stop_reason == "end_turn"
    pieces = list(converse_stream(context, base_inference_id(nova), "", [Turn("user", "hi")]))
    final = pieces[-1]
    assert isinstance(final, Answer) and not final.cut
    assert "".join(p for p in pieces if isinstance(p, str)) == final.text == answer.text
    assert len(pieces) > 3  # it really streamed, piece by piece


def test_an_unknown_model_is_bedrocks_error_with_what_to_ask_instead(
    context: AwsContext,
) -> None:
    with pytest.raises(ValidationError) as caught:
        converse(context, "no.such-model-v1:0", "", [Turn("user", "hi")])
    assert caught.value.title == "Unknown model"
    assert "model identifier is invalid" in caught.value.message
    assert "inference id" in caught.value.hint and "us-east-1" in caught.value.hint
    with pytest.raises(ValidationError) as streamed:
        list(converse_stream(context, "no.such-model-v1:0", "", [Turn("user", "hi")]))
    assert streamed.value.title == "Unknown model"
    # The customization id is a model Bedrock knows, but not one to ask: say which one is.
    with pytest.raises(NotFoundError) as trained:
        converse(context, "amazon.nova-micro-v1:0:128k", "", [Turn("user", "hi")])
    assert trained.value.title == "Unknown model"
    assert "us.amazon.nova-micro-v1:0" in trained.value.hint


def test_model_not_ready_is_retried_with_backoff(aws_keys: None) -> None:
    context = AwsContext.from_environment(region="us-east-1")
    client = context.client("bedrock-runtime")
    slept: list[float] = []
    ok: dict[str, Any] = {
        "output": {"message": {"role": "assistant", "content": [{"text": "ready"}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
        "metrics": {"latencyMs": 5},
    }
    with Stubber(client) as stub:
        for _ in range(2):
            stub.add_client_error("converse", "ModelNotReadyException", "loading", 429)
        stub.add_response("converse", ok)
        answer = converse(
            context,
            "arn:aws:bedrock:us-east-1:1:provisioned-model/x",
            "",
            [Turn("user", "q")],
            Settings(max_tokens=10),
            sleep=slept.append,
        )
    assert answer.text == "ready"
    assert slept == [2.0, 4.0]


def test_a_cut_stream_keeps_what_arrived(monkeypatch: pytest.MonkeyPatch, aws_keys: None) -> None:
    context = AwsContext.from_environment(region="us-east-1")

    def broken_stream() -> Iterator[dict[str, Any]]:
        yield {"contentBlockDelta": {"delta": {"text": "partial "}, "contentBlockIndex": 0}}
        yield {"contentBlockDelta": {"delta": {"text": "answer"}, "contentBlockIndex": 0}}
        raise ConnectionResetError("cut")

    client = context.client("bedrock-runtime")
    monkeypatch.setattr(client, "converse_stream", lambda **_: {"stream": broken_stream()})
    state = StreamState()
    pieces = list(converse_stream(context, "m", "", [Turn("user", "q")], state=state))
    final = pieces[-1]
    assert isinstance(final, Answer) and final.cut
    assert final.text == "partial answer"


FAMILIES = [
    # (base model, the serving ARN chat uses, whether the system prompt is folded in)
    ("amazon.nova-micro-v1:0:128k", "arn:aws:bedrock:us-east-1:1:custom-model-deployment/n", False),
    (
        "anthropic.claude-3-haiku-20240307-v1:0:200k",
        "arn:aws:bedrock:us-west-2:1:provisioned-model/c",
        False,
    ),
    (
        "meta.llama3-3-70b-instruct-v1:0:128k",
        "arn:aws:bedrock:us-west-2:1:provisioned-model/l3",
        False,
    ),
    (
        "meta.llama3-1-8b-instruct-v1:0:128k",
        "arn:aws:bedrock:us-west-2:1:provisioned-model/l",
        True,
    ),
    ("amazon.titan-text-lite-v1:0:4k", "arn:aws:bedrock:us-east-1:1:provisioned-model/t", True),
    (
        "cohere.command-light-text-v14:7:4k",
        "arn:aws:bedrock:us-east-1:1:provisioned-model/co",
        True,
    ),
]


@pytest.mark.parametrize(("base", "arn", "folded"), FAMILIES)
def test_converse_request_shape_per_family(
    base: str, arn: str, folded: bool, aws_keys: None
) -> None:
    model = find_model(base)
    customization = model.customization(CustomizationType.FINE_TUNING)
    assert customization is not None
    fold = folds_system(customization.data_format)
    assert fold is folded
    context = AwsContext.from_environment(region="us-east-1")
    client = context.client("bedrock-runtime")
    turns = [
        Turn("user", "Summarize: A met B."),
        Turn("assistant", "They met."),
        Turn("user", "Again?"),
    ]
    if folded:  # as prompt/completion training saw it: system, a blank line, then the prompt
        expected_messages = [
            {"role": "user", "content": [{"text": "Be brief.\n\nSummarize: A met B."}]},
            {"role": "assistant", "content": [{"text": "They met."}]},
            {"role": "user", "content": [{"text": "Again?"}]},
        ]
        system: dict[str, Any] = {}
    else:
        expected_messages = [{"role": t.role, "content": [{"text": t.text}]} for t in turns]
        system = {"system": [{"text": "Be brief."}]}
    response = {
        "output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 3, "outputTokens": 1, "totalTokens": 4},
        "metrics": {"latencyMs": 7},
    }
    expected = {
        "modelId": arn,
        "messages": expected_messages,
        "inferenceConfig": {"maxTokens": 64, "temperature": 0.2, "topP": 0.5},
        **system,
    }
    # The Stubber checks the request against the real Converse model and our expected shape.
    with Stubber(client) as stub:
        stub.add_response("converse", response, expected)
        answer = converse(
            context, arn, "Be brief.", turns, Settings(64, 0.2, 0.5), fold_system=fold
        )
        stub.assert_no_pending_responses()
    assert answer.text == "ok" and answer.latency_ms == 7
    assert base_inference_id(model) != model.id  # the base is asked by its own id


def test_access_denied_on_the_base_model_explains_model_access(aws_keys: None) -> None:
    context = AwsContext.from_environment(region="us-east-1")
    client = context.client("bedrock-runtime")
    with Stubber(client) as stub:
        stub.add_client_error(
            "converse",
            "AccessDeniedException",
            "You don't have access to the model with the specified model ID.",
            403,
        )
        with pytest.raises(AccessDeniedError) as caught:
            converse(context, "us.amazon.nova-micro-v1:0", "", [Turn("user", "q")])
    assert caught.value.title == "No access to this base model"
    assert "Model access" in caught.value.hint and "us-east-1" in caught.value.hint
    assert "specified model ID" in caught.value.message
