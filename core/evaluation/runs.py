"""Runs compared: the latest stored evaluation of each run, lined up with the base model on the
test records every one of them answered (records are matched by their key, so test files may
differ in order or size), then compared (`core.evaluation.compare`).

Base models come from the evaluations' base answers (one contender per distinct base model);
with a base, every run is compared against it, else against the first run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from core import format as fmt
from core.errors import NotFoundError, ValidationError
from core.evaluation.compare import Contender, build_comparison
from core.evaluation.stats import DEFAULT_SEED
from core.evaluation.store import EvaluationStore
from core.registry import Registry


def _serving_of(report: Mapping[str, Any], side: str) -> Mapping[str, Any] | None:
    for contender in (report.get("compared") or {}).get("contenders") or []:
        if contender.get("id") == side:
            serving = contender.get("serving")
            return serving if isinstance(serving, Mapping) else None
    return None


def _load(registry: Registry, run_ids: Sequence[str]) -> list[tuple[str, dict[str, Any]]]:
    store = EvaluationStore(registry)
    loaded = []
    for run_id in run_ids:
        stored = store.latest(run_id)
        if stored is None:
            if registry.get_run(run_id) is None:
                raise NotFoundError(
                    f"There is no run '{run_id}' with a stored evaluation.",
                    hint="`bedrock-tune runs` lists the runs; evaluate one with "
                    "`bedrock-tune evaluate --run RUN_ID`.",
                )
            raise ValidationError(
                f"Run {run_id} has no stored evaluation yet.",
                title="Nothing to compare",
                hint=f"Evaluate it first: `bedrock-tune evaluate --run {run_id}` (add --compare "
                "with the base model's id to compare it with its base).",
            )
        loaded.append((run_id, store.load(stored)))
    return loaded


def compare_runs(
    registry: Registry, run_ids: Sequence[str], *, seed: int = DEFAULT_SEED
) -> dict[str, Any]:
    """The comparison of the runs (and their base models) as JSON data.

    Raises:
        NotFoundError: an unknown run.
        ValidationError: a run with no evaluation, one run evaluated without its base, or runs
            that share no test record.
    """
    if not run_ids:
        raise ValidationError(
            "Name at least one run to compare.", hint="bedrock-tune compare RUN_ID"
        )
    ids = list(dict.fromkeys(run_ids))
    loaded = _load(registry, ids)
    contenders: list[Contender] = []
    answers: dict[str, dict[str, Mapping[str, Any]]] = {}
    records: dict[str, Mapping[str, Any]] = {}
    order: list[str] = []
    for run_id, report in loaded:
        base = report.get("base_model")
        rows = [r for r in report.get("rows") or [] if isinstance(r, Mapping)]
        for entry in rows:
            key = str(entry.get("key"))
            if key not in records:
                records[key] = entry
                order.append(key)
        side = f"base:{base}"
        if base and side not in answers and any(r.get("base") for r in rows):
            contenders.append(
                Contender(side, f"base {base}", str(base), _serving_of(report, "base"))
            )
            answers[side] = {str(r["key"]): r["base"] for r in rows if r.get("base")}
        run_side = f"run:{run_id}"
        contenders.append(
            Contender(
                run_side,
                f"run {run_id}",
                str(report.get("tuned_model", "")),
                _serving_of(report, "tuned"),
            )
        )
        answers[run_side] = {str(r["key"]): r["tuned"] for r in rows if r.get("tuned")}
    bases = [c for c in contenders if c.id.startswith("base:")]
    if len(ids) == 1 and not bases:
        raise ValidationError(
            f"Run {ids[0]} was evaluated without its base model, so there is nothing to compare "
            "it with.",
            title="Nothing to compare",
            hint="Evaluate it again with the base model (`--compare BASE_ID`, or the switch in "
            "the evaluate step), or name more runs.",
        )
    common = [k for k in order if all(k in by_key for by_key in answers.values())]
    if not common:
        raise ValidationError(
            "These evaluations share no test record: each was made on different records.",
            title="Nothing to compare",
            hint="Evaluate the runs on the same test file (the same prepared test split).",
        )
    notes = []
    left_out = len(order) - len(common)
    if left_out:
        notes.append(
            f"{fmt.plural(left_out, 'record')} not evaluated by every model "
            f"{'is' if left_out == 1 else 'are'} left out; {len(common)} are compared."
        )
    if len(bases) > 1:
        notes.append(
            "The runs have different base models; each run is compared with the first base "
            f"({bases[0].model})."
        )
    rows = []
    for key in common:
        record = records[key]
        row: dict[str, Any] = {
            "line": record.get("line"),
            "key": key,
            "prompt": record.get("prompt"),
            "reference": record.get("reference"),
        }
        for side, by_key in answers.items():
            row[side] = by_key[key]
        rows.append(row)
    against = bases[0].id if bases else f"run:{ids[0]}"
    return {
        "version": 2,
        "runs": ids,
        "notes": notes,
        "compared": build_comparison(rows, contenders, against, seed),
    }
