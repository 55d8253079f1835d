"""`python -m bench [NAME ...]`: run the benchmarks (all, or the named ones) and print ratios.

Each benchmark is a module `bench/<name>_bench.py` with `main() -> bool` (True when every budget
holds). The exit code is 1 when any budget is exceeded.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    available = sorted(p.stem[: -len("_bench")] for p in Path(__file__).parent.glob("*_bench.py"))
    chosen = argv or available
    unknown = [n for n in chosen if n not in available]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}")
        return 2
    ok = True
    for name in chosen:
        module = importlib.import_module(f"bench.{name}_bench")
        ok = bool(module.main()) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
