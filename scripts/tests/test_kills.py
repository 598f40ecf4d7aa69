"""`cdp land` and `cdp build` killed at several points, as a power cut or an OOM kill
would: the next run finishes the work, and the tables equal an uninterrupted run's —
no row lost, none doubled. (The export's kill tests are in test_export.py.)

CI kills each command at a few points; `make test-crash` (CDP_CRASH_ALL=1) at all."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import duckdb
import pytest

from conftest import BIN, run_cdp, write
from incremental import BUILD_TIME_COLUMNS, RUN_COLUMNS

EVERY_POINT = bool(os.environ.get("CDP_CRASH_ALL"))


def landing_root(base: Path) -> Path:
    """Files of each format, a malformed line and a refused file, in several entities."""
    root = base / "landing"
    header = "Id,Email,FirstName,LastModifiedOn\n"
    for n in range(1, 4):
        write(root, f"crm/contacts/contacts_{n}.csv", header + "".join(
            f"C{n}{i},p{n}{i}@x.com,F{i},2026-01-0{n}T00:00:00Z\n" for i in range(50))
            + f"C{n}x,bad,line,with,too,many\n")
    write(root, "crm/contacts/contacts_4.csv", "Id,Email\nC1,a@x.com\n")   # refused
    write(root, "support/contacts/submitters_1.jsonl", "".join(
        f'{{"Id": "S{i}", "Email": "s{i}@x.com", "LastModifiedOn": "2026-01-01"}}\n'
        for i in range(40)) + "not json\n")
    parquet = root / "campaign" / "quarantine" / "quarantine_1.parquet"
    parquet.parent.mkdir(parents=True)
    duckdb.execute(f"""copy (select 'q' || i || '@x.com' as Address, 'Quarantine' as Status,
        '2026-01-01 00:00:00' as LastModified from range(30) t(i)) to '{parquet}'""")
    return root


def landed(database: Path) -> dict[str, list[tuple]]:
    """What landing wrote, without load ids and times (a killed file's load id is used up)."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        # A refused file is tried (and recorded) again on every run, so its attempts
        # count once; a file that landed must be recorded exactly once.
        tables = {"_loads": con.execute(
            "select file_path, file_hash, status, rows_landed, lines_rejected, message "
            "from raw._loads where status in ('landed', 'empty') union all "
            "select distinct file_path, file_hash, status, rows_landed, lines_rejected, "
            "message from raw._loads where status not in ('landed', 'empty') "
            "order by all").fetchall(),
                  "_rejected_lines": con.execute(
            "select file_path, line_number, reason, raw_text from raw._rejected_lines "
            "order by all").fetchall()}
        for (table,) in con.execute("select table_name from information_schema.tables where "
                                    "table_schema = 'raw' and table_name not like '\\_%' "
                                    "escape '\\'").fetchall():
            tables[table] = con.execute(
                f"select * exclude (_load_id, _loaded_at) from raw.{table} order by all"
            ).fetchall()
        return tables
    finally:
        con.close()


# Six files reach land-file; five commit (one is refused before).
LAND_POINTS = ["land-file#2", "land-before-commit#2", "land-committed#2"]
if EVERY_POINT:
    LAND_POINTS = [*(f"land-file#{n}" for n in range(1, 7)),
                   *(f"{point}#{n}" for point in ("land-before-commit", "land-committed")
                     for n in range(1, 6))]


def test_a_killed_landing_lands_the_rest_next_time_as_if_never_killed(tmp_path):
    root = landing_root(tmp_path)
    reference = tmp_path / "reference.duckdb"
    assert run_cdp("land", str(root), env={**os.environ, "CDP_DUCKDB_PATH": str(reference)}
                   ).returncode == 0
    expected = landed(reference)
    assert expected["_loads"] and expected["_rejected_lines"]
    for point in LAND_POINTS:
        database = tmp_path / f"{point.replace('#', '_')}.duckdb"
        env = {**os.environ, "CDP_DUCKDB_PATH": str(database)}
        killed = run_cdp("land", str(root), env={**env, "CDP_CRASH_AT": point})
        assert killed.returncode == -signal.SIGKILL, (point, killed.stderr)
        again = run_cdp("land", str(root), env=env)
        assert again.returncode == 0, (point, again.stderr)
        assert landed(database) == expected, point


# --- dbt build ---------------------------------------------------------------------------

def built(database: Path) -> dict[str, list[tuple]]:
    """Every public relation's rows, without the columns that say which run wrote them."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        relations = con.execute(
            "select table_schema, table_name, list(column_name) from information_schema.columns "
            "where table_schema in ('insight', 'profile', 'campaign') "
            "group by all order by all").fetchall()
        tables = {}
        for schema, name, columns in relations:
            excluded = [c for c in columns if c in RUN_COLUMNS + BUILD_TIME_COLUMNS]
            exclude = f" exclude ({', '.join(excluded)})" if excluded else ""
            tables[f"{schema}.{name}"] = con.execute(
                f'select *{exclude} from {schema}."{name}" order by all').fetchall()
        return tables
    finally:
        con.close()


NODE_DONE = re.compile(r"\d+ of \d+ (OK|PASS|WARN)")
BUILD_KILLS = [40] + ([5, 80, 120, 160] if EVERY_POINT else [])


@pytest.mark.parametrize("after_nodes", BUILD_KILLS)
def test_a_killed_build_finishes_next_time_equal_to_an_uninterrupted_one(after_nodes, sample,
                                                                          tmp_path):
    database = tmp_path / "cdp.duckdb"
    env = {**os.environ, "CDP_DUCKDB_PATH": str(database), "DBT_TARGET_PATH": str(tmp_path / "t")}
    shutil.copytree(sample.root, tmp_path / "landing")
    assert run_cdp("land", str(tmp_path / "landing"), env=env).returncode == 0

    # dbt is killed with cdp (the whole process group), mid-way through the build.
    build = subprocess.Popen([str(BIN / "cdp"), "build"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, start_new_session=True)
    done = 0
    for line in build.stdout:
        done += bool(NODE_DONE.search(line))
        if done >= after_nodes:
            os.killpg(build.pid, signal.SIGKILL)
            break
    build.wait()
    assert done >= after_nodes, "the build ended before the kill"

    again = run_cdp("build", env=env)
    assert again.returncode == 0, again.stdout[-3000:]
    assert built(database) == built(sample.database)
