"""ClientError translation: each AWS error family becomes our error with an actionable hint."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

import core.errors as errors
from core.errors import aws_call, error_code, translate_botocore_error, translate_client_error


def client_error(code: str, message: str, operation: str = "CreateRole") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("ThrottlingException", errors.ThrottledError),
        ("Throttling", errors.ThrottledError),
        ("ExpiredToken", errors.ExpiredCredentialsError),
        ("ExpiredTokenException", errors.ExpiredCredentialsError),
        ("InvalidClientTokenId", errors.InvalidCredentialsError),
        ("SignatureDoesNotMatch", errors.InvalidCredentialsError),
        ("AccessDeniedException", errors.AccessDeniedError),
        ("ResourceNotFoundException", errors.NotFoundError),
        ("NoSuchBucket", errors.NotFoundError),
        ("ServiceQuotaExceededException", errors.QuotaExceededError),
        ("ValidationException", errors.ValidationError),
        ("ConflictException", errors.ConflictError),
        ("InternalServerException", errors.ServiceError),
    ],
)
def test_codes_map_to_our_errors(code: str, kind: type[errors.BedrockTuneError]) -> None:
    translated = translate_client_error(client_error(code, "boom"))
    assert type(translated) is kind
    assert translated.hint
    assert "boom" in translated.message


def test_access_denied_names_the_missing_action() -> None:
    error = client_error(
        "AccessDenied",
        "User: arn:aws:iam::111122223333:user/dev is not authorized to perform: "
        "iam:CreateRole on resource: arn:aws:iam::111122223333:role/x",
    )
    translated = translate_client_error(error, context="creating the role")
    assert isinstance(translated, errors.AccessDeniedError)
    assert "iam:CreateRole" in translated.hint
    assert translated.message.startswith("creating the role: ")


def test_scp_deny_is_explained_as_such() -> None:
    error = client_error(
        "AccessDeniedException",
        "User: arn:aws:sts::111122223333:assumed-role/x/y is not authorized to perform: "
        "bedrock:CreateModelCustomizationJob with an explicit deny in a service control policy",
    )
    translated = translate_client_error(error)
    assert translated.title == "Denied by a service control policy"
    assert "administrator" in translated.hint
    assert "bedrock:CreateModelCustomizationJob" in translated.hint


def test_aws_call_reraises_ours_from_the_original() -> None:
    original = client_error("ThrottlingException", "slow down")
    with pytest.raises(errors.ThrottledError) as caught, aws_call("listing jobs"):
        raise original
    assert caught.value.__cause__ is original
    assert error_code(caught.value) == "ThrottlingException"


def test_connection_errors_mention_the_endpoint() -> None:
    translated = translate_botocore_error(
        EndpointConnectionError(endpoint_url="http://127.0.0.1:9"), context="checking"
    )
    assert isinstance(translated, errors.ConnectionFailedError)
    assert "AWS_ENDPOINT_URL" in translated.hint


def test_unexpected_errors_are_wrapped_for_display() -> None:
    wrapped = errors.describe_unexpected(KeyError("x"))
    assert wrapped.title == "Unexpected error"
    assert "KeyError" in wrapped.message
    ours = errors.NotFoundError("gone", hint="look elsewhere")
    assert errors.describe_unexpected(ours) is ours
    assert ours.describe() == "Not found: gone\nHint: look elsewhere"
