"""`PriceService`: the prices of a model or an instance type in a region, from the freshest
source that answers.

Order: this service's memory, the state-dir cache (a day by default; `refresh=True` skips it),
the Price List API, and when that cannot answer (not allowed, not reachable, no credentials),
the built-in figures with one note that says why. A failure is remembered for the service's
life, so a denied identity costs one call, not one per lookup. Nothing here raises for a price:
a figure no source has is `Price.unknown` with what to do.

Every method that may call AWS must run in a worker thread; `cached_model_prices` never calls
AWS and is safe anywhere.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from core.aws import AwsContext
from core.catalog.types import BaseModel
from core.errors import (
    AccessDeniedError,
    BedrockTuneError,
    ConnectionFailedError,
    ExpiredCredentialsError,
    ExpiredSSOTokenError,
    InvalidCredentialsError,
    NoCredentialsError,
    ProfileNotFoundError,
    ThrottledError,
)
from core.pricing.builtin import builtin_prices
from core.pricing.cache import CachedAnswer, PriceCache
from core.pricing.imports import (
    IMPORT_KEY,
    ImportPrices,
    builtin_import_prices,
    import_prices_from,
    import_rates,
)
from core.pricing.mapping import (
    BEDROCK,
    FOUNDATION_MODELS,
    MODEL_NAMES,
    candidates,
    resolve,
)
from core.pricing.pricelist import endpoint_region, fetch_items, pricing_client, term
from core.pricing.sagemaker import SAGEMAKER, builtin_training_rate, instance_rates
from core.pricing.types import (
    PRICING_PAGE,
    SPOT_SAVING_UP_TO,
    SPOT_SOURCE,
    Figure,
    InstancePrices,
    ModelPrices,
    Price,
)

POLICY_HINT = "allow pricing:GetProducts (read-only, no resource) for live prices"


@dataclass(frozen=True)
class RegionPrices:
    """Every catalog model offered in a region."""

    region: str
    rows: tuple[ModelPrices, ...]
    note: str = ""
    """Why the built-in figures stand in (one note for the region), '' when the API answered."""


def pricing_region(model: BaseModel, region: str | None) -> str:
    """Where `model` would be customized: `region` when it offers the model, else the first
    region that does (its prices are that region's)."""
    if region in model.regions or not model.regions:
        return region or ""
    return model.regions[0]


def _reason(error: BedrockTuneError) -> str:
    """Why the Price List could not be used, in a phrase."""
    if isinstance(error, AccessDeniedError):
        return f"pricing:GetProducts is not allowed for this identity ({POLICY_HINT})"
    if isinstance(error, ConnectionFailedError):
        return "the Price List API could not be reached"
    if isinstance(
        error,
        NoCredentialsError
        | ExpiredCredentialsError
        | ExpiredSSOTokenError
        | InvalidCredentialsError
        | ProfileNotFoundError,
    ):
        return "no usable AWS credentials to ask the Price List API"
    if isinstance(error, ThrottledError):
        return "the Price List API is throttling requests"
    return f"the Price List API answered with an error ({error.message})"


def fallback_note(reason: str) -> str:
    """The one note shown when the built-in figures stand in."""
    return f"Prices are the built-in figures, each with its date: {reason}."


class PriceService:
    """Prices for models and instance types; see the module docstring for the order."""

    def __init__(
        self,
        context: AwsContext | None,
        *,
        cache: PriceCache | None = None,
        refresh: bool = False,
        client: Any | None = None,
    ) -> None:
        """`context` is None to use only the cache and the built-in figures; `client` replaces
        the pricing client (tests pass a stubbed one)."""
        self._context = context
        self._cache = cache or PriceCache()
        self._refresh = refresh
        self._client = client
        self._clients: dict[str, Any] = {}
        self._answers: dict[tuple[str, str], CachedAnswer] = {}
        self._failures: dict[str, str] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ Bedrock models

    def region_prices(self, region: str, models: Iterable[BaseModel] | None = None) -> RegionPrices:
        """The prices of `models` (default: every catalog model offered in `region`)."""
        from core.catalog.lookup import builtin_models

        if models is None:
            chosen = [m for m in builtin_models() if region in m.regions]
        else:
            chosen = list(models)
        answer = self._bedrock_answer(region, network=True)
        if isinstance(answer, str):
            rows = tuple(builtin_prices(m, region, answer) for m in chosen)
            return RegionPrices(region, rows, fallback_note(answer) if answer else "")
        return RegionPrices(region, tuple(self._row(m, region, answer) for m in chosen))

    def model_prices(self, model: BaseModel, region: str) -> ModelPrices:
        """The prices of one model in `region` (may call AWS: run in a worker)."""
        return self.region_prices(region, [model]).rows[0]

    def cached_model_prices(self, model: BaseModel, region: str) -> ModelPrices:
        """What is known without calling AWS: memory, the cache, else the built-in figures."""
        answer = self._bedrock_answer(region, network=False)
        if isinstance(answer, str):
            return builtin_prices(model, region, answer)
        return self._row(model, region, answer)

    def _client_for(self, region: str) -> Any:
        if self._client is not None:
            return self._client
        endpoint = endpoint_region(region)
        if endpoint not in self._clients:
            if self._context is None:
                raise NoCredentialsError("no AWS context to ask the Price List API with")
            self._clients[endpoint] = pricing_client(self._context, endpoint)
        return self._clients[endpoint]

    def _answer(self, kind: str, region: str, *, network: bool) -> CachedAnswer | str:
        """A cached answer for `kind` in `region`, or why there is none ('' when the network
        was not to be used)."""
        with self._lock:
            known = self._answers.get((kind, region))
            if known is not None:
                return known
            if not self._refresh:
                cached = self._cache.load(kind, region)
                if cached is not None:
                    self._answers[(kind, region)] = cached
                    return cached
            if not network:
                return self._failures.get(region, "")
            if region in self._failures:
                return self._failures[region]
            if self._context is None and self._client is None:
                return "no AWS credentials to ask the Price List API"
        return ""

    def _bedrock_answer(self, region: str, *, network: bool) -> CachedAnswer | str:
        answer = self._answer("bedrock", region, network=network)
        if isinstance(answer, CachedAnswer) or answer or not network:
            return answer
        try:
            entries = self._read_bedrock(region)
        except BedrockTuneError as error:
            reason = _reason(error)
            with self._lock:
                self._failures[region] = reason
            return reason
        with self._lock:
            stored = self._cache.store("bedrock", region, entries)
            self._answers[("bedrock", region)] = stored
        return stored

    def _read_bedrock(self, region: str) -> dict[str, Any]:
        """Ask the Price List for every catalog model offered in `region`."""
        from core.catalog.lookup import builtin_models

        offered = [m for m in builtin_models() if region in m.regions]
        client = self._client_for(region)
        items = fetch_items(client, BEDROCK, [term("regionCode", region)])
        for model in offered:
            name = MODEL_NAMES.get(model.id)
            if name is not None and name.marketplace:
                items += fetch_items(
                    client,
                    FOUNDATION_MODELS,
                    [term("regionCode", region), term("servicename", name.marketplace)],
                )
        resolved = resolve(candidates(items, region, [m.id for m in offered]))
        entries: dict[str, Any] = {
            model_id: {
                figure.value: {"amount": value.amount, "detail": value.detail}
                for figure, value in figures.items()
            }
            for model_id, figures in resolved.items()
        }
        entries[IMPORT_KEY] = {
            name: {"amount": value.amount, "detail": value.detail}
            for name, value in import_rates(items, region).items()
        }
        return entries

    def _row(self, model: BaseModel, region: str, answer: CachedAnswer) -> ModelPrices:
        entry = answer.entries.get(model.id)
        if not entry:
            return builtin_prices(
                model, region, f"the Price List has no {model.name} prices in {region}"
            )
        known: dict[Figure, Price] = {}
        unresolved: dict[Figure, str] = {}
        for figure in Figure:
            value = entry.get(figure.value)
            if not isinstance(value, dict):
                continue
            amount = value.get("amount")
            if isinstance(amount, int | float) and amount > 0:
                known[figure] = Price.known(
                    amount, figure.unit, "price-list-api", answer.as_of, str(value.get("detail"))
                )
            else:
                unresolved[figure] = str(value.get("detail", ""))

        def missing(figure: Figure) -> str:
            why = unresolved.get(figure) or f"the Price List has no {figure.label} for {model.name}"
            return f"{why} in {region}; see {PRICING_PAGE}"

        return ModelPrices.build(model.id, region, "price-list-api", answer.as_of, known, missing)

    # ------------------------------------------------------------------ imported models

    def import_prices(self, region: str) -> ImportPrices:
        """The custom model unit rates of imported models in `region` (may call AWS: run it
        in a worker). Read from the same Price List answer as the model prices."""
        return self._import_prices(region, network=True)

    def cached_import_prices(self, region: str) -> ImportPrices:
        """What is known without calling AWS: memory, the cache, else the built-in rates."""
        return self._import_prices(region, network=False)

    def _import_prices(self, region: str, *, network: bool) -> ImportPrices:
        answer = self._bedrock_answer(region, network=network)
        if isinstance(answer, str):
            return builtin_import_prices(region, answer)
        return import_prices_from(answer.entries.get(IMPORT_KEY), region, answer.as_of)

    # ------------------------------------------------------------------ SageMaker instances

    def instance_prices(self, instance_type: str, region: str) -> InstancePrices:
        """Training and endpoint rates of a SageMaker instance type (may call AWS: run it in a
        worker). A training rate the Price List cannot give is the built-in one when there is
        one (said in `notes`)."""
        answer = self._answer("sagemaker", region, network=True)
        if isinstance(answer, CachedAnswer) and instance_type in answer.entries:
            return self._instance(instance_type, region, answer, "")
        if isinstance(answer, str) and answer:
            return self._instance(instance_type, region, None, answer)
        try:
            items = fetch_items(
                self._client_for(region),
                SAGEMAKER,
                [term("regionCode", region), term("instanceType", instance_type)],
            )
        except BedrockTuneError as error:
            reason = _reason(error)
            with self._lock:
                self._failures[region] = reason
            return self._instance(instance_type, region, None, reason)
        rates = instance_rates(items, instance_type, region)
        entries = dict(answer.entries) if isinstance(answer, CachedAnswer) else {}
        entries[instance_type] = {
            name: {"amount": value.amount, "detail": value.detail} for name, value in rates.items()
        }
        with self._lock:
            stored = self._cache.store("sagemaker", region, entries)
            self._answers[("sagemaker", region)] = stored
        return self._instance(instance_type, region, stored, "")

    def cached_instance_prices(self, instance_type: str, region: str) -> InstancePrices:
        """What is known without calling AWS: memory, the cache, else the built-in training
        rate (the endpoint rate is then unknown)."""
        answer = self._answer("sagemaker", region, network=False)
        if isinstance(answer, CachedAnswer) and instance_type in answer.entries:
            return self._instance(instance_type, region, answer, "")
        reason = answer if isinstance(answer, str) and answer else ""
        return self._instance(
            instance_type,
            region,
            None,
            reason or f"the Price List rates of {instance_type} in {region} were not read yet",
        )

    def _instance(
        self, instance_type: str, region: str, answer: CachedAnswer | None, reason: str
    ) -> InstancePrices:
        rates = answer.entries.get(instance_type, {}) if answer is not None else {}

        def rate(name: str, what: str) -> Price:
            value = rates.get(name) if isinstance(rates, dict) else None
            amount = value.get("amount") if isinstance(value, dict) else None
            if answer is not None and isinstance(amount, int | float) and amount > 0:
                detail = str(value.get("detail", "")) if isinstance(value, dict) else ""
                return Price.known(
                    amount, "per instance-hour", "price-list-api", answer.as_of, detail
                )
            why = reason or (
                str(value.get("detail"))
                if isinstance(value, dict) and value.get("detail")
                else f"the Price List has no {what} rate for {instance_type} in {region}"
            )
            return Price.unknown(
                "per instance-hour",
                f"{why}; see https://aws.amazon.com/sagemaker/pricing/",
            )

        training = rate("training", "training")
        notes: tuple[str, ...] = (fallback_note(reason),) if reason else ()
        builtin = builtin_training_rate(instance_type)
        if not training.is_known and builtin is not None:
            # The reference's rate, with its date, rather than no estimate at all.
            if not reason:
                notes += (f"{training.todo}: the built-in training rate stands in",)
            training = builtin
        ceiling = f" (at most the on-demand {training.text()})" if training.is_known else ""
        spot = Price.unknown(
            "per instance-hour",
            f"managed spot training bills a varying spot rate that the Price List does not "
            f"publish{ceiling}; it saves up to {SPOT_SAVING_UP_TO}% ({SPOT_SOURCE}); the job "
            "reports its billable seconds when it ends",
        )
        return InstancePrices(
            instance_type, region, training, spot, rate("endpoint", "endpoint"), notes
        )
