"""A check for Pilot tests: no widget is touched from a worker thread.

Textual's widgets are not thread-safe; a thread worker may only reach the UI through
`post_message`, `notify` or `call_from_thread` (Textual's workers guide). The fixture wraps the
widget API a worker would reach for (queries, mounting, refreshes, reactive assignments, classes)
and fails the test when any of it runs on another thread than the event loop's.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from textual.dom import DOMNode
from textual.reactive import Reactive
from textual.widget import Widget

GUARDED: tuple[tuple[type[Any], str], ...] = (
    (DOMNode, "query"),
    (DOMNode, "query_one"),
    (DOMNode, "query_exactly_one"),
    (DOMNode, "set_class"),
    (DOMNode, "add_class"),
    (DOMNode, "remove_class"),
    (Widget, "mount"),
    (Widget, "remove"),
    (Widget, "refresh"),
    (Reactive, "__set__"),
)
"""The widget API a worker thread would use by mistake (every widget update ends in `refresh`)."""


def guard_widgets(monkeypatch: pytest.MonkeyPatch, loop_thread: int, touched: list[str]) -> None:
    """Wrap the `GUARDED` methods so that a call from another thread than `loop_thread` is
    appended to `touched` (with where it came from) before it goes ahead."""
    for owner, name in GUARDED:
        original: Callable[..., Any] = getattr(owner, name)
        label = f"{owner.__name__}.{name}"

        def guarded(
            *args: Any, _original: Callable[..., Any] = original, _label: str = label, **kwargs: Any
        ) -> Any:
            if threading.get_ident() != loop_thread:
                where = "".join(traceback.format_stack(limit=6)[:-1])
                touched.append(f"{_label} in thread {threading.current_thread().name}:\n{where}")
            return _original(*args, **kwargs)

        monkeypatch.setattr(owner, name, guarded)


@pytest.fixture(autouse=True)
def widgets_on_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Fail the test if a widget was touched from a worker thread (yields the offences)."""
    # Pytest runs a test's fixtures and its event loop on the same thread.
    touched: list[str] = []
    guard_widgets(monkeypatch, threading.get_ident(), touched)
    yield touched
    assert not touched, "a widget was touched from a worker thread:\n" + "\n".join(touched)
