"""Where bedrock-tune keeps its state on this machine: the registry, the price cache, the
upload locks and the shared sandbox all live under one folder.

A module of its own at the bottom of core, because the registry and the modules below it (the
price cache) both need the folder and neither should import the other for it.
"""

from __future__ import annotations

import os
from pathlib import Path

STATE_ENV = "BEDROCK_TUNE_STATE_DIR"


def state_dir() -> Path:
    """Where bedrock-tune keeps its state (`BEDROCK_TUNE_STATE_DIR` overrides)."""
    override = os.environ.get(STATE_ENV)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_state_dir("bedrock-tune", appauthor=False))
