"""`cdp build`: run `dbt build` on the project with the project's profile."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import duckdb

from cdp.project import project_dir, project_fingerprint
from cdp.state import Invocation, as_load_id, export_state, has_state_table, invocations


def dbt_environment() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DBT_PROFILES_DIR", str(project_dir()))
    env.setdefault("DO_NOT_TRACK", "1")
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    # Colour codes only for a person at a terminal (https://no-color.org).
    if "NO_COLOR" in env or not sys.stdout.isatty():
        env.setdefault("DBT_USE_COLORS", "false")
    return env


@dataclass(frozen=True)
class DbtOutcome:
    """How a dbt invocation ended: dbt's exit code (0 success, 1 a node failed, 2 dbt
    could not run) and what it ran, (resource type, status) counts; none when it
    stopped before running anything."""

    code: int
    counts: Counter[tuple[str, str]]


def run_dbt(command: str, args: list[str]) -> DbtOutcome:
    """Run a dbt command on the project in this process (dbt's programmatic API),
    with the project's profile; dbt prints its own progress. The results come from
    the invocation itself, not from a file an earlier one may have left."""
    from dbt.cli.main import dbtRunner

    os.environ.update(dbt_environment())
    try:
        result = dbtRunner().invoke([command, *args, "--project-dir", str(project_dir())])
    finally:
        close_dbt_warehouse()
    code = 0 if result.success else 1 if result.exception is None else 2
    ran = getattr(result.result, "results", None) or []
    return DbtOutcome(code, Counter(
        (str(node.node.resource_type), str(node.status)) for node in ran))


def close_dbt_warehouse() -> None:
    """dbt-duckdb keeps the warehouse open for a next invocation in the process; cdp
    opens it again with its own settings, which DuckDB refuses while it is open."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    if DuckDBConnectionManager._ENV is not None:
        DuckDBConnectionManager._ENV.close()
    DuckDBConnectionManager.close_all_connections()


@dataclass(frozen=True)
class BuildPlan:
    """What a `cdp build` runs, decided from the run manifest:

    - `skip`: nothing to build. The last whole `dbt build` passed, read every load
      landed so far, ran this project (same fingerprint), nothing ran after it that
      failed or did not finish, and the export state it read is unchanged.
    - `export_state`: only what reads the export state (Campaign segment membership),
      when an export changed it since.
    - `whole`: everything.
    - `asked`: dbt arguments or `--all-tests` were given; run as asked.

    Data tests on landed history test the loads after the last whole build that
    passed (var tests_since_load_id's default), everything with `--all-tests`. Once
    dbt is done, the invocation gets the project's fingerprint and the export state
    as they were when the build started (`record`): no var changes from one build to
    the next, so dbt's partial parsing holds."""

    scope: str
    all_tests: bool
    project_fingerprint: str
    export_state: str
    last_whole: Invocation | None

    @property
    def project_changed(self) -> bool:
        """A plain build of another project than the last whole build's (staging
        keeps what it parsed: a change to parsing needs a full refresh)."""
        return (self.scope == "whole" and self.last_whole is not None
                and self.last_whole.project_fingerprint is not None
                and self.last_whole.project_fingerprint != self.project_fingerprint)

    @classmethod
    def plan(cls, con: duckdb.DuckDBPyConnection, dbt_args: list[str],
             all_tests: bool) -> BuildPlan:
        manifest = invocations(con)
        last, whole, exported = (manifest.get(k) for k in ("last", "whole", "export_state"))
        last_load = con.execute("select coalesce(max(load_id), -1) from raw._loads").fetchone()[0]
        # dbt arguments (a --vars, a --full-refresh of a selection) may change what is
        # built: a build given any is never the one a later plain build matches.
        fingerprint = project_fingerprint()
        if dbt_args:
            fingerprint = hashlib.sha256(json.dumps([fingerprint, dbt_args]).encode()).hexdigest()
        state = export_state(con)

        def plan(scope: str) -> BuildPlan:
            return cls(scope, all_tests, fingerprint, state, whole)

        if dbt_args or all_tests:
            return plan("asked")
        up_to_date = (whole is not None and last is not None and last.passed
                      and as_load_id(whole.through_load_id) == last_load
                      and whole.project_fingerprint == fingerprint)
        if not up_to_date:
            return plan("whole")
        if exported is not None and exported.export_state == state and \
                exported.project_fingerprint == fingerprint:
            return plan("skip")
        return plan("export_state")

    def dbt_args(self, user_args: list[str], unit_tests: bool = False) -> list[str]:
        """The user's dbt arguments and the plan's. Unit tests (static inputs) run in
        development and CI, not in production builds, as dbt Labs recommends: unless
        asked for, or the user chose what to build."""
        ours = ["--select", "source:cdp_state+"] if self.scope == "export_state" else []
        if not user_args and not unit_tests:
            ours += ["--exclude-resource-type", "unit_test"]
        if self.all_tests:
            ours += ["--vars", json.dumps({"tests_since_load_id": -1})]
        return [*user_args, *ours]

    def record(self, con: duckdb.DuckDBPyConnection, started: datetime) -> None:
        """What the build ran on, on its row of the run manifest: the invocation that
        started after `started` (UTC), the lock keeping any other away."""
        if not has_state_table(con, "dbt_invocations"):
            return   # dbt stopped before it started running
        con.execute(
            "update cdp_state.dbt_invocations set project_fingerprint = ?, export_state = ?, "
            "scope = coalesce(scope, ?) where invocation_id = (select invocation_id from "
            "cdp_state.dbt_invocations where started_at >= ? order by started_at desc limit 1)",
            [self.project_fingerprint, self.export_state,
             "export_state" if self.scope == "export_state" else None, started])
