"""`deploy`, `undeploy` and `chat` against a sandbox reached through AWS_ENDPOINT_URL."""

from __future__ import annotations

import json

import pytest

from core.registry import Registry
from core.sandbox.server import Sandbox
from tests.fakes import Clock, context_for, train_model
from tui.cli.main import main

NOVA = "amazon.nova-micro-v1:0:128k"


@pytest.fixture
def model(exported_sandbox: Sandbox, clock: Clock) -> str:
    """A model trained in the sandbox, which the CLI reaches through AWS_ENDPOINT_URL."""
    record = {"prompt": "What is the refund window?", "completion": "Thirty days."}
    body = (json.dumps(record) + "\n").encode()
    context = context_for(exported_sandbox)
    return train_model(context, clock, "chat", NOVA, bucket="bt-chat", body=body).model_arn


def test_provisioned_needs_confirmation(model: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deploy", model, "--provisioned", "--no-wait"]) == 1
    err = capsys.readouterr().err
    assert "--yes" in err
    assert "bills $20.00 per hour (Price List API, " in err  # the sandbox's Price List
    assert Registry().resources() == []
    assert main(["deploy", model, "--provisioned", "--no-wait", "--yes"]) == 0
    [record] = Registry().resources()
    assert record.details["per_hour"] == 20.0
    assert record.details["price_source"] == "price-list-api" and record.details["price_as_of"]


def test_deploy_waits_until_ready_with_back_off(
    model: str, clock: Clock, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.t += seconds

    monkeypatch.setattr("tui.cli.deploy.sleep", sleep)
    assert main(["deploy", model, "--on-demand", "--name", "bt-wait", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["status"] == "Active"
    assert captured.err.splitlines() == ["bt-wait: Creating", "bt-wait: Active"]
    # Ready after 30 s: three checks (15 s, then x1.6, each +-10% jitter), the waits cut into
    # slices of at most 0.1 s.
    assert 30 <= sum(slept) <= 120 and max(slept) <= 0.1


def test_deploy_chat_undeploy(model: str, clock: Clock, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deploy", model, "--on-demand", "--name", "bt-dep", "--no-wait", "--json"]) == 0
    deployed = json.loads(capsys.readouterr().out)
    assert deployed["status"] == "Creating"
    [resource] = Registry().resources()
    assert resource.billable and resource.identifier == deployed["arn"]
    clock.t += 31
    assert (
        main(
            [
                "chat",
                deployed["arn"],
                "--prompt",
                "refund window?",
                "--compare",
                "us.amazon.nova-micro-v1:0",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "model: [sandbox: answer of the most similar training record] Thirty days." in out
    assert "base: [sandbox: base model us.amazon.nova-micro-v1:0]" in out
    assert main(["undeploy", "bt-dep"]) == 0
    assert "no longer bills" in capsys.readouterr().out
    assert Registry().resources() == []
    assert main(["undeploy", "bt-dep"]) == 2


def test_evaluate_against_the_base(
    tmp_path: object, model: str, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    test = folder / "test.jsonl"
    test.write_text(
        json.dumps({"prompt": "What is the refund window?", "completion": "Thirty days."}) + "\n"
    )
    assert main(["deploy", model, "--on-demand", "--name", "bt-eval", "--no-wait"]) == 0
    clock.t += 31
    arn = Registry().resources()[0].identifier
    assert (
        main(
            [
                "evaluate",
                "--model",
                arn,
                "--test",
                str(test),
                "--compare",
                "us.amazon.nova-micro-v1:0",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "tuned  ROUGE-1" in out and "base   ROUGE-1" in out
    assert (folder / "evaluation.json").is_file() and (folder / "evaluation.csv").is_file()


def test_chat_with_an_unknown_model_is_a_clear_error(
    model: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["chat", "no.such-model-v1:0", "--prompt", "hi"]) == 2
    err = capsys.readouterr().err
    assert "Unknown model" in err and "The provided model identifier is invalid." in err
    assert "Traceback" not in err
