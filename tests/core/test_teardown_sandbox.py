"""Teardown against the sandbox where moto alone would not do: lists of more than one page, and
a job that is Stopping (moto stops jobs at once)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.aws import AwsContext
from core.jobs.customization import JobStatus, get_job, new_client_request_token, stop_job
from core.registry import Registry
from core.run import Run
from core.serving.deploy import create_deployment, create_throughput
from core.teardown.delete import delete, inventory
from tests.fakes import Clock, SandboxSetup, launch_job
from tests.fakes import sandbox_record as record

NOVA = "amazon.nova-micro-v1:0:128k"


@pytest.fixture
def sandbox_setup() -> SandboxSetup:
    return SandboxSetup(list_page_size=1)


@pytest.fixture
def context(sandbox_context: AwsContext) -> AwsContext:
    """A sandbox whose List operations answer one item per page, with training data."""
    s3 = sandbox_context.client("s3")
    s3.create_bucket(Bucket="bt-teardown")
    s3.put_object(Bucket="bt-teardown", Key="t.jsonl", Body=b'{"prompt": "a"}\n')
    return sandbox_context


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    return Registry(tmp_path / "registry")


def trained_model(context: AwsContext, clock: Clock) -> str:
    job = launch_job(context, "td", NOVA, "s3://bt-teardown/t.jsonl", "s3://bt-teardown/out/")
    clock.t += 20
    model = get_job(context, job).output_model_arn
    assert model
    return model


def test_serving_on_later_pages_is_found(
    context: AwsContext, clock: Clock, registry: Registry
) -> None:
    model = trained_model(context, clock)
    made = [
        (
            "provisioned-throughput",
            create_throughput(context, model, f"td-pt-{n}", new_client_request_token()),
        )
        for n in (1, 2)
    ] + [
        (
            "custom-model-deployment",
            create_deployment(context, model, f"td-dep-{n}", new_client_request_token()),
        )
        for n in (1, 2)
    ]
    for kind, arn in made:
        registry.add_resource(record(kind, arn, billable=True))
    items = inventory(context, registry, discover_tags=False)
    serving = {i.identifier: i for i in items if i.kind in dict(made)}
    assert set(serving) == {arn for _, arn in made}
    # Each was found in the listings (every page): it exists, under the name AWS lists.
    assert all(i.exists for i in serving.values())
    assert sorted(i.label for i in serving.values()) == [
        "On-demand deployment td-dep-1",
        "On-demand deployment td-dep-2",
        "Provisioned throughput td-pt-1",
        "Provisioned throughput td-pt-2",
    ]


def test_a_stopping_job_is_listed_and_not_stopped_twice(
    context: AwsContext, clock: Clock, registry: Registry
) -> None:
    job = launch_job(context, "td", NOVA, "s3://bt-teardown/t.jsonl", "s3://bt-teardown/out/")
    registry.save_run(
        "run1", Run(run_id="run1", job_name="td-job", job_arn=job, job_status=JobStatus.IN_PROGRESS)
    )
    clock.t += 5
    stop_job(context, job)
    assert get_job(context, job).status is JobStatus.STOPPING
    [item] = inventory(context, registry, discover_tags=False)
    # Not ended yet: listed as a job that still runs, and said to be stopping already.
    assert item.kind == "customization-job" and item.exists and item.status == "Stopping"
    assert "Already stopping" in item.effect
    result = delete(context, [item], registry)
    # A second StopModelCustomizationJob would be refused: teardown does not send one.
    assert result.ok, result.to_json()
    assert [o.status for o in result.outcomes] == ["stopped"]
    assert "already stopping" in result.outcomes[0].message
    saved = registry.get_run("run1")
    assert saved is not None and saved.run.job_status == "Stopping" and saved.in_progress
    clock.t += 10
    assert get_job(context, job).status is JobStatus.STOPPED
    assert inventory(context, registry, discover_tags=False) == []
