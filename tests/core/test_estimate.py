"""Cost estimates: the formula, overrides, unknown prices, token counts of prepared files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.catalog.lookup import find_model
from core.estimate import count_file_tokens, estimate, estimate_lines
from core.pricing.types import Figure, ModelPrices, Price


def test_training_cost_is_tokens_times_epochs_times_price() -> None:
    nova = find_model("amazon.nova-micro-v1:0:128k")  # $0.001 per 1K tokens
    result = estimate(nova, training_tokens=2_000_000, epochs=2)
    assert result.training_cost == pytest.approx(4.0)
    assert result.storage_per_month == 1.95
    assert estimate(nova, 1000, 1, price_per_1k=0.5).training_cost == pytest.approx(0.5)


def test_unknown_prices_stay_unknown() -> None:
    haiku = find_model("anthropic.claude-3-haiku-20240307-v1:0:200k")
    result = estimate(haiku, 1000, 2)
    assert result.price_per_1k is None and result.training_cost is None
    assert result.on_demand_input_per_1k == 0.00025


def test_estimate_lines_write_small_prices_in_full() -> None:
    nova = find_model("amazon.nova-micro-v1:0:128k")  # $0.000035 / $0.00014 per 1K on demand
    lines = dict(estimate_lines(estimate(nova, 35_000, 1, price_per_1k=0.00002), nova))
    assert lines["training"] == (
        "35,000 tokens x 1 epoch x $0.00002 per 1K = $0.0007 (your figure)"
    )
    assert "$0.000035 input / $0.00014 output per 1K tokens (built-in, 2025-07-20)" in lines[""]
    assert not any("e-" in text for text in lines.values())
    haiku = find_model("anthropic.claude-3-haiku-20240307-v1:0:200k")
    unknown = dict(estimate_lines(estimate(haiku, 1000, 2), haiku))
    assert unknown["training"].startswith("1,000 tokens x 2 epochs; no training price known")


def test_every_price_in_the_estimate_says_its_source_and_date() -> None:
    nova = find_model("amazon.nova-2-lite-v1:0:256k")
    live = {
        Figure.TRAINING: Price.known(0.00378, "per 1K tokens", "price-list-api", "2026-12-02"),
        Figure.PROVISIONED: Price.known(60.5, "per hour", "price-list-api", "2026-12-02"),
        Figure.ON_DEMAND_INPUT: Price.known(0.0003, "per 1K", "price-list-api", "2026-12-02"),
        Figure.ON_DEMAND_OUTPUT: Price.known(0.0025, "per 1K", "price-list-api", "2026-12-02"),
    }
    prices = ModelPrices.build(
        nova.id, "us-east-1", "price-list-api", "2026-12-02", live, lambda f: f"no {f.label}"
    )
    cost = estimate(nova, 1_000_000, 2, prices=prices)
    assert cost.training_cost == pytest.approx(7.56)
    assert (cost.price_source, cost.prices_as_of) == ("price-list-api", "2026-12-02")
    lines = dict(estimate_lines(cost, nova))
    assert lines["training"].endswith("= $7.56 (Price List API, 2026-12-02)")
    assert lines["serving"].startswith(
        "provisioned throughput: $60.50 per hour per model unit (Price List API, 2026-12-02)"
    )
    # The storage figure the Price List did not give is unknown and says so, never $0.00.
    assert lines["storage"] == "storage price unknown (no storage price)"
    assert "(Price List API, 2026-12-02), no idle cost" in lines[""]


def test_count_file_tokens(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    record = {
        "system": "x" * 60,
        "messages": [
            {"role": "user", "content": "y" * 120},
            {"role": "assistant", "content": "z" * 60},
        ],
    }
    path.write_text((json.dumps(record) + "\n") * 3 + "not json\n")
    counted = count_file_tokens(path, chars_per_token=6.0)
    assert counted.records == 3
    assert counted.tokens == 3 * 40  # 240 characters / 6 per record


def test_an_open_weight_model_is_priced_as_sagemaker_training_then_an_import() -> None:
    model = find_model("meta-textgeneration-llama-3-8b")
    lines = dict(estimate_lines(estimate(model, 2_280, 1), model))
    assert lines["training"].startswith("2,280 tokens x 1 epoch on SageMaker")
    assert "sagemaker launch" in lines["training"]
    assert (
        lines["storage"]
        == "$1.95 per custom model unit (CMU) per month once imported (built-in, 2026-12)"
    )
    assert lines["serving"].startswith("imported model: $0.2859 per CMU for each 5-minute window")
    # Nothing of Bedrock's own customization: no per-token price, no provisioned throughput.
    assert "provisioned" not in " ".join(lines.values())
