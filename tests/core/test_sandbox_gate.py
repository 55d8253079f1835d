"""The sandbox's front door, probed with raw HTTP as a web page (or anything else on the machine)
could: only loopback hosts, no CORS, unsigned requests refused as AWS refuses them, while
boto3, signed requests and presigned URLs keep working."""

from __future__ import annotations

import http.client
import urllib.request
from collections.abc import Iterator
from typing import Literal

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from core.sandbox.gate import host_allowed
from core.sandbox.server import Sandbox
from tests.fakes import plain_client

UNSIGNED_CALLS = Config(signature_version=UNSIGNED)
Service = Literal["s3", "sts", "iam", "bedrock", "sagemaker"]
BUCKET = "gate-private"
SECRET_KEY = "reports/secret-plan.txt"
FAKE_V4 = (
    "AWS4-HMAC-SHA256 Credential=sandbox/20260101/us-east-1/{service}/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=0123456789abcdef"
)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as running:
        s3 = boto3.client("s3", **plain_client(running))
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key=SECRET_KEY, Body=b"top secret")
        yield running


def raw(
    sandbox: Sandbox, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    """One request exactly as given (http.client adds no Host when one is given)."""
    connection = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=10)
    try:
        connection.putrequest(method, path, skip_host="Host" in headers)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def host(sandbox: Sandbox) -> str:
    return f"127.0.0.1:{sandbox.port}"


def no_cors(headers: dict[str, str]) -> bool:
    return not any(name.startswith("access-control-") for name in headers)


def test_a_cross_origin_unsigned_listing_is_refused(sandbox: Sandbox) -> None:
    status, headers, body = raw(
        sandbox,
        "GET",
        f"/{BUCKET}?list-type=2",
        {"Host": host(sandbox), "Origin": "https://evil.example"},
    )
    assert status == 403
    assert b"<Code>AccessDenied</Code>" in body
    assert SECRET_KEY.encode() not in body
    assert no_cors(headers)


def test_signed_answers_carry_no_cors_even_for_an_origin(sandbox: Sandbox) -> None:
    status, headers, body = raw(
        sandbox,
        "GET",
        f"/{BUCKET}?list-type=2",
        {
            "Host": host(sandbox),
            "Origin": "https://evil.example",
            "Authorization": FAKE_V4.format(service="s3"),
            "X-Amz-Date": "20260101T000000Z",
        },
    )
    assert status == 200 and SECRET_KEY.encode() in body
    assert no_cors(headers)


def test_a_preflight_is_refused_without_cors(sandbox: Sandbox) -> None:
    status, headers, _ = raw(
        sandbox,
        "OPTIONS",
        f"/{BUCKET}?list-type=2",
        {
            "Host": host(sandbox),
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert status == 403
    assert no_cors(headers)


@pytest.mark.parametrize(
    "name",
    ["evil.example", "127.0.0.1.evil.example", "localhost.evil.example", "0.0.0.0", "10.0.0.1"],
)
def test_only_loopback_hosts_are_answered(sandbox: Sandbox, name: str) -> None:
    """A DNS-rebinding page reaches 127.0.0.1 under its own name: refused before any AWS logic
    (even a signed request)."""
    status, _, body = raw(
        sandbox,
        "GET",
        f"/{BUCKET}?list-type=2",
        {"Host": f"{name}:{sandbox.port}", "Authorization": FAKE_V4.format(service="s3")},
    )
    assert status == 400 and SECRET_KEY.encode() not in body


@pytest.mark.parametrize("name", ["127.0.0.1", "127.1.2.3", "localhost", "LocalHost", "[::1]"])
def test_loopback_names_with_the_port_are_answered(sandbox: Sandbox, name: str) -> None:
    status, _, body = raw(
        sandbox,
        "GET",
        f"/{BUCKET}?list-type=2",
        {"Host": f"{name}:{sandbox.port}", "Authorization": FAKE_V4.format(service="s3")},
    )
    assert status == 200 and SECRET_KEY.encode() in body


def test_the_host_must_carry_the_sandboxs_port() -> None:
    assert host_allowed("127.0.0.1:4566", 4566)
    assert not host_allowed("127.0.0.1:4567", 4566)
    assert not host_allowed("127.0.0.1", 4566)
    assert not host_allowed("localhost", 4566)
    assert not host_allowed("", 4566) and not host_allowed(None, 4566)
    assert not host_allowed("[::2]:4566", 4566)


def test_unsigned_calls_get_each_services_error(sandbox: Sandbox) -> None:
    expected: dict[tuple[Service, str, tuple[tuple[str, str], ...]], tuple[str, int]] = {
        ("s3", "list_objects_v2", (("Bucket", BUCKET),)): ("AccessDenied", 403),
        ("sts", "get_caller_identity", ()): ("MissingAuthenticationToken", 403),
        ("iam", "list_roles", ()): ("MissingAuthenticationToken", 403),
        ("bedrock", "list_custom_models", ()): ("MissingAuthenticationTokenException", 403),
        ("sagemaker", "list_training_jobs", ()): ("MissingAuthenticationTokenException", 403),
    }
    for (service, operation, params), (code, status) in expected.items():
        unsigned = boto3.client(
            service, **plain_client(sandbox, config=Config(signature_version=UNSIGNED))
        )
        with pytest.raises(ClientError) as caught:
            getattr(unsigned, operation)(**dict(params))
        assert caught.value.response["Error"]["Code"] == code, service
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status, service


def test_an_authorization_header_that_is_no_signature_is_malformed(sandbox: Sandbox) -> None:
    bearer = {"Host": host(sandbox), "Authorization": "Bearer stolen-token"}
    status, _, body = raw(sandbox, "GET", f"/{BUCKET}?list-type=2", bearer)
    assert status == 400 and b"AuthorizationHeaderMalformed" in body
    status, headers, _ = raw(sandbox, "GET", "/custom-models", bearer)
    assert status == 400 and headers["x-amzn-errortype"] == "IncompleteSignature"


def test_what_aws_takes_unsigned_stays_allowed(sandbox: Sandbox) -> None:
    sts = boto3.client("sts", **plain_client(sandbox, config=UNSIGNED_CALLS))
    answer = sts.assume_role_with_web_identity(
        RoleArn=f"arn:aws:iam::{sandbox.account_id}:role/web",
        RoleSessionName="web-session",
        WebIdentityToken="a-web-identity-token",
    )
    assert answer["Credentials"]["AccessKeyId"]


def test_moto_s_own_control_endpoints_are_closed(sandbox: Sandbox) -> None:
    status, _, _ = raw(sandbox, "POST", "/moto-api/reset", {"Host": host(sandbox)})
    assert status == 403
    keys = boto3.client("s3", **plain_client(sandbox)).list_objects_v2(Bucket=BUCKET)["Contents"]
    assert [k["Key"] for k in keys] == [SECRET_KEY]


@pytest.mark.parametrize("version", ["s3", "s3v4"])
def test_presigned_urls_still_work(sandbox: Sandbox, version: str) -> None:
    s3 = boto3.client("s3", **plain_client(sandbox, config=Config(signature_version=version)))
    url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": SECRET_KEY})
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"top secret"
