"""InvokeModel bodies per model family in the sandbox: where the question is in the request, how
many words the answer may have, and the shape of the answer.

The shapes are those of reference/bedrock.md §6.3 (Nova `messages-v1`, Claude's Messages API,
Llama `prompt` / `generation`, Titan Text `inputText` / `results`, Cohere `prompt` /
`generations`). What answers is the sandbox's honest stand-in (`InferenceSimulator.answer`).
"""

from __future__ import annotations

import json
from typing import Any

MALFORMED = "Malformed input request, please reformat your input and try again."
"""Bedrock's ValidationException message for a body the model cannot read."""


def _text_of(content: Any) -> str:
    """The text of a message's content: a string, or a list of blocks with `text`."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return ""


def _last_user_text(messages: Any) -> str:
    for message in reversed(messages if isinstance(messages, list) else []):
        if isinstance(message, dict) and message.get("role") == "user":
            return _text_of(message.get("content"))
    return ""


def read_request(family: str, raw: bytes) -> tuple[str, int] | None:
    """(question, most words to answer with) from an InvokeModel body; None when the body is
    not a JSON object with the family's prompt field."""
    try:
        data = json.loads(raw or b"null")
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    if family.startswith("nova"):
        limit = (data.get("inferenceConfig") or {}).get("maxTokens")
        question = _last_user_text(data.get("messages")) if "messages" in data else None
    elif family.startswith("claude"):
        limit = data.get("max_tokens")
        question = _last_user_text(data.get("messages")) if "messages" in data else None
    elif family.startswith("llama"):
        limit, question = data.get("max_gen_len"), data.get("prompt")
    elif family.startswith("titan"):
        limit = (data.get("textGenerationConfig") or {}).get("maxTokenCount")
        question = data.get("inputText")
    else:  # cohere-command
        limit, question = data.get("max_tokens"), data.get("prompt")
    if not isinstance(question, str):
        return None
    return question, int(limit) if isinstance(limit, int) and limit > 0 else 512


def response(family: str, answer: str, cut: bool, tokens_in: int, tokens_out: int) -> Any:
    """The InvokeModel answer in the family's shape."""
    if family.startswith("nova"):
        return {
            "output": {"message": {"role": "assistant", "content": [{"text": answer}]}},
            "stopReason": "max_tokens" if cut else "end_turn",
            "usage": {
                "inputTokens": tokens_in,
                "outputTokens": tokens_out,
                "totalTokens": tokens_in + tokens_out,
            },
        }
    if family.startswith("claude"):
        return {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "text", "text": answer}],
            "stop_reason": "max_tokens" if cut else "end_turn",
            "usage": {"input_tokens": tokens_in, "output_tokens": tokens_out},
        }
    if family.startswith("llama"):
        return {
            "generation": answer,
            "prompt_token_count": tokens_in,
            "generation_token_count": tokens_out,
            "stop_reason": "length" if cut else "stop",
        }
    if family.startswith("titan"):
        return {
            "inputTextTokenCount": tokens_in,
            "results": [
                {
                    "tokenCount": tokens_out,
                    "outputText": answer,
                    "completionReason": "LENGTH" if cut else "FINISH",
                }
            ],
        }
    return {"generations": [{"text": answer, "finish_reason": "MAX_TOKENS" if cut else "COMPLETE"}]}
