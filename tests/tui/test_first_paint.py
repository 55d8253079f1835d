"""The first frame (DESIGN.md §8): what it waits for, and what is left until right after it."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from textual.dom import DOMNode
from textual.widgets import Footer

from core.registry import Registry, ResourceRecord
from screens.credentials import CredentialsScreen
from screens.widgets.step_sidebar import StepSidebar, StepState
from tests.tui.helpers import settle
from tui.app import BedrockTuneApp

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """No credential discovery and no resume look-up: the screen stays as it was composed."""
    monkeypatch.setattr(CredentialsScreen, "discover", lambda self: None)
    monkeypatch.setattr(BedrockTuneApp, "find_resumable", lambda self: None)


def _styles(node: DOMNode) -> list[tuple[str, list[tuple[str, str]], list[str]]]:
    return [
        (
            repr(n),
            sorted((name, repr(value)) for name, value in n.styles.get_rules().items()),
            sorted(n.pseudo_classes),
        )
        for n in node.walk_children(with_self=True)
    ]


@pytest.mark.usefixtures("no_workers")
async def test_the_first_step_is_the_screen_the_app_starts_with() -> None:
    app = BedrockTuneApp()
    async with app.run_test(size=(120, 40)) as pilot:
        first = app.screen
        assert isinstance(first, CredentialsScreen)
        assert first.is_mounted and len(app.screen_stack) == 1
        assert app.current_mode == "credentials" == app.current_step
        app.update_run(replace(app.wizard_run, account_id="123456789012", region="us-east-1"))
        app.go_to_step("model")
        await pilot.pause()
        assert app.current_mode == "model" and app.screen is not first
        app.go_to_step("credentials")
        await pilot.pause()
        assert app.screen is first  # the same screen, with its state, not a new one


@pytest.mark.usefixtures("no_workers")
async def test_the_first_resume_leaves_nothing_to_restyle() -> None:
    """The restyle skipped on a step's first resume would change nothing (if Textual ever
    made it matter, this fails)."""
    app = BedrockTuneApp()
    async with app.run_test(size=(120, 40)) as pilot:
        footer = app.screen.query_one(Footer)
        await settle(pilot, lambda: bool(footer.children))  # its keys come in a second compose
        await pilot.pause(0.05)
        before, frame = _styles(app.screen), app.export_screenshot()
        app.screen.update_node_styles(animate=False)
        await pilot.pause(0.05)
        assert _styles(app.screen) == before
        assert app.export_screenshot() == frame


@pytest.mark.usefixtures("no_workers")
async def test_billable_resources_are_counted_right_after_the_first_frame() -> None:
    Registry().add_resource(
        ResourceRecord(
            "provisioned-throughput",
            "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc",
            "us-east-1",
            "123456789012",
            None,
            billable=True,
        )
    )
    app = BedrockTuneApp()
    async with app.run_test(size=(120, 40)) as pilot:
        billing = app.screen.query_one("#header-billing")
        await settle(pilot, lambda: billing.has_class("-on"))
        assert "1 billable," in str(billing.render())


async def test_the_sidebar_is_not_rebuilt_for_the_same_steps() -> None:
    app = BedrockTuneApp()
    steps = [
        StepState("a", "First", "done"),
        StepState("b", "Second", "current"),
        StepState("c", "Third", "blocked", "do the second first"),
    ]
    async with app.run_test(size=(120, 40)) as pilot:
        sidebar = app.screen.query_one(StepSidebar)
        sidebar.show_steps(steps)
        option = sidebar.get_option_at_index(1)
        assert sidebar.highlighted == 1
        sidebar.highlighted = 0
        sidebar.show_steps(list(steps))
        assert sidebar.get_option_at_index(1) is option  # not rebuilt (nor redrawn)
        assert sidebar.highlighted == 1  # but the highlight is back on the current step
        sidebar.show_steps([*steps[:2], StepState("c", "Third", "ready")])
        assert sidebar.option_count == 3 and not sidebar.get_option_at_index(2).disabled
        await pilot.pause()


def test_the_first_frame_waits_for_no_aws_catalog_or_registry_module() -> None:
    code = "import sys, json, tui.app, screens.credentials; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    loaded = set(json.loads(done.stdout))
    assert not loaded & {"core.aws", "core.catalog", "core.registry", "botocore"}
