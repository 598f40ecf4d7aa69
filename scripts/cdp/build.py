"""`cdp build`: run `dbt build` on the project with the project's profile."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cdp.errors import CdpError
from cdp.project import project_dir, target_dir


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
    return env


def run_dbt(command: str, args: list[str]) -> int:
    """Run a dbt command in the project folder; dbt prints its own progress."""
    completed = subprocess.run(
        [dbt_executable(), command, *args], cwd=project_dir(), env=dbt_environment(), check=False
    )
    return completed.returncode


@dataclass(frozen=True)
class LoadsToTest:
    """Which landed rows a build's data tests read: those of loads after `since`
    (dbt var tests_since_load_id). A whole build that passes records `through`, the
    last load landed when it started, so the next build tests only later loads; a
    build of a selection records nothing."""

    since: int
    through: int | None   # recorded when the build passes; None: record nothing

    @classmethod
    def plan(cls, con: duckdb.DuckDBPyConnection, dbt_args: list[str],
             all_tests: bool) -> LoadsToTest:
        last = con.execute("select coalesce(max(load_id), -1) from raw._loads").fetchone()[0]
        tested = con.execute(
            "select coalesce(max(through_load_id), -1) from cdp_state.tested_loads").fetchone()[0]
        whole = not dbt_args
        if any(arg.split("=")[0] == "--vars" for arg in dbt_args):
            # the user's vars win; they may set tests_since_load_id themselves
            return cls(since=-1, through=None)
        return cls(since=-1 if all_tests else tested, through=last if whole else None)

    def dbt_args(self) -> list[str]:
        return [] if self.since < 0 else ["--vars", json.dumps({"tests_since_load_id":
                                                                self.since})]

    def record(self, con: duckdb.DuckDBPyConnection) -> None:
        if self.through is not None:
            con.execute("insert into cdp_state.tested_loads values (?, ?, now())",
                        [self.since, self.through])


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
