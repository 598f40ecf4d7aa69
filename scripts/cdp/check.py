"""`cdp check`: the Great Expectations suites (suites.py) on the warehouse, with
Great Expectations Data Docs.

Great Expectations 1.x reaches DuckDB 2 only through pandas (its SQL route returns
empty metrics with duckdb 2.0), and a whole table must not be copied into pandas. So
DuckDB scans: for each expectation it counts the rows that break it and fetches a
bounded sample of them (every row of up to 20 duplicated keys for a uniqueness rule).
Great Expectations then validates each suite on those rows, each expectation on its
own rows (a `row_condition`), and judges and reports them. Its results are then made
to say what was checked (`as_checked`): DuckDB's counts over every row checked
(rows, unexpected and missing values, percentages), no trace of the condition that
picked each expectation's sample, the batch named after the suite and the run after
the check; they are kept in Great Expectations' project folder (`gx/` beside the
warehouse) and Data Docs are built from them. An expectation DuckDB finds broken that
Great Expectations would accept is reported as a failure too, so that no rule can
pass unexamined.

A check costs what was written since the last one that passed: a suite whose rows
carry when they were written (`Suite.written_at`) checks the rows written after what
that check had read (`cdp_state.checked_suites`), the keys of uniqueness rules
against every row; `--full` checks every row.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from cdp.data_docs import serve_offline
from cdp.errors import CdpError
from cdp.sql import identifier, literal
from cdp.state import has_state_table, invocations
from cdp.suites import Rule, Suite

SAMPLE_ROWS = 50
SAMPLE_KEYS = 20


@dataclass
class Failure:
    suite: str
    expectation: str
    unexpected: int
    rows: int
    examples: list

    def line(self) -> str:
        shown = ", ".join(repr(e) for e in self.examples[:3])
        return (f"{self.suite}: {self.expectation}: {self.unexpected:,} of {self.rows:,} rows "
                f"unexpected (e.g. {shown})")


@dataclass
class SuiteResult:
    suite: str
    rows: int                         # rows checked
    expectations: int
    failures: list[Failure]
    definition: str                   # fingerprint of the suite (suite_definition)
    written_through: datetime | None  # the latest write time of the rows checked


def describe(rule: Rule) -> str:
    shown = ", ".join(f"{k}={v!r}" for k, v in rule.kwargs.items())
    return f"{rule.expectation_type}({shown})"


def in_set(values: list) -> str:
    return ", ".join(literal(v) if isinstance(v, str) else str(v).lower() for v in values)


def unexpected_rows(expectation: Rule, relation: str, checked: str | None = None,
                    key_limit: int | None = None) -> str:
    """The SQL condition (on alias t over the rows checked) of the rows that break it.
    A uniqueness rule looks for each key over every row of `relation`, for the keys
    of `checked` (a subset of it) when given; `key_limit` bounds the duplicated keys
    whose rows match."""
    kind = expectation.expectation_type
    kwargs = expectation.kwargs
    if kind == "expect_column_values_to_be_unique":
        return unexpected_rows_of_keys([kwargs["column"]], relation, checked, key_limit)
    if kind == "expect_compound_columns_to_be_unique":
        return unexpected_rows_of_keys(kwargs["column_list"], relation, checked, key_limit)
    column = f"t.{identifier(kwargs['column'])}"
    if kind == "expect_column_values_to_not_be_null":
        return f"{column} is null"
    if kind == "expect_column_values_to_match_regex":
        return f"{column} is not null and not regexp_matches({column}, {literal(kwargs['regex'])})"
    if kind == "expect_column_values_to_be_in_set":
        return f"{column} is not null and {column} not in ({in_set(kwargs['value_set'])})"
    if kind == "expect_column_values_to_be_between":
        return f"{column} < {kwargs['min_value']} or {column} > {kwargs['max_value']}"
    raise CdpError(f"cdp check cannot run {kind} inside DuckDB yet")


def unexpected_rows_of_keys(columns: list[str], relation: str, checked: str | None,
                            limit: int | None) -> str:
    """Rows whose key (not null) occurs more than once; `limit` bounds the keys."""
    keys = ", ".join(identifier(c) for c in columns)
    not_null = " and ".join(f"{identifier(c)} is not null" for c in columns)
    of_checked = f" and ({keys}) in (select ({keys}) from ({checked}))" if checked else ""
    matches = " and ".join(f"d.{identifier(c)} = t.{identifier(c)}" for c in columns)
    bounded = f" limit {limit}" if limit else ""
    return (f"exists (select 1 from (select {keys} from ({relation}) where {not_null}"
            f"{of_checked} group by all having count(*) > 1{bounded}) as d where {matches})")


def suite_definition(suite: Suite) -> str:
    """A fingerprint of what a suite checks: a changed suite checks every row again."""
    facts = [suite.name, suite.relation, suite.written_at,
             [[e.expectation_type, e.kwargs] for e in suite.expectations]]
    return hashlib.sha256(json.dumps(facts, default=str).encode()).hexdigest()


def written_through(con: duckdb.DuckDBPyConnection) -> dict[str, datetime]:
    """Per suite definition, the latest write time a passing check had read."""
    if not has_state_table(con, "checked_suites"):
        return {}
    return dict(con.execute("select definition, max(written_through) "
                            "from cdp_state.checked_suites group by definition").fetchall())


@dataclass
class Scan:
    rows: int                 # rows checked
    counts: list[int]         # per expectation, its unexpected rows
    missing: list[int]        # per expectation, rows whose column is null (0 without one)
    frame: pd.DataFrame       # the rows Great Expectations validates (_check: for which)
    written_through: datetime | None
    since: datetime | None    # rows written after it were checked; None: every row


def missing_rows(expectation: Rule) -> str:
    column = expectation.kwargs.get("column")
    return f"t.{identifier(column)} is null" if column else "false"


def scan(con: duckdb.DuckDBPyConnection, suite: Suite, since: datetime | None = None) -> Scan:
    """DuckDB's part: the rows checked (every row, or those written after `since`),
    and per expectation the unexpected count, in one pass; plus the bounded frame
    Great Expectations validates, read again only for the expectations some rows
    break."""
    checked = suite.relation
    if since is not None:
        checked = (f"select * from ({suite.relation}) where {identifier(suite.written_at)} > "
                   f"{literal(since.isoformat())}::timestamp")
    subset = checked if since is not None else None
    conditions = [unexpected_rows(e, suite.relation, subset) for e in suite.expectations]
    conditions += [missing_rows(e) for e in suite.expectations]
    filtered = "".join(f", count(*) filter (where {c})" for c in conditions)
    latest_written = f"max({identifier(suite.written_at)})" if suite.written_at else "null"
    rows, latest, *counted = con.execute(
        f"select count(*), {latest_written}{filtered} from ({checked}) as t").fetchone()
    counts, missing = counted[:len(suite.expectations)], counted[len(suite.expectations):]
    samples = [f"select *, '' as _check from ({checked}) as t limit 0"]
    for number, expectation in enumerate(suite.expectations):
        if counts[number]:
            limit = "" if "unique" in expectation.expectation_type else f"limit {SAMPLE_ROWS}"
            samples.append(
                f"select *, '{number}' as _check from ({checked}) as t where "
                f"{unexpected_rows(expectation, suite.relation, subset, SAMPLE_KEYS)} {limit}")
    frame = con.execute(" union all ".join(f"({s})" for s in samples)).df()
    return Scan(rows, counts, missing, frame, latest or since, since)


SAMPLED = (f"Counted by DuckDB over every row checked; the unexpected values listed are a "
           f"sample of at most {SAMPLE_ROWS} rows ({SAMPLE_KEYS} keys for a uniqueness rule).")


def percent(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


def as_checked(validation, suite: Suite, scanned: Scan) -> None:
    """Great Expectations' result of a suite, made to say what DuckDB checked: its
    counts over every row checked, not over the sample of unexpected rows; no
    `_check` condition; the batch named after the suite, with what was checked."""
    for number, result in enumerate(validation.results):
        unexpected, missing = scanned.counts[number], scanned.missing[number]
        details = result.result
        # Like Great Expectations, percentages of the values present where it counts
        # missing ones, of every row elsewhere (expect_column_values_to_not_be_null).
        counted = scanned.rows - missing if "missing_count" in details else scanned.rows
        details.update(element_count=scanned.rows, unexpected_count=unexpected,
                       unexpected_percent=percent(unexpected, counted))
        if "missing_count" in details:
            details.update(missing_count=missing, missing_percent=percent(missing, scanned.rows),
                           unexpected_percent_total=percent(unexpected, scanned.rows),
                           unexpected_percent_nonmissing=percent(unexpected, counted))
        result.success = bool(result.success) and unexpected == 0
        for condition in ("row_condition", "condition_parser"):
            result.expectation_config.kwargs.pop(condition, None)
        result.expectation_config.notes = SAMPLED
    evaluated = len(validation.results)
    passed = sum(bool(result.success) for result in validation.results)
    validation.success = passed == evaluated
    validation.statistics.update(
        evaluated_expectations=evaluated, successful_expectations=passed,
        unsuccessful_expectations=evaluated - passed, success_percent=percent(passed, evaluated))
    checked = ("every row" if scanned.since is None
               else f"the rows written after {scanned.since:%Y-%m-%d %H:%M:%S} UTC")
    validation.meta["batch_spec"] = {"data_asset_name": suite.name, "rows_checked": scanned.rows,
                                     "checked": checked}


def great_expectations_context(folder: Path, docs: Path):
    """Great Expectations' own project folder (`folder`, `gx/` beside the warehouse):
    the suites, validation definitions and checkpoints of the latest check and every
    check's results, where its users look for them; Data Docs go to `docs`."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="file", project_root_dir=str(folder.parent))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    site = {
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                          "base_directory": str(docs)},
        # The index lists the latest results only: its cost stays flat as checks add up.
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder",
                               "validation_results_limit": INDEXED_RESULTS,
                               "show_how_to_buttons": False},
    }
    # One site, where `--docs` says (Great Expectations' default one would be built too).
    for name in list(context.list_data_docs_sites()):
        context.delete_data_docs_site(name)
    context.add_data_docs_site(DOCS_SITE, site)
    return context


DOCS_SITE = "cdp"
INDEXED_RESULTS = 500


def gx_folder(con: duckdb.DuckDBPyConnection) -> Path:
    """`gx/` beside the warehouse file `con` has open."""
    path = con.execute("select path from duckdb_databases() "
                       "where database_name = current_database()").fetchone()[0]
    return Path(path).parent / "gx"


def check(con: duckdb.DuckDBPyConnection, suites: list[Suite], docs: Path, full: bool = False,
          progress: Callable[[str], None] = lambda name: None) -> list[SuiteResult]:
    """Validate the suites: every row (`full`), or per suite the rows written since
    the last check that passed."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
    )
    from great_expectations.expectations.registry import get_expectation_impl
    from great_expectations.expectations.row_conditions import Column

    context = great_expectations_context(gx_folder(con), docs)
    source = context.data_sources.add_or_update_pandas("warehouse")
    started = datetime.now(UTC)
    run = RunIdentifier(run_name=f"cdp-check-{started:%Y%m%dT%H%M%SZ}", run_time=started)
    checked_through = {} if full else written_through(con)
    results = []
    rendered = []
    for suite in suites:
        progress(suite.name)
        fingerprint = suite_definition(suite)
        since = checked_through.get(fingerprint) if suite.written_at else None
        scanned = scan(con, suite, since)
        rows, counts, frame = scanned.rows, scanned.counts, scanned.frame
        gx_suite = gx.ExpectationSuite(name=suite.name)
        for number, expectation in enumerate(suite.expectations):
            conditioned = get_expectation_impl(expectation.expectation_type)(
                **expectation.kwargs, row_condition=Column("_check") == str(number))
            gx_suite.add_expectation(conditioned)
        gx_suite = context.suites.add_or_update(gx_suite)
        batch = source.add_dataframe_asset(suite.name).add_batch_definition_whole_dataframe(
            "unexpected rows found by DuckDB")
        definition = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=suite.name, data=batch, suite=gx_suite))
        # Data Docs are built once at the end: building them per suite re-renders every
        # page each time (15.8 of 33.8 s at 1,000,000 contacts).
        checkpoint = context.checkpoints.add_or_update(gx.Checkpoint(
            name=suite.name, validation_definitions=[definition], actions=[]))
        outcome = checkpoint.run(batch_parameters={"dataframe": frame}, run_id=run)
        [(key, validation)] = outcome.run_results.items()
        as_checked(validation, suite, scanned)
        context.validation_results_store.set(key, validation)
        rendered += [key, ExpectationSuiteIdentifier(name=suite.name)]
        for shown in gx_suite.expectations:   # the suite's page without the sample's condition
            shown.row_condition, shown.notes = None, SAMPLED
        gx_suite.save()
        failures = []
        for number, (expectation, result) in enumerate(
                zip(suite.expectations, validation.results, strict=True)):
            if result.success:
                continue
            sample = frame[frame["_check"] == str(number)]
            column = expectation.kwargs.get("column")
            examples = (sample[column].tolist() if column in sample else
                        sample.drop(columns="_check").head(3).to_dict("records"))
            failures.append(Failure(suite.name, describe(expectation), counts[number], rows,
                                    examples))
        results.append(SuiteResult(suite.name, rows, len(suite.expectations), failures,
                                   fingerprint, scanned.written_through))
    # Pages of this check's suites and results only; earlier checks' pages stay as built.
    built_since = time.time()
    context.build_data_docs(resource_identifiers=rendered)
    serve_offline(docs, built_since)
    return results


# The suites that read what a rebuild of the export state's readers changes.
EXPORT_STATE_SUITES = ("campaign.segment_membership",)


@dataclass(frozen=True)
class Checked:
    """What a passing check vouches for, as two fingerprints of the suites
    (relations and expectations), the Data Docs folder, the last load (views read
    landed rows) and a dbt invocation: the latest (`everything`), and the latest
    that was not only a rebuild of segment membership (`besides_membership`)."""

    everything: str
    besides_membership: str

    @classmethod
    def now(cls, con: duckdb.DuckDBPyConnection, suites: list[Suite], docs: Path) -> Checked:
        manifest = invocations(con)
        loads = con.execute("select max(load_id) from raw._loads").fetchone()[0]
        definition = [suite_definition(suite) for suite in suites]

        def digest(invocation: str) -> str:
            facts = [definition, str(docs), loads, manifest.get(invocation)]
            return hashlib.sha256(json.dumps(facts, default=str).encode()).hexdigest()

        return cls(digest("last"), digest("data"))


def to_check(con: duckdb.DuckDBPyConnection, suites: list[Suite], checked: Checked) -> list[Suite]:
    """The suites to run: none when the last check that passed checked this same
    state, only segment membership's when nothing else was built since, else all."""
    if not has_state_table(con, "passed_checks"):
        return suites
    last = con.execute("select fingerprint, besides_membership from cdp_state.passed_checks "
                       "order by checked_at desc limit 1").fetchone()
    if last is None:
        return suites
    if last[0] == checked.everything:
        return []
    if last[1] == checked.besides_membership:
        return [suite for suite in suites if suite.name in EXPORT_STATE_SUITES]
    return suites


def record_pass(con: duckdb.DuckDBPyConnection, checked: Checked,
                results: list[SuiteResult]) -> None:
    con.execute("insert into cdp_state.passed_checks values (?, now()::timestamp, ?, ?, ?)",
                [checked.everything, len(results), sum(r.expectations for r in results),
                 checked.besides_membership])
    through = [[r.suite, r.definition, r.written_through] for r in results
               if r.written_through is not None]
    if through:
        con.executemany(
            "insert into cdp_state.checked_suites values (?, ?, ?, now()::timestamp)", through)
