"""The sandbox: a local AWS on loopback, so anyone can use every step with no AWS account.

It is moto's server (S3, IAM, STS, Bedrock, SageMaker...) behind a small WSGI layer of ours that
answers what moto lacks or gets wrong (`core/sandbox/emulations.py`, whose `EMULATIONS` table is
the one list of it). Clients reach it over real HTTP with an endpoint URL and static fake
credentials, through exactly the code path they use for real AWS: nothing outside
`AwsContext.for_endpoint` knows it is talking to a sandbox.

Everything the table does not name passes through to moto unchanged. Known moto 5.2 gaps
(DESIGN.md §5): jobs stay InProgress and have no statusDetails; provisioned throughput, custom
model deployments and bedrock-runtime Converse are not implemented; `invoke_model` answers `{}`.

moto and werkzeug are imported inside methods: importing this module is cheap.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from core.aws import StaticCredentials
from core.errors import BedrockTuneError
from core.sandbox import emulations as _handlers  # noqa: F401  (importing it registers the handlers)
from core.sandbox import endpoint_emulations as _endpoints  # noqa: F401  (SageMaker endpoints)
from core.sandbox import gate
from core.sandbox.automl import AutoMLSimulator
from core.sandbox.batch import BatchSimulator
from core.sandbox.endpoints import EndpointSimulator
from core.sandbox.imports import DEFAULT_QUOTA, ImportSimulator
from core.sandbox.inference import InferenceSimulator
from core.sandbox.jobs import JobSimulator
from core.sandbox.table import EMULATIONS, PassThrough, Reply, SandboxRequest
from core.sandbox.training import TrainingSimulator

SANDBOX_ACCOUNT_ID = "123456789012"
"""moto's default account: every sandbox resource lives in it."""
SANDBOX_CREDENTIALS = StaticCredentials("sandbox", "sandbox")
IDENTITY_PATH = "/_bedrock-tune/sandbox"
"""Where a sandbox says which one it is (`core.sandbox.background.identify`). No AWS API has
this path (an S3 bucket name cannot start with an underscore)."""
IDENTITY_HEADER = "X-Bedrock-Tune-Sandbox"
"""The header an identity probe must send: a browser page cannot send a custom header to
another origin without a CORS preflight, which the sandbox never allows."""


class SandboxError(BedrockTuneError):
    """The sandbox could not start (bad address, port in use)."""

    default_title = "Sandbox problem"


# --------------------------------------------------------------------------- the WSGI layer


class _EmulationLayer:
    """WSGI middleware: the front door (`core/sandbox/gate.py`), then emulations first, moto for
    everything else."""

    def __init__(self, moto_app: Callable[..., Iterable[bytes]], sandbox: Sandbox) -> None:
        self._moto = moto_app
        self._sandbox = sandbox

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if not gate.host_allowed(environ.get("HTTP_HOST"), self._sandbox.port):
            return _refuse(gate.refuse_host(), start_response)
        self._sandbox.last_request = time.monotonic()
        if environ.get("PATH_INFO") == IDENTITY_PATH and environ.get(
            "HTTP_" + IDENTITY_HEADER.upper().replace("-", "_")
        ):
            return _respond(Reply(200, self._sandbox.identity()), start_response)
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        signature = gate.read_signature(environ, query)
        signed = signature.kind in ("header", "query")
        refusal = gate.refuse_unsigned(
            environ, query, b"" if signed else _read_body(environ), signature
        )
        if refusal is not None:
            return _refuse(refusal, start_response)
        start_response = _without_cors(start_response)
        service, region = signature.service, signature.region
        if service is not None and region is not None:
            method = environ.get("REQUEST_METHOD", "GET")
            path = environ.get("PATH_INFO", "")
            if service == "bedrock":
                self._sandbox.jobs.advance(self._sandbox.account_id, region)
            elif service in ("sagemaker", "logs", "s3"):
                self._sandbox.training.advance(self._sandbox.account_id)
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
                        query=query,
                        service=service,
                        region=region,
                        body=_read_body(environ),
                        match=match,
                        target=environ.get("HTTP_X_AMZ_TARGET", ""),
                    ),
                    self._sandbox,
                )
                if isinstance(result, Reply):
                    return _respond(result, start_response)
                if isinstance(result, PassThrough):
                    if result.body is not None:
                        import io

                        environ = {**environ, "wsgi.input": io.BytesIO(result.body)}
                        environ["CONTENT_LENGTH"] = str(len(result.body))
                    if result.path is not None:
                        environ = {**environ, "PATH_INFO": result.path}
                        environ.pop("RAW_URI", None)
                        environ.pop("REQUEST_URI", None)
                    if result.after is not None:
                        return self._edited(environ, start_response, result.after)
                    break
                # None: not this handler's operation; the next matching emulation, or moto.
                # (SageMaker's JSON operations all share `POST /`: each module answers its own.)
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


def _refuse(refusal: gate.Refusal, start_response: Callable[..., Any]) -> list[bytes]:
    headers = [*refusal.headers, ("Content-Length", str(len(refusal.body)))]
    start_response(refusal.status, headers)
    return [refusal.body]


def _without_cors(start_response: Callable[..., Any]) -> Callable[..., Any]:
    """`start_response` that drops moto's permissive CORS headers (it reflects any Origin)."""

    def filtered(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        return start_response(status, gate.without_cors(headers), exc_info)

    return filtered


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
    stop_seconds: float = 10.0
    """How long a stopped job stays Stopping before it is Stopped here."""
    clock: Callable[[], float] = time.time
    """The clock jobs play out by (tests pass a fake one)."""
    ready_seconds: float = 20.0
    """How long a provisioned throughput or a deployment takes to become ready here."""
    list_page_size: int = 100
    """Items per page of the List operations the sandbox answers, when the request names no
    maxResults (AWS does not document its default; tests set 1 to exercise pagination)."""
    batch_seconds: float = 30.0
    """How long a batch inference job takes here, from creation to its end."""
    import_seconds: float = 30.0
    """How long a model import takes here, from creation to Completed (15-18 min on AWS)."""
    imported_model_quota: int = DEFAULT_QUOTA
    """Imported models (and imports under way) the account may hold here."""
    training_seconds: float = 60.0
    """How long a SageMaker training job takes here (moto completes them at once)."""
    automl_seconds: float = 90.0
    """How long an Autopilot (AutoML v2) job takes here, from creation to Completed."""
    log_requests: bool = False
    """Print a line per request on stderr (the standalone server does; in-process sandboxes
    stay quiet, or the log would land in the middle of a command's output)."""
    instance_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    """Which sandbox this is: a sandbox started later on the same port is another world (its
    jobs and files are not this one's), and runs remember the instance they were made in."""
    last_request: float = field(default_factory=time.monotonic)
    """`time.monotonic()` of the last request (how long the sandbox has been idle)."""
    jobs: JobSimulator = field(init=False, repr=False)
    inference: InferenceSimulator = field(init=False, repr=False)
    batch: BatchSimulator = field(init=False, repr=False)
    imports: ImportSimulator = field(init=False, repr=False)
    endpoints: EndpointSimulator = field(init=False, repr=False)
    training: TrainingSimulator = field(init=False, repr=False)
    automl: AutoMLSimulator = field(init=False, repr=False)
    _server: Any = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._new_simulators()

    def _new_simulators(self) -> None:
        self.jobs = JobSimulator(self.job_seconds, self.clock, self.stop_seconds)
        self.inference = InferenceSimulator(self.ready_seconds, self.clock, self.list_page_size)
        self.batch = BatchSimulator(self.batch_seconds, self.clock, page_size=self.list_page_size)
        self.imports = ImportSimulator(
            self.import_seconds, self.clock, self.list_page_size, self.imported_model_quota
        )
        self.endpoints = EndpointSimulator(self.ready_seconds, self.clock)
        self.training = TrainingSimulator(self.training_seconds, self.clock)
        self.automl = AutoMLSimulator(self.automl_seconds, self.clock)

    def start(self) -> Sandbox:
        """Start serving in a daemon thread (port 0 picks a free port). Returns self."""
        if self.running:
            return self
        _check_loopback(self.host)
        from moto.moto_server.werkzeug_app import MotoRequestHandler
        from werkzeug.serving import make_server

        from core.sandbox.dispatch import MotoDispatcher

        app = _EmulationLayer(MotoDispatcher(), self)
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
        # serve_forever checks for a shutdown every poll_interval (0.5 s by default): a short one
        # lets `stop` (a quit, a new run, every test's sandbox) return at once instead of
        # waiting for it; the cost is a select() wake-up 20 times a second.
        serve = functools.partial(self._server.serve_forever, poll_interval=0.05)
        self._thread = threading.Thread(target=serve, name="bedrock-tune-sandbox", daemon=True)
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
        self._new_simulators()

    def stop(self) -> None:
        """Stop serving and free the port."""
        server, thread = self._server, self._thread
        self._server, self._thread = None, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=10)

    def identity(self) -> dict[str, Any]:
        """What the identity probe answers: which sandbox this is, and its process."""
        import os

        return {"instance": self.instance_id, "pid": os.getpid(), "port": self.port}

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
