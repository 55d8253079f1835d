"""The "fine-tune or RAG?" logic: each recommendation, the dataset look, costs and defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.advise import (
    MIN_EXAMPLES,
    QUESTIONS,
    SAMPLE_LIMIT,
    advise,
    goal_from_answers,
    look_at_dataset,
    prompt_and_answer,
    summarize_records,
)
from core.data.sources import SourceSpec
from core.errors import NotFoundError


def test_style_with_enough_examples_is_fine_tune() -> None:
    advice = advise(goal_from_answers({"style_or_format": True, "labeled_examples": 500}))
    assert advice.recommendation == "fine-tune"
    assert any("style" in r for r in advice.reasons)
    assert "bedrock-tune" in advice.next_step


def test_changing_knowledge_alone_is_rag_and_names_knowledge_bases() -> None:
    advice = advise(goal_from_answers({"changing_knowledge": True}))
    assert advice.recommendation == "rag"
    assert "Amazon Bedrock Knowledge Bases" in advice.next_step


def test_skill_and_changing_knowledge_is_both() -> None:
    goal = goal_from_answers(
        {"task_skill": True, "changing_knowledge": True, "labeled_examples": MIN_EXAMPLES}
    )
    assert advise(goal).recommendation == "both"


def test_nothing_needed_is_neither() -> None:
    advice = advise(goal_from_answers({}))
    assert advice.recommendation == "neither"
    assert advice.defaulted == tuple(q.name for q in QUESTIONS)


def test_too_few_examples_drops_fine_tuning_with_a_reason() -> None:
    few = goal_from_answers({"style_or_format": True, "labeled_examples": MIN_EXAMPLES - 1})
    advice = advise(few)
    assert advice.recommendation == "neither"
    assert any(f"Only {MIN_EXAMPLES - 1} labelled examples" in r for r in advice.reasons)
    few_with_knowledge = goal_from_answers(
        {"style_or_format": True, "changing_knowledge": True, "labeled_examples": 3}
    )
    assert advise(few_with_knowledge).recommendation == "rag"


def test_latency_adds_a_reason_without_changing_the_answer() -> None:
    base = {"task_skill": True, "labeled_examples": 1000}
    fast = advise(goal_from_answers({**base, "latency_sensitive": True}))
    assert fast.recommendation == advise(goal_from_answers(base)).recommendation == "fine-tune"
    assert any("Latency" in r for r in fast.reasons)


def test_defaulted_lists_only_unanswered_questions() -> None:
    goal = goal_from_answers({"task_skill": False, "requests_per_month": 5})
    assert "task_skill" not in goal.defaulted and "requests_per_month" not in goal.defaulted
    assert "changing_knowledge" in goal.defaulted


def test_bad_answers_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown question"):
        goal_from_answers({"style": True})
    with pytest.raises(ValueError, match="negative"):
        goal_from_answers({"labeled_examples": -1})


def _grounded_records(n: int) -> list[dict[str, str]]:
    return [
        {
            "context": f"The warehouse in Lyon opened in {1990 + i} and stores bicycle parts.",
            "question": "When did the warehouse open and what does it store?",
            "answer": f"The warehouse opened in {1990 + i} and stores bicycle parts.",
        }
        for i in range(n)
    ]


def _free_records(n: int) -> list[dict[str, str]]:
    return [
        {"prompt": f"Write a haiku number {i}", "completion": "Autumn moonlight drifts softly"}
        for i in range(n)
    ]


def test_answers_grounded_in_the_prompt_point_to_retrieval() -> None:
    look = summarize_records("qa.jsonl", _grounded_records(200))
    assert look.pairs == 200 and look.grounded_share == 1.0
    advice = advise(goal_from_answers({}), look)
    assert advice.recommendation == "rag"


def test_answers_the_model_must_produce_with_enough_pairs_point_to_tuning() -> None:
    look = summarize_records("haiku.jsonl", _free_records(MIN_EXAMPLES))
    assert look.grounded_share == 0.0
    assert advise(goal_from_answers({}), look).recommendation == "fine-tune"
    small = summarize_records("haiku.jsonl", _free_records(MIN_EXAMPLES - 1))
    advice = advise(goal_from_answers({}), small)
    assert advice.recommendation == "neither"
    assert any(f"Only {MIN_EXAMPLES - 1} labelled examples" in r for r in advice.reasons)
    assert "Until there are enough examples" in advice.reasons[-1]


def test_chat_records_and_unknown_shapes() -> None:
    chat = {
        "messages": [
            {"role": "system", "content": "be terse"},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello"},
        ]
    }
    assert prompt_and_answer(chat) == ("be terse\nhi", "hello")
    assert prompt_and_answer({"text": "just text"}) is None
    look = summarize_records("odd.jsonl", [{"text": "x"}] * 3)
    assert look.pairs == 0 and look.grounded_share is None
    advice = advise(goal_from_answers({}), look)
    assert any("No prompt/answer pairs" in n for n in advice.notes)


def test_only_a_sample_is_read() -> None:
    look = summarize_records("big", _free_records(SAMPLE_LIMIT + 5))
    assert look.records == SAMPLE_LIMIT and look.truncated


def test_look_at_a_jsonl_file(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in _grounded_records(4)) + "\n")
    look = look_at_dataset(SourceSpec(str(path)))
    assert look.records == 4 and look.pairs == 4
    assert look.median_answer_tokens is not None and look.median_answer_tokens > 0


def test_costs_have_sources_and_knowledge_base_prices_are_unknown() -> None:
    goal = goal_from_answers({"requests_per_month": 1000, "labeled_examples": 1000})
    advice = advise(goal, model_id="amazon.nova-micro-v1:0:128k")
    tuned, rag = advice.costs["fine-tune"], advice.costs["rag"]
    training = tuned["training"]
    # 1000 examples x (200 + 200) assumed tokens x 2 epochs at $0.001 per 1K tokens
    assert training.amount == pytest.approx(0.8)
    assert training.source == "built-in" and training.as_of
    assert not rag["embedding"].is_known and "Knowledge Bases" in rag["embedding"].todo
    assert not rag["retrieval"].is_known
    # retrieval makes every prompt longer than the tuned model's
    assert rag["generation_input"].amount is not None
    assert tuned["serving_input"].amount is not None
    assert rag["generation_input"].amount > tuned["serving_input"].amount
    data = advice.to_json()
    assert data["costs"]["rag"]["embedding"]["amount"] is None
    json.dumps(data)


def test_unknown_model_is_a_clear_error() -> None:
    with pytest.raises(NotFoundError, match=r"no\.such-model"):
        advise(goal_from_answers({}), model_id="no.such-model")
