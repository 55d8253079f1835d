"""AwsContext, profile discovery and the identity check, against moto with fake credentials."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from moto import mock_aws

from core.aws import AwsContext, StaticCredentials, default_profile_name, discover_profiles
from core.catalog.lookup import check_region
from core.errors import (
    ExpiredSSOTokenError,
    NoCredentialsError,
    ProfileNotFoundError,
    RegionNotSupportedError,
)
from tests.conftest import WriteAwsFiles

SSO_CONFIG = """
[profile corp]
sso_session = corp-sso
sso_account_id = 111122223333
sso_role_name = MLEngineer
region = us-west-2

[sso-session corp-sso]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access

[profile legacy-sso]
sso_start_url = https://old.awsapps.com/start
sso_region = us-east-1
sso_account_id = 111122223333
sso_role_name = Admin

[profile deploy]
role_arn = arn:aws:iam::111122223333:role/Deploy
source_profile = default

[default]
region = us-east-1
"""
KEYS = """
[default]
aws_access_key_id = testing
aws_secret_access_key = testing

[dev]
aws_access_key_id = testing
aws_secret_access_key = testing
"""


def test_discovery_lists_every_kind_default_first(write_aws_config: WriteAwsFiles) -> None:
    write_aws_config(SSO_CONFIG, KEYS)
    profiles = discover_profiles()
    names = [p.name for p in profiles]
    assert names[0] == "default"
    assert set(names) == {"default", "corp", "legacy-sso", "deploy", "dev"}
    kinds = {p.name: p.kind for p in profiles}
    assert kinds == {
        "default": "keys",
        "corp": "sso",
        "legacy-sso": "sso",
        "deploy": "assume-role",
        "dev": "keys",
    }
    corp = next(p for p in profiles if p.name == "corp")
    assert corp.region == "us-west-2"
    assert "corp-sso" in corp.description and "MLEngineer" in corp.description
    assert default_profile_name(profiles) == "default"


def test_aws_profile_env_wins_for_default(
    write_aws_config: WriteAwsFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_aws_config(SSO_CONFIG, KEYS)
    monkeypatch.setenv("AWS_PROFILE", "corp")
    assert default_profile_name(discover_profiles()) == "corp"
    context = AwsContext.from_environment()
    assert context.profile == "corp"
    assert context.region == "us-west-2"  # from the profile


def test_region_precedence(
    write_aws_config: WriteAwsFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_aws_config(SSO_CONFIG, KEYS)
    assert AwsContext.from_environment("dev").region == "us-east-1"  # no region: the default
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    assert AwsContext.from_environment("corp").region == "eu-central-1"
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    assert AwsContext.from_environment("corp").region == "us-west-2"
    assert AwsContext.from_environment("corp", region="ap-south-1").region == "ap-south-1"


def test_endpoint_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    assert AwsContext.from_environment().endpoint_url == "http://127.0.0.1:4566"


@mock_aws
def test_whoami_with_a_keys_profile(write_aws_config: WriteAwsFiles) -> None:
    write_aws_config("[profile dev]\nregion = us-west-2\n", KEYS)
    identity = AwsContext.from_environment("dev").whoami()
    assert identity.account == "123456789012"
    assert identity.arn.startswith("arn:aws:")


@mock_aws
def test_clients_are_cached_and_configured(aws_keys: None) -> None:
    context = AwsContext.from_environment(region="us-west-2")
    sts = context.client("sts")
    assert context.client("sts") is sts
    assert context.client("sts", region="us-east-1") is not sts
    options = vars(sts.meta.config)  # botocore's Config keeps its options as attributes
    assert "bedrock-tune/" in options["user_agent_extra"]
    assert options["retries"]["mode"] == "standard"
    assert sts.meta.region_name == "us-west-2"


def test_every_context_reads_the_service_models_once(
    aws_keys: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    first = AwsContext.from_environment(region="us-west-2").session()
    again = AwsContext.from_environment(region="us-west-2").with_region("eu-west-1").session()
    loader = first._session.get_component("data_loader")
    assert again._session.get_component("data_loader") is loader
    # boto3 adds its data folder to the loader of each Session: the shared list keeps it once.
    assert len(loader.search_paths) == len(set(loader.search_paths))
    models = tmp_path / "models"
    monkeypatch.setenv("AWS_DATA_PATH", str(models))
    own = AwsContext.from_environment(region="us-west-2").session()
    own_loader = own._session.get_component("data_loader")
    assert own_loader is not loader
    assert own_loader.search_paths[0] == str(models)


def test_no_credentials_is_explained() -> None:
    with pytest.raises(NoCredentialsError) as caught:
        AwsContext.from_environment().whoami()
    assert "aws configure" in caught.value.hint
    assert "--sandbox" in caught.value.hint


def test_unknown_profile_is_explained(write_aws_config: WriteAwsFiles) -> None:
    write_aws_config(SSO_CONFIG, KEYS)
    with pytest.raises(ProfileNotFoundError) as caught:
        AwsContext.from_environment("nope").whoami()
    assert "nope" in caught.value.message
    assert "aws configure --profile nope" in caught.value.hint


@pytest.mark.parametrize("profile", ["corp", "legacy-sso"])
def test_sso_profile_without_a_token(write_aws_config: WriteAwsFiles, profile: str) -> None:
    write_aws_config(SSO_CONFIG, KEYS)
    with pytest.raises(ExpiredSSOTokenError) as caught:
        AwsContext.from_environment(profile).whoami()
    assert f"aws sso login --profile {profile}" in caught.value.hint


def test_sso_profile_with_an_expired_token(
    write_aws_config: WriteAwsFiles, isolated_aws: Path
) -> None:
    write_aws_config(SSO_CONFIG, KEYS)
    # botocore keys the token cache by the sha1 of the session name (sso-session profiles).
    import hashlib

    cache = isolated_aws / ".aws" / "sso" / "cache"
    cache.mkdir(parents=True)
    expired = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600))
    token = {
        "startUrl": "https://corp.awsapps.com/start",
        "region": "us-east-1",
        "accessToken": "expired",
        "expiresAt": expired,
    }
    name = hashlib.sha1(b"corp-sso").hexdigest() + ".json"
    (cache / name).write_text(json.dumps(token))
    with pytest.raises(ExpiredSSOTokenError) as caught:
        AwsContext.from_environment("corp").whoami()
    assert "aws sso login --profile corp" in caught.value.hint


def test_sandbox_style_context_has_credentials() -> None:
    context = AwsContext.for_endpoint(
        "http://127.0.0.1:1", StaticCredentials("a", "b"), region="us-west-2"
    )
    assert context.has_credentials()
    assert context.endpoint_url == "http://127.0.0.1:1"
    assert context.with_region("us-east-1").region == "us-east-1"


def test_no_credentials_resolve() -> None:
    assert not AwsContext.from_environment().has_credentials()


def test_region_check() -> None:
    check_region("us-east-1")
    check_region("us-west-2")
    with pytest.raises(RegionNotSupportedError) as caught:
        check_region("eu-west-1")
    assert "eu-west-1" in caught.value.message
    assert "us-east-1" in caught.value.hint and "us-west-2" in caught.value.hint
