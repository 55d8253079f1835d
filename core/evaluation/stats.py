"""How sure a score is, and where two models differ: bootstrap confidence intervals, win / tie /
loss counts per record, and the records two models disagree on most.

The intervals are percentile bootstrap intervals of a mean: the records are resampled with
replacement `resamples` times (numpy's PCG64 generator, seeded, so the same scores always give
the same interval), the mean of each resample is taken, and the interval is cut at the
(1 - level) / 2 and (1 + level) / 2 quantiles of those means (linear interpolation between
order statistics, numpy's default). A paired difference resamples the same records for both
models, which is what "on the same test records" means.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_RESAMPLES = 2000
DEFAULT_LEVEL = 0.95
DEFAULT_SEED = 20240307
"""Any fixed number: what matters is that the same scores give the same interval."""
TIE_TOLERANCE = 1e-9
"""Two per-record scores closer than this are a tie (float noise is not a win)."""


@dataclass(frozen=True)
class Interval:
    """A mean with its bootstrap confidence interval."""

    mean: float | None
    low: float | None
    high: float | None
    n: int
    level: float = DEFAULT_LEVEL
    share_above_zero: float | None = None
    """For a difference: the share of resamples where it was above 0 (how sure "better" is)."""

    def to_json(self) -> dict[str, float | int | None]:
        """`{"mean", "ci_low", "ci_high", "n"}` (None when there was nothing to measure)."""
        return {"mean": self.mean, "ci_low": self.low, "ci_high": self.high, "n": self.n}


def _interval(means: np.ndarray, point: float, n: int, level: float, difference: bool) -> Interval:
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    share = float(np.mean(means > 0.0)) if difference else None
    return Interval(point, float(low), float(high), n, level, share)


def _check(resamples: int, level: float) -> None:
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, not {resamples}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"the confidence level must be between 0 and 1, not {level}")


def bootstrap_mean(
    values: Sequence[float],
    *,
    resamples: int = DEFAULT_RESAMPLES,
    level: float = DEFAULT_LEVEL,
    seed: int = DEFAULT_SEED,
) -> Interval:
    """The mean of `values` with its percentile bootstrap interval (deterministic for `seed`).

    No values: every field None. One value: the interval is that value.
    """
    _check(resamples, level)
    data = np.asarray(values, dtype=float)
    n = int(data.size)
    if n == 0:
        return Interval(None, None, None, 0, level)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, n, size=(resamples, n))
    return _interval(data[picks].mean(axis=1), float(data.mean()), n, level, difference=False)


def bootstrap_paired_difference(
    a: Sequence[float],
    b: Sequence[float],
    *,
    resamples: int = DEFAULT_RESAMPLES,
    level: float = DEFAULT_LEVEL,
    seed: int = DEFAULT_SEED,
) -> Interval:
    """mean(a - b) over the same records, with its interval and the share of resamples in which
    `a` was ahead (`share_above_zero`).

    Raises:
        ValueError: `a` and `b` are not the same length (they must score the same records).
    """
    _check(resamples, level)
    if len(a) != len(b):
        raise ValueError(f"paired scores need the same records: {len(a)} and {len(b)} values")
    diff = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    n = int(diff.size)
    if n == 0:
        return Interval(None, None, None, 0, level)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, n, size=(resamples, n))
    return _interval(diff[picks].mean(axis=1), float(diff.mean()), n, level, difference=True)


@dataclass(frozen=True)
class WinTieLoss:
    """How often one model's per-record score beat, equalled or fell below another's."""

    wins: int
    ties: int
    losses: int

    @property
    def total(self) -> int:
        """Records compared."""
        return self.wins + self.ties + self.losses

    def to_json(self) -> dict[str, int]:
        """Plain JSON data."""
        return {"wins": self.wins, "ties": self.ties, "losses": self.losses}


def win_tie_loss(
    a: Sequence[float], b: Sequence[float], *, tolerance: float = TIE_TOLERANCE
) -> WinTieLoss:
    """Per record: `a` above `b` by more than `tolerance` is a win, below is a loss, else a tie.

    Raises:
        ValueError: `a` and `b` are not the same length.
    """
    if len(a) != len(b):
        raise ValueError(f"paired scores need the same records: {len(a)} and {len(b)} values")
    wins = sum(1 for x, y in zip(a, b, strict=True) if x - y > tolerance)
    losses = sum(1 for x, y in zip(a, b, strict=True) if y - x > tolerance)
    return WinTieLoss(wins, len(a) - wins - losses, losses)


def most_disagreeing(
    a: Sequence[float], b: Sequence[float], *, limit: int = 5, tolerance: float = TIE_TOLERANCE
) -> list[int]:
    """Indexes of the records where `a` and `b` differ most (largest gap first; ties broken by
    position, so the order is stable); records that tie are left out."""
    if len(a) != len(b):
        raise ValueError(f"paired scores need the same records: {len(a)} and {len(b)} values")
    gaps = [(abs(x - y), i) for i, (x, y) in enumerate(zip(a, b, strict=True))]
    ordered = sorted((g for g in gaps if g[0] > tolerance), key=lambda g: (-g[0], g[1]))
    return [i for _, i in ordered[: max(0, limit)]]
