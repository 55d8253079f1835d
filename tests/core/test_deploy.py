"""Serving a custom model in the sandbox: options per model, create, poll, quota, delete."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.aws import AwsContext
from core.catalog.lookup import find_model
from core.errors import QuotaExceededError
from core.jobs.customization import JobRequest, get_job, launch, new_client_request_token
from core.poll import Pacing
from core.sandbox.server import Sandbox
from core.serving.deploy import (
    Serving,
    create_deployment,
    create_throughput,
    delete_serving,
    deployment_options,
    get_serving,
    list_serving,
    serving_poller,
)

NOVA = "amazon.nova-micro-v1:0:128k"


class Clock:
    t = 10.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def context(clock: Clock) -> Iterator[AwsContext]:
    with Sandbox(job_seconds=10, ready_seconds=30, clock=clock) as sandbox:
        yield AwsContext.for_endpoint(sandbox.endpoint_url, sandbox.credentials, "us-east-1")


@pytest.fixture
def paged(clock: Clock) -> Iterator[AwsContext]:
    """A sandbox whose List operations return one item per page."""
    with Sandbox(job_seconds=10, ready_seconds=30, clock=clock, list_page_size=1) as sandbox:
        yield AwsContext.for_endpoint(sandbox.endpoint_url, sandbox.credentials, "us-east-1")


def model_arn(context: AwsContext, clock: Clock) -> str:
    context.client("s3").create_bucket(Bucket="bt-deploy")
    context.client("s3").put_object(Bucket="bt-deploy", Key="t.jsonl", Body=b'{"a": 1}\n')
    arn = launch(
        context,
        JobRequest(
            job_name="dep-job",
            custom_model_name="dep-model",
            base_model_id=NOVA,
            role_arn="arn:aws:iam::123456789012:role/r",
            training_uri="s3://bt-deploy/t.jsonl",
            output_uri="s3://bt-deploy/out/",
            client_request_token=new_client_request_token(),
        ),
        find_model(NOVA),
    )
    clock.t += 20
    output = get_job(context, arn).output_model_arn
    assert output
    return output


def test_options_follow_the_catalog() -> None:
    nova = [p.kind for p in deployment_options(find_model(NOVA))]
    assert nova == ["custom-model-deployment", "provisioned-throughput"]
    haiku = deployment_options(find_model("anthropic.claude-3-haiku-20240307-v1:0:200k"))
    assert [p.kind for p in haiku] == ["provisioned-throughput"]
    assert haiku[0].hourly_cost is None  # unknown, said so
    assert deployment_options(find_model(NOVA))[0].hourly_cost == 0.0


def test_throughput_lifecycle_and_quota(context: AwsContext, clock: Clock) -> None:
    model = model_arn(context, clock)
    first = create_throughput(context, model, "bt-pt-1", new_client_request_token())
    assert get_serving(context, "provisioned-throughput", first).status == "Creating"
    clock.t += 31
    assert get_serving(context, "provisioned-throughput", first).ready
    create_throughput(context, model, "bt-pt-2", new_client_request_token())
    with pytest.raises(QuotaExceededError) as caught:
        create_throughput(context, model, "bt-pt-3", new_client_request_token())
    assert "bt-pt-1" in caught.value.message and "bt-pt-2" in caught.value.message
    assert "teardown" in caught.value.hint
    delete_serving(context, "provisioned-throughput", first)
    assert [s.name for s in list_serving(context)] == ["bt-pt-2"]


def test_deployment_lifecycle(context: AwsContext, clock: Clock) -> None:
    model = model_arn(context, clock)
    arn = create_deployment(context, model, "bt-dep", new_client_request_token())
    clock.t += 31
    serving = get_serving(context, "custom-model-deployment", arn)
    assert serving.ready and serving.name == "bt-dep" and serving.model_arn == model
    delete_serving(context, "custom-model-deployment", arn)
    assert list_serving(context) == []


def test_costs_are_written_in_full() -> None:
    on_demand, provisioned = deployment_options(find_model(NOVA))
    assert on_demand.cost_text == (
        "$0.000035 / $0.00014 per 1K input / output tokens, nothing while idle"
    )
    assert "price not in the catalog" in provisioned.cost_text  # unknown, never $0.00
    haiku = deployment_options(find_model("anthropic.claude-3-haiku-20240307-v1:0:200k"))[0]
    assert "$" not in haiku.cost_text


def test_settled_means_ready_or_failed() -> None:
    def serving(kind: str, status: str) -> Serving:
        return Serving(kind, "arn", "n", "m", status, None)  # type: ignore[arg-type]

    assert serving("custom-model-deployment", "Active").settled
    assert serving("provisioned-throughput", "InService").settled
    assert serving("provisioned-throughput", "Failed").settled
    assert not serving("provisioned-throughput", "Creating").settled
    assert not serving("provisioned-throughput", "Updating").settled
    assert not serving("custom-model-deployment", "Creating").settled


def test_serving_poller_follows_a_deployment_until_active(
    context: AwsContext, clock: Clock
) -> None:
    model = model_arn(context, clock)
    arn = create_deployment(context, model, "bt-poll", new_client_request_token())
    created = clock.t

    def sleep(seconds: float) -> None:
        clock.t += seconds

    statuses: list[str] = []
    poller = serving_poller(
        lambda: get_serving(context, "custom-model-deployment", arn),
        first=5,
        pacing=Pacing(clock=clock, sleep=sleep, random=lambda: 0.5),
    )
    final = poller.run(lambda update: statuses.append(update.value.status if update.value else ""))
    assert final is not None and final.ready
    assert statuses[0] == "Creating" and statuses[-1] == "Active"
    # Polls at 0, 5, 13, 25.8 and 46.28 s (x1.6 while Creating): five calls, not thirty.
    assert len(statuses) == 5
    assert clock.t - created == pytest.approx(5 + 8 + 12.8 + 20.48)


def test_every_page_of_serving_is_read(paged: AwsContext, clock: Clock) -> None:
    model = model_arn(paged, clock)
    throughputs = {
        create_throughput(paged, model, f"bt-pt-{n}", new_client_request_token()) for n in (1, 2)
    }
    deployments = {
        create_deployment(paged, model, f"bt-dep-{n}", new_client_request_token())
        for n in (1, 2, 3)
    }
    first = paged.client("bedrock").list_provisioned_model_throughputs()
    assert len(first["provisionedModelSummaries"]) == 1 and first["nextToken"]
    assert {s.arn for s in list_serving(paged)} == throughputs | deployments
    # The quota message names every throughput, not only the first page's.
    with pytest.raises(QuotaExceededError) as caught:
        create_throughput(paged, model, "bt-pt-3", new_client_request_token())
    assert "bt-pt-1" in caught.value.message and "bt-pt-2" in caught.value.message
