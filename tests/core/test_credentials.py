"""Where bedrock-tune works: the sources the machine offers and which one is preselected, in the
order the app's credentials step and the prompt mode both rely on."""

from __future__ import annotations

import pytest

from core.credentials import (
    ENVIRONMENT_ID,
    NO_CREDENTIALS_REASON,
    SANDBOX_ID,
    discover_credentials,
    profile_source_id,
    region_models,
    region_options,
)
from tests.conftest import WriteAwsFiles

KEYS = "aws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = secret\n"


def test_no_credentials_preselect_the_sandbox_and_say_why() -> None:
    found = discover_credentials()
    assert (found.preselect, found.start_in_sandbox) == (SANDBOX_ID, True)
    assert found.reason == NO_CREDENTIALS_REASON and "aws configure" in found.reason
    assert found.profiles == () and not found.environment_keys


def test_asking_for_the_sandbox_wins_over_everything(aws_keys: None) -> None:
    found = discover_credentials(sandbox=True, region="us-west-2")
    assert (found.preselect, found.region, found.reason) == (SANDBOX_ID, "us-west-2", "")
    assert found.environment_keys


def test_a_named_profile_then_the_environment_then_the_default_profile(
    write_aws_config: WriteAwsFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_aws_config(credentials=f"[default]\n{KEYS}[work]\n{KEYS}")
    assert discover_credentials(profile="work").preselect == profile_source_id("work")
    assert discover_credentials().preselect == profile_source_id("default")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    found = discover_credentials()
    assert found.preselect == ENVIRONMENT_ID and not found.start_in_sandbox
    assert [p.name for p in found.profiles] == ["default", "work"]


def test_a_profile_not_in_the_config_is_still_preselected(
    write_aws_config: WriteAwsFiles,
) -> None:
    write_aws_config(credentials=f"[default]\n{KEYS}")
    found = discover_credentials(profile="missing")
    assert found.preselect == "profile:missing"  # so its check says what is wrong


def test_regions_offered_and_what_each_can_customize() -> None:
    options = region_options("us-east-1")
    assert ("us-east-1", "us-east-1") in options
    assert region_options("eu-north-9")[-1] == ("eu-north-9 (no model customization)", "eu-north-9")
    assert "Nova Micro" in region_models("us-east-1")
    assert region_models("eu-north-9") == "legacy models only"
