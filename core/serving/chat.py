"""Talking to a model with the Converse API: one answer, or a stream of tokens.

Streaming keeps what arrived when the stream is cut (marked as cut), and `ModelNotReadyException`
(a model copy being loaded) is retried with backoff by botocore's standard retries plus our own
short loop with an injected sleep.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from core.aws import AwsContext
from core.catalog.types import BaseModel, DataFormat
from core.errors import (
    AccessDeniedError,
    BedrockTuneError,
    NotFoundError,
    ValidationError,
    aws_call,
    error_code,
)

if TYPE_CHECKING:
    from types_boto3_bedrock_runtime.type_defs import ConverseResponseTypeDef, TokenUsageTypeDef

_T = TypeVar("_T")


@dataclass(frozen=True)
class Settings:
    """Inference settings."""

    max_tokens: int = 512
    temperature: float = 0.7
    top_p: float = 0.9

    def problems(self) -> list[str]:
        """Every setting Converse would refuse. The ranges are those of botocore's
        bedrock-runtime model, `InferenceConfiguration`: maxTokens at least 1, temperature and
        topP from 0 to 1; and a number must be finite (NaN compares false with both bounds)."""
        found = []
        if isinstance(self.max_tokens, bool) or not isinstance(self.max_tokens, int):
            found.append(f"max tokens must be a whole number, not {self.max_tokens!r}")
        elif self.max_tokens < 1:
            found.append(f"max tokens must be 1 or more, not {self.max_tokens}")
        for name, value in (("temperature", self.temperature), ("top p", self.top_p)):
            if not (isinstance(value, int | float) and math.isfinite(value) and 0 <= value <= 1):
                found.append(f"{name} must be a number from 0 to 1, not {value}")
        return found

    def check(self) -> None:
        """Raise ValidationError when Converse would refuse these settings (no call is made)."""
        problems = self.problems()
        if problems:
            raise ValidationError(
                "Invalid inference settings: " + "; ".join(problems) + ".",
                hint="For example max tokens 512, temperature 0.7 and top p 0.9.",
            )

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


def folds_system(data_format: DataFormat | None) -> bool:
    """Whether a model trained on `data_format` saw its system prompt inside the prompt.

    Prompt/completion and continued pre-training records have no system field: bedrock-tune's
    templates put the system prompt in front of the prompt (`system + "\n\n" + user`), so the
    model is asked the same way. Messages formats keep it in Converse's `system`.
    """
    return data_format in (DataFormat.PROMPT_COMPLETION, DataFormat.CONTINUED_PRETRAINING)


def request(
    model_id: str,
    system: str,
    turns: Sequence[Turn],
    settings: Settings,
    *,
    fold_system: bool = False,
) -> dict[str, Any]:
    """The Converse request body (`fold_system`: the system prompt goes in front of the first
    user message, as prompt/completion training saw it, instead of into `system`).

    Raises:
        ValidationError: settings out of range, or an empty user message (Converse refuses a
            blank text block); nothing is sent.
    """
    settings.check()
    for number, turn in enumerate(turns, 1):
        if turn.role == "user" and not turn.text.strip():
            raise ValidationError(
                f"Message {number} of the conversation is empty.",
                title="Empty prompt",
                hint="Type a question (a prompt with some text) before sending it.",
            )
    messages = [{"role": t.role, "content": [{"text": t.text}]} for t in turns]
    if system and fold_system and messages and messages[0]["role"] == "user":
        first = turns[0].text
        messages[0] = {"role": "user", "content": [{"text": f"{system}\n\n{first}"}]}
    body: dict[str, Any] = {
        "modelId": model_id,
        "messages": messages,
        "inferenceConfig": settings.to_api(),
    }
    if system and not fold_system:
        body["system"] = [{"text": system}]
    return body


def unknown_model_hint(model_id: str, region: str) -> str:
    """What to do when Bedrock does not know `model_id` as a model to ask."""
    from core.catalog.lookup import builtin_models

    trained = next((m for m in builtin_models() if m.id == model_id), None)
    if trained is not None:
        return (
            f"{model_id} is the id to customize {trained.name} with, not to ask it: use its "
            f"inference id {trained.inference_id} for the base model, or the provisioned "
            "throughput or deployment ARN of your custom model."
        )
    return (
        f"Bedrock has no model '{model_id}' to answer in {region}. Ask the ARN of a "
        "provisioned throughput or deployment (the deploy step and `bedrock-tune teardown "
        "--list` show yours), or a base model's inference id such as us.amazon.nova-micro-v1:0 "
        "(`bedrock-tune models --json` gives each model's `inference_id`); check the region too."
    )


def _is_unknown_model(error: BedrockTuneError) -> bool:
    """Bedrock's answers for a model id it cannot resolve: ValidationException "The provided
    model identifier is invalid.", ResourceNotFoundException "Could not resolve the foundation
    model from the provided model identifier." or "Model not found." (a customization id)."""
    message = error.message.lower()
    if isinstance(error, ValidationError):
        return "model identifier is invalid" in message
    return isinstance(error, NotFoundError) and (
        "model identifier" in message or "model not found" in message
    )


@contextmanager
def _asking(context: AwsContext, model_id: str) -> Iterator[None]:
    """Translate errors of a Converse call; a denied *base* model is explained as model access
    (the usual cause: the account has not been granted that model in this region), a model id
    Bedrock does not know with what to ask instead."""
    try:
        with aws_call(f"asking {model_id.rsplit('/', 1)[-1]}"):
            yield
    except (ValidationError, NotFoundError) as error:
        if not _is_unknown_model(error):
            raise
        error.title = "Unknown model"
        error.hint = unknown_model_hint(model_id, context.region)
        raise
    except AccessDeniedError as error:
        if model_id.startswith("arn:"):
            raise
        raise AccessDeniedError(
            error.message,
            title="No access to this base model",
            hint=f"Your account may not have access to {model_id} in {context.region}: open the "
            "Bedrock console, Model access, and request it (for an inference profile such as "
            "us.*, access is needed in every region it routes to). If access is granted, your "
            "identity needs bedrock:InvokeModel and bedrock:InvokeModelWithResponseStream.",
        ) from error


COLD = "ModelNotReadyException"
"""What Bedrock answers while an imported model's copy is loading (a cold start)."""

OnCold = Callable[[int], None]
"""Told, with the number of cold answers so far, each time the model answered that its copy is
still loading (the call is being retried): the chat shows it as "warming up"."""


class _ColdStarts:
    """Counts the cold answers of one model over every attempt of one call (botocore's retries
    and ours) and tells `on_cold` each time."""

    def __init__(self, model_id: str, on_cold: OnCold | None) -> None:
        self.model_id = model_id
        self.on_cold = on_cold
        self.seen = 0

    @contextmanager
    def watching(self, client: Any) -> Iterator[None]:
        """Count cold answers of the model while the block runs: botocore emits `needs-retry`
        for every answer, whether it then retries (it retries ModelNotReadyException without
        telling anyone) or not. The client is shared: other models' calls are not counted."""
        if self.on_cold is None:
            yield
            return
        quoted = quote(self.model_id, safe="")

        def answered(response: Any = None, request_dict: Any = None, **_: Any) -> None:
            url = str(request_dict.get("url_path", "")) if isinstance(request_dict, dict) else ""
            parsed = response[1] if isinstance(response, tuple) and len(response) == 2 else None
            ours = quoted in url or self.model_id in url
            if ours and isinstance(parsed, dict) and parsed.get("Error", {}).get("Code") == COLD:
                self.seen += 1
                if self.on_cold is not None:
                    self.on_cold(self.seen)
            # None: botocore's retry handler, next in line, decides whether to retry.

        event = "needs-retry.bedrock-runtime"
        unique = f"bedrock-tune-cold-start-{id(answered)}"
        client.meta.events.register_first(event, answered, unique_id=unique)
        try:
            yield
        finally:
            client.meta.events.unregister(event, unique_id=unique)


def _with_retries(call: Callable[[], _T], sleep: Callable[[float], None], tries: int) -> _T:
    delay = 2.0
    for attempt in range(tries):
        try:
            return call()
        except BedrockTuneError as error:
            if error_code(error) != COLD or attempt == tries - 1:
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
    fold_system: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    tries: int = 6,
) -> Answer:
    """One answer from `model_id` (a base inference id, a provisioned throughput ARN or a
    deployment ARN)."""
    body = request(model_id, system, turns, settings, fold_system=fold_system)
    client = context.client("bedrock-runtime")

    def call() -> ConverseResponseTypeDef:
        with _asking(context, model_id):
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


def invoke_openai_chat(
    context: AwsContext,
    model_id: str,
    system: str,
    turns: Sequence[Turn],
    settings: Settings = Settings(),
    *,
    sleep: Callable[[float], None] = time.sleep,
    tries: int = 6,
    on_cold: OnCold | None = None,
) -> Answer:
    """One answer from an imported model that answers InvokeModel only (Qwen, GPT-OSS), with
    the OpenAI chat body imported models take (reference §6.4: `messages`; the model's chat
    template must be in its tokenizer_config.json). A cold copy is retried like Converse."""
    messages = [{"role": "system", "content": system}] if system else []
    messages += [{"role": t.role, "content": t.text} for t in turns]
    body = {
        "messages": messages,
        "max_tokens": settings.max_tokens,
        "temperature": settings.temperature,
        "top_p": settings.top_p,
    }
    client = context.client("bedrock-runtime")
    started = time.perf_counter()

    cold = _ColdStarts(model_id, on_cold)

    def call() -> Any:
        with _asking(context, model_id), cold.watching(client):
            return client.invoke_model(modelId=model_id, body=json.dumps(body))

    response = _with_retries(call, sleep, tries)
    data = json.loads(response["body"].read())
    choice = (data.get("choices") or [{}])[0]
    usage = data.get("usage") or {}
    return Answer(
        text=str((choice.get("message") or {}).get("content", "")),
        input_tokens=usage.get("prompt_tokens"),
        output_tokens=usage.get("completion_tokens"),
        latency_ms=int((time.perf_counter() - started) * 1000),
        stop_reason=str(choice.get("finish_reason", "")),
    )


def converse_stream(
    context: AwsContext,
    model_id: str,
    system: str,
    turns: Sequence[Turn],
    settings: Settings = Settings(),
    *,
    fold_system: bool = False,
    state: StreamState | None = None,
    on_cold: OnCold | None = None,
    sleep: Callable[[float], None] = time.sleep,
    tries: int = 6,
) -> Iterator[str | Answer]:
    """Yield text pieces as they come, then the final `Answer` (marked `cut` when the stream
    broke: what arrived is kept). A model still cold (an imported model's copy loading) is
    retried, and `on_cold` told each time."""
    body = request(model_id, system, turns, settings, fold_system=fold_system)
    state = state or StreamState()
    started = time.perf_counter()
    usage: TokenUsageTypeDef | None = None
    stop_reason = ""
    client = context.client("bedrock-runtime")
    cold = _ColdStarts(model_id, on_cold)

    def call() -> Any:
        with _asking(context, model_id), cold.watching(client):
            return client.converse_stream(**body)

    response = _with_retries(call, sleep, tries)
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
                usage = item["metadata"].get("usage")
    except Exception:  # a cut stream: keep what arrived and say so
        yield Answer("".join(state.parts), None, None, None, "cut", cut=True)
        return
    yield Answer(
        "".join(state.parts),
        usage.get("inputTokens") if usage else None,
        usage.get("outputTokens") if usage else None,
        int((time.perf_counter() - started) * 1000),
        stop_reason,
    )
