"""Prepared files go to bedrock-tune's data folder by default, and a git checkout is recognised
(so the app can ask before writing records into one)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from core.data.locations import data_dir, default_prepared_dir, git_checkout_of
from tests.conftest import REPO


def test_the_default_folder_is_under_the_data_dir(tmp_path: Path) -> None:
    assert data_dir() == tmp_path / "data"  # BEDROCK_TUNE_DATA_DIR (set for every test)
    assert default_prepared_dir("abc123") == tmp_path / "data" / "runs" / "abc123" / "prepared"
    assert git_checkout_of(default_prepared_dir("abc123")) is None


@pytest.mark.skipif(sys.platform != "linux", reason="XDG_DATA_HOME is the Linux data dir")
def test_without_the_override_it_is_the_platforms_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("BEDROCK_TUNE_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert data_dir() == tmp_path / "xdg" / "bedrock-tune"


def test_a_folder_inside_a_checkout_is_recognised_even_before_it_exists(tmp_path: Path) -> None:
    (tmp_path / "project" / ".git").mkdir(parents=True)
    assert git_checkout_of(tmp_path / "project" / "out" / "new") == tmp_path / "project"
    assert git_checkout_of(tmp_path / "elsewhere") is None
    worktree = tmp_path / "wt"
    worktree.mkdir()
    (worktree / ".git").write_text("gitdir: /somewhere\n")  # a git worktree's marker file
    assert git_checkout_of(worktree / "data") == worktree
    assert git_checkout_of(REPO / "bedrock-tune-data") == REPO
