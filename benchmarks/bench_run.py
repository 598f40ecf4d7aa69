"""The whole run as a user times it: wall time and peak memory of each command, from
the shell's point of view (a new process per command, dbt included).

    python benchmarks/bench_run.py --contacts 1000000

Generates four extract batches (one full, then daily deltas of about 1% of the rows),
then measures: `cdp run` from an empty warehouse on the first three batches, `cdp run`
with nothing new (twice), `dbt build` with nothing new (and without unit tests, as
dbt Labs advises for production), `cdp run` after the fourth
batch, each with `cdp run`'s own time per stage (land, build, check, export). As the
reference in the same run, a plain pandas script does the three seed import types
(latest contact versions, paid purchases, tickets with their submitter's email) from
the same files to CSV. Prints what it measured; targets are in the README.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cdp.project import project_dir

BIN = Path(sys.executable).parent
SEED_TYPES = ("crm_contacts", "crm_purchases", "support_tickets")
# The extracts those import types read, as the pandas reference reads them.
SEED_ENTITIES = ("crm/contacts", "crm/purchases", "support/contacts", "support/tickets")

PANDAS_REFERENCE = r'''
import csv
import sys
from pathlib import Path

import pandas as pd

root, out = Path(sys.argv[1]), Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)


def read(path, columns):
    # Python's csv module, as pandas' readers stop at the sample's broken quoting;
    # lines with the wrong field count are skipped, as landing rejects them.
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = [row for row in reader if len(row) == len(header)]
    frame = pd.DataFrame(rows, columns=header)
    return frame[[c for c in header if c in columns]]


def frames(source, entity, columns):
    return pd.concat([read(path, columns) for path in sorted((root / source / entity).glob("*.csv"))],
                     ignore_index=True)


contacts = frames("crm", "contacts", {"Id", "Email", "FirstName", "LastName", "Address",
                                       "IsDeleted", "LastModifiedOn"})
contacts["at"] = pd.to_datetime(contacts["LastModifiedOn"], errors="coerce", utc=True)
latest = contacts.sort_values("at").drop_duplicates("Id", keep="last")
latest = latest[latest["IsDeleted"].str.lower() != "true"]
latest[["Id", "Email", "FirstName", "LastName", "Address", "LastModifiedOn"]].to_csv(
    out / "crm_contacts.csv", index=False)

purchases = frames("crm", "purchases", {"Id", "ContactId", "ProductName", "PaidOn",
                                         "LastModifiedOn"})
purchases["at"] = pd.to_datetime(purchases["LastModifiedOn"], errors="coerce", utc=True)
paid = purchases.sort_values("at").drop_duplicates("Id", keep="last")
paid = paid[paid["PaidOn"] != ""]
paid[["ContactId", "ProductName", "PaidOn"]].to_csv(out / "crm_purchases.csv", index=False)

submitters = frames("support", "contacts", {"Id", "Email", "LastModifiedOn"})
submitters["at"] = pd.to_datetime(submitters["LastModifiedOn"], errors="coerce", utc=True)
submitters = submitters.sort_values("at").drop_duplicates("Id", keep="last")
tickets = frames("support", "tickets", {"Id", "SubmitedById", "Subject", "CreatedOn",
                                         "LastModifiedOn"})
tickets["at"] = pd.to_datetime(tickets["LastModifiedOn"], errors="coerce", utc=True)
tickets = tickets.sort_values("at").drop_duplicates("Id", keep="last")
joined = tickets.merge(submitters[["Id", "Email"]].rename(columns={"Id": "SubmitedById"}),
                       on="SubmitedById", how="left")
joined[["SubmitedById", "Subject", "CreatedOn", "Email"]].to_csv(
    out / "support_tickets.csv", index=False)
'''


def timed(label: str, command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak resident memory (GB) of a command and the processes it
    waited for (dbt under `cdp`); for `cdp run`, its own split by stage too."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as output:
        process = subprocess.Popen(command, cwd=project_dir(), env=env, stdout=output,
                                   stderr=subprocess.STDOUT, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        output.seek(0)
        lines = output.read().splitlines()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"{label} failed (exit {code}): " + "\n".join(lines[-30:]))
    peak = usage.ru_maxrss / 1e6   # kilobytes on Linux
    stages = [line.split(": ", 1)[1] for line in lines if line.startswith("run finished in ")]
    print(f"{label:<44} {seconds:8.1f} s   peak {peak:5.1f} GB"
          + (f"   ({stages[-1]})" if stages else ""), flush=True)
    return seconds, peak


def move_batch(source: Path, root: Path, stamps: list[str]) -> None:
    for stamp in stamps:
        for path in source.rglob(f"*_{stamp}.*"):
            destination = root / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, destination)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=Path("bench_data/run"))
    args = parser.parse_args()
    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    source, root, out = work / "generated", work / "landing", work / "exports"
    env = {**os.environ, "CDP_DUCKDB_PATH": str(work / "cdp.duckdb"),
           "DBT_TARGET_PATH": str(work / "target"), "DO_NOT_TRACK": "1",
           "DBT_PROFILES_DIR": str(project_dir())}
    cdp, dbt = str(BIN / "cdp"), str(BIN / "dbt")

    print(f"{args.contacts:,} contacts, {os.cpu_count()} cores")
    figures = {}
    figures["generate"] = timed("cdp generate (four batches)",
                                [cdp, "generate", str(source), "--contacts", str(args.contacts)],
                                env)
    stamps = sorted({p.stem.rsplit("_", 1)[1] for p in source.rglob("*.csv")})
    move_batch(source, root, stamps[:-1])
    run = [cdp, "run", str(root), "--to", str(out), "--force"]
    figures["full"] = timed("cdp run from empty (three batches)", run, env)
    # The first run after one that exported segments rebuilds segment membership
    # (it reads the export state) and checks its suite; the next has nothing to do.
    figures["noop"] = timed("cdp run with nothing new", run, env)
    figures["noop2"] = timed("cdp run with nothing new, again", run, env)
    figures["dbt"] = timed("dbt build with nothing new", [dbt, "build"], env)
    # As dbt Labs advises for production (unit tests have static inputs), as cdp does.
    figures["dbt_no_unit"] = timed("  the same, --exclude-resource-type unit_test",
                                   [dbt, "build", "--exclude-resource-type", "unit_test"], env)
    move_batch(source, root, stamps[-1:])
    figures["delta"] = timed("cdp run after one more batch (~1%)", run, env)

    # The same job both ways: the three seed import types from all four batches, from
    # the extracts they read (hard links to the same files).
    seed_root = work / "seed_landing"
    for entity in SEED_ENTITIES:
        for path in sorted((root / entity).glob("*.csv")):
            (seed_root / entity).mkdir(parents=True, exist_ok=True)
            os.link(path, seed_root / entity / path.name)
    seed_env = {**env, "CDP_DUCKDB_PATH": str(work / "seed.duckdb"),
                "DBT_TARGET_PATH": str(work / "seed_target")}
    seed = sum(timed(label, command, seed_env)[0] for label, command in [
        ("  cdp land (their extracts, fresh)", [cdp, "land", str(seed_root)]),
        ("  cdp build of their models, no tests", [cdp, "build", "--", "--select",
                                                    *(f"+{t}" for t in SEED_TYPES),
                                                    "--exclude", "resource_type:test",
                                                    "resource_type:unit_test"]),
        ("  cdp export insight of them", [cdp, "export", "insight", "--to",
                                          str(work / "seed_exports"),
                                          *(f"--import-type={t}" for t in SEED_TYPES)]),
    ])
    figures["pandas"] = timed(
        "pandas: the same three import types",
        [sys.executable, "-c", PANDAS_REFERENCE, str(root), str(work / "pandas")], env)

    full, noop, dbt_noop, delta = (figures[k][0] for k in ("full", "noop", "dbt", "delta"))
    peak = max(gb for _, gb in figures.values())
    print()
    print(f"{'figure':<44} {'measured':>10}   target")
    for label, value, target in [
        ("cdp run from empty", f"{full:.0f} s", "<= 180 s"),
        ("cdp run with nothing new", f"{noop:.0f} s", "<= 15 s"),
        ("  and again", f"{figures['noop2'][0]:.0f} s", "<= 15 s"),
        ("cdp run after a 1% delta", f"{delta:.0f} s", "<= 30 s"),
        ("  delta / full", f"{delta / full:.2f}", "<= 0.10"),
        ("dbt build with nothing new", f"{dbt_noop:.0f} s", "<= 10 s"),
        ("  without unit tests", f"{figures['dbt_no_unit'][0]:.0f} s", "<= 10 s"),
        ("peak memory of any step", f"{peak:.1f} GB", "<= 8 GB"),
        ("seed import types: cdp (land, build, export)", f"{seed:.0f} s", ""),
        ("  pandas / cdp", f"{figures['pandas'][0] / seed:.2f}", ">= 3 (cdp 3x faster)"),
    ]:
        print(f"{label:<44} {value:>10}   {target}")


if __name__ == "__main__":
    main()
