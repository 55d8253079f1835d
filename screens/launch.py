"""Launch the customization job: names, data locations, the model's hyperparameters as a form
checked as you type, optional KMS / VPC / tags, and the exact request before the button.

The form is the run's launch fields: the request is built from the run the form describes
(`core.jobs.launching.job_request`), exactly as `bedrock-tune jobs launch` builds it from flags.
The client request token is created and saved with the run before CreateModelCustomizationJob is
called, so a retry (or a crash and a restart) can never start a second job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, Static

from core import format as fmt
from core.catalog.lookup import find_model
from core.catalog.types import BaseModel, Customization, CustomizationType
from core.data.prepared import PreparedDir
from core.errors import BedrockTuneError, ValidationError
from core.estimate import TokenCount, count_file_tokens, estimate
from core.jobs.customization import (
    JobRequest,
    NameTakenError,
    check_request,
)
from core.jobs.launching import job_request, launch_saved_run, with_launch_token
from core.naming import default_custom_model_name, default_job_name
from core.pricing.builtin import builtin_prices
from core.pricing.service import pricing_region
from core.pricing.types import ModelPrices
from core.run import Run
from core.statuses import JobStatus
from screens.base import StepScreen
from screens.confirm import ConfirmScreen
from screens.export import ExportScreen
from screens.pricing import PRICES_WORKER, PricesRead, lookup_prices
from screens.workers import WorkerResult

if TYPE_CHECKING:
    from core.aws import AwsContext


@dataclass
class TokensCounted(WorkerResult):
    """The training file's estimated tokens, for the cost summary."""

    count: TokenCount


@dataclass
class JobLaunched(WorkerResult):
    """CreateModelCustomizationJob answered with the job's ARN."""

    arn: str


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def parse_tags(text: str) -> dict[str, str]:
    """`team=ml, project=x` -> {"team": "ml", "project": "x"} (ValidationError on bad pairs)."""
    tags: dict[str, str] = {}
    for pair in _split(text):
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValidationError(f"tag '{pair}' is not KEY=VALUE", hint="For example: team=ml")
        tags[key.strip()] = value.strip()
    return tags


class LaunchScreen(StepScreen):
    """Set up and start the customization job."""

    STEP_ID = "launch"
    STEP_TITLE = "Launch the job"
    CSS_PATH = "styles/launch.tcss"

    BINDINGS = [
        Binding("ctrl+l", "launch", "Launch", id="launch-job"),
        Binding("ctrl+g", "export_code", "Export code", id="export-code"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._model: BaseModel | None = None
        self._install_id: str | None = None
        self._customization: Customization | None = None
        self._tokens: TokenCount | None = None
        self._prices: ModelPrices | None = None

    def compose_body(self) -> ComposeResult:
        yield Label("Launch the customization job", classes="step-heading")
        yield Static("", id="launch-model")
        with Horizontal(id="launch-columns", classes="columns"):
            with Vertical(id="launch-form"):
                yield Label("Job name", classes="field-label")
                yield Input(id="job-name")
                yield Label("Custom model name", classes="field-label")
                yield Input(id="model-name")
                yield Label("Training data (s3://)", classes="field-label")
                yield Input(id="training-uri", placeholder="s3://bucket/prefix/train.jsonl")
                yield Label("Validation data (s3://, optional)", classes="field-label")
                yield Input(id="validation-uri", placeholder="s3://bucket/prefix/validation.jsonl")
                yield Label("Output folder (s3://)", classes="field-label")
                yield Input(id="output-uri", placeholder="s3://bucket/prefix/output/")
                yield Label("Service role ARN", classes="field-label")
                yield Input(id="role-arn", placeholder="arn:aws:iam::123456789012:role/...")
                yield Label("Hyperparameters", classes="field-label")
                yield Vertical(id="hyperparameters")
                with Vertical(id="distillation"):
                    yield Label("Teacher model (distillation)", classes="field-label")
                    yield Select[str]([], prompt="Choose the teacher", id="teacher")
                    yield Static("", id="teacher-note")
                    yield Label(
                        "Max response length, tokens per teacher answer (optional)",
                        classes="field-label",
                    )
                    yield Input(
                        id="max-response-length", placeholder="Bedrock's default", type="integer"
                    )
                yield Label("Custom model KMS key (optional)", classes="field-label")
                yield Input(id="kms-key", placeholder="key id, ARN or alias")
                yield Label(
                    "VPC subnets / security groups (optional, comma-separated)",
                    classes="field-label",
                )
                with Horizontal(id="vpc-row"):
                    yield Input(id="subnets", placeholder="subnet-...")
                    yield Input(id="security-groups", placeholder="sg-...")
                yield Label("Tags (optional: key=value, ...)", classes="field-label")
                yield Input(id="tags", placeholder="team=ml, project=support-bot")
            with Vertical(id="launch-summary"):
                yield Label("Summary", classes="field-label")
                yield Static("", id="summary")
                yield Label("The request", classes="field-label")
                yield Static("", id="request-json")
        with Horizontal(classes="button-row step-actions"):
            yield Button("Launch job", id="launch", variant="primary", disabled=True)

    def on_mount(self) -> None:
        self._load_run(self.host.wizard_run)

    def on_screen_resume(self) -> None:
        run = self.host.wizard_run
        if self._model is None or run.base_model_id != self._model.id:
            self._load_run(run)
        else:
            for field_id, value in (
                ("#training-uri", run.training_uri),
                ("#validation-uri", run.validation_uri),
                ("#output-uri", run.output_uri),
                ("#role-arn", run.role_arn),
            ):
                widget = self.query_one(field_id, Input)
                if value and not widget.value:
                    widget.value = value

    def _load_run(self, run: Run) -> None:
        if run.base_model_id is None:
            return
        model = find_model(run.base_model_id)
        kind = CustomizationType(run.customization_type)
        self._model = model
        self._customization = model.customization(kind)
        self._prices = None  # the built-in figures until the Price List answers
        lookup_prices(self, model, pricing_region(model, run.region))
        self.query_one("#launch-model", Static).update(
            Text.assemble(
                ("Base model ", "bold"),
                f"{model.name} ({model.id}), ",
                (kind.label.lower(), "bold"),
                f", in {run.region}",
            )
        )
        name = run.job_name or default_job_name(model.id)
        self.query_one("#job-name", Input).value = name
        self.query_one("#model-name", Input).value = (
            run.custom_model_name or default_custom_model_name(name)
        )
        self.query_one("#training-uri", Input).value = run.training_uri or ""
        self.query_one("#validation-uri", Input).value = run.validation_uri or ""
        self.query_one("#output-uri", Input).value = run.output_uri or ""
        self.query_one("#role-arn", Input).value = run.role_arn or ""
        self.query_one("#kms-key", Input).value = run.kms_key_id or ""
        self.query_one("#subnets", Input).value = ", ".join(run.subnet_ids)
        self.query_one("#security-groups", Input).value = ", ".join(run.security_group_ids)
        self.query_one("#tags", Input).value = ", ".join(f"{k}={v}" for k, v in run.tags.items())
        self._load_teachers(run, kind)
        box = self.query_one("#hyperparameters", Vertical)
        box.remove_children()
        for hp in self._customization.hyperparameters if self._customization else ():
            label = f"{hp.name} ({hp.format(hp.minimum)} to {hp.format(hp.maximum)})"
            box.mount(
                Horizontal(
                    Label(label, classes="hp-label"),
                    Input(
                        run.hyperparameters.get(hp.name, ""),
                        placeholder=f"default {hp.default_text or 'none'}",
                        id=f"hp-{hp.name}",
                        classes="hp-input",
                    ),
                    classes="hp-row",
                ),
                # What is wrong with the value, at its field (empty while it is fine).
                Static("", id=f"hp-problem-{hp.name}", classes="hp-problem"),
                Static("", id=f"hp-note-{hp.name}", classes="hp-note"),
            )
        self.call_after_refresh(self._show_hyperparameter_notes)
        self.call_after_refresh(self._refresh_summary)
        prepared = PreparedDir.of(run.prepared_dir)
        if prepared is not None and prepared.has_train() and self._customization is not None:
            self.count_tokens(prepared.train, self._customization.limits.chars_per_token)

    def _load_teachers(self, run: Run, kind: CustomizationType) -> None:
        """Offer the teachers the catalog pairs with the model, for distillation only (none is
        picked for the user: the run's own, else a choice to make)."""
        box = self.query_one("#distillation", Vertical)
        box.display = kind is CustomizationType.DISTILLATION
        teachers = self._customization.teachers if self._customization else ()
        select = self.query_one("#teacher", Select)
        select.set_options([(f"{t.name}  ({t.id})", t.id) for t in teachers])
        if run.teacher_model_id in {t.id for t in teachers}:
            select.value = run.teacher_model_id
        length = run.max_response_length
        self.query_one("#max-response-length", Input).value = "" if length is None else str(length)

    def _teacher(self) -> str | None:
        if self.host.wizard_run.customization_type is not CustomizationType.DISTILLATION:
            return None
        value = self.query_one("#teacher", Select).value
        return value if isinstance(value, str) else None

    def _max_response_length(self) -> int | None:
        if self.host.wizard_run.customization_type is not CustomizationType.DISTILLATION:
            return None
        text = self._value("#max-response-length")
        if not text:
            return None
        try:
            return int(text)
        except ValueError:
            raise ValidationError(
                f"The max response length '{text}' is not a whole number of tokens.",
                hint="Leave it empty for Bedrock's default, or write e.g. 1000.",
            ) from None

    @on(Select.Changed, "#teacher")
    def _teacher_changed(self, event: Select.Changed) -> None:
        teacher = (
            self._customization.teacher(event.value)
            if self._customization and isinstance(event.value, str)
            else None
        )
        note = self.query_one("#teacher-note", Static)
        note.update(Text(teacher.note, style="dim") if teacher else "")
        self._refresh_summary()

    @work(thread=True, exclusive=True, exit_on_error=False, group="tokens", name="tokens")
    def count_tokens(self, path: Path, chars_per_token: float) -> TokensCounted:
        """Estimate the training file's tokens for the cost summary."""
        return TokensCounted(count_file_tokens(path, chars_per_token))

    @on(TokensCounted)
    def _tokens_counted(self, message: TokensCounted) -> None:
        self._tokens = message.count
        self._refresh_summary()

    @on(PricesRead)
    def _prices_read(self, message: PricesRead) -> None:
        if self._model is not None and message.prices.model_id == self._model.id:
            self._prices = message.prices
            self._refresh_summary()

    # ------------------------------------------------------------------ the request

    def _value(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()

    def form_run(self) -> Run:
        """The run with the form's launch fields (ValidationError for unparseable fields)."""
        hyperparameters = {}
        for hp in self._customization.hyperparameters if self._customization else ():
            value = self.query_one(f"#hp-{hp.name}", Input).value.strip()
            if value:
                hyperparameters[hp.name] = value
        return replace(
            self.host.wizard_run,
            job_name=self._value("#job-name"),
            custom_model_name=self._value("#model-name"),
            role_arn=self._value("#role-arn"),
            training_uri=self._value("#training-uri"),
            validation_uri=self._value("#validation-uri") or None,
            output_uri=self._value("#output-uri"),
            hyperparameters=hyperparameters,
            kms_key_id=self._value("#kms-key") or None,
            subnet_ids=_split(self._value("#subnets")),
            security_group_ids=_split(self._value("#security-groups")),
            tags=parse_tags(self._value("#tags")),
            teacher_model_id=self._teacher(),
            max_response_length=self._max_response_length(),
        )

    def action_export_code(self) -> None:
        """Show the run, as the form stands, as code (boto3, AWS CLI, IAM, CloudFormation)."""
        try:
            run = self.form_run()
        except ValidationError:  # a field that does not parse yet: the run as last saved
            run = self.host.wizard_run
        self.app.push_screen(ExportScreen(run))

    def build_request(self) -> JobRequest:
        """The request as the form stands (raises ValidationError for unparseable fields)."""
        if self._model is None:
            raise ValidationError(
                "No base model chosen.", hint="Choose one in the Base model step."
            )
        if self._install_id is None:
            self._install_id = self.host.registry().install_id()
        return job_request(self.form_run(), install_id=self._install_id)

    @on(Input.Changed)
    def _field_changed(self, event: Input.Changed) -> None:
        if event.input.id and event.input.id.startswith("hp-") and self._customization:
            name = event.input.id[3:]
            spec = self._customization.hyperparameter(name)
            problem = spec.check(event.value) if spec and event.value.strip() else None
            event.input.set_class(problem is not None, "-invalid")
            event.input.tooltip = problem
            self.query_one(f"#hp-problem-{name}", Static).update(
                Text(f"✘ {problem}", style="red") if problem else ""
            )
        if event.input.id == "validation-uri":
            self._show_hyperparameter_notes()
        self._refresh_summary()

    def _show_hyperparameter_notes(self) -> None:
        """Each hyperparameter's note, when it applies to a job with (or without) the
        validation data the form has."""
        has_validation = bool(self._value("#validation-uri"))
        for hp in self._customization.hyperparameters if self._customization else ():
            for note in self.query(f"#hp-note-{hp.name}").results(Static):
                text = hp.note_for(has_validation)
                note.update(Text(text, style="dim"))
                note.display = bool(text)

    def _refresh_summary(self) -> None:
        summary = self.query_one("#summary", Static)
        button = self.query_one("#launch", Button)
        if self._model is None:
            summary.update("Choose a base model first.")
            button.disabled = True
            return
        try:
            request = self.build_request()
        except BedrockTuneError as error:
            summary.update(Text(error.message, style="red"))
            button.disabled = True
            return
        problems = check_request(request, self._model)
        text = Text()
        prices = self._prices or builtin_prices(
            self._model, pricing_region(self._model, self.host.wizard_run.region)
        )
        price = prices.training
        epochs = request.hyperparameters.get("epochCount")
        if (
            epochs is None
            and self._customization
            and self._customization.hyperparameter("epochCount")
        ):
            epochs = self._customization.hyperparameter("epochCount").default_text  # type: ignore[union-attr]
        text.append("Training data  ", style="bold")
        text.append(f"{request.training_uri or '-'}\n")
        if request.validation_uri:
            text.append("Validation     ", style="bold")
            text.append(f"{request.validation_uri}\n")
        text.append("Output         ", style="bold")
        text.append(f"{request.output_uri or '-'}\n")
        if request.customization_type is CustomizationType.DISTILLATION:
            text.append("Teacher        ", style="bold")
            text.append(f"{request.teacher_model_id or '-'}\n")
            text.append("Teacher answers", style="bold")
            length = request.max_response_length
            text.append(
                f" up to {fmt.plural(length, 'token')} each\n"
                if length
                else " Bedrock's default length\n"
            )
        else:
            text.append("Epochs         ", style="bold")
            text.append(f"{epochs or 'service default'}\n")
        text.append("Training price ", style="bold")
        text.append(
            f"{price.money()} per 1K tokens x epochs ({price.provenance})\n"
            if price.is_known
            else f"unknown: {price.todo}\n"
        )
        if self._tokens is not None:
            epoch_count = int(epochs) if epochs and epochs.isdigit() else 1
            cost = estimate(self._model, self._tokens.tokens, epoch_count, prices=prices)
            text.append("Training data  ", style="bold")
            text.append(
                f"{fmt.plural(self._tokens.records, 'record')}, about "
                f"{fmt.plural(self._tokens.tokens, 'token')} "
                "(estimated)\n"
            )
            text.append("Estimated cost ", style="bold")
            text.append(
                f"{fmt.money(cost.training_cost)} for training ({price.provenance})\n"
                if cost.training_cost is not None
                else "unknown (no training price: see above)\n"
            )
        text.append("Storage        ", style="bold")
        text.append(
            f"{prices.storage.money()} per month while the model exists "
            f"({prices.storage.provenance})\n"
            if prices.storage.is_known
            else f"unknown: {prices.storage.todo}\n"
        )
        if problems:
            text.append("\nNot ready to launch:\n", style="bold red")
            for problem in problems:
                text.append(f"- {problem}\n", style="red")
        summary.update(text)
        shown = {k: v for k, v in request.to_api().items() if k != "clientRequestToken"}
        self.query_one("#request-json", Static).update(
            Syntax(json.dumps(shown, indent=2), "json", word_wrap=True, theme="ansi_dark")
        )
        button.disabled = bool(problems)

    # ------------------------------------------------------------------ launch

    @on(Button.Pressed, "#launch")
    def _launch_pressed(self) -> None:
        self.action_launch()

    def action_launch(self) -> None:
        """Confirm, store the client request token, then create the job."""
        run = self.host.wizard_run
        if run.job_arn:
            self.notify(
                "This run already has a job; watch it in the next step.", severity="warning"
            )
            return
        try:
            context = self.require_context()
            request = self.build_request()
        except BedrockTuneError as error:
            self.show_error(error)
            return
        model = self._model
        if model is None or check_request(request, model):
            self.notify("Fix the fields marked in the summary first.", severity="warning")
            return

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return
            # The run, token included, is saved before the call (the worker waits for it): a
            # retry after any failure, or a restart after a crash, reuses the token.
            launching = with_launch_token(run, self.form_run())
            self.host.update_run(launching)
            self.query_one("#launch", Button).disabled = True
            self.launch_job(context, launching, model)

        self.app.push_screen(
            ConfirmScreen(
                "Start the customization job?",
                f"{request.job_name} trains {model.name} on {request.training_uri}"
                + (
                    f" with answers from the teacher {request.teacher_model_id} (its inference "
                    "is billed too)"
                    if request.teacher_model_id
                    else ""
                )
                + ". Training is billed per token and epoch, and the custom model's storage per "
                "month until you delete it.",
                "Launch job",
                danger=False,
            ),
            confirmed,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="launch", name="launch")
    def launch_job(self, context: AwsContext, run: Run, model: BaseModel) -> JobLaunched:
        """Save the run with its token, then CreateModelCustomizationJob (or re-attach to the
        job that token already created)."""
        self.host.save_run_now()
        launched = launch_saved_run(context, run, model, self.host.registry())
        return JobLaunched(launched.run.job_arn or "")

    @on(JobLaunched)
    def _job_launched(self, message: JobLaunched) -> None:
        result = message.arn
        self.host.update_run(
            replace(self.host.wizard_run, job_arn=result, job_status=JobStatus.IN_PROGRESS)
        )
        self.notify(f"Job launched: {result}", title="Customization job")
        self.host.next_step(self.STEP_ID)

    def worker_failed(self, name: str, error: BaseException) -> None:
        if name in ("tokens", PRICES_WORKER):
            # The summary then says nothing about tokens, or keeps the built-in figures (which
            # say so); launching still works.
            return
        if name == "launch" and isinstance(error, NameTakenError):
            # Nothing was created: the run keeps no launch token to resume or re-attach by.
            self.host.update_run(replace(self.host.wizard_run, client_request_token=None))
        self.query_one("#launch", Button).disabled = False
        self.show_error(error)
