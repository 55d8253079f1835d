"""bedrock-tune's error types, and the one place where AWS errors become ours.

Every error a person can see has a title (what went wrong, in a few words), a message (the
details: which profile, region, resource) and a hint (what to do next). Screens show the three
in one error panel; the CLI prints them to stderr.

`translate_client_error` is the only function that looks inside botocore exceptions. Everything
else in core/ calls AWS through it (usually via `aws_call`) and raises our types.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class BedrockTuneError(Exception):
    """Base class: every error we raise on purpose carries a title, a message and a hint."""

    default_title = "Something went wrong"

    def __init__(self, message: str, *, hint: str = "", title: str | None = None) -> None:
        super().__init__(message)
        self.title = title or self.default_title
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message

    def describe(self) -> str:
        """Title, message and hint as plain text lines (for the CLI and logs)."""
        lines = [f"{self.title}: {self.message}"]
        if self.hint:
            lines.append(f"Hint: {self.hint}")
        return "\n".join(lines)


class NoCredentialsError(BedrockTuneError):
    """No AWS credentials could be found for the chosen profile or the environment."""

    default_title = "No AWS credentials"


class ProfileNotFoundError(BedrockTuneError):
    """The named profile is in neither ~/.aws/config nor ~/.aws/credentials."""

    default_title = "Unknown AWS profile"


class ExpiredSSOTokenError(BedrockTuneError):
    """An IAM Identity Center (SSO) profile whose cached token is missing or expired."""

    default_title = "SSO session expired"

    def __init__(self, profile: str | None, detail: str = "") -> None:
        name = profile or "default"
        command = f"aws sso login --profile {name}" if profile else "aws sso login"
        message = f"The SSO session of profile '{name}' has expired or was never started."
        if detail:
            message += f" ({detail})"
        super().__init__(message, hint=f"Run `{command}` in a terminal, then check again.")
        self.profile = profile
        self.command = command


class ExpiredCredentialsError(BedrockTuneError):
    """Temporary credentials (a session token) that have expired."""

    default_title = "Credentials expired"


class InvalidCredentialsError(BedrockTuneError):
    """Access keys that AWS does not recognise, or a secret key that does not match."""

    default_title = "Invalid credentials"


class AccessDeniedError(BedrockTuneError):
    """The identity is not allowed to make the call (IAM policy, SCP, or model access)."""

    default_title = "Access denied"


class NotFoundError(BedrockTuneError):
    """The resource does not exist (in this account and region)."""

    default_title = "Not found"


class QuotaExceededError(BedrockTuneError):
    """A service quota is reached."""

    default_title = "Quota reached"


class ThrottledError(BedrockTuneError):
    """AWS kept throttling the call after botocore's own retries."""

    default_title = "AWS is throttling requests"


class ValidationError(BedrockTuneError):
    """AWS rejected the request's parameters (or we did, before sending it)."""

    default_title = "Invalid request"


class ConflictError(BedrockTuneError):
    """The resource already exists or is in a state that does not allow the call."""

    default_title = "Conflict"


class RegionNotSupportedError(BedrockTuneError):
    """Bedrock model customization is not offered in the chosen region."""

    default_title = "Region not supported"


class ConnectionFailedError(BedrockTuneError):
    """The AWS endpoint could not be reached (network, proxy, or a stopped sandbox)."""

    default_title = "Cannot reach AWS"


class DatasetError(BedrockTuneError):
    """A dataset cannot be opened or read (file, line and field named in the message)."""

    default_title = "Dataset problem"


class TemplateError(BedrockTuneError):
    """A prompt template is invalid or does not fit the dataset."""

    default_title = "Template problem"


class ServiceError(BedrockTuneError):
    """AWS answered with an internal error or an error we have no better words for."""

    default_title = "AWS returned an error"


class FileAccessError(BedrockTuneError):
    """A local file or folder cannot be read or written (permissions, full disk, wrong kind)."""

    default_title = "Cannot use a file"


# errno -> what to do about it (the message already says what and where).
_OS_ERROR_HINTS: dict[int, str] = {
    errno.EACCES: "Check the permissions of that file or folder, or choose one you can use.",
    errno.EPERM: "Check the permissions of that file or folder, or choose one you can use.",
    errno.EROFS: "That file system is read-only: choose a folder you can write to.",
    errno.ENOSPC: "The disk is full: free some space, then try again.",
    errno.EDQUOT: "Your disk quota is used up: free some space, then try again.",
    errno.ENOENT: "Check the path (relative paths start from the current folder).",
    errno.ENOTDIR: "A part of the path is a file, not a folder: check the path.",
    errno.EISDIR: "That is a folder: give the path of a file.",
    errno.EEXIST: "Something is already there: choose another path, or move it aside.",
}


def file_error(error: OSError, doing: str = "") -> FileAccessError:
    """Our error for an `OSError` from the file system: what failed, on which path, and a hint
    for its cause (permissions, read-only or full disk, wrong kind of path)."""
    where = error.filename if error.filename is not None else ""
    reason = error.strerror or str(error) or type(error).__name__
    lead = f"{doing}: " if doing else ""
    message = f"{lead}{where}: {reason}." if where != "" else f"{lead}{reason}."
    hint = _OS_ERROR_HINTS.get(
        error.errno or 0, "Check the path and its permissions, then try again."
    )
    return FileAccessError(message, hint=hint)


# --------------------------------------------------------------------------- translation

_THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "SlowDown",
        "RequestLimitExceeded",
    }
)
_EXPIRED_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired"})
_INVALID_CREDENTIAL_CODES = frozenset(
    {
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
        "IncompleteSignature",
        "AuthFailure",
        "InvalidToken",
    }
)
_ACCESS_DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Forbidden"}
)
_NOT_FOUND_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "NoSuchEntity",
        "NoSuchBucket",
        "NoSuchKey",
        "NotFound",
        "404",
        "NoSuchEntityException",
        "ResourceNotFound",  # SageMaker's (an AutoML job, hub content, an endpoint...)
    }
)
_QUOTA_CODES = frozenset(
    {
        "ServiceQuotaExceededException",
        "LimitExceeded",
        "LimitExceededException",
        "TooManyBuckets",
        "ResourceLimitExceeded",  # SageMaker: an instance type's quota
    }
)
_SERVICE_LIMIT = re.compile(r"service limit '([^']+)' is (\d+)")
"""SageMaker's ResourceLimitExceeded names the quota: "The account-level service limit
'ml.p4d.24xlarge for training job usage' is 0 Instances, ..."."""
_VALIDATION_CODES = frozenset(
    {
        "ValidationException",
        "ValidationError",
        "InvalidParameterValue",
        "InvalidParameterException",
        "InvalidBucketName",
        "MalformedPolicyDocument",
        "InvalidInput",
        "InvalidRequest",
        "TooManyTagsException",
    }
)
_CONFLICT_CODES = frozenset(
    {
        "ConflictException",
        "EntityAlreadyExists",
        "BucketAlreadyExists",
        "BucketAlreadyOwnedByYou",
        "ResourceInUseException",
    }
)
_SCP_PATTERN = re.compile(r"service control policy", re.IGNORECASE)
_ACTION_PATTERN = re.compile(r"perform:\s*([a-z0-9-]+:[A-Za-z0-9*]+)")


def _error_fields(error: Any) -> tuple[str, str, str]:
    response = getattr(error, "response", None) or {}
    detail = response.get("Error", {}) if isinstance(response, dict) else {}
    code = str(detail.get("Code", "") or "")
    message = str(detail.get("Message", "") or "") or str(error)
    operation = str(getattr(error, "operation_name", "") or "")
    return code, message, operation


def translate_client_error(error: Exception, *, context: str = "") -> BedrockTuneError:
    """Turn a botocore `ClientError` into one of our errors, with a hint a person can act on.

    Args:
        error: the exception botocore raised (a `ClientError` or anything with `.response`).
        context: what we were doing, e.g. "checking the identity of profile 'dev'"; it leads
            the message.

    Returns:
        The translated error; the caller raises it `from error`.
    """
    code, aws_message, operation = _error_fields(error)
    lead = f"{context}: " if context else (f"{operation}: " if operation else "")
    message = f"{lead}{aws_message}" if aws_message else f"{lead}{code}"

    if code in _THROTTLING_CODES:
        return ThrottledError(
            message,
            hint="AWS is limiting the request rate. Wait a minute and try again; "
            "bedrock-tune already retried with backoff.",
        )
    if code in _EXPIRED_CODES:
        return ExpiredCredentialsError(
            message,
            hint="Your temporary credentials have expired. Refresh them (for SSO: "
            "`aws sso login --profile <name>`; for assumed roles: assume the role again).",
        )
    if code in _INVALID_CREDENTIAL_CODES:
        return InvalidCredentialsError(
            message,
            hint="The access key is unknown to AWS or the secret key does not match. Check "
            "the keys of this profile (`aws configure list`), or create new ones in IAM.",
        )
    if code in _ACCESS_DENIED_CODES or (code == "403" and "denied" in aws_message.lower()):
        action = _ACTION_PATTERN.search(aws_message)
        needed = f" The missing permission is {action.group(1)}." if action else ""
        if _SCP_PATTERN.search(aws_message):
            return AccessDeniedError(
                message,
                title="Denied by a service control policy",
                hint="Your organization's service control policy (SCP) denies this call, so no "
                f"IAM policy in this account can allow it.{needed} Ask your AWS administrator "
                "to allow it for this account and region.",
            )
        return AccessDeniedError(
            message,
            hint=f"Your identity is not allowed to make this call.{needed} Add the permission "
            "to your IAM user or role (the README lists every permission bedrock-tune needs).",
        )
    if code in _NOT_FOUND_CODES:
        return NotFoundError(
            message,
            hint="Check the name or ARN, and that you are in the right account and region.",
        )
    if code in _QUOTA_CODES and (limit := _SERVICE_LIMIT.search(aws_message)):
        quota, value = limit.group(1), limit.group(2)
        return QuotaExceededError(
            message,
            title="No quota for this instance type",
            hint=f"Your account's SageMaker quota '{quota}' is {value} in this region. Raise it "
            "in the Service Quotas console (AWS services > Amazon SageMaker > search "
            f"'{quota}' > Request increase), or with `aws service-quotas "
            "request-service-quota-increase --service-code sagemaker --quota-code <code> "
            "--desired-value 1` (find the code with `aws service-quotas list-service-quotas "
            "--service-code sagemaker`). Or choose an instance type you have quota for.",
        )
    if code in _QUOTA_CODES:
        return QuotaExceededError(
            message,
            hint="A service quota is reached. Delete resources you no longer need, or request "
            "an increase in the Service Quotas console for this region.",
        )
    if code in _VALIDATION_CODES:
        return ValidationError(message, hint="AWS rejected a parameter; the message says which.")
    if code in _CONFLICT_CODES:
        return ConflictError(
            message, hint="The resource already exists or is busy. Check its current state."
        )
    return ServiceError(
        message or code or "Unknown error",
        hint="If this persists, retry later or in another region; the AWS message is above.",
    )


def translate_botocore_error(
    error: Exception, *, context: str = "", profile: str | None = None
) -> BedrockTuneError:
    """Translate any botocore exception (client errors, credential and connection errors)."""
    from botocore import exceptions as bx  # lazy: keep `import core.errors` light
    from botocore.parsers import ResponseParserError

    lead = f"{context}: " if context else ""
    if isinstance(error, bx.ClientError):
        return translate_client_error(error, context=context)
    if isinstance(error, bx.UnauthorizedSSOTokenError | bx.SSOTokenLoadError):
        return ExpiredSSOTokenError(profile, detail=str(error).split("\n")[0])
    if isinstance(error, bx.TokenRetrievalError):
        return ExpiredSSOTokenError(profile, detail=str(error))
    if isinstance(error, bx.ProfileNotFound):
        return ProfileNotFoundError(
            f"{lead}the profile '{profile}' is not in your AWS config or credentials files.",
            hint="Pick one of the listed profiles, or add it with `aws configure --profile "
            f"{profile}` (or `aws configure sso`).",
        )
    if isinstance(error, bx.NoCredentialsError | bx.PartialCredentialsError):
        return NoCredentialsError(
            f"{lead}no AWS credentials were found"
            + (f" for profile '{profile}'." if profile else "."),
            hint="Run `aws configure` (access keys) or `aws configure sso` (IAM Identity "
            "Center), or set AWS_PROFILE. Without an account, use the sandbox: "
            "`bedrock-tune --sandbox`.",
        )
    if isinstance(
        error, bx.EndpointConnectionError | bx.ConnectTimeoutError | bx.ProxyConnectionError
    ):
        return ConnectionFailedError(
            f"{lead}{error}",
            hint="Check your network or proxy. If you set AWS_ENDPOINT_URL (for example to a "
            "bedrock-tune sandbox), make sure that server is running.",
        )
    if isinstance(error, bx.ReadTimeoutError | bx.ConnectionClosedError):
        return ConnectionFailedError(
            f"{lead}{error}", hint="The connection dropped. Try again; it is usually transient."
        )
    if isinstance(error, bx.InvalidConfigError | bx.ConfigParseError):
        return BedrockTuneError(
            f"{lead}{error}",
            title="Broken AWS configuration",
            hint="Fix the file named above (usually ~/.aws/config), then try again.",
        )
    if isinstance(error, bx.BotoCoreError):
        return ServiceError(f"{lead}{error}", hint="See the message above.")
    if isinstance(error, ResponseParserError):
        # Not a BotoCoreError: botocore raises it when the endpoint answers with something that
        # is not an AWS response (a web page, a proxy's error page, a wrong path).
        first = str(error).split("\n")[0].split(":")[0]
        return ServiceError(
            f"{lead}the endpoint did not answer like AWS ({first}).",
            title="Not an AWS answer",
            hint="Check the endpoint URL (--endpoint-url or AWS_ENDPOINT_URL): it must be the "
            "address of AWS or of a sandbox, such as http://127.0.0.1:4566, with no path.",
        )
    if isinstance(error, BedrockTuneError):
        return error
    return ServiceError(f"{lead}{error}", hint="This is unexpected; please report it.")


@contextmanager
def aws_call(context: str, *, profile: str | None = None) -> Iterator[None]:
    """Run a block of boto3 calls and re-raise anything botocore raises as our error.

    Example:
        with aws_call("listing foundation models in us-east-1"):
            response = client.list_foundation_models()
    """
    from botocore.exceptions import BotoCoreError, ClientError
    from botocore.parsers import ResponseParserError

    try:
        yield
    except (ClientError, BotoCoreError, ResponseParserError) as error:
        raise translate_botocore_error(error, context=context, profile=profile) from error


def error_code(error: BaseException) -> str:
    """The AWS error code behind one of our errors (or a raw ClientError), else ''."""
    source: BaseException | None = error
    while source is not None:
        response = getattr(source, "response", None)
        if isinstance(response, dict):
            return str(response.get("Error", {}).get("Code", ""))
        source = source.__cause__
    return ""


def describe_unexpected(error: BaseException) -> BedrockTuneError:
    """Wrap an exception we did not anticipate so it can still be shown in the error panel."""
    if isinstance(error, BedrockTuneError):
        return error
    return ServiceError(
        f"{type(error).__name__}: {error}",
        title="Unexpected error",
        hint="This is a bug in bedrock-tune. Please report it with the message above.",
    )
