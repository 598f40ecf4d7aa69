"""Helpers to land batches step by step and build the Insight models in-process.

dbt runs through its Python entry point (dbtRunner) in this process, so a step costs
one parse-cached dbt invocation rather than a new interpreter."""

from __future__ import annotations

import os
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from dbt.adapters.duckdb.connections import DuckDBConnectionManager
from dbt.cli.main import dbtRunner

from cdp.land import land
from cdp.project import connect, project_dir

INSIGHT_MODELS = [
    "crm_contacts",
    "crm_contact_deletions",
    "crm_purchases",
    "support_tickets",
    "campaign_recipients",
    "campaign_email_events",
]
PROFILE_MODELS = ["identities", "contacts", "interactions", "identity_conflicts"]
# Columns that say which run wrote a row, and which delivery of an identical version
# it came from; everything else must match a full refresh.
RUN_COLUMNS = ("_hwm_load_id", "_invocation_id", "_written_at", "_load_id", "_row_number")
# Columns stamped with the time or id of the build that wrote the row.
BUILD_TIME_COLUMNS = ("assigned_at", "invocation_id", "status_changed_at")
SELECTION = ["resource_type:seed", "staging", "intermediate", "marts", "resource_type:snapshot"]


@dataclass
class Warehouse:
    """A landing root and a DuckDB file of their own, built with the project's dbt."""

    base: Path
    target: Path
    landing: Path = field(init=False)
    database: Path = field(init=False)

    def __post_init__(self) -> None:
        self.landing = self.base / "landing"
        self.database = self.base / "cdp.duckdb"
        self.landing.mkdir(parents=True, exist_ok=True)
        os.environ["CDP_DUCKDB_PATH"] = str(self.database)

    def land_files(self, source_root: Path, files: list[Path]) -> None:
        for path in files:
            destination = self.landing / path.relative_to(source_root)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
        con = connect()
        land(con, self.landing)
        con.close()

    def dbt(self, *args: str) -> None:
        result = dbtRunner().invoke([
            *args, "--project-dir", str(project_dir()), "--profiles-dir", str(project_dir()),
            "--target-path", str(self.target), "--quiet",
        ])
        release_dbt_database()
        if not result.success:
            failures = [
                f"{outcome.node.name}: {outcome.message}"
                for outcome in getattr(result.result, "results", [])
                if str(outcome.status) in ("error", "fail")
            ]
            raise AssertionError(f"dbt {' '.join(args)} failed: {failures or result.exception}")

    def build(self, full_refresh: bool = False) -> None:
        """The models and seeds, without their tests (dbt build runs those in CI)."""
        self.dbt(
            "build", "--select", *SELECTION, "--exclude", "resource_type:test",
            "resource_type:unit_test", *(["--full-refresh"] if full_refresh else []),
        )

    def query(self, sql: str) -> list[tuple]:
        return query(self.database, sql)

    def snapshot(self) -> dict[str, list[tuple]]:
        """Every Insight table's rows and the profile's (identities with their contact
        keys, contacts, interactions, conflicts), without the run columns, sorted."""
        tables = {
            model: self.query(f"select {self.columns_but_run('insight', model)} "
                              f"from insight.{model} order by all")
            for model in INSIGHT_MODELS
        }
        for model in PROFILE_MODELS:
            tables[model] = self.query(f"select {self.columns_but_run('profile', model)} "
                                       f"from profile.{model} order by all")
        return tables

    def columns_but_run(self, schema: str, table: str) -> str:
        names = self.query(
            "select column_name from information_schema.columns "
            f"where table_schema = '{schema}' and table_name = '{table}' order by ordinal_position"
        )
        return ", ".join(f'"{name}"' for (name,) in names if name not in RUN_COLUMNS)


CONTACTS = "Id,Email,Address,IsDeleted,LastModifiedOn"
PURCHASES = "Id,ContactId,ProductName,Created,PaidOn,LastModifiedOn"
SUBMITTERS = "Id,Email,Name,LastModifiedOn"
TICKETS = "Id,SubmitedById,Subject,Status,CreatedOn,LastModifiedOn"
RECIPIENTS = "RecipientId,Email,CrmContactId,BlackListEmail,LastModified"


def query(database: Path, sql: str) -> list[tuple]:
    """Rows of `sql` on a warehouse file, opened read-only for the query only."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def write_csv(root: Path, relative: str, header: str, *rows: str) -> Path:
    """A small extract file, written as an extractor would."""
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def release_dbt_database() -> None:
    """dbt-duckdb keeps its database open in the process; close it so that landing and
    queries can open the file (DuckDB refuses a second, differently configured handle)."""
    environment = DuckDBConnectionManager._ENV
    if environment is not None:
        environment.close()
    DuckDBConnectionManager.close_all_connections()


def random_steps(files: list[Path], rng: random.Random) -> list[list[Path]]:
    """Split the files into 2 to 5 landing steps at random: any batch of any entity may
    land before or after any other, which makes late arrivals of every kind."""
    steps = rng.randint(2, 5)
    assignment: list[list[Path]] = [[] for _ in range(steps)]
    for path in files:
        assignment[rng.randrange(steps)].append(path)
    return [step for step in assignment if step]
