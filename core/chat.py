"""Talking to a model with the Converse API: one answer, or a stream of tokens.

Streaming keeps what arrived when the stream is cut (marked as cut), and `ModelNotReadyException`
(a model copy being loaded) is retried with backoff by botocore's standard retries plus our own
short loop with an injected sleep.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.aws import AwsContext
from core.catalog import BaseModel
from core.errors import BedrockTuneError, aws_call, error_code


@dataclass(frozen=True)
class Settings:
    """Inference settings."""

    max_tokens: int = 512
    temperature: float = 0.7
    top_p: float = 0.9

    def to_api(self) -> dict[str, Any]:
        """The `inferenceConfig` of a Converse request."""
        return {"maxTokens": self.max_tokens, "temperature": self.temperature, "topP": self.top_p}


@dataclass(frozen=True)
class Answer:
    """One model answer."""

    text: str
    input_tokens: int | None
    output_tokens: int | None
    latency_ms: int | None
    stop_reason: str
    cut: bool = False
    """The stream broke before the end; `text` is what arrived."""


@dataclass(frozen=True)
class Turn:
    """One message of the conversation."""

    role: str
    text: str


@dataclass
class StreamState:
    """What a stream produced so far (kept when it is cut)."""

    parts: list[str] = field(default_factory=list)


def base_inference_id(model: BaseModel) -> str:
    """The id to chat with the *base* model: never the customization id (Converse answers
    `Model not found` for it)."""
    return model.inference_id


def request(
    model_id: str, system: str, turns: Sequence[Turn], settings: Settings
) -> dict[str, Any]:
    """The Converse request body."""
    body: dict[str, Any] = {
        "modelId": model_id,
        "messages": [{"role": t.role, "content": [{"text": t.text}]} for t in turns],
        "inferenceConfig": settings.to_api(),
    }
    if system:
        body["system"] = [{"text": system}]
    return body


def _with_retries(call: Callable[[], Any], sleep: Callable[[float], None], tries: int) -> Any:
    delay = 2.0
    for attempt in range(tries):
        try:
            return call()
        except BedrockTuneError as error:
            if error_code(error) != "ModelNotReadyException" or attempt == tries - 1:
                raise
            sleep(delay)
            delay = min(delay * 2, 60.0)
    raise AssertionError("unreachable")


def converse(
    context: AwsContext,
    model_id: str,
    system: str,
    turns: Sequence[Turn],
    settings: Settings = Settings(),
    *,
    sleep: Callable[[float], None] = time.sleep,
    tries: int = 6,
) -> Answer:
    """One answer from `model_id` (a base inference id, a provisioned throughput ARN or a
    deployment ARN)."""
    body = request(model_id, system, turns, settings)
    client = context.client("bedrock-runtime")

    def call() -> Any:
        with aws_call(f"asking {model_id.rsplit('/', 1)[-1]}"):
            return client.converse(**body)

    response = _with_retries(call, sleep, tries)
    blocks = response.get("output", {}).get("message", {}).get("content", [])
    usage = response.get("usage", {})
    return Answer(
        text="".join(str(b.get("text", "")) for b in blocks),
        input_tokens=usage.get("inputTokens"),
        output_tokens=usage.get("outputTokens"),
        latency_ms=response.get("metrics", {}).get("latencyMs"),
        stop_reason=str(response.get("stopReason", "")),
    )


def converse_stream(
    context: AwsContext,
    model_id: str,
    system: str,
    turns: Sequence[Turn],
    settings: Settings = Settings(),
    *,
    state: StreamState | None = None,
) -> Iterator[str | Answer]:
    """Yield text pieces as they come, then the final `Answer` (marked `cut` when the stream
    broke: what arrived is kept)."""
    body = request(model_id, system, turns, settings)
    state = state or StreamState()
    started = time.perf_counter()
    usage: dict[str, Any] = {}
    stop_reason = ""
    with aws_call(f"asking {model_id.rsplit('/', 1)[-1]}"):
        response = context.client("bedrock-runtime").converse_stream(**body)
    try:
        for item in response["stream"]:
            if "contentBlockDelta" in item:
                text = item["contentBlockDelta"]["delta"].get("text", "")
                if text:
                    state.parts.append(text)
                    yield text
            elif "messageStop" in item:
                stop_reason = str(item["messageStop"].get("stopReason", ""))
            elif "metadata" in item:
                usage = item["metadata"].get("usage", {})
    except Exception:  # a cut stream: keep what arrived and say so
        yield Answer("".join(state.parts), None, None, None, "cut", cut=True)
        return
    yield Answer(
        "".join(state.parts),
        usage.get("inputTokens"),
        usage.get("outputTokens"),
        int((time.perf_counter() - started) * 1000),
        stop_reason,
    )
