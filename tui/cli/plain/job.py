"""Prompt mode, the launch and watch steps: the job's names and hyperparameters (checked as you
type), the request's summary with the cost estimate, a confirmation, then the job created once
(the run and its client request token are saved first, through `core.run.launching`); then the
job followed with progress lines until it ends."""

from __future__ import annotations

from dataclasses import replace

from core import format as fmt
from core.catalog.lookup import find_model
from core.catalog.types import BaseModel, Customization, CustomizationType
from core.data.prepared import PreparedDir
from core.errors import BedrockTuneError, ValidationError
from core.estimate import count_file_tokens, estimate
from core.jobs.customization import (
    JobRequest,
    JobSnapshot,
    NameTakenError,
    check_request,
    get_job,
)
from core.jobs.failures import explain_failure
from core.jobs.launching import job_request, launch_saved_run, with_launch_token
from core.jobs.metrics import Metrics, find_metric_files, read_metrics
from core.jobs.watch import JobWatcher, WatchUpdate
from core.naming import default_custom_model_name, default_job_name
from core.poll import DEFAULT_TICK
from core.pricing.builtin import builtin_prices
from core.pricing.service import PriceService, pricing_region
from core.pricing.types import ModelPrices
from core.run import Run
from core.statuses import JobStatus
from tui.cli.plain.ask import Check, Option
from tui.cli.plain.session import Session, StopFlow


def _named(text: str) -> str | None:
    return None if text.strip() else "A name is needed."


def _hyperparameter_check(customization: Customization, name: str) -> Check:
    spec = customization.hyperparameter(name)

    def check(text: str) -> str | None:
        if spec is None or not text.strip():
            return None
        return spec.check(text.strip())

    return check


def _prices(session: Session, model: BaseModel) -> ModelPrices:
    """The Price List's prices of the model in the run's region, else the built-in figures."""
    region = pricing_region(model, session.run.region)
    try:
        return PriceService(session.require_context()).model_prices(model, region)
    except BedrockTuneError:
        return builtin_prices(model, region)  # they say where they come from


def describe_request(
    request: JobRequest,
    model: BaseModel,
    customization: Customization,
    prices: ModelPrices,
    tokens: tuple[int, int] | None,
) -> str:
    """The launch step's summary: data, output, epochs, prices and the cost estimate."""
    lines = [f"Job            {request.job_name} ({request.custom_model_name})"]
    lines.append(f"Training data  {request.training_uri or '-'}")
    if request.validation_uri:
        lines.append(f"Validation     {request.validation_uri}")
    lines.append(f"Output         {request.output_uri or '-'}")
    epochs = request.hyperparameters.get("epochCount")
    spec = customization.hyperparameter("epochCount")
    if epochs is None and spec is not None:
        epochs = spec.default_text
    if request.customization_type is CustomizationType.DISTILLATION:
        lines.append(f"Teacher        {request.teacher_model_id or '-'}")
    else:
        lines.append(f"Epochs         {epochs or 'service default'}")
    price = prices.training
    lines.append(
        f"Training price {price.money()} per 1K tokens x epochs ({price.provenance})"
        if price.is_known
        else f"Training price unknown: {price.todo}"
    )
    if tokens is not None:
        records, count = tokens
        epoch_count = int(epochs) if epochs and epochs.isdigit() else 1
        cost = estimate(model, count, epoch_count, prices=prices)
        lines.append(
            f"Training data  {fmt.plural(records, 'record')}, about "
            f"{fmt.plural(count, 'token')} (estimated)"
        )
        lines.append(
            f"Estimated cost {fmt.money(cost.training_cost)} for training ({price.provenance})"
            if cost.training_cost is not None
            else "Estimated cost unknown (no training price: see above)"
        )
    storage = prices.storage
    lines.append(
        f"Storage        {storage.money()} per month while the model exists ({storage.provenance})"
        if storage.is_known
        else f"Storage        unknown: {storage.todo}"
    )
    return "\n".join(lines)


def _form(session: Session, model: BaseModel, customization: Customization) -> Run:
    """The run with the launch fields asked for."""
    ask, run = session.ask, session.run
    name = ask.text("Job name:", run.job_name or default_job_name(model.id), _named).strip()
    custom_name = ask.text(
        "Custom model name:",
        run.custom_model_name
        if run.custom_model_name and run.job_name == name
        else default_custom_model_name(name),
        _named,
    ).strip()
    hyperparameters: dict[str, str] = {}
    has_validation = run.validation_uri is not None
    for hp in customization.hyperparameters:
        note = hp.note_for(has_validation)
        if note:
            ask.say(f"  {hp.name}: {note}")
        value = ask.text(
            f"{hp.name} ({hp.format(hp.minimum)} to {hp.format(hp.maximum)}; Enter for the "
            f"default, {hp.default_text or 'none'}):",
            run.hyperparameters.get(hp.name, ""),
            _hyperparameter_check(customization, hp.name),
        ).strip()
        if value:
            hyperparameters[hp.name] = value
    teacher = None
    if run.customization_type is CustomizationType.DISTILLATION:
        teachers = [Option(f"{t.name} ({t.id})", t.id) for t in customization.teachers]
        if not teachers:
            raise ValidationError(f"The catalog has no teacher for {model.name}.")
        teacher = ask.select("Teacher model:", teachers, default=run.teacher_model_id)
    return replace(
        run,
        job_name=name,
        custom_model_name=custom_name,
        hyperparameters=hyperparameters,
        teacher_model_id=teacher,
    )


def launch_step(session: Session) -> None:
    """Ask for the job, show the request and its cost, confirm, save the run with its token,
    and create the job (or re-attach to the one that token made)."""
    ask = session.ask
    run = session.run
    if run.base_model_id is None:
        raise ValidationError("Choose a base model first.")
    context = session.require_context()
    model = find_model(run.base_model_id)
    customization = model.customization(run.customization_type)
    if customization is None:
        raise ValidationError(f"{model.name} has no {run.customization_type.label.lower()}.")
    prices = _prices(session, model)
    prepared = PreparedDir.of(run.prepared_dir)
    tokens = None
    if prepared is not None and prepared.has_train():
        counted = count_file_tokens(prepared.train, customization.limits.chars_per_token)
        tokens = (counted.records, counted.tokens)
    install_id = session.registry.install_id()
    while True:
        form = _form(session, model, customization)
        request = job_request(form, install_id=install_id)
        ask.say(describe_request(request, model, customization, prices, tokens))
        problems = check_request(request, model)
        if problems:
            ask.say("Not ready to launch:\n" + "\n".join(f"- {p}" for p in problems))
            if ask.confirm("Change the job's settings?", default=True):
                continue
            raise StopFlow  # what is missing comes from an earlier step (e.g. the upload)
        teacher = (
            f" with answers from the teacher {request.teacher_model_id} (its inference is "
            "billed too)"
            if request.teacher_model_id
            else ""
        )
        ask.say(
            f"{request.job_name} trains {model.name} on {request.training_uri}{teacher}. "
            "Training is billed per token and epoch, and the custom model's storage per month "
            "until you delete it."
        )
        if not ask.confirm("Start the customization job?", default=False):
            if ask.confirm("Change the job's settings?", default=True):
                session.update(form)
                continue
            raise StopFlow
        # The run, token included, is on disk before the call: a retry after any failure, or
        # a rerun after a crash, reuses the token and can never start a second job.
        launching = with_launch_token(run, form)
        session.update(launching)
        try:
            launched = launch_saved_run(context, launching, model, session.registry)
        except NameTakenError as taken:
            session.update(replace(session.run, client_request_token=None))
            ask.say(taken.describe())
            run = session.run
            continue
        break
    session.update(launched.run)
    verb = "Re-attached to" if launched.reattached else "Launched"
    ask.say(f"✔ {verb} {launched.run.job_name}: {launched.run.job_arn}")


class _WatchLines:
    """Progress lines: each phase change, each new loss point, a stall, a failed poll."""

    def __init__(self, session: Session) -> None:
        self._say = session.ask.say
        self._phases: dict[str, str] = {}
        self._points = {"training": 0, "validation": 0}

    def __call__(self, update: WatchUpdate) -> None:
        if update.error is not None:
            self._say(f"  (poll failed, retrying: {update.error.message})")
            return
        snapshot = update.snapshot
        if snapshot is None:
            return
        for phase in snapshot.phases:
            if phase.status and self._phases.get(phase.label) != phase.status:
                self._phases[phase.label] = phase.status
                self._say(f"  {phase.label}: {phase.status}")
        if update.metrics is not None:
            self._losses(update.metrics)
        if update.stalled_for:
            self._say(
                "  Warning: training has not started since validation finished "
                f"({fmt.duration(update.stalled_for)})."
            )

    def _losses(self, metrics: Metrics) -> None:
        """The newest loss of each kind when new points came (one line per poll, not one per
        step: a long job logs thousands)."""
        for kind in ("training", "validation"):
            points = getattr(metrics, kind)
            if len(points) > self._points[kind]:
                point = points[-1]
                self._say(
                    f"  {kind} loss {point.loss:.4f} at step {point.step} (epoch {point.epoch}), "
                    f"{fmt.plural(len(points), 'point')}"
                )
            self._points[kind] = len(points)


def watch_step(session: Session) -> None:
    """Follow the job until it ends (Ctrl+C stops watching, not the job); the run records
    its status and, once it completed, the custom model."""
    ask, run = session.ask, session.run
    context = session.require_context()
    if run.job_arn is None:
        raise ValidationError("Launch the job first.")
    job = run.job_arn
    ask.say(f"Watching {run.job_name} (Ctrl+C stops watching; the job goes on).")

    def metrics(snapshot: JobSnapshot) -> Metrics:
        return read_metrics(context, find_metric_files(context, snapshot.output_uri, snapshot.arn))

    interval = session.options.poll_interval
    watcher = JobWatcher(
        lambda: get_job(context, job),
        fetch_metrics=metrics,
        min_interval=interval,
        max_interval=max(interval * 8, interval),
        clock=session.clock,
        sleep=session.sleep,
        tick=min(DEFAULT_TICK, interval),
    )
    final = watcher.watch(_WatchLines(session))
    if final is None:  # pragma: no cover - nothing cancels this watch but Ctrl+C
        raise StopFlow
    completed = final.status is JobStatus.COMPLETED
    session.update(
        replace(
            session.run,
            job_status=final.status,
            custom_model_arn=final.output_model_arn if completed else None,
        )
    )
    if completed:
        ask.say(f"✔ Job {final.name} completed. Custom model: {final.output_model_arn}")
        return
    ask.say(f"✘ Job {final.name} {final.status.value.lower()}.")
    explanation = explain_failure(final.failure_message)
    if final.failure_message:
        ask.say(f"  {final.failure_message}")
    if explanation:
        ask.say(f"  Likely cause: {explanation.cause}\n  What to do: {explanation.fix}")
    raise StopFlow
