"""An LLM as judge: a Bedrock base model from the catalog grades each answer by a rubric, with a
one-line reason, and says which of two answers is better.

Rules it keeps:

* A judge answer that is not a score is asked for once more (shown its own answer and the
  format again); a second miss is counted as unparseable. A score is never guessed.
* A pairwise judgement is asked in both orders (tuned first, then base first): a model that
  prefers whichever answer comes first cancels out. Only a preference given in both orders
  counts; orders that disagree are a tie, and both answers are recorded.
* Throttling is retried (`core.evaluation.retry`); a judge the account may not call stops the
  evaluation before anything is spent, explained as model access (`Judge.check_access`).
* The judge should not be the model under test: `self_judging_warning` says so.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from core.errors import AccessDeniedError, NotFoundError
from core.evaluation.retry import retry_throttled
from core.evaluation.rubrics import SCALE, Rubric
from core.serving.chat import Settings, Turn, converse

if TYPE_CHECKING:
    from core.aws import AwsContext
    from core.evaluation.records import TestRecord

JUDGE_SETTINGS = Settings(max_tokens=300, temperature=0.0, top_p=1.0)
"""Deterministic and short: a JSON object with a one-line reason."""
REASON_CHARS = 200
_OBJECT = re.compile(r"\{.*\}", re.DOTALL)

SYSTEM = (
    "You are a strict, fair grader of answers written by another AI model. You follow the "
    "rubric exactly, you do not reward length, and you reply with one JSON object only."
)
RETRY_PROMPT = (
    "That reply was not the JSON object asked for. Reply again with only the JSON object, "
    "exactly in this shape: {shape}"
)

Status = Literal["scored", "unparseable", "failed"]
Side = Literal["tuned", "base", "tie"]


@dataclass(frozen=True)
class Verdict:
    """The judge's grade of one answer."""

    status: Status
    scores: dict[str, int] | None
    reason: str
    attempts: int
    """1, or 2 when the first reply was not a score."""
    raw: str = ""
    """The judge's last reply when it could not be read (kept so a person can see why)."""

    @property
    def overall(self) -> float | None:
        """The criteria's mean scaled to 0..1 ((score - 1) / 4); None when not scored."""
        if not self.scores:
            return None
        low, high = SCALE
        return sum((s - low) / (high - low) for s in self.scores.values()) / len(self.scores)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "status": self.status,
            "scores": self.scores,
            "overall": self.overall,
            "reason": self.reason,
            "attempts": self.attempts,
            "raw": self.raw,
        }


@dataclass(frozen=True)
class PairVerdict:
    """Which of two answers the judge prefers, asked in both orders."""

    winner: Side | None
    """None when either order's reply could not be read."""
    tuned_first: str | None
    """The reply with the tuned answer shown first: `1`, `2` or `tie` (None: unreadable)."""
    base_first: str | None
    reason: str

    @property
    def consistent(self) -> bool:
        """Both orders named the same answer (or both said tie)."""
        return self.winner is not None and (
            self.winner != "tie" or (self.tuned_first == self.base_first == "tie")
        )

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "winner": self.winner,
            "tuned_first": self.tuned_first,
            "base_first": self.base_first,
            "consistent": self.consistent,
            "reason": self.reason,
        }


def _task_text(record: TestRecord) -> str:
    return f"{record.system}\n\n{record.user}".strip() if record.system else record.user


def scores_shape(rubric: Rubric) -> str:
    """The JSON object the judge must reply with, as shown to it."""
    fields = ", ".join(f'"{c.name}": <{SCALE[0]}-{SCALE[1]}>' for c in rubric.criteria)
    return "{" + fields + ', "reason": "<one line>"}'


PAIR_SHAPE = '{"better": "1" | "2" | "tie", "reason": "<one line>"}'


def score_prompt(rubric: Rubric, record: TestRecord, answer: str) -> str:
    """The user message that asks for the scores of one answer."""
    criteria = "\n".join(f"- {c.name}: {c.description}" for c in rubric.criteria)
    return (
        f"{rubric.instructions}\n\n"
        f"Score the ANSWER to the TASK on each criterion, from {SCALE[0]} (worst) to "
        f"{SCALE[1]} (best), using the REFERENCE answer as a guide:\n{criteria}\n\n"
        f"<task>\n{_task_text(record)}\n</task>\n"
        f"<reference>\n{record.reference}\n</reference>\n"
        f"<answer>\n{answer}\n</answer>\n\n"
        f"Reply with one JSON object and nothing else: {scores_shape(rubric)}"
    )


def pair_prompt(rubric: Rubric, record: TestRecord, first: str, second: str) -> str:
    """The user message that asks which of two answers is better."""
    criteria = "\n".join(f"- {c.name}: {c.description}" for c in rubric.criteria)
    return (
        f"{rubric.instructions}\n\n"
        "Two answers were written for the same TASK. Using the REFERENCE answer as a guide, "
        f"which answer is better on these criteria taken together?\n{criteria}\n\n"
        f"<task>\n{_task_text(record)}\n</task>\n"
        f"<reference>\n{record.reference}\n</reference>\n"
        f"<answer_1>\n{first}\n</answer_1>\n"
        f"<answer_2>\n{second}\n</answer_2>\n\n"
        f"Reply with one JSON object and nothing else: {PAIR_SHAPE}"
    )


def _json_object(text: str) -> dict[str, Any] | None:
    match = _OBJECT.search(text)
    if match is None:
        return None
    try:
        # strict=False: a judge may break its reason over lines inside the string.
        data = json.loads(match.group(0), strict=False)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _one_line(reason: Any) -> str:
    text = " ".join(str(reason or "").split())
    return text[: REASON_CHARS - 1] + "…" if len(text) > REASON_CHARS else text


def _whole(value: Any) -> int | None:
    """A whole-number score: 4, 4.0 or "4"; None for anything else (3.5 is not on the scale)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def parse_scores(text: str, rubric: Rubric) -> tuple[dict[str, int], str] | None:
    """(scores by criterion, one-line reason) from a judge reply; None unless every criterion
    has a whole number on the scale."""
    data = _json_object(text)
    if data is None:
        return None
    scores: dict[str, int] = {}
    for criterion in rubric.criteria:
        value = _whole(data.get(criterion.name))
        if value is None or not SCALE[0] <= value <= SCALE[1]:
            return None
        scores[criterion.name] = value
    return scores, _one_line(data.get("reason"))


def parse_preference(text: str) -> tuple[str, str] | None:
    """(`1`, `2` or `tie`, one-line reason) from a pairwise reply; None when unreadable."""
    data = _json_object(text)
    if data is None:
        return None
    better = str(data.get("better", "")).strip().lower()
    if better not in ("1", "2", "tie"):
        return None
    return better, _one_line(data.get("reason"))


def self_judging_warning(judge_model: str, under_test: Sequence[str | None]) -> str | None:
    """A warning when the judge is (the base of) a model under test: a model tends to prefer
    answers like its own."""
    from core.catalog.lookup import find_model

    try:
        judge = find_model(judge_model)
    except NotFoundError:
        return None
    for model in under_test:
        if not model:
            continue
        try:
            tested = find_model(model)
        except NotFoundError:
            continue
        if tested.id == judge.id:
            return (
                f"The judge, {judge.name}, is also a model under test (or the tuned model's "
                "base): it may favour answers like its own. Pick another judge for a fair grade."
            )
    return None


def resolve_judge(model: str) -> str:
    """The id to call a catalog base model by, from its name, customization id or inference id.

    Raises:
        NotFoundError: not a model of the catalog (the judge must be a Bedrock base model).
    """
    from core.catalog.lookup import find_model

    try:
        return find_model(model).inference_id
    except NotFoundError as error:
        error.title = "Unknown judge model"
        error.hint = (
            "The judge is a Bedrock base model of the catalog, by name or id (for example "
            "'Nova Pro' or us.amazon.nova-pro-v1:0). " + error.hint
        )
        raise


class Judge:
    """Grades answers with one judge model and one rubric (thread-safe: one judge is shared by
    the evaluation's worker threads)."""

    def __init__(
        self,
        context: AwsContext,
        model_id: str,
        rubric: Rubric,
        *,
        settings: Settings = JUDGE_SETTINGS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.context = context
        self.model_id = model_id
        self.rubric = rubric
        self.settings = settings
        self.sleep = sleep
        self._lock = threading.Lock()
        self.input_tokens = 0
        self.output_tokens = 0
        self.calls = 0

    def _ask(self, turns: list[Turn]) -> str:
        def call() -> str:
            try:
                answer = converse(
                    self.context, self.model_id, SYSTEM, turns, self.settings, sleep=self.sleep
                )
            except AccessDeniedError as error:
                raise AccessDeniedError(
                    f"The judge {self.model_id} cannot be called in {self.context.region}: "
                    f"{error.message}",
                    title="No access to the judge model",
                    hint=f"The account may not have been granted {self.model_id} in "
                    f"{self.context.region}: open the Bedrock console, Model access, and request "
                    "it (an inference profile such as us.* needs access in every region it "
                    "routes to); or pick another judge. Your identity also needs "
                    "bedrock:InvokeModel on it.",
                ) from error
            with self._lock:
                self.calls += 1
                self.input_tokens += answer.input_tokens or 0
                self.output_tokens += answer.output_tokens or 0
            return answer.text

        return retry_throttled(call, self.sleep)

    def check_access(self) -> None:
        """One tiny call before anything is spent: a judge the account may not call raises
        AccessDeniedError explained as model access."""
        self._ask([Turn("user", 'Reply with {"ok": true}')])

    def _twice(self, prompt: str, shape: str, parse: Callable[[str], Any]) -> tuple[Any, int, str]:
        """Ask; when the reply cannot be read, ask once more. (parsed or None, attempts, last
        reply)."""
        turns = [Turn("user", prompt)]
        reply = self._ask(turns)
        parsed = parse(reply)
        if parsed is not None:
            return parsed, 1, reply
        turns += [
            Turn("assistant", reply or "(empty)"),
            Turn("user", RETRY_PROMPT.format(shape=shape)),
        ]
        reply = self._ask(turns)
        return parse(reply), 2, reply

    def score(self, record: TestRecord, answer: str) -> Verdict:
        """Grade one answer by the rubric."""
        prompt = score_prompt(self.rubric, record, answer)
        parsed, attempts, reply = self._twice(
            prompt, scores_shape(self.rubric), lambda text: parse_scores(text, self.rubric)
        )
        if parsed is None:
            return Verdict("unparseable", None, "", attempts, reply[:REASON_CHARS])
        scores, reason = parsed
        return Verdict("scored", scores, reason, attempts)

    def _prefer_once(self, record: TestRecord, first: str, second: str) -> tuple[str, str] | None:
        prompt = pair_prompt(self.rubric, record, first, second)
        parsed, _, _ = self._twice(prompt, PAIR_SHAPE, parse_preference)
        return parsed  # type: ignore[no-any-return]

    def prefer(self, record: TestRecord, tuned: str, base: str) -> PairVerdict:
        """Which answer is better, asked in both orders (see the module doc)."""
        one = self._prefer_once(record, tuned, base)
        two = self._prefer_once(record, base, tuned)
        tuned_first = one[0] if one else None
        base_first = two[0] if two else None
        reason = (one[1] if one else "") or (two[1] if two else "")
        if one is None or two is None:
            return PairVerdict(None, tuned_first, base_first, reason)
        as_tuned = {"1": "tuned", "2": "base", "tie": "tie"}[one[0]]
        as_base = {"1": "base", "2": "tuned", "tie": "tie"}[two[0]]
        winner: Side = as_tuned if as_tuned == as_base else "tie"  # type: ignore[assignment]
        return PairVerdict(winner, tuned_first, base_first, reason)
