"""`cdp check` at scale: generates, lands and builds the sample data (1,000,000
contacts by default), then prints the time of `cdp check` over every suite, with the
rows each suite validated (required: under a minute at one million contacts).

    python benchmarks/bench_check.py --contacts 1000000
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from cdp.land import land
from cdp.project import connect, project_dir
from cdp_dev.generate import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=project_dir() / "bench_data" / "check")
    parser.add_argument("--reuse", action="store_true", help="Reuse the data of an earlier run.")
    args = parser.parse_args()
    os.environ["CDP_DUCKDB_PATH"] = str(args.work / "cdp.duckdb")
    bin_dir = Path(sys.executable).parent
    if not (args.reuse and (args.work / "cdp.duckdb").exists()):
        shutil.rmtree(args.work, ignore_errors=True)
        started = time.perf_counter()
        generate(args.work / "landing", contacts=args.contacts, seed=5, batches=2)
        con = connect()
        land(con, args.work / "landing")
        con.close()
        subprocess.run([str(bin_dir / "cdp"), "build", "--", "--exclude", "resource_type:test",
                        "resource_type:unit_test", "--target-path", str(args.work / "target")],
                       cwd=project_dir(), check=True, stdout=subprocess.DEVNULL)
        print(f"{args.contacts:,} contacts generated, landed and built in "
              f"{time.perf_counter() - started:.0f}s")
    started = time.perf_counter()
    checked = subprocess.run([str(bin_dir / "cdp"), "check", "--docs", str(args.work / "docs")],
                             cwd=project_dir(), capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    print(checked.stdout)
    print(checked.stderr[-2000:])
    print(f"cdp check at {args.contacts:,} contacts: {seconds:.1f}s wall (required: < 60s), "
          f"exit code {checked.returncode}")


if __name__ == "__main__":
    main()
