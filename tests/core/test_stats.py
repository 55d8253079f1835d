"""Bootstrap intervals, win / tie / loss and disagreements, checked against hand-computed
examples."""

from __future__ import annotations

import pytest

from core.evaluation.stats import (
    bootstrap_mean,
    bootstrap_paired_difference,
    most_disagreeing,
    win_tie_loss,
)


def test_interval_of_a_hand_computed_example() -> None:
    # Scores [0, 0, 0, 1]: a resample's mean is k/4 where k ~ Binomial(4, 1/4):
    # P(0) = 81/256 (0.316), P(.25) = 108/256, P(.5) = 54/256 (cumulative 0.949),
    # P(.75) = 12/256 (cumulative 0.996), P(1) = 1/256. So the 2.5% quantile is 0 and the
    # 97.5% quantile is 0.75; the mean is 0.25.
    interval = bootstrap_mean([0, 0, 0, 1], resamples=4000, seed=1)
    assert interval.mean == pytest.approx(0.25)
    assert (interval.low, interval.high) == (0.0, 0.75)
    assert interval.n == 4
    assert interval.to_json() == {"mean": 0.25, "ci_low": 0.0, "ci_high": 0.75, "n": 4}


def test_interval_is_deterministic_for_a_seed_and_narrows_with_more_records() -> None:
    scores = [0.1, 0.9, 0.4, 0.6, 0.3, 0.8, 0.5, 0.2]
    first = bootstrap_mean(scores, seed=7)
    assert bootstrap_mean(scores, seed=7) == first
    assert first.low is not None and first.high is not None
    assert first.low < first.mean < first.high  # type: ignore[operator]
    wide = first.high - first.low
    many = bootstrap_mean(scores * 25, seed=7)
    assert many.high is not None and many.low is not None
    assert many.high - many.low < wide / 3


def test_degenerate_inputs() -> None:
    assert bootstrap_mean([]).mean is None and bootstrap_mean([]).n == 0
    single = bootstrap_mean([0.4])
    assert (single.mean, single.low, single.high) == (0.4, 0.4, 0.4)
    with pytest.raises(ValueError):
        bootstrap_mean([1.0], level=1.0)
    with pytest.raises(ValueError):
        bootstrap_mean([1.0], resamples=0)


def test_paired_difference_of_a_hand_computed_example() -> None:
    # a - b = [1, 1, 1, 0]: mean 0.75. A resample's mean is k/4, k ~ Binomial(4, 3/4):
    # P(0) = 1/256, P(.25) = 12/256 (cumulative 0.051), ..., P(1) = 81/256. So the interval is
    # [0.25, 1.0] and a is ahead in every resample but the all-zero one: 1 - 1/256 = 0.996.
    diff = bootstrap_paired_difference([1, 1, 1, 0.5], [0, 0, 0, 0.5], resamples=8000, seed=3)
    assert diff.mean == pytest.approx(0.75)
    assert (diff.low, diff.high) == (0.25, 1.0)
    assert diff.share_above_zero == pytest.approx(1 - 1 / 256, abs=0.003)
    with pytest.raises(ValueError):
        bootstrap_paired_difference([1.0], [1.0, 2.0])


def test_win_tie_loss_and_disagreements() -> None:
    a = [0.9, 0.5, 0.2, 0.7, 0.4]
    b = [0.1, 0.5, 0.6, 0.7 + 1e-12, 0.3]
    assert win_tie_loss(a, b).to_json() == {"wins": 2, "ties": 2, "losses": 1}
    assert win_tie_loss(a, b).total == 5
    # Gaps: 0.8 (record 0), 0.4 (record 2), 0.1 (record 4); ties are left out.
    assert most_disagreeing(a, b, limit=5) == [0, 2, 4]
    assert most_disagreeing(a, b, limit=1) == [0]
