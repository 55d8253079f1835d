"""The layering rules, checked at run time in fresh interpreters.

* core/ never imports Textual (nor the TUI or screens), so it can run headless.
* Importing the App pulls in neither boto3, moto nor datasets: first paint does not wait for them.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORE_MODULES = sorted(
    info.name for info in pkgutil.walk_packages([str(REPO / "core")], prefix="core.")
)


def loaded_after(statement: str) -> set[str]:
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    return {m.split(".")[0] for m in json.loads(done.stdout)}


FORBIDDEN = {"textual", "tui", "screens", "questionary"}


def test_no_core_module_imports_the_tui() -> None:
    """Every core module imported in one fresh interpreter: what they load together holds what
    any one of them loads alone, so one interpreter answers for all of them (one interpreter per
    module cost the suite about a minute of CPU). On a failure each module is imported alone, to
    name the ones that pull the TUI in."""
    assert len(CORE_MODULES) > 100  # the walk found the subpackages' modules
    loaded = loaded_after("\n".join(f"import {module}" for module in CORE_MODULES))
    if loaded & FORBIDDEN:
        culprits = [m for m in CORE_MODULES if loaded_after(f"import {m}") & FORBIDDEN]
        pytest.fail(f"these core modules import {sorted(loaded & FORBIDDEN)}: {culprits}")


def test_app_import_is_light() -> None:
    loaded = loaded_after("import tui.app, tui.cli.main")
    assert not loaded & {"boto3", "botocore", "moto", "datasets", "pyarrow"}
