"""The AWS context: which profile, region and endpoint bedrock-tune talks to, and how.

`AwsContext` holds one boto3 Session and makes clients on demand, all with one botocore `Config`
(standard retries, timeouts, the `bedrock-tune/<version>` user agent). It never creates a client at
import time (moto's rule, and a fast first paint). The environment is honoured the way the AWS CLI
does: `AWS_PROFILE`, `AWS_REGION` / `AWS_DEFAULT_REGION`, `AWS_ENDPOINT_URL`.

Profile discovery reads `~/.aws/config` and `~/.aws/credentials` (or `AWS_CONFIG_FILE` /
`AWS_SHARED_CREDENTIALS_FILE`) through botocore, so SSO profiles (`sso_session` or the legacy
`sso_start_url`), assumed roles and credential processes are all seen and described.

The sandbox is just a context with an endpoint URL and static credentials
(`AwsContext.for_endpoint`); nothing below branches on it.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypedDict, overload

from core.errors import (
    BedrockTuneError,
    ValidationError,
    aws_call,
    translate_botocore_error,
)
from core.version import __version__

if TYPE_CHECKING:
    # Type stubs only (the `dev` extra's types-boto3 packages): nothing here is imported at run
    # time, so the first paint still does not import boto3.
    import boto3
    from botocore.client import BaseClient
    from botocore.config import Config
    from types_boto3_bedrock import BedrockClient
    from types_boto3_bedrock_runtime import BedrockRuntimeClient
    from types_boto3_iam import IAMClient
    from types_boto3_kms import KMSClient
    from types_boto3_logs import CloudWatchLogsClient
    from types_boto3_s3 import S3Client
    from types_boto3_sagemaker import SageMakerClient
    from types_boto3_sagemaker_runtime import SageMakerRuntimeClient
    from types_boto3_sts import STSClient

DEFAULT_REGION = "us-east-1"
"""The region used when neither the profile nor the environment names one."""

ServiceName = Literal[
    "bedrock",
    "bedrock-runtime",
    "s3",
    "iam",
    "sts",
    "kms",
    "sagemaker",
    "sagemaker-runtime",
    "logs",
]
"""The AWS services bedrock-tune calls (each has typed client stubs in the `dev` extra)."""

ProfileKind = Literal["sso", "keys", "assume-role", "process", "web-identity", "other"]

S3_URI = re.compile(
    r"s3://[a-z0-9][-.a-z0-9]{1,61}[a-z0-9](?:/[-!_*'().a-z0-9A-Z]+(?:/[-!_*'().a-z0-9A-Z]+)*)?/?"
)
"""The `S3Uri` shape Bedrock's APIs accept (botocore's bedrock model); the dataset validator,
the upload and the job request all check against it."""
S3_URI_MAX = 1024
"""The longest `S3Uri` CreateModelCustomizationJob accepts."""


def partition_of(region: str) -> str:
    """The ARN partition of a region (`aws`, `aws-cn`, `aws-us-gov`)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


@dataclass(frozen=True)
class StaticCredentials:
    """Explicit credentials (the sandbox's fake ones, or keys given on purpose)."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


@dataclass(frozen=True)
class ProfileInfo:
    """One named profile from the AWS config and credentials files."""

    name: str
    kind: ProfileKind
    region: str | None = None
    sso_start_url: str | None = None
    sso_session: str | None = None
    sso_account_id: str | None = None
    sso_role_name: str | None = None
    role_arn: str | None = None
    source_profile: str | None = None

    @property
    def description(self) -> str:
        """One line saying where this profile's credentials come from."""
        if self.kind == "sso":
            where = self.sso_session or self.sso_start_url or "IAM Identity Center"
            role = f" as {self.sso_role_name}" if self.sso_role_name else ""
            account = f" in {self.sso_account_id}" if self.sso_account_id else ""
            return f"SSO ({where}){role}{account}"
        if self.kind == "assume-role":
            via = f" via {self.source_profile}" if self.source_profile else ""
            return f"assumes {self.role_arn}{via}"
        return {
            "keys": "access keys",
            "process": "credential_process",
            "web-identity": "web identity token",
            "other": "configuration only",
        }.get(self.kind, self.kind)


@dataclass(frozen=True)
class Identity:
    """Who the credentials belong to (STS GetCallerIdentity)."""

    account: str
    arn: str
    user_id: str


def endpoint_url_problem(url: str) -> str | None:
    """Why `url` cannot be an AWS endpoint (None when it can).

    An endpoint is `http(s)://host[:port]`: AWS and the sandbox route by host and request path,
    so a path (`http://127.0.0.1:4566/foo`) makes every answer a web server's 404 page, which
    botocore cannot parse. User info (`user:secret@host`) would put a secret in logs.
    """
    from urllib.parse import urlsplit

    shown = f"'{url}'"
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        return f"{shown} is not a valid endpoint URL ({error})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{shown} is not an http:// or https:// URL with a host"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return f"{shown} has a path; an endpoint URL is only scheme, host and port"
    if parts.username is not None or parts.password is not None:
        return f"{shown} holds a user name or password; an endpoint URL is scheme, host and port"
    if port == 0:
        return f"{shown} has port 0; give the port the endpoint listens on"
    return None


def check_endpoint_url(url: str | None, source: str = "--endpoint-url") -> str | None:
    """`url` when it is a valid endpoint (or None); else ValidationError naming `source`."""
    if url is None:
        return None
    problem = endpoint_url_problem(url)
    if problem is not None:
        raise ValidationError(
            f"{source}: {problem}.",
            title="Invalid endpoint URL",
            hint=f"Fix {source}, for example http://127.0.0.1:4566 for a local sandbox, or "
            "unset it to talk to AWS.",
        )
    return url


def _client_config() -> Config:
    from botocore.config import Config

    return Config(
        retries={"mode": "standard", "max_attempts": 8},
        connect_timeout=5,
        read_timeout=60,
        user_agent_extra=f"bedrock-tune/{__version__}",
        max_pool_connections=20,
    )


@dataclass
class _ClientCache:
    """The Session and clients one context made so far (the mutable part of a frozen context)."""

    session: boto3.Session | None = None
    clients: dict[str, BaseClient] = field(default_factory=dict)


@dataclass(frozen=True)
class AwsContext:
    """Where and as whom bedrock-tune calls AWS.

    Build one with `AwsContext.from_environment(...)` (the user's profiles) or
    `AwsContext.for_endpoint(...)` (an explicit endpoint and credentials, e.g. the sandbox).
    Clients are created on first use and cached; creating them is thread-safe.
    """

    profile: str | None
    region: str
    endpoint_url: str | None = None
    credentials: StaticCredentials | None = field(default=None, repr=False)
    _cache: _ClientCache = field(
        default_factory=_ClientCache, repr=False, compare=False, hash=False
    )
    _lock: threading.Lock = field(
        default_factory=threading.Lock, repr=False, compare=False, hash=False
    )

    @classmethod
    def from_environment(
        cls,
        profile: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
    ) -> AwsContext:
        """A context for a profile, filling what is not given from the environment.

        The region comes from the argument, then `AWS_REGION` / `AWS_DEFAULT_REGION`, then the
        profile's `region`, then us-east-1. The endpoint from the argument, then
        `AWS_ENDPOINT_URL` (botocore applies that one itself; we keep it for display).
        """
        chosen = profile if profile is not None else os.environ.get("AWS_PROFILE") or None
        resolved = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if not resolved and chosen is not None:
            info = next((p for p in discover_profiles() if p.name == chosen), None)
            resolved = info.region if info else None
        if not resolved and chosen is None:
            info = next((p for p in discover_profiles() if p.name == "default"), None)
            resolved = info.region if info else None
        if endpoint_url:
            endpoint = check_endpoint_url(endpoint_url, "the endpoint URL")
        else:
            endpoint = check_endpoint_url(
                os.environ.get("AWS_ENDPOINT_URL") or None, "AWS_ENDPOINT_URL"
            )
        return cls(profile=chosen, region=resolved or DEFAULT_REGION, endpoint_url=endpoint)

    @classmethod
    def for_endpoint(
        cls, endpoint_url: str, credentials: StaticCredentials, region: str = DEFAULT_REGION
    ) -> AwsContext:
        """A context that sends every call to `endpoint_url` with explicit credentials."""
        check_endpoint_url(endpoint_url, "the endpoint URL")
        return cls(profile=None, region=region, endpoint_url=endpoint_url, credentials=credentials)

    def with_region(self, region: str) -> AwsContext:
        """The same identity and endpoint in another region (a new client cache)."""
        return replace(self, region=region, _cache=_ClientCache(), _lock=threading.Lock())

    @property
    def profile_label(self) -> str:
        """How to name this context's identity source in the UI."""
        if self.credentials is not None:
            return "explicit credentials"
        return self.profile or "default chain"

    def session(self) -> boto3.Session:
        """The boto3 Session (created on first use)."""
        with self._lock:
            return self._session_locked()

    def _session_locked(self) -> boto3.Session:
        cached = self._cache.session
        if cached is not None:
            return cached
        import boto3

        try:
            core_session = _botocore_session(self.profile if self.credentials is None else None)
            if self.credentials is not None:
                session = boto3.Session(
                    aws_access_key_id=self.credentials.access_key_id,
                    aws_secret_access_key=self.credentials.secret_access_key,
                    aws_session_token=self.credentials.session_token,
                    region_name=self.region,
                    botocore_session=core_session,
                )
            else:
                session = boto3.Session(
                    profile_name=self.profile,
                    region_name=self.region,
                    botocore_session=core_session,
                )
        except Exception as error:  # ProfileNotFound and config parse errors
            raise translate_botocore_error(error, profile=self.profile) from error
        self._cache.session = session
        return session

    # One overload per service: the stubs' client type for each, so every call is type-checked.
    @overload
    def client(self, service: Literal["bedrock"], region: str | None = None) -> BedrockClient: ...
    @overload
    def client(
        self, service: Literal["bedrock-runtime"], region: str | None = None
    ) -> BedrockRuntimeClient: ...
    @overload
    def client(self, service: Literal["s3"], region: str | None = None) -> S3Client: ...
    @overload
    def client(self, service: Literal["iam"], region: str | None = None) -> IAMClient: ...
    @overload
    def client(self, service: Literal["sts"], region: str | None = None) -> STSClient: ...
    @overload
    def client(self, service: Literal["kms"], region: str | None = None) -> KMSClient: ...
    @overload
    def client(
        self, service: Literal["sagemaker"], region: str | None = None
    ) -> SageMakerClient: ...
    @overload
    def client(
        self, service: Literal["sagemaker-runtime"], region: str | None = None
    ) -> SageMakerRuntimeClient: ...
    @overload
    def client(
        self, service: Literal["logs"], region: str | None = None
    ) -> CloudWatchLogsClient: ...

    def client(self, service: ServiceName, region: str | None = None) -> BaseClient:
        """A boto3 client for `service` (cached per service and region).

        `region` overrides the context's region for this client only (e.g. listing models in
        another region to say where one is offered).
        """
        key = f"{service}@{region or self.region}"
        with self._lock:
            cached = self._cache.clients.get(key)
            if cached is not None:
                return cached
            session = self._session_locked()
            try:
                client: BaseClient = session.client(
                    service,
                    region_name=region or self.region,
                    endpoint_url=self.endpoint_url,
                    config=_client_config(),
                )
            except Exception as error:
                raise translate_botocore_error(
                    error, context=f"creating the {service} client", profile=self.profile
                ) from error
            self._cache.clients[key] = client
            return client

    def has_credentials(self) -> bool:
        """Whether any credentials resolve for this context (no network call for most sources).

        SSO profiles resolve lazily, so an expired SSO token shows up later, in `whoami`.
        """
        if self.credentials is not None:
            return True
        try:
            return self.session().get_credentials() is not None
        except BedrockTuneError:
            return False
        except Exception:
            return False

    def whoami(self) -> Identity:
        """Check the identity with STS GetCallerIdentity.

        Raises:
            NoCredentialsError, ProfileNotFoundError, ExpiredSSOTokenError,
            ExpiredCredentialsError, InvalidCredentialsError, ConnectionFailedError: with a hint
            that says what to do.
        """
        context = f"checking the identity of {self.profile_label}"
        with aws_call(context, profile=self.profile):
            response = self.client("sts").get_caller_identity()
        return Identity(
            account=str(response["Account"]),
            arn=str(response["Arn"]),
            user_id=str(response["UserId"]),
        )


class BucketOwner(TypedDict, total=False):
    """The `ExpectedBucketOwner` keyword of an S3 call, present when the account is known."""

    ExpectedBucketOwner: str


def bucket_owner(account_id: str | None) -> BucketOwner:
    """`**bucket_owner(account)` makes S3 refuse a bucket of another account; an unknown
    account (empty or None) sends no expectation."""
    return {"ExpectedBucketOwner": account_id} if account_id else {}


def discover_profiles() -> list[ProfileInfo]:
    """Every profile in the AWS config and credentials files, `default` first.

    Reads the files only (no network, no credential resolution). A broken config file raises our
    error with the file named.
    """
    import botocore.session

    try:
        profiles: dict[str, dict[str, Any]] = botocore.session.Session().full_config.get(
            "profiles", {}
        )
    except Exception as error:
        raise translate_botocore_error(error, context="reading your AWS configuration") from error
    found = [_profile_info(name, values) for name, values in profiles.items()]
    found.sort(key=lambda p: (p.name != "default", p.name.lower()))
    return found


def _profile_info(name: str, values: dict[str, Any]) -> ProfileInfo:
    kind: ProfileKind
    if "sso_session" in values or "sso_start_url" in values:
        kind = "sso"
    elif "role_arn" in values:
        kind = "web-identity" if "web_identity_token_file" in values else "assume-role"
    elif "credential_process" in values:
        kind = "process"
    elif "aws_access_key_id" in values:
        kind = "keys"
    else:
        kind = "other"
    return ProfileInfo(
        name=name,
        kind=kind,
        region=values.get("region"),
        sso_start_url=values.get("sso_start_url"),
        sso_session=values.get("sso_session"),
        sso_account_id=values.get("sso_account_id"),
        sso_role_name=values.get("sso_role_name"),
        role_arn=values.get("role_arn"),
        source_profile=values.get("source_profile"),
    )


def environment_has_keys() -> bool:
    """Whether access keys are set in the environment (they win over any profile)."""
    return bool(os.environ.get("AWS_ACCESS_KEY_ID") and os.environ.get("AWS_SECRET_ACCESS_KEY"))


def default_profile_name(profiles: list[ProfileInfo]) -> str | None:
    """The profile to preselect: `AWS_PROFILE`, else `default`, else the only one there is."""
    wanted = os.environ.get("AWS_PROFILE")
    names = [p.name for p in profiles]
    if wanted and wanted in names:
        return wanted
    if "default" in names:
        return "default"
    return names[0] if len(names) == 1 else None


_LOADERS: dict[str | None, Any] = {}
_LOADERS_LOCK = threading.Lock()


def _botocore_session(profile: str | None) -> Any:
    """A new botocore session that reads the service models through one loader per process.

    Each botocore session otherwise makes its own loader, and every new context (another region,
    the sandbox, each CLI command run in one process) parsed the models again: SageMaker's JSON
    alone takes ~50 ms. The models are read-only data and a loader caches what it reads, so one
    loader serves every session; `AWS_DATA_PATH` (botocore's `data_path`) keeps its own.
    Reading the profile's `data_path` raises botocore's ProfileNotFound for an unknown profile,
    here as it would in `boto3.Session(profile_name=...)`.
    """
    import botocore.session
    from botocore.loaders import Loader

    session = botocore.session.Session(profile=profile)
    data_path: str | None = session.get_config_variable("data_path")
    with _LOADERS_LOCK:
        loader = _LOADERS.get(data_path)
        if loader is None:
            folders = data_path.split(os.pathsep) if data_path else []
            paths = _SearchPaths(str(Path(os.path.expandvars(f)).expanduser()) for f in folders)
            # The loader keeps this very list (and adds botocore's own folders to it).
            loader = _LOADERS[data_path] = Loader(extra_search_paths=paths)
    session.register_component("data_loader", loader)
    return session


class _SearchPaths(list[str]):
    """A loader's folder list that takes each folder once: boto3 appends its own data folder to
    the loader of every Session it makes, which would grow a shared list by one per session."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)
