"""The estimated duration of a job: a range from its training tokens and epochs, said to be an
estimate, counted from the run's prepared training file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.catalog.lookup import find_model
from core.catalog.types import CustomizationType
from core.estimate import count_file_tokens
from core.jobs.duration import (
    OVERHEAD_SECONDS,
    TOKENS_PER_SECOND,
    estimate_duration,
    job_epochs,
    training_tokens,
)
from core.run import Run

NOVA = "amazon.nova-micro-v1:0:128k"


def test_the_range_grows_with_tokens_and_epochs() -> None:
    small = estimate_duration(10_000, 1)
    bigger = estimate_duration(1_000_000, 1)
    longer = estimate_duration(1_000_000, 3)
    for estimate in (small, bigger, longer):
        assert estimate.shortest < estimate.longest
    assert small.shortest < bigger.shortest < longer.shortest
    assert small.longest < bigger.longest < longer.longest
    # The work is tokens x epochs at the fast and the slow rate, on top of the fixed overhead.
    assert longer.shortest == pytest.approx(OVERHEAD_SECONDS[0] + 3_000_000 / TOKENS_PER_SECOND[0])
    assert longer.longest == pytest.approx(OVERHEAD_SECONDS[1] + 3_000_000 / TOKENS_PER_SECOND[1])


def test_a_tiny_job_takes_the_overhead_the_reference_observed() -> None:
    # reference/bedrock.md §4.5: 189 records x 2 epochs took 81 minutes in all.
    estimate = estimate_duration(189 * 300, 2)
    assert estimate.shortest <= 81 * 60 <= estimate.longest


def test_the_time_left_is_said_to_be_an_estimate() -> None:
    estimate = estimate_duration(1_000_000, 2)
    text = estimate.describe(0)
    assert text.startswith("About ") and " to " in text and " left " in text
    assert "estimate from 1,000,000 training tokens x 2 epochs" in text
    low, high = estimate.remaining(600)
    assert (low, high) == (estimate.shortest - 600, estimate.longest - 600)
    assert estimate.describe(estimate.shortest + 1).startswith("Up to ")
    late = estimate.describe(estimate.longest + 1)
    assert late.startswith("Taking longer than estimated") and "no progress" in late
    assert "1 epoch)" in estimate_duration(5, 1).describe(0)


def test_epochs_from_the_job_else_the_models_default() -> None:
    assert job_epochs({"epochCount": "3"}, NOVA) == 3
    customization = find_model(NOVA).customization(CustomizationType.FINE_TUNING)
    assert customization is not None
    spec = customization.hyperparameter("epochCount")
    assert spec is not None and spec.default is not None
    assert job_epochs({}, NOVA) == int(spec.default)
    assert job_epochs({"epochCount": "x"}, "no-such-model") == 1
    assert job_epochs({}, None) == 1


def test_training_tokens_are_counted_from_the_prepared_file(tmp_path: Path) -> None:
    record = {
        "schemaVersion": "bedrock-conversation-2024",
        "messages": [
            {"role": "user", "content": [{"text": "How long is the refund window?"}]},
            {"role": "assistant", "content": [{"text": "Thirty days from delivery."}]},
        ],
    }
    (tmp_path / "train.jsonl").write_text((json.dumps(record) + "\n") * 40)
    run = Run(base_model_id=NOVA, prepared_dir=str(tmp_path))
    customization = find_model(NOVA).customization(CustomizationType.FINE_TUNING)
    assert customization is not None
    expected = count_file_tokens(tmp_path / "train.jsonl", customization.limits.chars_per_token)
    assert training_tokens(run) == expected.tokens > 0
    assert training_tokens(Run(base_model_id=NOVA)) is None
    assert training_tokens(Run(base_model_id=NOVA, prepared_dir=str(tmp_path / "none"))) is None
    assert training_tokens(Run(base_model_id="no-such", prepared_dir=str(tmp_path))) is None
