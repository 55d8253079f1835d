"""The sandbox's Price List: GetProducts over real HTTP from its price file, paged like AWS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from core.aws import AwsContext
from core.catalog.lookup import builtin_models
from core.catalog.types import DeploymentOption
from core.pricing.cache import PriceCache
from core.pricing.pricelist import pricing_client
from core.pricing.service import PriceService
from core.sandbox.server import Sandbox
from core.sandbox.table import EMULATIONS


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as running:
        yield running


def context(sandbox: Sandbox, region: str = "us-east-1") -> AwsContext:
    return AwsContext.for_endpoint(sandbox.endpoint_url, sandbox.credentials, region)


def test_get_products_pages_with_next_token(sandbox: Sandbox) -> None:
    client = pricing_client(context(sandbox), "us-east-1")
    filters = [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": "us-west-2"}]
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        kwargs: dict[str, str] = {"NextToken": token} if token else {}
        page = client.get_products(
            ServiceCode="AmazonBedrock", Filters=filters, MaxResults=7, **kwargs
        )
        pages += 1
        seen += page["PriceList"]
        token = page.get("NextToken")
        if not token:
            break
    assert pages > 2 and len(seen) == len(set(seen))
    for raw in seen:
        assert isinstance(raw, str)  # JSON documents in strings, as the API sends them
        attributes = json.loads(raw)["product"]["attributes"]
        assert attributes["regionCode"] == "us-west-2"


def test_filters_errors_and_other_operations(sandbox: Sandbox) -> None:
    client = pricing_client(context(sandbox), "us-east-1")
    found = client.get_products(
        ServiceCode="AmazonSageMaker",
        Filters=[
            {"Type": "TERM_MATCH", "Field": "instanceType", "Value": "ml.g5.2xlarge"},
            {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "us-east-1"},
        ],
    )["PriceList"]
    usages = sorted(json.loads(raw)["product"]["attributes"]["usagetype"] for raw in found)
    assert usages == ["USE1-Host:ml.g5.2xlarge", "USE1-Train:ml.g5.2xlarge"]
    assert client.get_products(ServiceCode="AmazonEC2")["PriceList"] == []
    with pytest.raises(ClientError) as bad_token:
        client.get_products(ServiceCode="AmazonBedrock", NextToken="garbage")
    assert bad_token.value.response["Error"]["Code"] == "InvalidNextTokenException"
    with pytest.raises(ClientError, match="GetProducts only") as other:
        client.describe_services()
    assert other.value.response["Error"]["Code"] == "InvalidParameterException"
    assert any(e.service == "pricing" for e in EMULATIONS)


@pytest.mark.parametrize("region", ["us-east-1", "us-west-2"])
def test_every_customizable_model_has_training_and_serving_prices(
    sandbox: Sandbox, region: str, tmp_path: Path
) -> None:
    service = PriceService(context(sandbox, region), cache=PriceCache(tmp_path))
    prices = service.region_prices(region)
    assert prices.note == ""
    offered = {m.id: m for m in builtin_models() if region in m.regions}
    assert {row.model_id for row in prices.rows} == set(offered)
    for row in prices.rows:
        assert row.source == "price-list-api", row.model_id
        assert row.training.is_known and row.storage.is_known, row.model_id
        model = offered[row.model_id]
        if DeploymentOption.ON_DEMAND_DEPLOYMENT in model.deployment_options:
            assert row.on_demand_input.is_known and row.on_demand_output.is_known
        assert row.provisioned.is_known, row.model_id
