"""`python -m bench._spawn PEAK_FILE COMMAND...`: run COMMAND, write its peak RSS (KiB) and its
wall time (s) to PEAK_FILE, and exit with its exit code.

Why a middle process: Linux keeps a process's peak RSS across `exec`, and a child forked from
the benchmark runner starts as a copy of it. Once the runner has grown (an earlier benchmark
ran in it), every child it starts would report at least the runner's size. This small process
forks the command instead, so the peak read is the command's own (plus this process's few MB
at the fork, the same for ours and the baseline). The wall time is taken here too, so this
process's own start-up is not counted.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    peak_file, command = argv[0], argv[1:]
    start = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    Path(peak_file).write_text(f"{usage.ru_maxrss} {seconds:.6f}\n", encoding="utf-8")
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
