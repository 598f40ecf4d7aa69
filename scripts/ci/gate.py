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
    sample = GATE_DIR / "sample"
    return [
        ("sqlfluff lint", [str(BIN / "sqlfluff"), "lint", "--processes", "2", "models",
                           "macros", "tests"]),
        ("ruff", [str(BIN / "ruff"), "check", "scripts", "benchmarks"]),
        # Two workers (CI has two cores); a test file's tests share one worker and its
        # fixtures (the built sample, the servers).
        ("pytest", [str(BIN / "pytest"), "--numprocesses", "2", "--dist", "worksteal",
                    "--durations=12"]),
        ("generate sample data", [str(BIN / "cdp"), "generate", str(sample), "--contacts", "3000"]),
        ("land sample data", [str(BIN / "cdp"), "land", str(sample)]),
        ("dbt build", [str(BIN / "cdp"), "build", "--unit-tests"]),
        ("cdp check", [str(BIN / "cdp"), "check", "--docs", str(GATE_DIR / "data_docs")]),
        ("dbt docs generate", [str(BIN / "dbt"), "docs", "generate", "--target-path",
                               str(GATE_DIR / "dbt_docs")]),
        ("export", [str(BIN / "cdp"), "export", "insight", "--to", str(GATE_DIR / "exports")]),
        ("validate insight", [str(BIN / "cdp"), "validate", "insight",
                              str(GATE_DIR / "exports")]),
    ]


def main() -> int:
    shutil.rmtree(GATE_DIR, ignore_errors=True)
    GATE_DIR.mkdir(parents=True)
    env = dict(os.environ)
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
