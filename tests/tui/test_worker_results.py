"""Worker results are typed messages handled by type (never unpacked by the worker's name), and
a superseded worker's answer is never delivered."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import threading
import types
from collections.abc import Callable, Iterator
from dataclasses import FrozenInstanceError, dataclass
from typing import Any, get_args

import pytest
from textual.dom import DOMNode
from textual.message import Message
from textual.widgets import Select

import screens
from core.aws import AwsContext
from core.catalog.lookup import load_view
from core.catalog.types import CatalogView, CustomizationType
from screens.base import LaunchOptions, StepScreen
from screens.credentials import CredentialsDiscovered, IdentityChecked
from screens.model import ModelScreen, ModelsLoaded
from screens.workers import WorkerResult
from tests.tui.helpers import settle, text_of
from tui.app import BedrockTuneApp

# ---------------------------------------------------------------------------- the rule, by shape


def _nodes_with_workers() -> list[type[DOMNode]]:
    """Every screen, widget and App class of bedrock-tune (each module of `screens` imported)."""
    modules = [importlib.import_module("tui.app")]
    for info in pkgutil.walk_packages(screens.__path__, "screens."):
        modules.append(importlib.import_module(info.name))
    return [
        cls
        for module in modules
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if cls.__module__ == module.__name__ and issubclass(cls, DOMNode)
    ]


def _workers(cls: type[DOMNode]) -> Iterator[tuple[str, Callable[..., Any]]]:
    """The methods `cls` itself declares with `@work` (the undecorated functions)."""
    for name, value in vars(cls).items():
        code = getattr(value, "__code__", None)
        wrapped = getattr(value, "__wrapped__", None)
        if (
            wrapped is not None
            and code is not None
            and code.co_filename.endswith("_work_decorator.py")
        ):
            yield name, wrapped


def _returned_types(function: Callable[..., Any]) -> tuple[object, ...]:
    annotation = function.__annotations__["return"]
    value = eval(annotation, function.__globals__) if isinstance(annotation, str) else annotation
    return get_args(value) if isinstance(value, types.UnionType) else (value,)


def test_no_worker_result_is_dispatched_by_name() -> None:
    """Each worker returns a WorkerResult (or nothing), which its node handles by type; nothing
    unpacks `worker.result` by the worker's name any more."""
    nodes = _nodes_with_workers()
    assert StepScreen in nodes and BedrockTuneApp in nodes and ModelScreen in nodes
    assert not hasattr(StepScreen, "worker_succeeded")
    assert not hasattr(BedrockTuneApp, "worker_succeeded")
    assert [cls for cls in nodes if hasattr(cls, "worker_succeeded")] == []
    workers = [(cls, name, function) for cls in nodes for name, function in _workers(cls)]
    assert len(workers) >= 20  # the walk found the steps' and the App's workers
    untyped = [
        f"{cls.__name__}.{name} returns {returned}"
        for cls, name, function in workers
        for returned in _returned_types(function)
        if returned is not None
        and not (isinstance(returned, type) and issubclass(returned, WorkerResult))
    ]
    assert untyped == []


@dataclass
class _Answer(WorkerResult):
    text: str


@dataclass
class _Shared(WorkerResult, bubble=True):
    text: str


def test_a_worker_result_is_set_once_and_stays_with_its_node() -> None:
    answer = _Answer("first")
    with pytest.raises(FrozenInstanceError):
        answer.text = "second"
    assert answer.text == "first"
    answer.stop()  # Textual's own bookkeeping still works
    assert answer._stop_propagation
    assert not _Answer.bubble and not ModelsLoaded.bubble
    assert _Shared.bubble  # a result may still opt into bubbling
    assert _Answer.handler_name == "on__answer"


# ---------------------------------------------------------------------------- in the app


def _results(into: list[WorkerResult]) -> Callable[[Message], None]:
    def hook(message: Message) -> None:
        if isinstance(message, WorkerResult):
            into.append(message)

    return hook


async def test_credentials_results_arrive_once_each_and_are_handled() -> None:
    delivered: list[WorkerResult] = []
    app = BedrockTuneApp(LaunchOptions(sandbox=True))
    async with app.run_test(size=(120, 40), message_hook=_results(delivered)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        await settle(pilot)
        ours = [m for m in delivered if isinstance(m, CredentialsDiscovered | IdentityChecked)]
        assert [type(m) for m in ours] == [CredentialsDiscovered, IdentityChecked]
        discovered, checked = ours
        assert isinstance(discovered, CredentialsDiscovered)
        assert discovered.discovery.start_in_sandbox
        assert isinstance(checked, IdentityChecked)
        assert checked.checked.identity.account == app.wizard_run.account_id
        assert "Ready: working in the sandbox" in text_of(app, "#credentials-status")


async def test_a_superseded_workers_answer_is_never_delivered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The model list for fine-tuning is still loading when the user picks continued
    pre-training: only the second list is shown, even though the first comes back later."""
    release = threading.Event()
    calls: list[CustomizationType | None] = []
    returned: list[CatalogView] = []
    views: dict[CustomizationType | None, CatalogView] = {}

    def slow_for_fine_tuning(
        context: AwsContext | None, region: str, kind: CustomizationType | None = None
    ) -> CatalogView:
        calls.append(kind)
        if kind is CustomizationType.FINE_TUNING:
            assert release.wait(timeout=30)
        view = views.setdefault(kind, load_view(None, region, kind))
        returned.append(view)
        return view

    monkeypatch.setattr("screens.model.load_view", slow_for_fine_tuning)
    delivered: list[WorkerResult] = []
    app = BedrockTuneApp(LaunchOptions(sandbox=True))
    async with app.run_test(size=(160, 50), message_hook=_results(delivered)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        # A key, not go_to_step(): the step's screen is made inside the app, where the
        # message hook reaches it.
        await pilot.press("ctrl+n")
        await settle(pilot, lambda: CustomizationType.FINE_TUNING in calls)
        screen = app.screen
        assert isinstance(screen, ModelScreen)
        screen.query_one(
            "#customization-type", Select
        ).value = CustomizationType.CONTINUED_PRE_TRAINING.value
        await settle(pilot, lambda: any(isinstance(m, ModelsLoaded) for m in delivered))
        release.set()  # the fine-tuning list comes back now, after its worker was replaced
        await settle(pilot, lambda: len(returned) == len(calls))
        await settle(pilot)
        shown = [m.view for m in delivered if isinstance(m, ModelsLoaded)]
        assert shown == [views[CustomizationType.CONTINUED_PRE_TRAINING]]
        assert views[CustomizationType.FINE_TUNING] in returned  # it did come back, unused
        assert "built-in catalog" in text_of(app, "#models-status")
