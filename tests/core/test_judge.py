"""The LLM judge: its Converse request and the parsing of its replies (botocore Stubber, so the
request is checked against the real Converse model), the retry of a reply that is not a score,
both orders of a pairwise judgement, model access, throttling, and rubrics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from core.aws import AwsContext
from core.errors import AccessDeniedError, NotFoundError, ThrottledError, ValidationError
from core.evaluation.evaluate import TestRecord as Record
from core.evaluation.judge import (
    JUDGE_SETTINGS,
    SYSTEM,
    Judge,
    pair_prompt,
    parse_preference,
    parse_scores,
    resolve_judge,
    score_prompt,
    self_judging_warning,
)
from core.evaluation.rubrics import PRESETS, load_rubric

JUDGE = "us.amazon.nova-pro-v1:0"
RECORD = Record(
    3, "Summarize the dialogue.", "#A#: Hi. #B#: Hello, lunch at noon?", "They plan lunch at noon."
)
SUMMARY = PRESETS["summarization"]


def reply(text: str) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 200, "outputTokens": 30, "totalTokens": 230},
        "metrics": {"latencyMs": 9},
    }


def expected_request(*texts: str) -> dict[str, Any]:
    roles = ["user", "assistant"]
    return {
        "modelId": JUDGE,
        "system": [{"text": SYSTEM}],
        "messages": [
            {"role": roles[i % 2], "content": [{"text": text}]} for i, text in enumerate(texts)
        ],
        "inferenceConfig": JUDGE_SETTINGS.to_api(),
    }


@pytest.fixture
def context(aws_keys: None) -> AwsContext:
    return AwsContext.from_environment(region="us-east-1")


def test_the_judge_request_and_a_score_read_from_its_reply(context: AwsContext) -> None:
    judge = Judge(context, JUDGE, SUMMARY, sleep=lambda _: None)
    prompt = score_prompt(SUMMARY, RECORD, "Lunch at noon.")
    # The prompt names each criterion, the task, the reference, the answer and the shape.
    for part in (
        "faithful",
        "complete",
        "concise",
        "#A#: Hi.",
        "They plan lunch",
        "Lunch at noon.",
    ):
        assert part in prompt
    answer = (
        '```json\n{"faithful": 5, "complete": 4, "concise": "5", '
        '"reason": "Accurate\nand short."}\n```'
    )
    with Stubber(context.client("bedrock-runtime")) as stub:
        stub.add_response("converse", reply(answer), expected_request(prompt))
        verdict = judge.score(RECORD, "Lunch at noon.")
        stub.assert_no_pending_responses()
    assert verdict.status == "scored" and verdict.attempts == 1
    assert verdict.scores == {"faithful": 5, "complete": 4, "concise": 5}
    assert verdict.reason == "Accurate and short."  # one line
    assert verdict.overall == pytest.approx((1 + 0.75 + 1) / 3)
    assert (judge.calls, judge.input_tokens, judge.output_tokens) == (1, 200, 30)


def test_a_reply_that_is_not_a_score_is_asked_once_more_then_counted(context: AwsContext) -> None:
    judge = Judge(context, JUDGE, SUMMARY, sleep=lambda _: None)
    prompt = score_prompt(SUMMARY, RECORD, "x")
    first = "I would give it a 4 overall."
    with Stubber(context.client("bedrock-runtime")) as stub:
        stub.add_response("converse", reply(first), expected_request(prompt))
        # The retry shows the judge its own reply and the shape again (a conversation).
        stub.add_response(
            "converse",
            reply('{"faithful": 3.5, "complete": 4, "concise": 4}'),
            {
                **expected_request(prompt),
                "messages": [
                    {"role": "user", "content": [{"text": prompt}]},
                    {"role": "assistant", "content": [{"text": first}]},
                    {"role": "user", "content": ANY},
                ],
            },
        )
        verdict = judge.score(RECORD, "x")
        stub.assert_no_pending_responses()
    # 3.5 is not on the 1-5 scale: never rounded, never guessed.
    assert verdict.status == "unparseable" and verdict.scores is None
    assert verdict.attempts == 2 and verdict.overall is None
    assert "3.5" in verdict.raw

    with Stubber(context.client("bedrock-runtime")) as stub:
        stub.add_response("converse", reply("Sorry?"))
        stub.add_response(
            "converse",
            reply('{"faithful": 2, "complete": 2, "concise": 4, "reason": "misses the time"}'),
        )
        second = judge.score(RECORD, "x")
    assert second.status == "scored" and second.attempts == 2 and second.reason == "misses the time"


def test_parsing_is_strict() -> None:
    assert parse_scores('{"faithful": 5, "complete": 5}', SUMMARY) is None  # one missing
    assert parse_scores('{"faithful": 6, "complete": 5, "concise": 5}', SUMMARY) is None
    assert parse_scores('{"faithful": true, "complete": 5, "concise": 5}', SUMMARY) is None
    assert parse_scores("no json at all", SUMMARY) is None
    assert parse_scores('{"faithful": 1, "complete": 2, "concise": 3}', SUMMARY) == (
        {"faithful": 1, "complete": 2, "concise": 3},
        "",
    )
    assert parse_preference('{"better": "2", "reason": "shorter"}') == ("2", "shorter")
    assert parse_preference('{"better": "TIE"}') == ("tie", "")
    assert parse_preference('{"better": "both"}') is None


def test_pairwise_is_asked_in_both_orders(context: AwsContext) -> None:
    judge = Judge(context, JUDGE, SUMMARY, sleep=lambda _: None)
    client = context.client("bedrock-runtime")
    # Consistent: the tuned answer wins in both orders (answer 1, then answer 2).
    with Stubber(client) as stub:
        stub.add_response("converse", reply('{"better": "1", "reason": "complete"}'))
        stub.add_response("converse", reply('{"better": "2", "reason": "complete"}'))
        verdict = judge.prefer(RECORD, "tuned answer", "base answer")
    assert verdict.winner == "tuned" and verdict.consistent
    assert (verdict.tuned_first, verdict.base_first) == ("1", "2")
    # A judge that always prefers the first answer shown: the orders disagree, so a tie.
    with Stubber(client) as stub:
        stub.add_response("converse", reply('{"better": "1"}'))
        stub.add_response("converse", reply('{"better": "1"}'))
        biased = judge.prefer(RECORD, "tuned answer", "base answer")
    assert biased.winner == "tie" and not biased.consistent
    assert biased.to_json()["tuned_first"] == "1" and biased.to_json()["base_first"] == "1"
    # The second order shows the base answer first.
    with Stubber(client) as stub:
        stub.add_response("converse", reply('{"better": "2"}'))
        stub.add_response(
            "converse",
            reply('{"better": "1"}'),
            expected_request(pair_prompt(SUMMARY, RECORD, "base answer", "tuned answer")),
        )
        base_wins = judge.prefer(RECORD, "tuned answer", "base answer")
        stub.assert_no_pending_responses()
    assert base_wins.winner == "base" and base_wins.consistent


def test_a_judge_without_access_is_explained_as_model_access(context: AwsContext) -> None:
    judge = Judge(context, JUDGE, SUMMARY, sleep=lambda _: None)
    with Stubber(context.client("bedrock-runtime")) as stub:
        stub.add_client_error(
            "converse",
            "AccessDeniedException",
            "You don't have access to the model with the specified model ID.",
            403,
        )
        with pytest.raises(AccessDeniedError) as caught:
            judge.check_access()
    assert caught.value.title == "No access to the judge model"
    assert "Model access" in caught.value.hint and "us-east-1" in caught.value.hint
    assert JUDGE in caught.value.message


def test_throttling_is_retried_then_reported(context: AwsContext) -> None:
    slept: list[float] = []
    judge = Judge(context, JUDGE, SUMMARY, sleep=slept.append)
    with Stubber(context.client("bedrock-runtime")) as stub:
        for _ in range(2):
            stub.add_client_error("converse", "ThrottlingException", "Rate exceeded", 429)
        stub.add_response("converse", reply('{"faithful": 4, "complete": 4, "concise": 4}'))
        verdict = judge.score(RECORD, "x")
    assert verdict.status == "scored" and slept == [2.0, 4.0]
    slept.clear()
    with Stubber(context.client("bedrock-runtime")) as stub:
        for _ in range(4):
            stub.add_client_error("converse", "ThrottlingException", "Rate exceeded", 429)
        with pytest.raises(ThrottledError):
            judge.score(RECORD, "x")
    assert slept == [2.0, 4.0, 8.0]


def test_the_judge_comes_from_the_catalog_and_warns_when_it_is_under_test() -> None:
    assert resolve_judge("Nova Pro") == "us.amazon.nova-pro-v1:0"
    assert resolve_judge("amazon.nova-pro-v1:0:300k") == "us.amazon.nova-pro-v1:0"
    with pytest.raises(NotFoundError) as caught:
        resolve_judge("gpt-5")
    assert caught.value.title == "Unknown judge model"
    warning = self_judging_warning("us.amazon.nova-micro-v1:0", ["amazon.nova-micro-v1:0:128k"])
    assert warning is not None and "Nova Micro" in warning
    assert self_judging_warning(JUDGE, ["amazon.nova-micro-v1:0:128k", None]) is None


def test_rubrics_presets_and_custom(tmp_path: Path) -> None:
    assert load_rubric("preset:text-to-sql").criteria[0].name == "answers"
    with pytest.raises(ValidationError):
        load_rubric("preset:poetry")
    template = tmp_path / "support.toml"
    template.write_text(
        'name = "support"\nuser = "{q}"\nassistant = "{a}"\n\n[rubric]\nname = "support"\n'
        'instructions = "Grade support answers."\n\n[rubric.criteria]\n'
        'resolves = "It resolves the issue."\npolite = "It is courteous."\n'
    )
    rubric = load_rubric(str(template))
    assert [c.name for c in rubric.criteria] == ["resolves", "polite"]
    assert rubric.to_json()["criteria"]["polite"] == "It is courteous."
    # The template loader accepts (and round-trips) the rubric table.
    from core.data.templates import load_template, template_to_toml

    loaded = load_template(str(template))
    assert "resolves" in template_to_toml(loaded)
    bad = tmp_path / "bad.toml"
    bad.write_text('[rubric]\nname = "x"\n[rubric.criteria]\n"Bad Name" = "x"\n')
    with pytest.raises(ValidationError) as caught:
        load_rubric(str(bad))
    assert "lower-case" in caught.value.message
    (tmp_path / "none.toml").write_text('name = "x"\n')
    with pytest.raises(ValidationError, match="no \\[rubric\\] table"):
        load_rubric(str(tmp_path / "none.toml"))
    with pytest.raises(ValidationError, match="no such file"):
        load_rubric(str(tmp_path / "missing.toml"))
    assert json.dumps(rubric.to_json())
