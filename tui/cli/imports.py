"""`bedrock-tune import`: bring a model tuned anywhere into Bedrock with Custom Model Import.

- `import check SOURCE`: the pre-import check, reported like `validate` (rule, file, message,
  fix; `--json`; exit 0 ready, 1 not importable, 2 cannot run);
- `import launch SOURCE --name N --role ARN`: check, record the run with its token, upload the
  checked files (a local folder or a Hugging Face download) to the run's `model/` folder, and
  create the import once (a repeated command re-attaches); `--dry-run --json` prints the request;
- `import watch NAME_OR_ARN`: follow the import to its end (exit 0 Completed, 1 Failed), then
  show the imported model's ARN, architecture and custom model units.

SOURCE is a local folder, an `s3://bucket/prefix/` folder, or `hf:org/name[@revision]`.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from time import sleep  # module-level: tests swap in a fake clock's sleep
from typing import Any

from core import format as fmt
from core.importing.check import check_model
from core.importing.jobs import (
    ImportJob,
    ensure_valid_import,
    get_import_job,
    get_imported_model,
    import_poller,
)
from core.importing.launching import (
    PENDING,
    import_finished,
    import_request,
    launch_import,
    resolve_import,
    upload_model,
)
from core.importing.report import ImportCheckReport, ImportProblem
from core.importing.source import (
    DownloadProgress,
    Hub,
    HuggingFaceHub,
    ModelSource,
    local_root,
    open_source,
    parse_source,
)
from core.infra.policies import DEFAULT_PREFIX, default_bucket_name, normalize_prefix
from core.poll import Backoff, Pacing, PollUpdate
from core.pricing.imports import storage_text, window_text
from core.pricing.service import PriceService
from core.registry import Registry
from core.run import Route, Run
from core.statuses import ImportStatus
from core.upload import FileProgress, run_location
from tui.cli.common import EXIT_BAD, EXIT_OK, add_aws_options, aws_context, placed, print_json

SOURCE_HELP = "a folder, s3://bucket/prefix/ or hf:org/name[@revision]"


def hub() -> Hub:
    """The Hugging Face hub (tests replace this function with a fake hub)."""
    return HuggingFaceHub()


def register(subparsers: Any) -> None:
    """Add `import` and its actions."""
    parser = subparsers.add_parser(
        "import",
        help="check and import a model tuned anywhere (Custom Model Import)",
        description="Import a model tuned anywhere into Bedrock: a local folder, an s3:// "
        "folder, or hf:org/name (HF_TOKEN for gated models). `check` finds what Custom Model "
        "Import would refuse before anything is uploaded; `launch` uploads the checked files "
        "and imports them once; `watch` follows the import to its end.",
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)

    check = actions.add_parser(
        "check",
        help="the pre-import check (exit 0 ready, 1 not importable, 2 cannot run)",
        description="Check a model's files against every Custom Model Import rule: config.json, "
        "architecture, safetensors weights and their index, tokenizer, dtype, quantization, "
        "context length and size limits, and which APIs it will answer.",
    )
    add_aws_options(check, suppress=True)
    check.add_argument("source", metavar="SOURCE", help=SOURCE_HELP)
    check.add_argument(
        "--json",
        action="store_true",
        help='print one JSON object: {"ok", "errors", "warnings", "model", "upload", "limits"}',
    )
    check.set_defaults(handler=run_check)

    launch = actions.add_parser(
        "launch",
        help="check, upload and import a model (once; a rerun re-attaches)",
        description="Check the model, record the run (with its client token) in the registry, "
        "upload the checked files to s3://<bucket>/<prefix>/<run>/model/ (not for an s3:// "
        "source), and create the import job. Run it again after a crash: it re-attaches.",
    )
    add_aws_options(launch, suppress=True)
    launch.add_argument("source", metavar="SOURCE", help=SOURCE_HELP)
    launch.add_argument("--name", required=True, help="the imported model's name")
    launch.add_argument(
        "--role",
        required=True,
        help="ARN of the import role (bedrock-tune infra apply --for import makes one)",
    )
    launch.add_argument(
        "--bucket", help="bucket to upload to (default bedrock-tune-<account>-<region>)"
    )
    launch.add_argument(
        "--prefix", default=DEFAULT_PREFIX, help=f"key prefix of run folders ({DEFAULT_PREFIX})"
    )
    launch.add_argument("--run-id", help="the run to launch or re-attach to (default: a new run)")
    launch.add_argument("--token", help="client request token (default: a new one, saved first)")
    launch.add_argument(
        "--dry-run",
        action="store_true",
        help="check and print the CreateModelImportJob request; upload and send nothing",
    )
    launch.add_argument("--json", action="store_true", help="print JSON")
    launch.set_defaults(handler=run_launch)

    watch = actions.add_parser(
        "watch", help="follow an import to its end (exit 0 Completed, 1 Failed)"
    )
    add_aws_options(watch, suppress=True)
    watch.add_argument("job", metavar="NAME_OR_ARN", help="import job name or ARN")
    watch.add_argument(
        "--interval", type=float, default=30.0, help="first poll interval in seconds (30)"
    )
    watch.add_argument("--json", action="store_true", help="print JSON")
    watch.set_defaults(handler=run_watch)


# --------------------------------------------------------------------------- check


def _download_progress(source: ModelSource) -> Any:
    """Download progress on stderr when it is a terminal."""
    tty = sys.stderr.isatty()

    def report(progress: DownloadProgress) -> None:
        if tty and progress.total_bytes:
            percent = progress.done_bytes * 100 // progress.total_bytes
            sys.stderr.write(
                f"\rDownloading {source}: {fmt.size(progress.done_bytes)} / "
                f"{fmt.size(progress.total_bytes)} ({percent}%)   "
            )
            if progress.done_bytes >= progress.total_bytes:
                sys.stderr.write("\n")

    return report


def _checked(
    source: ModelSource, context: Any, region: str | None
) -> tuple[Any, ImportCheckReport]:
    files = open_source(source, context=context, hub=hub(), on_progress=_download_progress(source))
    return files, check_model(files, region=region)


def run_check(args: argparse.Namespace) -> int:
    """Check, print the report (or JSON), return 0 / 1."""
    source = parse_source(args.source)
    region = getattr(args, "region", None)
    if source.kind == "s3":
        with aws_context(args) as context:
            _, report = _checked(source, context, region or context.region)
    else:
        _, report = _checked(source, None, region)
    if args.json:
        print_json(report.to_json())
    else:
        print_report(report)
    return EXIT_OK if report.ok else EXIT_BAD


def _problem_lines(problem: ImportProblem) -> list[str]:
    mark = "✘" if problem.severity == "error" else "!"
    where = f" [{problem.file}]" if problem.file else ""
    lines = [f"  {mark} {problem.rule}{where}: {problem.message}"]
    fix = problem.fix.splitlines()
    lines.append(f"      fix: {fix[0]}")
    lines.extend(f"        {line}" for line in fix[1:])
    return lines


def print_report(report: ImportCheckReport) -> None:
    """The human-readable report."""
    facts = report.facts
    print(f"Checking {report.source} for Custom Model Import")
    if facts.model_type:
        what = facts.family or "unsupported"
        print(f"  architecture  {facts.architecture} (model_type {facts.model_type}: {what})")
    if facts.parameters:
        print(f"  parameters    {facts.parameters:,} in {fmt.plural(facts.shards, 'shard')}")
    if facts.weights_bytes:
        print(f"  weights       {fmt.size(facts.weights_bytes)}, {facts.dtype or 'dtype unknown'}")
    if facts.context_length:
        print(f"  context       {facts.context_length:,} tokens")
    if facts.apis:
        print(f"  answers       {', '.join(facts.apis)}")
    for severity, title in (("error", "Errors"), ("warning", "Warnings")):
        problems = [p for p in report.problems if p.severity == severity]
        if problems:
            print(f"\n{title}")
            for problem in problems:
                for line in _problem_lines(problem):
                    print(line)
    print()
    if report.ok:
        warnings = f" ({fmt.plural(len(report.warnings), 'warning')})" if report.warnings else ""
        print(
            f"✔ Ready to import{warnings}: {fmt.plural(len(report.upload), 'file')}, "
            f"{fmt.size(report.upload_bytes)}."
        )
    else:
        print(
            f"✘ Not importable: {fmt.plural(len(report.errors), 'error')}, "
            f"{fmt.plural(len(report.warnings), 'warning')}."
        )


# --------------------------------------------------------------------------- launch


def _upload_progress() -> Any:
    tty = sys.stderr.isatty()

    def report(progress: FileProgress) -> None:
        if tty or progress.state in ("done", "skipped"):
            sys.stderr.write(f"{progress.name}: {progress.describe()}\n")

    return report


def run_launch(args: argparse.Namespace) -> int:
    """Check, record the run with its token, upload, and import once."""
    source = parse_source(args.source)
    registry = Registry()
    with aws_context(args) as context:
        identity = context.whoami()
        files, report = _checked(source, context, context.region)
        if not report.ok:
            if args.json:
                print_json(report.to_json())
            else:
                print_report(report)
            sys.stderr.write("Nothing was uploaded or imported: fix the errors above first.\n")
            return EXIT_BAD
        wanted = placed(
            Run(
                run_id=args.run_id,
                route=Route.IMPORT_ONLY,
                model_source=str(source),
                model_checked_ok=True,
                model_architecture=report.facts.model_type,
                role_arn=args.role,
                bucket=None
                if source.kind == "s3"
                else args.bucket or default_bucket_name(identity.account, context.region),
                s3_prefix=normalize_prefix(args.prefix),
                model_uri=source.location if source.kind == "s3" else None,
                imported_model_name=args.name,
                import_token=args.token,
            ),
            context,
            identity,
            args,
        )
        run = resolve_import(registry.runs(), wanted)
        planned = (
            run.model_uri
            or run_location(
                run.bucket or "", run.run_id or "", run.s3_prefix or DEFAULT_PREFIX
            ).model_uri
        )
        if args.dry_run:
            request = import_request(replace(run, model_uri=planned, import_token=PENDING))
            ensure_valid_import(request)
            print_json({"operation": "CreateModelImportJob", "request": request.to_api()})
            return EXIT_OK
        ensure_valid_import(import_request(replace(run, model_uri=planned)))
        run_id = run.run_id
        assert run_id is not None  # resolve_import always names the run
        registry.save_run(run_id, run)  # before anything is sent: a rerun finds the token
        root = local_root(files)
        if source.kind != "s3" and run.import_job_arn is None:
            assert root is not None
            run = upload_model(
                context, run, root, report.upload, registry=registry, on_progress=_upload_progress()
            )
            registry.save_run(run_id, run)
        launched = launch_import(context, run, registry)
        registry.save_run(run_id, launched.run)
    done = launched.run
    if args.json:
        print_json(
            {
                "run_id": done.run_id,
                "import_job_arn": done.import_job_arn,
                "import_job_name": done.import_job_name,
                "imported_model_name": done.imported_model_name,
                "model_uri": done.model_uri,
                "client_request_token": done.import_token,
                "reattached": launched.reattached,
            }
        )
    else:
        verb = "Re-attached to" if launched.reattached else "Started"
        print(f"{verb} the import {done.import_job_name} (run {done.run_id})")
        print(f"  ARN     {done.import_job_arn}\n  model   {done.imported_model_name}")
        print(f"  from    {done.model_uri}")
        if launched.reattached:
            print("  The import already existed (this run had started it): no second import.")
        print(f"Follow it with: bedrock-tune import watch {done.import_job_name}")
    return EXIT_OK


# --------------------------------------------------------------------------- watch


def _report(update: PollUpdate[ImportJob]) -> None:
    if update.error is not None:
        sys.stderr.write(f"(status check failed, retrying: {update.error.describe()})\n")
    elif update.changed and update.value is not None:
        sys.stderr.write(f"{update.value.name}: {update.value.status.value}\n")


def run_watch(args: argparse.Namespace) -> int:
    """Follow the import; on completion, record and show the imported model."""
    registry = Registry()
    with aws_context(args) as context:
        poller = import_poller(
            lambda: get_import_job(context, args.job),
            backoff=Backoff.starting_at(args.interval),
            pacing=Pacing(sleep=sleep),
        )
        final = poller.run(_report)
        assert final is not None  # never cancelled: run returns once the import has ended
        saved = next(
            (
                r
                for r in registry.runs()
                if final.arn == r.run.import_job_arn or final.name == r.run.import_job_name
            ),
            None,
        )
        model = None
        region = (saved.run.region if saved else None) or context.region
        prices = PriceService(context).import_prices(region)
        if saved is not None:
            run = import_finished(context, saved.run, final, registry, prices)
            registry.save_run(saved.id, run)
        if final.status is ImportStatus.COMPLETED and final.model_arn:
            model = get_imported_model(context, final.model_arn)
    units = model.units if model is not None else None
    window = prices.per_window(units) if units else None
    month = prices.storage_per_month(units) if units else None
    data: dict[str, Any] = {
        "job_arn": final.arn,
        "job_name": final.name,
        "status": final.status.value,
        "failure_message": final.failure_message,
        "imported_model_arn": model.arn if model else None,
        "imported_model_name": final.model_name,
        "architecture": model.architecture if model else None,
        "custom_model_units": units,
        "per_window_usd": window.amount if window else None,
        "storage_per_month_usd": month.amount if month else None,
        "price_source": window.source if window else None,
        "prices_as_of": window.as_of if window else None,
        "storage_price_source": month.source if month else None,
        "storage_prices_as_of": month.as_of if month else None,
    }
    if args.json:
        print_json(data)
    elif model is not None:
        print(f"{final.name}: Completed\n  model          {model.arn}")
        print(f"  architecture   {model.architecture}\n  model units    {units}")
        if window is not None and month is not None:
            print(f"  costs          {window_text(window)}, {storage_text(month)}")
            for note in prices.notes:
                print(f"  note           {note}")
        print(f"Chat with it: bedrock-tune chat {model.arn}")
    else:
        print(f"{final.name}: {final.status.value}")
        if final.failure_message:
            print(f"  failure  {final.failure_message}")
            print(
                "  fix      run `bedrock-tune import check` on the source, fix what it "
                "reports, and launch again under another --name"
            )
    return EXIT_OK if final.status is ImportStatus.COMPLETED else EXIT_BAD
