"""The built-in rates of an imported model (Custom Model Import): per custom model unit (CMU),
from the reference; the Price List's figures replace them when they can be read
(`core.pricing.imports`)."""

from __future__ import annotations

from dataclasses import dataclass

BUILTIN_AS_OF = "2026-12"
"""When the built-in CMU rates were last read from the reference."""


@dataclass(frozen=True)
class ImportPricing:
    """What an imported model costs (per Custom Model Unit)."""

    per_cmu_minute: float
    """While a copy is active, billed in 5-minute windows."""
    storage_per_cmu_month: float
    window_minutes: int
    as_of: str
    source: str

    def per_window(self, units: int) -> float:
        """One 5-minute window of an active copy of a model of `units` CMU."""
        return self.per_cmu_minute * self.window_minutes * max(units, 1)

    def active_per_hour(self, units: int) -> float:
        """An hour of an active copy of a model of `units` CMU."""
        return self.per_cmu_minute * 60 * max(units, 1)

    def storage_per_month(self, units: int) -> float:
        """A month of storage of a model of `units` CMU."""
        return self.storage_per_cmu_month * max(units, 1)


IMPORT_PRICING = ImportPricing(
    per_cmu_minute=0.05718,
    storage_per_cmu_month=1.95,
    window_minutes=5,
    as_of=BUILTIN_AS_OF,
    source="reference/bedrock.md §7 (a secondary source, ⚠ verify on aws.amazon.com/bedrock/"
    "pricing; prices vary by Region). Examples there: Llama 3.1 8B 128K uses 2 CMU, 70B 8 CMU.",
)
