"""Inference in the sandbox: provisioned throughput, custom model deployments and Converse.

moto implements none of these. Here a provisioned throughput or a deployment is `Creating` for
`ready_seconds` (by the injected clock), then `InService` / `Active`; at most two no-commitment
provisioned throughputs exist at once, as in a real account. Converse answers honestly: a custom
model answers with the reference answer of its most similar training record (and says so); a
base model says it is the sandbox. Nothing here pretends to be a language model.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from core.sandbox.paging import page

MAX_NO_COMMITMENT_PT = 2
_WORDS = re.compile(r"[a-z0-9]+")


@dataclass
class _Resource:
    kind: str
    name: str
    arn: str
    model_arn: str
    created: float
    created_at: datetime
    units: int = 1
    commitment: str | None = None
    deleted: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _same_token(live: list[_Resource], body: dict[str, Any]) -> _Resource | None:
    """The live resource an earlier request with this body's `clientRequestToken` made: AWS
    ignores a repeated request ("If this token matches a previous request, Amazon Bedrock ignores
    the request, but does not return an error") and answers with that resource."""
    token = body.get("clientRequestToken")
    return next((i for i in live if token and i.extra.get("token") == token), None)


def _words(text: str) -> set[str]:
    return set(_WORDS.findall(text.lower()))


class InferenceSimulator:
    """Provisioned throughputs, deployments and Converse for one sandbox."""

    def __init__(
        self,
        ready_seconds: float = 20.0,
        clock: Callable[[], float] = time.time,
        page_size: int = 100,
    ) -> None:
        self.ready_seconds = ready_seconds
        self._clock = clock
        self.page_size = page_size
        """Items per List page when the request names no maxResults."""
        self._lock = threading.Lock()
        self._items: dict[str, _Resource] = {}

    def _status(self, item: _Resource, ready: str) -> str:
        return ready if self._clock() - item.created >= self.ready_seconds else "Creating"

    def _stamp(self, item: _Resource, later: bool = False) -> str:
        seconds = min(self._clock() - item.created, self.ready_seconds) if later else 0.0
        return (item.created_at + timedelta(seconds=seconds)).isoformat()

    # ------------------------------------------------------------------ provisioned throughput

    def create_throughput(
        self,
        region: str,
        account: str,
        body: dict[str, Any],
        model_arn: str,
        foundation_model_arn: str,
    ) -> tuple[int, Any]:
        """CreateProvisionedModelThroughput of `model_arn` (resolved by the caller), a model
        customized from `foundation_model_arn` (or that foundation model itself)."""
        name = str(body.get("provisionedModelName", ""))
        with self._lock:
            live = [i for i in self._items.values() if i.kind == "pt" and not i.deleted]
            again = _same_token(live, body)
            if again is not None:
                return 201, {"provisionedModelArn": again.arn}
            if any(i.name == name for i in live):
                return 409, ("ConflictException", f"A provisioned model named {name} exists.")
            if not body.get("commitmentDuration") and sum(not i.commitment for i in live) >= (
                MAX_NO_COMMITMENT_PT
            ):
                return 400, (
                    "ServiceQuotaExceededException",
                    "You have reached the quota of 2 no-commitment provisioned throughputs for "
                    "custom models in this account.",
                )
            arn = f"arn:aws:bedrock:{region}:{account}:provisioned-model/{uuid.uuid4().hex[:12]}"
            self._items[arn] = _Resource(
                "pt",
                name,
                arn,
                model_arn,
                self._clock(),
                datetime.now(UTC),
                int(body.get("modelUnits") or 1),
                body.get("commitmentDuration"),
                extra={
                    "foundation_model_arn": foundation_model_arn,
                    "token": body.get("clientRequestToken"),
                },
            )
        return 201, {"provisionedModelArn": arn}

    def _find(self, kind: str, key: str) -> _Resource | None:
        with self._lock:
            for item in self._items.values():
                if item.kind == kind and not item.deleted and key in (item.arn, item.name):
                    return item
        return None

    def _throughput_json(self, item: _Resource) -> dict[str, Any]:
        data = {
            "provisionedModelName": item.name,
            "provisionedModelArn": item.arn,
            "modelArn": item.model_arn,
            "desiredModelArn": item.model_arn,
            "foundationModelArn": item.extra["foundation_model_arn"],
            "modelUnits": item.units,
            "desiredModelUnits": item.units,
            "status": self._status(item, "InService"),
            "creationTime": self._stamp(item),
            "lastModifiedTime": self._stamp(item, later=True),
        }
        if item.commitment:
            data["commitmentDuration"] = item.commitment
        return data

    def get_throughput(self, key: str) -> tuple[int, Any]:
        """GetProvisionedModelThroughput."""
        item = self._find("pt", key)
        if item is None:
            return 404, ("ResourceNotFoundException", f"Provisioned model {key} not found.")
        return 200, self._throughput_json(item)

    def _live(self, kind: str) -> list[_Resource]:
        """Live resources of `kind`, newest first (the List operations' default order)."""
        with self._lock:
            items = [i for i in self._items.values() if i.kind == kind and not i.deleted]
        return list(reversed(items))

    def _list(
        self,
        kind: str,
        key: str,
        render: Callable[[_Resource], dict[str, Any]],
        max_results: str | None,
        next_token: str | None,
    ) -> tuple[int, Any]:
        """One page of the live resources of `kind` as AWS pages them: `maxResults` (1-1000,
        else `page_size`) items from where `nextToken` points, and the token of the next page
        while more remain."""
        items = [render(i) for i in self._live(kind)]
        return page(
            items, key, page_size=self.page_size, max_results=max_results, next_token=next_token
        )

    def list_throughputs(
        self, max_results: str | None = None, next_token: str | None = None
    ) -> tuple[int, Any]:
        """ListProvisionedModelThroughputs, one page."""
        return self._list(
            "pt", "provisionedModelSummaries", self._throughput_json, max_results, next_token
        )

    def delete(self, kind: str, key: str) -> tuple[int, Any]:
        """DeleteProvisionedModelThroughput / DeleteCustomModelDeployment."""
        item = self._find(kind, key)
        if item is None:
            return 404, ("ResourceNotFoundException", f"{key} not found.")
        item.deleted = True
        return 200, {}

    # ------------------------------------------------------------------ deployments

    def create_deployment(self, region: str, account: str, body: dict[str, Any]) -> tuple[int, Any]:
        """CreateCustomModelDeployment."""
        name = str(body.get("modelDeploymentName", ""))
        with self._lock:
            live = [i for i in self._items.values() if i.kind == "deployment" and not i.deleted]
            again = _same_token(live, body)
            if again is not None:
                return 202, {"customModelDeploymentArn": again.arn}
            if any(i.name == name for i in live):
                return 409, ("ConflictException", f"A deployment named {name} exists.")
            arn = (
                f"arn:aws:bedrock:{region}:{account}:custom-model-deployment/"
                f"{uuid.uuid4().hex[:12]}"
            )
            self._items[arn] = _Resource(
                "deployment",
                name,
                arn,
                str(body.get("modelArn", "")),
                self._clock(),
                datetime.now(UTC),
                extra={
                    "description": body.get("description", ""),
                    "token": body.get("clientRequestToken"),
                },
            )
        return 202, {"customModelDeploymentArn": arn}

    def _deployment_json(self, item: _Resource, *, summary: bool = False) -> dict[str, Any]:
        return {
            "customModelDeploymentArn": item.arn,
            ("customModelDeploymentName" if summary else "modelDeploymentName"): item.name,
            "modelArn": item.model_arn,
            "createdAt": self._stamp(item),
            "lastUpdatedAt": self._stamp(item, later=True),
            "status": self._status(item, "Active"),
        }

    def get_deployment(self, key: str) -> tuple[int, Any]:
        """GetCustomModelDeployment."""
        item = self._find("deployment", key)
        if item is None:
            return 404, ("ResourceNotFoundException", f"Deployment {key} not found.")
        return 200, self._deployment_json(item)

    def list_deployments(
        self, max_results: str | None = None, next_token: str | None = None
    ) -> tuple[int, Any]:
        """ListCustomModelDeployments, one page."""
        return self._list(
            "deployment",
            "modelDeploymentSummaries",
            lambda item: self._deployment_json(item, summary=True),
            max_results,
            next_token,
        )

    # ------------------------------------------------------------------ Converse

    def served_model(self, model_id: str) -> tuple[str | None, str | None]:
        """(custom model ARN, why not) for a PT or deployment ARN; (None, None) otherwise."""
        for kind, ready in (("pt", "InService"), ("deployment", "Active")):
            item = self._find(kind, model_id)
            if item is not None:
                if self._status(item, ready) != ready:
                    return None, f"{item.name} is still being created."
                return item.model_arn, None
        return None, None

    def answer(
        self,
        model_id: str,
        question: str,
        training_records: list[dict[str, Any]] | None,
        max_words: int,
    ) -> tuple[str, bool]:
        """(answer, cut at `max_words`): the most similar training record's answer for a custom
        model (`training_records`), else a note that the sandbox has no language model."""
        if training_records is not None:
            text = self._nearest(question, training_records)
        else:
            text = (
                f"[sandbox: base model {model_id}] The sandbox has no language model; this is a "
                "stand-in answer so that the chat works end to end."
            )
        words = text.split()
        if len(words) > max_words:
            return " ".join(words[:max_words]), True
        return text, False

    def converse(
        self, model_id: str, body: dict[str, Any], training_records: list[dict[str, Any]] | None
    ) -> tuple[int, Any]:
        """A Converse answer: the most similar training record's answer, or a sandbox note."""
        started = time.perf_counter()
        messages = body.get("messages") or []
        question = ""
        for message in reversed(messages):
            if message.get("role") == "user":
                question = " ".join(
                    str(block.get("text", "")) for block in message.get("content", [])
                )
                break
        limit = int((body.get("inferenceConfig") or {}).get("maxTokens") or 512)
        answer, cut = self.answer(model_id, question, training_records, limit)
        usage_in = max(1, len(question) // 4)
        usage_out = max(1, len(answer) // 4)
        return 200, {
            "output": {"message": {"role": "assistant", "content": [{"text": answer}]}},
            "stopReason": "max_tokens" if cut else "end_turn",
            "usage": {
                "inputTokens": usage_in,
                "outputTokens": usage_out,
                "totalTokens": usage_in + usage_out,
            },
            "metrics": {"latencyMs": int((time.perf_counter() - started) * 1000) + 1},
        }

    @staticmethod
    def _nearest(question: str, records: list[dict[str, Any]]) -> str:
        wanted = _words(question)
        best, best_score = None, -1.0
        for record in records:
            prompt, reference = _prompt_and_answer(record)
            have = _words(prompt)
            score = len(wanted & have) / (len(wanted | have) or 1)
            if score > best_score:
                best, best_score = reference, score
        note = "[sandbox: answer of the most similar training record]"
        return f"{note} {best}" if best else f"{note} (no training records found)"


def _prompt_and_answer(record: dict[str, Any]) -> tuple[str, str]:
    """The prompt text and the reference answer of a training record, in any format."""
    if "prompt" in record:
        return str(record.get("prompt", "")), str(record.get("completion", ""))
    if "input" in record:
        return str(record["input"]), str(record["input"])
    prompt, answer = [], ""
    for message in record.get("messages") or []:
        content = message.get("content")
        text = (
            content
            if isinstance(content, str)
            else " ".join(str(b.get("text", "")) for b in content or [] if isinstance(b, dict))
        )
        if message.get("role") == "assistant":
            answer = text
        else:
            prompt.append(text)
    return " ".join(prompt), answer


def parse_records(data: bytes, limit: int = 10_000) -> list[dict[str, Any]]:
    """JSON objects of a JSONL training file (bad lines skipped)."""
    records = []
    for line in data.splitlines()[:limit]:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records
