"""`bedrock-tune prices`: the Price List in the sandbox, the built-in figures when it cannot
answer (with their dates and one note), the cache and --refresh, bad input."""

from __future__ import annotations

import json

import pytest

from core.catalog.lookup import builtin_models
from core.catalog.types import DeploymentOption
from tui.cli.main import main

KEYS = {
    "model",
    "region",
    "training_per_1k_tokens",
    "storage_per_month",
    "provisioned_per_hour",
    "on_demand_input_per_1k",
    "on_demand_output_per_1k",
    "source",
    "as_of",
}
UNREACHABLE = ["--endpoint-url", "http://127.0.0.1:9"]


def rows(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    data: list[dict[str, object]] = json.loads(capsys.readouterr().out)
    return data


def test_in_the_sandbox_every_customizable_model_has_live_prices(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["prices", "--sandbox", "--region", "us-east-1", "--json"]) == 0
    found = rows(capsys)
    offered = {m.id: m for m in builtin_models() if "us-east-1" in m.regions}
    assert [r["model"] for r in found] == list(offered)
    for row in found:
        assert set(row) == KEYS
        assert row["source"] == "price-list-api" and row["region"] == "us-east-1"
        assert isinstance(row["as_of"], str) and len(row["as_of"]) == 10
        assert isinstance(row["training_per_1k_tokens"], float), row["model"]
        model = offered[str(row["model"])]
        on_demand = DeploymentOption.ON_DEMAND_DEPLOYMENT in model.deployment_options
        serving = row["on_demand_input_per_1k"] if on_demand else row["provisioned_per_hour"]
        assert isinstance(serving, float), row["model"]


def test_an_unreachable_price_list_answers_from_the_built_in_figures(
    capsys: pytest.CaptureFixture[str], aws_keys: None
) -> None:
    assert main(["prices", *UNREACHABLE, "--region", "us-east-1", "--json"]) == 0
    captured = capsys.readouterr()
    found = json.loads(captured.out)
    assert {r["source"] for r in found} == {"built-in"}
    assert all(r["as_of"] for r in found)
    nova = next(r for r in found if r["model"] == "amazon.nova-micro-v1:0:128k")
    assert (nova["training_per_1k_tokens"], nova["as_of"]) == (0.001, "2025-07-20")
    assert nova["provisioned_per_hour"] is None  # unknown, never 0
    assert captured.err.count("Note:") == 1
    assert "could not be reached" in captured.err


def test_the_cache_answers_until_refresh(
    capsys: pytest.CaptureFixture[str], aws_keys: None
) -> None:
    assert main(["prices", "--sandbox", "--region", "us-west-2", "--json"]) == 0
    capsys.readouterr()
    # The sandbox is gone, but the answer is cached for a day.
    assert main(["prices", *UNREACHABLE, "--region", "us-west-2", "--json"]) == 0
    assert {r["source"] for r in rows(capsys)} == {"price-list-api"}
    assert main(["prices", *UNREACHABLE, "--region", "us-west-2", "--json", "--refresh"]) == 0
    assert {r["source"] for r in rows(capsys)} == {"built-in"}


def test_one_model_in_every_region_it_is_offered_in_and_the_table(
    capsys: pytest.CaptureFixture[str],
) -> None:
    titan = "amazon.titan-text-lite-v1:0:4k"
    assert main(["prices", "--sandbox", "--model", titan, "--json"]) == 0
    assert [(r["model"], r["region"]) for r in rows(capsys)] == [
        (titan, "us-east-1"),
        (titan, "us-west-2"),
    ]
    # Without credentials: the built-in figures, said once, in a table with the source column.
    assert main(["prices", "--region", "us-west-2", "--refresh"]) == 0
    captured = capsys.readouterr()
    assert "no AWS credentials" in captured.err
    assert "built-in, 2025-07-20" in captured.out
    assert "unknown" in captured.out and "$0.00 " not in captured.out


def test_every_unknown_cell_of_the_table_says_what_to_do(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # In the sandbox, Titan Text Lite has training and throughput prices but no on-demand one.
    titan = "amazon.titan-text-lite-v1:0:4k"
    assert main(["prices", "--sandbox", "--model", titan, "--region", "us-east-1"]) == 0
    out = capsys.readouterr().out
    [row] = [line for line in out.splitlines() if line.startswith(titan)]
    assert "unknown" in row and "$7.10" in row
    assert "\nunknown: no source has the figure" in out and "--refresh" in out


def test_bad_models_and_regions_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prices", "--model", "nope.model"]) == 2
    assert main(["prices", "--model", "amazon.nova-micro-v1:0:128k", "--region", "us-west-2"]) == 2
    assert "It is offered in us-east-1" in capsys.readouterr().err
    assert main(["prices", "--region", "eu-north-1"]) == 2
