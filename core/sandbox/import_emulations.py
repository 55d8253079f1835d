"""The Custom Model Import operations the sandbox answers, registered in the one table
(`core.sandbox.emulations.EMULATIONS`) by `@emulates`; the state lives in
`core/sandbox/imports.py`. Converse and InvokeModel on an imported model are answered here too
(the generic handlers in `emulations.py` hand imported-model ARNs over).
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from core.sandbox.imports import Answer
from core.sandbox.table import (
    PassThrough,
    Reply,
    SandboxRequest,
    emulates,
    validation_error,
)

if TYPE_CHECKING:
    from core.sandbox.table import Sandbox

IMPORTED_MODEL = ":imported-model/"
_JOBS = r"/model-import-jobs"
_MODELS = r"/imported-models"


def _reply(result: Answer) -> Reply:
    status, body = result
    if status >= 400:
        error_type, message = body
        return Reply(status, {"message": message}, error_type)
    return Reply(status, body)


def _body(request: SandboxRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


@emulates("bedrock", "POST", _JOBS + "/?", "CreateModelImportJob (runs the pre-import check)")
def _create_import(request: SandboxRequest, sandbox: Sandbox) -> Reply:
    return _reply(sandbox.imports.create(request.region, sandbox.account_id, _body(request)))


@emulates("bedrock", "GET", _JOBS + "/?", "ListModelImportJobs, paginated")
def _list_imports(request: SandboxRequest, sandbox: Sandbox) -> Reply:
    return _reply(sandbox.imports.list_jobs(request.param))


@emulates("bedrock", "GET", _JOBS + r"/(?P<job>.+)", "GetModelImportJob by name or ARN")
def _get_import(request: SandboxRequest, sandbox: Sandbox) -> Reply:
    return _reply(sandbox.imports.get_job(unquote(request.match.group("job"))))


@emulates("bedrock", "GET", _MODELS + "/?", "ListImportedModels, paginated")
def _list_imported(request: SandboxRequest, sandbox: Sandbox) -> Reply:
    return _reply(sandbox.imports.list_models(request.param))


@emulates("bedrock", "(GET|DELETE)", _MODELS + r"/(?P<model>.+)", "Get/DeleteImportedModel")
def _one_imported(request: SandboxRequest, sandbox: Sandbox) -> Reply:
    key = unquote(request.match.group("model"))
    if request.method == "DELETE":
        return _reply(sandbox.imports.delete_model(key))
    return _reply(sandbox.imports.get_model(key))


@emulates(
    "bedrock",
    "POST",
    r"/listTagsForResource/?",
    "ListTagsForResource of import jobs and imported models (others go to moto)",
)
def _import_tags(request: SandboxRequest, sandbox: Sandbox) -> Reply | PassThrough:
    tags = sandbox.imports.tags(str(_body(request).get("resourceARN", "")))
    return PassThrough() if tags is None else Reply(200, {"tags": tags})


# --------------------------------------------------------------------------- inference


def _architecture_converses(model_type: str) -> bool:
    from core.importing.architectures import architecture_of

    found = architecture_of(model_type)
    return found is not None and found.converse


def converse_imported(model_id: str, request: SandboxRequest, sandbox: Sandbox) -> Reply:
    """Converse on an imported model: cold start first, then the sandbox's honest answer
    (its architecture must answer Converse)."""
    served, error = sandbox.imports.serve(model_id)
    if served is None:
        assert error is not None
        return _reply(error)
    if not _architecture_converses(served.architecture):
        return validation_error(
            f"The imported model {served.name} ({served.architecture}) does not support the "
            "Converse API: call InvokeModel with its own request body."
        )
    started = time.perf_counter()
    messages = _body(request).get("messages") or []
    question = next(
        (
            " ".join(str(b.get("text", "")) for b in m.get("content", []) if isinstance(b, dict))
            for m in reversed(messages)
            if isinstance(m, dict) and m.get("role") == "user"
        ),
        "",
    )
    answer = served.answer()
    tokens_in, tokens_out = max(1, len(question) // 4), max(1, len(answer) // 4)
    return Reply(
        200,
        {
            "output": {"message": {"role": "assistant", "content": [{"text": answer}]}},
            "stopReason": "end_turn",
            "usage": {
                "inputTokens": tokens_in,
                "outputTokens": tokens_out,
                "totalTokens": tokens_in + tokens_out,
            },
            "metrics": {"latencyMs": int((time.perf_counter() - started) * 1000) + 1},
        },
    )


def invoke_imported(model_id: str, request: SandboxRequest, sandbox: Sandbox) -> Reply:
    """InvokeModel on an imported model, in the body shapes imported models take."""
    from core.sandbox.invoke import MALFORMED

    body = _body(request)
    chat = isinstance(body.get("messages"), list)
    if not chat and not isinstance(body.get("prompt"), str):
        return validation_error(MALFORMED)
    served, error = sandbox.imports.serve(model_id)
    if served is None:
        assert error is not None
        return _reply(error)
    answer = served.answer()
    prompt = json.dumps(body.get("messages")) if chat else str(body.get("prompt"))
    tokens_in, tokens_out = max(1, len(prompt) // 4), max(1, len(answer) // 4)
    usage = {
        "prompt_tokens": tokens_in,
        "completion_tokens": tokens_out,
        "total_tokens": tokens_in + tokens_out,
    }
    if chat:  # OpenAIChatCompletion
        return Reply(
            200,
            {
                "object": "chat.completion",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": answer},
                        "finish_reason": "stop",
                    }
                ],
                "usage": usage,
            },
        )
    if "max_tokens" in body:  # OpenAICompletion
        return Reply(
            200,
            {
                "object": "text_completion",
                "choices": [{"index": 0, "text": answer, "finish_reason": "stop"}],
                "usage": usage,
            },
        )
    return Reply(  # BedrockCompletion (the Llama body)
        200,
        {
            "generation": answer,
            "prompt_token_count": tokens_in,
            "generation_token_count": tokens_out,
            "stop_reason": "stop",
        },
    )
