"""The sandbox: a local AWS on loopback, so anyone can use every step with no AWS account.

It is moto's server (S3, IAM, STS, Bedrock, SageMaker...) behind a small WSGI layer of ours that
answers what moto lacks or gets wrong. Clients reach it over real HTTP with an endpoint URL and
static fake credentials, through exactly the code path they use for real AWS: nothing outside
`AwsContext.for_endpoint` knows it is talking to a sandbox.

What the layer does (the `EMULATIONS` table below is the one list of it):

* bedrock `ListFoundationModels` / `GetFoundationModel`: answered from bedrock-tune's catalog; a
  model is listed in a region only where the catalog says it can be customized.
* bedrock `GetModelCustomizationJob` / `StopModelCustomizationJob` by ARN: moto routes the job
  identifier with `[^/]+`, so an ARN (which holds slashes) never matches; we rewrite it to the
  job name, which is what moto keys jobs by.
* provisioned throughput, custom model deployments and bedrock-runtime Converse
  (`core/sandbox_inference.py`): Creating, then InService / Active; the two no-commitment PT
  quota; honest answers (a custom model answers with its most similar training record).
* s3 bucket policies are kept beside moto, which ignores a statement's Condition and would let
  a TLS-only policy (Deny when `aws:SecureTransport` is false) deny every object call.
* customization jobs play out (`core/sandbox_jobs.py`): phases advance, metrics CSVs appear,
  the job completes in `job_seconds` (or fails in validation on a bad training file), and
  GetCustomModel reports `modelStatus`.

Everything else passes through to moto unchanged. Known moto 5.2 gaps (DESIGN.md §5): jobs stay
InProgress and have no statusDetails; provisioned throughput, custom model deployments and
bedrock-runtime Converse are not implemented; `invoke_model` answers `{}`.

moto and werkzeug are imported inside methods: importing this module is cheap.
"""

from __future__ import annotations

import ipaddress
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

from core.aws import StaticCredentials
from core.errors import BedrockTuneError
from core.sandbox.inference import InferenceSimulator
from core.sandbox.jobs import JobSimulator

SANDBOX_ACCOUNT_ID = "123456789012"
"""moto's default account: every sandbox resource lives in it."""
SANDBOX_CREDENTIALS = StaticCredentials("sandbox", "sandbox")


class SandboxError(BedrockTuneError):
    """The sandbox could not start (bad address, port in use)."""

    default_title = "Sandbox problem"


# --------------------------------------------------------------------------- the emulation table


@dataclass(frozen=True)
class SandboxRequest:
    """What an emulation handler sees of a request."""

    method: str
    path: str
    query: dict[str, list[str]]
    service: str
    region: str
    body: bytes
    match: re.Match[str]

    def param(self, name: str) -> str | None:
        """The first value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else None


@dataclass(frozen=True)
class Reply:
    """A response we make ourselves (JSON, or raw event-stream bytes when `stream`)."""

    status: int
    body: Any
    error_type: str | None = None
    stream: bool = False


@dataclass(frozen=True)
class PassThrough:
    """Send the request on to moto (path rewritten when given), then let `after` edit moto's
    JSON answer when it succeeded."""

    path: str | None = None
    after: Callable[[dict[str, Any]], dict[str, Any]] | None = None


Handler = Callable[[SandboxRequest, "Sandbox"], "Reply | PassThrough | None"]


@dataclass(frozen=True)
class Emulation:
    """One operation the layer answers (or fixes) instead of moto."""

    service: str
    method: str
    path: re.Pattern[str]
    handler: Handler
    description: str


EMULATIONS: list[Emulation] = []
"""Everything the sandbox emulates, in match order. Add entries with `@emulates`."""


def emulates(
    service: str, method: str, path: str, description: str
) -> Callable[[Handler], Handler]:
    """Register a handler for `method path` of `service` (a regex matched against the path)."""

    def register(handler: Handler) -> Handler:
        EMULATIONS.append(Emulation(service, method, re.compile(path), handler, description))
        return handler

    return register


def not_found(message: str) -> Reply:
    """A Bedrock-style ResourceNotFoundException."""
    return Reply(404, {"message": message}, "ResourceNotFoundException")


def validation_error(message: str) -> Reply:
    """A Bedrock-style ValidationException."""
    return Reply(400, {"message": message}, "ValidationException")


# --------------------------------------------------------------------------- bedrock emulations


def _foundation_model(model: Any, region: str) -> dict[str, Any]:
    modalities = [m for m in model.input_modalities if m in {"TEXT", "IMAGE", "EMBEDDING"}]
    return {
        "modelArn": f"arn:aws:bedrock:{region}::foundation-model/{model.id}",
        "modelId": model.id,
        "modelName": model.name,
        "providerName": model.provider,
        "inputModalities": modalities,
        "outputModalities": ["TEXT"],
        "responseStreamingSupported": True,
        "customizationsSupported": [t.value for t in model.customization_types],
        # Customization ids are served through provisioned throughput; base inference uses the
        # plain id or an inference profile.
        "inferenceTypesSupported": ["PROVISIONED"],
        "modelLifecycle": {"status": model.lifecycle.value},
    }


@emulates("bedrock", "GET", r"/foundation-models/?", "ListFoundationModels from the catalog")
def _list_foundation_models(request: SandboxRequest, sandbox: Sandbox) -> Reply:
    from core.catalog.lookup import builtin_models

    kind = request.param("byCustomizationType")
    provider = request.param("byProvider")
    inference = request.param("byInferenceType")
    output = request.param("byOutputModality")
    summaries = []
    for model in builtin_models():
        if request.region not in model.regions:
            continue
        if kind and kind not in {t.value for t in model.customization_types}:
            continue
        if provider and provider.lower() != model.provider.lower():
            continue
        if inference and inference != "PROVISIONED":
            continue
        if output and output != "TEXT":
            continue
        summaries.append(_foundation_model(model, request.region))
    return Reply(200, {"modelSummaries": summaries})


@emulates(
    "bedrock", "GET", r"/foundation-models/(?P<model>[^/]+)", "GetFoundationModel from the catalog"
)
def _get_foundation_model(request: SandboxRequest, sandbox: Sandbox) -> Reply:
    from core.catalog.lookup import builtin_models

    wanted = unquote(request.match.group("model"))
    for model in builtin_models():
        if wanted in (model.id, f"arn:aws:bedrock:{request.region}::foundation-model/{model.id}"):
            if request.region not in model.regions:
                break
            return Reply(200, {"modelDetails": _foundation_model(model, request.region)})
    return not_found(f"The model {wanted} does not exist in {request.region}.")


@emulates("bedrock", "POST", r"/model-customization-jobs/?", "created jobs start playing out")
def _job_created(request: SandboxRequest, sandbox: Sandbox) -> PassThrough:
    def started(body: dict[str, Any]) -> dict[str, Any]:
        name = str(body.get("jobArn", "")).rsplit("/", 1)[-1]
        sandbox.jobs.job_created(sandbox.account_id, request.region, name)
        return body

    return PassThrough(after=started)


@emulates(
    "bedrock",
    "(GET|POST)",
    r"/model-customization-jobs/(?P<job>arn:aws[^/]*:bedrock:[^/]*:[0-9]*:"
    r"model-customization-job/.+?|[^/]+)(?P<stop>/stop)?",
    "jobs by ARN (moto only matches names); phases, failure and model name on Get",
)
def _job(request: SandboxRequest, sandbox: Sandbox) -> PassThrough:
    name = unquote(request.match.group("job")).rsplit("/", 1)[-1]
    stop = request.match.group("stop") or ""

    def decorate(body: dict[str, Any]) -> dict[str, Any]:
        return sandbox.jobs.decorate_job(sandbox.account_id, request.region, body)

    def stopped(body: dict[str, Any]) -> dict[str, Any]:
        sandbox.jobs.job_stopped(sandbox.account_id, request.region, name)
        return body

    after = decorate if request.method == "GET" else stopped if stop else None
    return PassThrough(f"/model-customization-jobs/{name}{stop}", after)


@emulates("bedrock", "GET", r"/custom-models/(?P<model>.+)", "modelStatus on GetCustomModel")
def _custom_model(request: SandboxRequest, sandbox: Sandbox) -> PassThrough:
    def decorate(body: dict[str, Any]) -> dict[str, Any]:
        return sandbox.jobs.decorate_model(sandbox.account_id, request.region, body)

    wanted = unquote(request.match.group("model"))
    path = None
    if wanted.startswith("arn:"):
        # moto's route takes no slashes either; it looks models up by name or ARN.
        path = f"/custom-models/{wanted.rsplit('/', 1)[-1]}"
    return PassThrough(path, decorate)


def _answer(result: tuple[int, Any]) -> Reply:
    status, body = result
    if status >= 400:
        error_type, message = body
        return Reply(status, {"message": message}, error_type)
    return Reply(status, body)


def _json_body(request: SandboxRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


@emulates("bedrock", "POST", r"/provisioned-model-throughput/?", "CreateProvisionedModelThroughput")
def _create_pt(request: SandboxRequest, sandbox: Sandbox) -> Reply:
    body = _json_body(request)
    model = str(body.get("modelId", ""))
    if not model.startswith("arn:") and not _custom_model_exists(sandbox, request.region, model):
        return not_found(f"The model {model} was not found.")
    return _answer(sandbox.inference.create_throughput(request.region, sandbox.account_id, body))


@emulates("bedrock", "GET", r"/provisioned-model-throughputs/?", "ListProvisionedModelThroughputs")
def _list_pt(request: SandboxRequest, sandbox: Sandbox) -> Reply:
    return _answer(sandbox.inference.list_throughputs())


@emulates("bedrock", "(GET|DELETE)", r"/provisioned-model-throughput/(?P<id>.+)", "Get/Delete a PT")
def _one_pt(request: SandboxRequest, sandbox: Sandbox) -> Reply:
    key = unquote(request.match.group("id"))
    if request.method == "DELETE":
        return _answer(sandbox.inference.delete("pt", key))
    return _answer(sandbox.inference.get_throughput(key))


_DEPLOYMENTS = r"/model-customization/custom-model-deployments"


@emulates("bedrock", "POST", _DEPLOYMENTS + "/?", "CreateCustomModelDeployment")
def _create_deployment(request: SandboxRequest, sandbox: Sandbox) -> Reply:
    body = _json_body(request)
    model = str(body.get("modelArn", ""))
    status = sandbox.jobs.custom_model_status(sandbox.account_id, request.region, model)
    if status is None:
        return not_found(f"The custom model {model} was not found.")
    if status != "Active":
        return validation_error(f"The custom model {model} is not Active (it is {status}).")
    return _answer(sandbox.inference.create_deployment(request.region, sandbox.account_id, body))


@emulates("bedrock", "GET", _DEPLOYMENTS + "/?", "ListCustomModelDeployments")
def _list_deployments(request: SandboxRequest, sandbox: Sandbox) -> Reply:
    return _answer(sandbox.inference.list_deployments())


@emulates("bedrock", "(GET|DELETE)", _DEPLOYMENTS + r"/(?P<id>.+)", "Get/Delete a deployment")
def _one_deployment(request: SandboxRequest, sandbox: Sandbox) -> Reply:
    key = unquote(request.match.group("id"))
    if request.method == "DELETE":
        return _answer(sandbox.inference.delete("deployment", key))
    return _answer(sandbox.inference.get_deployment(key))


def _custom_model_exists(sandbox: Sandbox, region: str, name: str) -> bool:
    return sandbox.jobs.custom_model_status(sandbox.account_id, region, name) is not None


@emulates(
    "bedrock",
    "POST",
    r"/model/(?P<model>.+)/converse(?P<stream>-stream)?",
    "Converse / ConverseStream (honest sandbox answers)",
)
def _converse(request: SandboxRequest, sandbox: Sandbox) -> Reply:
    from core.catalog.lookup import builtin_models

    model_id = unquote(request.match.group("model"))
    if any(model_id == m.id for m in builtin_models()):
        # As Bedrock does: a customization id is not an inference id.
        return not_found("Model not found.")
    if ":custom-model/" in model_id:
        return validation_error(
            "A custom model cannot be invoked directly: buy provisioned throughput or create a "
            "custom model deployment, and use its ARN as the model id."
        )
    served, why_not = sandbox.inference.served_model(model_id)
    if why_not:
        return Reply(429, {"message": why_not}, "ModelNotReadyException")
    records = None
    if served is not None:
        records = sandbox.jobs.training_records(sandbox.account_id, request.region, served)
    elif ":provisioned-model/" in model_id or ":custom-model-deployment/" in model_id:
        return not_found(f"{model_id} was not found.")
    reply = _answer(sandbox.inference.converse(model_id, _json_body(request), records))
    if request.match.group("stream") and reply.status == 200:
        return Reply(200, _stream_events(reply.body), stream=True)
    return reply


def _stream_events(body: dict[str, Any]) -> bytes:
    """A Converse answer as ConverseStream events, a few words per delta."""
    from core.serving.eventstream import event

    text = body["output"]["message"]["content"][0]["text"]
    words = text.split(" ")
    frames = [event("messageStart", {"role": "assistant"})]
    for start in range(0, len(words), 3):
        piece = " ".join(words[start : start + 3]) + (" " if start + 3 < len(words) else "")
        frames.append(
            event("contentBlockDelta", {"delta": {"text": piece}, "contentBlockIndex": 0})
        )
    frames.append(event("contentBlockStop", {"contentBlockIndex": 0}))
    frames.append(event("messageStop", {"stopReason": body["stopReason"]}))
    frames.append(event("metadata", {"usage": body["usage"], "metrics": body["metrics"]}))
    return b"".join(frames)


# --------------------------------------------------------------------------- s3 emulations


def _moto_bucket(sandbox: Sandbox, name: str) -> Any:
    from moto.s3.models import s3_backends

    return s3_backends[sandbox.account_id]["global"].buckets.get(name)


@emulates(
    "s3",
    "(PUT|GET|DELETE)",
    r"/(?P<bucket>[^/]+)/?",
    "Put/Get/DeleteBucketPolicy (kept beside moto, which would misread conditions)",
)
def _bucket_policy(request: SandboxRequest, sandbox: Sandbox) -> Reply | PassThrough | None:
    """moto 5.2 ignores a statement's Condition and then denies every object call the statement
    names, so bedrock-tune's TLS-only policy (Deny when aws:SecureTransport is false) would lock
    every object of the bucket. The sandbox keeps the policy on moto's bucket under another
    attribute, answers for it, and leaves moto's own policy (what it enforces) empty."""
    if "policy" not in request.query:
        return None
    bucket = _moto_bucket(sandbox, request.match.group("bucket"))
    if bucket is None:
        return None  # moto answers NoSuchBucket
    if request.method == "PUT":
        try:
            bucket.sandbox_policy = json.loads(request.body)
        except ValueError:
            return None  # moto answers MalformedPolicy
        return Reply(204, {})
    if request.method == "DELETE":
        bucket.sandbox_policy = None
        return None
    stored = getattr(bucket, "sandbox_policy", None)
    return Reply(200, stored) if stored is not None else None


# --------------------------------------------------------------------------- the WSGI layer

_SCOPE = re.compile(r"Credential=[^/]+/\d+/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request")


class _EmulationLayer:
    """WSGI middleware: emulations first, moto for everything else."""

    def __init__(self, moto_app: Callable[..., Iterable[bytes]], sandbox: Sandbox) -> None:
        self._moto = moto_app
        self._sandbox = sandbox

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        if scope is not None:
            service, region = scope.group("service"), scope.group("region")
            method = environ.get("REQUEST_METHOD", "GET")
            path = environ.get("PATH_INFO", "")
            if service == "bedrock":
                self._sandbox.jobs.advance(self._sandbox.account_id, region)
            for emulation in EMULATIONS:
                if emulation.service != service or not re.fullmatch(emulation.method, method):
                    continue
                match = emulation.path.fullmatch(path)
                if match is None:
                    continue
                result = emulation.handler(
                    SandboxRequest(
                        method=method,
                        path=path,
                        query=parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True),
                        service=service,
                        region=region,
                        body=_read_body(environ),
                        match=match,
                    ),
                    self._sandbox,
                )
                if isinstance(result, Reply):
                    return _respond(result, start_response)
                if isinstance(result, PassThrough):
                    if result.path is not None:
                        environ = {**environ, "PATH_INFO": result.path}
                        environ.pop("RAW_URI", None)
                        environ.pop("REQUEST_URI", None)
                    if result.after is not None:
                        return self._edited(environ, start_response, result.after)
                break
        return self._moto(environ, start_response)

    def _edited(
        self,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        after: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> list[bytes]:
        """Run moto, then pass its successful JSON answer through `after`."""
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        payload = b"".join(self._moto(environ, capture))
        status: str = captured.get("status", "500 Internal Server Error")
        headers = [h for h in captured.get("headers", []) if h[0].lower() != "content-length"]
        if status.startswith("2"):
            try:
                body = json.loads(payload) if payload.strip() else {}
                payload = json.dumps(after(body), default=str).encode()
            except ValueError:
                pass  # not JSON: leave moto's answer alone
        headers.append(("Content-Length", str(len(payload))))
        start_response(status, headers)
        return [payload]


def _read_body(environ: dict[str, Any]) -> bytes:
    """Read the body and put it back so moto can read it again."""
    import io

    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= 0:
        return b""
    body: bytes = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _respond(reply: Reply, start_response: Callable[..., Any]) -> list[bytes]:
    payload = reply.body if reply.stream else json.dumps(reply.body, default=str).encode()
    content_type = "application/vnd.amazon.eventstream" if reply.stream else "application/json"
    headers = [
        ("Content-Type", content_type),
        ("Content-Length", str(len(payload))),
        ("x-amzn-RequestId", "sandbox"),
    ]
    if reply.error_type:
        headers.append(("x-amzn-ErrorType", reply.error_type))
    reasons = {200: "OK", 201: "Created", 202: "Accepted", 400: "Bad Request", 404: "Not Found"}
    start_response(f"{reply.status} {reasons.get(reply.status, 'Error')}", headers)
    return [payload]


# --------------------------------------------------------------------------- the server


def _check_loopback(host: str) -> None:
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise SandboxError(
            f"The sandbox only listens on loopback addresses, not on '{host}'.",
            hint="Use 127.0.0.1 (the default): the sandbox is for this machine only.",
        )


def _quiet_request_handler() -> Any:
    """moto's request handler without the access log line per request (errors still log)."""
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    class QuietRequestHandler(MotoRequestHandler):
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            return None

    return QuietRequestHandler


@dataclass
class Sandbox:
    """A running (or startable) sandbox server. Use as a context manager or start()/stop()."""

    host: str = "127.0.0.1"
    port: int = 0
    region: str = "us-east-1"
    account_id: str = SANDBOX_ACCOUNT_ID
    credentials: StaticCredentials = SANDBOX_CREDENTIALS
    job_seconds: float = 60.0
    """How long a customization job takes here, from creation to Completed."""
    clock: Callable[[], float] = time.time
    """The clock jobs play out by (tests pass a fake one)."""
    ready_seconds: float = 20.0
    """How long a provisioned throughput or a deployment takes to become ready here."""
    log_requests: bool = False
    """Print a line per request on stderr (the standalone server does; in-process sandboxes
    stay quiet, or the log would land in the middle of a command's output)."""
    jobs: JobSimulator = field(init=False, repr=False)
    inference: InferenceSimulator = field(init=False, repr=False)
    _server: Any = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.jobs = JobSimulator(self.job_seconds, self.clock)
        self.inference = InferenceSimulator(self.ready_seconds, self.clock)

    def start(self) -> Sandbox:
        """Start serving in a daemon thread (port 0 picks a free port). Returns self."""
        if self.running:
            return self
        _check_loopback(self.host)
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        app = _EmulationLayer(DomainDispatcherApplication(create_backend_app), self)
        handler = MotoRequestHandler if self.log_requests else _quiet_request_handler()
        try:
            self._server = make_server(
                self.host, self.port, app, threaded=True, request_handler=handler
            )
        except (OSError, SystemExit) as error:
            # werkzeug prints and calls sys.exit(1) when the port is taken.
            reason = getattr(error, "strerror", None) or "the address is in use"
            raise SandboxError(
                f"Cannot listen on {self.host}:{self.port}: {reason}.",
                hint="Another program (maybe another sandbox) uses that port. Pick another one "
                "with --port, or stop the other program.",
            ) from error
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="bedrock-tune-sandbox", daemon=True
        )
        self._thread.start()
        self.reset()
        return self

    def reset(self) -> None:
        """Forget every resource: a new sandbox starts empty.

        moto keeps its state per process, so this also clears what an earlier sandbox of this
        process left behind.
        """
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()
        self.jobs = JobSimulator(self.job_seconds, self.clock)
        self.inference = InferenceSimulator(self.ready_seconds, self.clock)

    def stop(self) -> None:
        """Stop serving and free the port."""
        server, thread = self._server, self._thread
        self._server, self._thread = None, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=10)

    @property
    def running(self) -> bool:
        """Whether the server thread is serving."""
        return self._server is not None and self._thread is not None and self._thread.is_alive()

    @property
    def endpoint_url(self) -> str:
        """The URL clients send every call to."""
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def sandbox_environment(sandbox: Sandbox) -> dict[str, str]:
    """The environment another process needs to use `sandbox` with any AWS SDK or CLI."""
    return {
        "AWS_ENDPOINT_URL": sandbox.endpoint_url,
        "AWS_ACCESS_KEY_ID": sandbox.credentials.access_key_id,
        "AWS_SECRET_ACCESS_KEY": sandbox.credentials.secret_access_key,
        "AWS_REGION": sandbox.region,
        "AWS_DEFAULT_REGION": sandbox.region,
    }


def run_forever(
    port: int,
    host: str = "127.0.0.1",
    on_ready: Callable[[Sandbox], None] | None = None,
    stop_event: threading.Event | None = None,
    job_seconds: float = 60.0,
) -> None:
    """Serve until `stop_event` is set (or KeyboardInterrupt), for `bedrock-tune sandbox`."""
    event = stop_event or threading.Event()
    with Sandbox(host=host, port=port, job_seconds=job_seconds, log_requests=True) as sandbox:
        if on_ready is not None:
            on_ready(sandbox)
        while not event.wait(0.5):
            pass
