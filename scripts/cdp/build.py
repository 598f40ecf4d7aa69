"""`cdp build`: run `dbt build` on the project with the project's profile."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from cdp.errors import CdpError
from cdp.project import project_dir, project_fingerprint, target_dir
from cdp.state import Invocation, as_load_id, export_state, has_state_table, invocations


def dbt_executable() -> str:
    beside_python = Path(sys.executable).parent / "dbt"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("dbt")
    if not found:
        raise CdpError("dbt is not installed in this environment (run `make venv`)")
    return found


def dbt_environment() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DBT_PROFILES_DIR", str(project_dir()))
    env.setdefault("DO_NOT_TRACK", "1")
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    # Colour codes only for a person at a terminal (https://no-color.org).
    if "NO_COLOR" in env or not sys.stdout.isatty():
        env.setdefault("DBT_USE_COLORS", "false")
    return env


def run_dbt(command: str, args: list[str]) -> int:
    """Run a dbt command in the project folder; dbt prints its own progress."""
    completed = subprocess.run(
        [dbt_executable(), command, *args], cwd=project_dir(), env=dbt_environment(), check=False
    )
    return completed.returncode


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


def run_results_summary(since: float) -> Counter[tuple[str, str]]:
    """(resource type, status) counts of the dbt invocation started at `since` (a
    time.time()); empty when dbt wrote no results (it failed early), so that an
    earlier invocation's results are never shown as this one's."""
    path = target_dir() / "run_results.json"
    if not path.exists() or path.stat().st_mtime < since:
        return Counter()
    results = json.loads(path.read_text())["results"]
    return Counter(
        (result["unique_id"].split(".")[0], str(result["status"])) for result in results
    )
