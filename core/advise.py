""" "Fine-tune or RAG?": a recommendation from the goal and, when one is given, the dataset.

Pure logic: the questions (`QUESTIONS`), what a dataset shows (`look_at_dataset`), and the
answer (`advise`) with its reasons, the costs of each path and the next step. No printing, no
prompting: the CLI and the TUI ask the questions and show the `Advice`.

Costs come from the pricing service (`core.pricing.service`: the Price List API's answer for
the region, cached a day, else the built-in figures), each figure with its source and date.
bedrock-tune has no price for a knowledge base's embedding or retrieval (neither the reference
nor the pricing module lists them), so those are unknown with what to do, never $0.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from core.catalog.lookup import find_model
from core.data.sources import SourceSpec, iter_records
from core.data.tokens import estimate_tokens
from core.pricing.service import PriceService, pricing_region
from core.pricing.types import PRICING_PAGE, ModelPrices, Price

Recommendation = Literal["fine-tune", "rag", "both", "neither"]

DEFAULT_MODEL = "amazon.nova-micro-v1:0:128k"
KNOWLEDGE_BASES = "Amazon Bedrock Knowledge Bases"

MIN_EXAMPLES = 100
"""Fewer labelled examples than this rarely change a model's behaviour more than a few examples
in the prompt would; below it fine-tuning is not recommended."""
GROUNDED_SHARE = 0.5
"""When at least this share of answers is mostly made of words from their prompt, the answers
depend on facts given at request time: the pattern RAG serves."""
RETRIEVED_CONTEXT_TOKENS = 1500
"""Assumed tokens of retrieved passages added to each RAG request (a few chunks)."""
HOURS_PER_MONTH = 730
SAMPLE_LIMIT = 2000
"""How many records `look_at_dataset` reads at most."""


@dataclass(frozen=True)
class Question:
    """One question about the goal, also a CLI flag (`--<name with dashes>`)."""

    name: str
    text: str
    kind: Literal["yes-no", "count"]
    default: bool | int
    help: str


QUESTIONS: tuple[Question, ...] = (
    Question(
        "changing_knowledge",
        "Must the model answer from knowledge that is new to it or changes often?",
        "yes-no",
        False,
        "facts such as product docs, prices or policies that change (retrieval keeps them "
        "current; a tuned model freezes them)",
    ),
    Question(
        "style_or_format",
        "Must answers follow a particular style, tone or output format?",
        "yes-no",
        False,
        "a voice, a JSON shape, a house style the base model does not follow from a prompt",
    ),
    Question(
        "task_skill",
        "Must the model learn a task skill (classify, extract, translate a domain's jargon)?",
        "yes-no",
        False,
        "a skill shown by input/answer examples rather than by facts",
    ),
    Question(
        "latency_sensitive",
        "Is latency or cost per request critical (short prompts, fast answers)?",
        "yes-no",
        False,
        "retrieval adds a lookup and a longer prompt to every request",
    ),
    Question(
        "requests_per_month",
        "About how many requests per month?",
        "count",
        10_000,
        "used to price serving each path",
    ),
    Question(
        "labeled_examples",
        "How many labelled examples (input with the right answer) do you have?",
        "count",
        0,
        f"fine-tuning needs examples; under {MIN_EXAMPLES} it is not recommended",
    ),
)

QUESTIONS_BY_NAME: Mapping[str, Question] = {q.name: q for q in QUESTIONS}


@dataclass(frozen=True)
class Goal:
    """The answers to `QUESTIONS`, and which of them took their default."""

    changing_knowledge: bool
    style_or_format: bool
    task_skill: bool
    latency_sensitive: bool
    requests_per_month: int
    labeled_examples: int
    defaulted: tuple[str, ...] = ()


def goal_from_answers(answers: Mapping[str, bool | int | None]) -> Goal:
    """A `Goal` from answers by question name; a missing or None answer takes the question's
    default and is listed in `defaulted`.

    Raises:
        ValueError: an unknown question name or a negative count.
    """
    unknown = sorted(set(answers) - set(QUESTIONS_BY_NAME))
    if unknown:
        raise ValueError(f"unknown question(s): {', '.join(unknown)}")
    values: dict[str, bool | int] = {}
    defaulted: list[str] = []
    for question in QUESTIONS:
        value = answers.get(question.name)
        if value is None:
            value = question.default
            defaulted.append(question.name)
        if question.kind == "count" and int(value) < 0:
            raise ValueError(f"{question.name} cannot be negative ({value})")
        values[question.name] = bool(value) if question.kind == "yes-no" else int(value)
    return Goal(defaulted=tuple(defaulted), **values)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the dataset

# (prompt field, answer field) pairs looked for in a record, in this order.
_FIELD_PAIRS = (
    ("prompt", "completion"),
    ("question", "answer"),
    ("instruction", "response"),
    ("instruction", "output"),
    ("input", "output"),
    ("context", "response"),
)
_WORD = re.compile(r"\w{4,}")
_GROUNDED_WORDS = 0.6
"""An answer is grounded in its prompt when this share of its words (4+ letters) is in it."""


@dataclass(frozen=True)
class DatasetLook:
    """What a dataset shows about the choice."""

    source: str
    records: int
    """Records read (at most `SAMPLE_LIMIT`; `truncated` says when there were more)."""
    truncated: bool
    pairs: int
    """Records where a prompt and an answer were found."""
    median_answer_tokens: int | None
    median_prompt_tokens: int | None
    grounded_share: float | None
    """Share of answers mostly made of words from their prompt; None without pairs."""


def prompt_and_answer(record: Mapping[str, Any]) -> tuple[str, str] | None:
    """The prompt and answer text of a record (prompt/completion style fields, or a chat's
    `messages`/`conversations` with user and assistant turns), or None when neither is found."""
    for prompt_key, answer_key in _FIELD_PAIRS:
        prompt, answer = record.get(prompt_key), record.get(answer_key)
        if isinstance(prompt, str) and isinstance(answer, str):
            extra = record.get("context") if prompt_key != "context" else None
            return (f"{extra}\n{prompt}" if isinstance(extra, str) else prompt), answer
    turns = record.get("messages") or record.get("conversations")
    if isinstance(turns, list):
        asked: list[str] = []
        answered: list[str] = []
        for turn in turns:
            if not isinstance(turn, Mapping):
                continue
            role = turn.get("role") or turn.get("from")
            text = turn.get("content") or turn.get("value")
            if not isinstance(text, str):
                continue
            (answered if role in ("assistant", "gpt", "model") else asked).append(text)
        if asked and answered:
            return "\n".join(asked), "\n".join(answered)
    return None


def _grounded(prompt: str, answer: str) -> bool:
    words = _WORD.findall(answer.lower())
    if not words:
        return False
    prompt_words = set(_WORD.findall(prompt.lower()))
    return sum(w in prompt_words for w in words) / len(words) >= _GROUNDED_WORDS


def summarize_records(source: str, records: Iterable[Mapping[str, Any]]) -> DatasetLook:
    """A `DatasetLook` of `records` (reads at most `SAMPLE_LIMIT` + 1 of them)."""
    count = 0
    truncated = False
    answers: list[int] = []
    prompts: list[int] = []
    grounded = 0
    for record in records:
        if count == SAMPLE_LIMIT:
            truncated = True
            break
        count += 1
        pair = prompt_and_answer(record)
        if pair is None:
            continue
        prompts.append(estimate_tokens(pair[0]))
        answers.append(estimate_tokens(pair[1]))
        grounded += _grounded(*pair)
    return DatasetLook(
        source=source,
        records=count,
        truncated=truncated,
        pairs=len(answers),
        median_answer_tokens=int(statistics.median(answers)) if answers else None,
        median_prompt_tokens=int(statistics.median(prompts)) if prompts else None,
        grounded_share=grounded / len(answers) if answers else None,
    )


def look_at_dataset(spec: SourceSpec) -> DatasetLook:
    """Read up to `SAMPLE_LIMIT` records of the dataset at `spec` and summarize them.

    Raises:
        DatasetError: the dataset cannot be read (from `core.data.sources`).
    """
    return summarize_records(spec.describe(), (record for _, record in iter_records(spec)))


# --------------------------------------------------------------------------- the answer


@dataclass(frozen=True)
class Advice:
    """The recommendation, why, what each path costs, and what to do next."""

    recommendation: Recommendation
    reasons: tuple[str, ...]
    costs: Mapping[str, Mapping[str, Price]]
    """`fine-tune` and `rag`, each a named set of prices (known with source and date, or
    unknown with what to do)."""
    next_step: str
    assumptions: tuple[str, ...]
    defaulted: tuple[str, ...]
    dataset: DatasetLook | None = None
    notes: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-able data: recommendation, reasons, costs, next_step, defaulted..."""
        return {
            "recommendation": self.recommendation,
            "reasons": list(self.reasons),
            "costs": {
                path: {name: price.to_json() for name, price in prices.items()}
                for path, prices in self.costs.items()
            },
            "next_step": self.next_step,
            "assumptions": list(self.assumptions),
            "defaulted": list(self.defaulted),
            "dataset": None if self.dataset is None else vars(self.dataset),
            "notes": list(self.notes),
        }


def _examples(goal: Goal, look: DatasetLook | None) -> int:
    """Labelled examples: the larger of what was said and the pairs the dataset has."""
    return max(goal.labeled_examples, look.pairs if look else 0)


def _choose(goal: Goal, look: DatasetLook | None) -> tuple[Recommendation, list[str]]:
    reasons: list[str] = []
    wants_tuning = goal.style_or_format or goal.task_skill
    wants_retrieval = goal.changing_knowledge
    if goal.changing_knowledge:
        reasons.append(
            "Knowledge that is new or changes often belongs in a knowledge base: retrieval "
            "serves today's facts, while a tuned model keeps what it saw at training time."
        )
    if goal.style_or_format:
        reasons.append(
            "A style or output format is learned well by fine-tuning from examples, and then "
            "needs no long instructions in every prompt."
        )
    if goal.task_skill:
        reasons.append("A task skill shown by examples is what fine-tuning teaches.")
    if look is not None and look.grounded_share is not None:
        share = f"{look.grounded_share:.0%}"
        if look.grounded_share >= GROUNDED_SHARE:
            wants_retrieval = True
            reasons.append(
                f"{share} of the dataset's answers are mostly words from their prompt: the "
                "answers depend on facts given at request time, which is what retrieval supplies."
            )
        else:
            wants_tuning = True  # checked against the number of examples just below
            reasons.append(
                f"Only {share} of the dataset's answers come from their prompt: the model has to "
                "produce them itself, which examples teach."
            )
    examples = _examples(goal, look)
    too_few = wants_tuning and examples < MIN_EXAMPLES
    if too_few:
        wants_tuning = False
        reasons.append(
            f"Only {examples} labelled examples: under {MIN_EXAMPLES}, fine-tuning rarely beats "
            "putting a few of them in the prompt; collect more examples first."
        )
    if goal.latency_sensitive:
        reasons.append(
            "Latency and cost per request matter: retrieval adds a lookup and about "
            f"{RETRIEVED_CONTEXT_TOKENS} tokens of passages to every request; a tuned model "
            "answers from a short prompt."
        )
    if wants_tuning and wants_retrieval:
        return "both", reasons
    if wants_tuning:
        return "fine-tune", reasons
    if wants_retrieval:
        return "rag", reasons
    if too_few:
        reasons.append(
            "Until there are enough examples, start with the base model and a good prompt that "
            "shows a few of them."
        )
    else:
        reasons.append(
            "Nothing here needs new knowledge or a learned behaviour: start with the base model "
            "and a good prompt (with a few examples) before paying for either path."
        )
    return "neither", reasons


_NEXT_STEPS: Mapping[Recommendation, str] = {
    "fine-tune": "Run `bedrock-tune` and pick your dataset: it validates, prepares and launches "
    "the fine-tuning job.",
    "rag": f"Use {KNOWLEDGE_BASES} (not built by bedrock-tune): put your documents in S3 and "
    "create a knowledge base on them; keep the base model.",
    "both": f"Fine-tune with bedrock-tune for the style or skill, and keep the changing facts in "
    f"{KNOWLEDGE_BASES} (not built here; check which models it can generate with).",
    "neither": "Try the base model with a careful prompt (`bedrock-tune chat MODEL_ID`); "
    "come back when you have examples of what it gets wrong.",
}

_UNKNOWN_KB = (
    "bedrock-tune has no {what} price; see the embedding model's on-demand price on "
    f"{PRICING_PAGE} (and the vector store's own pricing) for {KNOWLEDGE_BASES}"
)


def model_prices(
    model_id: str, region: str | None = None, prices: PriceService | None = None
) -> ModelPrices:
    """The prices the advice uses: `model_id` in `region` (default: its first region) from
    `prices` (default: the cached Price List answer, else the built-in figures, never calling
    AWS; a service with an AWS context may call the Price List API: run it in a worker).

    Raises:
        NotFoundError: `model_id` is not in the catalog.
    """
    model = find_model(model_id)
    service = prices or PriceService(None)
    return service.model_prices(model, pricing_region(model, region) or model.regions[0])


def _costs(
    goal: Goal, look: DatasetLook | None, prices: ModelPrices
) -> tuple[dict[str, dict[str, Price]], list[str]]:
    model = find_model(prices.model_id)
    prompt_tokens = (look.median_prompt_tokens if look else None) or 200
    answer_tokens = (look.median_answer_tokens if look else None) or 200
    examples = max(_examples(goal, look), MIN_EXAMPLES)
    epochs = 2
    training_tokens = examples * (prompt_tokens + answer_tokens) * epochs
    requests = goal.requests_per_month
    assumptions = [
        f"prices of {model.name} ({model.id}) in {prices.region}: {prices.provenance}",
        f"{prompt_tokens} prompt and {answer_tokens} answer tokens per request"
        + (" (dataset medians)" if look and look.pairs else " (assumed)"),
        f"training on {examples} examples for {epochs} epochs ({training_tokens} tokens)",
        f"{requests} requests per month",
        f"RAG adds {RETRIEVED_CONTEXT_TOKENS} retrieved tokens to each prompt",
    ]
    per_request_in = prompt_tokens / 1000 * requests
    rag_in = (prompt_tokens + RETRIEVED_CONTEXT_TOKENS) / 1000 * requests
    out = answer_tokens / 1000 * requests
    tuned: dict[str, Price] = {
        "training": prices.training.times(training_tokens / 1000, "one job"),
        "storage": prices.storage,
        "serving_input": prices.on_demand_input.times(per_request_in, "per month"),
        "serving_output": prices.on_demand_output.times(out, "per month"),
        "provisioned_throughput": prices.provisioned.times(HOURS_PER_MONTH, "per month, 1 MU"),
    }
    rag: dict[str, Price] = {
        "embedding": Price.unknown("per 1K tokens embedded", _UNKNOWN_KB.format(what="embedding")),
        "retrieval": Price.unknown("per month", _UNKNOWN_KB.format(what="retrieval")),
        "generation_input": prices.on_demand_input.times(rag_in, "per month"),
        "generation_output": prices.on_demand_output.times(out, "per month"),
    }
    return {"fine-tune": tuned, "rag": rag}, assumptions


def advise(
    goal: Goal,
    look: DatasetLook | None = None,
    *,
    model_id: str = DEFAULT_MODEL,
    region: str | None = None,
    prices: ModelPrices | None = None,
) -> Advice:
    """The recommendation for `goal` (and the dataset `look`, if any), with reasons, the costs
    of both paths for `model_id` and the next step. `prices` are the model's prices (from
    `model_prices`, which is what is used when they are not given).

    Raises:
        NotFoundError: `model_id` is not in the catalog (from `find_model`).
    """
    recommendation, reasons = _choose(goal, look)
    prices = prices or model_prices(model_id, region)
    costs, assumptions = _costs(goal, look, prices)
    notes: list[str] = []
    if prices.source == "built-in" and prices.notes:
        notes.append(f"The built-in prices stand in: {prices.notes[0]}.")  # why, said once
    if look is not None and look.pairs == 0:
        notes.append(
            f"No prompt/answer pairs found in {look.source} (looked for prompt/completion, "
            "question/answer, instruction/response, input/output and chat messages)."
        )
    if look is not None and look.truncated:
        notes.append(f"Only the first {look.records} records were read.")
    return Advice(
        recommendation=recommendation,
        reasons=tuple(reasons),
        costs=costs,
        next_step=_NEXT_STEPS[recommendation],
        assumptions=tuple(assumptions),
        defaulted=goal.defaulted,
        dataset=look,
        notes=tuple(notes),
    )
