"""The README's screenshots are the accepted snapshots: when a snapshot is accepted anew, the
copy in docs/ must follow (`cp` the file named here)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOTS = Path(__file__).resolve().parent / "__snapshots__"

SCREENSHOTS = {
    "docs/validate-160x50.svg": (
        "test_data_steps/test_credentials_to_validate[validate-problems-160x50].svg"
    ),
    "docs/chat-80x24.svg": (
        "test_serving_steps/test_deploy_chat_evaluate_teardown[chat-answered-80x24].svg"
    ),
}


@pytest.mark.parametrize(("shown", "snapshot"), SCREENSHOTS.items())
def test_the_readme_shows_the_accepted_snapshot(shown: str, snapshot: str) -> None:
    assert (ROOT / shown).read_bytes() == (SNAPSHOTS / snapshot).read_bytes(), (
        f"{shown} is not the accepted snapshot: cp 'tests/snapshots/__snapshots__/{snapshot}' "
        f"{shown}"
    )
    assert shown in (ROOT / "README.md").read_text()
