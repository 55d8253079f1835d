"""Preparation end to end: presets on real data, determinism, filters, limits, bad inputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.catalog.lookup import find_model
from core.catalog.types import CustomizationType
from core.data.prepare import (
    PrepareCancelled,
    PrepareOptions,
    chars_limit_or_default,
    default_sizes,
    fit_sizes,
    prepare,
    sizes_or_defaults,
)
from core.data.sources import SourceSpec
from core.data.templates import PRESETS, Template
from core.errors import DatasetError, TemplateError, ValidationError
from tests.conftest import DIALOGSUM, needs_shared

HAIKU = find_model("anthropic.claude-3-haiku-20240307-v1:0:200k")
LLAMA31 = find_model("meta.llama3-1-8b-instruct-v1:0:128k")
COHERE = find_model("cohere.command-light-text-v14:7:4k")
NOVA = find_model("amazon.nova-micro-v1:0:128k")


def lines(path: Path) -> list[dict[str, Any]]:
    raw = path.read_bytes()
    assert raw.endswith(b"\n") and b"\n\n" not in raw  # one record per line, no blank lines
    return [json.loads(line) for line in raw.splitlines()]


@needs_shared()
def test_dialogsum_to_haiku_messages(tmp_path: Path) -> None:
    options = PrepareOptions(train=100, validation=20, test=10, max_chars=20000)
    result = prepare(
        SourceSpec(str(DIALOGSUM / "dev.jsonl")),
        PRESETS["dialogue-summary"],
        HAIKU,
        tmp_path,
        options,
    )
    assert result.counts == {"train": 100, "validation": 20, "test": 10}
    train = lines(tmp_path / "train.jsonl")
    assert len(train) == 100 and set(train[0]) == {"system", "messages"}
    assert isinstance(train[0]["messages"][0]["content"], str)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["seed"] if "seed" in manifest else manifest["options"]["seed"] == 42
    assert manifest["counts"] == result.counts and manifest["format"] == "claude-messages"
    assert manifest["template"]["user"] == PRESETS["dialogue-summary"].user


@needs_shared()
@pytest.mark.parametrize("model", [LLAMA31, COHERE])
def test_dialogsum_to_prompt_completion(tmp_path: Path, model: Any) -> None:
    result = prepare(
        SourceSpec(str(DIALOGSUM / "dev.jsonl")),
        PRESETS["dialogue-summary"],
        model,
        tmp_path,
        PrepareOptions(train=100, validation=0, test=0),
    )
    assert result.files == ("train.jsonl", "manifest.json")
    assert not (tmp_path / "validation.jsonl").exists()
    record = lines(tmp_path / "train.jsonl")[0]
    assert set(record) == {"prompt", "completion"}


def test_cnn_like_corpus_to_haiku(tmp_path: Path) -> None:
    import datasets

    articles = [("word " * (10 + n)).strip() for n in range(40)]
    articles[3] = "word " * 5000  # 25,000 characters: over the limit
    articles[4] = "é" * 19_000  # 38,000 bytes but 19,000 characters: fits
    datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_dict(
                {
                    "article": articles,
                    "highlights": [f"h{i}" for i in range(40)],
                    "id": [str(i) for i in range(40)],
                }
            )
        }
    ).save_to_disk(str(tmp_path / "cnn"))
    options = PrepareOptions(train=39, validation=0, test=0, max_chars=20000)
    result = prepare(
        SourceSpec(str(tmp_path / "cnn")), PRESETS["news-summary"], HAIKU, tmp_path / "out", options
    )
    assert result.counts["train"] == 39
    assert result.dropped == {"too-long": 1}  # the 25,000-character article
    for record in lines(tmp_path / "out" / "train.jsonl"):
        text = record["system"] + "".join(m["content"] for m in record["messages"])
        assert len(text) <= 20000


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def qa(n: int) -> list[dict[str, Any]]:
    return [{"q": f"question {i}", "a": f"answer {i}"} for i in range(n)]


QA = Template(user="{q}", assistant="{a}")


def test_same_seed_same_files_other_seed_other_files(tmp_path: Path) -> None:
    source = SourceSpec(str(write_jsonl(tmp_path / "d.jsonl", qa(300))))
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        prepare(source, QA, NOVA, tmp_path / name, PrepareOptions(train=50, test=10, seed=seed))
    a = (tmp_path / "a" / "train.jsonl").read_bytes()
    assert a == (tmp_path / "b" / "train.jsonl").read_bytes()
    assert a != (tmp_path / "c" / "train.jsonl").read_bytes()
    train = {r["messages"][0]["content"][0]["text"] for r in lines(tmp_path / "a" / "train.jsonl")}
    test = {r["messages"][0]["content"][0]["text"] for r in lines(tmp_path / "a" / "test.jsonl")}
    assert not train & test


def test_dedupe_and_drop_reasons(tmp_path: Path) -> None:
    rows = qa(20) + qa(5) + [{"q": None, "a": "x"}, {"q": ["a"], "a": "x"}, {"q": "", "a": "y"}]
    source = SourceSpec(str(write_jsonl(tmp_path / "d.jsonl", rows)))
    result = prepare(source, QA, NOVA, tmp_path / "o", PrepareOptions(train=20))
    assert result.counts["train"] == 20
    assert result.dropped == {"duplicate": 5, "null-value": 1, "not-text": 1, "empty": 1}
    kept = prepare(source, QA, NOVA, tmp_path / "k", PrepareOptions(train=25, dedupe=False))
    assert kept.counts["train"] == 25


def test_a_template_naming_a_missing_column_writes_nothing(tmp_path: Path) -> None:
    source = SourceSpec(str(write_jsonl(tmp_path / "d.jsonl", qa(20))))
    with pytest.raises(DatasetError) as caught:
        prepare(
            source,
            Template(user="{question}", assistant="{a}"),
            NOVA,
            tmp_path / "o",
            PrepareOptions(train=10),
        )
    assert "missing-column" in caught.value.message
    assert "'question'" in caught.value.hint
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_arrow_source_with_a_missing_column(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"q": ["a"] * 10, "a": ["b"] * 10}), tmp_path / "d.parquet")
    with pytest.raises(TemplateError) as caught:
        prepare(
            SourceSpec(str(tmp_path / "d.parquet")),
            Template(user="{x}", assistant="{a}"),
            NOVA,
            tmp_path / "o",
            PrepareOptions(train=8),
        )
    assert "Available columns: q, a" in caught.value.hint


def test_a_list_column_counts_the_records_and_shows_one(tmp_path: Path) -> None:
    rows = [{"q": ["not", "text"], "a": "x"} for _ in range(7)]
    source = SourceSpec(str(write_jsonl(tmp_path / "d.jsonl", rows)))
    with pytest.raises(DatasetError) as caught:
        prepare(source, QA, NOVA, tmp_path / "o", PrepareOptions(train=8))
    assert "7 not-text" in caught.value.message
    assert "line 1" in caught.value.hint and "list" in caught.value.hint


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        (PrepareOptions(train=20_001), "at most 20,000 training records"),
        (PrepareOptions(train=3), "at least 8 records"),
    ],
)
def test_sizes_outside_the_model_limits(
    tmp_path: Path, options: PrepareOptions, needle: str
) -> None:
    source = SourceSpec(str(write_jsonl(tmp_path / "d.jsonl", qa(10))))
    with pytest.raises(ValidationError) as caught:
        prepare(source, QA, NOVA, tmp_path / "o", options)
    assert needle in caught.value.message
    assert not (tmp_path / "o").exists()


def test_haiku_validation_limit(tmp_path: Path) -> None:
    source = SourceSpec(str(write_jsonl(tmp_path / "d.jsonl", qa(10))))
    with pytest.raises(ValidationError) as caught:
        prepare(source, QA, HAIKU, tmp_path / "o", PrepareOptions(train=100, validation=1001))
    assert "at most 1,000 validation records" in caught.value.message


def test_never_overwrites_silently(tmp_path: Path) -> None:
    source = SourceSpec(str(write_jsonl(tmp_path / "d.jsonl", qa(40))))
    out = tmp_path / "o"
    prepare(source, QA, NOVA, out, PrepareOptions(train=10, seed=1))
    before = (out / "train.jsonl").read_bytes()
    with pytest.raises(ValidationError) as caught:
        prepare(source, QA, NOVA, out, PrepareOptions(train=10, seed=2))
    assert "already holds prepared files" in caught.value.message
    assert (out / "train.jsonl").read_bytes() == before
    prepare(source, QA, NOVA, out, PrepareOptions(train=10, seed=2, overwrite=True))
    assert (out / "train.jsonl").read_bytes() != before


def test_cancel_writes_nothing(tmp_path: Path) -> None:
    source = SourceSpec(str(write_jsonl(tmp_path / "d.jsonl", qa(5000))))
    with pytest.raises(PrepareCancelled):
        prepare(source, QA, NOVA, tmp_path / "o", PrepareOptions(train=10), cancelled=lambda: True)
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").iterdir())


def test_prompt_only_distillation_data_prepares_and_validates(tmp_path: Path) -> None:
    from core.catalog.types import CustomizationType
    from core.validate.validator import validate

    source = tmp_path / "questions.jsonl"
    source.write_text(
        "".join(json.dumps({"question": f"What is {n} + {n}?"}) + "\n" for n in range(150))
    )
    out = tmp_path / "prepared"
    template = Template(system="Answer briefly.", user="{question}", assistant="")
    kind = CustomizationType.DISTILLATION
    result = prepare(
        SourceSpec(str(source)), template, NOVA, out, PrepareOptions(train=120), kind=kind
    )
    assert result.counts["train"] == 120  # no record dropped for its missing answer
    record = json.loads((out / "train.jsonl").read_text().splitlines()[0])
    assert record["system"] == [{"text": "Answer briefly."}]
    assert [m["role"] for m in record["messages"]] == ["user"]
    assert json.loads((out / "manifest.json").read_text())["format"] == "distillation-prompts"
    report = validate(out / "train.jsonl", NOVA, kind)
    assert report.ok, [(g.rule, g.problems[0].message) for g in report.groups]


# --------------------------------------------------------------------------- sizes that fit


@pytest.mark.parametrize("model", [HAIKU, NOVA])
def test_500_rows_with_the_default_sizes_never_give_an_empty_split(
    tmp_path: Path, model: Any
) -> None:
    source = SourceSpec(str(write_jsonl(tmp_path / "d.jsonl", qa(500))))
    custom = model.customization(CustomizationType.FINE_TUNING)
    train, validation, test = default_sizes(custom.limits)
    assert (train, validation, test) == (1000, 100, 100)
    options = PrepareOptions(train=train, validation=validation, test=test)
    result = prepare(source, QA, model, tmp_path / "o", options)
    assert result.counts == {"train": 418, "validation": 41, "test": 41}
    for name, count in result.counts.items():
        assert len(lines(tmp_path / "o" / f"{name}.jsonl")) == count > 0
    [note] = result.notes
    assert "Only 500 records passed the filters (1,200 asked)" in note
    assert "418 train, 41 validation, 41 test" in note
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["notes"] == [note]
    assert manifest["requested"] == {"train": 1000, "validation": 100, "test": 100}
    assert manifest["counts"] == result.counts


def test_a_split_not_asked_for_is_not_written_and_one_asked_for_is_never_empty(
    tmp_path: Path,
) -> None:
    source = SourceSpec(str(write_jsonl(tmp_path / "d.jsonl", qa(12))))
    result = prepare(source, QA, NOVA, tmp_path / "o", PrepareOptions(train=100, test=100))
    assert result.files == ("train.jsonl", "test.jsonl", "manifest.json")
    assert result.counts == {"train": 8, "validation": 0, "test": 4}  # Nova's minimum kept
    assert not (tmp_path / "o" / "validation.jsonl").exists()


def test_fewer_records_than_the_models_minimum_is_an_error(tmp_path: Path) -> None:
    rows = qa(7) + qa(7)  # 7 unique records: Nova needs 8
    source = SourceSpec(str(write_jsonl(tmp_path / "d.jsonl", rows)))
    with pytest.raises(DatasetError) as caught:
        prepare(source, QA, NOVA, tmp_path / "o", PrepareOptions(train=10))
    assert "Only 7 records passed the filters" in caught.value.message
    assert "at least 8 training" in caught.value.message
    assert not (tmp_path / "o").exists()
    with pytest.raises(DatasetError, match="and 1 test record are needed"):
        prepare(
            SourceSpec(str(write_jsonl(tmp_path / "e.jsonl", qa(8)))),
            QA,
            NOVA,
            tmp_path / "o",
            PrepareOptions(train=10, test=2),
        )


@pytest.mark.parametrize(
    ("available", "asked", "minimum", "fitted"),
    [
        (500, (1000, 100, 100), 32, (418, 41, 41)),
        (1200, (1000, 100, 100), 32, (1000, 100, 100)),
        (3, (10, 5, 5), None, (1, 1, 1)),
        (34, (1000, 100, 100), 32, (30, 2, 2)),
        (33, (1000, 100, 100), 32, (30, 2, 1)),  # the test set gives way to the minimum
        (40, (1000, 0, 0), 32, (40, 0, 0)),
        (33, (100, 0, 100), 32, (32, 0, 1)),
    ],
)
def test_fit_sizes(
    available: int,
    asked: tuple[int, int, int],
    minimum: int | None,
    fitted: tuple[int, int, int],
) -> None:
    sizes, note = fit_sizes(available, asked, minimum)
    assert sizes == fitted
    assert sum(sizes) == min(available, sum(asked))
    assert (note is None) == (sizes == asked)
    assert all(n >= 1 for n, wanted in zip(sizes, asked, strict=True) if wanted)


def test_fit_sizes_refuses_what_cannot_fit() -> None:
    with pytest.raises(DatasetError, match="Only 2 records"):
        fit_sizes(2, (10, 5, 5), None)  # one each for train, validation and test: three
    with pytest.raises(DatasetError, match="at least 32 training"):
        fit_sizes(31, (1000, 0, 0), 32)


def test_what_a_recipe_leaves_out_of_its_sizes_and_limits() -> None:
    """The rule the app, the prompt mode and replay share for a recipe's [prepare]."""
    custom = HAIKU.customization(CustomizationType.FINE_TUNING)
    assert custom is not None
    limits = custom.limits
    train, validation, test = default_sizes(limits)
    assert sizes_or_defaults(limits, None, None, None) == (train, validation, test)
    assert sizes_or_defaults(limits, 40, None, 0) == (40, validation, 0)
    model_limit = limits.max_chars_per_record
    assert model_limit is not None
    assert chars_limit_or_default(limits, None, None, None) == model_limit  # nothing said
    assert chars_limit_or_default(limits, 40, None, None) is None  # prepared without a limit
    assert chars_limit_or_default(limits, None, None, 4000) is None  # the token limit alone
    assert chars_limit_or_default(limits, None, 900, None) == 900
