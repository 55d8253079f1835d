"""Custom Model Import end to end against the sandbox, over HTTP: upload, import once, watch to
Completed, invoke (cold start first), fail by the check's rules, quota, teardown."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from core.aws import AwsContext
from core.billing import summarize_items, summarize_records
from core.errors import QuotaExceededError, ValidationError
from core.importing.check import check_model
from core.importing.jobs import (
    ImportRequest,
    create_import_job,
    get_import_job,
    get_imported_model,
    import_poller,
    list_import_jobs,
    list_imported_models,
    resource_tags,
)
from core.importing.launching import (
    import_finished,
    launch_import,
    resolve_import,
    upload_model,
)
from core.importing.source import open_folder
from core.importing.tiny import write_tiny_model
from core.jobs.customization import NameTakenError, new_client_request_token
from core.poll import Backoff, Pacing
from core.pricing.service import PriceService
from core.registry import Registry
from core.run import Route, Run
from core.sandbox.server import SANDBOX_ACCOUNT_ID, Sandbox
from core.serving.chat import Answer, Turn, converse, converse_stream, invoke_openai_chat
from core.statuses import ImportStatus
from core.teardown.delete import delete, inventory
from tests.fakes import Clock

BUCKET = "bt-imports"
ROLE = f"arn:aws:iam::{SANDBOX_ACCOUNT_ID}:role/bedrock-tune-import-us-east-1"


@pytest.fixture
def clock() -> Clock:
    return Clock(5_000.0)


@pytest.fixture
def sandbox(clock: Clock) -> Iterator[Sandbox]:
    with Sandbox(import_seconds=60, clock=clock, imported_model_quota=2) as sandbox:
        yield sandbox


@pytest.fixture
def context(sandbox: Sandbox) -> AwsContext:
    context = AwsContext.for_endpoint(sandbox.endpoint_url, sandbox.credentials, "us-east-1")
    context.client("s3").create_bucket(Bucket=BUCKET)
    return context


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    return Registry(tmp_path / "state")


def without_retries(context: AwsContext) -> Any:
    """A bedrock-runtime client that does not retry (so a cold start reaches the caller)."""
    return context.session().client(
        "bedrock-runtime",
        endpoint_url=context.endpoint_url,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


def new_run(source: Path, name: str = "bt-sql") -> Run:
    return Run(
        route=Route.IMPORT_ONLY,
        target="sandbox",
        region="us-east-1",
        account_id=SANDBOX_ACCOUNT_ID,
        model_source=str(source),
        role_arn=ROLE,
        bucket=BUCKET,
        s3_prefix="bedrock-tune",
        imported_model_name=name,
    )


def imported(
    context: AwsContext, registry: Registry, clock: Clock, folder: Path, name: str = "bt-sql"
) -> Run:
    """Upload, launch and watch an import to its end; the run as it ends."""
    run = resolve_import(registry.runs(), new_run(folder, name))
    assert run.run_id is not None
    registry.save_run(run.run_id, run)
    report = check_model(open_folder(str(folder)))
    run = upload_model(context, run, folder, report.upload, registry=registry)
    run = launch_import(context, run, registry).run
    poller = import_poller(
        lambda: get_import_job(context, run.import_job_arn or ""),
        backoff=Backoff(first=10, maximum=10),
        pacing=Pacing(clock=clock, sleep=clock.sleep, random=lambda: 0.5, tick=10),
    )
    final = poller.run()
    assert final is not None
    run = import_finished(context, run, final, registry)
    registry.save_run(run.run_id or "", run)
    return run


def test_a_checked_folder_imports_and_answers_after_a_cold_start(
    context: AwsContext, registry: Registry, clock: Clock, tmp_path: Path
) -> None:
    run = imported(context, registry, clock, write_tiny_model(tmp_path / "model"))
    assert run.import_status is ImportStatus.COMPLETED
    assert run.model_uri == f"s3://{BUCKET}/bedrock-tune/{run.run_id}/model/"
    assert run.custom_model_arn and ":imported-model/" in run.custom_model_arn
    assert run.model_architecture == "llama"
    assert run.custom_model_units == 1
    assert clock.t - 5_000.0 >= 60  # the import took its time, on the injected clock
    model = get_imported_model(context, run.custom_model_arn)
    assert model.name == "bt-sql" and model.instruct is True
    # Recorded as billable, with its prices per window and per month.
    records = [r for r in registry.resources() if r.kind == "imported-model"]
    assert len(records) == 1 and records[0].details["units"] == 1
    summary = summarize_records(registry.resources())
    assert re.fullmatch(
        r"no idle cost, bills \$0\.2859 per 5-min window while active "
        r"\(Price List API, \d{4}-\d\d-\d\d\)",
        summary.hourly_text(),
    )
    assert re.fullmatch(r"\$1\.95/month \(Price List API, [\d-]{10}\)", summary.monthly_text())

    # Without retries, the first call meets the cold start; the next one answers.
    runtime = without_retries(context)
    body = json.dumps({"prompt": "SELECT?", "max_gen_len": 50})
    with pytest.raises(ClientError) as cold:
        runtime.invoke_model(modelId=run.custom_model_arn, body=body)
    assert cold.value.response["Error"]["Code"] == "ModelNotReadyException"
    answer = json.loads(
        runtime.invoke_model(modelId=run.custom_model_arn, body=body)["body"].read()
    )
    assert "[sandbox: imported model bt-sql (llama" in answer["generation"]
    chat = runtime.invoke_model(
        modelId=run.custom_model_arn,
        body=json.dumps({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 9}),
    )
    assert json.loads(chat["body"].read())["choices"][0]["message"]["role"] == "assistant"
    # Converse (Llama answers it) through bedrock-tune's chat, warm now.
    reply = converse(context, run.custom_model_arn, "", [Turn("user", "hello")])
    assert reply.text.startswith("[sandbox: imported model bt-sql")


def test_the_chat_rides_out_a_cold_start_with_retries(
    context: AwsContext, registry: Registry, clock: Clock, tmp_path: Path
) -> None:
    run = imported(context, registry, clock, write_tiny_model(tmp_path / "model"))
    slept: list[float] = []
    context._cache.clients["bedrock-runtime@us-east-1"] = without_retries(context)  # no SDK retry
    reply = converse(
        context, run.custom_model_arn or "", "", [Turn("user", "hi")], sleep=slept.append
    )
    assert slept == [2.0]  # one cold start, waited out, then the answer
    assert "imported model" in reply.text


def test_a_cold_start_is_told_while_the_stream_is_retried(
    context: AwsContext, registry: Registry, clock: Clock, tmp_path: Path
) -> None:
    run = imported(context, registry, clock, write_tiny_model(tmp_path / "model"))
    model = run.custom_model_arn or ""
    # botocore's own retries ride out the cold start: it is still told, once.
    cold: list[int] = []
    pieces = list(converse_stream(context, model, "", [Turn("user", "hi")], on_cold=cold.append))
    assert cold == [1]
    answer = pieces[-1]
    assert isinstance(answer, Answer) and "imported model bt-sql" in answer.text
    # Warm now: nothing to tell.
    cold.clear()
    list(converse_stream(context, model, "", [Turn("user", "again")], on_cold=cold.append))
    assert cold == []
    # Idle long enough to go cold again; without SDK retries our own loop retries and tells.
    clock.t += 3600
    context._cache.clients["bedrock-runtime@us-east-1"] = without_retries(context)
    slept: list[float] = []
    pieces = list(
        converse_stream(
            context, model, "", [Turn("user", "hi")], on_cold=cold.append, sleep=slept.append
        )
    )
    assert cold == [1] and slept == [2.0]
    assert isinstance(pieces[-1], Answer) and "imported model" in pieces[-1].text


def test_a_rerun_reattaches_and_never_imports_twice(
    context: AwsContext, registry: Registry, clock: Clock, tmp_path: Path
) -> None:
    folder = write_tiny_model(tmp_path / "model")
    run = resolve_import(registry.runs(), new_run(folder))
    registry.save_run(run.run_id or "", run)
    run = upload_model(context, run, folder, check_model(open_folder(str(folder))).upload)
    first = launch_import(context, run)
    # The process "died" before saving the ARN: the same command resolves the saved run...
    again = resolve_import(registry.runs(), new_run(folder))
    assert (again.run_id, again.import_token) == (run.run_id, run.import_token)
    second = launch_import(context, replace(again, model_uri=run.model_uri))
    assert second.reattached and second.run.import_job_arn == first.run.import_job_arn
    assert len(list(list_import_jobs(context))) == 1
    assert resource_tags(context, first.run.import_job_arn or "")["bedrock-tune:run"] == run.run_id
    # Another run asking for the same job name is told whose it is.
    other = replace(second.run, run_id="someone-else", import_job_arn=None)
    with pytest.raises(NameTakenError, match=f"bedrock-tune run {run.run_id}"):
        launch_import(context, other)


def test_a_folder_the_check_fails_makes_the_import_fail(
    context: AwsContext, clock: Clock, tmp_path: Path
) -> None:
    folder = write_tiny_model(tmp_path / "model")
    s3 = context.client("s3")
    for path in folder.iterdir():
        if path.name != "model-00002-of-00002.safetensors":  # a shard missing from the index
            s3.put_object(Bucket=BUCKET, Key=f"broken/{path.name}", Body=path.read_bytes())
    arn = create_import_job(
        context,
        ImportRequest(
            "bt-broken-import",
            "bt-broken",
            ROLE,
            f"s3://{BUCKET}/broken/",
            new_client_request_token(),
        ),
    )
    assert get_import_job(context, arn).status is ImportStatus.IN_PROGRESS
    clock.t += 6
    job = get_import_job(context, arn)
    assert job.status is ImportStatus.FAILED
    assert job.failure_message and "model-00002-of-00002.safetensors" in job.failure_message
    assert "index-shard-missing" in job.failure_message
    assert job.model_arn is None and list_imported_models(context) == []


def test_the_imported_models_quota(context: AwsContext, clock: Clock, tmp_path: Path) -> None:
    folder = write_tiny_model(tmp_path / "model")
    for path in folder.iterdir():
        context.client("s3").put_object(Bucket=BUCKET, Key=f"m/{path.name}", Body=path.read_bytes())

    def request(n: int) -> ImportRequest:
        return ImportRequest(
            f"job-{n}", f"model-{n}", ROLE, f"s3://{BUCKET}/m/", new_client_request_token()
        )

    create_import_job(context, request(1))
    create_import_job(context, request(2))
    with pytest.raises(QuotaExceededError) as quota:
        create_import_job(context, request(3))
    assert "Imported models per account" in quota.value.hint
    clock.t += 61
    assert len(list_imported_models(context)) == 2


def test_teardown_deletes_the_imported_model_and_forgets_the_job(
    context: AwsContext, registry: Registry, clock: Clock, tmp_path: Path
) -> None:
    run = imported(context, registry, clock, write_tiny_model(tmp_path / "model"))
    items = inventory(context, registry, discover_tags=False, prices=PriceService(context))
    kinds = {i.kind: i for i in items}
    model = kinds["imported-model"]
    assert model.exists and model.billable and model.window_cost == pytest.approx(0.2859)
    # Both rates from the sandbox's Price List, each with its source and date.
    assert re.fullmatch(
        r"\$0\.2859 per 5-min window while a copy is active \(Price List API, [\d-]{10}\); "
        r"nothing while idle; \$1\.95/month storage \(Price List API, [\d-]{10}\)",
        model.cost_text,
    ), model.cost_text
    assert summarize_items(items).windowed == 1
    assert kinds["model-import-job"].action == "forget"
    result = delete(context, items, registry)
    assert result.ok, [o.message for o in result.outcomes]
    assert list_imported_models(context) == []
    assert inventory(context, registry, discover_tags=False) == []
    saved = registry.get_run(run.run_id or "")
    assert saved is not None and saved.run.custom_model_arn is None


def test_an_import_under_way_is_kept_by_teardown(
    context: AwsContext, registry: Registry, clock: Clock, tmp_path: Path
) -> None:
    folder = write_tiny_model(tmp_path / "model")
    run = resolve_import(registry.runs(), new_run(folder))
    registry.save_run(run.run_id or "", run)
    run = upload_model(context, run, folder, check_model(open_folder(str(folder))).upload)
    run = launch_import(context, run, registry).run
    registry.save_run(run.run_id or "", run)
    items = inventory(context, registry, discover_tags=False)
    job = next(i for i in items if i.kind == "model-import-job")
    assert "no call to stop" in job.effect
    outcome = delete(context, [job], registry).outcomes[0]
    assert outcome.status == "kept"
    assert any(r.kind == "model-import-job" for r in registry.resources())
    # Once it ends, teardown finds the model it made through the job's registry entry.
    clock.t += 61
    after = {i.kind for i in inventory(context, registry, discover_tags=False)}
    assert "imported-model" in after


def test_an_invoke_only_model_chats_through_invoke_model(
    context: AwsContext, registry: Registry, clock: Clock, tmp_path: Path
) -> None:
    folder = write_tiny_model(tmp_path / "qwen")
    config = json.loads((folder / "config.json").read_text())
    config.update(model_type="qwen3", architectures=["Qwen3ForCausalLM"])
    (folder / "config.json").write_text(json.dumps(config))
    run = imported(context, registry, clock, folder, name="bt-qwen")
    assert run.model_architecture == "qwen3"
    model = run.custom_model_arn or ""
    answer = invoke_openai_chat(context, model, "Answer in SQL.", [Turn("user", "count rows")])
    assert answer.text.startswith("[sandbox: imported model bt-qwen (qwen3")
    assert answer.output_tokens and answer.stop_reason == "stop"
    with pytest.raises(ValidationError, match="does not support the Converse API"):
        converse(context, model, "", [Turn("user", "hi")])
