"""Preview the first 20 records of the 287,113-record `save_to_disk` corpus and of a 1 GB JSONL,
against reading each source whole. Budget: under 1 s each, whatever the size."""

from __future__ import annotations

import sys

from bench._harness import SHARED, WORK, measure, print_table, python, ratio_row
from bench.prepare_bench import CORPUS, ensure_corpus

BIG_JSONL = WORK / "messages_1gb.jsonl"
READ_ALL_JSONL = (
    "import sys\nn = 0\nwith open(sys.argv[1], 'rb') as f:\n    for line in f:\n        n += 1\n"
)
READ_ALL_DISK = (
    "import sys, datasets\n"
    "d = datasets.load_from_disk(sys.argv[1])['train']\n"
    "n = sum(1 for _ in d)\n"
)


def ensure_big_jsonl() -> None:
    """Make the 1 GB JSONL once."""
    if BIG_JSONL.is_file():
        return
    measure(
        "make 1 GB JSONL",
        [
            python(),
            str(SHARED / "bench" / "make_corpus.py"),
            "bedrock",
            "--format",
            "messages",
            "--target-mb",
            "1024",
            "--out",
            str(BIG_JSONL),
        ],
    )


def main() -> bool:
    if not (SHARED / "bench").is_dir():
        print(f"preview: skipped, {SHARED / 'bench'} is not there")
        return True
    ensure_corpus()
    ensure_big_jsonl()
    rows = []
    ok = True
    for label, source, reader in (
        ("save_to_disk, 287,113 records", CORPUS, READ_ALL_DISK),
        ("JSONL, 1 GB", BIG_JSONL, READ_ALL_JSONL),
    ):
        ours = measure("preview", [python(), "-m", "tui.cli", "preview", str(source), "-n", "20"])
        whole = measure("read all", [python(), "-c", reader, str(source)])
        row, _ = ratio_row(
            f"{label}: preview vs reading all", ours.seconds, whole.seconds, 1.0, "s"
        )
        fast = ours.seconds < 1.0
        verdict = "< 1 s ok" if fast else ">= 1 s OVER"
        rows.append(
            (
                *row[:3],
                f"{row[3].split(' (')[0]}; {ours.seconds:.2f} s {verdict}",
            )
        )
        ok = ok and fast
    print_table("preview the first 20 records", rows)
    return ok


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
