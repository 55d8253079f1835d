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


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_module_does_not_import_the_tui(module: str) -> None:
    loaded = loaded_after(f"import {module}")
    assert not loaded & {"textual", "tui", "screens", "questionary"}, module


def test_app_import_is_light() -> None:
    loaded = loaded_after("import tui.app, tui.cli.main")
    assert not loaded & {"boto3", "botocore", "moto", "datasets", "pyarrow"}
