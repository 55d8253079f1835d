"""An import-only run: its status, where a restart lands, re-attaching an import whose ARN was
never saved, and the default names."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from core.aws import AwsContext
from core.importing.check import check_model
from core.importing.launching import launch_import, resolve_import, upload_model
from core.importing.source import open_folder
from core.importing.tiny import write_tiny_model
from core.naming import default_import_job_name, default_imported_model_name
from core.registry import Registry, RunRecord
from core.resume import reattach
from core.run import Route, Run
from core.run.routes import landing_step
from core.run.status import RunStatus, run_status
from core.sandbox.server import SANDBOX_ACCOUNT_ID, Sandbox
from core.statuses import ImportStatus

STARTED = Run(
    run_id="r1",
    route=Route.IMPORT_ONLY,
    import_job_name="bt-sql-import",
    import_token="tok",
)


def test_an_import_runs_status() -> None:
    assert run_status(Run(route=Route.IMPORT_ONLY, model_source="/m")) is RunStatus.NEW
    assert run_status(STARTED) is RunStatus.IMPORTING
    arn = replace(STARTED, import_job_arn="arn:j", import_status=ImportStatus.IN_PROGRESS)
    assert run_status(arn) is RunStatus.IMPORTING
    assert run_status(replace(arn, import_status=ImportStatus.COMPLETED)) is RunStatus.IMPORTED
    assert run_status(replace(arn, import_status=ImportStatus.FAILED)) is RunStatus.FAILED


def test_a_restart_lands_on_the_import_step_while_it_runs() -> None:
    assert landing_step(STARTED) == "import"
    record = RunRecord("r1", "", "", STARTED)
    assert record.resumable and record.in_progress
    done = replace(STARTED, import_job_arn="arn:j", import_status=ImportStatus.COMPLETED)
    assert not RunRecord("r1", "", "", done).resumable


def test_default_names_fit_the_api() -> None:
    assert default_imported_model_name("hf:acme/sql-llama-3.1@main") == "bt-sql-llama-3-1"
    assert default_imported_model_name("/models/out/") == "bt-out"
    name = default_import_job_name("bt-" + "x" * 80, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert len(name) <= 63 and name.endswith("-import-20260102-030405")


def test_reattach_finds_an_import_whose_arn_was_never_saved(tmp_path: Path) -> None:
    with Sandbox(import_seconds=60) as sandbox:
        context = AwsContext.for_endpoint(sandbox.endpoint_url, sandbox.credentials, "us-east-1")
        context.client("s3").create_bucket(Bucket="bt-imports")
        folder = write_tiny_model(tmp_path / "model")
        wanted = Run(
            route=Route.IMPORT_ONLY,
            target="sandbox",
            region="us-east-1",
            endpoint_url=sandbox.endpoint_url,
            account_id=SANDBOX_ACCOUNT_ID,
            model_source=str(folder),
            role_arn=f"arn:aws:iam::{SANDBOX_ACCOUNT_ID}:role/r",
            bucket="bt-imports",
        )
        registry = Registry(tmp_path / "state")
        run = resolve_import(registry.runs(), wanted)
        run = upload_model(context, run, folder, check_model(open_folder(str(folder))).upload)
        launched = launch_import(context, run).run
        back = reattach(run)  # the run as saved before CreateModelImportJob answered
        assert back.run.import_job_arn == launched.import_job_arn
        assert back.run.import_status is ImportStatus.IN_PROGRESS
        assert back.step == "import"
