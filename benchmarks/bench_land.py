"""Landing benchmark: generation time, landing rate, and DuckDB's own read_csv on the
same files in the same run as the physical reference. Prints what it measured.

    python benchmarks/bench_land.py --contacts 1000000
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

import duckdb

from cdp.land import land
from cdp.project import connect
from cdp_dev.generate import generate


def reference_read_csv(files: list[Path], database: Path) -> tuple[int, float]:
    """DuckDB's own read_csv of every file into a table of a fresh database file."""
    con = duckdb.connect(str(database))
    con.execute("set enable_progress_bar = false")
    started = time.perf_counter()
    rows = 0
    for index, path in enumerate(files):
        con.execute(
            f"create table t{index} as select * from read_csv('{path}', "
            "all_varchar = true, ignore_errors = true)"
        )
        rows += con.execute(f"select count(*) from t{index}").fetchone()[0]
    seconds = time.perf_counter() - started
    con.close()
    return rows, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=Path("bench_data/land"))
    args = parser.parse_args()

    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    root = args.work / "landing"

    started = time.perf_counter()
    report = generate(root, contacts=args.contacts)
    generation = time.perf_counter() - started
    size = sum(path.stat().st_size for path in root.rglob("*.csv"))

    os.environ["CDP_DUCKDB_PATH"] = str(args.work / "cdp.duckdb")
    con = connect()
    started = time.perf_counter()
    landed = land(con, root)
    landing = time.perf_counter() - started
    con.close()

    files = sorted(root.rglob("*.csv"))
    reference_rows, reference = reference_read_csv(files, args.work / "reference.duckdb")

    landing_rate = landed.rows_landed / landing
    reference_rate = reference_rows / reference
    print(f"contacts                 {args.contacts:>14,}")
    print(f"files / CSV bytes        {len(files):>14,} / {size / 1e6:,.0f} MB")
    print(f"generation               {generation:>13.1f}s  ({report.rows:,} rows)")
    print(f"cdp land                 {landing:>13.1f}s  ({landed.rows_landed:,} rows, "
          f"{landed.lines_rejected} lines rejected, {landing_rate:,.0f} rows/s, "
          f"{size / 1e6 / landing:,.0f} MB/s)")
    print(f"DuckDB read_csv          {reference:>13.1f}s  ({reference_rows:,} rows, "
          f"{reference_rate:,.0f} rows/s)")
    ratio = landing_rate / reference_rate
    print(f"landing / read_csv rate  {ratio:>14.2f}  (required: at least 0.50) "
          f"{'OK' if ratio >= 0.5 else 'TOO SLOW'}")
    print(f"generation under 2 min   {'OK' if generation < 120 else 'TOO SLOW'}")


if __name__ == "__main__":
    main()
