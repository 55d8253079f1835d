"""Prompt templates: a system prompt and user / assistant texts with `{column}` placeholders,
rendered into the exact JSON line Bedrock gets for the model's format.

Syntax: `{column}` inserts a column's text; `{{` and `}}` are literal braces; `[[ ... ]]` is an
optional block, dropped when a placeholder directly inside it is missing or empty (Dolly's
optional context). Blocks nest: `[[Context: {a}[[ (source: {b})]]]]` keeps "Context: ..." when
only `b` is empty, and drops everything when `a` is. A `[[` never closed is a TemplateError
naming its line and column; a `]]` outside any block is literal text (as in `x[y[0]]`).
A template may instead name a `messages_column` that already holds chat messages (a list of
`{role, content}`), mapped straight through with roles renamed.

Templates save and load as TOML; presets cover the seed walkthroughs.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson

from core.atomic import atomic_write_text
from core.catalog.types import DataFormat
from core.errors import TemplateError
from core.files import check_readable_file

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_BLOCK_MARK = re.compile(r"\[\[|\]\]")
_NAME = re.compile(r"[A-Za-z_][\w.-]*")

ProblemKind = Literal["unknown-placeholder", "missing-column", "not-text", "empty", "syntax"]


@dataclass(frozen=True)
class Template:
    """How one dataset record becomes one training record."""

    name: str = "custom"
    description: str = ""
    system: str = ""
    user: str = ""
    assistant: str = ""
    messages_column: str | None = None
    """A column that already holds chat messages; then `user`/`assistant` are not used."""
    role_map: Mapping[str, str] = field(default_factory=dict)
    """Renames for the roles of `messages_column` (e.g. {"human": "user", "gpt": "assistant"})."""
    rubric: Mapping[str, Any] = field(default_factory=dict)
    """An optional `[rubric]` table: how an LLM judge grades answers to these records (read by
    `core.evaluation.rubrics`; kept here as TOML data so the template file round-trips)."""

    def texts(self) -> dict[str, str]:
        """The three editable texts by field name."""
        return {"system": self.system, "user": self.user, "assistant": self.assistant}

    def required_columns(self) -> list[str]:
        """The columns outside optional blocks (a record must have them)."""
        required: dict[str, None] = {}
        for where, text in self.texts().items():
            outside = "".join(p for p in parse_blocks(text, where) if isinstance(p, str))
            for name in _names(outside):
                required.setdefault(name, None)
        if self.messages_column:
            required.setdefault(self.messages_column, None)
        return list(required)


@dataclass(frozen=True)
class Problem:
    """Why a template does not fit a record or the dataset's columns (shown inline)."""

    kind: ProblemKind
    field: str
    """Which text (`system`, `user`, `assistant`) or column the problem is in."""
    message: str


@dataclass(frozen=True)
class Rendered:
    """One record rendered: the texts, or the messages of a chat column."""

    system: str
    messages: tuple[tuple[str, str], ...]
    """(role, text) pairs, user first."""

    @property
    def chars(self) -> int:
        """Characters of system + every message (what `--max-chars` limits)."""
        return len(self.system) + sum(len(text) for _, text in self.messages)

    @property
    def reference(self) -> str:
        """The last assistant text (the reference answer of a test record)."""
        return next((t for r, t in reversed(self.messages) if r == "assistant"), "")


# --------------------------------------------------------------------------- rendering


def _value_text(record: Mapping[str, Any], name: str, where: str) -> str:
    if name not in record:
        raise TemplateError(
            f"The {where} text names the column '{name}', which the record does not have.",
            hint=f"Available columns: {', '.join(record) or 'none'}.",
        )
    value = record[name]
    if value is None:
        raise TemplateError(
            f"Column '{name}' is empty (null) in this record.",
            hint="Drop such records (preparation does) or choose another column.",
        )
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value)
    raise TemplateError(
        f"Column '{name}' holds {type(value).__name__} values, not text.",
        hint="Use a text column; lists of chat messages go in `messages_column`.",
    )


@dataclass(frozen=True)
class Block:
    """An optional block `[[ ... ]]`: its texts and nested blocks, in order."""

    parts: tuple[str | Block, ...]


def _position(text: str, index: int) -> str:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"line {line}, column {column}"


def parse_blocks(text: str, where: str = "template") -> tuple[str | Block, ...]:
    """`text` split into literal texts and optional blocks (nested blocks inside them).

    Raises:
        TemplateError: a `[[` that is never closed, named by its line and column.
    """
    stack: list[tuple[int, list[str | Block]]] = [(-1, [])]
    last = 0
    for mark in _BLOCK_MARK.finditer(text):
        if mark.group(0) == "]]" and len(stack) == 1:
            continue  # not closing anything: literal text
        stack[-1][1].append(text[last : mark.start()])
        last = mark.end()
        if mark.group(0) == "[[":
            stack.append((mark.start(), []))
        else:
            _, parts = stack.pop()
            stack[-1][1].append(Block(tuple(p for p in parts if p != "")))
    stack[-1][1].append(text[last:])
    if len(stack) > 1:
        opened = stack[1][0]
        raise TemplateError(
            f"The {where} text opens an optional block with '[[' at {_position(text, opened)} "
            "and never closes it with ']]'.",
            hint="Close the block with ]] (blocks may nest: [[ {a} [[ {b} ]] ]]).",
        )
    return tuple(p for p in stack[0][1] if p != "")


def check_syntax(template: Template) -> None:
    """Raise TemplateError when a text of `template` has an optional block never closed."""
    for where, text in template.texts().items():
        parse_blocks(text, where)


def _names(text: str) -> list[str]:
    return [m.group(1).strip() for m in _PLACEHOLDER.finditer(text) if m.group(1) is not None]


def _fill_placeholders(text: str, record: Mapping[str, Any], where: str) -> str:
    def placeholder(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        name = (match.group(1) or "").strip()
        if not _NAME.fullmatch(name):
            raise TemplateError(
                f"'{{{name}}}' in the {where} text is not a column placeholder.",
                hint="Placeholders are {column_name}; write {{ and }} for literal braces.",
            )
        return _value_text(record, name, where)

    return _PLACEHOLDER.sub(placeholder, text)


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _fill_parts(parts: tuple[str | Block, ...], record: Mapping[str, Any], where: str) -> str:
    filled: list[str] = []
    for part in parts:
        if isinstance(part, str):
            filled.append(_fill_placeholders(part, record, where))
            continue
        # A block is dropped when a placeholder directly in it is missing, empty or not text;
        # its nested blocks decide for themselves.
        own = [n for p in part.parts if isinstance(p, str) for n in _names(p)]
        if any(_is_empty(record.get(name)) for name in own):
            continue
        try:
            filled.append(_fill_parts(part.parts, record, where))
        except TemplateError:
            continue
    return "".join(filled)


def _fill(text: str, record: Mapping[str, Any], where: str) -> str:
    return _fill_parts(parse_blocks(text, where), record, where)


def render(template: Template, record: Mapping[str, Any]) -> Rendered:
    """Render one record (raises TemplateError saying what does not fit)."""
    system = _fill(template.system, record, "system")
    if template.messages_column:
        return Rendered(system, _chat_messages(template, record))
    user = _fill(template.user, record, "user")
    assistant = _fill(template.assistant, record, "assistant")
    return Rendered(system, (("user", user), ("assistant", assistant)))


def _chat_messages(template: Template, record: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    name = template.messages_column or ""
    value = record.get(name)
    if not isinstance(value, list) or not value:
        raise TemplateError(
            f"Column '{name}' does not hold a list of chat messages.",
            hint='Each record needs a list like [{"role": "user", "content": "..."}].',
        )
    roles = {"human": "user", "gpt": "assistant", "bot": "assistant", **template.role_map}
    messages: list[tuple[str, str]] = []
    for item in value:
        if not isinstance(item, Mapping):
            raise TemplateError(f"Column '{name}' has a message that is not an object.")
        role = str(item.get("role") or item.get("from") or "")
        role = roles.get(role, role)
        content = item.get("content", item.get("value"))
        if role == "system" and isinstance(content, str):
            continue  # Bedrock takes the system prompt separately
        if role not in {"user", "assistant"} or not isinstance(content, str):
            raise TemplateError(
                f"Column '{name}' has a message with role '{role}' or non-text content.",
                hint="Map its roles to user/assistant with role_map in the template.",
            )
        messages.append((role, content))
    return tuple(messages)


def to_bedrock(rendered: Rendered, fmt: DataFormat) -> dict[str, Any]:
    """The training record Bedrock takes for `fmt`."""
    if fmt is DataFormat.CLAUDE_MESSAGES:
        record: dict[str, Any] = {}
        if rendered.system:
            record["system"] = rendered.system
        record["messages"] = [{"role": r, "content": t} for r, t in rendered.messages]
        return record
    if fmt is DataFormat.DISTILLATION_PROMPTS:
        # Exactly one system item (the AWS sample validator requires it, even an empty one) and
        # the answer only when there is one: distillation takes prompts, optionally labeled.
        return {
            "schemaVersion": "bedrock-conversation-2024",
            "system": [{"text": rendered.system}],
            "messages": [
                {"role": r, "content": [{"text": t}]}
                for r, t in rendered.messages
                if r == "user" or t.strip()
            ],
        }
    if fmt is DataFormat.CONVERSATION:
        record = {"schemaVersion": "bedrock-conversation-2024"}
        if rendered.system:
            record["system"] = [{"text": rendered.system}]
        record["messages"] = [{"role": r, "content": [{"text": t}]} for r, t in rendered.messages]
        return record
    users = [t for r, t in rendered.messages if r == "user"]
    if fmt is DataFormat.PROMPT_COMPLETION:
        prompt = "\n\n".join(x for x in (rendered.system, *users) if x)
        return {"prompt": prompt, "completion": rendered.reference}
    return {"input": "\n\n".join(x for x in (rendered.system, *users, rendered.reference) if x)}


def bedrock_line(rendered: Rendered, fmt: DataFormat) -> bytes:
    """The exact compact UTF-8 JSON line (without the newline)."""
    return orjson.dumps(to_bedrock(rendered, fmt))


def diagnose(
    template: Template,
    columns: Iterable[str],
    record: Mapping[str, Any] | None = None,
    fmt: DataFormat | None = None,
) -> list[Problem]:
    """Every reason the template does not fit the columns (and this record), for inline display.

    With `fmt`, an empty assistant text is fine where the format takes prompts only
    (distillation)."""
    names = list(columns)
    available = ", ".join(names) or "none"
    problems: list[Problem] = []
    for where, text in template.texts().items():
        try:
            parse_blocks(text, where)
        except TemplateError as error:
            problems.append(Problem("syntax", where, error.message))
        for match in _PLACEHOLDER.finditer(text):
            name = match.group(1)
            if name is None:
                continue
            if not _NAME.fullmatch(name.strip()):
                problems.append(
                    Problem("syntax", where, f"'{{{name}}}' is not a placeholder; use {{column}}")
                )
            elif name.strip() not in names:
                problems.append(
                    Problem(
                        "unknown-placeholder",
                        where,
                        f"{{{name.strip()}}} names no column; available: {available}",
                    )
                )
    if template.messages_column and template.messages_column not in names:
        problems.append(
            Problem(
                "missing-column",
                "messages_column",
                f"'{template.messages_column}' is not a column; available: {available}",
            )
        )
    if problems or record is None:
        return problems
    try:
        rendered = render(template, record)
    except TemplateError as error:
        kind: ProblemKind = (
            "not-text"
            if "not text" in error.message or "null" in error.message
            else "missing-column"
        )
        return [Problem(kind, "record", f"{error.message} {error.hint}".strip())]
    answer_optional = fmt is not None and fmt.answer_optional
    for role, text in (("system", rendered.system), *rendered.messages):
        if role == "assistant" and answer_optional:
            continue
        if role != "system" and not text.strip():
            problems.append(
                Problem("empty", role, f"the {role} text renders empty for this record")
            )
    if not any(r == "user" for r, _ in rendered.messages):
        problems.append(Problem("empty", "user", "no user turn"))
    return problems


# --------------------------------------------------------------------------- presets and TOML

NEWS_SYSTEM = (
    "Below is an instruction that describes a task, paired with an input that provides further "
    "context. Write a response that appropriately completes the request."
)
PRESETS: dict[str, Template] = {
    "news-summary": Template(
        name="news-summary",
        description="Summarize news articles (the CNN/DailyMail walkthrough): "
        "article -> highlights.",
        system=NEWS_SYSTEM,
        user="instruction:\n\nSummarize the news article provided below.\n\ninput:\n{article}",
        assistant="{highlights}",
    ),
    "dialogue-summary": Template(
        name="dialogue-summary",
        description="Summarize dialogues (DialogSum): dialogue -> summary.",
        system="You summarize conversations in one or two sentences.",
        user="Summarize the following conversation.\n\n{dialogue}",
        assistant="{summary}",
    ),
    "dolly-instruction": Template(
        name="dolly-instruction",
        description="Follow instructions (Dolly): instruction and optional context -> response.",
        system="You are a helpful assistant. Answer the instruction accurately.",
        user="{instruction}[[\n\nContext:\n{context}]]",
        assistant="{response}",
    ),
    "text-to-sql": Template(
        name="text-to-sql",
        description="Text to SQL (sql-create-context): the schema in the system prompt, "
        "question -> SQL.",
        system="You write SQL for the tables below. Answer with one SQL query only.\n\n{context}",
        user="{question}",
        assistant="{answer}",
    ),
}


def template_from_dict(data: Mapping[str, Any], where: str = "template") -> Template:
    """Build a template from TOML data, naming any unknown or mistyped key."""
    known = {
        "name",
        "description",
        "system",
        "user",
        "assistant",
        "messages_column",
        "role_map",
        "rubric",
    }
    unknown = sorted(set(data) - known)
    if unknown:
        raise TemplateError(
            f"{where}: unknown key(s) {', '.join(unknown)}.",
            hint=f"A template has: {', '.join(sorted(known))}.",
        )
    for key in known - {"role_map", "rubric"}:
        if key in data and data[key] is not None and not isinstance(data[key], str):
            raise TemplateError(f"{where}: '{key}' must be a string.", hint="Quote the value.")
    role_map = data.get("role_map") or {}
    if not isinstance(role_map, Mapping):
        raise TemplateError(
            f"{where}: 'role_map' must be a table.", hint='role_map = {human = "user"}'
        )
    rubric = data.get("rubric") or {}
    if not isinstance(rubric, Mapping):
        raise TemplateError(
            f"{where}: 'rubric' must be a table.",
            hint="[rubric] with name, instructions and a [rubric.criteria] table.",
        )
    template = Template(
        name=str(data.get("name") or "custom"),
        description=str(data.get("description") or ""),
        system=str(data.get("system") or ""),
        user=str(data.get("user") or ""),
        assistant=str(data.get("assistant") or ""),
        messages_column=data.get("messages_column") or None,
        role_map={str(k): str(v) for k, v in role_map.items()},
        rubric=dict(rubric),
    )
    if not template.messages_column and not (template.user and template.assistant):
        raise TemplateError(
            f"{where}: a template needs 'user' and 'assistant' texts (or a 'messages_column').",
            hint="See `preset:dialogue-summary` for an example.",
        )
    return template


def load_template(reference: str) -> Template:
    """A template from a TOML file, or `preset:<name>`."""
    if reference.startswith("preset:"):
        name = reference.removeprefix("preset:")
        if name not in PRESETS:
            raise TemplateError(
                f"There is no preset '{name}'.",
                hint=f"Presets: {', '.join('preset:' + p for p in PRESETS)}.",
            )
        return PRESETS[name]
    path = Path(reference).expanduser()
    # Checked from its stat first: a FIFO would block the read, a folder cannot be read.
    check_readable_file(
        path, "template", error=TemplateError, hint="Check the path, or use a preset."
    )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise TemplateError(
            f"The template {path} cannot be read: {error.strerror or error}.",
            hint="Check the file's permissions, or use a preset.",
        ) from None
    except UnicodeDecodeError as error:
        raise TemplateError(
            f"The template {path} is not UTF-8 text (byte {error.start} is not valid UTF-8).",
            hint="Give a template TOML file (text), or use a preset.",
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise TemplateError(
            f"{path}: not valid TOML ({error}).", hint="Fix the line named."
        ) from None
    template = template_from_dict(data, str(path))
    check_syntax(template)
    return template


def template_to_toml(template: Template) -> str:
    """The template as TOML text."""
    import tomli_w

    data: dict[str, Any] = {
        "name": template.name,
        "description": template.description,
        "system": template.system,
        "user": template.user,
        "assistant": template.assistant,
    }
    if template.messages_column:
        data["messages_column"] = template.messages_column
    if template.role_map:
        data["role_map"] = dict(template.role_map)
    if template.rubric:
        data["rubric"] = dict(template.rubric)
    return tomli_w.dumps(data, multiline_strings=True)


def save_template(template: Template, path: Path) -> None:
    """Write the template as TOML (atomically)."""
    atomic_write_text(path, template_to_toml(template))


_GUESSES = (
    ({"article", "highlights"}, "news-summary"),
    ({"dialogue", "summary"}, "dialogue-summary"),
    ({"instruction", "response"}, "dolly-instruction"),
    ({"question", "context", "answer"}, "text-to-sql"),
)


def guess_template(columns: tuple[str, ...]) -> Template:
    """A preset that fits the columns, else a starting point over the first two columns (the
    template step and the prompt mode start from it)."""
    for needed, preset in _GUESSES:
        if needed <= set(columns):
            return PRESETS[preset]
    first = columns[0] if columns else "input"
    second = columns[1] if len(columns) > 1 else "output"
    return Template(user=f"{{{first}}}", assistant=f"{{{second}}}")
