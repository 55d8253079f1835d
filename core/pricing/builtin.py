"""The built-in figures: the catalog's prices (`core.catalog.data`) as `ModelPrices` with source
`built-in` and the catalog's date for them. Used when the Price List API cannot answer."""

from __future__ import annotations

from core.catalog.types import BaseModel
from core.pricing.types import PRICING_PAGE, Figure, ModelPrices, Price


def builtin_prices(model: BaseModel, region: str, reason: str = "") -> ModelPrices:
    """The catalog's figures for `model` (the same in every region it is offered in).

    `reason` says why the Price List was not used (e.g. "the Price List API could not be
    reached"); it becomes the row's first note.
    """
    pricing = model.pricing
    as_of = pricing.as_of
    detail = pricing.source or "bedrock-tune's catalog"
    amounts = {
        Figure.TRAINING: pricing.training_per_1k_tokens,
        Figure.STORAGE: pricing.storage_per_month,
        Figure.PROVISIONED: pricing.provisioned_per_hour,
        Figure.ON_DEMAND_INPUT: pricing.on_demand_input_per_1k,
        Figure.ON_DEMAND_OUTPUT: pricing.on_demand_output_per_1k,
    }
    known = {
        figure: Price.known(amount, figure.unit, "built-in", as_of, detail)
        for figure, amount in amounts.items()
        if amount is not None
    }

    def missing(figure: Figure) -> str:
        return (
            f"no built-in {figure.label} for {model.name}; with pricing:GetProducts allowed, "
            f"`bedrock-tune prices --refresh` asks the Price List API; or see {PRICING_PAGE}"
        )

    notes = (reason,) if reason else ()
    return ModelPrices.build(
        model.id, region, "built-in", as_of, known, missing, notes + pricing.notes
    )
