"""`cdp generate` (development): realistic, deliberately messy sample extracts for every entity.

Everything is computed inside DuckDB with hash-based pseudo-random numbers (the same
seed gives the same bytes) and written with `COPY`, so a million contacts take seconds,
not hours. The data follows a population of people through the source systems:

- batch 1 is the initial full extract (two years of history); batches 2..K are daily
  deltas with about 1% new or changed rows each;
- contacts are updated and deleted in later batches; some records arrive late (their
  business timestamp is older than records delivered before them); some arrive twice;
- emails differ in case and white space between systems; some people share a role
  mailbox (info@, support@, ...) in the CRM;
- purchases are delivered unpaid and paid in a later batch; some tickets arrive before
  their submitter; some Campaign recipients carry a CrmContactId, others only an email;
- Campaign logs carry bounces, opens, clicks and opt-outs, preferences carry
  subscriptions, email opt-outs (some late) and opt-ins again, with every status Campaign
  has, as labels and as numeric codes, and one value the seeds do not know; the
  quarantine list carries quarantined and denylisted addresses;
- the files themselves carry landing mess: headers in other case and order, a new
  column, a BOM with CRLF line ends, malformed lines, and records staging must reject.

`<root>/_truth/identities.parquet` says which source records belong to one person.
"""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from cdp.errors import CdpError
from cdp.project import (
    Entity,
    duckdb_config,
    project_dir,
    project_vars,
    raw_entities,
    writable_folder,
)
from cdp.sql import literal


def sql_list(values: list[str]) -> str:
    return "[" + ", ".join(literal(value) for value in values) + "]"


FIRST_NAMES = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
    "David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica",
    "Thomas", "Sarah", "Charles", "Karen", "Sofia", "Lukas", "Emma", "Noah", "Zoë",
    "José", "Anaïs", "Björn", "Siobhán", "Mateo",
]
LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson",
    "Thomas", "Taylor", "Moore", "Jackson", "Martin", "O'Brien", "Müller", "van Dijk",
    "Nguyen", "Kowalski", "Dubois", "Rossi", "Jensen", "Novak", "Schmidt",
]
DOMAINS = ["example.com", "mail.example.org", "inbox.example.net", "post.example.com"]
ROLE_MAILBOXES = ["info", "support", "sales", "office", "contact"]
STREETS = ["Main Street", "High Street", "Station Road", "Church Lane", "Park Avenue",
           "Mill Road", "Kingsway", "Victoria Road"]
CITIES = ["Springfield", "Riverside", "Franklin", "Greenville", "Bristol", "Salem",
          "Fairview", "Madison"]
PRODUCTS = ["Starter Plan", "Pro Plan", "Enterprise Plan", "Training Voucher",
            "Support Add-on", "Analytics Module", 'Widget 12" Deluxe',
            "Consulting, 1 day"]
CURRENCIES = ["EUR", "USD", "GBP"]
SUBJECTS = ["Cannot log in", "Invoice question", 'Error "500" on checkout',
            "Refund request, order delayed", "How do I export my data?",
            "Password reset", "Feature request: dark mode", "Billing address change"]
DELIVERY_LABELS = ["Monthly newsletter", "Spring sale", "Product update",
                   "Webinar invitation", "Customer survey", "Win-back offer"]
URLS = ["https://www.example.com/pricing", "https://www.example.com/blog/release",
        "https://www.example.com/webinar?utm_source=campaign",
        "https://shop.example.com/sale"]

# Newsletters sent in the two years of history (about 15 rows per contact in all).
HISTORY_DELIVERIES = 16

# Rates per daily delta batch.
NEW_RATE = 0.003
UPDATE_RATE = 0.006
DELETE_RATE = 0.0015
LATE_RATE = 0.02

# What the sample SQL's `$name` placeholders stand for.
VOCABULARY = {name.lower(): sql_list(values) for name, values in [
    ("FIRST_NAMES", FIRST_NAMES), ("LAST_NAMES", LAST_NAMES), ("DOMAINS", DOMAINS),
    ("ROLE_MAILBOXES", ROLE_MAILBOXES), ("STREETS", STREETS), ("CITIES", CITIES),
    ("PRODUCTS", PRODUCTS), ("CURRENCIES", CURRENCIES), ("SUBJECTS", SUBJECTS),
    ("DELIVERY_LABELS", DELIVERY_LABELS), ("URLS", URLS)]}
RATES = {"new_rate": str(NEW_RATE), "update_rate": str(UPDATE_RATE),
         "delete_rate": str(DELETE_RATE), "late_rate": str(LATE_RATE),
         "history_deliveries": str(HISTORY_DELIVERIES)}

# The tables the sample SQL builds, in order (each may read the ones before it).
TABLES = ["crm_contacts", "crm_purchases", "support_contacts", "support_tickets",
          "campaign_recipients", "deliveries", "campaign_broadlog", "campaign_trackinglog",
          "campaign_quarantine", "campaign_preferences"]
SAMPLE_SQL = Path(__file__).parent / "sample_sql"

DEFAULT_FIRST_EXTRACT = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)


@dataclass
class GenerateReport:
    root: Path
    files: list[tuple[str, str, int]] = field(default_factory=list)  # entity, file, rows

    @property
    def rows(self) -> int:
        return sum(rows for *_, rows in self.files)


def sample_sql(name: str, **values: object) -> str:
    """A statement of sample_sql/<name>.sql with its `$name` placeholders filled in:
    the vocabulary, the rates and the run's settings, as SQL text."""
    text = (SAMPLE_SQL / f"{name}.sql").read_text()
    placeholders = {**VOCABULARY, **RATES, **{k: str(v) for k, v in values.items()}}
    # Longest first, so that no placeholder replaces the start of another.
    for placeholder in sorted(placeholders, key=len, reverse=True):
        text = text.replace(f"${placeholder}", placeholders[placeholder])
    return text


def code_of(seed: str, label_column: str, code_column: str, expression: str) -> str:
    """SQL giving Campaign's numeric code of a label, as the project's seed lists it
    (the seeds are the one place Campaign's vocabulary is written down)."""
    with (project_dir() / "seeds" / f"{seed}.csv").open(newline="") as handle:
        pairs = [(row[label_column], row[code_column]) for row in csv.DictReader(handle)]
    whens = " ".join(f"when {literal(label)} then {literal(code)}" for label, code in pairs)
    return f"(case {expression} {whens} end)"


def build_tables(con: duckdb.DuckDBPyConnection, contacts: int, batches: int) -> None:
    con.execute(sample_sql("people", contacts=contacts, companies=max(2, contacts // 20000)))
    codes = {
        "status_codes": code_of("campaign_delivery_statuses", "status_label", "status_code",
                                 "status_label"),
        "failure_type_codes": code_of("campaign_failure_types", "failure_type_label",
                                       "failure_type_code", "failure_type"),
        "failure_reason_codes": code_of("campaign_failure_reasons", "reason_label",
                                         "reason_code", "failure_reason"),
    }
    for table in TABLES:
        con.execute(sample_sql(table, batches=batches, **codes))


def add_messy_records(con: duckdb.DuckDBPyConnection, contacts: int) -> None:
    """Per entity, records staging must reject by its first required id and timestamp
    (var required_columns)."""
    per_table = max(1, contacts // 2000)
    required = project_vars()["required_columns"]
    for entity in raw_entities().values():
        rules = required[f"{entity.source}__{entity.name}"]
        con.execute(sample_sql("messy_records", table=entity.table, key=rules["ids"][0],
                               timestamp=rules["timestamps"][0], per_table=per_table,
                               redeliveries=per_table * 5))


def batch_times(first_extract: datetime, batches: int) -> list[datetime]:
    return [first_extract + timedelta(days=k) for k in range(batches)]


def header_for(entity: Entity, batch: int) -> list[tuple[str, str]]:
    """(value column, header name) pairs, the raw contract's columns: later CRM contact
    files drift in schema."""
    columns = [(name, name) for name in entity.columns]
    if (entity.source, entity.name) == ("crm", "contacts") and batch >= 2:
        columns = [(name, name.lower()) for name in reversed(entity.columns)]
        if batch >= 3:
            columns.append(("'NL'", "Country"))
    return columns


def write_file(
    con: duckdb.DuckDBPyConnection, table: str, columns: list[tuple[str, str]],
    batch: int, path: Path, file_format: str,
) -> int:
    select = ", ".join(
        (value if value.startswith("'") else f'"{value}"') + f' as "{header}"'
        for value, header in columns
    )
    options = {
        "csv": "format csv, header true, delimiter ','",
        "jsonl": "format json",
        "parquet": "format parquet",
    }[file_format]
    query = f'select {select} from {table} where batch = {batch} order by all'
    con.execute(f"copy ({query}) to '{path}' ({options})")
    return con.execute(f"select count(*) from {table} where batch = {batch}").fetchone()[0]


def append_bytes(path: Path, data: bytes) -> None:
    with path.open("ab") as handle:
        handle.write(data)


def add_file_mess(files: dict[tuple[str, str, int], Path], batches: int, file_format: str) -> None:
    """Landing mess that only a file can carry: malformed lines, BOM and CRLF."""
    last = batches
    if file_format == "csv":
        contacts = files[("crm", "contacts", 1)]
        append_bytes(
            contacts,
            b"CRM-99999991,too@many.example.com,Too,Many,1 Road,+1,false,"
            b"2026-01-01T00:00:00Z,surplus\n"
            b"CRM-99999992,missing@fields.example.com\n"
            b"CRM-99999993,bad\xff\xfeutf8@example.com,Bad,Bytes,1 Road,+1,false,"
            b"2026-01-01T00:00:00Z\n",
        )
        # A truncated extract: the last record opens a quote that never closes.
        append_bytes(
            files[("support", "tickets", last)],
            b'TIC-99999999-0,SUP-99999999,"Truncated subject, never closed,New,'
            b"2026-01-01T00:00:00Z,2026-01-01T00:00:00Z\n",
        )
        # An export from a Windows tool: byte order mark and CRLF line ends.
        windows = files[("support", "contacts", min(2, last))]
        windows.write_bytes(b"\xef\xbb\xbf" + windows.read_bytes().replace(b"\n", b"\r\n"))
    elif file_format == "jsonl":
        append_bytes(
            files[("crm", "contacts", 1)],
            b'{"Id": "CRM-99999991", "Email": "cut@off.example.com", "LastMod\n'
            b"[1, 2, 3]\n",
        )


def generate(
    root: Path,
    contacts: int = 2000,
    seed: int = 42,
    batches: int = 4,
    file_format: str = "csv",
    first_extract: datetime = DEFAULT_FIRST_EXTRACT,
) -> GenerateReport:
    if contacts < 1:
        raise CdpError("--contacts must be at least 1")
    if batches < 1:
        raise CdpError("--batches must be at least 1")
    if file_format not in ("csv", "jsonl", "parquet"):
        raise CdpError(f"unknown format '{file_format}' (expected csv, jsonl or parquet)")
    writable_folder(root)
    report = GenerateReport(root)
    t1 = first_extract.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    con = duckdb.connect(config=duckdb_config())
    con.execute("set TimeZone = 'UTC'")
    con.execute("set enable_progress_bar = false")
    # Writing in a stable order keeps files byte-identical for a seed.
    con.execute("set preserve_insertion_order = true")
    con.execute(sample_sql("macros", seed=seed, batches=batches, t1=t1))
    build_tables(con, contacts, batches)
    add_messy_records(con, contacts)

    files: dict[tuple[str, str, int], Path] = {}
    extension = {"csv": "csv", "jsonl": "jsonl", "parquet": "parquet"}[file_format]
    for entity in raw_entities().values():
        folder = root / entity.source / entity.name
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        for batch, extracted_at in enumerate(batch_times(first_extract, batches), start=1):
            stamp = extracted_at.strftime("%Y%m%dT%H%M%SZ")
            path = folder / f"{entity.name}_{stamp}.{extension}"
            rows = write_file(con, entity.table, header_for(entity, batch), batch, path,
                              file_format)
            files[(entity.source, entity.name, batch)] = path
            report.files.append((entity.label, path.relative_to(root).as_posix(), rows))
    add_file_mess(files, batches, file_format)

    truth = root / "_truth"
    truth.mkdir(exist_ok=True)
    con.execute(f"copy ({sample_sql('ground_truth')} order by all) "
                f"to '{truth / 'identities.parquet'}' "
                "(format parquet)")
    (truth / "generation.json").write_text(json.dumps(
        {"contacts": contacts, "seed": seed, "batches": batches, "format": file_format,
         "first_extract": first_extract.isoformat()}, indent=2) + "\n")
    con.close()
    return report
