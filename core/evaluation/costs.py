"""What an evaluation costs before it runs, and what serving each model costs per 1K requests.

Every price comes through `token_price`, which asks the pricing service
(`core.pricing.service.PriceService`: the Price List API's answer for the region, cached a day,
else the built-in figures) and keeps each figure's source and date, so every cost shown says
where it comes from ("Price List API, 2026-12-02" / "built-in, 2025-07-20"). Batch inference
bills the Price List's own batch rate where it has one; otherwise about half the on-demand rate
(reference/bedrock.md, "Bedrock batch inference"), and the figure says so. An unknown price stays
None and is said to be unknown with what to do, never $0.

Token counts before a run are estimates (characters / the model's planning ratio, as the
validator estimates them); after a run the models' own usage counts are used.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from core import format as fmt
from core.data.tokens import estimate_tokens
from core.errors import NotFoundError
from core.pricing.service import PriceService, pricing_region
from core.pricing.types import Figure

BATCH_DISCOUNT = 0.5
"""Batch inference bills about half the on-demand price where a model supports it
(reference/bedrock.md, "Bedrock batch inference"; check the pricing page for a model). Used only
when the Price List has no batch rate for the model."""
SECONDS_PER_ANSWER = 2.0
"""A planning figure for one on-demand answer (time estimates only; labelled as such)."""
BATCH_TIME_NOTE = (
    "a batch job is queued and usually takes minutes to hours; Bedrock ends it at its time-out "
    "(24 h by default)"
)
HOURLY_NOTE = "provisioned throughput: billed by the hour, not per answer"


@dataclass(frozen=True)
class TokenPrice:
    """Dollars per 1,000 input and output tokens of one model, on demand and through batch,
    and where each figure comes from."""

    input_per_1k: float
    output_per_1k: float
    source: str
    """`Price List API, 2026-12-02` or `built-in, 2025-07-20`."""
    batch_input_per_1k: float
    batch_output_per_1k: float
    batch_source: str
    """The batch rates' provenance, or how they were derived from the on-demand ones."""

    def cost(self, input_tokens: float, output_tokens: float) -> float:
        """Dollars for this many tokens on demand."""
        return (input_tokens * self.input_per_1k + output_tokens * self.output_per_1k) / 1000

    def batch_cost(self, input_tokens: float, output_tokens: float) -> float:
        """Dollars for this many tokens through batch inference."""
        return (
            input_tokens * self.batch_input_per_1k + output_tokens * self.batch_output_per_1k
        ) / 1000


def unknown_price_hint(model_id: str) -> str:
    """What to do about a model without a known token price."""
    return (
        f"no on-demand token price for {model_id}; with pricing:GetProducts allowed, "
        "`bedrock-tune prices --refresh` asks the Price List API, or see "
        "https://aws.amazon.com/bedrock/pricing/"
    )


def token_price(
    model_id: str, region: str | None = None, prices: PriceService | None = None
) -> TokenPrice | None:
    """The token prices of the base model `model_id` names (its inference id, inference
    profile, customization id or name) in `region`; None when no source has them.

    `prices` is the pricing service to ask (default: one that never calls AWS, reading the
    state dir's cached Price List answer, else the built-in figures). A service with an AWS
    context may call the Price List API: run it in a worker.
    """
    from core.catalog.lookup import find_model

    try:
        model = find_model(model_id)
    except NotFoundError:
        return None
    service = prices or PriceService(None)
    row = service.model_prices(model, pricing_region(model, region))
    low, high = row.on_demand_input, row.on_demand_output
    if low.amount is None or high.amount is None:
        return None
    batch_in, batch_out = row[Figure.BATCH_INPUT], row[Figure.BATCH_OUTPUT]
    if batch_in.amount is not None and batch_out.amount is not None:
        batch = (batch_in.amount, batch_out.amount, batch_in.provenance)
    else:
        batch = (
            low.amount * BATCH_DISCOUNT,
            high.amount * BATCH_DISCOUNT,
            f"half the on-demand price ({low.provenance}): the Price List has no batch rate "
            f"for {model.name}",
        )
    return TokenPrice(low.amount, high.amount, low.provenance, *batch)


def chars_per_token(model_id: str) -> float:
    """The planning ratio of `model_id`'s catalog model (6 when it is not in the catalog)."""
    from core.catalog.lookup import find_model

    try:
        model = find_model(model_id)
    except NotFoundError:
        return 6.0
    return model.customizations[0].limits.chars_per_token if model.customizations else 6.0


@dataclass(frozen=True)
class CostLine:
    """One model's share of an evaluation, estimated before it runs."""

    what: str
    """e.g. `tuned model`, `base model (us.amazon.nova-micro-v1:0)`, `judge`."""
    calls: int
    input_tokens: int
    output_tokens: int
    on_demand: float | None
    """Dollars at on-demand prices; None when the price is unknown (or `hourly`)."""
    batch: float | None = None
    """Dollars through batch inference; None when batch is not offered or the price unknown."""
    seconds_on_demand: float = 0.0
    note: str = ""
    source: str = ""
    """Where the on-demand price comes from (`Price List API, 2026-12-02`)."""
    batch_source: str = ""
    """Where the batch price comes from, or how it was derived."""
    todo: str = ""
    """For an unknown price: what to do to get one."""
    hourly: bool = False
    """A provisioned throughput: billed by the hour whatever the answers, so no per-answer
    cost (left out of the totals, and said so)."""

    def text(self) -> str:
        """`judge: 80 calls, ~41K tokens in / 6K out, $0.05 (Price List API, 2026-12-02)`, the
        batch cost and its source when offered; an unknown price says what to do."""
        tokens = (
            f"~{_thousands(self.input_tokens)} tokens in / {_thousands(self.output_tokens)} out"
        )
        head = f"{self.what}: {fmt.plural(self.calls, 'call')}, {tokens}, "
        if self.hourly:
            return head + (self.note or HOURLY_NOTE)
        if self.on_demand is None:
            line = head + fmt.UNKNOWN_PRICE + (f" ({self.todo})" if self.todo else "")
        else:
            line = head + f"{fmt.money(self.on_demand)} ({self.source})"
        if self.batch is not None:
            line += f" on demand or {fmt.money(self.batch)} through batch ({self.batch_source})"
        return line + (f"; {self.note}" if self.note else "")


def _thousands(count: int) -> str:
    return f"{count / 1000:.1f}K" if count >= 1000 else str(count)


def estimate_calls(
    what: str,
    model_id: str | None,
    prompts: Iterable[str],
    *,
    output_tokens_each: int,
    calls_each: int = 1,
    concurrency: int = 4,
    batch_offered: bool = False,
    note: str = "",
    region: str | None = None,
    prices: PriceService | None = None,
) -> CostLine:
    """Estimate `calls_each` calls per prompt to `model_id` (priced like that base model in
    `region`; a custom model on-demand costs its base model's price per token). `model_id`
    None is a provisioned throughput: billed by the hour, not per answer."""
    ratio = chars_per_token(model_id or "")
    texts = list(prompts)
    calls = len(texts) * calls_each
    tokens_in = sum(estimate_tokens(t, ratio) for t in texts) * calls_each
    tokens_out = output_tokens_each * calls
    seconds = calls * SECONDS_PER_ANSWER / max(1, concurrency)
    if model_id is None:
        return CostLine(what, calls, tokens_in, tokens_out, None, None, seconds, note, hourly=True)
    price = token_price(model_id, region, prices)
    if price is None:
        return CostLine(
            what,
            calls,
            tokens_in,
            tokens_out,
            None,
            None,
            seconds,
            note,
            todo=unknown_price_hint(model_id),
        )
    batch = price.batch_cost(tokens_in, tokens_out) if batch_offered else None
    return CostLine(
        what,
        calls,
        tokens_in,
        tokens_out,
        price.cost(tokens_in, tokens_out),
        batch,
        seconds,
        note,
        source=price.source,
        batch_source=price.batch_source if batch_offered else "",
    )


def total(lines: Iterable[CostLine], *, batch: bool = False) -> float | None:
    """The sum of the lines (batch prices where `batch` and offered); None when one is
    unknown (a partial sum would read as the whole cost). Lines billed by the hour are not
    per answer and are left out (the plan says so)."""
    amount = 0.0
    for line in lines:
        if line.hourly:
            continue
        value = line.batch if batch and line.batch is not None else line.on_demand
        if value is None:
            return None
        amount += value
    return amount


def sources(lines: Iterable[CostLine], *, batch: bool = False) -> str:
    """Where a total's figures come from: `Price List API, 2026-12-02` (each source once)."""
    found: dict[str, None] = {}
    for line in lines:
        if line.hourly:
            continue
        if batch and line.batch is not None:
            found[line.batch_source] = None
        elif line.source:
            found[line.source] = None
    return "; ".join(found)


@dataclass(frozen=True)
class ServingCost:
    """What serving one model costs, per 1,000 requests like the ones evaluated."""

    per_1k_requests: float | None
    """None when it cannot be said per request (provisioned throughput bills by the hour)."""
    note: str
    source: str = ""
    """Where the price comes from (`Price List API, 2026-12-02`), '' when there is none."""


def serving_cost(
    model_id: str,
    base_model_id: str | None,
    mean_input_tokens: float | None,
    mean_output_tokens: float | None,
    *,
    region: str | None = None,
    prices: PriceService | None = None,
) -> ServingCost:
    """Serving cost per 1K requests of the mean size measured in the evaluation.

    A provisioned throughput (`:provisioned-model/` ARN) bills by the hour whatever the
    traffic: its per-request cost depends on the traffic, so only the hourly price (one model
    unit, with its source) is given. An on-demand deployment of a custom model, or a base
    model, bills its base model's per-token price.
    """
    if ":provisioned-model/" in model_id:
        return _provisioned_serving(base_model_id, region, prices)
    if ":imported-model/" in model_id:
        return _imported_serving(model_id, region, prices)
    price = token_price(base_model_id or model_id, region, prices)
    if price is None:
        return ServingCost(None, f"price unknown: {unknown_price_hint(base_model_id or model_id)}")
    if mean_input_tokens is None or mean_output_tokens is None:
        return ServingCost(None, "no token counts measured", price.source)
    per_1k = price.cost(mean_input_tokens, mean_output_tokens) * 1000
    where = (
        "custom model on demand, at its base model's price"
        if model_id.startswith("arn:")
        else "on demand"
    )
    return ServingCost(per_1k, f"{where} ({price.source})", price.source)


def _imported_serving(
    model_arn: str, region: str | None, prices: PriceService | None
) -> ServingCost:
    """An imported model bills custom model units for each 5-minute window a copy is active,
    whatever the requests in it: no per-request figure, the rate per unit instead."""
    from core.pricing.imports import window_text

    service = prices or PriceService(None)
    # The Region the model lives in (an ARN's fourth part) when the report names none.
    where = region or model_arn.split(":")[3]
    rate = service.cached_import_prices(where).per_window(1)
    note = (
        "imported model: billed per custom model unit, "
        f"{window_text(rate)}, whatever the number of requests (the cost per request depends "
        "on the traffic)"
    )
    return ServingCost(None, note, rate.provenance if rate.amount is not None else "")


def _provisioned_serving(
    base_model_id: str | None, region: str | None, prices: PriceService | None
) -> ServingCost:
    from core.catalog.lookup import find_model

    rate = None
    if base_model_id:
        try:
            model = find_model(base_model_id)
        except NotFoundError:
            model = None
        if model is not None:
            service = prices or PriceService(None)
            rate = service.model_prices(model, pricing_region(model, region)).provisioned
    if rate is None or rate.amount is None:
        return ServingCost(
            None,
            "provisioned throughput: billed by the hour whatever the traffic (hourly price "
            "unknown: `bedrock-tune prices --refresh` asks the Price List API)",
        )
    return ServingCost(
        None,
        f"provisioned throughput: {fmt.money(rate.amount)} per model unit per hour "
        f"({rate.provenance}) whatever the traffic",
        rate.provenance,
    )


def serving_text(serving: Mapping[str, Any] | None) -> str:
    """A report's serving cost as shown: `$0.21 (Price List API, 2026-12-02)`, or its note
    when it cannot be said per request (reports saved before sources were kept show their
    note, which names the prices' date)."""
    serving = serving or {}
    per_1k = serving.get("per_1k_requests")
    note = str(serving.get("note") or "-")
    if not isinstance(per_1k, int | float):
        return note
    source = serving.get("source")
    return f"{fmt.money(per_1k)} ({source or note})"


def judge_cost_text(judge: Mapping[str, Any]) -> str:
    """A report's judge cost as shown: `$0.05 (Price List API, 2026-12-02)`, or unknown with
    what to do."""
    cost = judge.get("cost")
    if not isinstance(cost, int | float):
        todo = judge.get("cost_todo")
        return f"{fmt.UNKNOWN_PRICE} ({todo})" if todo else fmt.UNKNOWN_PRICE
    source = judge.get("cost_source")
    return f"{fmt.money(cost)} ({source})" if source else fmt.money(cost)
