"""The sandbox's emulation table and what handlers share: the request and reply types, the
`emulates` decorator that registers a handler, the errors every service answers, and the
protocol a handler sees of the running sandbox. The handlers live in `emulations.py` and beside
it; `server.py` dispatches through `EMULATIONS`."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from core.sandbox.automl import AutoMLSimulator
    from core.sandbox.batch import BatchSimulator
    from core.sandbox.endpoints import EndpointSimulator
    from core.sandbox.imports import ImportSimulator
    from core.sandbox.inference import InferenceSimulator
    from core.sandbox.jobs import JobSimulator
    from core.sandbox.training import TrainingSimulator


class Sandbox(Protocol):
    """What an emulation handler may use of the running sandbox (`core.sandbox.server.Sandbox`
    has it). A protocol, so this table does not import the server that serves it."""

    account_id: str
    endpoints: EndpointSimulator
    jobs: JobSimulator
    inference: InferenceSimulator
    batch: BatchSimulator
    imports: ImportSimulator
    training: TrainingSimulator
    automl: AutoMLSimulator


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
    target: str = ""
    """The `X-Amz-Target` header of JSON-protocol services: the operation (the Price List's,
    SageMaker's...)."""

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
    body: bytes | None = None
    """The request body moto gets instead (when a request must be reshaped for moto)."""


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
    """Register a handler for `method path` of `service` (a regex matched against the path).

    A handler answers (`Reply`), hands the request to moto (`PassThrough`), or returns None:
    not its request (another operation on the same path, as every SageMaker operation is
    `POST /`), which the next matching emulation, then moto, gets."""

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


def json_error(code: str, message: str) -> Reply:
    """An error of a JSON-protocol service (SageMaker): botocore reads its code from `__type`."""
    return Reply(400, {"__type": code, "message": message}, code)
