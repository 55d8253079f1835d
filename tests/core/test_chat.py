"""Chat: Converse and ConverseStream against the sandbox, the base-model id mapping, retries of
ModelNotReadyException, and a cut stream keeping its partial answer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

from core.aws import AwsContext
from core.catalog import builtin_models, find_model
from core.chat import (
    Answer,
    Settings,
    StreamState,
    Turn,
    base_inference_id,
    converse,
    converse_stream,
)
from core.sandbox import Sandbox


@pytest.fixture(scope="module")
def context() -> Iterator[AwsContext]:
    with Sandbox() as sandbox:
        yield AwsContext.for_endpoint(sandbox.endpoint_url, sandbox.credentials, "us-east-1")


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
