"""Run every bench/bench_*.py in turn, with their default options; `make bench` calls this.

Each benchmark prints its own figures. Exits non-zero when one of them fails.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def main() -> int:
    failed = []
    for script in sorted(BENCH.glob("bench_*.py")):
        print(f"=== {script.name}", flush=True)
        started = time.perf_counter()
        code = subprocess.run([sys.executable, str(script)], cwd=BENCH.parent).returncode
        print(
            f"=== {script.name}: {'ok' if code == 0 else f'FAILED (exit {code})'} "
            f"in {time.perf_counter() - started:.0f} s\n",
            flush=True,
        )
        if code != 0:
            failed.append(script.name)
    if failed:
        print(f"failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
