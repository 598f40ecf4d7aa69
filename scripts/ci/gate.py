"""The quality gate behind `make test`: each stage in order, stopping at the first
failure, then the time each stage took."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GATE_DIR = ROOT / "target" / "gate"


def stages() -> list[tuple[str, list[str]]]:
    return [
        ("sqlfluff lint", [str(BIN / "sqlfluff"), "lint", "--processes", "2", "models",
                           "macros", "tests"]),
        ("ruff", [str(BIN / "ruff"), "check", "scripts", "benchmarks"]),
        # Two workers (CI has two cores), each taking tests from the other when idle.
        # The pipeline as a user runs it is among the tests: test_demo runs `make demo`
        # (generate, land, build, check, export), then dbt's unit tests, `dbt docs
        # generate` and `cdp validate insight` on what it built and exported.
        ("pytest", [str(BIN / "pytest"), "--numprocesses", "2", "--dist", "worksteal",
                    "--durations=12"]),
    ]


def main() -> int:
    shutil.rmtree(GATE_DIR, ignore_errors=True)
    GATE_DIR.mkdir(parents=True)
    env = dict(os.environ)
    # sqlfluff's dbt templater opens the profile's warehouse: the gate's own, empty one.
    env["CDP_DUCKDB_PATH"] = str(GATE_DIR / "cdp.duckdb")
    env.setdefault("DO_NOT_TRACK", "1")
    env.setdefault("DBT_PROFILES_DIR", str(ROOT))
    timings: list[tuple[str, float, str]] = []
    failed = False
    for name, command in stages():
        print(f"\n=== {name}: {' '.join(command)}", flush=True)
        started = time.perf_counter()
        code = subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
        timings.append((name, time.perf_counter() - started, "ok" if code == 0 else f"exit {code}"))
        if code != 0:
            failed = True
            break
    print("\n=== stage times")
    for name, seconds, outcome in timings:
        print(f"{name:<24} {seconds:7.1f}s  {outcome}")
    print(f"{'total':<24} {sum(s for _, s, _ in timings):7.1f}s")
    passed = sum(outcome == "ok" for _, _, outcome in timings)
    print(f"gate: {passed} passed, {len(timings) - passed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
