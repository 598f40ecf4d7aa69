"""The Great Expectations suites of `cdp check`, kept as code: one per public model
(Insight import types, the profile, segment membership, the Campaign log views).

A suite names the relation it validates (a table, or a query that adds the columns a
rule needs, such as whether a segment member is a Campaign recipient) and its
expectations. Insight suites follow the import types' mappings in dbt_project.yml.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import duckdb
import yaml

from cdp.insight_format import INSIGHT_TIMESTAMP, TIMESTAMP_FORMAT
from cdp.project import project_dir, project_vars
from cdp.sql import identifier

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


@dataclass(frozen=True)
class Rule:
    """An expectation as data: Great Expectations' expectation type and its arguments.
    cdp.check makes it a Great Expectations expectation only when a suite runs, so
    that deciding there is nothing to check does not import Great Expectations."""

    expectation_type: str
    kwargs: dict


def expectation(expectation_type: str):
    return lambda **kwargs: Rule(expectation_type, kwargs)


ExpectColumnValuesToNotBeNull = expectation("expect_column_values_to_not_be_null")
ExpectColumnValuesToMatchRegex = expectation("expect_column_values_to_match_regex")
ExpectColumnValuesToBeInSet = expectation("expect_column_values_to_be_in_set")
ExpectColumnValuesToBeBetween = expectation("expect_column_values_to_be_between")
ExpectColumnValuesToBeUnique = expectation("expect_column_values_to_be_unique")
ExpectCompoundColumnsToBeUnique = expectation("expect_compound_columns_to_be_unique")


@dataclass
class Suite:
    name: str                    # schema.model
    relation: str                # SQL of the rows validated
    expectations: list[Rule]
    # A column of `relation` saying when a row was last written, for relations whose
    # rows are kept from build to build: a check after a passing one checks only the
    # rows written since (uniqueness: their keys against every row). The rules must
    # read only what a rewrite of the row changes.
    written_at: str | None = None


def column_types(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str]:
    return dict(con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ?", [schema, table]).fetchall())


def as_exported(column: str, data_type: str) -> str:
    """A column as `cdp export` writes it: timestamps in Insight's format."""
    quoted = identifier(column)
    if data_type.startswith("TIMESTAMP"):
        return f"strftime({quoted}, '{TIMESTAMP_FORMAT}') as {quoted}"
    return f"cast({quoted} as varchar) as {quoted}"


def mapped_texts(value: object) -> list[str] | None:
    if isinstance(value, dict):
        return [value["text"]] if "text" in value else list(value.get("texts", {}).values())
    return None


def insight_suites(con: duckdb.DuckDBPyConnection) -> list[Suite]:
    mappings = dict(project_vars(con)["insight_import_types"])
    mappings["crm_contact_deletions"] = {"columns": {"UniqueId": None, "Timestamp": None}}
    suites = []
    for name, mapping in mappings.items():
        types = column_types(con, "insight", name)
        columns = list(mapping["columns"])
        cells = ", ".join(as_exported(c, types.get(c, "VARCHAR")) for c in columns)
        expectations = [
            ExpectColumnValuesToNotBeNull(column="UniqueId"),
            ExpectColumnValuesToNotBeNull(column="Timestamp"),
            ExpectColumnValuesToMatchRegex(column="Timestamp", regex=INSIGHT_TIMESTAMP),
            ExpectColumnValuesToBeUnique(column="_source_key"),
        ]
        predicates = mapped_texts(mapping["columns"].get("Predicate"))
        if predicates:
            expectations.append(ExpectColumnValuesToBeInSet(
                column="Predicate", value_set=predicates))
        if "Email" in columns:
            expectations.append(ExpectColumnValuesToMatchRegex(column="Email", regex=EMAIL))
        suites.append(Suite(f"insight.{name}", f"select {cells}, _source_key, _written_at "
                            f"from insight.{identifier(name)}", expectations, "_written_at"))
    return suites


def profile_suites(con: duckdb.DuckDBPyConnection) -> list[Suite]:
    cap = int(project_vars(con)["identity_component_cap"])
    return [
        # The identifiers that share a contact key are resolved together.
        Suite("profile.identities", """
            select namespace, identifier, contact_key,
                -- a merged contact has at most the cap's identifiers
                case when is_over_cap then 1 else (
                    select count(*) from profile.identities as same
                    where same.contact_key = identities.contact_key
                ) end as identifiers_of_contact,
                _written_at
            from profile.identities""", [
            ExpectCompoundColumnsToBeUnique(column_list=["namespace", "identifier"]),
            ExpectColumnValuesToNotBeNull(column="contact_key"),
            ExpectColumnValuesToBeInSet(
                column="namespace", value_set=["crm_id", "support_id", "campaign_id", "email"]),
            ExpectColumnValuesToBeBetween(
                column="identifiers_of_contact", min_value=1, max_value=cap),
        ], "_written_at"),
        Suite("profile.contacts", """
            select contact_key, email,
                contact_key in (select contact_key from profile.identities) as has_identity,
                _written_at
            from profile.contacts""", [
            ExpectColumnValuesToNotBeNull(column="contact_key"),
            ExpectColumnValuesToBeUnique(column="contact_key"),
            ExpectColumnValuesToBeInSet(column="has_identity", value_set=[True]),
            ExpectColumnValuesToMatchRegex(column="email", regex=EMAIL),
        ], "_written_at"),
        Suite("profile.identity_conflicts", "select namespace, identifier, reason "
              "from profile.identity_conflicts", [
            ExpectColumnValuesToNotBeNull(column="identifier"),
            ExpectColumnValuesToMatchRegex(
                column="reason", regex=r"^(?:role mailbox|component over cap \(\d+ identifiers, cap \d+\)"
                r"|shared identifier of non-linking namespace [a-z0-9_]+)$"),
        ]),
        Suite("profile.interactions", """
            select contact_key, import_type, source_key, interaction_at,
                -- A record we hold has a contact, unless it is a deleted CRM contact.
                -- An interaction may arrive before its record (a purchase before its
                -- CRM contact): it has no contact yet, and that is not a fault.
                contact_key is null
                and (namespace, unique_id) in (
                    select (namespace, identifier) from intermediate.int_identity_records
                )
                and not (namespace = 'crm_id' and unique_id in (
                    select "UniqueId" from insight.crm_contact_deletions
                )) as is_without_contact,
                _written_at
            from profile.interactions""", [
            ExpectColumnValuesToBeInSet(column="is_without_contact", value_set=[False]),
            ExpectColumnValuesToNotBeNull(column="interaction_at"),
            ExpectCompoundColumnsToBeUnique(column_list=["import_type", "source_key"]),
        ], "_written_at"),
        Suite("profile.preferences", "select contact_key, channel, coalesce(service, '') "
              "as service_key, is_subscribed from profile.preferences", [
            ExpectColumnValuesToNotBeNull(column="contact_key"),
            ExpectColumnValuesToNotBeNull(column="is_subscribed"),
            ExpectCompoundColumnsToBeUnique(
                column_list=["contact_key", "channel", "service_key"]),
        ]),
    ]


def campaign_suites() -> list[Suite]:
    return [
        Suite("campaign.campaign_profiles", """
            select "RecipientId", "RecipientId" in (
                    select recipient_id from intermediate.int_campaign_recipients_current
                ) as is_campaign_recipient
            from campaign.campaign_profiles""", [
            ExpectColumnValuesToBeUnique(column="RecipientId"),
            ExpectColumnValuesToNotBeNull(column="RecipientId"),
            ExpectColumnValuesToBeInSet(column="is_campaign_recipient", value_set=[True]),
        ]),
        Suite("campaign.segment_membership", """
            select membership.segment_id, membership.recipient_id, membership.status,
                membership.recipient_id in (
                    select recipient_id from intermediate.int_campaign_recipients_current
                ) as is_campaign_recipient,
                -- an active member that suppression should have kept out
                membership.status <> 'exited' and candidates.suppressed_because is not null
                    as is_suppressed_member
            from campaign.segment_membership as membership
            left join campaign.segment_candidates as candidates
                using (segment_id, recipient_id)""", [
            ExpectColumnValuesToBeInSet(
                column="status", value_set=["realized", "existing", "exited"]),
            ExpectCompoundColumnsToBeUnique(column_list=["segment_id", "recipient_id"]),
            ExpectColumnValuesToBeInSet(column="is_campaign_recipient", value_set=[True]),
            ExpectColumnValuesToBeInSet(column="is_suppressed_member", value_set=[False]),
        ]),
        Suite("campaign.segment_suppressions", "select segment_id, reason, recipients "
              "from campaign.segment_suppressions", [
            ExpectColumnValuesToBeInSet(
                column="reason", value_set=["blacklisted", "quarantine", "denylisted", "opted_out"]),
            ExpectColumnValuesToBeBetween(column="recipients", min_value=1, max_value=10**12),
        ]),
        Suite("campaign.broad_log", "select broadlog_id, event_type, event_at, address, "
              "_written_at from campaign.broad_log", [
            ExpectColumnValuesToNotBeNull(column="broadlog_id"),
            ExpectColumnValuesToBeUnique(column="broadlog_id"),
            ExpectColumnValuesToNotBeNull(column="event_at"),
            # Null for a message that is no event (not sent yet, unknown status).
            ExpectColumnValuesToBeInSet(column="event_type", value_set=[
                "directMarketing.emailSent", "directMarketing.emailBounced",
                "directMarketing.emailBouncedSoft"]),
            ExpectColumnValuesToMatchRegex(column="address", regex=EMAIL),
        ], "_written_at"),
        Suite("campaign.tracking_log", "select trackinglog_id, event_type, event_at, "
              "_written_at from campaign.tracking_log", [
            ExpectColumnValuesToNotBeNull(column="trackinglog_id"),
            ExpectColumnValuesToBeUnique(column="trackinglog_id"),
            ExpectColumnValuesToNotBeNull(column="event_at"),
            ExpectColumnValuesToBeInSet(column="event_type", value_set=[
                "directMarketing.emailOpened", "directMarketing.emailClicked",
                "directMarketing.emailUnsubscribed"]),
        ], "_written_at"),
        Suite("campaign.non_deliverable_addresses", "select address, status, event_at "
              "from campaign.non_deliverable_addresses", [
            ExpectColumnValuesToNotBeNull(column="address"),
            ExpectColumnValuesToBeUnique(column="address"),
            ExpectColumnValuesToBeInSet(column="status", value_set=[
                "Valid", "With errors", "Quarantine", "Denylisted"]),
        ]),
    ]


def ops_suites(con: duckdb.DuckDBPyConnection) -> list[Suite]:
    import_types = [*project_vars(con)["insight_import_types"], "crm_contact_deletions"]
    return [
        Suite("ops.watermark_audit", "select import_type, rows_read, rows_written, "
              "late_rows_caught from ops.watermark_audit", [
            ExpectColumnValuesToBeInSet(column="import_type", value_set=import_types),
            ExpectColumnValuesToBeBetween(column="rows_read", min_value=0, max_value=10**12),
            ExpectColumnValuesToBeBetween(
                column="late_rows_caught", min_value=0, max_value=10**12),
        ]),
        Suite("ops.identity_health", f"select {', '.join(IDENTITY_HEALTH_COUNTS)} "
              "from ops.identity_health", [
            ExpectColumnValuesToBeBetween(column=count, min_value=0, max_value=10**12)
            for count in IDENTITY_HEALTH_COUNTS
        ]),
    ]


IDENTITY_HEALTH_COUNTS = ("identifiers", "contacts", "identifiers_over_cap", "contacts_merged",
                          "links_refused")


# Great Expectations rules that say what a dbt generic test says, by test name.
DBT_TEST_OF_RULE = {
    "expect_column_values_to_not_be_null": "not_null",
    "expect_column_values_to_be_unique": "unique",
    "expect_compound_columns_to_be_unique": "unique_combination",
}


def declared_tests(tests: list) -> list[tuple[str, dict]]:
    """(name, arguments) of a YAML `data_tests` list; tests limited by a `where` are
    left out, as they do not test every row."""
    found = []
    for test in tests or []:
        name, options = (test, {}) if isinstance(test, str) else next(iter(test.items()))
        options = options or {}
        if "where" not in options.get("config", {}):
            found.append((name, options.get("arguments", options)))
    return found


def dbt_tested() -> set[tuple[str, str, tuple[str, ...]]]:
    """(test, model, columns) of the models' `not_null`, `unique` and
    `unique_combination` data tests, as declared in their YAML."""
    tested = set()
    for path in sorted((project_dir() / "models").rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models", []):
            for name, arguments in declared_tests(model.get("data_tests")):
                if name == "unique_combination":
                    tested.add((name, model["name"], tuple(arguments["columns"])))
            for column in model.get("columns", []):
                for name, _ in declared_tests(column.get("data_tests")):
                    tested.add((name, model["name"], (column["name"],)))
    return tested


def not_tested_by_dbt(suites: list[Suite]) -> list[Suite]:
    """The suites without the rules dbt already tests on the same model and columns
    (in every build, before anything is exported); a suite left with none goes."""
    tested = dbt_tested()
    kept = []
    for suite in suites:
        model = suite.name.split(".", 1)[1]
        rules = [rule for rule in suite.expectations if (
            DBT_TEST_OF_RULE.get(rule.expectation_type), model,
            tuple(rule.kwargs.get("column_list") or [rule.kwargs.get("column")])) not in tested]
        if rules:
            kept.append(replace(suite, expectations=rules))
    return kept


def all_suites(con: duckdb.DuckDBPyConnection) -> list[Suite]:
    return not_tested_by_dbt(
        [*insight_suites(con), *profile_suites(con), *campaign_suites(), *ops_suites(con)])
