"""What an imported model (Custom Model Import) costs: custom model units (CMU).

Bedrock bills an imported model per CMU per minute while a copy is active, in 5-minute windows,
plus storage per CMU per month; the number of CMU per copy is the model's own
(`GetImportedModel.customModelUnits`). Reference §7 gives $0.05718 per CMU-minute and $1.95 per
CMU-month (a secondary source, ⚠ verify; prices vary by Region: a field report quotes $0.07144
in eu-central-1); those are the built-in figures.

In the Price List these rates are read from the `AmazonBedrock` items of the region (the same
answer the model prices come from): an item whose usage type names custom model units
(`...CustomModelUnit...`, `...-CMU-...`) priced per minute is the active rate, per month the
storage rate. ⚠ Unverified: no recorded live row of these was found (2026-12); the match is
on the words AWS uses for them. When no such row is found, the built-in figures stand in and
say why, never a guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from core.catalog.import_pricing import IMPORT_PRICING
from core.pricing.mapping import BEDROCK, Resolved
from core.pricing.pricelist import PriceListItem
from core.pricing.types import Price

IMPORT_KEY = "_custom_model_import"
"""The entry of the cached Bedrock answer that holds the CMU rates (never a model id)."""
ACTIVE = "per_cmu_minute"
STORAGE = "storage_per_cmu_month"
WINDOW_MINUTES = 5
"""Bedrock bills an active copy in 5-minute windows (reference §7)."""
UNITS = {ACTIVE: "per CMU per minute", STORAGE: "per CMU per month"}


def _is_cmu(usage_type: str) -> bool:
    text = usage_type.lower()
    return "custommodelunit" in text or "-cmu-" in f"{text}-"


def import_rates(items: Iterable[PriceListItem], region: str) -> dict[str, Resolved]:
    """`{"per_cmu_minute": ..., "storage_per_cmu_month": ...}` from `region`'s AmazonBedrock
    items (only the rates found; conflicting ones are unresolved, with both named)."""
    found: dict[str, list[tuple[float, str]]] = {}
    for item in items:
        if item.service_code != BEDROCK or not _is_cmu(item.usage_type):
            continue
        if item.region_code and item.region_code != region:
            continue
        unit = item.unit.lower()
        name = ACTIVE if "minute" in unit else STORAGE if "month" in unit else None
        if name is not None:
            found.setdefault(name, []).append((item.usd, item.usage_type))
    rates: dict[str, Resolved] = {}
    for name, values in found.items():
        if len({round(amount, 12) for amount, _ in values}) == 1:
            rates[name] = Resolved(values[0][0], values[0][1])
        else:
            listed = ", ".join(f"{usage} = {amount:g}" for amount, usage in values)
            rates[name] = Resolved(None, f"the Price List has conflicting rates ({listed})")
    return rates


@dataclass(frozen=True)
class ImportPrices:
    """The CMU rates of one region, each known with its source and date or unknown with what
    to do (the active rate and the storage rate may come from different sources)."""

    region: str
    per_cmu_minute: Price
    storage_per_cmu_month: Price
    notes: tuple[str, ...] = ()
    window_minutes: int = WINDOW_MINUTES

    def per_window(self, units: int) -> Price:
        """One 5-minute window of an active copy of a model of `units` CMU."""
        return self.per_cmu_minute.times(
            self.window_minutes * max(units, 1), "per 5-minute window while a copy is active"
        )

    def active_per_hour(self, units: int) -> Price:
        """An hour of an active copy of a model of `units` CMU."""
        return self.per_cmu_minute.times(60 * max(units, 1), "per hour while a copy is active")

    def storage_per_month(self, units: int) -> Price:
        """A month of storage of a model of `units` CMU."""
        return self.storage_per_cmu_month.times(max(units, 1), "per month of storage")

    def record_details(self, units: int) -> dict[str, Any]:
        """What a registry entry of an imported model keeps of its prices (amounts, None when
        unknown, and where they come from)."""
        window, month = self.per_window(units), self.storage_per_month(units)
        return {
            "per_window": window.amount,
            "active_per_hour": self.active_per_hour(units).amount,
            "per_month": month.amount,
            "price_source": window.source or month.source,
            "prices_as_of": window.as_of or month.as_of or None,
            "storage_source": month.source,
            "storage_as_of": month.as_of or None,
        }


def builtin_import_prices(region: str, reason: str = "") -> ImportPrices:
    """The reference's CMU rates (the same in every region, said so), with why they stand in."""
    pricing = IMPORT_PRICING
    detail = pricing.source
    notes = ((reason,) if reason else ()) + (
        "built-in CMU rates are the reference's (us-east-1 / us-west-2); prices vary by Region",
    )
    return ImportPrices(
        region,
        Price.known(pricing.per_cmu_minute, UNITS[ACTIVE], "built-in", pricing.as_of, detail),
        Price.known(
            pricing.storage_per_cmu_month, UNITS[STORAGE], "built-in", pricing.as_of, detail
        ),
        notes,
        pricing.window_minutes,
    )


def import_prices_from(entry: Mapping[str, Any] | None, region: str, as_of: str) -> ImportPrices:
    """The CMU rates of a cached Price List answer read on `as_of`; a rate it does not have
    is the built-in one, and a note says so."""
    builtin = builtin_import_prices(region)
    rates = entry if isinstance(entry, Mapping) else {}
    chosen: dict[str, Price] = {}
    notes: list[str] = []
    for name, fallback in (
        (ACTIVE, builtin.per_cmu_minute),
        (STORAGE, builtin.storage_per_cmu_month),
    ):
        value = rates.get(name)
        amount = value.get("amount") if isinstance(value, Mapping) else None
        if isinstance(amount, int | float) and amount > 0 and isinstance(value, Mapping):
            detail = str(value.get("detail", ""))
            chosen[name] = Price.known(amount, UNITS[name], "price-list-api", as_of, detail)
            continue
        why = (
            str(value.get("detail"))
            if isinstance(value, Mapping) and value.get("detail")
            else f"the Price List has no custom model unit rate {UNITS[name]} in {region}"
        )
        notes.append(f"{why}: the built-in rate stands in ({fallback.provenance})")
        chosen[name] = fallback
    return ImportPrices(region, chosen[ACTIVE], chosen[STORAGE], tuple(notes))


def rate_text(price: Price, what: str) -> str:
    """`$0.2859 <what> (Price List API, 2026-12-02)`, or `price unknown <what> (what to do)`."""
    if price.amount is None:
        return f"price unknown {what} ({price.todo})"
    return f"{price.money()} {what} ({price.provenance})"


def window_text(price: Price) -> str:
    """`$0.5718 per 5-min window while a copy is active (Price List API, 2026-12-02)`."""
    return rate_text(price, "per 5-min window while a copy is active")


def storage_text(price: Price) -> str:
    """`$3.90 per month of storage (Price List API, 2026-12-02)`."""
    return rate_text(price, "per month of storage")
