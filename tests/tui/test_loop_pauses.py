"""What kept the event loop busy for a third of a second stays off it: a step's first visit does
not re-parse every stylesheet, and a full garbage collection does not scan what a session
keeps (bench/event_loop_bench.py measures the whole walk)."""

from __future__ import annotations

import gc
from dataclasses import replace

import pytest
from textual.css.stylesheet import Stylesheet

from screens import gc_pauses
from screens.credentials import CredentialsScreen
from tests.tui.helpers import settle
from tui.app import BedrockTuneApp


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CredentialsScreen, "discover", lambda self: None)
    monkeypatch.setattr(BedrockTuneApp, "find_resumable", lambda self: None)


@pytest.mark.usefixtures("offline")
async def test_opening_a_step_does_not_reparse_the_app_s_css(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reparsed: list[int] = []
    real_reparse = Stylesheet.reparse

    def counted(self: Stylesheet) -> None:
        reparsed.append(1)
        real_reparse(self)

    app = BedrockTuneApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.1)  # the step stylesheets are read after the first frame
        monkeypatch.setattr(Stylesheet, "reparse", counted)
        app.update_run(
            replace(
                app.wizard_run,
                account_id="123456789012",
                region="us-east-1",
                base_model_id="amazon.nova-micro-v1:0:128k",
                source_location="data.jsonl",
            )
        )
        for step in ("model", "dataset", "template"):  # each brings its own stylesheet
            app.go_to_step(step)
            await settle(pilot, lambda step=step: app.current_step == step)  # type: ignore[misc]
            await pilot.pause()
        assert reparsed == []
        # ...and their rules apply (the dataset step's sheet: at most 20 rows of records).
        app.go_to_step("dataset")
        await settle(pilot, lambda: app.current_step == "dataset")
        max_height = app.screen.query_one("#records").styles.max_height
        assert max_height is not None and max_height.value == 20


def test_a_grown_oldest_generation_is_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gc_pauses, "GROWN", 1_000)
    gc.collect()
    gc.freeze()  # start from an empty oldest generation
    kept = [[index] for index in range(500)]
    gc.collect()  # ... into the oldest generation
    frozen = gc.get_freeze_count()
    assert not gc_pauses.freeze_if_grown()  # 500 objects: left alone
    # Nothing was frozen (frozen objects that die elsewhere can only lower the count).
    assert gc.get_freeze_count() <= frozen
    kept += [[index] for index in range(2_000)]
    gc.collect()
    assert gc_pauses.freeze_if_grown()
    assert gc.get_freeze_count() > frozen and len(gc.get_objects(generation=2)) < 1_000
    assert len(kept) == 2_500
