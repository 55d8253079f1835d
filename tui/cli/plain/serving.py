"""Prompt mode, the deploy and chat steps: how to serve the custom model, each way with its
cost and time to be ready, confirmed with its price (every hour for provisioned throughput),
created once and followed until ready; then a few turns of chat, streamed, with the system
prompt the model was trained with."""

from __future__ import annotations

import sys
import tomllib
from dataclasses import replace

from core.catalog.lookup import find_model
from core.errors import BedrockTuneError, ValidationError
from core.naming import default_serving_name
from core.poll import DEFAULT_TICK, Pacing, PollUpdate
from core.pricing.service import PriceService
from core.registry import ResourceRecord
from core.run.routes import serving_target
from core.serving.chat import Answer, Settings, Turn, converse_stream, folds_system
from core.serving.deploy import (
    DeploymentPlan,
    Serving,
    deployment_options,
    get_serving,
    serving_poller,
)
from core.serving.once import create_once, new_intent, saved_for_run
from core.statuses import ServingKind, ServingStatus
from tui.cli.plain.ask import Option
from tui.cli.plain.session import Session

SKIP = "skip"


def plan_title(plan: DeploymentPlan) -> str:
    """One way to serve, with its cost and time to be ready."""
    return f"{plan.label}: {plan.cost_text}; ready in {plan.ready_in}"


def deploy_step(session: Session) -> None:
    """Choose how to serve, confirm the price, create it once, and wait until it is ready; the
    run records it. Not deploying leaves the chat step blocked (the walk skips it and goes on to
    the teardown offer and the recipe)."""
    ask, run = session.ask, session.run
    context = session.require_context()
    if run.base_model_id is None or run.custom_model_arn is None:
        raise ValidationError("The job has not made a custom model yet.")
    model = find_model(run.base_model_id)
    region = run.region or model.regions[0]
    if run.serving_arn is None:
        try:
            prices = PriceService(context).model_prices(model, region)
        except BedrockTuneError:
            prices = None  # the built-in figures, which say so
        plans = {plan.kind: plan for plan in deployment_options(model, prices)}
        saved = saved_for_run(session.registry, run.run_id) if run.run_id else None
        if saved is not None and saved.kind in plans:
            # A create was confirmed and sent (or about to be) when this stopped: sending it
            # again with its saved token re-attaches to what it made, never a second one.
            plan, intent = plans[saved.kind], saved
            ask.say(f"Re-attaching to the {plan.label.lower()} this run was creating.")
        else:
            ask.say(f"Custom model {run.custom_model_arn}")
            for plan in plans.values():
                ask.say(f"  {plan.label}: {plan.note}")
            options = [Option(plan_title(p), p.kind) for p in plans.values()]
            options.append(Option("Do not deploy now (nothing bills by the hour)", SKIP))
            kind = ask.select("How should the custom model be served?", options)
            if kind == SKIP:
                ask.say("Not deployed: `bedrock-tune deploy` (or the app) deploys it later.")
                return
            plan = plans[kind]
            question = (
                f"Buy provisioned throughput? It bills {plan.cost_text}, whether you use it or "
                "not, until you delete it."
                if kind == ServingKind.PROVISIONED_THROUGHPUT.value
                else f"Create the on-demand deployment? It costs {plan.cost_text}."
            )
            if not ask.confirm(question, default=False):
                ask.say("Not deployed: `bedrock-tune deploy` (or the app) deploys it later.")
                return
            name = default_serving_name(run.custom_model_name or run.custom_model_arn)
            intent = new_intent(plan.kind, name, run.custom_model_arn)
        record = ResourceRecord(
            plan.kind,
            "",
            region,
            run.account_id or "",
            run.run_id,
            billable=True,
            details={"base_model_id": model.id, **plan.billing_details()},
        )
        ask.say(f"Creating the {plan.label.lower()}...")
        arn = create_once(context, session.registry, intent, record, creator_arn=run.principal_arn)
        session.update(
            replace(
                session.run,
                serving_kind=ServingKind(plan.kind),
                serving_arn=arn,
                serving_status=ServingStatus.CREATING,
            )
        )
    _wait_until_ready(session)


def _wait_until_ready(session: Session) -> None:
    """Poll the throughput or deployment until it is ready (or failed)."""
    ask, run = session.ask, session.run
    context = session.require_context()
    arn = run.serving_arn
    kind = (run.serving_kind or ServingKind.PROVISIONED_THROUGHPUT).value
    if arn is None:  # pragma: no cover - deploy_step sets it
        raise ValidationError("Nothing is deployed.")
    last: list[str] = []

    def show(update: PollUpdate[Serving]) -> None:
        if update.error is not None:
            ask.say(f"  (poll failed, retrying: {update.error.message})")
            return
        serving = update.value
        if serving is not None and [serving.status] != last:
            last[:] = [serving.status]
            ask.say(f"  {serving.name}: {serving.status}")

    interval = session.options.poll_interval
    poller = serving_poller(
        lambda: get_serving(context, kind, arn),  # type: ignore[arg-type]
        first=interval,
        pacing=Pacing(clock=session.clock, sleep=session.sleep, tick=min(DEFAULT_TICK, interval)),
    )
    final = poller.run(show)
    if final is None or not final.ready:
        message = final.failure_message if final is not None else None
        raise BedrockTuneError(
            f"The {kind.replace('-', ' ')} did not become ready"
            + (f": {message}" if message else "."),
            title="Deployment failed",
            hint="Teardown deletes it; deploy again to try once more.",
        )
    session.update(replace(session.run, serving_status=ServingStatus(final.status)))
    ask.say(f"✔ {final.name} is ready.")


def chat_step(session: Session) -> None:
    """A few turns with the served model (an empty message ends the chat); the run records
    that the model answered."""
    ask, run = session.ask, session.run
    context = session.require_context()
    target = serving_target(run)
    if target is None or run.base_model_id is None:
        raise ValidationError("Deploy the model first.")
    customization = find_model(run.base_model_id).customization(run.customization_type)
    fold = folds_system(customization.data_format if customization else None)
    system = str(tomllib.loads(run.template_toml).get("system", "")) if run.template_toml else ""
    if system:
        ask.say(f"System prompt (from the template): {system}")
    ask.say("Chat with the custom model (an empty message ends the chat).")
    history: list[Turn] = []
    while True:
        question = ask.text("you>").strip()
        if not question:
            break
        history.append(Turn("user", question))
        answer = Answer("", None, None, None, "")
        sys.stdout.write("model> ")
        for piece in converse_stream(
            context, target, system, history, Settings(), fold_system=fold
        ):
            if isinstance(piece, Answer):
                answer = piece
            else:
                sys.stdout.write(piece)
                sys.stdout.flush()
        cut = "  [the stream was cut: partial answer]" if answer.cut else ""
        tokens = (
            f"{answer.input_tokens} in / {answer.output_tokens} out" if answer.output_tokens else ""
        )
        latency = f", {answer.latency_ms} ms" if answer.latency_ms else ""
        ask.say(f"{cut}\n  ({tokens}{latency})")
        history.append(Turn("assistant", answer.text))
        if session.run.chatted_with != target:
            session.update(replace(session.run, chatted_with=target))
