"""Serving a custom model in the sandbox: options per model, create, poll, quota, delete."""

from __future__ import annotations

import pytest

from core.aws import AwsContext
from core.catalog.lookup import find_model
from core.errors import QuotaExceededError
from core.jobs.customization import new_client_request_token
from core.poll import Pacing
from core.pricing.types import Figure, ModelPrices, Price
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
from tests.fakes import Clock, SandboxSetup, train_model

NOVA = "amazon.nova-micro-v1:0:128k"


def test_options_follow_the_catalog() -> None:
    nova = [p.kind for p in deployment_options(find_model(NOVA))]
    assert nova == ["custom-model-deployment", "provisioned-throughput"]
    haiku = deployment_options(find_model("anthropic.claude-3-haiku-20240307-v1:0:200k"))
    assert [p.kind for p in haiku] == ["provisioned-throughput"]
    assert haiku[0].hourly_cost is None  # unknown, said so
    assert deployment_options(find_model(NOVA))[0].hourly_cost == 0.0


def test_throughput_lifecycle_and_quota(sandbox_context: AwsContext, clock: Clock) -> None:
    model = train_model(sandbox_context, clock, "dep", NOVA, bucket="bt-deploy").model_arn
    first = create_throughput(sandbox_context, model, "bt-pt-1", new_client_request_token())
    assert get_serving(sandbox_context, "provisioned-throughput", first).status == "Creating"
    clock.t += 31
    assert get_serving(sandbox_context, "provisioned-throughput", first).ready
    create_throughput(sandbox_context, model, "bt-pt-2", new_client_request_token())
    with pytest.raises(QuotaExceededError) as caught:
        create_throughput(sandbox_context, model, "bt-pt-3", new_client_request_token())
    assert "bt-pt-1" in caught.value.message and "bt-pt-2" in caught.value.message
    assert "teardown" in caught.value.hint
    delete_serving(sandbox_context, "provisioned-throughput", first)
    assert [s.name for s in list_serving(sandbox_context)] == ["bt-pt-2"]


def test_deployment_lifecycle(sandbox_context: AwsContext, clock: Clock) -> None:
    model = train_model(sandbox_context, clock, "dep", NOVA, bucket="bt-deploy").model_arn
    arn = create_deployment(sandbox_context, model, "bt-dep", new_client_request_token())
    clock.t += 31
    serving = get_serving(sandbox_context, "custom-model-deployment", arn)
    assert serving.ready and serving.name == "bt-dep" and serving.model_arn == model
    delete_serving(sandbox_context, "custom-model-deployment", arn)
    assert list_serving(sandbox_context) == []


def test_costs_are_written_in_full() -> None:
    on_demand, provisioned = deployment_options(find_model(NOVA))
    assert on_demand.cost_text == (
        "$0.000035 / $0.00014 per 1K input / output tokens (built-in, 2025-07-20), "
        "nothing while idle"
    )
    assert provisioned.cost_text.startswith("per hour (price unknown: no built-in no-commit")
    haiku = deployment_options(find_model("anthropic.claude-3-haiku-20240307-v1:0:200k"))[0]
    assert "$" not in haiku.cost_text
    assert haiku.billing_details() == {"per_hour": None, "price_source": None, "price_as_of": None}


def test_plans_carry_the_price_lists_figures_and_record_their_source() -> None:
    nova = find_model(NOVA)
    live = {
        Figure.PROVISIONED: Price.known(21.0, "per hour", "price-list-api", "2026-12-02", "x"),
        Figure.ON_DEMAND_INPUT: Price.known(0.00003, "per 1K", "price-list-api", "2026-12-02"),
        Figure.ON_DEMAND_OUTPUT: Price.known(0.0001, "per 1K", "price-list-api", "2026-12-02"),
    }
    prices = ModelPrices.build(NOVA, "us-east-1", "price-list-api", "2026-12-02", live, str)
    on_demand, provisioned = deployment_options(nova, prices)
    assert provisioned.cost_text == (
        "$21.00 per hour (Price List API, 2026-12-02), every hour until deleted"
    )
    assert provisioned.billing_details() == {
        "per_hour": 21.0,
        "price_source": "price-list-api",
        "price_as_of": "2026-12-02",
    }
    assert "(Price List API, 2026-12-02), nothing while idle" in on_demand.cost_text
    assert on_demand.billing_details()["per_hour"] == 0.0


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
    sandbox_context: AwsContext, clock: Clock
) -> None:
    model = train_model(sandbox_context, clock, "dep", NOVA, bucket="bt-deploy").model_arn
    arn = create_deployment(sandbox_context, model, "bt-poll", new_client_request_token())
    created = clock.t

    def sleep(seconds: float) -> None:
        clock.t += seconds

    statuses: list[str] = []
    poller = serving_poller(
        lambda: get_serving(sandbox_context, "custom-model-deployment", arn),
        first=5,
        pacing=Pacing(clock=clock, sleep=sleep, random=lambda: 0.5),
    )
    final = poller.run(lambda update: statuses.append(update.value.status if update.value else ""))
    assert final is not None and final.ready
    assert statuses[0] == "Creating" and statuses[-1] == "Active"
    # Polls at 0, 5, 13, 25.8 and 46.28 s (x1.6 while Creating): five calls, not thirty.
    assert len(statuses) == 5
    assert clock.t - created == pytest.approx(5 + 8 + 12.8 + 20.48)


@pytest.mark.parametrize("sandbox_setup", [SandboxSetup(list_page_size=1)], ids=["1-per-page"])
def test_every_page_of_serving_is_read(sandbox_context: AwsContext, clock: Clock) -> None:
    paged = sandbox_context  # its List operations return one item per page
    model = train_model(paged, clock, "dep", NOVA, bucket="bt-deploy").model_arn
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
