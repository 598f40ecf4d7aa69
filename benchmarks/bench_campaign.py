"""Campaign-bound exports at scale, timed as a user runs them: `cdp export segments`,
`campaign-profiles`, `campaign-lookups` and `campaign-logs` as commands, wall time
from the shell, each beside DuckDB's own `COPY` of the same relation to CSV (the
physical reference, in the same run), then the same commands again with nothing new
(cost should follow what arrived: the second run writes nothing).

    python benchmarks/bench_campaign.py --contacts 1000000
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

BIN = Path(sys.executable).parent
# (command, the relations its files carry)
COMMANDS = [
    ("segments", ["campaign.segment_membership"]),
    ("campaign-profiles", ["campaign.campaign_profiles"]),
    ("campaign-lookups", ["campaign.campaign_lookup_recipient_activity",
                          "campaign.campaign_lookup_products"]),
    ("campaign-logs", ["campaign.broad_log", "campaign.tracking_log",
                       "campaign.non_deliverable_addresses", "campaign.preference_changes"]),
]


def timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=project_dir(), env=env, capture_output=True, text=True,
                          check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.strip()}")
    last = [line for line in done.stdout.splitlines() if line.strip()][-1]
    return seconds, last


def build(work: Path, contacts: int, env: dict[str, str]) -> None:
    root = work / "landing"
    started = time.perf_counter()
    generate(root, contacts=contacts, seed=11, batches=4)
    generated = time.perf_counter() - started
    con = connect()
    land(con, root)
    con.close()
    landed = time.perf_counter() - started - generated
    seconds, _ = timed([str(BIN / "cdp"), "build", "--", "--exclude", "resource_type:test",
                        "resource_type:unit_test"], env)
    print(f"{contacts:,} contacts: generated {generated:.0f}s, landed {landed:.0f}s, "
          f"`cdp build` (models, no tests) {seconds:.0f}s")


def reference_copy(relations: list[str], folder: Path) -> tuple[float, int]:
    """DuckDB COPY of the relations to CSV, and their rows."""
    folder.mkdir(parents=True, exist_ok=True)
    con = connect()
    started = time.perf_counter()
    rows = 0
    for relation in relations:
        con.execute(f"copy {relation} to '{folder / relation}.csv' (format csv, header true)")
        rows += con.execute(f"select count(*) from {relation}").fetchone()[0]
    seconds = time.perf_counter() - started
    con.close()
    return seconds, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=project_dir() / "bench_data" / "campaign")
    parser.add_argument("--reuse", action="store_true",
                        help="Reuse the warehouse of an earlier run; export to new folders.")
    args = parser.parse_args()
    env = dict(os.environ, CDP_DUCKDB_PATH=str(args.work / "cdp.duckdb"),
               DBT_TARGET_PATH=str(args.work / "target"), DO_NOT_TRACK="1",
               DBT_PROFILES_DIR=str(project_dir()))
    os.environ["CDP_DUCKDB_PATH"] = env["CDP_DUCKDB_PATH"]
    if not (args.reuse and (args.work / "cdp.duckdb").exists()):
        shutil.rmtree(args.work, ignore_errors=True)
        args.work.mkdir(parents=True)
        build(args.work, args.contacts, env)
    run = f"run_{int(time.time())}"
    destination = args.work / run / "exports"
    print(f"{'command':<42} {'wall':>7} {'rows':>12} {'COPY ref':>9}  ratio  what it said")
    for kind, relations in COMMANDS:
        reference, rows = reference_copy(relations, args.work / run / "reference" / kind)
        seconds, said = timed([str(BIN / "cdp"), "export", kind, "--to", str(destination),
                               *(["--force"] if kind != "campaign-logs" else [])], env)
        print(f"cdp export {kind:<31} {seconds:6.1f}s {rows:>12,} {reference:8.1f}s "
              f"{seconds / reference:6.1f}  {said}")
    for kind, _ in COMMANDS:
        seconds, said = timed([str(BIN / "cdp"), "export", kind, "--to", str(destination),
                               *(["--force"] if kind != "campaign-logs" else [])], env)
        print(f"again, nothing new: cdp export {kind:<18} {seconds:6.1f}s  {said}")
    shutil.rmtree(args.work / run / "reference", ignore_errors=True)


if __name__ == "__main__":
    main()
