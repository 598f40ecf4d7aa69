"""What each export sends: one `Subject` per Insight import type, Campaign segment,
keyed Campaign table and Campaign log, with the SQL that selects the rows not yet
sent to a destination. Each kind is a small class (ContactProperties, Interactions,
DeleteRequests, SegmentMembers, ChangedRows, LogRecords) with its own rows, files
and state update; export.py plans, stages, records and publishes any of them alike.

Every subject's SQL returns the file's columns, already formatted, plus:
- `_row_key` and `_state_subject`: the row's identity in cdp_state.sent_rows;
- `_timestamp`: the row's time, unformatted, for the manifest's watermark range;
- `_fingerprint`: for rows whose content can change (contact properties, log
  records), a hash of what is sent, so that a changed row goes out again; null for
  an interaction, which goes out once;
- `_file`: which file of the export the row goes to, when the subject says (a time
  window); Insight files are parts of at most `max_rows` rows.

Interactions go out once: the export records how far (in load ids) the import type
had read, and the next one sends the interactions that first landed after that
(`_first_landed`, which the models keep the same through rewrites and full
refreshes). Contact properties and log records are compared with a fingerprint of
what was sent, per row.

Cell format (SPEC section 5): timestamps as UTC ISO 8601 with milliseconds and `Z`;
every other value exactly as it is, since Insight and Campaign read the files with
programs. For files people open in a spreadsheet (`spreadsheet_safe`), text a
spreadsheet could read as a formula (starting with `=`, `@`, a tab or a carriage
return, or with `+`/`-` when it is not a number or a phone number) gets a leading
apostrophe, so `+44 20 7946 0958` and `-12.50` stay as they are.

Insight files follow Insight's "CSV files format": the interaction columns
`UniqueId,Predicate,Object,Timestamp` first, the contact-property columns after
them, in the order of the import type's table (which dbt builds in that order). CRM
deletions are not an import: they go out as the bodies of Insight's delete
requests (a JSON array of `{"Subject", "DataSource"}` pairs) under
`insight-delete-requests/<DataSource>/`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath

import duckdb

from cdp import governance, macros
from cdp.errors import CdpError
from cdp.insight_format import DATA_SOURCE_NAME
from cdp.project import project_vars
from cdp.sql import identifier, literal

DEFAULT_MAX_ROWS = 5_000_000
# Subjects per delete request (Insight documents no limit; kept small so that one
# rejected request holds back few deletions).
DELETE_REQUEST_BATCH = 1_000
# Campaign segment ids, which become folder and file names.
SEGMENT_ID = re.compile(r"[a-z0-9_]{1,64}")
LOG_KEYS = {"broad_log": "broadlog_id", "tracking_log": "trackinglog_id",
            "non_deliverable_addresses": "address", "preference_changes": "event_id"}


def safe_text(expression: str) -> str:
    """SQL that neutralises formula-like text (macro spreadsheet_safe_text)."""
    return str(macros.call("export.sql", "spreadsheet_safe_text", expression))


def formula_like(text: str) -> bool:
    """The same rule, for texts known before the export (mappings): DuckDB applies it."""
    return duckdb.execute(f"select {safe_text('$1')} <> $1", [text]).fetchone()[0]


def text_cell(expression: str, spreadsheet_safe: bool) -> str:
    """Text as the file shows it: exactly as it is, or spreadsheet-safe."""
    return safe_text(expression) if spreadsheet_safe else expression


def cell(expression: str, data_type: str, spreadsheet_safe: bool) -> str:
    """A column as the file shows it. Timestamps stay timestamps: DuckDB's COPY
    writes them in TIMESTAMP_FORMAT."""
    if data_type.startswith("TIMESTAMP"):
        return expression
    if data_type in ("VARCHAR", ""):
        return text_cell(expression, spreadsheet_safe)
    return f"cast({expression} as varchar)"


def fingerprint(columns: list[str]) -> str:
    """A 128-bit hash of the cells sent, null-safe (macro export_fingerprint)."""
    return str(macros.call("export.sql", "export_fingerprint", columns))


@dataclass(frozen=True)
class Due:
    """When a log's rows become due: `key` names the log and its window size (a
    destination complete for 4-hour windows is not for 1-hour ones); `since_sql`
    counts the rows whose window closed after a moment."""

    key: str
    since_sql: Callable[[datetime], str]


@dataclass(kw_only=True)
class Subject:
    """One subject of an export: where its files go, what they are called, and the
    SQL of the rows the destination ($destination) has not received. Each kind of
    subject is a subclass with its own rows, files and state update: contact
    properties, interactions, delete requests, segment members, changed rows of a
    keyed table, log records."""

    kind: str                       # insight, segments, campaign-profiles, ...
    name: str                       # the state's subject and the files' base name
    folder: str                     # destination folder, relative
    model: str                      # the dbt model, for governance
    columns: list[str]              # the file's header
    file_format: str = "csv"        # csv, parquet, or json (an array of objects)
    # Rows per file (parts numbered 0001, 0002, ...); None when the rows' `_file`
    # says which file (one file per log window).
    max_rows: int | None = DEFAULT_MAX_ROWS
    # The model's columns behind the file's, when they are named otherwise.
    model_columns: list[str] | None = None
    # Columns of other models the file carries (personalization attributes), for
    # governance: (model, columns) pairs.
    also_governed: list[tuple[str, list[str]]] = field(default_factory=list)
    # Campaign-bound files may be gzip-compressed (`--gzip`: `.csv.gz`).
    gzip: bool = False

    def __post_init__(self) -> None:
        # Folder and name come from configuration (import types, data sources,
        # segment ids): nothing may lead outside the destination.
        parts = PurePosixPath(self.folder).parts
        if (not self.name or "/" in self.name or "\\" in self.name
                or PurePosixPath(self.folder).is_absolute()
                or any(part in ("..", ".") or "\\" in part for part in parts)
                or self.name in ("..", ".")):
            raise CdpError(f"refusing to export {self.kind} {self.name!r} to folder "
                           f"{self.folder!r}: a configured name would lead outside the "
                           "destination; nothing was exported")

    def rows_sql(self, full: bool, through: int | None) -> str:
        """The rows to send to $destination (`full`: every current row); `through`:
        how far, in load ids, the destination's interactions were sent."""
        raise NotImplementedError

    def file_name(self, stamp: str, part: str) -> str:
        return f"{self.name}_{stamp}_{part}.{self.file_format}"

    @property
    def records_rows(self) -> bool:
        """Whether the state keeps the rows sent (`sent_now`) beyond fingerprinted ones."""
        return True

    @property
    def watermark_sql(self) -> str | None:
        """Interactions: SQL of the load-id clock the table has read (sent with the
        export, the next one sends interactions first landed after it)."""
        return None

    @property
    def state_sql(self) -> list[str]:
        """SQL run with the state update, reading sent_now; $destination and
        $export_id are bound to those values."""
        return []

    @property
    def due(self) -> Due | None:
        """Logs: which rows became due after a moment (their window closed since), all
        that can be new when nothing was built or landed."""
        return None

    @property
    def exported_columns(self) -> list[str]:
        return self.model_columns or self.columns

    @property
    def governed(self) -> list[tuple[str, list[str]]]:
        """(model, columns) pairs whose labels the destination must accept."""
        return [(self.model, self.exported_columns), *self.also_governed]


def sent(subject: str) -> str:
    """What the destination ($destination) holds of a subject."""
    return ("(select row_key, fingerprint from cdp_state.sent_rows where destination = "
            f"$destination and subject = {literal(subject)})")


def unsent(rows: str, subject: str, full: bool) -> str:
    """Rows of `rows` whose (key, fingerprint) the destination has not received."""
    if full:
        return f"select * from {rows}"
    return (f"select rows.* from {rows} as rows anti join {sent(subject)} as sent "
            "on sent.row_key = rows._row_key "
            "and sent.fingerprint is not distinct from rows._fingerprint")


def check_data_source(import_type: str, data_source: object) -> str:
    name = str(data_source)
    if not DATA_SOURCE_NAME.fullmatch(name):
        raise CdpError(f"Insight data source {name!r} of import type {import_type} is not a "
                       "valid Insight data source name (at most 32 characters of "
                       "A-Z a-z 0-9 _ . -); fix insight_import_types in dbt_project.yml")
    return name


def insight_header(con: duckdb.DuckDBPyConnection, import_type: str) -> list[str]:
    """The CSV header of an import type: the interaction columns, then the table's
    other Insight columns in the table's order. dbt builds the table in that order
    already; a table built before this layout (columns added at its end) still
    exports in it."""
    columns = [row[0] for row in con.execute(
        "select column_name from information_schema.columns where table_schema = 'insight' "
        "and table_name = ? and not starts_with(column_name, '_') order by ordinal_position",
        [import_type]).fetchall()]
    interaction_columns = macros.insight_interaction_columns()
    missing = [c for c in interaction_columns if c not in columns]
    if missing:
        raise CdpError(f"insight.{import_type} has no column {', '.join(missing)}: rebuild it "
                       f"with `dbt build --full-refresh --select {import_type}`")
    return [*interaction_columns, *(c for c in columns if c not in interaction_columns)]


def insight_subjects(con: duckdb.DuckDBPyConnection, import_types: list[str] | None,
                     max_rows: int, spreadsheet_safe: bool = False) -> list[Subject]:
    """The import types of the var `insight_import_types`, and the CRM deletions'
    delete requests."""
    configured = project_vars(con)["insight_import_types"]
    data_sources = {name: check_data_source(name, mapping["data_source"])
                    for name, mapping in configured.items()}
    unknown = set(import_types or []) - set(configured) - {"crm_contact_deletions"}
    if unknown:
        raise CdpError(f"unknown import type(s) {', '.join(sorted(unknown))}; known: "
                       f"{', '.join([*configured, 'crm_contact_deletions'])}")
    result = []
    for name, mapping in configured.items():
        if import_types and name not in import_types:
            continue
        result.append(insight_subject(
            name, data_sources[name], insight_header(con, name), max_rows,
            interactions="Predicate" in mapping["columns"],
            checked=fixed_texts(mapping["columns"]), spreadsheet_safe=spreadsheet_safe))
    if not import_types or "crm_contact_deletions" in import_types:
        result.append(deletions_subject(data_sources["crm_contacts"]))
    return result


def fixed_texts(mapping: dict) -> set[str]:
    """Columns a mapping fills with its own texts (`{text: ...}`, `{case: ...}`),
    none of which looks like a formula: they need no check per cell."""
    safe = set()
    for column, value in mapping.items():
        if isinstance(value, dict):
            texts = [value["text"]] if "text" in value else list(value.get("texts", {}).values())
            if not any(formula_like(str(text)) for text in texts):
                safe.add(column)
    return safe


def insight_cells(columns: list[str], checked: set[str] = frozenset(),
                  spreadsheet_safe: bool = False) -> str:
    def one(column: str) -> str:
        source = f"r.{identifier(column)}"
        if column == "Timestamp" or column in checked:
            return source
        return text_cell(source, spreadsheet_safe)
    return ", ".join(f"{one(c)} as {identifier(c)}" for c in columns)


def insight_subject(name: str, data_source: str, columns: list[str], max_rows: int,
                    interactions: bool, checked: set[str] = frozenset(),
                    spreadsheet_safe: bool = False) -> Subject:
    kind = Interactions if interactions else ContactProperties
    return kind(kind="insight", name=name, folder=f"insight/{data_source}/{name}", model=name,
                columns=columns, max_rows=max_rows,
                cells=insight_cells(columns, checked, spreadsheet_safe))


@dataclass(kw_only=True)
class InsightImport(Subject):
    """The file of an Insight import type, from the table insight.<name>."""

    cells: str   # the file's columns, formatted, from the table as `r`

    @property
    def relation(self) -> str:
        return f"insight.{identifier(self.name)}"

    @property
    def header(self) -> str:
        return ", ".join(identifier(c) for c in self.columns)

    def table_rows(self, *more: str) -> str:
        """Every row of the table, formatted, with its identity (and `more` columns)."""
        return (f"(select {', '.join([self.cells, *more])}, r._source_key as _row_key, "
                f"{literal(self.name)} as _state_subject, r.\"Timestamp\" as _timestamp "
                f"from {self.relation} as r)")


@dataclass(kw_only=True)
class ContactProperties(InsightImport):
    """Contact properties: every changed version goes out."""

    def rows_sql(self, full: bool, through: int | None) -> str:
        quoted = [identifier(c) for c in self.columns]
        rows = f"(select *, {fingerprint(quoted)} as _fingerprint from {self.table_rows()})"
        return (f"select {self.header}, _row_key, _state_subject, _timestamp, _fingerprint "
                f"from ({unsent(rows, self.name, full)})")


@dataclass(kw_only=True)
class Interactions(InsightImport):
    """Interactions go out once: those first landed after the load the destination's
    last export had read. Properties they carry (a ticket submitter's Email) may
    change after: a change goes out as a property-only row, once per contact."""

    @property
    def carried(self) -> list[str]:
        return [c for c in self.columns if c not in macros.insight_interaction_columns()]

    @property
    def properties(self) -> str:
        """The state's subject of the carried properties."""
        return f"{self.name}.properties"

    @property
    def records_rows(self) -> bool:
        return bool(self.carried)

    @property
    def watermark_sql(self) -> str:
        return f"select max(_hwm_load_id) from {self.relation}"

    def rows_sql(self, full: bool, through: int | None) -> str:
        rows = self.table_rows("cast(null as uhugeint) as _fingerprint", "r._first_landed")
        first_landed_after = ("0" if full or through is None
                              else macros.landing_position(str(through + 1), "0"))
        new = (f"select {self.header}, _row_key, _state_subject, _timestamp, _fingerprint "
               f"from {rows} where _first_landed >= {first_landed_after}")
        if not self.carried or full:
            return new
        carried = [identifier(c) for c in self.carried]
        latest = ", ".join(f'arg_max({c}, "Timestamp") as {c}' for c in carried)
        property_cells = ", ".join(
            c if c in carried or c in ('"UniqueId"', '"Timestamp"')
            else f"cast(null as varchar) as {c}" for c in map(identifier, self.columns))
        any_value = " or ".join(f"current.{c} is not null" for c in carried)
        return f"""
            with new_interactions as ({new}),
            current_properties as (
                select *, {fingerprint(carried)} as _fingerprint from (
                    select "UniqueId", {latest}, max("Timestamp") as "Timestamp",
                        max(_timestamp) as _timestamp
                    from {rows} group by "UniqueId"
                )
            ),
            changed_properties as (
                select current.* from current_properties as current
                left join {sent(self.properties)} as held
                    on held.row_key = current."UniqueId"
                where current._fingerprint is distinct from held.fingerprint
                    and (held.row_key is not null or {any_value})
                    and current."UniqueId" not in (select "UniqueId" from new_interactions)
            ),
            all_rows as (
                select {self.header}, _row_key, _state_subject, _timestamp, _fingerprint
                from new_interactions
                union all
                select {property_cells}, "UniqueId", {literal(self.properties)}, _timestamp,
                    _fingerprint
                from changed_properties
            )
            select * from all_rows
        """

    @property
    def state_sql(self) -> list[str]:
        """The properties carried by the interactions sent are now at the destination."""
        if not self.carried:
            return []
        carried = [identifier(c) for c in self.carried]
        return [
            f"""delete from cdp_state.sent_rows as held using sent_now as sent
                where held.destination = $destination
                and held.subject = {literal(self.properties)}
                and held.row_key = sent."UniqueId"
                and sent._state_subject = {literal(self.name)}""",
            f"""insert into cdp_state.sent_rows
                select $destination, {literal(self.properties)}, "UniqueId",
                    any_value({fingerprint(carried)}), $export_id
                from sent_now where _state_subject = {literal(self.name)}
                group by "UniqueId" """,
        ]


def deletions_subject(data_source: str, batch: int = DELETE_REQUEST_BATCH) -> Subject:
    return DeleteRequests(data_source=data_source, max_rows=batch,
                          folder=f"insight-delete-requests/{data_source}")


@dataclass(kw_only=True)
class DeleteRequests(Subject):
    """CRM contacts deleted in the CRM, as the bodies of Insight delete requests
    (POST /analytics/v1/contacts/delete-requests: a JSON array of subject and data
    source pairs), at most `max_rows` subjects per file. A deletion goes out once per
    destination (a contact deleted again after being created again goes out again);
    sending it forgets the contact's sent properties, so that a contact created
    again goes out again as a contact. A deletion a later live version supersedes
    (the contact is in crm_contacts again) is not sent: the contact exists."""

    data_source: str
    kind: str = "insight"
    name: str = "crm_contact_deletions"
    model: str = "crm_contact_deletions"
    columns: list[str] = field(default_factory=lambda: ["Subject", "DataSource"])
    file_format: str = "json"
    model_columns: list[str] | None = field(default_factory=lambda: ["UniqueId"])

    def rows_sql(self, full: bool, through: int | None) -> str:
        rows = (f"""(select *, {fingerprint(['"UniqueId"', '"Timestamp"'])} as _fingerprint
            from (select r."UniqueId" as "Subject", {literal(self.data_source)} as "DataSource",
                r."UniqueId", r."Timestamp", r._source_key as _row_key,
                {literal(self.name)} as _state_subject, r."Timestamp" as _timestamp
            from insight.{self.name} as r
            anti join insight.crm_contacts as live on live._source_key = r._source_key))""")
        return (f"select \"Subject\", \"DataSource\", _row_key, _state_subject, _timestamp, "
                f"_fingerprint from ({unsent(rows, self.name, full)})")

    @property
    def state_sql(self) -> list[str]:
        return ["""delete from cdp_state.sent_rows as held using sent_now as sent
            where held.destination = $destination
            and held.subject = 'crm_contacts' and held.row_key = sent._row_key"""]


SEGMENT_COLUMNS = ["RecipientId", "Email", "SegmentId", "SegmentName", "Status", "StatusChangedAt"]
# Campaign field names (file columns) and Campaign's limit of attributes per file.
CAMPAIGN_FIELD = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
MAX_CAMPAIGN_ATTRIBUTES = 20


def check_attributes(owner: str, attributes: object) -> dict[str, str]:
    """Profile attributes bound for Campaign (field -> profile.contacts column), as
    dbt checks them at the start of every run (check_campaign_attributes)."""
    if not isinstance(attributes, dict):
        raise CdpError(f"{owner} must map Campaign field names to profile.contacts columns")
    if len(attributes) > MAX_CAMPAIGN_ATTRIBUTES:
        raise CdpError(f"{owner} has {len(attributes)} attributes; Campaign takes at most "
                       f"{MAX_CAMPAIGN_ATTRIBUTES}; nothing was exported")
    for name in attributes:
        if not CAMPAIGN_FIELD.fullmatch(str(name)):
            raise CdpError(f"{owner}: field name {name!r} is not [A-Za-z][A-Za-z0-9_]{{0,63}}; "
                           "nothing was exported")
    return {str(k): str(v) for k, v in attributes.items()}


def segment_personalization() -> dict[str, dict[str, str]]:
    """Per segment id, the personalization attributes its YAML declares."""
    nodes = governance.manifest()["nodes"].values()
    result = {}
    for node in nodes:
        meta = node.get("config", {}).get("meta") or node.get("meta") or {}
        if node["resource_type"] == "model" and "personalization" in meta:
            result[str(meta.get("segment_id", node["name"]))] = check_attributes(
                f"{node['name']} meta.personalization", meta["personalization"])
    return result


def segment_subjects(con: duckdb.DuckDBPyConnection, destination: str,
                     spreadsheet_safe: bool = False, max_rows: int = DEFAULT_MAX_ROWS,
                     gzip: bool = False) -> list[Subject]:
    segments = [row[0] for row in con.execute(
        "select segment_id from campaign.segment_membership union "
        "select segment_id from cdp_state.segment_export_members where destination = ? "
        "order by 1", [destination]).fetchall()]
    for segment in segments:
        if not SEGMENT_ID.fullmatch(str(segment)):
            raise CdpError(f"segment id {segment!r} is not [a-z0-9_]{{1,64}} (it becomes a "
                           "folder and file name): fix the segment's meta in "
                           "models/marts/campaign/segments/; nothing was exported")
    personalization = segment_personalization()
    return [segment_subject(segment, spreadsheet_safe, personalization.get(segment, {}),
                            max_rows, gzip) for segment in segments]


def segment_subject(segment_id: str, spreadsheet_safe: bool = False,
                    attributes: dict[str, str] | None = None,
                    max_rows: int = DEFAULT_MAX_ROWS, gzip: bool = False) -> Subject:
    attributes = attributes or {}
    return SegmentMembers(
        kind="segments", name=segment_id, folder=f"campaign/segments/{segment_id}",
        model="segment_membership", columns=[*SEGMENT_COLUMNS, *attributes],
        max_rows=max_rows, gzip=gzip, attributes=attributes,
        spreadsheet_safe=spreadsheet_safe, model_columns=[
            "recipient_id", "email", "segment_id", "segment_name", "status",
            "status_changed_at"],
        also_governed=[("contacts", list(attributes.values()))] if attributes else [])


@dataclass(kw_only=True)
class SegmentMembers(Subject):
    """Realized and exited members since this destination's last export of the
    segment (`--full`: every current member), and the new baseline; then the
    segment's personalization attributes (golden-record values)."""

    attributes: dict[str, str]   # Campaign field -> profile.contacts column
    spreadsheet_safe: bool = False

    @property
    def records_rows(self) -> bool:
        return False   # the baseline is the segment's members, kept by state_sql

    def rows_sql(self, full: bool, through: int | None) -> str:
        safe = self.spreadsheet_safe
        known = ("(select * from campaign.segment_membership where segment_id = "
                 f"{literal(self.name)})")
        held = ("(select * from cdp_state.segment_export_members where segment_id = "
                f"{literal(self.name)} and destination = $destination)")
        # Against this destination's last export of the segment: realized and exited
        # members (--full: every current member, realized or existing).
        sent = "('realized', 'existing')" if full else "('realized', 'exited')"
        personalized = "".join(
            f", {text_cell(f'contacts.{identifier(column)}', safe)} as {identifier(field)}"
            for field, column in self.attributes.items())
        contacts = ("left join profile.contacts as contacts "
                    "on contacts.contact_key = changes.contact_key" if self.attributes else "")
        return f"""
            with members as (
                select * from {known} where status <> 'exited'
            ),
            statuses as (
                select
                    coalesce(members.recipient_id, held.recipient_id) as recipient_id,
                    coalesce(members.email, held.email) as email,
                    coalesce(members.segment_id, held.segment_id) as segment_id,
                    coalesce(members.segment_name, held.segment_name) as segment_name,
                    {macros.call("campaign.sql", "segment_status", "members", "held")}
                        as status
                from members
                full outer join {held} as held
                    on members.segment_id = held.segment_id
                    and members.recipient_id = held.recipient_id
            ),
            changes as (
                select statuses.*, known.contact_key,
                    -- when the model saw the change (an exit only if it saw one)
                    case when statuses.status <> 'exited' or known.status = 'exited'
                        then known.status_changed_at end as status_changed_at
                from statuses
                left join {known} as known using (recipient_id)
                where statuses.status in {sent}
            )
            select
                {text_cell('changes.recipient_id', safe)} as "RecipientId",
                {text_cell('changes.email', safe)} as "Email",
                {text_cell('changes.segment_id', safe)} as "SegmentId",
                {text_cell('changes.segment_name', safe)} as "SegmentName",
                changes.status as "Status",
                coalesce(changes.status_changed_at, now()::timestamp) as "StatusChangedAt"
                {personalized},
                changes.recipient_id as _row_key, {literal(self.name)} as _state_subject,
                changes.status_changed_at as _timestamp, cast(null as uhugeint) as _fingerprint
            from changes {contacts}
        """

    @property
    def state_sql(self) -> list[str]:
        """The new baseline: the segment's members as of this export."""
        return [
            f"""delete from cdp_state.segment_export_members
                where destination = $destination and segment_id = {literal(self.name)}""",
            f"""insert into cdp_state.segment_export_members
                    (segment_id, recipient_id, exported_at, export_id, destination, email,
                     segment_name)
                select segment_id, recipient_id, now()::timestamp, $export_id, $destination,
                    email, segment_name
                from campaign.segment_membership
                where segment_id = {literal(self.name)} and status <> 'exited'""",
        ]


def keyed_subject(kind: str, name: str, folder: str, model: str, relation: str,
                  columns: list[tuple[str, str]], max_rows: int, gzip: bool,
                  spreadsheet_safe: bool, model_columns: list[str] | None = None) -> Subject:
    quoted = [identifier(c) for c, _ in columns]
    cells = ", ".join(f"{cell(f'r.{q}', t, spreadsheet_safe)} as {q}"
                      for q, (_, t) in zip(quoted, columns, strict=True))
    return ChangedRows(kind=kind, name=name, folder=folder, model=model,
                       columns=[c for c, _ in columns], max_rows=max_rows, gzip=gzip,
                       model_columns=model_columns, relation=relation, cells=cells)


@dataclass(kw_only=True)
class ChangedRows(Subject):
    """A table keyed by its first column whose changed rows go out: each row's
    content is compared, by fingerprint, with what this destination last received
    (Campaign's import workflows reconcile on the key and update)."""

    relation: str
    cells: str   # the file's columns, formatted, from the table as `r`

    def rows_sql(self, full: bool, through: int | None) -> str:
        quoted = [identifier(c) for c in self.columns]
        rows = (f"(select {self.cells}, cast(r.{quoted[0]} as varchar) as _row_key, "
                f"{literal(self.name)} as _state_subject, "
                f"cast(null as timestamp) as _timestamp from {self.relation} as r)")
        rows = f"(select *, {fingerprint(quoted)} as _fingerprint from {rows})"
        return (f"select {', '.join(quoted)}, _row_key, _state_subject, _timestamp, "
                f"_fingerprint from ({unsent(rows, self.name, full)})")


def built_columns(con: duckdb.DuckDBPyConnection, model: str, wanted: list[str] | None = None
                  ) -> list[tuple[str, str]]:
    """(column, type) of campaign.<model>, in `wanted` order when given; a table
    built before its configured columns changed asks for a build."""
    types = dict(con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'campaign' and table_name = ? order by ordinal_position",
        [model]).fetchall())
    missing = [c for c in (wanted or []) if c not in types]
    if not types or missing:
        raise CdpError(f"campaign.{model} is not built with the configured columns "
                       f"({', '.join(missing) or 'no table'}): run `dbt build --select {model}`")
    return [(c, types[c]) for c in (wanted or types)]


def profile_subjects(con: duckdb.DuckDBPyConnection, max_rows: int = DEFAULT_MAX_ROWS,
                     gzip: bool = False, spreadsheet_safe: bool = False) -> list[Subject]:
    """Simplified profile data of every recipient Campaign has (var
    campaign_profile_attributes), the rows that changed."""
    attributes = check_attributes("var campaign_profile_attributes",
                                  project_vars(con)["campaign_profile_attributes"])
    columns = built_columns(con, "campaign_profiles", ["RecipientId", *attributes])
    subject = keyed_subject("campaign-profiles", "campaign_profiles", "campaign/profiles",
                            "contacts", "campaign.campaign_profiles", columns, max_rows, gzip,
                            spreadsheet_safe, model_columns=list(attributes.values()))
    return [subject]


def lookup_subjects(con: duckdb.DuckDBPyConnection, max_rows: int = DEFAULT_MAX_ROWS,
                    gzip: bool = False, spreadsheet_safe: bool = False) -> list[Subject]:
    """Personalization lookups (var campaign_lookups), the rows that changed."""
    result = []
    for name, model in project_vars(con)["campaign_lookups"].items():
        if not SEGMENT_ID.fullmatch(str(name)):
            raise CdpError(f"campaign lookup name {name!r} is not [a-z0-9_]{{1,64}} (it becomes "
                           "a folder name); nothing was exported")
        columns = built_columns(con, str(model))
        result.append(keyed_subject(
            "campaign-lookups", f"lookup_{name}", f"campaign/lookups/{name}", str(model),
            f"campaign.{identifier(str(model))}", columns, max_rows, gzip, spreadsheet_safe))
    return result


def log_subjects(con: duckdb.DuckDBPyConnection, window_hours: float, file_format: str,
                 spreadsheet_safe: bool = False) -> list[Subject]:
    return [log_subject(con, log, key, window_hours, file_format, spreadsheet_safe)
            for log, key in LOG_KEYS.items()]


def log_subject(con: duckdb.DuckDBPyConnection, log: str, key: str, window_hours: float,
                file_format: str, spreadsheet_safe: bool = False) -> Subject:
    """The file's columns are the model's columns that name an XDM field (`meta.xdm`),
    under that field's name."""
    types = dict(con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'campaign' and table_name = ?", [log]).fetchall())
    fields = [(column, str(xdm)) for column, xdm in governance.column_meta(log, "xdm")]
    missing = [column for column, _ in fields if column not in types]
    if missing:
        raise CdpError(f"campaign.{log} has no column {', '.join(missing)}: rebuild it with "
                       f"`dbt build --full-refresh --select {log}`")
    if file_format == "csv":
        cells = ", ".join(
            f"{cell(f'r.{identifier(c)}', types[c], spreadsheet_safe)} as {identifier(x)}"
            for c, x in fields)
        sent_text = [identifier(x) for _, x in fields]
    else:
        cells = ", ".join(f"r.{identifier(c)} as {identifier(x)}" for c, x in fields)
        sent_text = [f"cast({identifier(x)} as varchar)" for _, x in fields]
    return LogRecords(kind="campaign-logs", name=log, folder=f"campaign/logs/{log}",
                      model=log, columns=[x for _, x in fields], file_format=file_format,
                      max_rows=None, model_columns=[c for c, _ in fields], key=key,
                      window_hours=window_hours, cells=cells, sent_text=sent_text)


@dataclass(kw_only=True)
class LogRecords(Subject):
    """Every version of a log record goes out once, in the file of its closed time
    window (a late record in an old window goes in a new file for that window)."""

    key: str                 # the log's record id column
    window_hours: float
    cells: str               # the file's columns, formatted, from the table as `r`
    sent_text: list[str]     # the file's columns as text, for the fingerprint

    @property
    def window(self) -> str:
        return f"to_microseconds(cast({round(self.window_hours * 3_600_000_000)} as bigint))"

    def rows_sql(self, full: bool, through: int | None) -> str:
        window = self.window
        rows = f"""(select *, {fingerprint(self.sent_text)} as _fingerprint from (
            select {self.cells}, cast(r.{identifier(self.key)} as varchar) as _row_key,
                {literal(self.name)} as _state_subject, r.event_at as _timestamp,
                strftime(time_bucket({window}, r.event_at), '%Y%m%dT%H%M%SZ') as _file
            from campaign.{identifier(self.name)} as r
            where time_bucket({window}, r.event_at) + {window} <= now()::timestamp))"""
        return unsent(rows, self.name, full)

    def file_name(self, stamp: str, part: str) -> str:
        return f"{self.name}_{part}_{stamp}.{self.file_format}"   # part: the window's start

    @property
    def due(self) -> Due:
        return Due(f"{self.name} in windows of {self.window_hours:g} hours", self.due_since_sql)

    def due_since_sql(self, moment: datetime) -> str:
        closes = f"time_bucket({self.window}, event_at) + {self.window}"
        return (f"select count(*) from campaign.{identifier(self.name)} where {closes} > "
                f"{literal(moment.isoformat())}::timestamp and {closes} <= now()::timestamp")
