"""The import step: name the imported model, see the exact CreateModelImportJob request and what
the model will cost, then import it once and follow the import to its end.

The order that makes it safe is core's (`core.importing.launching`): the run, with its names and
client token, is on disk before anything is uploaded or sent; the checked files go to the run's
`model/` folder (identical files skipped); a job of the run's name tagged with its id is
re-attached, never created twice. The import is watched with the one poller; when it completes,
the imported model's ARN, architecture and custom model units are shown and the chat step opens.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Input, Label, ProgressBar, Static
from textual.worker import get_current_worker

from core import format as fmt
from core.aws import partition_of
from core.errors import BedrockTuneError, ValidationError
from core.importing.check import check_model
from core.importing.jobs import ImportJob, check_import_request, get_import_job, import_poller
from core.importing.launching import (
    PENDING,
    import_finished,
    import_request,
    import_role_of,
    launch_import,
    upload_model,
)
from core.importing.role import ensure_import_role, import_role_name
from core.importing.source import local_root, open_source, parse_source
from core.infra.policies import DEFAULT_PREFIX
from core.jobs.customization import new_client_request_token
from core.naming import default_import_job_name, default_imported_model_name
from core.poll import Backoff, PollUpdate
from core.pricing.imports import (
    ImportPrices,
    builtin_import_prices,
    rate_text,
    storage_text,
    window_text,
)
from core.run import Route, Run
from core.statuses import ImportStatus
from core.upload import FileProgress, run_location
from screens.base import StepScreen
from screens.widgets.error_panel import ErrorPanel
from screens.widgets.line import StatusLine
from screens.workers import WorkerResult

if TYPE_CHECKING:
    from core.aws import AwsContext
    from core.registry import Registry


@dataclass
class ImportStarted(WorkerResult):
    """The files are up and the import job exists (created now, or found: a rerun)."""

    run: Run
    reattached: bool


@dataclass
class ImportEnded(WorkerResult):
    """The import completed (the run has the imported model) or failed."""

    run: Run
    job: ImportJob


def planned_model_uri(run: Run) -> str | None:
    """Where the import reads the model: the s3:// source itself, or the run's model folder."""
    if run.model_uri:
        return run.model_uri
    if run.bucket and run.run_id:
        return run_location(run.bucket, run.run_id, run.s3_prefix or DEFAULT_PREFIX).model_uri
    return None


def with_planned_role(run: Run) -> Run:
    """The run with the import role it will use: on route sagemaker-import, before the import
    step has set that role up, the ARN it will have (for the checks and the request shown)."""
    if import_role_of(run) or run.route is not Route.SAGEMAKER_IMPORT or not run.account_id:
        return run
    partition = partition_of(run.region or "")
    arn = f"arn:{partition}:iam::{run.account_id}:role/{import_role_name(run)}"
    return replace(run, import_role_arn=arn)


def _unknown_job(run: Run) -> ImportJob:
    """The run's import as far as the run knows it (when no poll answered yet)."""
    return ImportJob(
        arn=run.import_job_arn or "",
        name=run.import_job_name or "",
        status=run.import_status or ImportStatus.IN_PROGRESS,
        model_name=run.imported_model_name or "",
        model_arn=None,
        model_uri=run.model_uri or "",
        failure_message=None,
        created=None,
        last_modified=None,
        ended=None,
    )


def cost_text(prices: ImportPrices) -> Text:
    """What an imported model costs, each rate with its source and date."""
    window, month = prices.per_window(1), prices.storage_per_month(1)
    text = Text()
    text.append("Cost  ", style="bold")
    each_window = "per custom model unit (CMU) for each 5-minute window a copy is active"
    text.append(
        f"{rate_text(window, each_window)}, nothing while idle; plus "
        f"{rate_text(month, 'per CMU-month of storage')}. Bedrock decides the CMU when the "
        "import ends (e.g. 2 for Llama 3.1 8B).\n"
    )
    for note in prices.notes:
        text.append(f"{note}\n", style="dim")
    text.append("Time  ", style="bold")
    text.append(
        "about 15-18 minutes for an 8B model (the walkthrough); the first call after "
        "an idle spell waits while a copy loads (a cold start)."
    )
    return text


@dataclass
class ImportPricesRead(WorkerResult):
    """The region's custom model unit rates (the Price List's, or the built-in ones)."""

    prices: ImportPrices


IMPORT_PRICES_WORKER = "import-prices"


class ImportScreen(StepScreen):
    """Import the checked model once, and follow the import."""

    STEP_ID = "import"
    STEP_TITLE = "Import"
    CSS_PATH = "styles/importing.tcss"

    BINDINGS = [Binding("ctrl+l", "start_import", "Import", id="start-import")]
    """Ctrl+L (or the Import button) uploads and imports; Ctrl+N goes on to the chat once the
    model is imported."""

    _import_prices: ImportPrices
    _status_shown: tuple[str, ImportStatus] | None = None
    """The import status last brought into view."""
    """The custom model unit rates shown: the built-in ones (said so) until the pricing
    service answers."""

    def compose_body(self) -> ComposeResult:
        self._import_prices = builtin_import_prices(self.host.wizard_run.region or "")
        yield Label("Import the model into Bedrock", classes="step-heading")
        yield Static("", id="import-where")
        # The import's progress right under where it goes (on screen at 80x24), then the name
        # and the request.
        yield ProgressBar(id="import-upload", show_eta=False)
        yield StatusLine(id="import-upload-status")
        yield StatusLine(id="import-status")
        yield StatusLine(id="import-model")
        yield Label("Imported model name", classes="field-label")
        yield Input(id="imported-name")
        yield Static("", id="import-request")
        yield Static(cost_text(self._import_prices), id="import-cost")
        with Horizontal(classes="button-row step-actions"):
            yield Button("Import", id="import", variant="primary")
            yield Button("Chat with it", id="import-chat", disabled=True)

    def on_mount(self) -> None:
        self.query_one("#import-upload").display = False
        self._fill()
        self._read_prices()

    def _read_prices(self) -> None:
        context = self.host.aws_context()
        region = self.host.wizard_run.region or (context.region if context else "")

        def read() -> ImportPricesRead:
            from core.pricing.service import PriceService

            return ImportPricesRead(PriceService(context).import_prices(region))

        self.run_worker(
            read,
            name=IMPORT_PRICES_WORKER,
            group=IMPORT_PRICES_WORKER,
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    @on(ImportPricesRead)
    def _prices_read(self, message: ImportPricesRead) -> None:
        self._import_prices = message.prices
        self.query_one("#import-cost", Static).update(cost_text(message.prices))
        self._show_state()

    def on_screen_resume(self) -> None:
        self._fill()

    def _fill(self) -> None:
        run = self.host.wizard_run
        name = self.query_one("#imported-name", Input)
        if not name.value:
            name.value = run.imported_model_name or default_imported_model_name(
                run.model_source or "model"
            )
        self.query_one("#import-where", Static).update(
            Text.assemble(
                ("Source  ", "bold"),
                f"{run.model_source or '-'}\n",
                ("Reads   ", "bold"),
                f"{planned_model_uri(run) or 'set up the infrastructure first'}\n",
                ("Role    ", "bold"),
                import_role_of(run)
                or (
                    f"{import_role_name(run)} (reused or created when you press Import: trusted "
                    "by Bedrock import jobs, it reads only the model folders)"
                    if run.route is Route.SAGEMAKER_IMPORT
                    else "-"
                ),
            )
        )
        self._show_request()
        self._show_state()
        watching = any(w.group == "watch" and w.is_running for w in self.workers)
        going = run.import_job_arn and not (run.import_status or ImportStatus.IN_PROGRESS).terminal
        if going and not watching:
            self._watch(run)  # an import under way (also after a restart): follow it

    def _names(self) -> Run:
        """The run with the names the import will use (the saved ones once launched)."""
        run = self.host.wizard_run
        if run.import_token is not None and run.import_status is not ImportStatus.FAILED:
            return run
        name = self.query_one("#imported-name", Input).value.strip()
        return replace(
            run,
            imported_model_name=name,
            import_job_name=default_import_job_name(name) if name else None,
        )

    @on(Input.Changed, "#imported-name")
    def _show_request(self) -> None:
        run = with_planned_role(self._names())
        request = import_request(
            replace(run, model_uri=planned_model_uri(run) or "", import_token=PENDING)
        ).to_api()
        self.query_one("#import-request", Static).update(
            Syntax(json.dumps(request, indent=2), "json", theme="ansi_dark", word_wrap=True)
        )

    def _show_state(self) -> None:
        run = self.host.wizard_run
        failed = run.import_status is ImportStatus.FAILED
        # Names are fixed once the token is saved; Import stays possible until the job exists
        # (pressing it again after an interrupted launch re-attaches, never imports twice).
        self.query_one("#imported-name", Input).disabled = (
            run.import_token is not None and not failed
        )
        self.query_one("#import", Button).disabled = run.import_job_arn is not None and not failed
        self.query_one("#import-chat", Button).disabled = run.custom_model_arn is None
        if run.custom_model_arn:
            self._show_model(run)

    # ------------------------------------------------------------------ launch

    def action_start_import(self) -> None:
        """Ctrl+L: import, unless the import is under way or done (said so)."""
        run = self.host.wizard_run
        if any(w.group == "import" and w.is_running for w in self.workers):
            self.notify("The model is being uploaded and the import started.")
            return
        if self.query_one("#import", Button).disabled:
            done = run.import_status is ImportStatus.COMPLETED
            self.notify(
                "The model is imported: chat with it (Ctrl+N)."
                if done
                else "The import is under way: it is followed below."
            )
            return
        self.start_import()

    @on(Button.Pressed, "#import")
    def start_import(self) -> None:
        """Save the names and token, then upload and import in a worker."""
        run = self._names()
        uri = planned_model_uri(run)
        try:
            context = self.require_context()
            if uri is None or not run.role_arn:
                raise ValidationError(
                    "The import has no bucket or role yet.",
                    hint="Set up the infrastructure first (the Infrastructure step).",
                )
            problems = check_import_request(
                import_request(replace(with_planned_role(run), model_uri=uri, import_token=PENDING))
            )
            if problems:
                raise ValidationError(
                    "The import request is not valid:\n" + "\n".join(f"- {p}" for p in problems),
                    hint="Fix the name above; nothing was sent.",
                )
        except BedrockTuneError as error:
            self.show_error(error)
            self.query_one(ErrorPanel).reveal()
            return
        self.clear_error()
        if run.import_status is ImportStatus.FAILED:
            # A new attempt: a new job (the failed one keeps its name), same model name.
            run = replace(run, import_job_arn=None, import_status=None, import_token=None)
        if run.import_token is None:
            run = replace(run, import_token=new_client_request_token())
        self.host.update_run(run)  # the token is saved before anything is sent (worker below)
        self._show_state()
        self.query_one("#import-status", Static).update(Text("Starting the import...", style="dim"))
        self.launch(context, run, self.host.registry())

    @work(thread=True, exclusive=True, exit_on_error=False, group="import", name="launch")
    def launch(self, context: AwsContext, run: Run, registry: Registry) -> ImportStarted:
        """Upload the checked files (skipping identical ones), then create the import once."""
        worker = get_current_worker()
        self.host.save_run_now()  # the names and token are on disk before any call
        if run.route is Route.SAGEMAKER_IMPORT and run.import_role_arn is None:
            # SageMaker's execution role trained the model; the import has its own role.
            run = ensure_import_role(context, run, registry)
            role = run.import_role_arn
            self.app.call_from_thread(
                lambda: self.host.update_run(replace(self.host.wizard_run, import_role_arn=role))
            )
            self.host.save_run_now()
        if run.model_uri is None and run.import_job_arn is None:
            files = open_source(parse_source(run.model_source or ""), context=context)
            report = check_model(files, region=run.region)
            root = local_root(files)
            if not report.ok or root is None:
                raise ValidationError(
                    f"{run.model_source} no longer passes the import check "
                    f"({fmt.plural(len(report.errors), 'error')}).",
                    hint="Open the Import check step, fix what it reports, and import again.",
                )
            self.app.call_from_thread(self._upload_started, report.upload_bytes)
            done: dict[str, int] = {}

            def progress(update: FileProgress) -> None:
                done[update.name] = update.done
                self.app.call_from_thread(self._upload_progress, update, sum(done.values()))

            run = upload_model(
                context,
                run,
                root,
                report.upload,
                registry=registry,
                on_progress=progress,
                cancelled=lambda: worker.is_cancelled,
            )
            self.app.call_from_thread(self.host.update_run, run)
            self.host.save_run_now()
        launched = launch_import(context, run, registry)
        return ImportStarted(launched.run, launched.reattached)

    def _upload_started(self, total: int) -> None:
        bar = self.query_one("#import-upload", ProgressBar)
        bar.display = True
        bar.update(total=total or 1, progress=0)

    def _upload_progress(self, update: FileProgress, done: int) -> None:
        self.query_one("#import-upload", ProgressBar).update(progress=done)
        self.query_one("#import-upload-status", Static).update(
            Text.assemble((update.name, "bold"), f"  {update.describe()}")
        )

    @on(ImportStarted)
    def _started(self, message: ImportStarted) -> None:
        run = message.run
        current = self.host.wizard_run
        self.host.update_run(
            replace(
                current,
                model_uri=run.model_uri,
                import_job_arn=run.import_job_arn,
                import_status=run.import_status,
                custom_model_arn=run.custom_model_arn or current.custom_model_arn,
            )
        )
        verb = "Re-attached to" if message.reattached else "Started"
        self.notify(f"{verb} the import {run.import_job_name}.", title="Import")
        # The files are up (verified): the import's own status takes their place.
        self.query_one("#import-upload").display = False
        self.query_one("#import-upload-status", Static).update("")
        self._show_state()
        self._watch(self.host.wizard_run)

    # ------------------------------------------------------------------ watch

    def _watch(self, run: Run) -> None:
        try:
            context = self.require_context()
        except BedrockTuneError as error:
            self.show_error(error)
            return
        self.watch_import(context, run, self.host.registry(), self.host.launch.poll_interval)

    @work(thread=True, exclusive=True, exit_on_error=False, group="watch", name="watch-import")
    def watch_import(
        self, context: AwsContext, run: Run, registry: Registry, interval: float
    ) -> ImportEnded:
        """Poll the import until it ends (each update shown), then read the imported model.

        When the screen goes away the worker is cancelled: it stops within a poll tick, and a
        cancelled worker's result is never delivered."""
        worker = get_current_worker()
        arn = run.import_job_arn or ""
        poller = import_poller(
            lambda: get_import_job(context, arn), backoff=Backoff.starting_at(interval)
        )
        final = poller.run(
            lambda update: self.app.call_from_thread(self._show_update, update),
            cancelled=lambda: worker.is_cancelled,
        )
        if final is None:  # cancelled: a cancelled worker's result is never delivered
            return ImportEnded(run, poller.last or _unknown_job(run))
        return ImportEnded(import_finished(context, run, final, registry), final)

    def _show_update(self, update: PollUpdate[ImportJob]) -> None:
        if update.error is not None:
            self.show_error(update.error, warning=not update.needs_reauth)
            return
        job = update.value
        if job is None:
            return
        self.clear_error()
        since = ""
        if job.created is not None:
            seconds = time.time() - job.created.timestamp()
            since = f", started {fmt.duration(max(seconds, 0))} ago"
        self.query_one("#import-status", Static).update(
            Text.assemble(("Import  ", "bold"), f"{job.name}: ", (job.status.value, "bold"), since)
        )
        run = self.host.wizard_run
        if run.import_status is not job.status:
            self.host.update_run(replace(run, import_status=job.status))
        if (job.name, job.status) != self._status_shown:
            # A new status is brought into view (at 80x24 it is below the fold), once.
            self._status_shown = (job.name, job.status)
            self._bring_into_view("#import-status")

    def _bring_into_view(self, selector: str) -> None:
        self.call_after_refresh(
            self.query_one(selector).scroll_visible, animate=False, immediate=True
        )

    @on(ImportEnded)
    def _ended(self, message: ImportEnded) -> None:
        done, job = message.run, message.job
        current = self.host.wizard_run
        self.host.update_run(
            replace(
                current,
                import_status=job.status,
                custom_model_arn=done.custom_model_arn,
                model_architecture=done.model_architecture,
                custom_model_units=done.custom_model_units,
            )
        )
        # The outcome is brought into view: the imported model's facts, or why it failed.
        self._bring_into_view("#import-model" if done.custom_model_arn else "#import-status")
        if job.status is ImportStatus.COMPLETED:
            self.query_one("#import-status", Static).update(
                Text.assemble(
                    (f"✔ {job.name}: Completed", "bold green"),
                    ("\nChat with it in the next step (Ctrl+N).", "dim"),
                )
            )
            self.notify("The model is imported: chat with it.", title="Import")
        else:
            self.query_one("#import-status", Static).update(
                Text.assemble(
                    (f"✘ {job.name}: Failed\n", "bold red"),
                    job.failure_message or "no message",
                    (
                        "\nFix the model (the Import check step shows what is wrong), then press "
                        "Import again: a failed import makes no model.",
                        "yellow",
                    ),
                )
            )
        self._show_state()

    def _show_model(self, run: Run) -> None:
        units = run.custom_model_units
        text = Text()
        text.append("Model         ", style="bold")
        text.append(f"{run.custom_model_arn}\n")
        text.append("Architecture  ", style="bold")
        text.append(f"{run.model_architecture or 'unknown'}\n")
        text.append("Model units   ", style="bold")
        text.append(f"{units if units else 'unknown'}")
        if units:
            prices = self._import_prices
            text.append(
                f"  ({window_text(prices.per_window(units))}, "
                f"{storage_text(prices.storage_per_month(units))})",
                style="dim",
            )
        self.query_one("#import-model", Static).update(text)

    @on(Button.Pressed, "#import-chat")
    def _chat(self) -> None:
        self.host.next_step(self.STEP_ID)

    def worker_failed(self, name: str, error: BaseException) -> None:
        if name == IMPORT_PRICES_WORKER:
            return  # the built-in rates stay, and say they are the built-in ones
        if name == "launch":
            self.query_one("#import-status", Static).update(
                Text(
                    "The import did not start. Press Import again: files already up are "
                    "skipped, and an import this run already started is found, not repeated.",
                    style="yellow",
                )
            )
            self._show_state()
        self.show_error(error)
        self.query_one(ErrorPanel).reveal()
