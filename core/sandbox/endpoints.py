"""SageMaker models, endpoint configs and real-time endpoints in the sandbox, and InvokeEndpoint.

moto stores endpoints but makes them InService at once and refuses today's instance types (its
list stops before ml.g5). Here:

* CreateModel / CreateEndpointConfig / CreateEndpoint and their Describe, Delete and List
  operations answer as SageMaker does, with its errors for a name taken or a part missing;
* an endpoint is `Creating` for `ready_seconds` (by the injected clock), then `InService`;
* it fails instead, with a `FailureReason` as SageMaker words it, when its model's data is in a
  bucket that does not exist, or on an instance type the sandbox has no capacity for
  (`NO_CAPACITY`); CreateEndpoint is refused with `ResourceLimitExceeded` on an instance type the
  sandbox account has no quota for (`NO_QUOTA`);
* InvokeEndpoint and InvokeEndpointWithResponseStream answer in the text generation format
  (`[{"generated_text": ...}]`, or server-sent events in payload parts), saying it is the sandbox:
  nothing here is a language model; a body without `inputs` is refused by the "container" with
  SageMaker's `ModelError` (the container's 422, its message, its log stream).

State is per sandbox (a `reset` makes a new simulator), guarded by one lock.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

NO_QUOTA = frozenset({"ml.p5.48xlarge"})
"""Instance types the sandbox account has no endpoint quota for (ResourceLimitExceeded)."""
NO_CAPACITY = frozenset({"ml.p4d.24xlarge"})
"""Instance types for which an endpoint fails to start here (no capacity)."""
CAPACITY_REASON = (
    "Unable to provision requested ML compute capacity. Please retry using a different ML "
    "instance type."
)
SANDBOX_NOTE = (
    "[sandbox: SageMaker endpoint {name}] The sandbox runs no model: this stands in for the "
    "answer of the model the endpoint serves, so that the chat works end to end. Your prompt "
    "ended with: {tail}"
)

Answer = tuple[int, Any]
"""(HTTP status, body) or, for an error, (status, (error type, message) or (type, body))."""


def _error(message: str, kind: str = "ValidationException", status: int = 400) -> Answer:
    # `__type`: the JSON protocol (SageMaker) reads the error code from the body; the header
    # is what REST services (SageMaker Runtime) read.
    return status, (kind, {"__type": kind, "Message": message, "message": message})


@dataclass
class _Part:
    name: str
    arn: str
    body: dict[str, Any]
    created: float
    created_at: datetime
    failure: str | None = None


@dataclass
class _Account:
    models: dict[str, _Part] = field(default_factory=dict)
    configs: dict[str, _Part] = field(default_factory=dict)
    endpoints: dict[str, _Part] = field(default_factory=dict)
    tags: dict[str, list[dict[str, str]]] = field(default_factory=dict)


class EndpointSimulator:
    """The sandbox's SageMaker models, endpoint configs and endpoints (module docstring)."""

    def __init__(
        self,
        ready_seconds: float = 20.0,
        clock: Callable[[], float] = time.time,
        bucket_exists: Callable[[str, str], bool] | None = None,
    ) -> None:
        """`bucket_exists(account, bucket)` says whether the sandbox's S3 has the bucket
        (moto's, by default)."""
        self.ready_seconds = ready_seconds
        self._clock = clock
        self._bucket_exists = bucket_exists or _moto_bucket_exists
        self._accounts: dict[tuple[str, str], _Account] = {}
        self._lock = threading.Lock()

    def _of(self, account: str, region: str) -> _Account:
        return self._accounts.setdefault((account, region), _Account())

    @staticmethod
    def _arn(region: str, account: str, kind: str, name: str) -> str:
        # SageMaker spells the name in lower case in these ARNs.
        return f"arn:aws:sagemaker:{region}:{account}:{kind}/{name.lower()}"

    def _new(self, name: str, arn: str, body: dict[str, Any]) -> _Part:
        return _Part(name, arn, body, self._clock(), datetime.now(UTC))

    # ------------------------------------------------------------------ create

    def create_model(self, account: str, region: str, body: dict[str, Any]) -> Answer:
        """CreateModel."""
        name = str(body.get("ModelName", ""))
        arn = self._arn(region, account, "model", name)
        with self._lock:
            state = self._of(account, region)
            if name in state.models:
                return _error(f'Cannot create already existing model "{arn}".')
            state.models[name] = self._new(name, arn, body)
            state.tags[arn] = list(body.get("Tags") or [])
        return 200, {"ModelArn": arn}

    def create_config(self, account: str, region: str, body: dict[str, Any]) -> Answer:
        """CreateEndpointConfig."""
        name = str(body.get("EndpointConfigName", ""))
        arn = self._arn(region, account, "endpoint-config", name)
        with self._lock:
            state = self._of(account, region)
            if name in state.configs:
                return _error(f'Cannot create already existing endpoint configuration "{arn}".')
            for variant in body.get("ProductionVariants") or []:
                model = str(variant.get("ModelName", ""))
                if model not in state.models:
                    return _error(
                        f'Could not find model "{self._arn(region, account, "model", model)}".'
                    )
            state.configs[name] = self._new(name, arn, body)
            state.tags[arn] = list(body.get("Tags") or [])
        return 200, {"EndpointConfigArn": arn}

    def create_endpoint(self, account: str, region: str, body: dict[str, Any]) -> Answer:
        """CreateEndpoint: refused without quota; fails later without capacity or model data."""
        name = str(body.get("EndpointName", ""))
        config_name = str(body.get("EndpointConfigName", ""))
        arn = self._arn(region, account, "endpoint", name)
        with self._lock:
            state = self._of(account, region)
            if name in state.endpoints:
                return _error(f'Cannot create already existing endpoint "{arn}".')
            config = state.configs.get(config_name)
            if config is None:
                where = self._arn(region, account, "endpoint-config", config_name)
                return _error(f'Could not find endpoint configuration "{where}".')
            variants = config.body.get("ProductionVariants") or [{}]
            instance = str(variants[0].get("InstanceType", ""))
            count = int(variants[0].get("InitialInstanceCount") or 1)
            if instance in NO_QUOTA:
                return _error(
                    f"The account-level service limit '{instance} for endpoint usage' is 0 "
                    f"Instances, with current utilization of 0 Instances and a request delta of "
                    f"{count} Instances. Please use AWS Service Quotas to request an increase "
                    "for this quota. If AWS Service Quotas is not available, contact AWS support "
                    "to request an increase for this quota.",
                    "ResourceLimitExceeded",
                )
            model = state.models.get(str(variants[0].get("ModelName", "")))
            part = self._new(name, arn, body)
            part.failure = self._failure(account, instance, model)
            state.endpoints[name] = part
            state.tags[arn] = list(body.get("Tags") or [])
        return 200, {"EndpointArn": arn}

    def _failure(self, account: str, instance: str, model: _Part | None) -> str | None:
        if instance in NO_CAPACITY:
            return CAPACITY_REASON
        containers = []
        if model is not None:
            primary = model.body.get("PrimaryContainer")
            containers = [primary] if primary else list(model.body.get("Containers") or [])
        for number, container in enumerate(containers, 1):
            source = (container.get("ModelDataSource") or {}).get("S3DataSource") or {}
            url = str(container.get("ModelDataUrl") or source.get("S3Uri") or "")
            bucket = url.removeprefix("s3://").partition("/")[0]
            if url.startswith("s3://") and not self._bucket_exists(account, bucket):
                return (
                    f'Failed to download model data for container "container_{number}" from URL: '
                    f'"{url}". Please ensure that there is an object located at the URL and that '
                    "the role passed to CreateModel has permissions to download the object."
                )
        return None

    # ------------------------------------------------------------------ read

    def _status(self, part: _Part) -> str:
        elapsed = self._clock() - part.created
        if part.failure is not None and elapsed >= self.ready_seconds / 2:
            return "Failed"
        return "InService" if elapsed >= self.ready_seconds else "Creating"

    def _when(self, part: _Part, later: bool = False) -> str:
        if not later:
            return part.created_at.isoformat()
        elapsed = min(self._clock() - part.created, self.ready_seconds)
        return (part.created_at + timedelta(seconds=max(elapsed, 0))).isoformat()

    def describe(self, account: str, region: str, kind: str, name: str) -> Answer:
        """DescribeModel / DescribeEndpointConfig / DescribeEndpoint (`kind`: model, config,
        endpoint)."""
        with self._lock:
            state = self._of(account, region)
            table = {"model": state.models, "config": state.configs, "endpoint": state.endpoints}
            part = table[kind].get(name)
        if part is None:
            return self._missing(account, region, kind, name)
        body = {k: v for k, v in part.body.items() if k != "Tags"}
        body["CreationTime"] = self._when(part)
        if kind == "model":
            return 200, {**body, "ModelArn": part.arn}
        if kind == "config":
            return 200, {**body, "EndpointConfigArn": part.arn}
        status = self._status(part)
        answer: dict[str, Any] = {
            **body,
            "EndpointArn": part.arn,
            "EndpointStatus": status,
            "LastModifiedTime": self._when(part, later=True),
        }
        if status == "Failed":
            answer["FailureReason"] = part.failure
        if status == "InService":
            answer["ProductionVariants"] = [
                {"VariantName": "AllTraffic", "CurrentWeight": 1.0, "CurrentInstanceCount": 1}
            ]
        return 200, answer

    def _missing(self, account: str, region: str, kind: str, name: str) -> Answer:
        arn = self._arn(region, account, _ARN_KIND[kind], name)
        return _error(f'Could not find {_LABELS[kind]} "{arn}".')

    def status(self, account: str, region: str, name: str) -> str | None:
        """The endpoint's status now (None: no such endpoint)."""
        with self._lock:
            part = self._of(account, region).endpoints.get(name)
        return None if part is None else self._status(part)

    def listing(self, account: str, region: str, kind: str) -> Answer:
        """ListModels / ListEndpointConfigs / ListEndpoints (one page: the sandbox holds few)."""
        with self._lock:
            state = self._of(account, region)
            table = {"model": state.models, "config": state.configs, "endpoint": state.endpoints}
            parts = sorted(table[kind].values(), key=lambda p: p.created, reverse=True)
        if kind == "model":
            items = [
                {"ModelName": p.name, "ModelArn": p.arn, "CreationTime": self._when(p)}
                for p in parts
            ]
            return 200, {"Models": items}
        if kind == "config":
            items = [
                {
                    "EndpointConfigName": p.name,
                    "EndpointConfigArn": p.arn,
                    "CreationTime": self._when(p),
                }
                for p in parts
            ]
            return 200, {"EndpointConfigs": items}
        items = [
            {
                "EndpointName": p.name,
                "EndpointArn": p.arn,
                "CreationTime": self._when(p),
                "LastModifiedTime": self._when(p, later=True),
                "EndpointStatus": self._status(p),
            }
            for p in parts
        ]
        return 200, {"Endpoints": items}

    def tags(self, arn: str) -> list[dict[str, str]] | None:
        """ListTags of one of these resources (None: not one of them)."""
        with self._lock:
            for state in self._accounts.values():
                if arn in state.tags:
                    return list(state.tags[arn])
        return None

    def delete(self, account: str, region: str, kind: str, name: str) -> Answer:
        """DeleteModel / DeleteEndpointConfig / DeleteEndpoint."""
        with self._lock:
            state = self._of(account, region)
            table = {"model": state.models, "config": state.configs, "endpoint": state.endpoints}
            part = table[kind].pop(name, None)
            if part is not None:
                state.tags.pop(part.arn, None)
        if part is None:
            return self._missing(account, region, kind, name)
        return 200, {}

    # ------------------------------------------------------------------ invoke

    def invoke(
        self, account: str, region: str, name: str, raw: bytes, *, stream: bool
    ) -> tuple[int, Any, bytes | None]:
        """InvokeEndpoint(WithResponseStream): (status, JSON body or error, event-stream bytes)."""
        status = self.status(account, region, name)
        if status != "InService":
            status_code, error = _error(
                f"Endpoint {name} of account {account} not found.", "ValidationError"
            )
            return status_code, error, None
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = None
        prompt = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(prompt, str):
            return self._refused(account, region, name, body)
        tail = " ".join(prompt.split()[-12:]) or "(empty)"
        text = SANDBOX_NOTE.format(name=name, tail=tail)
        limit = (body.get("parameters") or {}).get("max_new_tokens") if body else None
        words = text.split(" ")
        if isinstance(limit, int) and 0 < limit < len(words):
            words = words[:limit]
        if not stream:
            return 200, [{"generated_text": " ".join(words)}], None
        return 200, None, _event_stream(words)

    @staticmethod
    def _refused(account: str, region: str, name: str, body: Any) -> tuple[int, Any, None]:
        detail = (
            "missing field `inputs`"
            if isinstance(body, dict)
            else "expected a JSON object with a string field `inputs`"
        )
        original = json.dumps(
            {
                "error": f"Failed to deserialize the JSON body into the target type: {detail}",
                "error_type": "validation",
            }
        )
        group = f"/aws/sagemaker/Endpoints/{name}"
        message = (
            f'Received client error (422) from primary with message "{original}". See '
            f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
            f"#logEventViewer:group={group} in account {account} for more information."
        )
        return (
            424,
            (
                "ModelError",
                {
                    "__type": "ModelError",
                    "Message": message,
                    "OriginalStatusCode": 422,
                    "OriginalMessage": original,
                    "LogStreamArn": f"arn:aws:logs:{region}:{account}:log-group:{group}",
                },
            ),
            None,
        )


_LABELS = {"model": "model", "config": "endpoint configuration", "endpoint": "endpoint"}
_ARN_KIND = {"model": "model", "config": "endpoint-config", "endpoint": "endpoint"}


def _event_stream(words: list[str]) -> bytes:
    """The answer as TGI streams it (server-sent events), in payload parts cut anywhere."""
    from core.serving.eventstream import frame

    lines = []
    for number, word in enumerate(words):
        token = {"id": number, "text": (" " if number else "") + word, "special": False}
        lines.append(f"data:{json.dumps({'token': token})}\n\n")
    final = {
        "token": {"id": len(words), "text": "", "special": True},
        "generated_text": " ".join(words),
        "details": {"finish_reason": "eos_token"},
    }
    lines.append(f"data:{json.dumps(final)}\n\n")
    text = "".join(lines).encode()
    cut = 37  # parts end mid-line, as a real stream's may: the reader must join them
    parts = [text[i : i + cut] for i in range(0, len(text), cut)]
    headers = {
        ":event-type": "PayloadPart",
        ":content-type": "application/octet-stream",
        ":message-type": "event",
    }
    return b"".join(frame(headers, part) for part in parts)


def _moto_bucket_exists(account: str, bucket: str) -> bool:
    from moto.s3.models import s3_backends

    return s3_backends[account]["global"].buckets.get(bucket) is not None
