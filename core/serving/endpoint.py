"""Asking a model on a SageMaker endpoint: InvokeEndpoint (one answer) and
InvokeEndpointWithResponseStream (the answer as it is generated).

The payload is the text generation format of the containers JumpStart and Autopilot serve LLMs
with (Hugging Face TGI / LMI): `{"inputs": PROMPT, "parameters": {...}}` as JSON, answered with
`[{"generated_text": ...}]` (or the same object unwrapped); streamed, `"stream": true` makes the
container send server-sent events, `data:{"token": {"text": ...}}` lines, split across payload
parts anywhere. ⚠ The format is the containers', not in botocore's model nor the reference.

The prompt is built the way the training data was: Autopilot and JumpStart train on prompt /
completion text pairs (an `input` column rendered from the template), so the system prompt goes
in front of the user's message (`core.serving.chat.folds_system`), and earlier turns, if any,
are written into the prompt as `User:` / `Assistant:` lines.

A payload the container refuses comes back as `ModelError` (HTTP 424) with the container's own
status and message: it is explained with the format the endpoint expects and where its log is.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from core.aws import AwsContext
from core.errors import BedrockTuneError, NotFoundError, ValidationError, aws_call, error_code
from core.serving.chat import Answer, Settings, StreamState, Turn

PREFIX = "endpoint:"
"""How a SageMaker endpoint is named where a Bedrock model id is expected (`chat`, `evaluate`)."""
CONTENT_TYPE = "application/json"
DEFAULT_SETTINGS = Settings()
EXAMPLE = '{"inputs": "Summarize: ...", "parameters": {"max_new_tokens": 256}}'


def endpoint_of(model: str) -> str | None:
    """The endpoint name of `endpoint:NAME` (None for anything else)."""
    return model.removeprefix(PREFIX) if model.startswith(PREFIX) else None


def prompt_of(system: str, turns: Sequence[Turn]) -> str:
    """The one text prompt a prompt/completion model is asked with (module docstring)."""
    if not turns:
        raise ValidationError("There is nothing to ask.", hint="Type a question first.")
    last = turns[-1]
    if last.role != "user" or not last.text.strip():
        raise ValidationError(
            "The last message is empty.",
            title="Empty prompt",
            hint="Type a question (a prompt with some text) before sending it.",
        )
    earlier = [
        f"{'User' if t.role == 'user' else 'Assistant'}: {t.text}" for t in turns[:-1] if t.text
    ]
    question = "\n".join([*earlier, f"User: {last.text}", "Assistant:"]) if earlier else last.text
    return f"{system}\n\n{question}" if system else question


def payload(prompt: str, settings: Settings, *, stream: bool = False) -> dict[str, Any]:
    """The request body (module docstring); the settings are checked first."""
    settings.check()
    body: dict[str, Any] = {
        "inputs": prompt,
        "parameters": {
            "max_new_tokens": settings.max_tokens,
            "temperature": max(settings.temperature, 0.01),  # TGI refuses 0
            "top_p": min(max(settings.top_p, 0.01), 0.99),  # and top_p outside (0, 1)
            "do_sample": settings.temperature > 0,
        },
    }
    if stream:
        body["stream"] = True
    return body


def text_of(answer: Any) -> str:
    """The generated text of an answer body in any of the shapes the containers use."""
    if isinstance(answer, list) and answer:
        answer = answer[0]
    if isinstance(answer, dict):
        for key in ("generated_text", "generation"):
            if isinstance(answer.get(key), str):
                return str(answer[key])
        texts = answer.get("generated_texts")
        if isinstance(texts, list) and texts:
            return str(texts[0])
    raise ValidationError(
        f"The endpoint answered in a shape bedrock-tune does not read: {json.dumps(answer)[:200]}",
        title="Unexpected answer",
        hint='bedrock-tune reads [{"generated_text": ...}] (Hugging Face TGI / LMI containers).',
    )


def _model_error(error: BedrockTuneError, name: str) -> BedrockTuneError:
    """A ModelError explained: what the container said, what it expects, where its log is."""
    cause = error.__cause__
    response: dict[str, Any] = getattr(cause, "response", None) or {}
    status = response.get("OriginalStatusCode")
    said = str(response.get("OriginalMessage") or error.message)
    log = response.get("LogStreamArn")
    where = f" Its log: {log}." if log else ""
    code = f" ({status})" if status else ""
    return ValidationError(
        f"The model container behind {name} refused the request{code}: {said}",
        title="Payload refused by the model",
        hint=f"The endpoint expects JSON like {EXAMPLE} (content type {CONTENT_TYPE}), as "
        f"Hugging Face text generation containers take it.{where}",
    )


@contextmanager
def _asking(context: AwsContext, name: str) -> Iterator[None]:
    try:
        with aws_call(f"asking the endpoint {name}"):
            yield
    except BedrockTuneError as error:
        if error_code(error) in ("ModelError", "ModelStreamError"):
            raise _model_error(error, name) from error
        text = error.message.lower()
        if error_code(error) == "ValidationError" and "not found" in text:
            raise NotFoundError(
                f"There is no SageMaker endpoint '{name}' in {context.region}.",
                hint="Check the name and region; `bedrock-tune runs` shows your runs' endpoints, "
                "and `bedrock-tune endpoint deploy` makes one.",
            ) from error
        raise


def invoke_json(context: AwsContext, name: str, body: Any) -> Any:
    """Send `body` as it is (JSON) to the endpoint `name` and return its decoded answer: for a
    container that takes another format than the text generation one."""
    with _asking(context, name):
        response = context.client("sagemaker-runtime").invoke_endpoint(
            EndpointName=name, Body=json.dumps(body), ContentType=CONTENT_TYPE, Accept=CONTENT_TYPE
        )
        raw = response["Body"].read()
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def invoke_endpoint(
    context: AwsContext,
    name: str,
    system: str,
    turns: Sequence[Turn],
    settings: Settings = DEFAULT_SETTINGS,
) -> Answer:
    """One answer from the model on the endpoint `name`."""
    body = payload(prompt_of(system, turns), settings)
    started = time.perf_counter()
    data = invoke_json(context, name, body)
    return Answer(
        text=text_of(data),
        input_tokens=None,
        output_tokens=None,
        latency_ms=int((time.perf_counter() - started) * 1000),
        stop_reason="",
    )


def _events(lines: list[str]) -> Iterator[dict[str, Any]]:
    for line in lines:
        line = line.strip()
        if not line.startswith("data:"):
            continue
        try:
            event = json.loads(line[len("data:") :])
        except ValueError:
            continue
        if isinstance(event, dict):
            yield event


def invoke_endpoint_stream(
    context: AwsContext,
    name: str,
    system: str,
    turns: Sequence[Turn],
    settings: Settings = DEFAULT_SETTINGS,
    *,
    state: StreamState | None = None,
) -> Iterator[str | Answer]:
    """Yield text pieces as the endpoint generates them, then the final `Answer` (marked `cut`
    when the stream broke: what arrived is kept)."""
    body = payload(prompt_of(system, turns), settings, stream=True)
    state = state or StreamState()
    started = time.perf_counter()
    with _asking(context, name):
        response = context.client("sagemaker-runtime").invoke_endpoint_with_response_stream(
            EndpointName=name, Body=json.dumps(body), ContentType=CONTENT_TYPE
        )
    buffer = ""
    stop = ""
    try:
        for part in response["Body"]:
            if "ModelStreamError" in part:
                raise ValidationError(str(part["ModelStreamError"].get("Message", "")))
            chunk = part.get("PayloadPart", {}).get("Bytes", b"")
            buffer += chunk.decode("utf-8", "replace")
            complete, _, buffer = buffer.rpartition("\n")
            for event in _events(complete.split("\n")):
                token = event.get("token") or {}
                if token.get("special"):
                    continue
                text = str(token.get("text", ""))
                if text:
                    state.parts.append(text)
                    yield text
                details = event.get("details") or {}
                stop = str(details.get("finish_reason") or stop)
    except Exception:  # a cut stream: keep what arrived and say so
        yield Answer("".join(state.parts), None, None, None, "cut", cut=True)
        return
    return_text = "".join(state.parts)
    yield Answer(
        return_text, None, None, int((time.perf_counter() - started) * 1000), stop or "end"
    )
