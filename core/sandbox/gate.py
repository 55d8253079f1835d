"""The sandbox's front door: requests from this machine only, signed ones only, and no CORS.

A page in the user's browser can send requests to 127.0.0.1 too. moto's server alone answered
any `Host` (so a DNS-rebinding page could read it), reflected any `Origin` in
`Access-Control-Allow-Origin` (so any page could read the answers), and served unsigned requests
(a cross-origin `GET /bucket?list-type=2` listed a bucket). Here, as on AWS:

* the `Host` header must name a loopback host (127.0.0.0/8, `localhost`, `[::1]`) with the
  sandbox's port; anything else is refused before any AWS logic runs;
* no `Access-Control-*` header leaves the sandbox (a browser then keeps every answer from the
  page that asked), whatever moto's CORS layer adds;
* a request without a signature (no SigV4 or SigV2 `Authorization` header, no presigned query
  signature) is refused with the error the service gives: S3 `403 AccessDenied` (XML), the
  query services (STS, IAM) `403 MissingAuthenticationToken` (XML), the JSON services
  (Bedrock, SageMaker, CloudWatch Logs) `403 MissingAuthenticationTokenException`; an
  `Authorization` header that is not a signature gets S3's `400 AuthorizationHeaderMalformed`
  or `400 IncompleteSignature` (Bedrock's API error page gives 400 for it). STS's
  AssumeRoleWithWebIdentity and AssumeRoleWithSAML are unsigned on AWS, and stay allowed.

Signatures are read, not verified (moto does not know secrets): the point is that a browser
cannot send an `Authorization` header cross-origin without a CORS preflight, which is refused.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

_SCOPE = re.compile(r"^[^/]+/\d{8}/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request$")
_V4_HEADER = re.compile(r"AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+)\s*,")
_V2_HEADER = re.compile(r"AWS [^:\s]+:\S+")
_V4_QUERY = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature")
_V2_QUERY = ("AWSAccessKeyId", "Signature")
_UNSIGNED_ACTIONS = frozenset({"AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"})
_REST_JSON_ROOTS = frozenset(
    {
        "foundation-models",
        "model-customization-jobs",
        "custom-models",
        "provisioned-model-throughput",
        "provisioned-model-throughputs",
        "model-customization",
        "model",
        "model-import-jobs",
        "imported-models",
        "model-invocation-jobs",
        "model-copy-jobs",
        "inference-profiles",
        "tags",
        "listTagsForResource",
        "tagResource",
        "untagResource",
    }
)
"""First path segments of Bedrock's REST-JSON operations (botocore's bedrock and
bedrock-runtime models): an unsigned request there gets Bedrock's error, not S3's."""


@dataclass(frozen=True)
class Signature:
    """How a request says who sent it."""

    kind: str
    """`header` (SigV4 or SigV2 `Authorization`), `query` (a presigned URL), `none`, or
    `malformed` (an `Authorization` header that is not a signature)."""
    service: str | None = None
    """The SigV4 credential scope's service (None for SigV2 or no signature)."""
    region: str | None = None


def host_allowed(host: str | None, port: int) -> bool:
    """Whether a `Host` header names a loopback host with the sandbox's port."""
    if not host:
        return False
    name, _, port_text = host.rpartition(":")
    if not name or not port_text.isdigit() or int(port_text) != port:
        return False
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def read_signature(environ: dict[str, Any], query: dict[str, list[str]]) -> Signature:
    """The request's signature, as far as the headers and the query string show it."""
    authorization = str(environ.get("HTTP_AUTHORIZATION", "")).strip()
    if authorization:
        v4 = _V4_HEADER.match(authorization)
        if v4 is not None and "Signature=" in authorization:
            scope = _SCOPE.match(v4.group("credential"))
            if scope is None:
                return Signature("malformed")
            return Signature("header", scope.group("service"), scope.group("region"))
        if _V2_HEADER.fullmatch(authorization):
            return Signature("header")
        return Signature("malformed")
    if any(name in query for name in _V4_QUERY):
        if not all(query.get(name, [""])[0] for name in _V4_QUERY):
            return Signature("malformed")
        scope = _SCOPE.match(query["X-Amz-Credential"][0])
        if scope is None:
            return Signature("malformed")
        return Signature("query", scope.group("service"), scope.group("region"))
    if all(query.get(name, [""])[0] for name in _V2_QUERY):
        return Signature("query")
    return Signature("none")


def _protocol(environ: dict[str, Any], action: str | None) -> str:
    """`json`, `rest-json`, `query` or `s3`: which error format the addressed service uses."""
    if environ.get("HTTP_X_AMZ_TARGET"):
        return "json"
    if action:
        return "query"
    root = str(environ.get("PATH_INFO", "")).lstrip("/").split("/", 1)[0]
    return "rest-json" if root in _REST_JSON_ROOTS else "s3"


@dataclass(frozen=True)
class Refusal:
    """An error answer made before the request reaches any AWS logic."""

    status: str
    headers: list[tuple[str, str]]
    body: bytes


def _xml(status: str, body: str) -> Refusal:
    data = ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode()
    return Refusal(status, [("Content-Type", "application/xml")], data)


def _json(status: str, code: str, message: str, protocol: str) -> Refusal:
    import json

    payload: dict[str, str] = {"message": message}
    if protocol == "json":
        payload["__type"] = code
    headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", code)]
    return Refusal(status, headers, json.dumps(payload).encode())


def _query_error(status: str, code: str, message: str) -> Refusal:
    return _xml(
        status,
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}"
        "</Message></Error><RequestId>sandbox</RequestId></ErrorResponse>",
    )


def refuse_host() -> Refusal:
    """The answer to a request addressed to a host that is not this sandbox on loopback."""
    return Refusal(
        "400 Bad Request",
        [("Content-Type", "text/plain; charset=utf-8"), ("X-Content-Type-Options", "nosniff")],
        b"The bedrock-tune sandbox answers only requests addressed to a loopback host "
        b"(127.0.0.1, localhost or [::1]) with its own port.\n",
    )


def refuse_unsigned(
    environ: dict[str, Any], query: dict[str, list[str]], body: bytes, signature: Signature
) -> Refusal | None:
    """The error AWS gives to a request without a usable signature; None when it is signed
    (or is one of the few calls AWS takes unsigned)."""
    if signature.kind in ("header", "query"):
        return None
    actions = query.get("Action") or []
    content_type = str(environ.get("CONTENT_TYPE", ""))
    if not actions and content_type.startswith("application/x-www-form-urlencoded"):
        actions = parse_qs(body.decode("utf-8", errors="replace")).get("Action") or []
    action = actions[0] if actions else None
    if signature.kind == "none" and action in _UNSIGNED_ACTIONS:
        return None
    protocol = _protocol(environ, action)
    if signature.kind == "malformed":
        if protocol == "s3":
            return _xml(
                "400 Bad Request",
                "<Error><Code>AuthorizationHeaderMalformed</Code><Message>The authorization "
                "header that you provided is not valid.</Message><RequestId>sandbox</RequestId>"
                "</Error>",
            )
        message = "The request signature does not conform to AWS standards."
        if protocol == "query":
            return _query_error("400 Bad Request", "IncompleteSignature", message)
        return _json("400 Bad Request", "IncompleteSignature", message, protocol)
    if protocol == "s3":
        return _xml(
            "403 Forbidden",
            "<Error><Code>AccessDenied</Code><Message>Access Denied</Message>"
            "<RequestId>sandbox</RequestId></Error>",
        )
    if protocol == "query":
        return _query_error(
            "403 Forbidden", "MissingAuthenticationToken", "Request is missing Authentication Token"
        )
    return _json(
        "403 Forbidden",
        "MissingAuthenticationTokenException",
        "Missing Authentication Token",
        protocol,
    )


def without_cors(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The response headers minus every `Access-Control-*` one."""
    return [(k, v) for k, v in headers if not k.lower().startswith("access-control-")]
