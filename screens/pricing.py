"""Prices for a step: looked up in a worker (the Price List API may be asked) with the AWS
context taken on the event loop; the answer comes back as a `PricesRead` message. The step
shows the built-in figures meanwhile, then the answer, every figure with its source and date."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.catalog.types import BaseModel
from core.pricing.service import PriceService, RegionPrices
from core.pricing.types import ModelPrices
from screens.workers import WorkerResult

if TYPE_CHECKING:
    from screens.base import StepScreen

PRICES_WORKER = "prices"


@dataclass
class PricesRead(WorkerResult):
    """One model's prices in a region (the Price List's, or the built-in figures)."""

    prices: ModelPrices


@dataclass
class RegionPricesRead(WorkerResult):
    """Every catalog model's prices in a region."""

    prices: RegionPrices


def lookup_prices(screen: StepScreen, model: BaseModel, region: str) -> None:
    """Start the `prices` worker of `screen`; it answers `PricesRead` (it never fails for a
    price: the built-in figures answer when the Price List cannot)."""
    context = screen.host.aws_context()

    def prices() -> PricesRead:
        return PricesRead(PriceService(context).model_prices(model, region))

    screen.run_worker(
        prices,
        name=PRICES_WORKER,
        group=PRICES_WORKER,
        thread=True,
        exclusive=True,
        exit_on_error=False,
    )


def lookup_region_prices(screen: StepScreen, region: str) -> None:
    """Start the `prices` worker of `screen` for every model of `region` (`RegionPricesRead`)."""
    context = screen.host.aws_context()

    def prices() -> RegionPricesRead:
        return RegionPricesRead(PriceService(context).region_prices(region))

    screen.run_worker(
        prices,
        name=PRICES_WORKER,
        group=PRICES_WORKER,
        thread=True,
        exclusive=True,
        exit_on_error=False,
    )
