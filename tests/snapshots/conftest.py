"""Snapshot tests of the wizard (pytest-textual-snapshot's SVG snapshots, kept in
`__snapshots__/`): every step in its main state and its error states, at 80x24 and 160x50.

A test drives one app like a user does, with key presses, and calls `shots(pilot, "state")` at
each state worth keeping: the screen is taken at both sizes and compared with the accepted SVG
(`pytest --snapshot-update` accepts new ones: look at them first, in `snapshot_report.html` or
the SVG files). Several states per app run keep the suite fast; a failed comparison is listed in
the plugin's HTML report like a `snap_compare` one.

Everything a screen shows is fixed: the clock, the run id, the names made from the time, the
sandbox's ARNs, the working folder (so paths read the same everywhere), the time zone; cursors do
not blink and the notifications are cleared before each shot.
"""

from __future__ import annotations

import difflib
import fcntl
import html
import inspect
import io
import itertools
import os
import pickle
import re
import shutil
import time
import uuid
import zlib
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pytest_textual_snapshot import PseudoApp, PseudoConsole, SVGImageExtension, node_to_report_path
from rich.console import Console
from syrupy.assertion import SnapshotAssertion
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

import core.pricing.cache
import core.registry
import core.sandbox.inference
import core.sandbox.jobs
import core.serving.chat
import screens.launch
import screens.watch
from core.naming import default_job_name
from tests.tui.drawing import drawing_every_frame
from tests.tui.threads import widgets_on_the_event_loop

__all__ = ["widgets_on_the_event_loop"]

SIZES = ((80, 24), (160, 50))
"""Every state is kept at these terminal sizes (columns, rows)."""
DRIVE_SIZE = (160, 50)
"""The size the tests drive the app at between shots."""
FIXED_NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
"""The wall-clock time every screen sees."""
WORK_ROOT = Path("/tmp/bedrock-tune-snapshots")
"""Where each test works (its folder named after it): paths on screen are the same on every
machine and in every run."""

Shots = Callable[[Pilot[None], str], Awaitable[None]]


@pytest.fixture
def workdir(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The test's own fixed folder, empty, made the working directory.

    Another run of the same test on this machine (another checkout's suite) waits for the lock:
    both use the same path.
    """
    WORK_ROOT.mkdir(parents=True, exist_ok=True)
    name = request.node.name.replace("[", "-").replace("]", "")
    folder = WORK_ROOT / name
    with (WORK_ROOT / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        monkeypatch.chdir(folder)
        monkeypatch.setenv("BEDROCK_TUNE_DATA_DIR", str(folder / "data"))
        # This install's id (in the tags a request shows), fixed.
        state = Path(os.environ["BEDROCK_TUNE_STATE_DIR"])
        state.mkdir(parents=True, exist_ok=True, mode=0o700)
        (state / "install-id").write_text("5" * 32)
        (state / "install-id").chmod(0o600)
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)


class _FixedDatetime(datetime):
    """`datetime` whose `now()` is `FIXED_NOW`."""

    @classmethod
    def now(cls, tz: Any = None) -> _FixedDatetime:
        return cls.fromtimestamp(FIXED_NOW.timestamp(), tz)


@pytest.fixture
def sandbox_port(request: pytest.FixtureRequest, workdir: Path) -> int:
    """The test's own sandbox port (its address is on screen): fixed by the test's name, out
    of the range the system hands out to other programs, and held by `workdir`'s lock."""
    return 20_000 + zlib.crc32(request.node.name.encode()) % 10_000


def _no_blink(self: Any) -> None:
    """A cursor that stays on (instead of blinking with the wall clock)."""


@pytest.fixture(autouse=True)
def every_frame_drawn() -> Iterator[None]:
    """Apps draw every frame here, as outside the tests: the shots are of pixels
    (tests/tui/drawing.py)."""
    with drawing_every_frame():
        yield


@pytest.fixture(autouse=True)
def deterministic(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fix everything a screen shows that would differ from run to run."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.setattr(core.registry, "new_run_id", lambda: "snaprun00001")
    monkeypatch.setattr(core.registry, "_now", lambda: "2025-06-01T12:00:00+00:00")
    monkeypatch.setattr(
        screens.launch, "default_job_name", lambda model_id: default_job_name(model_id, FIXED_NOW)
    )
    counter = itertools.count(1)
    monkeypatch.setattr(
        core.sandbox.inference, "uuid", SimpleNamespace(uuid4=lambda: uuid.UUID(int=next(counter)))
    )
    # An answer's latency (how long the sandbox took to stream it) is left out.
    monkeypatch.setattr(core.serving.chat, "time", SimpleNamespace(perf_counter=lambda: 0.0))
    monkeypatch.setattr(core.sandbox.jobs, "datetime", _FixedDatetime)  # a job's creation time
    # The day the Price List was read is every price's date ("Price List API, 2025-06-01").
    monkeypatch.setattr(core.pricing.cache, "utc_now", lambda: FIXED_NOW)
    monkeypatch.setattr(screens.watch, "wall_clock", lambda: FIXED_NOW)
    monkeypatch.setattr(screens.watch, "monotonic", lambda: 0.0)
    monkeypatch.setattr(
        screens.watch,
        "shown_time",
        lambda moment, with_day=False: "2025-06-01 12:00" if with_day else "12:00:00",
    )
    monkeypatch.setattr(Input, "_toggle_cursor", _no_blink)
    monkeypatch.setattr(TextArea, "_toggle_cursor_blink_visible", _no_blink)


def screen_text(pilot: Pilot[None]) -> str:
    """The screen as plain text (for reading a state while writing a test)."""
    app = pilot.app
    console = Console(
        width=app.size.width,
        height=app.size.height,
        file=io.StringIO(),
        record=True,
        legacy_windows=False,
        color_system=None,
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text()


_FAILED = pytest.StashKey[list[str]]()


@pytest.fixture
def shots(snapshot: SnapshotAssertion, request: pytest.FixtureRequest) -> Shots:
    """`await shots(pilot, "state")`: the screen at every size in `SIZES`, each compared with
    its accepted SVG `<test>[<state>-<cols>x<rows>]`. The test fails at its end when any
    differed (every shot is compared first, so one run shows every difference)."""
    svg_snapshot = snapshot.use_extension(SVGImageExtension)
    failed = request.node.stash.setdefault(_FAILED, [])
    text_dump = os.environ.get("BEDROCK_TUNE_SNAPSHOT_TEXT")
    """A folder to write each shot to as plain text too (to read while writing a test)."""

    async def take(pilot: Pilot[None], state: str) -> None:
        app = pilot.app
        for width, height in SIZES:
            await pilot.resize_terminal(width, height)
            app.clear_notifications()
            await pilot.pause()
            if app.screen.focused is not None:  # as it would be, had the user typed there
                app.screen.focused.scroll_visible(animate=False, immediate=True)
                await pilot.pause()
            await pilot.wait_for_scheduled_animations()
            await pilot.pause()
            name = f"{state}-{width}x{height}"
            svg = await _still_screen(pilot)
            if text_dump:
                _write_text(Path(text_dump) / f"{request.node.name}-{name}.txt", screen_text(pilot))
            if svg_snapshot(name=name) != svg:
                accepted = _accepted_svg(request, name)
                failed.append(f"{name}\n{_text_difference(accepted, svg)}")
            _record_for_the_report(request, svg_snapshot, name, svg)
        await pilot.resize_terminal(*DRIVE_SIZE)
        await pilot.pause()

    return take


async def _still_screen(pilot: Pilot[None], *, looks: int = 50) -> str:
    """The screen as SVG once two looks 20 ms apart are the same.

    A layout can take more than one pass after a resize (a text's height follows its new
    width), and a screen's own timers (a job watcher's poll) may still change it: on a loaded
    machine the pauses before a shot did not always see the last pass."""
    app = pilot.app
    svg = app.export_screenshot(title="bedrock-tune")
    for _ in range(looks):
        await pilot.pause(0.02)
        again = app.export_screenshot(title="bedrock-tune")
        if again == svg:
            return svg
        svg = again
    raise AssertionError(f"the screen kept changing for {looks} looks")


def _accepted_svg(request: pytest.FixtureRequest, name: str) -> str | None:
    """The accepted shot `name` of this test, as kept in `__snapshots__/` (None: none yet)."""
    folder = request.node.path.parent / "__snapshots__" / request.node.path.stem
    path = folder / f"{request.node.name}[{name}].svg"
    return path.read_text() if path.exists() else None


def _svg_lines(svg: str) -> list[str]:
    """The text rows of a Textual SVG screenshot."""
    pieces = re.findall(r"<text[^>]*>(.*?)</text>", svg, re.S)
    text = "".join(html.unescape(re.sub(r"<[^>]+>", "", p)) for p in pieces)
    return text.replace("\xa0", " ").splitlines()


def _text_difference(accepted: str | None, taken: str, *, most: int = 30) -> str:
    """What differs between the accepted shot and this one, as text rows (a failure says which
    shot differed and how, also where the HTML report cannot be opened)."""
    if accepted is None:
        return "  (no accepted shot yet: look at it, then --snapshot-update)"
    diff = list(
        difflib.unified_diff(
            _svg_lines(accepted), _svg_lines(taken), "accepted", "taken", n=0, lineterm=""
        )
    )
    if not diff:
        return "  (the same text: colours or styles differ)"
    shown = [f"  {line}" for line in diff[:most]]
    if len(diff) > most:
        shown.append(f"  ... {len(diff) - most} more lines")
    return "\n".join(shown)


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Fail a snapshot test whose shots differed, once its body has run to the end."""
    result = yield
    failed = item.stash.get(_FAILED, [])
    if failed:
        pytest.fail(
            "snapshots differ (see snapshot_report.html):\n" + "\n".join(failed), pytrace=False
        )
    return result


def _record_for_the_report(
    request: pytest.FixtureRequest, snapshot: SnapshotAssertion, name: str, svg: str
) -> None:
    """Leave what pytest-textual-snapshot's HTML report reads for one comparison (what its
    `snap_compare` writes), so that these shots are in its report too."""
    index = snapshot._execution_name_index.get(name, snapshot.num_executions - 1)
    outcome = snapshot.executions.get(index)
    path, line, test_name = request.node.reportinfo()
    console = Console(legacy_windows=False, force_terminal=True)
    data = (
        bool(outcome and outcome.success),
        str(snapshot),
        svg,
        PseudoApp(PseudoConsole(console.legacy_windows, console.size)),
        path,
        line,
        f"{test_name}[{name}]",
        inspect.getdoc(getattr(request.node, "function", None)) or "",
        "",
        outcome is not None and outcome.final_data is not None,
    )
    target = node_to_report_path(request.node)
    target.with_name(f"{target.name}_{name}").write_bytes(pickle.dumps(data))
