"""The evaluation as a whole: judge, SQL and batch together; the estimate; the report's JSON,
CSV and HTML; evaluations stored with runs and compared."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from core.aws import AwsContext
from core.errors import AccessDeniedError, ValidationError
from core.evaluation.batch import BatchPlace
from core.evaluation.evaluate import JudgeSetup, Options, Report, Result, Row, evaluate
from core.evaluation.plan import plan_evaluation
from core.evaluation.records import TestRecord
from core.evaluation.report import report_json, save_report
from core.evaluation.rubrics import PRESETS
from core.evaluation.runs import compare_runs
from core.evaluation.scores import compare
from core.evaluation.store import EvaluationStore
from core.poll import Pacing
from core.registry import Registry
from core.run import Run
from core.sandbox.server import SANDBOX_ACCOUNT_ID, Sandbox
from tests.fakes import Clock

NOVA_MICRO = "us.amazon.nova-micro-v1:0"
NOVA_LITE = "us.amazon.nova-lite-v1:0"
HAIKU = "us.anthropic.claude-3-haiku-20240307-v1:0"
SCHEMA = "CREATE TABLE head (name VARCHAR, age INTEGER)"


def sql_record(line: int, question: str, query: str) -> TestRecord:
    return TestRecord(line, f"You write SQL for the tables below.\n\n{SCHEMA}", question, query)


def reply(text: str) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 50, "outputTokens": 10, "totalTokens": 60},
        "metrics": {"latencyMs": 5},
    }


def test_judge_and_sql_in_one_evaluation(aws_keys: None) -> None:
    context = AwsContext.from_environment(region="us-east-1")
    records = [
        sql_record(1, "Who is older than 56?", "SELECT name FROM head WHERE age > 56"),
        sql_record(2, "How many heads?", "SELECT count(*) FROM head"),
    ]
    options = Options(sql=True, judge=JudgeSetup("us.amazon.nova-pro-v1:0", PRESETS["text-to-sql"]))
    slept: list[float] = []
    with Stubber(context.client("bedrock-runtime")) as stub:
        stub.add_response("converse", reply('{"ok": true}'))  # the judge's access check
        # The tuned model: throttled once (retried), then a right query; then a wrong one.
        stub.add_client_error("converse", "ThrottlingException", "Rate exceeded", 429)
        stub.add_response("converse", reply("SELECT name FROM head WHERE 56 < age"))
        stub.add_response("converse", reply("SELECT count(name) FROM head WHERE age > 3"))
        stub.add_response("converse", reply('{"answers": 5, "reason": "right rows"}'))
        stub.add_response("converse", reply("It seems fine."))  # not a score: asked again
        stub.add_response("converse", reply("Really fine."))  # still not: unparseable
        report = evaluate(
            context,
            records,
            "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/abc",
            concurrency=1,
            options=options,
            sleep=slept.append,
        )
        stub.assert_no_pending_responses()
    assert slept == [2.0]
    first, second = report.rows
    assert first.tuned.sql is not None and first.tuned.sql.execution_match
    assert second.tuned.sql is not None and second.tuned.sql.status == "mismatch"
    assert first.tuned.judge is not None and first.tuned.judge.scores == {"answers": 5}
    assert second.tuned.judge is not None and second.tuned.judge.status == "unparseable"
    data = report_json(report)
    assert data["sql"]["tuned"]["execution_match"] == 1 and data["sql"]["records_with_schema"] == 2
    assert data["judge"]["tuned"] == {
        "scored": 1,
        "unparseable": 1,
        "failed": 0,
        "retried": 1,
        "mean": 1.0,
    }
    assert data["judge"]["calls"] == 4 and data["judge"]["cost"] is not None
    assert data["tuned"]["sql_execution_match"]["mean"] == 0.5
    assert data["tuned"]["judge"]["n"] == 1  # the unparseable reply is left out, not guessed


def test_a_judge_without_access_stops_before_anything_is_spent(aws_keys: None) -> None:
    context = AwsContext.from_environment(region="us-east-1")
    options = Options(judge=JudgeSetup("us.amazon.nova-pro-v1:0", PRESETS["summarization"]))
    with Stubber(context.client("bedrock-runtime")) as stub:
        stub.add_client_error("converse", "AccessDeniedException", "no access", 403)
        with pytest.raises(AccessDeniedError) as caught:
            evaluate(context, [sql_record(1, "q", "SELECT 1")], NOVA_MICRO, options=options)
        stub.assert_no_pending_responses()  # no answer was asked for
    assert caught.value.title == "No access to the judge model"


def test_batch_end_to_end_with_a_failed_record_and_a_model_batch_does_not_serve(
    tmp_path: Path,
) -> None:
    clock = Clock(1000.0)
    registry = Registry(tmp_path / "state")
    records = [sql_record(i, f"Question {i}?", "SELECT name FROM head") for i in range(1, 4)]
    run = Run(
        run_id="run1",
        bucket="bt-eval",
        role_arn="arn:aws:iam::123456789012:role/bt",
        training_uri="s3://bt-eval/bedrock-tune/run1/data/train.jsonl",
        output_uri="s3://bt-eval/bedrock-tune/run1/output/",
    )
    with Sandbox(clock=clock, batch_seconds=120) as sandbox:
        context = AwsContext.for_endpoint(sandbox.endpoint_url, sandbox.credentials)
        context.client("s3").create_bucket(Bucket="bt-eval")
        options = Options(
            batch="auto",
            batch_threshold=3,
            batch_place=BatchPlace.for_run(run),
            registry=registry,
            account_id=SANDBOX_ACCOUNT_ID,
            pacing=Pacing(clock=clock, sleep=clock.sleep, random=lambda: 0.5),
        )
        plan = plan_evaluation(records, HAIKU, NOVA_MICRO, options, "us-east-1")
        report = evaluate(context, records, HAIKU, NOVA_MICRO, options=options, sleep=clock.sleep)
    # The estimate showed both costs and the choice for each model before it ran.
    text = "\n".join(plan.text())
    assert "Estimate on demand" in text and "Estimate with batch inference" in text
    assert "base model answers through batch inference" in text
    assert "tuned model answers on demand: batch is not offered" in text
    assert [s.uses_batch for s in plan.sides] == [False, True]
    # Haiku is not served by batch: on-demand, with a note. The base went through batch, and
    # its job failed one record (the sandbox fails the last on purpose): scored on the rest.
    assert all(r.tuned.via == "on-demand" and r.tuned.error is None for r in report.rows)
    assert [r.base.via for r in report.rows if r.base] == ["batch"] * 3
    assert [r.base.error is None for r in report.rows if r.base] == [True, True, False]
    notes = " ".join(report.notes)
    assert "not offered for the tuned model" in notes and "failed 1 of 3 records" in notes
    data = report_json(report)
    [job] = data["batch"]
    assert job["status"] == "PartiallyCompleted" and (job["succeeded"], job["failed"]) == (2, 1)
    assert data["base"]["rougeL"]["n"] == 2 and data["base"]["failed"] == 1
    assert registry.resources() == []  # the job ended: nothing left to stop


def _report(tuned_model: str, answers: list[str], base_answers: list[str] | None) -> Report:
    references = ["the cat sat on the mat", "a dog ran in the park", "birds fly south", "sun"]
    rows = []
    for i, (reference, answer) in enumerate(zip(references, answers, strict=True)):
        record = TestRecord(i + 1, "", f"describe {i}", reference)
        base = None
        if base_answers is not None:
            base = Result(base_answers[i], compare(base_answers[i], reference), None, 40, 10)
        rows.append(Row(record, Result(answer, compare(answer, reference), None, 40, 10), base))
    return Report(
        tuned_model,
        NOVA_MICRO if base_answers is not None else None,
        tuple(rows),
        tuned_base_id="amazon.nova-micro-v1:0:128k",
    )


def test_the_report_files(tmp_path: Path) -> None:
    report = _report(
        "arn:aws:bedrock:us-east-1:1:custom-model-deployment/x",
        ["the cat sat on the mat", "a dog ran", "birds fly south", "moon"],
        ["a cat", "a dog ran in the park", "birds", "moon"],
    )
    saved = save_report(report, tmp_path)
    data = json.loads(saved.json.read_text())
    rouge = data["tuned"]["rougeL"]
    assert set(rouge) == {"mean", "ci_low", "ci_high", "n"} and rouge["n"] == 4
    assert rouge["ci_low"] <= rouge["mean"] <= rouge["ci_high"]
    assert data["comparison"]["rougeL"]["wins"] + data["comparison"]["rougeL"]["losses"] == 3
    assert data["verdict"] and "ROUGE-L" in data["verdict"]
    serving = data["compared"]["contenders"][0]["serving"]
    # 40 in / 10 out tokens at Nova Micro's on-demand price, per 1,000 requests.
    assert serving["per_1k_requests"] == pytest.approx((40 * 0.000035 + 10 * 0.00014), rel=1e-9)
    rows = list(csv.reader(saved.csv.open()))
    assert rows[0][:3] == ["line", "key", "tuned_rouge1"] and len(rows) == 5
    page = saved.html.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page and "<script" not in page  # self-contained


def test_evaluations_stored_with_runs_and_compared(tmp_path: Path) -> None:
    registry = Registry(tmp_path / "state")
    store = EvaluationStore(registry)
    registry.save_run("r1", Run(run_id="r1"))
    registry.save_run("r2", Run(run_id="r2"))
    base = ["a cat", "a dog", "birds", "stars"]
    good = _report(
        "arn:aws:bedrock:us-east-1:1:custom-model-deployment/good",
        ["the cat sat on the mat", "a dog ran in the park", "birds fly south", "sun"],
        base,
    )
    weak = _report(
        "arn:aws:bedrock:us-east-1:1:provisioned-model/weak",
        ["a cat sat", "a dog", "birds fly", "moon"],
        base,
    )
    store.save("r1", report_json(good))
    store.save("r2", report_json(weak))
    assert [e.run_id for e in store.for_run("r1")] == ["r1"]
    assert registry.evaluations("r1")["r1"][0]["records"] == 4
    data = compare_runs(registry, ["r1", "r2"])
    compared = data["compared"]
    assert [c["id"] for c in compared["contenders"]] == [f"base:{NOVA_MICRO}", "run:r1", "run:r2"]
    assert compared["against"] == f"base:{NOVA_MICRO}" and compared["records"] == 4
    first, _ = compared["pairs"]
    assert first["metrics"]["rougeL"]["wins"] == 4 and "beats" in first["verdict"]
    assert first["disagreements"][0]["reference"]
    # The provisioned run bills by the hour: no per-request price is made up.
    weak_serving = compared["contenders"][2]["serving"]
    assert weak_serving["per_1k_requests"] is None and "hour" in weak_serving["note"]
    # One run alone is compared with its base model.
    alone = compare_runs(registry, ["r1"])["compared"]
    assert [c["id"] for c in alone["contenders"]] == [f"base:{NOVA_MICRO}", "run:r1"]
    with pytest.raises(ValidationError, match="no stored evaluation"):
        registry.save_run("r3", Run(run_id="r3"))
        compare_runs(registry, ["r3"])
    store.save("r3", report_json(_report("m", ["x", "y", "z", "w"], None)))
    with pytest.raises(ValidationError, match="without its base model"):
        compare_runs(registry, ["r3"])
