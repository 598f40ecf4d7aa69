"""Profile benchmark: identity graph and profile.contacts at two scales. Prints what it
measured, per scale:

- build time of the identity graph and profile.contacts from scratch (after a full
  extract and two daily deltas), and after one more batch (about 1% new rows);
- identifiers in the graph, and seconds per million identifiers, so that the growth
  from the small to the large scale can be compared with linear growth;
- accuracy against the ground truth (pairwise precision, recall, F1; people wrongly
  merged and split).

    python benchmarks/bench_profile.py --scales 100000 1000000
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

import duckdb
from bench_incremental import dbt, land_batches, model_seconds

from cdp_dev.generate import generate
from cdp_dev.score import score

GRAPH_MODELS = (
    "int_identity_records", "int_identity_links", "int_identity_nodes", "int_identity_edges",
    "int_identity_seeds", "int_identity_labels", "int_identity_components",
    "identities", "identity_conflicts", "contacts", "identity_key_history",
    "identity_merges",
)
SELECTION = ("resource_type:seed", "staging", "intermediate", "marts")


def graph_seconds(results: dict) -> float:
    seconds = model_seconds(results)
    return sum(seconds.get(name, 0.0) for name in GRAPH_MODELS)


def run_scale(contacts: int, work: Path) -> dict:
    shutil.rmtree(work, ignore_errors=True)
    source, root, target = work / "generated", work / "landing", work / "target"
    generate(source, contacts=contacts, batches=4)
    stamps = sorted({path.stem.rsplit("_", 1)[1] for path in source.rglob("*.csv")})
    os.environ["CDP_DUCKDB_PATH"] = str(work / "cdp.duckdb")

    land_batches(root, stamps[:-1], source)
    dbt(["seed"], target)
    _, results = dbt(["run", "--full-refresh", "--select", *SELECTION], target)
    from_scratch = graph_seconds(results)
    interactions = model_seconds(results).get("interactions", 0.0)

    delta = land_batches(root, stamps[-1:], source)
    _, results = dbt(["run", "--select", *SELECTION], target)
    after_batch = graph_seconds(results)

    con = duckdb.connect(str(work / "cdp.duckdb"), read_only=True)
    identifiers = con.execute("select count(*) from profile.identities").fetchone()[0]
    contacts_built = con.execute("select count(*) from profile.contacts").fetchone()[0]
    accuracy = score(con, source / "_truth" / "identities.parquet")
    con.close()
    return {
        "contacts": contacts, "identifiers": identifiers, "profiles": contacts_built,
        "from_scratch": from_scratch, "after_batch": after_batch, "delta": delta,
        "interactions": interactions, "accuracy": accuracy,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--work", type=Path, default=Path("bench_data/profile"))
    args = parser.parse_args()

    runs = [run_scale(contacts, args.work / str(contacts)) for contacts in args.scales]
    for run in runs:
        accuracy = run["accuracy"]
        print(f"{run['contacts']:,} contacts: {run['identifiers']:,} identifiers, "
              f"{run['profiles']:,} profile contacts")
        print(f"    graph + contacts from scratch   {run['from_scratch']:7.2f}s "
              f"({run['from_scratch'] / run['identifiers'] * 1e6:.2f}s per million identifiers)")
        print(f"    after one more batch            {run['after_batch']:7.2f}s "
              f"({run['delta']:,} rows landed)")
        print(f"    profile.interactions            {run['interactions']:7.2f}s")
        print(f"    precision {accuracy.precision:.5f}  recall {accuracy.recall:.5f}  "
              f"F1 {accuracy.f1:.5f}  wrongly merged {accuracy.wrongly_merged_people}  "
              f"wrongly split {accuracy.wrongly_split_people}  (people {accuracy.people:,})")
    if len(runs) >= 2:
        small, large = runs[0], runs[-1]
        growth = large["from_scratch"] / small["from_scratch"]
        size = large["identifiers"] / small["identifiers"]
        print(f"identifiers x{size:.1f}, graph build time x{growth:.1f} "
              f"({'roughly linear or better' if growth <= size * 1.3 else 'WORSE than linear'})")


if __name__ == "__main__":
    main()
