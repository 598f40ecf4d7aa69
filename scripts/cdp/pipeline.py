"""The steps of a run that `cdp build`, `cdp check` and `cdp run` share, without
printing: each takes the warehouse's lock, does its work through the modules that
know how (build, check), and returns what happened for the command line (cli.py) to
report."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cdp import build as build_module
from cdp.faults import checkpoint
from cdp.lock import warehouse_lock
from cdp.project import connect, require_built
from cdp.warehouse import create_tables

if TYPE_CHECKING:
    from cdp.check import SuiteResult

log = logging.getLogger("cdp")


@dataclass
class Built:
    plan: build_module.BuildPlan
    outcome: build_module.DbtOutcome | None   # None: nothing to build


def build(dbt_args: list[str], all_tests: bool = False, unit_tests: bool = False,
          quiet: bool = False,
          planned: Callable[[build_module.BuildPlan], None] = lambda plan: None) -> Built:
    """Plan the build, run `dbt build` as planned (`planned` hears the plan first) and
    record it in the run manifest."""
    with warehouse_lock("build"):
        # The plan reads the landing manifest and the export state before dbt runs
        # (dbt creates them too, on a warehouse nothing was landed into yet).
        con = connect()
        create_tables(con)
        plan = build_module.BuildPlan.plan(con, dbt_args, all_tests)
        con.close()
        planned(plan)
        if plan.scope == "skip":
            return Built(plan, None)
        checkpoint("build-started")
        started_utc = datetime.now(UTC).replace(tzinfo=None)
        arguments = plan.dbt_args(dbt_args, unit_tests) + (["--quiet"] if quiet else [])
        log.info("dbt build %s (plan: %s)", " ".join(arguments), plan.scope)
        outcome = build_module.run_dbt("build", arguments)
        log.info("dbt build exit code %d: %s", outcome.code, dict(outcome.counts))
        con = connect()
        plan.record(con, started_utc)
        con.close()
    return Built(plan, outcome)


def check(docs: Path, full: bool = False,
          progress: Callable[[str], None] = lambda suite: None) -> list[SuiteResult] | None:
    """The Great Expectations suites on what was built or landed since the last check
    passed (`full`: every row of every suite), recorded when they pass; None when
    there was nothing to check."""
    # Great Expectations and pandas are imported only when a check runs.
    from cdp import check as check_module
    from cdp import suites as suites_module

    with warehouse_lock("check"):
        con = connect(read_only=True)
        try:
            require_built(con, ["insight", "profile", "campaign", "ops"], "checking")
            suites = suites_module.all_suites(con)
            checked = check_module.Checked.now(con, suites, docs)
            if not full:
                suites = check_module.to_check(con, suites, checked)
            if not suites:
                log.info("nothing to check")
                return None
            results = check_module.check(con, suites, docs, full, progress)
        finally:
            con.close()
        if not any(r.failures for r in results):
            con = connect()
            check_module.record_pass(con, checked, results)
            con.close()
    for result in results:
        log.info("suite %s: %d rows checked, %d expectations, %d failed", result.suite,
                 result.rows, result.expectations, len(result.failures))
    return results
