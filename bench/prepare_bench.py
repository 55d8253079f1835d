"""Prepare 1,000 Haiku records (<= 20,000 characters, the seed's prompt) from the 287,113-record
CNN-like corpus, against the seed walkthrough's preparation on the same corpus.

Budget (DESIGN.md §8): at most 0.2x its wall time and 0.5x its peak memory.
"""

from __future__ import annotations

import sys

from bench._harness import SHARED, WORK, measure, print_table, python, ratio_row

CORPUS = WORK / "cnn_like"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0:200k"


def ensure_corpus() -> None:
    """Make the corpus once (about a minute); later runs reuse it."""
    if (CORPUS / "dataset_dict.json").is_file():
        return
    WORK.mkdir(parents=True, exist_ok=True)
    measure(
        "make corpus",
        [
            python(),
            str(SHARED / "bench" / "make_corpus.py"),
            "source",
            "--format",
            "hf",
            "--records",
            "287113",
            "--out",
            str(CORPUS),
        ],
    )


def main() -> bool:
    if not (SHARED / "bench").is_dir():
        print(f"prepare: skipped, {SHARED / 'bench'} is not there")
        return True
    ensure_corpus()
    seed = measure(
        "seed_prepare.py",
        [
            python(),
            str(SHARED / "bench" / "seed_prepare.py"),
            str(CORPUS),
            str(WORK / "seed_out.jsonl"),
            "1000",
            "20000",
        ],
    )
    ours = measure(
        "bedrock-tune prepare",
        [
            python(),
            "-m",
            "tui.cli",
            "prepare",
            str(CORPUS),
            "--template",
            "preset:news-summary",
            "--model",
            HAIKU,
            "--out",
            str(WORK / "prepared"),
            "--train",
            "1000",
            "--validation",
            "0",
            "--test",
            "0",
            "--max-chars",
            "20000",
            "--force",
        ],
    )
    time_row, time_ok = ratio_row("wall time", ours.seconds, seed.seconds, 0.2, "s")
    memory_row, memory_ok = ratio_row("peak memory", ours.peak_mb, seed.peak_mb, 0.5, "MB")
    print_table(
        "prepare 1,000 of 287,113 records (vs the seed walkthrough)", [time_row, memory_row]
    )
    return time_ok and memory_ok


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
