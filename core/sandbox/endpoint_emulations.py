"""The SageMaker endpoint operations the sandbox answers, registered in the one table
(`core.sandbox.table.EMULATIONS`); the state lives in `core/sandbox/endpoints.py`.

SageMaker speaks JSON over `POST /`, the operation named by `X-Amz-Target`; these handlers answer
the model, endpoint config and endpoint operations and leave every other one (None) to the next
emulation and moto. SageMaker Runtime (signed as `sagemaker` too) is REST: InvokeEndpoint is
`POST /endpoints/NAME/invocations`, its streaming variant `.../invocations-response-stream`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.sandbox.table import PassThrough, Reply, SandboxRequest, emulates

if TYPE_CHECKING:
    from core.sandbox.table import Sandbox

_DESCRIBE = {
    "DescribeModel": ("model", "ModelName"),
    "DescribeEndpointConfig": ("config", "EndpointConfigName"),
    "DescribeEndpoint": ("endpoint", "EndpointName"),
}
_DELETE = {
    "DeleteModel": ("model", "ModelName"),
    "DeleteEndpointConfig": ("config", "EndpointConfigName"),
    "DeleteEndpoint": ("endpoint", "EndpointName"),
}
_LIST = {"ListModels": "model", "ListEndpointConfigs": "config", "ListEndpoints": "endpoint"}


def _reply(answer: tuple[int, Any]) -> Reply:
    status, body = answer
    if status >= 400:
        kind, payload = body
        return Reply(status, payload, kind)
    return Reply(status, body)


@emulates(
    "sagemaker",
    "POST",
    r"/",
    "Create/Describe/Delete/List Model, EndpointConfig and Endpoint, and their ListTags: "
    "endpoints go Creating, then InService (or Failed with a FailureReason); no quota for some "
    "instance types",
)
def _endpoints(request: SandboxRequest, sandbox: Sandbox) -> Reply | PassThrough | None:
    from core.sandbox.training import parse_body

    operation = request.target.rpartition(".")[2]
    account, region = sandbox.account_id, request.region
    simulator = sandbox.endpoints
    if operation == "CreateModel":
        return _reply(simulator.create_model(account, region, parse_body(request.body)))
    if operation == "CreateEndpointConfig":
        return _reply(simulator.create_config(account, region, parse_body(request.body)))
    if operation == "CreateEndpoint":
        return _reply(simulator.create_endpoint(account, region, parse_body(request.body)))
    if operation in _DESCRIBE:
        kind, key = _DESCRIBE[operation]
        name = str(parse_body(request.body).get(key, ""))
        return _reply(simulator.describe(account, region, kind, name))
    if operation in _DELETE:
        kind, key = _DELETE[operation]
        name = str(parse_body(request.body).get(key, ""))
        return _reply(simulator.delete(account, region, kind, name))
    if operation in _LIST:
        return _reply(simulator.listing(account, region, _LIST[operation]))
    if operation == "ListTags":
        tags = simulator.tags(str(parse_body(request.body).get("ResourceArn", "")))
        return None if tags is None else Reply(200, {"Tags": tags})
    return None


@emulates(
    "sagemaker",
    "POST",
    r"/endpoints/(?P<name>[^/]+)/invocations(?P<stream>-response-stream)?",
    "InvokeEndpoint(WithResponseStream): the sandbox's honest stand-in answer in the text "
    "generation format (streamed as payload parts), ModelError for a body without `inputs`",
)
def _invoke(request: SandboxRequest, sandbox: Sandbox) -> Reply:
    from urllib.parse import unquote

    name = unquote(request.match.group("name"))
    stream = request.match.group("stream") is not None
    status, body, frames = sandbox.endpoints.invoke(
        sandbox.account_id, request.region, name, request.body, stream=stream
    )
    if status >= 400:
        kind, payload = body
        return Reply(status, payload, kind)
    if frames is not None:
        return Reply(200, frames, stream=True)
    return Reply(200, body)
