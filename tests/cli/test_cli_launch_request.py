"""`jobs launch --dry-run --json` prints the exact request and sends nothing, for every
customization type; distillation needs a teacher and the request carries it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import botocore.endpoint
import pytest

from core.aws import AwsContext
from core.sandbox.server import Sandbox, sandbox_environment
from tests.api_model import assert_valid
from tui.cli.main import main

ROLE = "arn:aws:iam::123456789012:role/bedrock-tune-role"
PREMIER = "us.amazon.nova-premier-v1:0"
LLAMA_8B = "meta.llama3-1-8b-instruct-v1:0:128k"
LLAMA_405B = "meta.llama3-1-405b-instruct-v1:0"
PROMPT = (
    b'{"schemaVersion": "bedrock-conversation-2024", "system": [{"text": "Be brief."}], '
    b'"messages": [{"role": "user", "content": [{"text": "What is 2 + 2?"}]}]}\n'
) * 100


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Every request botocore puts on the wire, as (operation, request dict); they still go."""
    calls: list[tuple[str, dict[str, Any]]] = []
    original = botocore.endpoint.Endpoint.make_request

    def spy(self: Any, operation_model: Any, request_dict: dict[str, Any]) -> Any:
        calls.append((operation_model.name, request_dict))
        return original(self, operation_model, request_dict)

    monkeypatch.setattr(botocore.endpoint.Endpoint, "make_request", spy)
    return calls


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    with Sandbox(region="us-west-2") as running:
        for key, value in sandbox_environment(running).items():
            monkeypatch.setenv(key, value)
        yield running


def jobs_in(sandbox: Sandbox) -> list[Any]:
    context = AwsContext.for_endpoint(sandbox.endpoint_url, sandbox.credentials, "us-west-2")
    answer = context.client("bedrock").list_model_customization_jobs()
    return list(answer["modelCustomizationJobSummaries"])


def launch_args(model: str, kind: str, *extra: str) -> list[str]:
    return [
        "jobs",
        "launch",
        "--model",
        model,
        "--type",
        kind,
        "--train",
        "s3://bt-cli/d/train.jsonl",
        "--output",
        "s3://bt-cli/d/output/",
        "--role",
        ROLE,
        "--name",
        "dry-job",
        "--token",
        "tok-1",
        *extra,
    ]


CASES = {
    "fine-tuning": (
        LLAMA_8B,
        ("--hp", "epochCount=2", "--validation", "s3://bt-cli/d/validation.jsonl"),
    ),
    "continued-pre-training": ("amazon.titan-text-lite-v1:0:4k", ("--hp", "epochCount=1")),
    "distillation": (
        "amazon.nova-micro-v1:0:128k",
        ("--teacher", PREMIER, "--max-response-length", "1000"),
    ),
}


@pytest.mark.parametrize("kind", list(CASES))
def test_dry_run_prints_the_exact_request_and_sends_nothing(
    kind: str,
    sandbox: Sandbox,
    sent: list[tuple[str, dict[str, Any]]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    model, extra = CASES[kind]
    assert main([*launch_args(model, kind, *extra), "--dry-run", "--json"]) == 0
    out = capsys.readouterr().out
    printed = json.loads(out)
    assert list(printed) == ["operation", "request"]
    assert printed["operation"] == "CreateModelCustomizationJob"
    request = printed["request"]
    assert request["baseModelIdentifier"] == model
    assert request["customizationType"] == kind.upper().replace("-", "_")
    assert request["clientRequestToken"] == "tok-1"
    assert_valid("bedrock", "CreateModelCustomizationJob", request)
    if kind == "distillation":
        assert request["customizationConfig"] == {
            "distillationConfig": {
                "teacherModelConfig": {
                    "teacherModelIdentifier": PREMIER,
                    "maxResponseLengthForInference": 1000,
                }
            }
        }
    else:
        assert "customizationConfig" not in request
    assert sent == []  # not one request left the process
    assert jobs_in(sandbox) == []


def test_distillation_without_a_teacher_exits_2_and_names_the_teachers(
    sandbox: Sandbox, sent: list[tuple[str, dict[str, Any]]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(launch_args(LLAMA_8B, "distillation", "--dry-run", "--json")) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "--type distillation needs --teacher MODEL_ID" in captured.err
    assert LLAMA_405B in captured.err and "Traceback" not in captured.err
    assert main(launch_args(LLAMA_8B, "distillation")) == 2  # the same without --dry-run
    assert sent == [] and jobs_in(sandbox) == []


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (("--teacher", "amazon.nova-pro-v1:0"), "not a teacher bedrock-tune knows"),
        (("--teacher", LLAMA_405B, "--max-response-length", "0"), "maximum response length"),
    ],
)
def test_a_bad_teacher_or_length_exits_2(
    extra: tuple[str, ...],
    needle: str,
    sandbox: Sandbox,
    sent: list[tuple[str, dict[str, Any]]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(launch_args(LLAMA_8B, "distillation", *extra)) == 2
    assert needle in capsys.readouterr().err
    assert sent == [] and jobs_in(sandbox) == []


def test_a_teacher_outside_distillation_exits_2(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(launch_args(LLAMA_8B, "fine-tuning", "--teacher", LLAMA_405B, "--dry-run")) == 2
    assert "for distillation only" in capsys.readouterr().err


def test_a_distillation_launch_sends_the_teacher(
    sandbox: Sandbox, sent: list[tuple[str, dict[str, Any]]], capsys: pytest.CaptureFixture[str]
) -> None:
    context = AwsContext.for_endpoint(sandbox.endpoint_url, sandbox.credentials, "us-west-2")
    s3 = context.client("s3")
    s3.create_bucket(Bucket="bt-cli", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    s3.put_object(Bucket="bt-cli", Key="d/train.jsonl", Body=PROMPT)
    args = launch_args(LLAMA_8B, "distillation", "--teacher", LLAMA_405B, "--json")
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["job_name"] == "dry-job"
    [body] = [json.loads(r["body"]) for op, r in sent if op == "CreateModelCustomizationJob"]
    assert body["customizationType"] == "DISTILLATION"
    teacher = body["customizationConfig"]["distillationConfig"]["teacherModelConfig"]
    assert teacher == {"teacherModelIdentifier": LLAMA_405B}
    assert [j["jobName"] for j in jobs_in(sandbox)] == ["dry-job"]


def test_an_end_of_life_model_is_refused_before_any_call(
    sent: list[tuple[str, dict[str, Any]]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)  # so its own region is checked
    haiku = "anthropic.claude-3-haiku-20240307-v1:0:200k"
    assert main(launch_args(haiku, "fine-tuning", "--dry-run", "--json")) == 2
    err = capsys.readouterr().err
    assert "end of life in us-west-2 since 2026-09-10" in err and "Pick" in err
    assert sent == []


def test_a_legacy_model_is_named_as_such_on_stderr_only(
    sent: list[tuple[str, dict[str, Any]]], capsys: pytest.CaptureFixture[str]
) -> None:
    model, extra = CASES["continued-pre-training"]
    assert main([*launch_args(model, "continued-pre-training", *extra), "--dry-run", "--json"]) == 0
    captured = capsys.readouterr()
    assert "legacy" in captured.err and "Llama 3.1 8B Instruct" in captured.err
    assert list(json.loads(captured.out)) == ["operation", "request"]
