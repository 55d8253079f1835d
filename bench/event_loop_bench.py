"""UI responsiveness (DESIGN.md §8): no callback on the event loop over 100 ms while the app
prepares, validates, uploads, watches a job and chats, in the sandbox.

Every callback the asyncio loop runs (a task step, a timer, a `call_soon`) is timed by wrapping
`asyncio.Handle._run`; the app is driven with Pilot through the five steps on a 5,000-record
dataset, and the slowest callbacks are reported with what they were running. Moving from one
step to the next (composing a step's screen for the first time) is measured too: the user waits
for it just the same.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from bench._harness import print_table

BUDGET_MS = 100.0
RECORDS = 5_000


@dataclass
class LoopTimings:
    """The callbacks the loop ran: per phase of the walk, the slowest, each as (wall ms, CPU
    ms of the loop's thread, what it ran, the phase)."""

    count: int = 0
    phase: str = "start"
    by_phase: dict[str, list[tuple[float, float, str, str]]] = field(default_factory=dict)

    def record(self, wall_ms: float, cpu_ms: float, what: str) -> None:
        self.count += 1
        entry = (wall_ms, cpu_ms, what, self.phase)
        kept = self.by_phase.setdefault(self.phase, [])
        if len(kept) < 8 or wall_ms > kept[-1][0] or cpu_ms > min(e[1] for e in kept):
            kept.append(entry)
            kept.sort(reverse=True)
            del kept[12:]

    @property
    def slowest_all(self) -> list[tuple[float, float, str, str]]:
        """The slowest callbacks of every phase."""
        return [entry for kept in self.by_phase.values() for entry in kept]


@contextmanager
def timed_loop_callbacks(timings: LoopTimings) -> Iterator[None]:
    """Time every callback asyncio runs on this thread's loop, for the duration of the block,
    with the Textual messages each one handled (what a slow one was doing)."""
    from textual.message_pump import MessagePump

    handle_run = asyncio.Handle._run
    dispatch = MessagePump._dispatch_message
    loop_thread = threading.get_ident()
    handled: list[str] = []

    def timed_run(handle: asyncio.Handle) -> None:
        handled.clear()
        start, cpu_start = time.perf_counter(), time.thread_time()
        try:
            handle_run(handle)
        finally:
            if threading.get_ident() == loop_thread:
                what = _describe(handle)
                if handled:
                    what += ": " + ", ".join(dict.fromkeys(handled))
                timings.record(
                    (time.perf_counter() - start) * 1000,
                    (time.thread_time() - cpu_start) * 1000,
                    what,
                )

    async def noted_dispatch(pump: MessagePump, message: Any) -> Any:
        handled.append(f"{type(pump).__name__}<-{type(message).__name__}")
        return await dispatch(pump, message)

    asyncio.Handle._run = timed_run  # type: ignore[method-assign,assignment]
    MessagePump._dispatch_message = noted_dispatch  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        asyncio.Handle._run = handle_run  # type: ignore[method-assign]
        MessagePump._dispatch_message = dispatch  # type: ignore[method-assign]


def _describe(handle: asyncio.Handle) -> str:
    callback: Any = getattr(handle, "_callback", None)
    task = getattr(callback, "__self__", None)
    if isinstance(task, asyncio.Task):
        coroutine = task.get_coro()
        name = getattr(coroutine, "__qualname__", repr(coroutine))
        return f"task {task.get_name()} ({name})"
    return getattr(callback, "__qualname__", repr(callback))[:100]


class ManualClock:
    """The sandbox's clock, moved by the walk (the job completes when it is told to)."""

    def __init__(self, start: float) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t


def write_dataset(folder: Path) -> Path:
    """A DialogSum-like JSONL file of `RECORDS` dialogues."""
    path = folder / "dialogs.jsonl"
    with path.open("w") as out:
        for i in range(RECORDS):
            turns = " ".join(f"#Person{1 + t % 2}#: line {t} of dialogue {i}." for t in range(12))
            out.write(json.dumps({"dialogue": turns, "summary": f"Dialogue {i} summed up."}) + "\n")
    return path


async def walk(timings: LoopTimings, folder: Path) -> None:
    """Prepare, validate, upload, watch and chat, through the UI, in the sandbox."""
    from textual.widgets import Input

    from core.catalog.lookup import find_model
    from core.data.templates import PRESETS, template_to_toml
    from core.sandbox.server import Sandbox
    from screens.base import LaunchOptions
    from screens.chat import Transcript
    from screens.confirm import ConfirmScreen
    from tui.app import BedrockTuneApp

    model = "amazon.nova-micro-v1:0:128k"
    clock = ManualClock(1_750_000_000.0)
    app = BedrockTuneApp(
        LaunchOptions(sandbox=True, poll_interval=0.05),
        sandbox_factory=lambda: Sandbox(job_seconds=10, ready_seconds=10, clock=clock),
    )
    source = write_dataset(folder)

    async with app.run_test(size=(160, 50)) as pilot:

        async def until(done: Callable[[], bool], what: str, seconds: float = 120) -> None:
            deadline = time.monotonic() + seconds
            while not done():
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the walk did not reach: {what}")
                await pilot.pause(0.02)

        def text(selector: str) -> str:
            return str(app.screen.query_one(selector).render())

        await until(lambda: app.wizard_run.account_id is not None, "a checked identity")
        app.update_run(
            replace(
                app.wizard_run,
                base_model_id=find_model(model).id,
                source_location=str(source),
                template_toml=template_to_toml(PRESETS["dialogue-summary"]),
            )
        )

        async def open_step(step: str, ready: Callable[[], bool], key: str | None) -> None:
            """Move to `step` (by `key`, else directly) and wait until it is drawn and idle;
            the callbacks meanwhile count as opening the step, not as its work."""
            timings.phase = f"opening {step}"
            if key is None:
                app.go_to_step(step)
            else:
                await pilot.press(key)
            await until(lambda: app.current_step == step and ready(), f"the {step} step")
            for _ in range(5):  # its first frames and the workers it starts at once
                await pilot.pause(0.05)
            timings.phase = step

        await open_step("prepare", lambda: bool(app.screen.query("#out-dir")), None)
        out = app.screen.query_one("#out-dir", Input)
        await until(lambda: out.value != "", "the proposed sizes")
        out.value = str(folder / "prepared")
        for field_id, size in (("train", "3000"), ("validation", "500"), ("test", "200")):
            app.screen.query_one(f"#{field_id}", Input).value = size
        await pilot.press("ctrl+r")
        await until(lambda: app.wizard_run.prepared_dir is not None, "prepared files")

        # The validate step checks freshly prepared files as it opens: that is its work.
        timings.phase = "validate"
        await pilot.press("ctrl+n")
        await until(lambda: app.wizard_run.validated_ok is not None, "a validation")

        await open_step("infrastructure", lambda: bool(app.screen.query("#plan-view")), "ctrl+n")
        timings.phase = "upload"
        await until(lambda: "CREATE" in text("#plan-view"), "the plan")
        await pilot.press("ctrl+r")  # create
        await until(lambda: app.wizard_run.role_arn is not None, "the bucket and role")
        await until(lambda: not app.screen.query_one("#upload").disabled, "the upload button")
        await pilot.press("ctrl+r")  # then upload
        await until(lambda: app.wizard_run.training_uri is not None, "the upload")

        await open_step("launch", lambda: bool(app.screen.query("#summary")), "ctrl+n")
        await until(lambda: "Estimated cost" in text("#summary"), "the launch summary")
        await pilot.press("ctrl+l")
        await until(lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        timings.phase = "opening watch"  # the launch moves on to the watch step by itself
        await pilot.press("tab", "enter")
        await until(lambda: app.current_step == "watch", "the watch step")
        for _ in range(5):
            await pilot.pause(0.05)
        timings.phase = "watch"
        await until(lambda: "InProgress" in text("#job-status"), "a running job")
        clock.t += 11
        await until(lambda: app.wizard_run.custom_model_arn is not None, "a completed job")

        await open_step("deploy", lambda: bool(app.screen.query("#plans")), "ctrl+n")
        await pilot.press("d")
        await until(lambda: app.wizard_run.serving_arn is not None, "a deployment")
        clock.t += 11
        await until(lambda: app.wizard_run.serving_status == "Active", "an active deployment")
        await open_step("chat", lambda: bool(app.screen.query("#tuned")), "ctrl+n")
        tuned = app.screen.query_one("#tuned", Transcript)

        def answers() -> int:
            return sum("tokens" in str(w.render()) for w in tuned.children)

        for asked in range(1, 4):
            await pilot.press("ctrl+o", "enter")  # a test record, sent
            await until(partial(lambda n: answers() == n, asked), f"answer {asked}")
        timings.phase = "end"


def measure() -> LoopTimings:
    """Walk the five steps with every loop callback timed (in a scratch state folder)."""
    timings = LoopTimings()
    folder = Path(tempfile.mkdtemp(prefix="bedrock-tune-loop-"))
    saved = {k: os.environ.get(k) for k in ("BEDROCK_TUNE_STATE_DIR", "AWS_EC2_METADATA_DISABLED")}
    os.environ["BEDROCK_TUNE_STATE_DIR"] = str(folder / "state")
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    try:
        with timed_loop_callbacks(timings):
            asyncio.run(walk(timings, folder))
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(folder, ignore_errors=True)
    return timings


WORK = ("prepare", "validate", "upload", "watch", "chat")
"""The phases the budget is about: the app at work (workers running, the UI updating)."""


def main() -> bool:
    timings = measure()
    during_work = [e for e in timings.slowest_all if e[3] in WORK]
    opening = [e for e in timings.slowest_all if e[3].startswith("opening")]
    worst = max(during_work, key=lambda e: e[0])
    worst_cpu = max(during_work, key=lambda e: e[1])
    ok = worst[0] <= BUDGET_MS
    rows = [
        ("worst callback at work, wall", f"{worst[0]:.1f} ms", worst[3], "ok" if ok else "OVER"),
        ("worst callback at work, loop CPU", f"{worst_cpu[1]:.1f} ms", worst_cpu[3], ""),
    ]
    if opening:
        first_visit = max(opening, key=lambda e: e[0])
        rows.append(
            ("opening a step (not budgeted)", f"{first_visit[0]:.1f} ms", first_visit[3], "")
        )
    print_table(
        f"Event loop: the slowest of {timings.count:,} callbacks (budget {BUDGET_MS:.0f} ms)",
        rows,
    )
    print("  slowest at work (wall ms, the loop thread's CPU ms in brackets):")
    for wall_ms, cpu_ms, callback, where in sorted(during_work, reverse=True)[:6]:
        print(f"  {wall_ms:7.1f} ({cpu_ms:6.1f}) [{where}] {callback[:240]}")
    return ok


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
