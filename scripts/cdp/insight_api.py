"""CRM deletions through Sitefinity Insight's contact-data management API.

Insight's CSV import adds and updates contacts; deleting one is a delete request
(Insight's "Management of contact data endpoints"):

1. an access token from the access key: `POST <api>/admin/v1/access-keys/
   issue-access-token` with `{"AccessKey": ...}`, answered by `{"access_token": ...,
   "token_type": "bearer", "expires_in": ...}`;
2. `POST <api>/analytics/v1/contacts/delete-requests` with the headers
   `Authorization: Bearer <token>` and `x-dataintelligence-datacenterkey: <data
   center key>`, whose body is a JSON array of subject and data source pairs
   (`[{"Subject": "C1", "DataSource": "CRM"}]`), answered `200` with the created
   DeleteContactRequest (its `Id` and `Status`), or `400`/`401`/`403`/`412` with a
   GeneralErrorResponse (`code`, `message`).

`cdp export insight-deletions --api URL` sends each deletion this API has not
accepted yet, in batches, and records every accepted request (its id and status)
in `cdp_state.delete_requests` together with the deletions it carried, in one
transaction: an accepted request is never sent again. A 4xx answer stops with its
message and changes nothing; a 5xx or an unreachable server is retried with backoff
(CDP_EXPORT_ATTEMPTS, CDP_EXPORT_BACKOFF_SECONDS) and then stops, changing nothing.
A process killed between Insight's answer and the record would send that one batch
again; deleting a deleted contact again is harmless to Insight.

The access key and the data center key come from CDP_INSIGHT_ACCESS_KEY and
CDP_INSIGHT_DATACENTER_KEY, and are never printed.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import duckdb

from cdp import governance, warehouse
from cdp.destinations.base import with_retries
from cdp.errors import CdpError
from cdp.faults import checkpoint
from cdp.project import connect, project_vars
from cdp.sql import parameters
from cdp.subjects import DELETE_REQUEST_BATCH, check_data_source, deletions_subject

TOKEN_PATH = "/admin/v1/access-keys/issue-access-token"
DELETE_REQUESTS_PATH = "/analytics/v1/contacts/delete-requests"
DATACENTER_HEADER = "x-dataintelligence-datacenterkey"
ACCESS_KEY_VARIABLE = "CDP_INSIGHT_ACCESS_KEY"
DATACENTER_KEY_VARIABLE = "CDP_INSIGHT_DATACENTER_KEY"
TIMEOUT_SECONDS = 60


class TransientHttpError(Exception):
    """A 5xx or 429 answer, or no answer: worth another attempt."""


class RefusedError(CdpError):
    """A 4xx answer: the request itself is wrong, or not allowed."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


class InsightApi:
    """A client of the two endpoints, holding its token."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise CdpError(f"--api {url}: use the API server's address, "
                           "e.g. https://api.insight.sitefinity.com")
        self.url = url.rstrip("/")
        self.access_key = os.environ.get(ACCESS_KEY_VARIABLE, "")
        self.datacenter_key = os.environ.get(DATACENTER_KEY_VARIABLE, "")
        missing = [name for name, value in [(ACCESS_KEY_VARIABLE, self.access_key),
                                            (DATACENTER_KEY_VARIABLE, self.datacenter_key)]
                   if not value]
        if missing:
            raise CdpError(f"{self.url}: set {' and '.join(missing)} (Insight's access key and "
                           "the data center's API key)")
        self.token: str | None = None

    def post(self, path: str, body: object, headers: dict[str, str], what: str) -> dict:
        """POST JSON and return the JSON answer; retries transient failures, and
        turns a 4xx into one line with Insight's message."""
        request = urllib.request.Request(
            self.url + path, data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json",
                     **headers})

        def attempt() -> dict:
            try:
                with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                    return json.loads(response.read() or b"{}")
            except urllib.error.HTTPError as error:
                detail = error_message(error)
                if error.code >= 500 or error.code == 429:
                    raise TransientHttpError(f"HTTP {error.code} {detail}") from None
                raise RefusedError(f"{self.url}: {what} was refused: HTTP {error.code} "
                                   f"{detail}".rstrip(), error.code) from None
            except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
                reason = getattr(error, "reason", error)
                raise TransientHttpError(str(reason)) from None
            except json.JSONDecodeError:
                raise CdpError(f"{self.url}: {what}: the answer is not JSON") from None

        return with_retries(self.url, what, attempt, (TransientHttpError,))

    def authenticate(self) -> None:
        answer = self.post(TOKEN_PATH, {"AccessKey": self.access_key}, {},
                           "requesting an access token")
        self.token = answer.get("access_token")
        if not self.token:
            raise CdpError(f"{self.url}: the access token answer carries no access_token")

    def create_delete_request(self, subjects: list[dict[str, str]]) -> dict:
        if self.token is None:
            self.authenticate()
        try:
            return self.post_delete_request(subjects)
        except RefusedError as refused:
            if refused.code != 401:
                raise
            # The token lives 60 minutes: a long run takes a new one, once.
            self.authenticate()
            return self.post_delete_request(subjects)

    def post_delete_request(self, subjects: list[dict[str, str]]) -> dict:
        return self.post(DELETE_REQUESTS_PATH, subjects, {
            "Authorization": f"Bearer {self.token}", DATACENTER_HEADER: self.datacenter_key,
        }, "a delete request")


def error_message(error: urllib.error.HTTPError) -> str:
    """Insight's GeneralErrorResponse message, when the answer carries one."""
    try:
        body = json.loads(error.read() or b"{}")
    except (json.JSONDecodeError, OSError):
        return ""
    return str(body.get("message", "")) if isinstance(body, dict) else ""


@dataclass
class Submission:
    api: str
    requests: list[tuple[str, str, int]] = field(default_factory=list)  # (id, status, subjects)
    planned: int = 0       # deletions this API had not accepted

    @property
    def subjects(self) -> int:
        return sum(n for _, _, n in self.requests)


def state_destination(api_url: str) -> str:
    """The API's name in the export state (what it was sent is per API)."""
    return f"insight-api:{api_url}"


def submit_deletions(url: str, batch: int = DELETE_REQUEST_BATCH,
                     dry_run: bool = False) -> Submission:
    api = InsightApi(url)
    destination = state_destination(api.url)
    con = connect()
    try:
        warehouse.create_tables(con)
        data_source = check_data_source("crm_contacts", project_vars(con)[
            "insight_import_types"]["crm_contacts"]["data_source"])
        subject = deletions_subject(data_source, batch)
        governance.check([(subject.model, subject.exported_columns)], "sitefinity_insight")
        if not con.execute("select count(*) from information_schema.tables where "
                           "table_schema = 'insight' and table_name = ?",
                           [subject.name]).fetchone()[0]:
            raise CdpError("insight.crm_contact_deletions does not exist: run `cdp build` "
                           "before submitting deletions")
        rows = subject.rows_sql(False, None)
        con.execute(f"""create or replace temp table deletion_plan as
            select *, (row_number() over (order by _row_key) - 1) // {batch} as batch
            from ({rows})""", parameters(rows, destination=destination))
        result = Submission(api.url, planned=con.execute(
            "select count(*) from deletion_plan").fetchone()[0])
        if dry_run or not result.planned:
            return result
        batches = con.execute("select max(batch) from deletion_plan").fetchone()[0] + 1
        for number in range(batches):
            subjects = [{"Subject": subject_id, "DataSource": source} for subject_id, source
                        in con.execute('select "Subject", "DataSource" from deletion_plan '
                                       "where batch = ? order by _row_key", [number]).fetchall()]
            answer = api.create_delete_request(subjects)
            checkpoint("delete-request-accepted")
            request_id, status = str(answer.get("Id", "")), str(answer.get("Status", ""))
            record_request(con, api.url, subject.state_sql, number, request_id, status,
                           subjects)
            checkpoint("delete-request-recorded")
            result.requests.append((request_id, status, len(subjects)))
        return result
    finally:
        con.close()


def record_request(con: duckdb.DuckDBPyConnection, api_url: str, state_sql: list[str],
                   batch: int, request_id: str, status: str,
                   subjects: list[dict[str, str]]) -> None:
    """An accepted request and the deletions it carried, in one transaction."""
    destination = state_destination(api_url)
    record_id = str(uuid.uuid4())
    con.execute("begin transaction")
    try:
        con.execute("insert into cdp_state.delete_requests values "
                    "(?, ?, ?, ?, ?, now()::timestamp, ?)",
                    [api_url, request_id, status,
                     subjects[0]["DataSource"], len(subjects), record_id])
        con.execute("create or replace temp table sent_now as "
                    "select * from deletion_plan where batch = ?", [batch])
        con.execute("insert into cdp_state.sent_rows select ?, _state_subject, _row_key, "
                    "_fingerprint, ? from sent_now", [destination, record_id])
        for statement in state_sql:
            con.execute(statement, parameters(statement, destination=destination))
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
