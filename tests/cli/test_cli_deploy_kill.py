"""`bedrock-tune deploy` killed at each write point, then run again: exactly one throughput or
deployment in the sandbox, and the registry holds it (issue 11).

The kills are at the write points of core/serving/once.py (core/faults.py):
`deploy.pending-recorded` before the create request is sent, `deploy.created` after it reached
the sandbox (the resource exists) and before the answer was used, `deploy.recorded` after the
registry recorded the resource. In process the kill is a BaseException raised by a write-point
hook; one test kills a real CLI process with SIGKILL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from core import faults
from core.registry import Registry
from core.sandbox.server import Sandbox
from core.serving.once import PENDING_KEY, TOKEN_KEY
from tests.conftest import REPO
from tests.fakes import Clock, context_for, train_model
from tests.kills import cli_killed_at
from tui.cli.main import main

NOVA = "amazon.nova-micro-v1:0:128k"
KIND = {"--provisioned": "provisioned-throughput", "--on-demand": "custom-model-deployment"}


class Killed(BaseException):
    """Stands for kill -9: nothing after it runs (not an Exception, so nothing catches it)."""


@pytest.fixture
def model(exported_sandbox: Sandbox, clock: Clock) -> str:
    record = {"prompt": "What is the refund window?", "completion": "Thirty days."}
    body = (json.dumps(record) + "\n").encode()
    return train_model(
        context_for(exported_sandbox), clock, "kill", NOVA, bucket="bt-kill", body=body
    ).model_arn


@pytest.fixture
def kill_at() -> Iterator[dict[str, str | None]]:
    """Set `["point"]` to a write point, e.g. `deploy.created`: the process "dies" there once."""
    target: dict[str, str | None] = {"point": None}

    def hook(point: str) -> None:
        if target["point"] == point:
            target["point"] = None
            raise Killed(point)

    faults.set_hook(hook)
    try:
        yield target
    finally:
        faults.set_hook(None)


def _live(sandbox: Sandbox, flag: str) -> list[dict[str, Any]]:
    if flag == "--provisioned":
        _, body = sandbox.inference.list_throughputs()
        return list(body["provisionedModelSummaries"])
    _, body = sandbox.inference.list_deployments()
    return list(body["modelDeploymentSummaries"])


def _deploy(model: str, flag: str) -> list[str]:
    return ["deploy", model, flag, "--yes", "--no-wait", "--name", "bt-once", "--json"]


@pytest.mark.parametrize("flag", ["--provisioned", "--on-demand"])
@pytest.mark.parametrize(
    ("point", "sent"),
    [
        ("deploy.pending-recorded", False),
        ("deploy.created", True),
        ("deploy.recorded", True),
    ],
)
def test_a_kill_then_a_rerun_makes_exactly_one(
    model: str,
    exported_sandbox: Sandbox,
    kill_at: dict[str, str | None],
    capsys: pytest.CaptureFixture[str],
    flag: str,
    point: str,
    sent: bool,
) -> None:
    kill_at["point"] = point
    with pytest.raises(Killed):
        main(_deploy(model, flag))
    assert kill_at["point"] is None  # the kill happened
    assert len(_live(exported_sandbox, flag)) == (1 if sent else 0)
    [saved] = Registry().resources()  # in the registry, billable, from before the request
    assert saved.billable and saved.kind == KIND[flag]
    assert saved.details["name"] == "bt-once" and saved.details[TOKEN_KEY]
    if sent:
        # Already in the registry the moment it exists (by name until its ARN is known).
        live = _live(exported_sandbox, flag)[0]
        arn = live.get("provisionedModelArn") or live["customModelDeploymentArn"]
        assert saved.identifier in (arn, "bt-once")
    capsys.readouterr()

    assert main(_deploy(model, flag)) == 0
    answer = json.loads(capsys.readouterr().out)
    [live] = _live(exported_sandbox, flag)
    assert answer["arn"] in (live.get("provisionedModelArn"), live.get("customModelDeploymentArn"))
    [record] = Registry().resources()
    assert record.identifier == answer["arn"] and record.billable
    assert record.details[TOKEN_KEY] == saved.details[TOKEN_KEY]  # the same request, sent again
    assert PENDING_KEY not in record.details


def test_a_name_taken_by_another_request_is_refused_and_not_recorded(
    model: str, exported_sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    someone = context_for(exported_sandbox).client("bedrock")
    someone.create_custom_model_deployment(
        modelDeploymentName="bt-once", modelArn=model, clientRequestToken="someone-elses"
    )
    assert main(_deploy(model, "--on-demand")) == 2
    err = capsys.readouterr().err
    assert "already exists and was not created by this deploy" in err
    assert "someone else" in err and "Traceback" not in err
    assert Registry().resources() == []
    assert len(_live(exported_sandbox, "--on-demand")) == 1


def test_a_refused_request_leaves_no_pending_entry(
    model: str, exported_sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("bt-a", "bt-b"):  # the two no-commitment throughputs an account may have
        args = ["deploy", model, "--provisioned", "--yes", "--no-wait", "--name", name]
        assert main(args) == 0
    capsys.readouterr()
    args = ["deploy", model, "--provisioned", "--yes", "--no-wait", "--name", "bt-c"]
    assert main(args) == 2
    assert "bt-a" in capsys.readouterr().err
    assert sorted(r.details["name"] for r in Registry().resources()) == ["bt-a", "bt-b"]


@pytest.mark.parametrize("flag", ["--provisioned", "--on-demand"])
def test_the_cli_process_killed_by_sigkill_after_sending_then_run_again(
    model: str, exported_sandbox: Sandbox, capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    """A real `kill -9` of a real CLI process, right after the create request reached the
    sandbox; the same command run again re-attaches to what it made."""
    cli_killed_at("deploy.created", _deploy(model, flag), cwd=REPO)
    assert len(_live(exported_sandbox, flag)) == 1  # it exists: billable from now
    [saved] = Registry().resources()
    assert saved.billable and saved.details[PENDING_KEY] is True and saved.identifier == "bt-once"

    assert main(_deploy(model, flag)) == 0
    [live] = _live(exported_sandbox, flag)
    arn = json.loads(capsys.readouterr().out)["arn"]
    assert arn in (live.get("provisionedModelArn"), live.get("customModelDeploymentArn"))
    [record] = Registry().resources()
    assert record.identifier == arn and record.details[TOKEN_KEY] == saved.details[TOKEN_KEY]
