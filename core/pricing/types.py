"""The pricing value types: a `Price` always says where it comes from and its date, or is
explicitly unknown with what to do about it; it is never a silent $0.00.

`ModelPrices` holds every figure of one base model in one region, all from one source (the
Price List API's answer for that region, or the built-in catalog): a row never mixes sources,
so its `source` and `as_of` describe every known figure in it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from core import format as fmt

PriceSource = Literal["price-list-api", "built-in", "given"]
"""`price-list-api`: the AWS Price List API; `built-in`: the catalog's dated figures;
`given`: a figure the user typed (e.g. `--price-per-1k`)."""

SOURCE_LABELS: dict[str, str] = {
    "price-list-api": "Price List API",
    "built-in": "built-in",
    "given": "your figure",
}

PRICING_PAGE = "https://aws.amazon.com/bedrock/pricing/"


@dataclass(frozen=True)
class Price:
    """An amount in USD per `unit` with its source and date, or unknown with what to do.

    Build one with `Price.known(...)` or `Price.unknown(...)`; the constructor refuses a known
    amount without a source and date, and an unknown one without a hint.
    """

    amount: float | None
    unit: str
    """What the amount is per: `per 1K tokens`, `per hour`, `per month`..."""
    source: PriceSource | None = None
    as_of: str = ""
    """ISO date (or year-month) the figure is from: the day the Price List was read, or the
    built-in figure's date."""
    detail: str = ""
    """What exactly was priced: the Price List usage type, or the built-in figure's source."""
    todo: str = ""
    """For an unknown price: what to do to get one."""

    def __post_init__(self) -> None:
        if self.amount is None:
            if not self.todo:
                raise ValueError("an unknown price must say what to do")
            return
        if self.amount < 0:
            raise ValueError(f"a price cannot be negative ({self.amount})")
        if self.source is None or (self.source != "given" and not self.as_of):
            raise ValueError("a known price needs its source and date")

    @classmethod
    def known(
        cls, amount: float, unit: str, source: PriceSource, as_of: str, detail: str = ""
    ) -> Price:
        """A figure from `source`, dated `as_of`."""
        return cls(float(amount), unit, source, as_of, detail)

    @classmethod
    def unknown(cls, unit: str, todo: str) -> Price:
        """No source has this figure; `todo` says what to do (never shown as $0.00)."""
        return cls(None, unit, todo=todo)

    @property
    def is_known(self) -> bool:
        """Whether there is an amount."""
        return self.amount is not None

    @property
    def provenance(self) -> str:
        """`Price List API, 2026-12-02`, `built-in, 2025-07-20`, `your figure` ('' if unknown)."""
        if self.source is None:
            return ""
        label = SOURCE_LABELS[self.source]
        return f"{label}, {self.as_of}" if self.as_of else label

    def money(self) -> str:
        """The amount alone (`$0.001`), or `price unknown`."""
        return fmt.money(self.amount)

    def text(self) -> str:
        """`$0.001 per 1K tokens (Price List API, 2026-12-02)` or `unknown: <what to do>`."""
        if self.amount is None:
            return f"unknown: {self.todo}"
        return f"{fmt.money(self.amount)} {self.unit} ({self.provenance})"

    def times(self, factor: float, unit: str | None = None) -> Price:
        """This price multiplied (e.g. by model units), keeping its source and date."""
        if self.amount is None:
            return Price.unknown(unit or self.unit, self.todo)
        # Rounded far below a cent: 0.000035 * 2000 is 0.07, not 0.06999999999999999 in JSON.
        amount = round(self.amount * factor, 10)
        return Price(amount, unit or self.unit, self.source, self.as_of, self.detail)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        return {
            "amount": self.amount,
            "unit": self.unit,
            "source": self.source,
            "as_of": self.as_of or None,
            "detail": self.detail or None,
            "todo": self.todo or None,
        }


def total_text(rate: Price, factor: float, what: str) -> str:
    """A cost worked out from `rate` (rate x `factor`), said with the rate's source and date:
    `$17.73 for 2.5 h (Price List API, 2026-12-02)`, or `price unknown for 2.5 h (<what to
    do>)`; never a bare figure, never $0 for an unknown rate."""
    if rate.amount is None:
        return f"price unknown {what} ({rate.todo})"
    return f"{fmt.money(rate.amount * factor)} {what} ({rate.provenance})"


class Figure(StrEnum):
    """The figures a base model has (all USD)."""

    TRAINING = "training_per_1k_tokens"
    STORAGE = "storage_per_month"
    PROVISIONED = "provisioned_per_hour"
    """One model unit of no-commitment provisioned throughput, per hour."""
    PROVISIONED_1_MONTH = "provisioned_1_month_per_hour"
    PROVISIONED_6_MONTHS = "provisioned_6_months_per_hour"
    ON_DEMAND_INPUT = "on_demand_input_per_1k"
    """Serving the custom model on demand: per 1K input tokens (the custom-model rate when the
    Price List has one, else the base model's on-demand rate; `Price.detail` says which)."""
    ON_DEMAND_OUTPUT = "on_demand_output_per_1k"
    BATCH_INPUT = "batch_input_per_1k"
    BATCH_OUTPUT = "batch_output_per_1k"

    @property
    def unit(self) -> str:
        """What the figure is per."""
        return _UNITS[self]

    @property
    def label(self) -> str:
        """A human name: `training price`, `no-commitment provisioned throughput rate`..."""
        return _LABELS[self]


_UNITS = {
    Figure.TRAINING: "per 1K tokens",
    Figure.STORAGE: "per month",
    Figure.PROVISIONED: "per model unit per hour",
    Figure.PROVISIONED_1_MONTH: "per model unit per hour",
    Figure.PROVISIONED_6_MONTHS: "per model unit per hour",
    Figure.ON_DEMAND_INPUT: "per 1K input tokens",
    Figure.ON_DEMAND_OUTPUT: "per 1K output tokens",
    Figure.BATCH_INPUT: "per 1K input tokens",
    Figure.BATCH_OUTPUT: "per 1K output tokens",
}
_LABELS = {
    Figure.TRAINING: "training price",
    Figure.STORAGE: "storage price",
    Figure.PROVISIONED: "no-commitment provisioned throughput rate",
    Figure.PROVISIONED_1_MONTH: "1-month provisioned throughput rate",
    Figure.PROVISIONED_6_MONTHS: "6-month provisioned throughput rate",
    Figure.ON_DEMAND_INPUT: "on-demand input token price",
    Figure.ON_DEMAND_OUTPUT: "on-demand output token price",
    Figure.BATCH_INPUT: "batch input token price",
    Figure.BATCH_OUTPUT: "batch output token price",
}


@dataclass(frozen=True)
class ModelPrices:
    """Every figure of one base model in one region, from one source."""

    model_id: str
    region: str
    source: PriceSource
    as_of: str
    figures: Mapping[Figure, Price]
    """Every `Figure`, each known or unknown (`ModelPrices.build` fills the missing ones)."""
    notes: tuple[str, ...] = ()

    @classmethod
    def build(
        cls,
        model_id: str,
        region: str,
        source: PriceSource,
        as_of: str,
        known: Mapping[Figure, Price],
        missing: Callable[[Figure], str],
        notes: tuple[str, ...] = (),
    ) -> ModelPrices:
        """A row with `known` figures; every other figure is unknown with `missing(figure)`
        as what to do."""
        figures = {
            figure: known.get(figure) or Price.unknown(figure.unit, missing(figure))
            for figure in Figure
        }
        return cls(model_id, region, source, as_of, figures, notes)

    def __getitem__(self, figure: Figure) -> Price:
        return self.figures[figure]

    @property
    def training(self) -> Price:
        """Training, per 1K tokens (tokens x epochs are billed)."""
        return self.figures[Figure.TRAINING]

    @property
    def storage(self) -> Price:
        """Storing one custom model, per month."""
        return self.figures[Figure.STORAGE]

    @property
    def provisioned(self) -> Price:
        """One model unit of no-commitment provisioned throughput, per hour."""
        return self.figures[Figure.PROVISIONED]

    @property
    def on_demand_input(self) -> Price:
        """On-demand serving, per 1K input tokens."""
        return self.figures[Figure.ON_DEMAND_INPUT]

    @property
    def on_demand_output(self) -> Price:
        """On-demand serving, per 1K output tokens."""
        return self.figures[Figure.ON_DEMAND_OUTPUT]

    @property
    def provenance(self) -> str:
        """`Price List API, 2026-12-02` or `built-in, 2025-07-20`."""
        return f"{SOURCE_LABELS[self.source]}, {self.as_of}"

    def to_json(self) -> dict[str, Any]:
        """The `bedrock-tune prices --json` object: exactly model, region, the five headline
        figures (null when unknown), source and as_of."""
        return {
            "model": self.model_id,
            "region": self.region,
            "training_per_1k_tokens": self.training.amount,
            "storage_per_month": self.storage.amount,
            "provisioned_per_hour": self.provisioned.amount,
            "on_demand_input_per_1k": self.on_demand_input.amount,
            "on_demand_output_per_1k": self.on_demand_output.amount,
            "source": self.source,
            "as_of": self.as_of,
        }


SPOT_SAVING_UP_TO = 90
"""Managed spot training "can optimize the cost of training models up to 90% over on-demand
instances" (Amazon SageMaker Developer Guide, Managed Spot Training)."""
SPOT_SOURCE = "SageMaker Developer Guide, Managed Spot Training, checked 2026-12"
SPOT_NOT_LISTED = (
    "the Price List publishes no managed spot training rate (neither the reference nor the "
    "SageMaker docs name one; ⚠ uncertain, not confirmed by AWS in writing): spot bills a "
    "varying spot rate, at most the on-demand one"
)


@dataclass(frozen=True)
class SpotSaving:
    """Managed spot training: what is known of its cost without a published spot rate."""

    on_demand: Price
    """The on-demand training rate per instance-hour: the most spot can cost."""
    up_to_percent: int = SPOT_SAVING_UP_TO
    source: str = SPOT_SOURCE

    def text(self) -> str:
        """`managed spot training: up to 90% less (SageMaker Developer Guide, ...) than the
        on-demand $7.09 per instance-hour (Price List API, 2026-12-02); ...`, or the saving
        and what to do when the on-demand rate is unknown."""
        saving = f"up to {self.up_to_percent}% less ({self.source})"
        if self.on_demand.amount is None:
            return (
                f"managed spot training: {saving} than an on-demand rate that is unknown: "
                f"{self.on_demand.todo}"
            )
        return (
            f"managed spot training: {saving} than the on-demand {self.on_demand.text()}; "
            f"{SPOT_NOT_LISTED}; the job's billable seconds show the real saving when it ends"
        )

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-able data: the on-demand ceiling and the saving with its source."""
        return {
            "on_demand": self.on_demand.to_json(),
            "saving_up_to_percent": self.up_to_percent,
            "saving_source": self.source,
            "spot_rate": None,
            "spot_rate_note": SPOT_NOT_LISTED,
        }


@dataclass(frozen=True)
class InstancePrices:
    """What one SageMaker instance type costs per hour in one region."""

    instance_type: str
    region: str
    training: Price
    """A training job, on demand, per instance-hour."""
    training_spot: Price
    """Managed spot training: a varying spot rate the Price List does not publish (always
    unknown, with what to do; `spot` says what is known: the ceiling and the saving)."""
    endpoint: Price
    """A real-time endpoint (hosting), per instance-hour."""
    notes: tuple[str, ...] = field(default=())

    @property
    def spot(self) -> SpotSaving:
        """Managed spot training as it can be priced: the on-demand ceiling and the saving of
        up to N% with its source (never a $0 spot rate)."""
        return SpotSaving(self.training)
