"""Prompt mode, the end of the walk: the teardown offer (what this install made, billable first
with its cost, each deletion confirmed) and the recipe saved."""

from __future__ import annotations

from pathlib import Path

from core.billing import summarize_items
from core.files import output_file_problem
from core.poll import Pacing
from core.pricing.service import PriceService
from core.recipe import save_recipe
from core.teardown.delete import (
    StopWait,
    TeardownEvent,
    TeardownItem,
    default_choice,
    delete,
    inventory,
    run_without,
)
from core.teardown.stopping import is_wait_step, running_writer_warning, running_writers
from tui.cli.plain.session import Session


def item_line(item: TeardownItem) -> str:
    """One thing bedrock-tune made, with its cost and what deleting it does."""
    where = "" if item.region in ("", "global") else f" ({item.region})"
    return f"{item.label}{where}: {item.cost_text}. {item.effect}"


def teardown_step(session: Session) -> None:
    """Offer to delete what this install made (nothing is deleted without a yes per item);
    the run forgets what is gone."""
    ask = session.ask
    if not ask.confirm(
        "Tear down now? (Keep the model to use it later; `bedrock-tune teardown` deletes it "
        "any time.)",
        default=False,
    ):
        return
    context = session.require_context()
    warnings: list[str] = []
    items = inventory(
        context, session.registry, on_warning=warnings.append, prices=PriceService(context)
    )
    for warning in warnings:
        ask.say(f"Warning: {warning}")
    offered = default_choice(items)
    if not offered:
        ask.say(f"Nothing this install made is left (tags searched in {context.region}).")
        return
    billing = summarize_items(offered)
    if billing.count:
        ask.say(f"Costing now: {billing.hourly_text()}.")
    chosen: list[TeardownItem] = []
    declined: set[str] = set()
    offered_keys = {item.key for item in offered}
    for item in offered:
        if not item.exists or item.action == "forget":
            chosen.append(item)
            continue
        if any(key in declined for key in item.depends_on):
            ask.say(f"Keeping {item.label}: what serves it stays.")
            declined.add(item.key)
            continue
        verb = {"stop": "Stop", "delete-policy": "Remove bedrock-tune's policy from"}.get(
            item.action, "Delete"
        )
        ask.say(item_line(item))
        # A job kept running (declined, or not offered) that writes here is said first.
        kept = [i for i in items if i.key in declined or i.key not in offered_keys]
        for job, _ in running_writers(kept, [item]):
            ask.say(f"Warning: {running_writer_warning(job, item)}")
        if ask.confirm(f"{verb} {item.label}?", default=False):
            chosen.append(item)
        else:
            declined.add(item.key)
    if not chosen:
        ask.say("Nothing deleted.")
        return

    def show(event: TeardownEvent) -> None:
        if event.stage == "end":
            ask.say(f"  {event.status}: {event.message}")
        elif event.stage == "step" and is_wait_step(event.message):
            ask.say(f"     {event.message}")  # a wait for a stopped job: never looks frozen

    wait = StopWait(pacing=Pacing(clock=session.clock, sleep=session.sleep))
    # A job of ours already Stopping that was declined is still waited for (`listed`).
    result = delete(context, chosen, session.registry, show, wait, listed=items)
    run = session.run
    for outcome in result.outcomes:
        if outcome.done:
            run = run_without(outcome.item, run)
    session.update(run)
    for outcome in result.failed:
        ask.say(f"Not deleted: {outcome.message}")


def _recipe_file_problem(text: str) -> str | None:
    if not text.strip():
        return "Type a file name, e.g. recipe.toml."
    problem = output_file_problem(Path(text.strip()).expanduser(), overwrite=True)
    return None if problem is None else f"{text.strip()} {problem}."


def save_recipe_step(session: Session) -> Path | None:
    """Save the run as a recipe (asked where, unless `--recipe` said); the path saved to."""
    ask, run = session.ask, session.run
    wanted = session.options.recipe
    if wanted is None:
        default = f"bedrock-tune-{run.run_id or 'run'}.toml"
        wanted = ask.path("Save the recipe of this run as:", default, _recipe_file_problem)
    path = Path(wanted.strip()).expanduser()
    while path.exists() and not ask.confirm(f"{path} exists. Replace it?", default=False):
        path = Path(ask.path("Save the recipe as:", str(path), _recipe_file_problem).strip())
    save_recipe(run, path, title=f"run {run.run_id}")
    ask.say(f"✔ Saved the recipe of run {run.run_id} to {path}.")
    return path
