"""Incremental benchmark of the Insight import types. Prints what it measured:

- full-refresh build time of the Insight models (their execution times from dbt's
  run_results.json) after landing the initial full extract;
- incremental build time after landing one more batch (about 1% new or changed rows);
- the ratio incremental / full (required: at most 0.10);
- dbt's fixed start-up cost (wall time of the invocation minus its run time);
- the wall time of a no-op incremental build (nothing new).

    python benchmarks/bench_incremental.py --contacts 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from cdp.land import land
from cdp.project import connect, project_dir
from cdp_dev.generate import generate

# Every model but the staging views (built once); the ratio counts the import types
# and what they read besides staging, and prints the rest (profile, segments,
# audit) apart.
MODELS = ("--exclude", "staging")
INSIGHT = {
    "crm_contacts", "crm_contact_deletions", "crm_purchases", "support_tickets",
    "campaign_email_events", "int_campaign_deliveries", "int_support_contacts_current",
    "int_support_tickets_current", "int_campaign_broadlogs_current",
    "int_campaign_trackinglogs_current", "broad_log", "tracking_log",
}


def dbt(args: list[str], target: Path) -> tuple[float, dict]:
    """Run dbt as users do; return wall seconds and run_results.json."""
    started = time.perf_counter()
    subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), *args, "--target-path", str(target)],
        cwd=project_dir(), check=True, stdout=subprocess.DEVNULL,
        # One model at a time: each model's execution time is its own, not shared
        # with others on the two cores.
        env=dict(os.environ, DO_NOT_TRACK="1", DBT_PROFILES_DIR=str(project_dir()),
                 CDP_THREADS="1"),
    )
    wall = time.perf_counter() - started
    return wall, json.loads((target / "run_results.json").read_text())


def model_seconds(results: dict) -> dict[str, float]:
    return {
        result["unique_id"].split(".")[-1]: result["execution_time"]
        for result in results["results"]
    }


def land_batches(root: Path, stamps: list[str], source: Path) -> int:
    for path in sorted(p for stamp in stamps for p in source.rglob(f"*_{stamp}.csv")):
        destination = root / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)
    con = connect()
    report = land(con, root)
    con.close()
    return report.rows_landed


def report_run(title: str, wall: float, results: dict) -> float:
    seconds = model_seconds(results)
    insight = sum(value for name, value in seconds.items() if name in INSIGHT)
    others = sum(value for name, value in seconds.items() if name not in INSIGHT)
    print(f"{title}")
    for name, value in sorted(seconds.items()):
        if name in INSIGHT:
            print(f"    {name:<34} {value:7.2f}s")
    print(f"    {'import types and their inputs':<34} {insight:7.2f}s")
    print(f"    {'other models (profile, segments, audit)':<34} {others:7.2f}s   "
          f"dbt wall {wall:.2f}s, start-up {wall - results['elapsed_time']:.2f}s")
    return insight


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=Path("bench_data/incremental"))
    args = parser.parse_args()

    shutil.rmtree(args.work, ignore_errors=True)
    source, root, target = args.work / "generated", args.work / "landing", args.work / "target"
    # A full extract and two daily deltas first; the third delta is the "one more
    # batch" (about 1% of the rows landed before it).
    generate(source, contacts=args.contacts, batches=4)
    stamps = sorted({path.stem.rsplit("_", 1)[1] for path in source.rglob("*.csv")})
    os.environ["CDP_DUCKDB_PATH"] = str(args.work / "cdp.duckdb")

    first = land_batches(root, stamps[:-1], source)
    dbt(["seed"], target)
    dbt(["run", "--select", "staging"], target)
    wall, results = dbt(["run", "--full-refresh", *MODELS], target)
    full = report_run(f"full refresh after three batches ({first:,} rows landed)", wall, results)

    delta = land_batches(root, stamps[-1:], source)
    wall, results = dbt(["run", *MODELS], target)
    incremental = report_run(
        f"incremental after one more batch ({delta:,} rows landed, "
        f"{delta / first:.1%} of the first)", wall, results)
    startup = wall - results["elapsed_time"]

    noop_wall, _ = dbt(["run", *MODELS], target)
    noop_insight_wall, _ = dbt(
        ["run", "--select", "+marts.insight", "marts.ops", "--exclude", "staging",
         "marts.profile", "intermediate.identity", "resource_type:seed"], target)
    ratio = incremental / full
    print(f"incremental / full refresh    {ratio:7.3f}   (required: at most 0.10) "
          f"{'OK' if ratio <= 0.10 else 'TOO SLOW'}")
    print(f"dbt start-up (fixed)          {startup:7.2f}s")
    print(f"no-op build of the import types, wall     {noop_insight_wall:7.2f}s")
    print(f"no-op build of every model, wall           {noop_wall:7.2f}s "
          "(the profile is recomputed in full)")


if __name__ == "__main__":
    main()
