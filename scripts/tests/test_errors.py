"""Bad input and bad settings are one line naming what is wrong and a non-zero exit,
never a traceback (issue: hardening, defects 4 and 5)."""

from __future__ import annotations

import os

import duckdb
import pytest

from conftest import run_cdp


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
    ("CDP_MEMORY_LIMIT", "lots", "CDP_MEMORY_LIMIT='lots': a size such as 8GB or 512MB"),
])
def test_a_bad_setting_is_refused_at_start_naming_the_variable(variable, value, expected,
                                                                tmp_path):
    env = {**os.environ, "CDP_DUCKDB_PATH": str(tmp_path / "w.duckdb"), variable: value}
    for command in (["status"], ["build"]):
        result = run_cdp(*command, env=env)
        one_line_error(result, expected)
        assert "Build summary" not in result.stdout   # no stale summary of an earlier run


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
