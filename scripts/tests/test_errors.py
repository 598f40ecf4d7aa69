"""Hostile files, names and settings: no row lost, nothing landed from outside the
landing root, one line naming what is wrong and its own exit code, never a traceback;
one writer at a time; transient errors retried, permanent ones not."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import time

import duckdb
import pytest

from cdp import land as land_module
from cdp.destinations import DestinationError, with_retries
from cdp.land import land
from cdp.project import connect, duckdb_config

from conftest import BIN, run_cdp, write


def one_line_error(result, *expected: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, result.stderr
    message = " ".join(result.stderr.split())
    for text in expected:
        assert text in message, message


@pytest.mark.parametrize(("url", "expected"), [
    ("sftp://u@h:notaport/x", "sftp://u@h:notaport/x: the port must be a number from 1 to 65535"),
    ("sftp://u@h:99999/x", "sftp://u@h:99999/x: the port must be a number from 1 to 65535"),
])
def test_a_bad_sftp_port_is_one_line(url, expected, tmp_path):
    env = {**os.environ, "CDP_DUCKDB_PATH": str(tmp_path / "w.duckdb"), "CDP_SFTP_PASSWORD": "x"}
    one_line_error(run_cdp("export", "insight", "--to", url, env=env), expected)


def test_a_malformed_azure_connection_string_is_one_line(tmp_path):
    env = {**os.environ, "CDP_DUCKDB_PATH": str(tmp_path / "w.duckdb"),
           "AZURE_STORAGE_CONNECTION_STRING": "garbage"}
    one_line_error(run_cdp("export", "insight", "--to", "az://c/p", env=env),
                   "AZURE_STORAGE_CONNECTION_STRING is malformed")


@pytest.mark.parametrize(("variable", "value", "expected"), [
    ("CDP_EXPORT_ATTEMPTS", "five", "CDP_EXPORT_ATTEMPTS='five': a whole number of at least 1"),
    ("CDP_EXPORT_BACKOFF_SECONDS", "-1", "CDP_EXPORT_BACKOFF_SECONDS='-1': seconds, 0 or more"),
    ("CDP_THREADS", "x", "CDP_THREADS='x': a whole number of at least 1"),
    ("CDP_MEMORY_LIMIT", "lots", "CDP_MEMORY_LIMIT='lots': a size above 0, such as 8GB or 512MB"),
    ("CDP_MEMORY_LIMIT", "0GB", "CDP_MEMORY_LIMIT='0GB': a size above 0, such as 8GB or 512MB"),
    ("CDP_PROJECT_DIR", "/nonexistent",
     "CDP_PROJECT_DIR='/nonexistent': a folder holding dbt_project.yml"),
])
def test_a_bad_setting_is_refused_at_start_naming_the_variable(variable, value, expected,
                                                                tmp_path):
    env = {**os.environ, "CDP_DUCKDB_PATH": str(tmp_path / "w.duckdb"), variable: value}
    for command in (["status"], ["build"]):
        result = run_cdp(*command, env=env)
        one_line_error(result, expected)
        assert "Build summary" not in result.stdout   # no stale summary of an earlier run


def test_a_warehouse_folder_that_cannot_be_created_is_one_line(tmp_path):
    env = {**os.environ, "CDP_DUCKDB_PATH": "/proc/none/w.duckdb"}
    one_line_error(run_cdp("land", str(tmp_path), env=env),
                   "cannot create the warehouse folder /proc/none: No such file or directory")


def test_paths_under_a_file_are_one_line(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("")
    env = {**os.environ, "CDP_DUCKDB_PATH": str(tmp_path / "w.duckdb")}
    one_line_error(run_cdp("generate", str(afile / "sub"), "--contacts", "10", env=env),
                   f"cannot write {afile / 'sub'}")
    one_line_error(run_cdp("check", "--docs", str(afile / "docs"), env=env),
                   f"cannot write {afile / 'docs'}")


def test_a_window_too_small_is_a_usage_error(tmp_path):
    env = {**os.environ, "CDP_DUCKDB_PATH": str(tmp_path / "w.duckdb")}
    result = run_cdp("export", "campaign-logs", "--to", str(tmp_path / "out"), "--window",
                     "1e-9m", env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "the window must be at least one second" in " ".join(result.stderr.split())


def test_checking_before_a_build_says_what_to_do(tmp_path):
    duckdb.connect(str(tmp_path / "w.duckdb")).close()
    env = {**os.environ, "CDP_DUCKDB_PATH": str(tmp_path / "w.duckdb")}
    one_line_error(run_cdp("check", "--docs", str(tmp_path / "docs"), env=env),
                   "schema insight is empty: run `cdp build` before checking")


# --- hostile extract files --------------------------------------------------------------

def land_one(tmp_path, relative: str, content: bytes, **env: str):
    root = tmp_path / "landing"
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    database = tmp_path / "w.duckdb"
    result = run_cdp("land", str(root), env={**os.environ, "CDP_DUCKDB_PATH": str(database),
                                             **env})
    return result, database


def raw_columns(database) -> int:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute("select count(*) from information_schema.columns where "
                           "table_schema = 'raw' and table_name = 'crm_contacts'").fetchone()[0]
    finally:
        con.close()


def test_cr_only_line_ends_refuse_the_file_in_one_line(tmp_path):
    result, _ = land_one(tmp_path, "crm/contacts/c.csv",
                         b"Id,Email,LastModifiedOn\rC1,a@x.com,2026-01-01T00:00:00Z\r")
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert "carriage return alone (CR-only)" in " ".join(result.stderr.split())
    assert "1 refused" in result.stdout


@pytest.mark.parametrize("file_format", ["csv", "jsonl"])
def test_a_file_wider_than_the_column_cap_is_refused_before_any_column_is_added(
        file_format, tmp_path):
    names = ["Id", "Email", "LastModifiedOn", *(f"X{n}" for n in range(1998))]
    if file_format == "csv":
        content = (",".join(names) + "\nC1,a@x.com,2026-01-01T00:00:00Z\n").encode()
    else:
        content = ("{" + ", ".join(f'"{n}": "v"' for n in names) + "}\n").encode()
    result, database = land_one(tmp_path, f"crm/contacts/c.{file_format}", content,
                                CDP_LAND_MAX_COLUMNS="1000")
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert "has 2,001 columns, more than the cap of 1,000 (CDP_LAND_MAX_COLUMNS)" in \
        " ".join(result.stderr.split())
    before = raw_columns(database)
    assert before < 20   # the declared columns and the load metadata only


def test_the_help_lists_one_exit_code_per_outcome():
    shown = " ".join(run_cdp("--help").stdout.split())
    assert ("Exit codes: 0 ok, 1 failure, 2 usage, 3 guardrail, 4 rejects, 5 lock busy, "
            "130 interrupted.") in shown


def test_a_permanent_destination_error_fails_at_once_without_retries(sample, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("")
    database = tmp_path / "w.duckdb"
    database.write_bytes(sample.database.read_bytes())
    env = {**os.environ, "CDP_DUCKDB_PATH": str(database), "DBT_TARGET_PATH": str(sample.target),
           "CDP_EXPORT_ATTEMPTS": "5", "CDP_EXPORT_BACKOFF_SECONDS": "2"}
    started = time.monotonic()
    result = run_cdp("export", "insight", "--to", str(afile / "out"), env=env)
    assert time.monotonic() - started < 10   # five attempts would wait 2 + 4 + 8 + 16 s
    one_line_error(result, f"{afile / 'out'}: creating the folder failed (not retried):",
                   "Not a directory")


def test_symbolic_links_hidden_files_and_broken_links_are_skipped_and_said(tmp_path):
    outside = tmp_path / "outside"
    (outside / "etc").mkdir(parents=True)
    (outside / "secret.csv").write_text("Id,Email,LastModifiedOn\nX1,x@x.com,2026-01-01\n")
    for n in range(3):
        (outside / "etc" / f"conf{n}").write_text("system file\n")
    root = tmp_path / "landing"
    contacts = root / "crm" / "contacts"
    contacts.mkdir(parents=True)
    (contacts / "c1.csv").write_text("Id,Email,LastModifiedOn\nC1,a@x.com,2026-01-01\n")
    (contacts / "linked.csv").symlink_to(outside / "secret.csv")
    (contacts / "broken.csv").symlink_to(outside / "nothing.csv")
    (contacts / ".hidden.csv").write_text("Id,Email,LastModifiedOn\nH1,h@x.com,2026-01-01\n")
    (contacts / "more").symlink_to(outside / "etc")
    (root / "support").mkdir()
    (root / "support" / "contacts").symlink_to(outside / "etc")
    database = tmp_path / "w.duckdb"
    result = run_cdp("land", str(root), env={**os.environ, "CDP_DUCKDB_PATH": str(database)})
    assert result.returncode == 0, result.stderr
    said = " ".join((result.stdout + result.stderr).split())
    for name in ("crm/contacts/linked.csv", "crm/contacts/broken.csv", "crm/contacts/more",
                 "support/contacts"):
        assert f"{name}: a symbolic link, skipped (links are not followed)" in said, name
    assert "crm/contacts/.hidden.csv: hidden, skipped" in said
    con = duckdb.connect(str(database), read_only=True)
    assert con.execute("select file_path from raw._loads").fetchall() == [
        ("crm/contacts/c1.csv",)]
    assert con.execute('select "Id" from raw.crm_contacts').fetchall() == [("C1",)]
    con.close()


UNUSABLE_KEY = ("a key no column can carry (empty, holding a double quote, over 255 characters, "
                "or one of _load_id, _source_file, _row_number, _loaded_at)")


def test_a_jsonl_line_with_an_unusable_key_is_rejected_and_the_rest_lands(tmp_path):
    result, database = land_one(tmp_path, "crm/contacts/c.jsonl", (
        b'{"Id": "C1", "Email": "a@x.com", "LastModifiedOn": "2026-01-01"}\n'
        b'{"Id": "C2", "": "empty key", "LastModifiedOn": "2026-01-01"}\n'
        b'{"Id": "C3", "We\\"ird": "quoted key", "LastModifiedOn": "2026-01-01"}\n'
        b'{"Id": "C4", "Email": "d@x.com", "LastModifiedOn": "2026-01-01"}\n'))
    assert result.returncode == 0 and "Traceback" not in result.stderr
    con = duckdb.connect(str(database), read_only=True)
    assert con.execute('select "Id" from raw.crm_contacts order by 1').fetchall() == [
        ("C1",), ("C4",)]
    assert con.execute("select line_number, reason from raw._rejected_lines order by 1"
                       ).fetchall() == [(2, UNUSABLE_KEY),
                                        (3, UNUSABLE_KEY)]
    assert con.execute("select rows_landed, lines_rejected from raw._loads").fetchall() == [
        (2, 2)]
    con.close()


def test_a_parquet_column_named_file_row_number_lands_like_any_column(tmp_path):
    path = tmp_path / "p.parquet"
    duckdb.execute(f"""copy (select * from (values ('C1', 'a@x.com', '2026-01-01', 7),
        ('C2', 'b@x.com', '2026-01-02', 9)) as t("Id", "Email", "LastModifiedOn",
        file_row_number)) to '{path}' (format parquet)""")
    result, database = land_one(tmp_path, "crm/contacts/c.parquet", path.read_bytes())
    assert result.returncode == 0 and "1 file(s) landed" in result.stdout, result.stderr
    con = duckdb.connect(str(database), read_only=True)
    assert con.execute('select "Id", file_row_number, _row_number from raw.crm_contacts '
                       "order by 1").fetchall() == [("C1", "7", 1), ("C2", "9", 2)]
    con.close()


# --- defect 1: every record is accounted for --------------------------------------------

CONTACTS_HEADER = b"Id,Email,LastModifiedOn\n"


def csv_with_long_record(size: int) -> bytes:
    return (CONTACTS_HEADER + b"C1,a@x.com,2026-01-01\n"
            + b"C2," + b"x" * size + b",2026-01-01\n" + b"C3,c@x.com,2026-01-01\n")


def jsonl_with_long_record(size: int) -> bytes:
    return (b'{"Id": "C1", "LastModifiedOn": "2026-01-01"}\n'
            + b'{"Id": "C2", "Email": "' + b"x" * size + b'", "LastModifiedOn": "2026-01-01"}\n'
            + b'{"Id": "C3", "LastModifiedOn": "2026-01-01"}\n')


@pytest.mark.parametrize("megabytes", [3, 33], ids=["over the record limit", "over the read buffer"])
@pytest.mark.parametrize(("name", "content", "line"), [
    ("c.csv", csv_with_long_record, 3), ("c.jsonl", jsonl_with_long_record, 2)])
def test_a_record_too_long_is_a_rejected_line_at_every_size(megabytes, name, content, line,
                                                            warehouse, landing):
    write(landing, f"crm/contacts/{name}", content(megabytes << 20))
    outcome = land(warehouse, landing).outcomes[0]
    assert (outcome.status, outcome.rows_landed, outcome.lines_rejected) == ("landed", 2, 1)
    assert warehouse.execute("select line_number, reason from raw._rejected_lines").fetchall() \
        == [(line, "line too long")]
    assert warehouse.execute('select "Id" from raw.crm_contacts order by 1').fetchall() == [
        ("C1",), ("C3",)]


def test_line_numbers_of_jsonl_rejects_count_lines_the_reader_skipped(warehouse, landing):
    write(landing, "crm/contacts/c.jsonl", (
        b'{"Id": "C1", "LastModifiedOn": "2026-01-01"}\n'
        b'{"Id": "C2", "Email": "bad\xff", "LastModifiedOn": "2026-01-01"}\n'
        b'\n'
        b'{"Id": "C4", "LastModifiedOn": "2026-01-01"}\n'
        b'not json\n'))
    outcome = land(warehouse, landing).outcomes[0]
    assert (outcome.rows_landed, outcome.lines_rejected) == (2, 2)
    assert warehouse.execute("select line_number, reason from raw._rejected_lines order by 1"
                             ).fetchall() == [(2, "invalid UTF-8"), (5, "broken JSON line")]
    assert warehouse.execute('select "Id", _row_number from raw.crm_contacts order by 1'
                             ).fetchall() == [("C1", 1), ("C4", 2)]


@pytest.mark.parametrize(("content", "landed", "rejected"), [
    (CONTACTS_HEADER + b'C1,"two\nlines",2026-01-01\n\nC2,b@x.com,2026-01-01\n\n\n', 2, 0),
    (CONTACTS_HEADER.replace(b"\n", b"\r\n")
     + b'C1,"blank\r\n\r\nbetween",2026-01-01\r\n\r\nC2,b,2026-01-01', 2, 0),
    (CONTACTS_HEADER + b'C1,"never closed,2026-01-01\nC2,b@x.com,2026-01-01\n', 0, 1),
    (CONTACTS_HEADER + b'C1,a,2026-01-01,"extra\nfield"\nC2,b@x.com,2026-01-01\n', 1, 1),
], ids=["multi-line value and blank lines", "crlf blank lines inside and out",
        "unclosed quote takes the rest", "rejected multi-line record"])
def test_blank_lines_and_multi_line_records_add_up(content, landed, rejected, warehouse,
                                                   landing):
    write(landing, "crm/contacts/c.csv", content)
    outcome = land(warehouse, landing).outcomes[0]
    assert (outcome.status, outcome.rows_landed, outcome.lines_rejected) == (
        "landed", landed, rejected), outcome.message


def test_mixed_line_ends_refuse_the_file_saying_so(warehouse, landing):
    write(landing, "crm/contacts/c.csv", CONTACTS_HEADER + b"C1,a,2026-01-01\r\nC2,b,2026-01-01\n")
    outcome = land(warehouse, landing).outcomes[0]
    assert outcome.status == "rejected"
    assert outcome.message == ("crm/contacts/c.csv: mixes line ends (LF, CRLF or CR alone) in a "
                               "way the CSV reader cannot follow; use one kind throughout")


@pytest.mark.parametrize(("file_format", "counted"), [
    ("csv", "4 lines but its 2 rows and 0 rejected lines account for 3"),   # with the header
    ("parquet", "3 rows but its 2 rows and 0 rejected lines account for 2")])
def test_a_file_whose_counts_do_not_add_up_is_refused_whole(file_format, counted, warehouse,
                                                            landing, monkeypatch):
    # A reader that loses a record without a word, as DuckDB did with records over its
    # read buffer: the per-file accounting must refuse the file rather than land it short.
    real_load = land_module.LOADERS[file_format]

    def losing_a_record(con, file, load_id, *args):
        real_load(con, file, load_id, *args)
        con.execute(f"delete from raw.{file.entity.table} where \"Id\" = 'C2'")

    monkeypatch.setitem(land_module.LOADERS, file_format, losing_a_record)
    path = write(landing, "crm/contacts/c.csv", csv_with_long_record(10))
    if file_format == "parquet":
        duckdb.execute(f"copy (select * from read_csv('{path}', all_varchar = true)) "
                       f"to '{path.with_suffix('.parquet')}'")
        path.unlink()
    outcome = land(warehouse, landing).outcomes[0]
    assert outcome.status == "rejected"
    assert outcome.message == (f"crm/contacts/c.{file_format}: has {counted}; refused whole "
                               "rather than landed wrong")
    assert warehouse.execute("select count(*) from raw.crm_contacts").fetchone() == (0,)


def test_a_column_name_longer_than_the_limit_refuses_a_csv_file_in_one_line(tmp_path):
    long_name = "N" * (200 << 10)   # a header line over 128 KiB
    result, database = land_one(tmp_path, "crm/contacts/c.csv",
                                f"Id,Email,LastModifiedOn,{long_name}\nC1,a,2026-01-01,x\n".encode())
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert "crm/contacts/c.csv: has a column name longer than 255 characters" in \
        " ".join(result.stderr.split())
    assert raw_columns(database) < 20


def test_a_jsonl_key_longer_than_the_limit_rejects_its_line_only(warehouse, landing):
    write(landing, "crm/contacts/c.jsonl", (
        b'{"Id": "C1", "LastModifiedOn": "2026-01-01"}\n'
        b'{"Id": "C2", "' + b"K" * 256 + b'": "v", "LastModifiedOn": "2026-01-01"}\n'))
    outcome = land(warehouse, landing).outcomes[0]
    assert (outcome.rows_landed, outcome.lines_rejected) == (1, 1)
    assert warehouse.execute("select reason from raw._rejected_lines").fetchall() == [
        (UNUSABLE_KEY,)]


def parquet_with_columns(path, *names: str):
    """A Parquet file whose columns are spelled `names` exactly. DuckDB renames a repeated
    name when it writes, so placeholders of the same length are written and renamed."""
    placeholders = [f"Q{n:0{len(name) - 1}d}" for n, name in enumerate(names)]
    columns = ", ".join(f"'v{n}' as \"{p}\"" for n, p in enumerate(placeholders))
    duckdb.execute(f"copy (select {columns}) to '{path}' (format parquet)")
    content = path.read_bytes()
    for placeholder, name in zip(placeholders, names, strict=True):
        content = content.replace(placeholder.encode(), name.encode())
    path.write_bytes(content)


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_names_differing_only_in_case_refuse_the_file_naming_both(file_format, warehouse,
                                                                   landing):
    path = landing / "crm" / "contacts" / f"c.{file_format}"
    path.parent.mkdir(parents=True)
    if file_format == "csv":
        path.write_text("Id,id,LastModifiedOn\nC1,c1,2026-01-01\n")
    else:
        parquet_with_columns(path, "Id", "id", "LastModifiedOn")
    outcome = land(warehouse, landing).outcomes[0]
    assert outcome.status == "rejected"
    assert outcome.message == (f"crm/contacts/c.{file_format}: has columns 'Id' and 'id' "
                               "(column names are matched regardless of case)")


def test_a_jsonl_line_whose_keys_differ_only_in_case_is_rejected_alone(warehouse, landing):
    write(landing, "crm/contacts/c.jsonl", (
        '{"Id": "C1", "id": "c1", "LastModifiedOn": "2026-01-01"}\n'
        '{"Id": "C2", "Id": "c2", "LastModifiedOn": "2026-01-01"}\n'
        '{"id": "C3", "LastModifiedOn": "2026-01-01"}\n'))
    outcome = land(warehouse, landing).outcomes[0]
    assert (outcome.rows_landed, outcome.lines_rejected) == (1, 2)
    assert warehouse.execute("select line_number, reason from raw._rejected_lines order by 1"
                             ).fetchall() == [(1, "keys that differ only in case (or repeat)"),
                                              (2, "keys that differ only in case (or repeat)")]


def test_a_warehouse_that_cannot_grow_stops_landing_naming_the_cause(tmp_path):
    # A file size limit makes the warehouse's writes fail as a full disk does, without
    # the privileges a small file system would need.

    root = tmp_path / "landing"
    lines = "".join(f"C{n},p{n}@example.com,2026-01-01\n" for n in range(200_000))
    write(root, "crm/contacts/c.csv", "Id,Email,LastModifiedOn\n" + lines)
    database = tmp_path / "w.duckdb"
    env = {**os.environ, "CDP_DUCKDB_PATH": str(database)}

    def small_files_only():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (3 << 20, 3 << 20))

    full = run_cdp("land", str(root), env=env, preexec_fn=small_files_only)
    one_line_error(full, f"cannot write the warehouse {database}", "File too large",
                   "crm/contacts/c.csv did not land; land again once there is room")
    assert full.returncode == 1
    assert "cannot rollback" not in full.stderr and "rejected" not in full.stderr

    again = run_cdp("land", str(root), env=env)
    assert again.returncode == 0, again.stderr
    assert "1 file(s) landed" in again.stdout and "200,000 rows" in again.stdout


# --- defect 7: transient errors retried, permanent ones not ----------------------------

class Flaky:
    def __init__(self, *errors: BaseException):
        self.errors, self.calls, self.failures = list(errors), 0, 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"

    def failed(self) -> None:
        self.failures += 1


def test_transient_errors_are_retried_with_backoff_and_permanent_ones_are_not(monkeypatch):

    monkeypatch.setenv("CDP_EXPORT_ATTEMPTS", "3")
    monkeypatch.setenv("CDP_EXPORT_BACKOFF_SECONDS", "0.2")
    flaky = Flaky(ConnectionResetError(104, "reset"), TimeoutError("timed out"))
    started = time.monotonic()
    assert with_retries("sftp://h/x", "uploading f", flaky, (OSError,), flaky.failed) == "done"
    assert (flaky.calls, flaky.failures) == (3, 2)
    assert 0.6 <= time.monotonic() - started < 5   # waited 0.2 s, then 0.4 s

    down = Flaky(*[ConnectionRefusedError(111, "refused")] * 3)
    with pytest.raises(DestinationError, match=r"^sftp://h/x: uploading f failed after 3 "
                                               r"attempt\(s\): \[Errno 111\] refused$"):
        with_retries("sftp://h/x", "uploading f", down, (OSError,), down.failed)
    assert down.calls == 3

    denied = Flaky(PermissionError(13, "Permission denied"))
    with pytest.raises(DestinationError, match=r"failed \(not retried\): .*Permission denied"):
        with_retries("sftp://h/x", "uploading f", denied, (OSError,), denied.failed)
    assert (denied.calls, denied.failures) == (1, 1)


# --- one writer at a time ---------------------------------------------------------------

@pytest.mark.parametrize(("first", "pause_at", "second"), [
    ("land", "land-file", "land"),
    ("land", "land-file", "build"),
    ("land", "land-file", "status"),
    ("run", "land-file", "run"),
    ("build", "build-started", "export"),
])
def test_a_second_command_while_one_writes_the_warehouse_exits_lock_busy(
        first, pause_at, second, tmp_path):

    root = tmp_path / "landing"
    write(root, "crm/contacts/c.csv", "Id,Email,LastModifiedOn\nC1,a@x.com,2026-01-01\n")
    pause = tmp_path / "paused"
    env = {**os.environ, "CDP_DUCKDB_PATH": str(tmp_path / "w.duckdb"),
           "DBT_TARGET_PATH": str(tmp_path / "target")}
    arguments = {"land": ["land", str(root)], "build": ["build"], "status": ["status"],
                 "run": ["run", str(root), "--to", str(tmp_path / "out")],
                 "export": ["export", "insight", "--to", str(tmp_path / "out")]}
    holder = subprocess.Popen(
        [str(BIN / "cdp"), *arguments[first]], env={
            **env, "CDP_PAUSE_AT": pause_at, "CDP_PAUSE_FILE": str(pause)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not pause.exists():
            assert holder.poll() is None and time.monotonic() < deadline, holder.communicate()
            time.sleep(0.05)
        refused = run_cdp(*arguments[second], env=env)
    finally:
        if first != "land":
            holder.kill()   # it has shown what it holds; a whole build is not needed
        pause.unlink(missing_ok=True)
        holder.wait(timeout=60)
    assert refused.returncode == 5, refused.stderr   # lock busy
    one_line_error(refused, f"`cdp {first}` (pid {holder.pid}, started",
                   f"is using the warehouse {tmp_path / 'w.duckdb'}; wait for it to finish")
    if first == "land":
        assert holder.returncode == 0


@pytest.mark.parametrize("file_format", ["csv", "jsonl"])
def test_a_file_at_the_column_cap_lands_quickly_and_one_far_over_it_is_refused_at_once(
        file_format, warehouse, landing):
    def wide(columns: int) -> bytes:
        names = ["Id", "LastModifiedOn", *(f"X{n}" for n in range(columns - 2))]
        if file_format == "csv":
            return (",".join(names) + "\n" + ",".join("v" for _ in names) + "\n").encode()
        return ("{" + ", ".join(f'"{n}": "v"' for n in names) + "}\n").encode()

    write(landing, f"crm/contacts/at_cap.{file_format}", wide(1000))
    write(landing, f"crm/contacts/far_over.{file_format}", wide(20_000))
    started = time.monotonic()
    at_cap, far_over = land(warehouse, landing).outcomes
    assert time.monotonic() - started < 10   # 4,000 columns once took 11 s and 4.5 GB
    assert (at_cap.status, at_cap.rows_landed) == ("landed", 1)
    assert far_over.status == "rejected" and "20,000 columns" in far_over.message


@pytest.mark.parametrize("name", ["_load_id", "_Source_File", "_row_number", "_loaded_at"])
def test_a_column_named_like_landing_lineage_is_refused_in_csv_and_rejected_in_jsonl(
        name, warehouse, landing):
    write(landing, "crm/contacts/c.csv", f"Id,LastModifiedOn,{name}\nC1,2026-01-01,x\n")
    write(landing, "crm/contacts/d.jsonl",
          f'{{"Id": "C2", "LastModifiedOn": "2026-01-01", "{name}": "x"}}\n'
          '{"Id": "C3", "LastModifiedOn": "2026-01-01"}\n')
    csv_file, jsonl_file = land(warehouse, landing).outcomes
    assert csv_file.status == "rejected"
    assert csv_file.message == (f"crm/contacts/c.csv: has column '{name}', a name landing "
                                "keeps for the lineage of each row")
    assert (jsonl_file.rows_landed, jsonl_file.lines_rejected) == (1, 1)
    assert warehouse.execute("select reason from raw._rejected_lines").fetchall() == [
        (UNUSABLE_KEY,)]


def test_odd_file_names_and_pipes_are_skipped_or_shown_on_one_line(tmp_path):
    root = tmp_path / "landing"
    contacts = root / "crm" / "contacts"
    contacts.mkdir(parents=True)
    (contacts / "ok.csv").write_text("Id,LastModifiedOn\nC1,2026-01-01\n")
    with open(os.path.join(os.fsencode(contacts), b"latin\xe9.csv"), "w") as handle:
        handle.write("Id,LastModifiedOn\nC2,2026-01-01\n")
    (contacts / "two\nlines.csv").write_text("Id\nC3\n")   # refused: no LastModifiedOn
    os.mkfifo(contacts / "pipe.csv")   # reading it would wait forever
    result = run_cdp("land", str(root), env={**os.environ,
                                             "CDP_DUCKDB_PATH": str(tmp_path / "w.duckdb")},
                     timeout=60)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.splitlines() == [
        "notice: crm/contacts/latin\\xe9.csv: a name that is not UTF-8, skipped (rename it)",
        "notice: crm/contacts/pipe.csv: not a regular file (a pipe, socket or device), skipped",
        "rejected: crm/contacts/two\\nlines.csv: missing required column 'LastModifiedOn'",
    ]
    assert "1 file(s) landed" in result.stdout


def test_a_build_that_fails_early_prints_no_summary_of_an_earlier_build(tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    (target / "run_results.json").write_text(   # an earlier build's results
        '{"results": [{"unique_id": "model.cdp.x", "status": "success"}]}')
    env = {**os.environ, "CDP_DUCKDB_PATH": str(tmp_path / "w.duckdb"),
           "DBT_TARGET_PATH": str(target)}
    result = run_cdp("build", "--", "--no-such-option", env=env)
    assert result.returncode != 0
    assert "Build summary" not in result.stdout
    assert "dbt build failed" in result.stderr


def test_every_duckdb_connection_honours_the_memory_limit_and_spills_beside_the_warehouse(
        tmp_path, monkeypatch):

    monkeypatch.setenv("CDP_DUCKDB_PATH", str(tmp_path / "w" / "cdp.duckdb"))
    monkeypatch.delenv("CDP_MEMORY_LIMIT", raising=False)
    con = connect()
    limit, spill = con.execute("select current_setting('memory_limit'), "
                               "current_setting('temp_directory')").fetchone()
    con.close()
    assert limit == "7.4 GiB"   # 8GB (10^9 bytes), as DuckDB prints it
    assert spill == str(tmp_path / "w" / "cdp.duckdb.tmp")
    monkeypatch.setenv("CDP_MEMORY_LIMIT", "512MB")
    assert duckdb_config()["memory_limit"] == "512MB"
