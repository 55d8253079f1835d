"""What is billing now, summed once: for the header's counter, the quit guard, the Teardown step
and `bedrock-tune teardown`.

Each billable thing has a `Charge`: an idle price per hour (None when the price is unknown),
whether it also bills per token, for an imported model the price of each 5-minute window a copy
is active (custom model units, reference §7), for stored models a price per month, and where the
price comes from (`Price List API, 2026-12-02`, `built-in, 2024`). `summarize` adds them up
keeping the unknown prices apart: an unknown price is never counted as $0, and the text says
"price unknown" instead; the known total says its sources.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from core import format as fmt
from core.pricing.types import SOURCE_LABELS, Price
from core.registry import BATCH_JOB, DEPLOYMENT, IMPORTED_MODEL, JOB, ResourceRecord
from core.run.types import Run
from core.sagemaker import kinds
from core.teardown.items import TeardownItem, recorded_price_source


@dataclass(frozen=True)
class Charge:
    """What one resource costs while it exists."""

    per_hour: float | None = 0.0
    """Idle cost per hour (0 for what bills only per use); None when the price is unknown."""
    per_token: bool = False
    """It bills per token it processes (an on-demand deployment, a training job)."""
    per_month: float | None = None
    """Storage cost per month, for a stored model (None: not storage, or the price unknown)."""
    storage: bool = False
    """A stored model: it bills by the month, not by the hour or by use."""
    source: str = ""
    """Where the price comes from, e.g. `Price List API, 2026-12-02` ('' for a structural $0)."""
    windowed: bool = False
    """It bills per 5-minute window while a copy is active (an imported model)."""
    per_window: float | None = None
    """The price of one such window (None: unknown)."""


@dataclass(frozen=True)
class BillingSummary:
    """The charges added up; unknown prices counted, never summed as $0."""

    count: int = 0
    """Resources billing by the hour or by use (storage apart)."""
    known_per_hour: float = 0.0
    """The sum of the hourly prices that are known."""
    unknown_per_hour: int = 0
    """How many of them have no known hourly price."""
    per_token: int = 0
    """How many of them (also) bill per token; their token charges are not in any total."""
    storing: int = 0
    """Stored models (billed by the month)."""
    known_per_month: float = 0.0
    unknown_per_month: int = 0
    hourly_sources: tuple[str, ...] = ()
    """Where the known non-zero hourly prices come from."""
    monthly_sources: tuple[str, ...] = ()
    windowed: int = 0
    """How many bill per 5-minute window while active (imported models)."""
    known_per_window: float = 0.0
    """The sum of their known window prices (what one window of each costs)."""
    unknown_per_window: int = 0
    window_sources: tuple[str, ...] = ()
    """Where the known window prices come from."""

    @property
    def per_hour(self) -> float | None:
        """The hourly total, or None when a price is unknown (the total would be a lower bound)."""
        return None if self.unknown_per_hour else self.known_per_hour

    @property
    def price_unknown(self) -> bool:
        """Whether some hourly price is unknown."""
        return self.unknown_per_hour > 0

    @property
    def idle_free(self) -> bool:
        """Whether every hourly price is known to be zero: what bills does so only per use
        (tokens, active windows), a fact, not a price nobody knows."""
        return self.count > 0 and not self.unknown_per_hour and not self.known_per_hour

    def hourly_text(self, *, sources: bool = True, terse: bool = False) -> str:
        """`$7.10/h (built-in, 2024)`, `no idle cost, bills per token`, `price unknown`,
        `$7.10/h (Price List API, 2026-12-02) + 1 price unknown + per token`.

        A zero hourly total is said in words ("no idle cost"), never as `$0.00/h`, which
        would read like a price nobody knows. Without `sources` the figures stand alone (where
        they come from is said where there is room); `terse` also words them shortly, for an
        80-column header: `$7.10/h + 1 unknown + per token`, `$0.29/5-min window`.
        """
        sources = sources and not terse
        parts = []
        if not self.idle_free:
            parts.append(
                _priced(
                    self.count,
                    self.unknown_per_hour,
                    self.known_per_hour,
                    "h",
                    self.hourly_sources if sources else (),
                    terse=terse,
                )
            )
        if self.per_token:
            parts.append("per token")
        if self.windowed:
            parts.append(self._window_text(sources, terse))
        if self.idle_free:
            if not parts:
                return "no idle cost"
            # Tersely, what bills per use is said alone: no hourly figure stands beside it.
            return " + ".join(parts) if terse else "no idle cost, bills " + " + ".join(parts)
        if self.count == 0:
            return "nothing bills"
        return " + ".join(parts)

    def _window_text(self, sources: bool, terse: bool) -> str:
        """What the imported models' active windows cost: `$0.57 per 5-min window while active
        (Price List API, 2026-12-02)`; tersely `$0.57/5-min window`."""
        window = "/5-min window" if terse else " per 5-min window while active"
        if self.unknown_per_window == self.windowed:
            return f"{window.lstrip('/ ')} (price unknown)"
        unknown = (
            f" + {_unknown_prices(self.unknown_per_window, terse)}"
            if self.unknown_per_window
            else ""
        )
        where = f" ({'; '.join(self.window_sources)})" if sources and self.window_sources else ""
        return f"{fmt.money(self.known_per_window)}{window}{where}{unknown}"

    def monthly_text(self) -> str:
        """`$1.95/month (Price List API, 2026-12-02)`, `price unknown`,
        `$1.95/month (built-in, 2025-07-20) + 1 price unknown`."""
        return _priced(
            self.storing,
            self.unknown_per_month,
            self.known_per_month,
            "month",
            self.monthly_sources,
        )

    def headline(self) -> str:
        """`1 billable resource, no idle cost, bills per token` (the quit guard, teardown)."""
        return f"{fmt.plural(self.count, 'billable resource')}, {self.hourly_text()}"

    def counter(self, *, sources: bool = True, terse: bool = False) -> str:
        """The header's counter: `1 billable, $20.00/h (Price List API, 2026-12-02)`; without
        `sources` (or `terse`, see `hourly_text`) for a narrow header: `1 billable, $20.00/h`."""
        return f"{self.count} billable, {self.hourly_text(sources=sources, terse=terse)}"


def _priced(
    count: int,
    unknown: int,
    known_total: float,
    unit: str,
    sources: tuple[str, ...] = (),
    *,
    terse: bool = False,
) -> str:
    """The known total per `unit` with its sources, and how many prices are unknown (never
    summed as $0)."""
    if unknown and (unknown == count or not known_total):
        # The known prices add up to nothing: a "$0.00" beside the unknown one would read as
        # its price.
        return "price unknown"
    where = f" ({'; '.join(sources)})" if sources and known_total else ""
    total = f"{fmt.money(known_total)}/{unit}{where}"
    return f"{total} + {_unknown_prices(unknown, terse)}" if unknown else total


def _unknown_prices(count: int, terse: bool) -> str:
    """`2 prices unknown`; tersely `2 unknown`."""
    return f"{count} unknown" if terse else f"{fmt.plural(count, 'price')} unknown"


def summarize(charges: Iterable[Charge]) -> BillingSummary:
    """Add the charges up, keeping unknown prices apart."""
    count = unknown_hourly = per_token = storing = unknown_monthly = 0
    windowed = unknown_window = 0
    hourly = monthly = window = 0.0
    hourly_sources: dict[str, None] = {}
    monthly_sources: dict[str, None] = {}
    window_sources: dict[str, None] = {}
    for charge in charges:
        if charge.storage:
            storing += 1
            if charge.per_month is None:
                unknown_monthly += 1
            else:
                monthly += charge.per_month
                if charge.source and charge.per_month:
                    monthly_sources[charge.source] = None
            continue
        count += 1
        per_token += charge.per_token
        if charge.windowed:
            windowed += 1
            if charge.per_window is None:
                unknown_window += 1
            else:
                window += charge.per_window
                if charge.source and charge.per_window:
                    window_sources[charge.source] = None
        if charge.per_hour is None:
            unknown_hourly += 1
        else:
            hourly += charge.per_hour
            if charge.source and charge.per_hour:
                hourly_sources[charge.source] = None
    return BillingSummary(
        count,
        hourly,
        unknown_hourly,
        per_token,
        storing,
        monthly,
        unknown_monthly,
        # Sources in a fixed order, not the registry's: an entry rewritten later (a status
        # change) would otherwise move its source and the header would shuffle.
        tuple(sorted(hourly_sources)),
        tuple(sorted(monthly_sources)),
        windowed,
        window,
        unknown_window,
        tuple(sorted(window_sources)),
    )


SAGEMAKER_JOBS = (kinds.TRAINING_JOB, kinds.AUTOML_JOB)


def billing_now(records: Iterable[ResourceRecord], runs: Mapping[str, Run]) -> list[ResourceRecord]:
    """The billable records, less the SageMaker jobs whose run (by run id) saw them end: a
    finished job bills nothing, though its entry stays until teardown forgets it."""
    ended = {
        (run_id, run.job_name)
        for run_id, run in runs.items()
        if run.job_status is not None and run.job_status.terminal
    }
    return [
        record
        for record in records
        if record.billable
        and not (record.kind in SAGEMAKER_JOBS and (record.run_id, record.identifier) in ended)
    ]


PriceLookup = Callable[[ResourceRecord], Price | None]
"""The hourly price of a throughput recorded without one (None when there is none)."""


def cached_hourly_price(record: ResourceRecord) -> Price | None:
    """A resource recorded without a price: for a SageMaker job or endpoint, the cached Price
    List rate of its recorded instances (training or hosting), else the built-in one; for a
    throughput, the cached figure for its base model and region, else the built-in one. Never
    calls AWS (safe on the event loop)."""
    from core.catalog.lookup import find_model
    from core.errors import NotFoundError
    from core.pricing.service import PriceService

    instance = record.details.get("instance_type")
    if instance and record.kind in (kinds.TRAINING_JOB, kinds.ENDPOINT):
        rates = PriceService(None).cached_instance_prices(str(instance), record.region)
        rate = rates.endpoint if record.kind == kinds.ENDPOINT else rates.training
        count = record.details.get("instance_count")
        return rate.times(count if isinstance(count, int) and count > 0 else 1, "per hour")
    base = record.details.get("base_model_id")
    if not base:
        return None
    try:
        model = find_model(str(base))
    except NotFoundError:
        return None
    return PriceService(None).cached_model_prices(model, record.region).provisioned


def _recorded_source(details: dict[str, object]) -> str:
    source, as_of = details.get("price_source"), details.get("price_as_of")
    if isinstance(source, str) and source in SOURCE_LABELS:
        label = SOURCE_LABELS[source]
        return f"{label}, {as_of}" if as_of else label
    return "as recorded"


def charge_of_record(record: ResourceRecord, lookup: PriceLookup | None = None) -> Charge:
    """The charge of a billable registry entry (its hourly price was recorded at creation,
    with its source).

    An on-demand deployment costs nothing idle and bills per token; a provisioned throughput
    bills its recorded hourly price. One recorded without a price is looked up with `lookup`
    (e.g. `cached_hourly_price`), and stays unknown when that has none.
    """
    price = record.details.get("per_hour")
    if record.kind == BATCH_JOB:
        # A batch job bills the tokens it processes, nothing by the hour.
        return Charge(per_hour=0.0, per_token=True)
    if record.kind == DEPLOYMENT:
        return Charge(per_hour=0.0 if price is None else float(price), per_token=True)
    if price is not None:
        return Charge(per_hour=float(price), source=_recorded_source(record.details))
    found = lookup(record) if lookup is not None else None
    if found is not None and found.amount is not None:
        if record.details.get("spot"):
            # Managed spot bills a varying rate the Price List does not publish: the on-demand
            # rate is its ceiling, and is said to be one.
            return Charge(per_hour=found.amount, source=f"spot: at most; {found.provenance}")
        return Charge(per_hour=found.amount, source=found.provenance)
    return Charge(per_hour=None)


def _imported_model_charges(
    per_window: Any, per_month: Any, source: str = "", storage_source: str | None = None
) -> list[Charge]:
    """An imported model: nothing while idle, its windows while a copy is active, and storage
    (whose rate may come from another source than the active one)."""
    return [
        Charge(
            per_hour=0.0,
            windowed=True,
            per_window=None if per_window is None else float(per_window),
            source=source,
        ),
        Charge(
            per_month=None if per_month is None else float(per_month),
            storage=True,
            source=source if storage_source is None else storage_source,
        ),
    ]


def charges_of_record(record: ResourceRecord, lookup: PriceLookup | None = None) -> list[Charge]:
    """Every charge of a billable registry entry (an imported model has two)."""
    if record.kind == IMPORTED_MODEL:
        details = record.details
        source = recorded_price_source(details, "price_source", "prices_as_of") or "reference"
        storage = recorded_price_source(details, "storage_source", "storage_as_of") or source
        return _imported_model_charges(
            details.get("per_window"), details.get("per_month"), source, storage
        )
    return [charge_of_record(record, lookup)]


def summarize_records(
    records: Iterable[ResourceRecord], lookup: PriceLookup | None = None
) -> BillingSummary:
    """What the registry's billable entries cost (entries not marked billable are left out);
    `lookup` prices the throughputs recorded without a price."""
    return summarize(c for r in records if r.billable for c in charges_of_record(r, lookup))


def charge_of_item(item: TeardownItem) -> Charge | None:
    """The charge of a teardown item that still exists, or None when it costs nothing."""
    if not item.exists:
        return None
    if item.cost_class == "storage":
        return Charge(per_month=item.monthly_cost, storage=True, source=item.price_source)
    if not item.billable:
        return None
    if item.kind in (JOB, BATCH_JOB):
        # Training and batch inference bill by the tokens they process, not by the hour.
        return Charge(per_hour=0.0, per_token=True)
    return Charge(
        per_hour=item.hourly_cost, per_token=item.kind == DEPLOYMENT, source=item.price_source
    )


def summarize_items(items: Iterable[TeardownItem]) -> BillingSummary:
    """What the listed teardown items cost while they exist."""
    charges: list[Charge] = []
    for item in items:
        if item.kind == IMPORTED_MODEL:
            if item.exists:
                charges.extend(
                    _imported_model_charges(item.window_cost, item.monthly_cost, item.price_source)
                )
            continue
        charge = charge_of_item(item)
        if charge is not None:
            charges.append(charge)
    return summarize(charges)
