"""Shared fixtures. Every test runs with an isolated, credential-free AWS environment: no real
profile, key or token on the machine can reach a test, and no test can reach AWS."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
DIALOGSUM = SHARED / "data" / "dialogsum"


@pytest.fixture(autouse=True)
def isolated_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Remove every AWS_* variable and point the AWS files at empty ones under tmp_path.

    Returns the fake home directory (its `.aws/` holds `config` and `credentials`).
    """
    for name in list(os.environ):
        if name.startswith("AWS_") or name in {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"}:
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    aws = home / ".aws"
    aws.mkdir(parents=True)
    (aws / "config").write_text("")
    (aws / "credentials").write_text("")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(aws / "credentials"))
    # Never ask the instance metadata service (a link-local address) for credentials.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("BEDROCK_TUNE_STATE_DIR", str(tmp_path / "state"))
    return home


@pytest.fixture
def aws_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake access keys in the environment (moto accepts any)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


WriteAwsFiles = Callable[..., None]


@pytest.fixture
def write_aws_config(isolated_aws: Path) -> WriteAwsFiles:
    """A function `write(config="", credentials="")` for the fake ~/.aws files."""

    def write(config: str = "", credentials: str = "") -> None:
        (isolated_aws / ".aws" / "config").write_text(config)
        (isolated_aws / ".aws" / "credentials").write_text(credentials)

    return write


def needs_shared() -> pytest.MarkDecorator:
    """Skip a test when ../shared (CI's test data) is not beside the checkout."""
    return pytest.mark.skipif(
        not DIALOGSUM.is_dir(),
        reason=f"needs the shared test data in {DIALOGSUM} (present in CI, not in a user's clone)",
    )
