"""Test-only (never shipped): kill this process with SIGKILL at a botocore event, as kill -9.

`BEDROCK_TUNE_TEST_KILL_AT=after-call.bedrock.CreateProvisionedModelThroughput` makes every
botocore client created after `install()` send SIGKILL to its own process at that event (after
the request reached the server and before its answer is used; `before-call.` kills before the
request is sent).
"""

from __future__ import annotations

import os
import signal
from typing import Any

import botocore.session

KILL_AT = "BEDROCK_TUNE_TEST_KILL_AT"


def install() -> None:
    """Hook botocore's client creation when KILL_AT is set (nothing otherwise)."""
    event = os.environ.get(KILL_AT)
    if not event:
        return
    create_client = botocore.session.Session.create_client

    def creating(self: botocore.session.Session, *args: Any, **kwargs: Any) -> Any:
        client = create_client(self, *args, **kwargs)
        client.meta.events.register(event, _die)
        return client

    botocore.session.Session.create_client = creating  # type: ignore[method-assign]


def _die(**_: Any) -> None:
    os.kill(os.getpid(), signal.SIGKILL)
