"""How long a customization job may take, from its training tokens: a rough estimate, said so.

Bedrock reports no progress while a job trains (no percentage, and it uploads the loss files
when the job ends), so the only basis for a time left is the size of the work: training tokens
x epochs. There is no published throughput either: the range below is read off the few timings
reference/bedrock.md §4.5 records (Llama 3.3 70B, 189 records x 2 epochs: 81 minutes in all;
Llama 3.1 8B, 5,000 records: about an hour; Nova Micro: 1-2 hours), so the estimate is a range,
from a fast to a slow job, and every text says it is an estimate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from core.catalog.lookup import find_model
from core.catalog.types import CustomizationType
from core.errors import BedrockTuneError
from core.estimate import count_file_tokens
from core.run import Run

OVERHEAD_SECONDS = (30 * 60.0, 80 * 60.0)
"""What a job spends besides training, whatever its size (validation, data processing, starting
instances, exporting the model): the 189-record Llama 3.3 job took 81 minutes in all."""
TOKENS_PER_SECOND = (2_000.0, 500.0)
"""Training throughput at the fast and the slow end (an hour for the Llama 3.1 8B notebook's
5,000 records fits between them)."""


@dataclass(frozen=True)
class DurationEstimate:
    """A job's likely duration, from the shortest to the longest plausible, in seconds."""

    training_tokens: int
    epochs: int
    shortest: float
    longest: float

    def remaining(self, elapsed: float) -> tuple[float, float]:
        """Seconds left at the fast and the slow end, `elapsed` seconds after creation."""
        return max(0.0, self.shortest - elapsed), max(0.0, self.longest - elapsed)

    def describe(self, elapsed: float) -> str:
        """The time left as a sentence that says it is an estimate, and from what."""
        low, high = self.remaining(elapsed)
        epochs = f"{self.epochs} epoch" + ("" if self.epochs == 1 else "s")
        basis = f"an estimate from {self.training_tokens:,} training tokens x {epochs}"
        if high <= 0:
            return f"Taking longer than estimated ({basis}); Bedrock reports no progress."
        if low <= 0:
            return f"Up to {_span(high)} left ({basis})."
        return f"About {_span(low)} to {_span(high)} left ({basis})."


def _span(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {rest:02d} min" if rest else f"{hours} h"


def estimate_duration(training_tokens: int, epochs: int) -> DurationEstimate:
    """The duration range of a job training `training_tokens` tokens for `epochs` epochs."""
    work = max(0, training_tokens) * max(1, epochs)
    fast, slow = TOKENS_PER_SECOND
    return DurationEstimate(
        training_tokens,
        max(1, epochs),
        OVERHEAD_SECONDS[0] + work / fast,
        OVERHEAD_SECONDS[1] + work / slow,
    )


def job_epochs(hyperparameters: Mapping[str, str], base_model_id: str | None) -> int:
    """The job's `epochCount`, else the base model's default for it, else 1."""
    text = hyperparameters.get("epochCount", "")
    if text.strip().isdigit() and int(text) > 0:
        return int(text)
    if base_model_id:
        try:
            model = find_model(base_model_id)
        except BedrockTuneError:
            return 1
        customization = model.customization(CustomizationType.FINE_TUNING)
        spec = customization.hyperparameter("epochCount") if customization else None
        if spec is not None and spec.default is not None:
            return max(1, int(spec.default))
    return 1


def training_tokens(run: Run) -> int | None:
    """The training tokens of the run's prepared training file, counted as the validator counts
    them (it reads the whole file: call it off the UI thread); None when the run has no prepared
    file or no known model."""
    if not run.prepared_dir or not run.base_model_id:
        return None
    path = Path(run.prepared_dir) / "train.jsonl"
    try:
        model = find_model(run.base_model_id)
        kind = CustomizationType(run.customization_type)
    except (BedrockTuneError, ValueError):
        return None
    customization = model.customization(kind)
    if customization is None or not path.is_file():
        return None
    try:
        return count_file_tokens(path, customization.limits.chars_per_token).tokens
    except OSError:
        return None
