"""SageMaker instance-hour rates from the Price List (`AmazonSageMaker`).

Products of family `ML Instance` carry `instanceType` (`ml.g5.2xlarge`), `regionCode` and a
usage type per component: `<REGION>-Train:<type>` (training jobs), `<REGION>-Host:<type>`
(real-time endpoints), `-Notebk:`, `-Processing:`... priced per `Hrs`. Managed spot training has
no Price List rate: it bills the varying spot price, at most the on-demand rate, and saves "up to
90%" (the SageMaker Developer Guide); `InstancePrices.spot` says so with its source, never $0.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.pricing.mapping import Resolved
from core.pricing.pricelist import PriceListItem

SAGEMAKER = "AmazonSageMaker"
COMPONENTS = {"train": "training", "host": "endpoint"}
"""The usage-type component -> our name for it."""


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
