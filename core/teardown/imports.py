"""Teardown of what Custom Model Import made: imported models (deleted) and import jobs (there is
no call to stop or delete one: an import under way is kept and explained, an ended one is
forgotten, and the model it made is listed on its own).

`inventory` reads the Region's imports once (`read_imports`), checks each claim against that view
(`check_import`), and `delete` hands these items to `delete_import_item`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.aws import AwsContext
from core.errors import describe_unexpected
from core.importing.jobs import (
    ImportedModel,
    ImportJob,
    delete_imported_model,
    get_imported_model,
    list_import_jobs,
    list_imported_models,
)
from core.pricing.imports import ImportPrices
from core.statuses import ImportStatus
from core.teardown.items import (
    IMPORT_JOB,
    IMPORTED_MODEL,
    TeardownItem,
    TeardownOutcome,
    imported_model_note,
    short_name,
)


@dataclass
class ImportView:
    """The Region's imported models and import jobs, read once per inventory."""

    models: dict[str, ImportedModel] = field(default_factory=dict)
    jobs: dict[str, ImportJob] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)
    """Which of the two kinds could not be listed."""


def read_imports(context: AwsContext, region: str, warn: Callable[[str], None]) -> ImportView:
    """List the Region's imported models and import jobs (a failure is a warning)."""
    view = ImportView()
    try:
        view.models = {m.arn: m for m in list_imported_models(context)}
    except Exception as raised:  # a listing that fails is a warning, never a crash
        view.failed.add(IMPORTED_MODEL)
        warn(
            f"Could not list the imported models in {region}: {describe_unexpected(raised).message}"
        )
    try:
        view.jobs = {j.arn: j for j in list_import_jobs(context)}
    except Exception as raised:
        view.failed.add(IMPORT_JOB)
        warn(f"Could not list the import jobs in {region}: {describe_unexpected(raised).message}")
    return view


def models_made_by_jobs(job_arns: list[str], view: ImportView) -> list[tuple[str, str]]:
    """(model ARN, name) of the models the given import jobs made (to claim them too)."""
    made = []
    for arn in job_arns:
        job = view.jobs.get(arn)
        if job is not None and job.model_arn:
            made.append((job.model_arn, job.model_name))
    return made


def check_import(
    context: AwsContext,
    kind: str,
    identifier: str,
    name: str,
    recorded: bool,
    view: ImportView,
    base: dict[str, Any],
    prices: ImportPrices,
) -> TeardownItem | None:
    """A claimed imported model or import job, checked against the view (None: nothing to do);
    an imported model is priced at `prices` (its region's custom model unit rates)."""
    unknown = kind in view.failed
    if kind == IMPORT_JOB:
        job = view.jobs.get(identifier)
        label = f"Import job {job.name if job else name or short_name(identifier)}"
        if job is not None and job.status is ImportStatus.IN_PROGRESS:
            return TeardownItem(
                **base,
                label=label,
                action="forget",
                effect="Still importing: Bedrock has no call to stop an import. Its model "
                "appears when it ends; run teardown again then to delete it.",
                status=job.status.value,
                name=job.name,
            )
        if not recorded and not unknown:
            return None  # a run's import that ended: its model is listed on its own
        return TeardownItem(
            **base,
            label=label,
            action="forget",
            effect="The import has ended; teardown forgets it (its model is listed on its own).",
            exists=False,
            status=job.status.value if job else "",
            name=name,
        )
    model = view.models.get(identifier)
    exists = model is not None or unknown
    units = model.units if model is not None else None
    if model is not None and units is None:
        try:  # the list does not carry the units; the model's own page does
            units = get_imported_model(context, identifier).units
        except Exception:  # the price is then shown as unknown, never as $0
            units = None
    window = prices.per_window(units) if units else None
    month = prices.storage_per_month(units) if units else None
    return TeardownItem(
        **base,
        label=f"Imported model {model.name if model else name or short_name(identifier)}",
        action="delete",
        effect=(
            "Deletes the imported model (irreversible): its storage charge stops and it can no "
            "longer be invoked."
            if exists
            else "Already gone; teardown forgets it."
        ),
        cost_class="hourly",
        hourly_cost=0.0,
        window_cost=window.amount if window else None,
        monthly_cost=month.amount if month else None,
        cost_note=imported_model_note(
            window.amount if window else None,
            month.amount if month else None,
            window.provenance if window else "",
            month.provenance if month else "",
        ),
        price_source=window.provenance if window else "",
        exists=exists,
        status=f"{units} CMU" if units else "",
        name=model.name if model else name,
        problem="could not be listed" if unknown else "",
    )


def delete_import_item(context: AwsContext, item: TeardownItem) -> TeardownOutcome:
    """Delete an imported model (an import job is only ever forgotten)."""
    if item.kind == IMPORT_JOB:
        if item.status == ImportStatus.IN_PROGRESS.value:
            return TeardownOutcome(
                item,
                "kept",
                f"{item.label} is still importing and cannot be stopped; run teardown again "
                "when it ends to delete its model.",
            )
        return TeardownOutcome(item, "forgotten", f"Forgot {item.label}.")
    delete_imported_model(context, item.name or item.identifier)
    return TeardownOutcome(item, "deleted", f"Deleted {item.label}; its charges stop.")
