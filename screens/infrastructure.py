"""The infrastructure step: the plan first (bucket, role, KMS key, each marked create / reuse /
update, with the exact policy JSON), then Create with a log of every call as it happens, then the
upload of the prepared files with a progress bar per file and Cancel.

A reused bucket or role is checked; what is wrong with it is explained, with a button that fixes
it (update the trust policy, add the S3 permissions, fix the bucket settings). On success the run
gets the bucket, the role ARN and the data URIs, so the launch step is filled in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rich.console import Group
from rich.syntax import Syntax
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Log, ProgressBar, Static
from textual.worker import Worker, WorkerState, get_current_worker

from core import format as fmt
from core.catalog.lookup import distillation_teachers
from core.data.prepared import PreparedDir
from core.errors import BedrockTuneError
from core.importing.launching import model_sources, role_purpose
from core.infra.plan import (
    DEFAULT_PREFIX,
    POLICY_NAME,
    InfraEvent,
    InfraPlan,
    InfraResult,
    ResourcePlan,
    Verification,
    apply,
    default_bucket_name,
    default_role_name,
    plan,
    verify,
)
from core.run import Route
from core.upload import (
    FileProgress,
    UploadCancelled,
    UploadResult,
    upload_prepared,
)
from screens.base import StepScreen
from screens.export import ExportScreen
from screens.workers import WorkerResult

_BADGES = {"create": "bold green", "reuse": "bold cyan", "update": "bold yellow"}


@dataclass
class PlanReady(WorkerResult):
    """What exists was read and what to do decided, for these field values (nothing changed)."""

    fields: dict[str, str | None]
    plan: InfraPlan


@dataclass
class PlanApplied(WorkerResult):
    """The plan (or only its fixes) was applied, read back and planned again."""

    result: InfraResult
    verification: Verification
    replanned: InfraPlan
    whole: bool
    """The whole plan was applied (not only the fix of the bucket or the role)."""


@dataclass
class UploadDone(WorkerResult):
    """The prepared files are in the bucket."""

    result: UploadResult


def _fix_label(resource: ResourcePlan) -> str:
    operations = {c.operation for c in resource.changes}
    if resource.kind == "iam-role":
        if "iam:UpdateAssumeRolePolicy" in operations:
            return "Update the trust policy"
        return "Add the S3 permissions"
    return "Fix the bucket settings"


class InfrastructureScreen(StepScreen):
    """Plan, create and verify the bucket and the role, then upload the prepared files."""

    STEP_ID = "infrastructure"
    STEP_TITLE = "Infrastructure"
    CSS_PATH = "styles/infrastructure.tcss"

    BINDINGS = [
        Binding("ctrl+r", "create", "Create", id="create-infrastructure"),
        Binding("ctrl+r", "upload", "Upload", id="upload-data"),
        Binding("ctrl+g", "export_code", "Export code", id="export-code"),
    ]
    """Ctrl+R does what comes next: Create what the plan shows, then Upload (the footer shows
    which); Enter in a field plans again."""

    def __init__(self) -> None:
        super().__init__()
        self._plan: InfraPlan | None = None
        self._planned_fields: dict[str, str | None] = {}
        self._ready_for_upload = False
        self._rows: dict[str, int] = {}

    def compose_body(self) -> ComposeResult:
        yield Label("Where the data goes, and who may read it", classes="step-heading")
        yield Static(
            "bedrock-tune needs an S3 bucket in the job's region and a service role Bedrock can "
            "assume. Nothing is made until you press Create; the plan below shows every call "
            "and the exact policies.",
            classes="step-intro",
        )
        with Horizontal(id="infra-fields", classes="fields"):
            with Vertical(classes="infra-field"):
                yield Label("S3 bucket", classes="field-label")
                yield Input(id="bucket")
            with Vertical(classes="infra-field"):
                yield Label("Service role", classes="field-label")
                yield Input(id="role")
            with Vertical(classes="infra-field"):
                yield Label("KMS key (optional)", classes="field-label")
                yield Input(id="kms-key", placeholder="empty: SSE-S3")
            with Vertical(classes="infra-field"):
                yield Label("Key prefix", classes="field-label")
                yield Input(id="prefix", value=DEFAULT_PREFIX)
        # The plan, its log and the upload on the left; the policies' JSON beside them (below
        # them on a narrow screen): the upload stays in view at 160x50.
        with Horizontal(id="infra-columns", classes="columns"):
            with Vertical(id="infra-main"):
                yield Static("", id="plan-view")
                with Horizontal(id="infra-actions", classes="button-row"):
                    yield Button("Create", id="create", variant="primary", disabled=True)
                    yield Button("Fix the bucket settings", id="fix-bucket", variant="warning")
                    yield Button("Update the trust policy", id="fix-role", variant="warning")
                    yield Button("Plan again", id="plan")
                yield Log(id="infra-log", auto_scroll=True)
                # An import-only run uploads in its import step.
                with Vertical(id="upload-section"):
                    yield Label("Upload the prepared files", classes="field-label")
                    yield Vertical(id="upload-files")
                    yield Static("", id="upload-status")
                    with Horizontal(classes="button-row"):
                        yield Button("Upload", id="upload", variant="primary", disabled=True)
                        yield Button("Cancel", id="cancel-upload", disabled=True)
            with Vertical(id="infra-policies"):
                yield Label("Policies", classes="field-label")
                yield Static("", id="plan-json")

    # Textual also calls StepScreen's own on_mount / on_screen_resume (it dispatches along the
    # class hierarchy), so these handlers only add what this step needs.
    @on(events.Mount)
    def _infra_mounted(self) -> None:
        self._fill_fields()

    @on(events.ScreenResume)
    def _infra_resumed(self) -> None:
        if self._plan is None:
            self._fill_fields()

    def _fill_fields(self) -> None:
        run = self.host.wizard_run
        if run.account_id is None or run.region is None:
            return
        bucket = self.query_one("#bucket", Input)
        role = self.query_one("#role", Input)
        bucket.value = bucket.value or run.bucket or default_bucket_name(run.account_id, run.region)
        role.value = role.value or (
            run.role_arn.rsplit("/", 1)[-1]
            if run.role_arn
            else default_role_name(run.region, role_purpose(run))
        )
        importing = run.route is Route.IMPORT_ONLY
        self.query_one("#upload-section").display = not importing
        if role_purpose(run) == "sagemaker":
            self.query_one(".step-intro", Static).update(
                "bedrock-tune needs an S3 bucket in the job's region and the SageMaker execution "
                "role SageMaker's jobs and endpoints assume, which reads only the run's data and "
                "writes only its output. Nothing is made until you press Create; the plan below "
                "shows every call and the exact policies."
            )
        if importing:
            self.query_one(".step-intro", Static).update(
                "bedrock-tune needs an S3 bucket in the import's region (the model files go "
                "there) and a service role Bedrock's import jobs can assume, which only reads "
                "the model folders. Nothing is made until you press Create; the plan below shows "
                "every call and the exact policies."
            )
        kms = self.query_one("#kms-key", Input)
        kms.value = kms.value or run.kms_key_id or ""
        self._ready_for_upload = bool(run.bucket and run.role_arn)
        self._show_files()
        self._start_plan()

    def _show_files(self) -> None:
        box = self.query_one("#upload-files", Vertical)
        box.remove_children()
        self._rows = {}
        prepared = self.host.wizard_run.prepared_dir
        try:
            files = PreparedDir(Path(prepared)).upload_files() if prepared else []
        except BedrockTuneError as error:
            self.query_one("#upload-status", Static).update(Text(error.message, style="red"))
            files = []
        for index, path in enumerate(files):
            self._rows[path.name] = index
            size = path.stat().st_size
            box.mount(
                Horizontal(
                    Label(path.name, classes="upload-name"),
                    ProgressBar(total=size, show_eta=False, id=f"upload-bar-{index}"),
                    Static(fmt.size(size), id=f"upload-stats-{index}", classes="upload-stats"),
                    classes="upload-row",
                )
            )
        self._refresh_buttons()

    # ------------------------------------------------------------------ the plan

    def _fields(self) -> dict[str, str | None]:
        def value(selector: str) -> str:
            return self.query_one(selector, Input).value.strip()

        return {
            "bucket": value("#bucket") or None,
            "role": value("#role") or None,
            "kms_key": value("#kms-key") or None,
            "prefix": value("#prefix") or DEFAULT_PREFIX,
        }

    @on(Input.Submitted)
    @on(Button.Pressed, "#plan")
    def _start_plan(self) -> None:
        if self.host.aws_context() is None:
            return
        self.clear_error()
        self._plan = None
        self._refresh_buttons()
        self.query_one("#plan-view", Static).update(Text("Reading what exists...", style="dim"))
        self.make_plan(self._fields())

    @on(Input.Changed, "#bucket, #role, #kms-key, #prefix")
    def _fields_changed(self) -> None:
        if self._plan is not None and self._fields() != self._planned_fields:
            self._plan = None
            self.query_one("#plan-view", Static).update(
                Text("The names changed: press Enter or Plan again.", style="yellow")
            )
            self._refresh_buttons()

    @work(thread=True, exclusive=True, exit_on_error=False, group="infra", name="plan")
    def make_plan(self, fields: dict[str, str | None]) -> PlanReady:
        """Read the bucket, the role and the key, and decide what to do (no changes)."""
        context = self.host.aws_context()
        run = self.host.wizard_run
        if context is None or run.account_id is None or run.region is None:
            raise BedrockTuneError("No AWS context.", hint="Check your credentials first.")
        shown = plan(
            context,
            run.account_id,
            run.region,
            bucket=fields["bucket"],
            role=fields["role"],
            kms_key=fields["kms_key"],
            prefix=fields["prefix"] or DEFAULT_PREFIX,
            principal_arn=run.principal_arn,
            registry=self.host.registry(),
            teachers=distillation_teachers(run.base_model_id, run.customization_type),
            purpose=role_purpose(run),
            model_sources=model_sources(run),
        )
        return PlanReady(fields, shown)

    @on(PlanReady)
    def _plan_ready(self, message: PlanReady) -> None:
        self._planned_fields = message.fields
        self._plan = message.plan
        self._show_plan(message.plan)
        self._refresh_buttons()

    def _show_plan(self, shown: InfraPlan) -> None:
        text = Text()
        for resource, label in ((shown.bucket, "S3 bucket"), (shown.role, "IAM role")):
            text.append(f"{label:<11}", style="bold")
            text.append(f"{resource.name}  ")
            text.append(resource.action.upper(), style=_BADGES[resource.action])
            if resource.action != "create" and resource.created_by_us:
                text.append("  (made by bedrock-tune)", style="dim")
            text.append("\n")
            for problem in resource.problems:
                text.append(f"  ! {problem}\n", style="yellow")
            for change in resource.changes:
                text.append(f"  • {change.operation}", style="bold")
                text.append(f"  {change.summary}\n")
        preflight = shown.preflight
        if preflight.checked and preflight.denied:
            text.append(
                "\nThe IAM policy simulator says you may not: "
                + ", ".join(preflight.denied)
                + ". Ask an administrator, or Create and see which call is refused.\n",
                style="yellow",
            )
        elif not preflight.checked:
            text.append(f"\nYour permissions were not checked: {preflight.note}.\n", style="dim")
        for note in shown.notes:
            text.append(f"{note}\n", style="dim")
        for blocker in shown.blockers:
            text.append(f"\n✗ {blocker}\n", style="bold red")
        if shown.ready and not shown.changes:
            text.append("\nEverything exists as it should: nothing to create.\n", style="green")
        self.query_one("#plan-view", Static).update(text)
        documents: list[Any] = []
        for resource in (shown.bucket, shown.role):
            for title, document in resource.documents.items():
                name = (
                    f"{title} (inline, {POLICY_NAME})" if title == "permissions policy" else title
                )
                documents.append(Text(f"{resource.name}: {name}", style="bold"))
                documents.append(
                    Syntax(
                        json.dumps(document, indent=2), "json", theme="ansi_dark", word_wrap=True
                    )
                )
        self.query_one("#plan-json", Static).update(Group(*documents))

    def _refresh_buttons(self) -> None:
        shown = self._plan
        create = self.query_one("#create", Button)
        create.disabled = shown is None or not shown.ready
        if shown is not None:
            actions = {shown.bucket.action, shown.role.action}
            create.label = (
                "Create"
                if "create" in actions
                else "Apply the changes"
                if shown.changes
                else "Use them"
            )
        for button_id, resource in (
            ("#fix-bucket", shown.bucket if shown else None),
            ("#fix-role", shown.role if shown else None),
        ):
            button = self.query_one(button_id, Button)
            fixable = resource is not None and resource.fixable and bool(shown and shown.ready)
            button.display = fixable
            if fixable and resource is not None:
                button.label = _fix_label(resource)
        ready = self._ready_for_upload and bool(self._rows)
        uploading = any(w.group == "upload" and w.is_running for w in self.workers)
        self.query_one("#upload", Button).disabled = not ready or uploading
        self.query_one("#cancel-upload", Button).disabled = not uploading
        self.refresh_bindings()  # Ctrl+R's meaning (Create or Upload) follows

    # ------------------------------------------------------------------ create

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Ctrl+R is Create until the bucket and the role are ready, then Upload.
        if action == "upload":
            return self._upload_next()
        if action == "create":
            return not self._upload_next()
        return True

    def _upload_next(self) -> bool:
        """Whether the upload is the next thing to do: the infrastructure is ready, the plan
        has nothing left to create, and the files are not all up yet."""
        if not (self._ready_for_upload and self._rows):
            return False
        create = self.query("#create").first(Button) if self.query("#create") else None
        nothing_to_make = create is None or create.disabled or str(create.label) == "Use them"
        return nothing_to_make and self.host.wizard_run.training_uri is None

    def action_export_code(self) -> None:
        """Show the run as code (boto3, AWS CLI, IAM, CloudFormation) in a dialog."""
        self.app.push_screen(ExportScreen(self.host.wizard_run))

    @on(Button.Pressed, "#create")
    def action_create(self) -> None:
        """Create (or reuse, or update) the bucket and the role as the plan shows."""
        if any(w.group == "infra" and w.is_running for w in self.workers):
            return  # planning or applying: its result enables the button
        if self.query_one("#create", Button).disabled:
            self.notify(
                "Nothing to create yet: the plan is being read, or it has a blocker.",
                severity="warning",
            )
            return
        self._start_apply(None)

    @on(Button.Pressed, "#fix-bucket")
    def _fix_bucket(self) -> None:
        self._start_apply({"s3-bucket"})

    @on(Button.Pressed, "#fix-role")
    def _fix_role(self) -> None:
        self._start_apply({"iam-role"})

    def _start_apply(self, only: set[str] | None) -> None:
        if self._plan is None or not self._plan.ready:
            return
        self.clear_error()
        for button_id in ("#create", "#fix-bucket", "#fix-role"):
            self.query_one(button_id, Button).disabled = True
        self.query_one("#infra-log", Log).write_line(
            "Applying the plan..." if only is None else f"Fixing the {', '.join(sorted(only))}..."
        )
        self.apply_plan(self._plan, only)

    @work(thread=True, exclusive=True, exit_on_error=False, group="infra", name="apply")
    def apply_plan(self, shown: InfraPlan, only: set[str] | None) -> PlanApplied:
        """Apply (each call logged as it happens), read everything back, and plan again."""
        context = self.require_context()
        run = self.host.wizard_run

        def logged(event: InfraEvent) -> None:
            self.app.call_from_thread(self._log_event, event)

        result = apply(context, shown, self.host.registry(), run.run_id, logged, only=only)
        checked = verify(
            context,
            shown.account_id,
            shown.region,
            bucket=shown.bucket.name,
            role=shown.role.name,
            kms_key_arn=shown.data_key_arn,
            prefix=shown.prefix,
            purpose=shown.purpose,
            model_sources=model_sources(run),
        )
        again = plan(
            context,
            shown.account_id,
            shown.region,
            bucket=shown.bucket.name,
            role=shown.role.name,
            kms_key=shown.kms_key_arn,
            prefix=shown.prefix,
            principal_arn=run.principal_arn,
            registry=self.host.registry(),
            preflight_check=False,
            purpose=shown.purpose,
            model_sources=model_sources(run),
        )
        return PlanApplied(result, checked, again, whole=only is None)

    def _log_event(self, event: InfraEvent) -> None:
        self.query_one("#infra-log", Log).write_line(event.describe())

    # ------------------------------------------------------------------ upload

    @on(Button.Pressed, "#upload")
    def action_upload(self) -> None:
        """Upload the prepared files to the bucket."""
        if any(w.group == "upload" and w.is_running for w in self.workers):
            return
        run = self.host.wizard_run
        if self.query_one("#upload", Button).disabled or not (
            run.bucket and run.prepared_dir and run.run_id
        ):
            self.notify("Create the bucket and the role first (Ctrl+R).", severity="warning")
            return
        self.clear_error()
        self.query_one("#upload-status", Static).update("Uploading...")
        self.upload_files(Path(run.prepared_dir), run.bucket, run.run_id, self._fields()["prefix"])
        self._refresh_buttons()

    @work(thread=True, exclusive=True, exit_on_error=False, group="upload", name="upload")
    def upload_files(
        self, directory: Path, bucket: str, run_id: str, prefix: str | None
    ) -> UploadDone:
        """Upload with progress per file; Cancel aborts the unfinished file."""
        worker = get_current_worker()
        context = self.require_context()
        run = self.host.wizard_run
        uploaded = upload_prepared(
            context,
            directory,
            bucket,
            run_id,
            prefix=prefix or DEFAULT_PREFIX,
            region=run.region,
            account_id=run.account_id or "",
            registry=self.host.registry(),
            on_progress=lambda update: self.app.call_from_thread(self._progress, update),
            cancelled=lambda: worker.is_cancelled,
        )
        return UploadDone(uploaded)

    def _progress(self, update: FileProgress) -> None:
        index = self._rows.get(update.name)
        if index is None:
            return
        self.query_one(f"#upload-bar-{index}", ProgressBar).update(
            total=update.total or 1, progress=update.done if update.total else 1
        )
        self.query_one(f"#upload-stats-{index}", Static).update(update.describe())

    @on(Button.Pressed, "#cancel-upload")
    def _cancel_upload(self) -> None:
        for worker in self.workers:
            if worker.group == "upload":
                worker.cancel()
        self.query_one("#upload-status", Static).update(
            Text(
                "Cancelled: the unfinished file was aborted (no partial object is left). "
                "Upload again to finish; files already up are skipped.",
                style="yellow",
            )
        )
        self.call_after_refresh(self._refresh_buttons)

    # ------------------------------------------------------------------ results

    @on(Worker.StateChanged)
    def _worker_cancelled(self, event: Worker.StateChanged) -> None:
        # StepScreen's handler reports success and failure; a cancelled upload only needs the
        # buttons back (Upload resumes it).
        if event.state == WorkerState.CANCELLED:
            self._refresh_buttons()

    @on(PlanApplied)
    def _plan_applied(self, message: PlanApplied) -> None:
        done, checked, again = message.result, message.verification, message.replanned
        self._plan = again
        self._planned_fields = self._fields()
        self._show_plan(again)
        log = self.query_one("#infra-log", Log)
        for failure in checked.failures():
            log.write_line(f"✗ check failed: {failure.name} {failure.detail}".rstrip())
        if message.whole and checked.ok:
            log.write_line("✓ Everything is in place and read back as planned.")
            self.host.update_run(
                replace(
                    self.host.wizard_run,
                    bucket=done.bucket,
                    s3_prefix=again.prefix,
                    role_arn=done.role_arn,
                    kms_key_id=done.kms_key_arn,
                )
            )
            self._ready_for_upload = True
            self.notify(f"Bucket {done.bucket} and role {done.role_name} ready.")
            if self.host.wizard_run.route is Route.IMPORT_ONLY:
                self.host.next_step(self.STEP_ID)  # nothing to upload here: on to the import
            else:
                self.call_after_refresh(self.query_one("#upload", Button).scroll_visible)
        self._refresh_buttons()

    @on(UploadDone)
    def _uploaded(self, message: UploadDone) -> None:
        result = message.result
        self.host.update_run(result.applied_to(self.host.wizard_run))
        status = Text("✔ Uploaded. Training data: ", style="green")
        status.append(result.training_uri, style="bold")
        status.append(f"\nThe job writes its output to {result.output_uri}", style="dim")
        self.query_one("#upload-status", Static).update(status)
        self.notify("Data uploaded: the launch step is filled in.", title="Upload")
        self._refresh_buttons()

    def worker_failed(self, name: str, error: BaseException) -> None:
        if name == "upload":
            message = (
                "Upload cancelled." if isinstance(error, UploadCancelled) else "Upload failed."
            )
            self.query_one("#upload-status", Static).update(
                Text(f"{message} No partial object is left; upload again to finish.", style="red")
            )
        if name == "plan":
            self.query_one("#plan-view", Static).update("")
        if name == "apply":
            self.query_one("#infra-log", Log).write_line("✗ stopped; nothing more was changed.")
        self.show_error(error)
        self._refresh_buttons()
