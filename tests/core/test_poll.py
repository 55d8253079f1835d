"""core.poll: the back-off sequence, its cap and jitter, faults survived, and a prompt cancel.

Time is a fake clock whose sleep only moves the clock: nothing waits on the wall clock.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from core.errors import AccessDeniedError, ExpiredCredentialsError, ThrottledError
from core.poll import DEFAULT_TICK, Backoff, Pacing, Poller, PollUpdate, wait
from tests.fakes import Clock


def fetch_times(clock: Clock, values: list[object]) -> tuple[list[float], Callable[[], object]]:
    """A fetch that returns `values` in turn (raising the exceptions among them) and a list of
    the clock's time at each call."""
    times: list[float] = []

    def fetch() -> object:
        times.append(clock.t)
        value = values.pop(0) if len(values) > 1 else values[0]
        if isinstance(value, Exception):
            raise value
        return value

    return times, fetch


def test_backoff_grows_by_the_factor_up_to_the_cap_and_resets_on_change() -> None:
    clock = Clock()
    answers: list[object] = ["a", "a", "a", "a", "a", "a", "b", "b", "done"]
    times, fetch = fetch_times(clock, answers)
    poller: Poller[object] = Poller(
        fetch,
        finished=lambda value: value == "done",
        backoff=Backoff(first=10, maximum=60, factor=2),
        pacing=Pacing(clock=clock, sleep=clock.sleep),
    )
    updates: list[PollUpdate[object]] = []
    assert poller.run(updates.append) == "done"
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    # Six a (10, 20, 40, then capped at 60), b changed: back to 10, b again: 20, then done.
    assert gaps == pytest.approx([10, 20, 40, 60, 60, 60, 10, 20])
    changed = [u.changed for u in updates]
    assert changed == [True, False, False, False, False, False, True, False, True]
    assert [u.next_poll_in for u in updates[:5]] == [10, 20, 40, 60, 60]


def test_default_schedule_is_capped() -> None:
    schedule = Backoff.starting_at(15)
    interval = schedule.first
    seen = [interval]
    for _ in range(10):
        interval = schedule.grow(interval)
        seen.append(interval)
    assert seen[:4] == pytest.approx([15, 24, 38.4, 61.44])
    assert max(seen) == schedule.maximum == 120
    assert seen[-1] == 120


def test_a_cancel_is_honoured_within_a_tick_not_after_the_wait() -> None:
    clock = Clock()
    times, fetch = fetch_times(clock, ["running"])
    poller: Poller[object] = Poller(
        fetch,
        finished=lambda value: False,
        backoff=Backoff(first=15, maximum=120),
        pacing=Pacing(clock=clock, sleep=clock.sleep),
    )
    cancel_at = 3.05  # in the middle of the first 15-second wait
    assert poller.run(cancelled=lambda: clock.t >= cancel_at) is None
    assert times == [0.0]  # no poll after the cancel
    assert cancel_at <= clock.t <= cancel_at + DEFAULT_TICK
    assert max(clock.slept) <= DEFAULT_TICK


def test_cancel_before_the_first_poll_fetches_nothing() -> None:
    clock = Clock()
    times, fetch = fetch_times(clock, ["x"])
    poller: Poller[object] = Poller(fetch, finished=lambda value: True)
    assert poller.run(cancelled=lambda: True) is None
    assert times == []


def test_wait_sleeps_in_slices_and_stops_on_cancel() -> None:
    clock = Clock()
    assert wait(1.0, lambda: False, sleep=clock.sleep, tick=0.25)
    assert clock.slept == [0.25, 0.25, 0.25, 0.25]
    clock.slept.clear()
    assert not wait(60.0, lambda: clock.t >= 1.5, sleep=clock.sleep, tick=0.5)
    assert clock.t == pytest.approx(1.5)
    assert wait(0.0, lambda: False, sleep=clock.sleep)  # nothing to wait: not cancelled


def test_jitter_spreads_each_wait_within_its_fraction_and_never_past_the_cap() -> None:
    schedule = Backoff(first=10, maximum=12, factor=2, jitter=0.1)
    assert schedule.spread(10, 0.0) == pytest.approx(9.0)
    assert schedule.spread(10, 0.5) == pytest.approx(10.0)
    assert schedule.spread(10, 0.999) == pytest.approx(10.998)
    assert schedule.spread(12, 0.999) == 12  # the cap holds after jitter
    clock = Clock()
    draws = iter([0.0, 0.999])
    times, fetch = fetch_times(clock, ["a", "a", "done"])
    poller: Poller[object] = Poller(
        fetch,
        finished=lambda value: value == "done",
        backoff=schedule,
        pacing=Pacing(clock=clock, sleep=clock.sleep, random=lambda: next(draws)),
    )
    assert poller.run() == "done"
    assert times == pytest.approx([0.0, 9.0, 9.0 + 12.0])  # 10 - 10%, then min(12, 20 + 10%)


def test_transient_faults_are_reported_and_polling_goes_on() -> None:
    clock = Clock()
    times, fetch = fetch_times(clock, ["a", ThrottledError("slow"), "done"])
    poller: Poller[object] = Poller(
        fetch,
        finished=lambda value: value == "done",
        backoff=Backoff(first=10, maximum=60, factor=2),
        pacing=Pacing(clock=clock, sleep=clock.sleep),
    )
    updates: list[PollUpdate[object]] = []
    assert poller.run(updates.append) == "done"
    failed = updates[1]
    assert isinstance(failed.error, ThrottledError) and not failed.needs_reauth
    assert failed.value == "a" and not failed.changed  # the last known state is kept
    assert failed.seconds_since_success == 10
    assert times == pytest.approx([0, 10, 30])  # the fault backed off too


def test_expired_credentials_wait_the_longest_interval() -> None:
    clock = Clock()
    times, fetch = fetch_times(clock, [ExpiredCredentialsError("expired"), "done"])
    poller: Poller[object] = Poller(
        fetch,
        finished=lambda value: value == "done",
        backoff=Backoff(first=10, maximum=90),
        pacing=Pacing(clock=clock, sleep=clock.sleep),
    )
    updates: list[PollUpdate[object]] = []
    assert poller.run(updates.append) == "done"
    assert updates[0].needs_reauth and updates[0].value is None
    assert times == pytest.approx([0, 90])


def test_other_errors_are_raised() -> None:
    _, fetch = fetch_times(Clock(), [AccessDeniedError("no")])
    poller: Poller[object] = Poller(fetch, finished=lambda value: True)
    with pytest.raises(AccessDeniedError):
        poller.run()


def test_fingerprint_decides_what_is_a_change() -> None:
    clock = Clock()
    states = [("Creating", 1), ("Creating", 2), ("Creating", 3), ("Active", 4)]
    times, fetch = fetch_times(clock, list(states))
    poller: Poller[object] = Poller(
        fetch,
        finished=lambda value: isinstance(value, tuple) and value[0] == "Active",
        fingerprint=lambda value: value[0] if isinstance(value, tuple) else value,
        backoff=Backoff(first=1, maximum=100, factor=3),
        pacing=Pacing(clock=clock, sleep=clock.sleep),
    )
    assert poller.run() == ("Active", 4)
    assert times == pytest.approx([0, 1, 4, 13])  # the counter alone is no change: 1, 3, 9


@pytest.mark.parametrize(
    "kwargs",
    [
        {"first": 0},
        {"first": 10, "maximum": 5},
        {"factor": 0.5},
        {"jitter": 1.0},
        {"jitter": -0.1},
    ],
)
def test_impossible_schedules_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Backoff(**kwargs)
