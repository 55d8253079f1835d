"""`bedrock-tune runs`: the runs the local registry holds (from the TUI and the CLI alike), and
`runs forget ID` to take one off the list. Neither touches AWS."""

from __future__ import annotations

import argparse
from typing import Any

from core.errors import NotFoundError
from core.registry import Registry, RunRecord
from tui.cli.common import EXIT_OK, print_json


def register(subparsers: Any) -> None:
    """Add `runs` and `runs forget`."""
    parser = subparsers.add_parser(
        "runs",
        help="list the runs in the local registry, or forget one",
        description="The runs bedrock-tune recorded on this machine (in the app or with the "
        "commands): route, model, status, the job and the resources of each. Reads the local "
        "registry only; nothing is sent to AWS.",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run_list)
    actions = parser.add_subparsers(title="actions", metavar="ACTION")
    forget = actions.add_parser(
        "forget",
        help="remove a run from the list (deletes nothing in AWS)",
        description="Remove a run from the local registry. Nothing in AWS is deleted, and the "
        "resources the run made stay listed for `bedrock-tune teardown`.",
    )
    forget.add_argument("run_id", metavar="ID", help="the run's id (see `bedrock-tune runs`)")
    forget.add_argument("--json", action="store_true", help="print JSON")
    forget.set_defaults(handler=run_forget)


def run_json(record: RunRecord, resources: list[dict[str, str]]) -> dict[str, Any]:
    """One run as `runs --json` prints it."""
    run = record.run
    return {
        "id": record.id,
        "route": record.route.value,
        "model": run.base_model_id,
        "status": record.status.value,
        "target": run.target,
        "region": run.region,
        "account_id": run.account_id,
        "job_name": run.job_name,
        "job_arn": run.job_arn,
        "custom_model_arn": run.custom_model_arn,
        "import_job_name": run.import_job_name,
        "import_job_arn": run.import_job_arn,
        "model_source": run.model_source,
        "serving_arn": run.serving_arn,
        "resources": resources,
        "created": record.created,
        "updated": record.updated,
    }


def run_list(args: argparse.Namespace) -> int:
    """Print every run, most recently updated first."""
    registry = Registry()
    records = registry.runs()
    made: dict[str, list[dict[str, str]]] = {}
    for resource in registry.resources():
        if resource.run_id is not None:
            made.setdefault(resource.run_id, []).append(
                {"kind": resource.kind, "identifier": resource.identifier}
            )
    if args.json:
        print_json([run_json(r, made.get(r.id, [])) for r in records])
        return EXIT_OK
    if not records:
        print(f"No runs recorded yet (registry: {registry.path}).")
        return EXIT_OK
    print(f"{'ID':<14} {'ROUTE':<22} {'STATUS':<10} {'UPDATED':<26} MODEL / JOB")
    for record in records:
        run = record.run
        print(
            f"{record.id:<14} {record.route.value:<22} {record.status.value:<10} "
            f"{record.updated:<26} {run.base_model_id or run.model_source or '-'}"
        )
        for label, value in (
            ("job", run.job_arn or run.job_name),
            ("model", run.custom_model_arn),
            ("serving", run.serving_arn),
        ):
            if value:
                print(f"{'':<14} {label:<8} {value}")
    return EXIT_OK


def run_forget(args: argparse.Namespace) -> int:
    """Remove one run from the registry (exit 2 when there is no such run)."""
    registry = Registry()
    if not registry.forget_run(args.run_id):
        raise NotFoundError(
            f"There is no run '{args.run_id}' in the registry ({registry.path}).",
            title="Unknown run",
            hint="List the runs and their ids with `bedrock-tune runs`.",
        )
    if args.json:
        print_json({"forgot": args.run_id})
    else:
        print(
            f"Forgot run {args.run_id}. Nothing in AWS was deleted; what the run made stays "
            "listed for `bedrock-tune teardown`."
        )
    return EXIT_OK
