"""The credentials step, driven like a user would: profiles, identity, and the bad cases."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from moto import mock_aws

from core.sandbox.background import SandboxHome
from screens.base import LaunchOptions
from screens.widgets.error_panel import ErrorPanel
from tests.conftest import WriteAwsFiles
from tests.tui.helpers import settle, text_of
from tui.app import BedrockTuneApp

KEYS = """
[default]
aws_access_key_id = testing
aws_secret_access_key = testing

[dev]
aws_access_key_id = testing
aws_secret_access_key = testing
"""
CONFIG = """
[default]
region = us-east-1

[profile dev]
region = us-west-2

[profile corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1
sso_account_id = 111122223333
sso_role_name = MLEngineer
region = us-east-1
"""


@contextmanager
def mocked_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto, without the fake keys it puts in the environment (so profiles are what resolves)."""
    names = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    with mock_aws():
        saved = {name: os.environ.pop(name) for name in names if name in os.environ}
        try:
            yield
        finally:
            os.environ.update(saved)  # moto deletes them on exit


def error_panel(app: BedrockTuneApp) -> ErrorPanel:
    return app.screen.query_one(ErrorPanel)


async def test_default_profile_is_checked_and_shown(
    write_aws_config: WriteAwsFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_aws_config(CONFIG, KEYS)
    with mocked_aws(monkeypatch):
        app = BedrockTuneApp()
        async with app.run_test(size=(140, 44)) as pilot:
            await settle(pilot, lambda: app.wizard_run.account_id is not None)
            run = app.wizard_run
            assert run.target == "aws"
            assert run.profile == "default"
            assert run.region == "us-east-1"
            assert run.account_id == "123456789012"
            identity = text_of(app, "#identity")
            assert "123456789012" in identity and "arn:aws:" in identity
            header = app.screen.query_one("#header-where").render()
            assert "123456789012" in str(header)
            assert not app.screen.query_one("#header-badge").has_class("-on")


async def test_choosing_another_profile_checks_it(
    write_aws_config: WriteAwsFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_aws_config(CONFIG, KEYS)
    with mocked_aws(monkeypatch):
        app = BedrockTuneApp()
        async with app.run_test(size=(140, 44)) as pilot:
            await settle(pilot, lambda: app.wizard_run.account_id is not None)
            sources = app.screen.query_one("#sources")
            sources.focus()
            index = sources.get_option_index("profile:dev")  # type: ignore[attr-defined]
            sources.highlighted = index  # type: ignore[attr-defined]
            await pilot.press("enter")
            await settle(pilot, lambda: app.wizard_run.profile == "dev")
            assert app.wizard_run.account_id == "123456789012"
            # The region stays what the user chose in the select, not the profile's.
            assert app.wizard_run.region == "us-east-1"
            assert not app.screen.query_one("#continue").disabled


async def test_unknown_profile_explains_itself(
    write_aws_config: WriteAwsFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_aws_config(CONFIG, KEYS)
    app = BedrockTuneApp(LaunchOptions(profile="nope"))
    async with app.run_test(size=(140, 44)) as pilot:
        await settle(pilot, lambda: error_panel(app).error is not None)
        error = error_panel(app).error
        assert error is not None and error.title == "Unknown AWS profile"
        assert "aws configure --profile nope" in error.hint
        assert app.wizard_run.account_id is None
        assert app.screen.query_one("#continue").disabled


async def test_expired_sso_session_says_how_to_log_in(
    write_aws_config: WriteAwsFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_aws_config(CONFIG, KEYS)
    app = BedrockTuneApp(LaunchOptions(profile="corp"))
    async with app.run_test(size=(140, 44)) as pilot:
        await settle(pilot, lambda: error_panel(app).error is not None)
        error = error_panel(app).error
        assert error is not None and error.title == "SSO session expired"
        assert "aws sso login --profile corp" in error.hint
        assert "aws sso login --profile corp" in text_of(app, "#error-panel")


async def test_no_credentials_starts_the_sandbox() -> None:
    app = BedrockTuneApp()
    async with app.run_test(size=(140, 44)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        run = app.wizard_run
        assert run.target == "sandbox"
        assert run.endpoint_url is not None and run.endpoint_url.startswith("http://127.0.0.1:")
        assert app.screen.query_one("#header-badge").has_class("-on")
        assert any("sandbox" in n.message for n in app._notifications)
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert app.current_step == "model"
    # The sandbox is a process of its own: it outlives the app (for resume), found by its state.
    info = SandboxHome(Path(os.environ["BEDROCK_TUNE_STATE_DIR"])).running()
    assert info is not None and info.pid != os.getpid()
    assert (info.endpoint_url, info.instance_id) == (run.endpoint_url, run.sandbox_id)


async def test_unsupported_region_blocks_continue(
    write_aws_config: WriteAwsFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_aws_config(CONFIG, KEYS)
    with mocked_aws(monkeypatch):
        app = BedrockTuneApp(LaunchOptions(region="eu-west-1"))
        async with app.run_test(size=(140, 44)) as pilot:
            await settle(pilot, lambda: error_panel(app).error is not None)
            error = error_panel(app).error
            assert error is not None and error.title == "Region not supported"
            assert app.screen.query_one("#continue").disabled
            await pilot.press("ctrl+n")
            await settle(pilot)
            assert app.current_step == "credentials"


async def test_a_standalone_sandbox_reached_through_the_environment_is_called_the_sandbox(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from core.sandbox.server import Sandbox, sandbox_environment

    with Sandbox() as sandbox:
        for key, value in sandbox_environment(sandbox).items():
            monkeypatch.setenv(key, value)  # as `bedrock-tune sandbox` tells users to
        app = BedrockTuneApp()
        async with app.run_test(size=(140, 44)) as pilot:
            await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
            status = text_of(app, "#credentials-status")
            assert "working in the sandbox, us-east-1" in status
            assert sandbox.endpoint_url in status and "AWS account" not in status
            assert app.wizard_run.target == "sandbox"
