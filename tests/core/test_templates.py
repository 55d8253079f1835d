"""Templates: rendering per format, optional blocks, chat passthrough, diagnostics, TOML."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.catalog.types import DataFormat
from core.data.templates import (
    PRESETS,
    Template,
    bedrock_line,
    diagnose,
    load_template,
    render,
    save_template,
    to_bedrock,
)
from core.errors import TemplateError

DIALOG = {"dialogue": "#Person1#: Hi.\n#Person2#: Hello.", "summary": "They greet.", "topic": "hi"}


def test_the_four_formats() -> None:
    rendered = render(PRESETS["dialogue-summary"], DIALOG)
    claude = to_bedrock(rendered, DataFormat.CLAUDE_MESSAGES)
    assert claude["system"].startswith("You summarize")
    assert [m["role"] for m in claude["messages"]] == ["user", "assistant"]
    assert isinstance(claude["messages"][0]["content"], str)
    nova = to_bedrock(rendered, DataFormat.CONVERSATION)
    assert nova["schemaVersion"] == "bedrock-conversation-2024"
    assert nova["messages"][1]["content"] == [{"text": "They greet."}]
    assert nova["system"] == [{"text": rendered.system}]
    completion = to_bedrock(rendered, DataFormat.PROMPT_COMPLETION)
    assert set(completion) == {"prompt", "completion"} and completion["completion"] == "They greet."
    assert "#Person1#: Hi." in completion["prompt"]
    cpt = to_bedrock(rendered, DataFormat.CONTINUED_PRETRAINING)
    assert set(cpt) == {"input"} and "They greet." in cpt["input"]
    line = bedrock_line(rendered, DataFormat.CLAUDE_MESSAGES)
    assert b"\n" not in line and json.loads(line) == claude


def test_news_preset_matches_the_seed_walkthrough() -> None:
    rendered = render(PRESETS["news-summary"], {"article": "A.", "highlights": "B."})
    assert rendered.messages[0][1] == (
        "instruction:\n\nSummarize the news article provided below.\n\ninput:\nA."
    )
    assert rendered.chars == len(rendered.system) + len(rendered.messages[0][1]) + 2


def test_optional_context_block() -> None:
    dolly = PRESETS["dolly-instruction"]
    with_context = render(dolly, {"instruction": "Q?", "context": "C.", "response": "R."})
    assert with_context.messages[0][1] == "Q?\n\nContext:\nC."
    without = render(dolly, {"instruction": "Q?", "context": "", "response": "R."})
    assert without.messages[0][1] == "Q?"
    assert dolly.required_columns() == ["instruction", "response"]


def test_text_to_sql_puts_the_schema_in_the_system_prompt() -> None:
    rendered = render(
        PRESETS["text-to-sql"],
        {"context": "CREATE TABLE t (a INT)", "question": "How many?", "answer": "SELECT 1"},
    )
    assert rendered.system.endswith("CREATE TABLE t (a INT)")


def test_literal_braces() -> None:
    template = Template(user='Return {{"a": {q}}}', assistant="{a}")
    assert render(template, {"q": "1", "a": "x"}).messages[0][1] == 'Return {"a": 1}'


def test_chat_messages_map_straight_through() -> None:
    template = Template(messages_column="conversations", role_map={"customer": "user"})
    record = {
        "conversations": [
            {"from": "system", "value": "Be brief."},
            {"from": "customer", "value": "Hi"},
            {"from": "gpt", "value": "Hello"},
        ]
    }
    rendered = render(template, record)
    assert rendered.messages == (("user", "Hi"), ("assistant", "Hello"))


@pytest.mark.parametrize(
    ("record", "kind", "needle"),
    [
        ({"dialogue": "x"}, "missing-column", "'summary'"),
        ({"dialogue": ["a", "b"], "summary": "s"}, "not-text", "list"),
        ({"dialogue": None, "summary": "s"}, "not-text", "null"),
        ({"dialogue": "x", "summary": "  "}, "empty", "assistant"),
    ],
)
def test_diagnose_one_record(record: dict[str, object], kind: str, needle: str) -> None:
    problems = diagnose(PRESETS["dialogue-summary"], ["dialogue", "summary"], record)
    assert problems and problems[0].kind == kind
    assert needle in problems[0].message


def test_diagnose_unknown_placeholder_names_the_columns() -> None:
    template = Template(user="{question}", assistant="{answr}")
    problems = diagnose(template, ["question", "answer"])
    assert [(p.kind, p.field) for p in problems] == [("unknown-placeholder", "assistant")]
    assert "available: question, answer" in problems[0].message


def test_toml_round_trip_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    save_template(PRESETS["dolly-instruction"], path)
    assert load_template(str(path)) == PRESETS["dolly-instruction"]
    assert load_template("preset:text-to-sql") is PRESETS["text-to-sql"]
    with pytest.raises(TemplateError) as caught:
        load_template("preset:nope")
    assert "preset:news-summary" in caught.value.hint
    path.write_text('user = "{q}"\nassistant = "{a}"\nsytem = "typo"\n')
    with pytest.raises(TemplateError) as caught:
        load_template(str(path))
    assert "unknown key(s) sytem" in caught.value.message
    path.write_text('user = "{q}\n')
    with pytest.raises(TemplateError) as caught:
        load_template(str(path))
    assert "not valid TOML" in caught.value.message


def test_distillation_prompts_carry_one_system_item_and_an_optional_answer() -> None:
    prompt_only = Template(system="", user="Summarize: {dialogue}", assistant="")
    rendered = render(prompt_only, DIALOG)
    record = to_bedrock(rendered, DataFormat.DISTILLATION_PROMPTS)
    assert record == {
        "schemaVersion": "bedrock-conversation-2024",
        "system": [{"text": ""}],
        "messages": [{"role": "user", "content": [{"text": f"Summarize: {DIALOG['dialogue']}"}]}],
    }
    labeled = to_bedrock(
        render(PRESETS["dialogue-summary"], DIALOG), DataFormat.DISTILLATION_PROMPTS
    )
    assert [m["role"] for m in labeled["messages"]] == ["user", "assistant"]
    assert len(labeled["system"]) == 1
    # An empty answer is fine for prompts, not for fine-tuning data.
    assert diagnose(prompt_only, list(DIALOG), DIALOG, DataFormat.DISTILLATION_PROMPTS) == []
    assert [p.field for p in diagnose(prompt_only, list(DIALOG), DIALOG)] == ["assistant"]


# --------------------------------------------------------------------------- nested blocks

NESTED = Template(user="Q: {q}[[ Context: {a}[[ (source: {b})]]]]", assistant="{r}")


@pytest.mark.parametrize(
    ("record", "user"),
    [
        ({"q": "Q", "a": "A", "b": "B", "r": "R"}, "Q: Q Context: A (source: B)"),
        ({"q": "Q", "a": "A", "b": "", "r": "R"}, "Q: Q Context: A"),
        ({"q": "Q", "a": "A", "r": "R"}, "Q: Q Context: A"),
        ({"q": "Q", "a": "", "b": "B", "r": "R"}, "Q: Q"),
        ({"q": "Q", "a": None, "b": "B", "r": "R"}, "Q: Q"),
        ({"q": "Q", "r": "R"}, "Q: Q"),
    ],
)
def test_nested_optional_blocks_each_drop_on_their_own_placeholders(
    record: dict[str, object], user: str
) -> None:
    """The outer block goes with `a`; the inner one with `b` alone (issue 11, item 9: the
    non-greedy pattern used to close the outer block at the inner `]]`, leaving `]]` and
    `[[` fragments in the text)."""
    assert render(NESTED, record).messages[0][1] == user
    assert NESTED.required_columns() == ["q", "r"]


def test_the_issue_example_nests() -> None:
    template = Template(user="x[[ {a} [[ {b} ]] ]]y", assistant="{r}")
    assert render(template, {"a": "A", "b": "B", "r": "R"}).messages[0][1] == "x A  B  y"
    assert render(template, {"a": "A", "r": "R"}).messages[0][1] == "x A  y"
    assert render(template, {"b": "B", "r": "R"}).messages[0][1] == "xy"


def test_an_unclosed_block_is_a_template_error_naming_where(tmp_path: Path) -> None:
    template = Template(user="Q: {q}\nmore [[ {a} [[ {b} ]]", assistant="{r}")
    with pytest.raises(TemplateError, match=r"user text .* '\[\[' at line 2, column 6"):
        render(template, {"q": "Q", "a": "A", "b": "B", "r": "R"})
    problems = diagnose(template, ["q", "a", "b", "r"])
    assert [(p.kind, p.field) for p in problems] == [("syntax", "user")]
    assert "line 2, column 6" in problems[0].message
    path = tmp_path / "t.toml"
    save_template(template, path)
    with pytest.raises(TemplateError, match="never closes it"):
        load_template(str(path))


def test_a_stray_closing_mark_is_literal_text() -> None:
    template = Template(user="x[y[0]] = {v}", assistant="{r}")
    assert render(template, {"v": "1", "r": "R"}).messages[0][1] == "x[y[0]] = 1"
    assert diagnose(template, ["v", "r"]) == []


def test_a_zero_fills_an_optional_block() -> None:
    template = Template(user="{q}[[ (n={n})]]", assistant="{r}")
    assert render(template, {"q": "Q", "n": 0, "r": "R"}).messages[0][1] == "Q (n=0)"
