"""Each model family's own InvokeModel body, for batch inference (whose `modelInput` is that
body), and the answer read back from the family's own response body.

Shapes from reference/bedrock.md §6.3: Nova `messages-v1`; Claude's Messages API
(`anthropic_version` bedrock-2023-05-31); Llama `prompt` / `generation` (the prompt in the
Llama 3 instruct chat format, as Converse would build it; ⚠ the format is Meta's, read from its
model card, not from AWS); Titan Text `inputText` / `results`; Cohere `prompt` / `generations`.
"""

from __future__ import annotations

from typing import Any

from core.serving.chat import Settings

NOVA = "nova"
CLAUDE = "claude"
LLAMA = "llama"
TITAN = "titan"
COHERE = "cohere"


def body_kind(family: str) -> str:
    """The body shape a catalog family takes (`nova-2` and `nova` share one, and so on)."""
    for kind in (NOVA, CLAUDE, LLAMA, TITAN, COHERE):
        if family.startswith(kind):
            return kind
    raise ValueError(f"no InvokeModel body is known for the model family '{family}'")


def _llama_prompt(system: str, user: str) -> str:
    parts = ["<|begin_of_text|>"]
    if system:
        parts.append(f"<|start_header_id|>system<|end_header_id|>\n\n{system}<|eot_id|>")
    parts.append(f"<|start_header_id|>user<|end_header_id|>\n\n{user}<|eot_id|>")
    parts.append("<|start_header_id|>assistant<|end_header_id|>\n\n")
    return "".join(parts)


def model_input(family: str, system: str, user: str, settings: Settings) -> dict[str, Any]:
    """The InvokeModel body that asks `user` (with `system`) of a model of `family`.

    Raises:
        ValueError: a family with no known body.
    """
    kind = body_kind(family)
    if kind == NOVA:
        body: dict[str, Any] = {
            "schemaVersion": "messages-v1",
            "messages": [{"role": "user", "content": [{"text": user}]}],
            "inferenceConfig": {
                "maxTokens": settings.max_tokens,
                "temperature": settings.temperature,
                "topP": settings.top_p,
            },
        }
        if system:
            body["system"] = [{"text": system}]
        return body
    if kind == CLAUDE:
        body = {
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": settings.max_tokens,
            "messages": [{"role": "user", "content": [{"type": "text", "text": user}]}],
            "temperature": settings.temperature,
            "top_p": settings.top_p,
        }
        if system:
            body["system"] = system
        return body
    if kind == LLAMA:
        return {
            "prompt": _llama_prompt(system, user),
            "max_gen_len": settings.max_tokens,
            "temperature": settings.temperature,
            "top_p": settings.top_p,
        }
    text = f"{system}\n\n{user}" if system else user
    if kind == TITAN:
        return {
            "inputText": text,
            "textGenerationConfig": {
                "maxTokenCount": settings.max_tokens,
                "temperature": settings.temperature,
                "topP": settings.top_p,
            },
        }
    return {
        "prompt": text,
        "max_tokens": settings.max_tokens,
        "temperature": settings.temperature,
        "p": settings.top_p,
    }


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def read_output(family: str, body: Any) -> tuple[str, int | None, int | None] | None:
    """(answer text, input tokens, output tokens) from a family's response body; None when the
    body is not in the family's shape."""
    if not isinstance(body, dict):
        return None
    kind = body_kind(family)
    try:
        if kind == NOVA:
            blocks = body["output"]["message"]["content"]
            usage = body.get("usage") or {}
            text = "".join(str(b.get("text", "")) for b in blocks if isinstance(b, dict))
            return text, _int(usage.get("inputTokens")), _int(usage.get("outputTokens"))
        if kind == CLAUDE:
            usage = body.get("usage") or {}
            text = "".join(str(b.get("text", "")) for b in body["content"] if isinstance(b, dict))
            return text, _int(usage.get("input_tokens")), _int(usage.get("output_tokens"))
        if kind == LLAMA:
            return (
                str(body["generation"]),
                _int(body.get("prompt_token_count")),
                _int(body.get("generation_token_count")),
            )
        if kind == TITAN:
            result = body["results"][0]
            return (
                str(result["outputText"]),
                _int(body.get("inputTextTokenCount")),
                _int(result.get("tokenCount")),
            )
        return str(body["generations"][0]["text"]), None, None
    except (KeyError, IndexError, TypeError):
        return None
