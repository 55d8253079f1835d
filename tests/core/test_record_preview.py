"""A dataset record through a template, as the template step and the prompt mode show it."""

from __future__ import annotations

import json

from core.catalog.lookup import find_model
from core.catalog.types import CustomizationType
from core.data.record_preview import preview_record, template_problems
from core.data.templates import PRESETS, Template, guess_template

HAIKU = find_model("anthropic.claude-3-haiku-20240307-v1:0:200k")
CUSTOM = HAIKU.customization(CustomizationType.FINE_TUNING)


def test_a_fitting_record_gives_the_exact_line_and_its_size() -> None:
    assert CUSTOM is not None
    template = Template(system="Be brief.", user="{q}", assistant="{a}")
    shown = preview_record(template, ["q", "a"], {"q": "Hi?", "a": "Hello."}, CUSTOM)
    assert shown.problems == ()
    line = json.loads(shown.line)
    assert line["system"] == "Be brief."
    assert line["messages"][0] == {"role": "user", "content": "Hi?"}
    assert shown.chars == len("Be brief.") + len("Hi?") + len("Hello.")
    assert shown.tokens > 0 and shown.limit == CUSTOM.limits.max_tokens_per_record
    assert not shown.over_limit


def test_a_record_too_long_for_the_model_is_marked() -> None:
    assert CUSTOM is not None and CUSTOM.limits.max_tokens_per_record is not None
    long_text = "word " * (CUSTOM.limits.max_tokens_per_record * 2)
    shown = preview_record(
        Template(user="{q}", assistant="{a}"), ["q", "a"], {"q": long_text, "a": "x"}, CUSTOM
    )
    assert shown.over_limit


def test_problems_leave_no_line() -> None:
    assert CUSTOM is not None
    template = Template(user="{question}", assistant="{a}")
    shown = preview_record(template, ["q", "a"], {"q": "Hi?", "a": "Hello."}, CUSTOM)
    assert shown.line == "" and shown.problems
    assert shown.problems[0].kind == "unknown-placeholder"
    assert template_problems(template, ["q", "a"], CUSTOM) == list(shown.problems)
    assert template_problems(Template(user="{q}", assistant="{a}"), ["q", "a"], CUSTOM) == []


def test_the_guess_picks_a_preset_for_known_columns_else_the_first_two() -> None:
    assert guess_template(("fname", "dialogue", "summary")) == PRESETS["dialogue-summary"]
    assert guess_template(("article", "highlights", "id")) == PRESETS["news-summary"]
    guessed = guess_template(("prompt", "completion", "x"))
    assert (guessed.user, guessed.assistant) == ("{prompt}", "{completion}")
    assert guess_template(()) == Template(user="{input}", assistant="{output}")
