"""Export a run as code: a boto3 script, an AWS CLI script, the IAM documents, or a
CloudFormation template, all rendered from one description of the steps (`steps.export_plan`).

`export_text(run, fmt)` is the whole export; `run_for_export(reference, registry)` reads what
`bedrock-tune export` is given: a run id from the registry or a recipe file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from core.atomic import atomic_write_text
from core.errors import NotFoundError
from core.export.boto3_script import boto3_script
from core.export.cli_script import cli_script
from core.export.cloudformation import cloudformation_template
from core.export.iam import iam_json
from core.export.steps import export_plan
from core.export.types import ExportError, ExportPlan
from core.recipe import ACCOUNT, load_recipe
from core.registry import Registry
from core.run.types import Run

__all__ = [
    "FORMATS",
    "ExportError",
    "ExportFormat",
    "ExportPlan",
    "export_plan",
    "export_text",
    "run_for_export",
    "suggested_name",
    "write_export",
]

ExportFormat = Literal["boto3", "cli", "iam", "cloudformation"]
FORMATS: tuple[ExportFormat, ...] = get_args(ExportFormat)
_SUFFIXES: dict[ExportFormat, str] = {
    "boto3": ".py",
    "cli": ".sh",
    "iam": ".iam.json",
    "cloudformation": ".cfn.yaml",
}
FORMAT_LABELS: dict[ExportFormat, str] = {
    "boto3": "Python script (boto3)",
    "cli": "Shell script (AWS CLI)",
    "iam": "IAM policy documents (JSON)",
    "cloudformation": "CloudFormation template (bucket and role)",
}


def export_text(run: Run, fmt: ExportFormat, source: str = "") -> str:
    """The export of `run` in `fmt`; `source` says where it came from (for the header).

    Raises:
        ExportError: the run cannot be exported (another route, no base model, a VPC).
    """
    where = source or (f"run {run.run_id}" if run.run_id else "a bedrock-tune run")
    plan = export_plan(run)
    if fmt == "boto3":
        return boto3_script(plan, where)
    if fmt == "cli":
        return cli_script(plan, where)
    if fmt == "iam":
        return iam_json(plan, where)
    return cloudformation_template(plan, where)


def suggested_name(run: Run, fmt: ExportFormat) -> str:
    """A file name for the export: `bedrock-tune-<run id>.py`."""
    return f"bedrock-tune-{run.run_id or 'run'}{_SUFFIXES[fmt]}"


def write_export(path: Path, text: str, fmt: ExportFormat) -> None:
    """Write an export to `path` atomically (never half-written); scripts are made executable."""
    atomic_write_text(path, text, mode=0o755 if fmt in ("boto3", "cli") else 0o644)


def run_for_export(reference: str, registry: Registry) -> tuple[Run, str]:
    """The run `reference` names, and how to name it in the export's header: a recipe file
    (when a file of that name exists, or it ends in .toml), else a run id of the registry.

    Raises:
        RecipeError: the recipe cannot be read, with the line.
        NotFoundError: no such file or run.
        RegistryError: the registry cannot be read.
    """
    path = Path(reference).expanduser()
    if path.is_file() or reference.endswith(".toml"):
        # `{account_id}` stays a placeholder: the export asks the account when it runs.
        return load_recipe(path).run_for(ACCOUNT), f"recipe {path.name}"
    record = registry.get_run(reference)
    if record is None:
        raise NotFoundError(
            f"'{reference}' is neither a recipe file nor a run in the registry ({registry.path}).",
            title="Unknown run",
            hint="Give a run id (see `bedrock-tune runs`) or the path of a recipe (.toml).",
        )
    return record.run, f"run {record.id}"
