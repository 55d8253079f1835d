"""`bedrock-tune teardown`: list what bedrock-tune made (billable first, with its cost) and
delete it, asking before each destructive action unless `--yes`.

What this install made (its registry, its install id in the tags) is deleted by default. What
only bedrock-tune's tag points at was made elsewhere (another install, user or machine): it is
listed apart, with who made it and when, and deleted only with `--include-found`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from time import monotonic, sleep  # module-level: tests swap in a fake clock and its sleep
from typing import Any

from core.billing import summarize_items
from core.poll import Pacing
from core.pricing.service import PriceService
from core.registry import Registry
from core.teardown.delete import (
    StopWait,
    TeardownEvent,
    TeardownItem,
    TeardownResult,
    default_choice,
    delete,
    inventory,
)
from core.teardown.stopping import running_writer_warning, running_writers
from tui.cli.common import (
    EXIT_BAD,
    EXIT_OK,
    EXIT_USAGE,
    add_aws_options,
    aws_context,
    print_json,
)


def register(subparsers: Any) -> None:
    """Add `teardown`."""
    parser = subparsers.add_parser(
        "teardown",
        help="delete what bedrock-tune made (billable first)",
        description="List everything this install of bedrock-tune made, from the local "
        "registry and its install id in the tags (provisioned throughput, deployments and "
        "running jobs first, with their cost; then custom models; then S3 folders, buckets and "
        "roles), and delete it in a safe order, asking before each deletion. Resources only "
        "tagged bedrock-tune:managed=true were made elsewhere (another install or user): they "
        "are listed apart and deleted only with --include-found. Nothing else is touched: a "
        "bucket or role bedrock-tune did not create is never deleted, and objects are deleted "
        "only in the run folders the registry records.",
    )
    add_aws_options(parser, suppress=True)
    parser.add_argument(
        "--yes", action="store_true", help="delete what this install made without asking"
    )
    parser.add_argument(
        "--include-found",
        action="store_true",
        help="also delete (or be asked about) what bedrock-tune made elsewhere, found by its tag",
    )
    parser.add_argument(
        "--list", action="store_true", dest="list_only", help="only list; delete nothing"
    )
    parser.add_argument(
        "--no-tag-scan",
        action="store_true",
        help="only what the local registry lists (skip the search for tagged resources)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print JSON: the inventory (deleting nothing), or with --yes what was deleted",
    )
    parser.set_defaults(handler=run)


def _line(item: TeardownItem) -> str:
    where = "" if item.region in ("", "global") else f" ({item.region})"
    shown = item.status and item.exists and item.status not in item.label
    state = f" [{item.status}]" if shown else ""
    return f"{item.label}{where}{state}: {item.cost_text}; ours by {item.ours_by}"


def _print_inventory(items: Sequence[TeardownItem], region: str, include_found: bool) -> None:
    ours = [i for i in items if i.origin == "ours"]
    found = [i for i in items if i.origin == "found"]
    if ours:
        print(f"What this install made (tags searched in {region}), billable first:")
    for number, item in enumerate(ours, 1):
        _print_item(number, item)
    if found:
        left = "deleted with --include-found" if include_found else "left alone"
        print(
            f"Made by bedrock-tune elsewhere (found by its tag, not made by this install; {left}"
            + ("" if include_found else ": pass --include-found to delete them")
            + "):"
        )
        for number, item in enumerate(found, len(ours) + 1):
            _print_item(number, item)
            if item.provenance:
                print(f"     {item.provenance[0].upper()}{item.provenance[1:]}.")
    # What would go: this install's, and what was made elsewhere only when it is included.
    billing = summarize_items([*ours, *(found if include_found else [])])
    parts = []
    if billing.count:
        parts.append(billing.hourly_text())
    if billing.storing:
        parts.append(f"{billing.monthly_text()} of model storage")
    if parts:
        print(f"Costing now: {', '.join(parts)}.")


def _print_item(number: int, item: TeardownItem) -> None:
    print(f"{number:3}. {_line(item)}")
    print(f"     {item.effect}")
    if item.problem:
        print(f"     Note: {item.problem}")


def _ask(question: str) -> bool | None:
    """True / False from a y/N answer; None at the end of input."""
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        print()
        return None
    return answer.strip().lower() in ("y", "yes")


def _choose(items: Sequence[TeardownItem], listed: Sequence[TeardownItem]) -> list[TeardownItem]:
    """One question per destructive action (of `items`, offered from the inventory `listed`);
    what is gone or only forgotten needs none."""
    chosen: list[TeardownItem] = []
    declined: set[str] = set()
    offered_keys = {item.key for item in items}
    for item in items:
        if not item.exists or item.action == "forget":
            chosen.append(item)
            continue
        kept_for = [key for key in item.depends_on if key in declined]
        if kept_for:
            print(f"Keeping {item.label}: what serves it stays.")
            declined.add(item.key)
            continue
        verb = {"stop": "Stop", "delete-policy": "Remove bedrock-tune's policy from"}.get(
            item.action, "Delete"
        )
        elsewhere = " (made by bedrock-tune elsewhere)" if item.origin == "found" else ""
        # A job kept running (declined, or not offered) that writes here is said at the question.
        kept = [i for i in listed if i.key in declined or i.key not in offered_keys]
        for job, _ in running_writers(kept, [item]):
            print(f"Warning: {running_writer_warning(job, item)}")
        answer = _ask(f"{verb} {item.label}{elsewhere} ({item.cost_text})? {item.effect}")
        if answer is None:
            print("No more answers: nothing else is deleted.")
            break
        if answer:
            chosen.append(item)
        else:
            declined.add(item.key)
    return chosen


def _print_event(event: TeardownEvent) -> None:
    if event.stage == "step":
        print(f"     {event.message}")
    elif event.stage == "end":
        print(f"  {event.status}: {event.message}")
        if event.status == "failed":
            print("     (the other deletions continue)")


def _print_result(result: TeardownResult) -> None:
    counts: dict[str, int] = {}
    for outcome in result.outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    print("Done: " + ", ".join(f"{n} {status}" for status, n in counts.items()) + ".")
    for outcome in result.failed:
        hint = outcome.error.hint if outcome.error is not None else ""
        sys.stderr.write(f"Not deleted: {outcome.message}\n")
        if hint:
            sys.stderr.write(f"Hint: {hint}\n")


def run(args: argparse.Namespace) -> int:
    """List, ask, delete; exit 1 when something could not be deleted."""
    interactive = not (args.yes or args.list_only or args.json)
    if interactive and not sys.stdin.isatty():
        sys.stderr.write(
            "teardown asks before each deletion, but its input is not a terminal.\n"
            "Hint: run it in a terminal, add --yes to delete everything it lists, or --list "
            "(or --json) to only see the list.\n"
        )
        return EXIT_USAGE
    warnings: list[str] = []
    with aws_context(args) as context:
        registry = Registry()
        items = inventory(
            context,
            registry,
            discover_tags=not args.no_tag_scan,
            on_warning=warnings.append,
            prices=PriceService(context),
        )
        for warning in warnings:
            sys.stderr.write(f"Warning: {warning}\n")
        if args.list_only or (args.json and not args.yes):
            if args.json:
                print_json({"items": [i.to_json() for i in items], "warnings": warnings})
            elif items:
                _print_inventory(items, context.region, args.include_found)
            else:
                print(f"Nothing bedrock-tune made is left (tags searched in {context.region}).")
            return EXIT_OK
        offered = default_choice(items, include_found=args.include_found)
        if not offered:
            if args.json:
                print_json({"ok": True, "outcomes": [], "warnings": warnings})
            elif items:
                _print_inventory(items, context.region, args.include_found)
                print("Nothing this install made is left; nothing deleted.")
            else:
                print(f"Nothing bedrock-tune made is left (tags searched in {context.region}).")
            return EXIT_OK
        if not args.json:
            _print_inventory(items, context.region, args.include_found)
        chosen = offered if args.yes else _choose(offered, items)
        if not chosen:
            print("Nothing deleted.")
            return EXIT_OK
        if args.yes:  # asked one by one, each was said at its question
            for job, target in running_writers(items, chosen):
                warning = running_writer_warning(job, target)
                warnings.append(warning)
                sys.stderr.write(f"Warning: {warning}\n")
        # A stopped SageMaker job may still write its output: teardown waits for it (printing
        # each poll) before it empties the run folders; Ctrl-C ends the wait like any command.
        # A job of ours already Stopping that the user kept is waited for too (`listed`).
        wait = StopWait(pacing=Pacing(clock=monotonic, sleep=sleep))
        show = None if args.json else _print_event
        result = delete(context, chosen, registry, show, wait, listed=items)
    if args.json:
        print_json({**result.to_json(), "warnings": warnings})
    else:
        _print_result(result)
    return EXIT_OK if result.ok else EXIT_BAD
