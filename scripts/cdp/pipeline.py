"""The steps of a run, land → build → check → export, and `run`, which chains them,
without printing: each step takes the warehouse's lock, does its work through the
modules that know how (land, build, check, export), and returns what happened; the
command line (cli.py), or any other caller, reports it through a `Reporter`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from cdp import build as build_module
from cdp import export as export_module
from cdp import insight_api, warehouse
from cdp import land as land_module
from cdp import report as report_module
from cdp import status as status_module
from cdp.errors import ExitCode
from cdp.faults import checkpoint
from cdp.lock import warehouse_lock
from cdp.project import connect, require_built

if TYPE_CHECKING:
    from cdp.check import SuiteResult

log = logging.getLogger("cdp")


class LandProgress:
    """What a caller hears while files land (nothing, unless overridden)."""

    @contextmanager
    def watching(self, con: duckdb.DuckDBPyConnection) -> Iterator[None]:
        """Around the landing, on the connection that lands."""
        yield

    def start_file(self, file: land_module.ExtractFile) -> None:
        pass

    def finish_file(self, outcome: land_module.FileOutcome) -> None:
        pass


@dataclass
class Landed:
    report: land_module.LandReport
    seconds: float


def land(root: Path, progress: LandProgress | None = None) -> Landed:
    """Land every extract file under `root` not landed before."""
    progress = progress or LandProgress()
    started = time.perf_counter()
    with warehouse_lock("land"):
        con = connect()
        try:
            with progress.watching(con):
                report = land_module.land(con, root, progress.start_file, progress.finish_file)
        finally:
            con.close()
    for outcome in report.outcomes:
        log.info("%s: %s, %d rows, %d lines rejected%s", outcome.path, outcome.status,
                 outcome.rows_landed, outcome.lines_rejected,
                 f" ({outcome.message})" if outcome.message else "")
    return Landed(report, time.perf_counter() - started)


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
        warehouse.create_tables(con)
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
            warehouse.create_tables(con)
            check_module.record_pass(con, checked, results)
            con.close()
    for result in results:
        log.info("suite %s: %d rows checked, %d expectations, %d failed", result.suite,
                 result.rows, result.expectations, len(result.failures))
    return results


@dataclass
class Exported:
    kind: str
    report: export_module.KindReport
    seconds: float


def export(kind: str, to: str, full: bool = False, dry_run: bool = False,
           guardrail: bool = False, progress: export_module.Progress | None = None,
           **options: object) -> Exported:
    """One kind to `to` (export_module.export_kind); a Campaign-bound kind within its
    guardrail interval raises GuardrailRefusal when `guardrail`."""
    started = time.perf_counter()
    progress = progress or export_module.Progress()
    with warehouse_lock(f"export {kind}"), progress.shown():
        report = export_module.export_kind(kind, to, full, dry_run, guardrail, progress,
                                           **options)
    for outcome in report.outcomes:
        log.info("%s %s to %s: %s, %d rows, files %s", kind, outcome.subject.name, report.url,
                 outcome.status, outcome.rows, ", ".join(f.name for f in outcome.files) or "none")
    return Exported(kind, report, time.perf_counter() - started)


def submit_deletions(api: str, batch_size: int, dry_run: bool = False) -> insight_api.Submission:
    """CRM deletions Insight's API has not accepted yet, as delete requests."""
    with warehouse_lock("export insight-deletions"):
        return insight_api.submit_deletions(api, batch_size, dry_run)


def status() -> list[status_module.Section]:
    """What the warehouse holds now: loads, rejects, runs, exports (cdp.status)."""
    con = connect(read_only=True)
    try:
        return status_module.sections(con)
    finally:
        con.close()


def report(last: int) -> list[status_module.Section]:
    """The pipeline over its latest `last` runs, loads and days (cdp.report)."""
    con = connect(read_only=True)
    try:
        return report_module.sections(con, last)
    finally:
        con.close()


# What `cdp run` exports, in order: Insight first, the Campaign-bound kinds (each
# within its guardrail), the logs last.
RUN_EXPORTS = ("insight", *export_module.CAMPAIGN_BOUND, "campaign-logs")


class StepFailed(Exception):
    """A step of a run failed, as its reporter heard; the run stops there."""

    def __init__(self, stage: str, exit_code: int):
        super().__init__(f"{stage} failed")
        self.stage, self.exit_code = stage, exit_code


class Reporter:
    """What `run` tells its caller as it goes (nothing, unless overridden)."""

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Around a stage."""
        yield

    def land_progress(self) -> LandProgress:
        return LandProgress()

    def landed(self, landed: Landed) -> None:
        pass

    def build_planned(self, plan: build_module.BuildPlan) -> None:
        pass

    def built(self, built: Built) -> None:
        pass

    def check_progress(self, suite: str) -> None:
        pass

    def checked(self, results: list[SuiteResult] | None, docs: Path, seconds: float) -> None:
        pass

    def export_progress(self, kind: str) -> export_module.Progress:
        return export_module.Progress()

    def exported(self, exported: Exported) -> None:
        pass

    def refused(self, kind: str, refusal: export_module.GuardrailRefusal) -> None:
        pass


def run(root: Path, to: str, docs: Path, force: bool = False,
        reporter: Reporter | None = None) -> dict[str, float]:
    """Land, build, check and export every kind, in that order, under one lock; a step
    that fails raises and stops the run. A Campaign-bound kind within its guardrail
    interval is skipped (the reporter hears why) unless `force`. Returns the seconds
    each stage took."""
    reporter = reporter or Reporter()
    seconds: dict[str, float] = {}

    def stage(name: str, step: Callable[[], None]) -> None:
        started = time.perf_counter()
        with reporter.stage(name):
            step()
        seconds[name] = time.perf_counter() - started

    def build_step() -> None:
        built = build([], planned=reporter.build_planned)
        reporter.built(built)
        if built.outcome is not None and built.outcome.code != 0:
            raise StepFailed("build", built.outcome.code)

    def check_step() -> None:
        started = time.perf_counter()
        results = check(docs, progress=reporter.check_progress)
        reporter.checked(results, docs, time.perf_counter() - started)
        if results and any(result.failures for result in results):
            raise StepFailed("check", ExitCode.FAILURE)

    def export_step() -> None:
        for kind in RUN_EXPORTS:
            try:
                reporter.exported(export(kind, to, guardrail=kind in export_module.CAMPAIGN_BOUND
                                         and not force, progress=reporter.export_progress(kind)))
            except export_module.GuardrailRefusal as refusal:
                reporter.refused(kind, refusal)

    with warehouse_lock("run"):
        stage("land", lambda: reporter.landed(land(root, reporter.land_progress())))
        stage("build", build_step)
        stage("check", check_step)
        stage("export", export_step)
    return seconds
