"""Where bedrock-tune puts the files it makes on this machine, and where it should not without
asking.

Prepared files hold a dataset's records. By default they go to bedrock-tune's folder in the
platform's data directory (`~/.local/share/bedrock-tune` on Linux, `~/Library/Application
Support/bedrock-tune` on macOS, `%LOCALAPPDATA%\\bedrock-tune` on Windows; the environment
variable `BEDROCK_TUNE_DATA_DIR` overrides it), never into the folder the app was started
from: that is often a git checkout, where they could end up in a commit.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "BEDROCK_TUNE_DATA_DIR"


def data_dir() -> Path:
    """bedrock-tune's data folder (`BEDROCK_TUNE_DATA_DIR` overrides the platform's)."""
    override = os.environ.get(DATA_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("bedrock-tune", appauthor=False))


def default_prepared_dir(run_id: str | None) -> Path:
    """Where a run's prepared files go unless the user says otherwise."""
    return data_dir() / "runs" / (run_id or "run") / "prepared"


def git_checkout_of(path: Path) -> Path | None:
    """The git checkout (work tree) `path` is in, or would be in once created; None when it is
    in none. A few `stat` calls, no git command."""
    here = path.expanduser().absolute()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():  # a folder, or a file in a worktree or submodule
            return folder
    return None
