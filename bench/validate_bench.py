"""Validate a 1 GB messages file for Claude 3 Haiku, against parsing the same file with orjson
alone (`for line in file: orjson.loads(line)`), both in child processes of the same run.

Budget (DESIGN.md §8): at most 1.5x the parse-only wall time, and at most 150 MB peak memory
whatever the file size. The validator's time is measured in a child that calls
`core.validate.validator.validate` (every rule, statistics and duplicate check); the whole
`bedrock-tune validate --json` command (interpreter start, every command's parser, JSON output)
is measured too and shown for information. CPU times are printed beside the wall times because
the machine may be shared.

Run: `python -m bench validate` (makes the corpus under bench/.work/ once, about a minute).
Children: `python -m bench.validate_bench --parse-only FILE | --validate FILE | --cli FILE`.
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path

from bench._harness import SHARED, WORK, measure, print_table, python, ratio_row

CORPUS = WORK / "messages_1gb.jsonl"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0:200k"
TIME_BUDGET = 1.5
MEMORY_BUDGET_MB = 150.0


def ensure_corpus() -> None:
    """Make the 1 GB corpus once; later runs reuse it."""
    if CORPUS.is_file() and CORPUS.stat().st_size >= 1 << 30:
        return
    WORK.mkdir(parents=True, exist_ok=True)
    measure(
        "make corpus",
        [
            python(),
            str(SHARED / "bench" / "make_corpus.py"),
            "bedrock",
            "--format",
            "messages",
            "--target-mb",
            "1024",
            "--out",
            str(CORPUS),
        ],
    )


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _parse_only(path: Path) -> str:
    import orjson

    records = 0
    with path.open("rb") as stream:
        for line in stream:
            orjson.loads(line)
            records += 1
    return f"{records} records"


def _validate(path: Path) -> str:
    from core.catalog.lookup import find_model
    from core.validate.validator import validate

    report = validate(path, find_model(HAIKU))
    return (
        f"{report.train.records} records, {report.count('error')} errors, "
        f"{report.count('warning')} warnings, median {report.train.stats.median} tokens"
    )


def _cli(path: Path) -> str:
    import contextlib
    import io

    from tui.cli.main import main

    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["validate", str(path), "--model", HAIKU, "--json"])
    return f"exit {code}"


def _cpu_file(mode: str) -> Path:
    return WORK / f"validate{mode.replace('--', '_')}.cpu"


def child(mode: str, path: Path) -> None:
    """Run one measured task; write its CPU seconds where the parent reads them."""
    task = {"--parse-only": _parse_only, "--validate": _validate, "--cli": _cli}[mode]
    result = task(path)
    _cpu_file(mode).write_text(f"{_cpu():.2f}\n")
    sys.stderr.write(f"{mode}: {result}\n")


def _cpu_of(mode: str) -> float | None:
    try:
        return float(_cpu_file(mode).read_text())
    except (OSError, ValueError):
        return None


def main() -> bool:
    if not (SHARED / "bench").is_dir():
        print(f"validate: skipped, {SHARED / 'bench'} is not there")
        return True
    ensure_corpus()
    size_mb = CORPUS.stat().st_size / (1 << 20)
    results = {}
    for label, mode in (
        ("orjson parse only", "--parse-only"),
        ("validate()", "--validate"),
        ("bedrock-tune validate --json", "--cli"),
    ):
        _cpu_file(mode).unlink(missing_ok=True)
        results[mode] = measure(label, [python(), "-m", "bench.validate_bench", mode, str(CORPUS)])
    parse, ours, cli = results["--parse-only"], results["--validate"], results["--cli"]
    time_row, time_ok = ratio_row("wall time", ours.seconds, parse.seconds, TIME_BUDGET, "s")
    cli_row, _ = ratio_row("wall time, whole CLI", cli.seconds, parse.seconds, TIME_BUDGET, "s")
    rows = [time_row]
    cpu_ours, cpu_parse = _cpu_of("--validate"), _cpu_of("--parse-only")
    if cpu_ours is not None and cpu_parse:
        cpu_row, _ = ratio_row("cpu time (info)", cpu_ours, cpu_parse, TIME_BUDGET, "s")
        rows.append(cpu_row)
    memory_ok = ours.peak_mb <= MEMORY_BUDGET_MB
    rows.append(
        (
            "peak memory",
            f"{ours.peak_mb:.0f} MB",
            f"{parse.peak_mb:.0f} MB",
            f"<= {MEMORY_BUDGET_MB:.0f} MB {'ok' if memory_ok else 'OVER'}",
        )
    )
    rows.append((cli_row[0], cli_row[1], cli_row[2], cli_row[3] + " (info)"))
    print_table(f"validate a {size_mb:,.0f} MB messages file (vs orjson parse only)", rows)
    return time_ok and memory_ok


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1].startswith("--"):
        child(sys.argv[1], Path(sys.argv[2]))
        sys.exit(0)
    sys.exit(0 if main() else 1)
