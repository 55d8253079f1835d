"""Batch inference: request shapes checked by botocore's validation, the sandbox's emulation
end to end (progression, output files as Bedrock writes them, one failed record), the
registry entry and teardown stopping a running job, and models batch does not serve."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from core.aws import AwsContext
from core.catalog.lookup import find_model
from core.evaluation.batch import (
    BatchPlace,
    BatchRunner,
    BatchStatus,
    input_jsonl,
    job_name,
    job_request,
    parse_output,
    record_id,
)
from core.evaluation.batch_support import batch_support
from core.evaluation.native import model_input, read_output
from core.poll import Pacing
from core.registry import Registry, ResourceRecord
from core.run import Run
from core.sandbox.batch import FAILED_RECORD_MESSAGE
from core.sandbox.server import SANDBOX_ACCOUNT_ID, Sandbox
from core.serving.chat import Settings
from core.teardown.delete import delete, inventory
from core.teardown.items import BATCH_JOB
from tests.fakes import Clock

NOVA = "us.amazon.nova-micro-v1:0"
SETTINGS = Settings(max_tokens=64, temperature=0.0, top_p=1.0)
PROMPTS = [("Be brief.", f"Question {i}?") for i in range(5)]
RUN = Run(
    run_id="run1",
    bucket="bt-bucket",
    role_arn="arn:aws:iam::123456789012:role/bt-role",
    training_uri="s3://bt-bucket/bedrock-tune/run1/data/train.jsonl",
    output_uri="s3://bt-bucket/bedrock-tune/run1/output/",
)


def test_the_request_and_bodies_fit_the_api_model(aws_keys: None) -> None:
    place = BatchPlace.for_run(RUN)
    assert place is not None
    assert place.input_key("j") == "bedrock-tune/run1/data/evaluation/j/records.jsonl"
    assert place.output_for("j") == "s3://bt-bucket/bedrock-tune/run1/output/evaluation/j/"
    assert BatchPlace.for_run(Run(run_id="x")) is None  # no infrastructure yet
    name = job_name(NOVA)
    request = job_request(
        name,
        NOVA,
        f"s3://bt-bucket/{place.input_key(name)}",
        place.output_for(name),
        place.role_arn,
        name,
        "run1",
    )
    # The Stubber validates the request against botocore's CreateModelInvocationJob model
    # (names, patterns, the JSONL format, the 24-168 hour time-out).
    context = AwsContext.from_environment(region="us-east-1")
    client = context.client("bedrock")
    arn = "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abcdef123456"
    with Stubber(client) as stub:
        stub.add_response("create_model_invocation_job", {"jobArn": arn}, request)
        stub.add_response(
            "get_model_invocation_job",
            {
                "jobArn": arn,
                "modelId": NOVA,
                "roleArn": place.role_arn,
                "submitTime": "2026-01-01T00:00:00Z",
                "status": "InProgress",
                "inputDataConfig": request["inputDataConfig"],
                "outputDataConfig": request["outputDataConfig"],
            },
            {"jobIdentifier": arn},
        )
        stub.add_response("stop_model_invocation_job", {}, {"jobIdentifier": arn})
        stub.add_response(
            "list_model_invocation_jobs",
            {"invocationJobSummaries": []},
            {"statusEquals": "InProgress"},
        )
        assert client.create_model_invocation_job(**request)["jobArn"] == arn
        client.get_model_invocation_job(jobIdentifier=arn)
        client.stop_model_invocation_job(jobIdentifier=arn)
        client.list_model_invocation_jobs(statusEquals="InProgress")
        stub.assert_no_pending_responses()
    lines = input_jsonl("nova", PROMPTS[:2], SETTINGS).decode().splitlines()
    first = json.loads(lines[0])
    assert first["recordId"] == record_id(0) == "R0000000000"
    assert first["modelInput"]["schemaVersion"] == "messages-v1"
    assert first["modelInput"]["system"] == [{"text": "Be brief."}]


@pytest.mark.parametrize(
    ("family", "answer", "expected"),
    [
        (
            "nova",
            {
                "output": {"message": {"content": [{"text": "hi"}]}},
                "usage": {"inputTokens": 3, "outputTokens": 1},
            },
            ("hi", 3, 1),
        ),
        (
            "claude-3-haiku",
            {
                "content": [{"type": "text", "text": "hi"}],
                "usage": {"input_tokens": 3, "output_tokens": 1},
            },
            ("hi", 3, 1),
        ),
        (
            "llama-3.1",
            {"generation": "hi", "prompt_token_count": 3, "generation_token_count": 1},
            ("hi", 3, 1),
        ),
        (
            "titan-text",
            {"inputTextTokenCount": 3, "results": [{"outputText": "hi", "tokenCount": 1}]},
            ("hi", 3, 1),
        ),
        ("cohere-command", {"generations": [{"text": "hi"}]}, ("hi", None, None)),
    ],
)
def test_each_family_body_and_answer(
    family: str, answer: dict[str, Any], expected: tuple[Any, ...]
) -> None:
    body = model_input(family, "sys", "ask", SETTINGS)
    assert "ask" in json.dumps(body) and "sys" in json.dumps(body)
    assert read_output(family, answer) == expected
    assert read_output(family, {"unexpected": True}) is None


def test_models_batch_does_not_serve_are_said_so() -> None:
    assert batch_support(NOVA, "us-east-1").offered
    assert batch_support("amazon.nova-micro-v1:0", "us-east-1").offered  # the foundation model
    assert not batch_support("amazon.nova-micro-v1:0", "us-west-2").offered
    pt = batch_support("arn:aws:bedrock:us-east-1:1:provisioned-model/abc", "us-east-1")
    assert not pt.offered and "provisioned" in pt.reason
    deployment = batch_support(
        "arn:aws:bedrock:us-east-1:1:custom-model-deployment/abc", "us-east-1"
    )
    assert not deployment.offered
    haiku = batch_support(find_model("Claude 3 Haiku").inference_id, "us-west-2")
    assert not haiku.offered and "not listed" in haiku.reason


def test_output_lines_are_matched_by_record_id_in_any_order() -> None:
    out = "\n".join(
        [
            json.dumps(
                {
                    "recordId": "R0000000001",
                    "modelInput": {},
                    "error": {"errorCode": 400, "errorMessage": "bad"},
                }
            ),
            json.dumps(
                {
                    "recordId": "R0000000000",
                    "modelInput": {},
                    "modelOutput": {"output": {"message": {"content": [{"text": "a"}]}}},
                }
            ),
            "not json",
            json.dumps({"recordId": "R9", "modelOutput": {}}),
        ]
    ).encode()
    answers = parse_output("nova", out, {"R0000000000": 0, "R0000000001": 1})
    assert answers[0].text == "a" and answers[0].error is None
    assert answers[1].error is not None and "bad" in answers[1].error
    assert set(answers) == {0, 1}


def _sandbox_runner(
    sandbox: Sandbox, clock: Clock, registry: Registry, statuses: list[BatchStatus], **extra: Any
) -> tuple[AwsContext, BatchRunner]:
    context = AwsContext.for_endpoint(sandbox.endpoint_url, sandbox.credentials)
    context.client("s3").create_bucket(Bucket="bt-bucket")
    place = BatchPlace.for_run(RUN)
    assert place is not None
    runner = BatchRunner(
        context,
        place,
        registry,
        SANDBOX_ACCOUNT_ID,
        pacing=Pacing(clock=clock, sleep=clock.sleep, random=lambda: 0.5),
        on_status=statuses.append,
        **extra,
    )
    return context, runner


def test_a_batch_job_end_to_end_in_the_sandbox(tmp_path: Path) -> None:
    clock = Clock(1000.0)
    registry = Registry(tmp_path / "state")
    statuses: list[BatchStatus] = []
    seen_in_registry: list[bool] = []
    with Sandbox(clock=clock, batch_seconds=600) as sandbox:
        context, runner = _sandbox_runner(sandbox, clock, registry, statuses)

        def seen(status: BatchStatus) -> None:
            statuses.append(status)
            seen_in_registry.append(any(r.kind == BATCH_JOB for r in registry.resources()))

        runner.on_status = seen
        outcome = runner.run(NOVA, "nova", PROMPTS, SETTINGS)
        job = outcome.info
        assert job.job_arn is not None
        # What Bedrock writes: <output>/<job id>/records.jsonl.out and manifest.json.out.
        s3 = context.client("s3")
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="bt-bucket")["Contents"]]
        folder = job.output_uri.removeprefix("s3://bt-bucket/") + job.job_arn.rsplit("/", 1)[-1]
        assert folder.startswith("bedrock-tune/run1/output/evaluation/bt-eval-nova-micro")
        assert f"{folder}/records.jsonl.out" in keys
        manifest = json.loads(
            s3.get_object(Bucket="bt-bucket", Key=f"{folder}/manifest.json.out")["Body"].read()
        )
        assert manifest["errorRecordCount"] == 1 and manifest["totalRecordCount"] == 5
    # It went through Bedrock's states in their order, its processed count rising.
    order = list(dict.fromkeys(s.status for s in statuses))
    states = ["Submitted", "Validating", "Scheduled", "InProgress", "PartiallyCompleted"]
    assert order == [state for state in states if state in order]
    assert order[0] == "Submitted" and order[-1] == "PartiallyCompleted"
    assert "InProgress" in order
    processed = [s.processed for s in statuses]
    assert processed == sorted(processed) and processed[-1] == 5
    # Recorded as billable while it ran, forgotten once it ended.
    assert all(seen_in_registry) and registry.resources() == []
    # Scored on the rest, counted: four answers, the last record failed on purpose.
    assert (job.status, job.succeeded, job.failed) == ("PartiallyCompleted", 4, 1)
    assert outcome.usable
    assert all(outcome.answers[i].error is None for i in range(4))
    assert "[sandbox: base model" in outcome.answers[0].text
    assert outcome.answers[0].input_tokens and outcome.answers[0].output_tokens
    failed = outcome.answers[4].error
    assert failed is not None and FAILED_RECORD_MESSAGE in failed


def test_a_job_that_cannot_be_created_is_not_usable(tmp_path: Path) -> None:
    clock = Clock(1000.0)
    registry = Registry(tmp_path / "state")
    with Sandbox(clock=clock) as sandbox:
        _, runner = _sandbox_runner(sandbox, clock, registry, [])
        haiku = find_model("Claude 3 Haiku").inference_id
        outcome = runner.run(haiku, "claude-3-haiku", PROMPTS, SETTINGS)
    assert not outcome.usable and outcome.info.job_arn is None
    assert "does not support batch inference" in outcome.info.message
    assert registry.resources() == []


def test_a_cancelled_job_is_stopped_and_teardown_stops_a_running_one(tmp_path: Path) -> None:
    clock = Clock(1000.0)
    registry = Registry(tmp_path / "state")
    statuses: list[BatchStatus] = []
    with Sandbox(clock=clock, batch_seconds=600) as sandbox:
        context, runner = _sandbox_runner(
            sandbox, clock, registry, statuses, cancelled=lambda: len(statuses) >= 2
        )
        outcome = runner.run(NOVA, "nova", PROMPTS, SETTINGS)
        assert outcome.info.status == "Stopping" and not outcome.usable
        bedrock = context.client("bedrock")
        arn = outcome.info.job_arn
        assert arn is not None
        assert bedrock.get_model_invocation_job(jobIdentifier=arn)["status"] == "Stopping"
        # The cancelled job is still listed until it has stopped: teardown would see it.
        assert [r.identifier for r in registry.resources()] == [arn]
        registry.remove_resource(BATCH_JOB, arn)
        # Another job, left running (as if bedrock-tune were killed): teardown lists and stops it.
        request = job_request(
            "bt-eval-left",
            NOVA,
            "s3://bt-bucket/bedrock-tune/run1/data/evaluation/x/records.jsonl",
            "s3://bt-bucket/bedrock-tune/run1/output/evaluation/x/",
            RUN.role_arn or "",
            "left1",
            "run1",
        )
        second = bedrock.create_model_invocation_job(**request)["jobArn"]
        registry.add_resource(
            ResourceRecord(
                BATCH_JOB,
                second,
                "us-east-1",
                SANDBOX_ACCOUNT_ID,
                "run1",
                billable=True,
                details={"name": "bt-eval-left"},
            )
        )
        items = [
            i for i in inventory(context, registry, discover_tags=False) if i.kind == BATCH_JOB
        ]
        running = next(i for i in items if i.identifier == second)
        assert running.action == "stop" and running.exists and running.billable
        result = delete(context, [running], registry)
        assert result.ok and result.outcomes[0].status == "stopped"
        assert bedrock.get_model_invocation_job(jobIdentifier=second)["status"] == "Stopping"
        assert all(r.identifier != second for r in registry.resources())
        clock.t += 10
        assert bedrock.get_model_invocation_job(jobIdentifier=second)["status"] == "Stopped"
        listed = bedrock.list_model_invocation_jobs(statusEquals="Stopped")[
            "invocationJobSummaries"
        ]
        assert {j["jobArn"] for j in listed} == {arn, second}
