"""SageMaker instance-hour rates from the Price List (`AmazonSageMaker`).

Products of family `ML Instance` carry `instanceType` (`ml.g5.2xlarge`), `regionCode` and a
usage type per component: `<REGION>-Train:<type>` (training jobs), `<REGION>-Host:<type>`
(real-time endpoints), `-Notebk:`, `-Processing:`... priced per `Hrs`. Managed spot training has
no Price List rate: it bills the varying spot price, at most the on-demand rate, and saves "up to
90%" (the SageMaker Developer Guide); `InstancePrices.spot` says so with its source, never $0.

When the Price List cannot answer (or has no training rate for the type), the built-in rates
stand in (`BUILTIN_TRAINING_RATES`, the reference's, with their date); a type without one is
unknown with what to do.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.pricing.mapping import Resolved
from core.pricing.pricelist import PriceListItem
from core.pricing.types import Price

SAGEMAKER = "AmazonSageMaker"
COMPONENTS = {"train": "training", "host": "endpoint"}
"""The usage-type component -> our name for it."""
BUILTIN_AS_OF = "2026-12"
"""When the built-in instance rates were last read from the reference."""
BUILTIN_TRAINING_RATES: dict[str, tuple[float, str]] = {
    "ml.g5.12xlarge": (
        7.2,
        "about $18 for the walkthrough's 2.5 h (reference); ⚠ verify on "
        "aws.amazon.com/sagemaker/pricing, it varies by Region",
    ),
}
"""On-demand training price per instance-hour, where the reference gives one. The reference
gives no endpoint (hosting) rate: without the Price List, an endpoint's rate is unknown."""


def builtin_training_rate(instance_type: str) -> Price | None:
    """The reference's on-demand training rate of `instance_type` (None when it gives none)."""
    known = BUILTIN_TRAINING_RATES.get(instance_type)
    if known is None:
        return None
    amount, detail = known
    return Price.known(amount, "per instance-hour", "built-in", BUILTIN_AS_OF, detail)


def instance_rates(
    items: Iterable[PriceListItem], instance_type: str, region: str
) -> dict[str, Resolved]:
    """`{"training": ..., "endpoint": ...}` per instance-hour for `instance_type` in `region`
    (only the components found; conflicting rates are unresolved, with both named)."""
    found: dict[str, list[tuple[float, str]]] = {}
    for item in items:
        if item.region_code and item.region_code != region:
            continue
        _, _, rest = item.usage_type.partition("-")
        component, _, kind = rest.partition(":")
        name = COMPONENTS.get(component.lower())
        if name is None or kind != instance_type:
            continue
        if item.unit.strip().lower() not in {"hrs", "hr", "hour", "hours"}:
            continue
        found.setdefault(name, []).append((item.usd, item.usage_type))
    rates = {}
    for name, values in found.items():
        amounts = {round(amount, 12) for amount, _ in values}
        if len(amounts) == 1:
            rates[name] = Resolved(values[0][0], values[0][1])
        else:
            listed = ", ".join(f"{usage} = {amount:g}" for amount, usage in values)
            rates[name] = Resolved(None, f"the Price List has conflicting rates ({listed})")
    return rates
