"""Worker results as typed messages.

A thread worker returns one `WorkerResult`: a small dataclass message named for what happened
(`PlanReady`, `UploadDone`, ...). When the worker succeeds, its node (the screen, or the App)
posts the result to itself with `post_worker_result` and handles it by type with `@on(...)`,
instead of unpacking an untyped value chosen by the worker's name.

The result is returned rather than posted from the thread on purpose: a worker that was
cancelled, or replaced by a newer `exclusive` one, ends CANCELLED and never SUCCESS, so a late
answer (the models of the customization type chosen before last) is never delivered.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError

from textual.message import Message
from textual.worker import Worker, WorkerState


class WorkerResult(Message, bubble=False):
    """What a worker hands back to the node that started it.

    Subclasses are `@dataclass`es. They do not bubble: a result is for its own screen. Their
    fields are set once; assigning one afterwards raises `FrozenInstanceError` (the dataclass
    cannot be `frozen=True` itself: Textual's Message changes its own attributes, for example
    on `stop()`).
    """

    def __init_subclass__(
        cls,
        bubble: bool | None = False,
        verbose: bool = False,
        no_dispatch: bool | None = False,
        namespace: str | None = None,
    ) -> None:
        # Message's default is to bubble; a worker result stays with its node unless asked.
        super().__init_subclass__(
            bubble=bubble, verbose=verbose, no_dispatch=no_dispatch, namespace=namespace
        )

    def __setattr__(self, name: str, value: object) -> None:
        fields = getattr(type(self), "__dataclass_fields__", {})
        if name in fields and name in self.__dict__:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super().__setattr__(name, value)


def post_worker_result(event: Worker.StateChanged) -> bool:
    """Post a worker's result to the worker's node, once the worker has succeeded with a
    `WorkerResult` (call it from the node's `Worker.StateChanged` handler).

    Returns whether a result was posted. A worker that returns None has nothing to report.
    """
    worker = event.worker
    result = worker.result
    if event.state != WorkerState.SUCCESS or not isinstance(result, WorkerResult):
        return False
    return worker.node.post_message(result)
