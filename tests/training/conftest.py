"""The QLoRA script's real training step runs only in `make test-training`, which installs the
optional `training` extra (torch, transformers, peft, trl) and sets BEDROCK_TUNE_TRAINING=1.
Elsewhere (`make test`, CI) these tests are not collected at all: torch is not installed there."""

from __future__ import annotations

import os

collect_ignore_glob = [] if os.environ.get("BEDROCK_TUNE_TRAINING") == "1" else ["test_*.py"]
