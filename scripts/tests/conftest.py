"""Shared fixtures: a warehouse of its own per test, and one generated, landed and
built sample that several tests read."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from filelock import FileLock

from cdp.land import land
from cdp.project import connect, project_dir
from cdp_dev.generate import generate

from servers import Azurite, SftpServer

BIN = Path(sys.executable).parent
# Fixtures that build the project with dbt or start a test service: a test that uses
# one is in the integration tier, any other in the unit tier unless marked otherwise.
INTEGRATION_FIXTURES = {"sample", "dbt_target", "azurite", "sftp"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        integration = (INTEGRATION_FIXTURES & set(getattr(item, "fixturenames", ()))
                       or item.get_closest_marker("integration"))
        item.add_marker(pytest.mark.integration if integration else pytest.mark.unit)


@pytest.fixture
def warehouse(tmp_path, monkeypatch) -> duckdb.DuckDBPyConnection:
    monkeypatch.setenv("CDP_DUCKDB_PATH", str(tmp_path / "cdp.duckdb"))
    con = connect()
    yield con
    con.close()


@pytest.fixture(scope="session")
def dbt_target(tmp_path_factory) -> Path:
    # One target folder for every in-process dbt invocation, so that dbt's partial
    # parsing is reused between them.
    return tmp_path_factory.mktemp("dbt_target")


@pytest.fixture(autouse=True)
def restore_warehouse_path(monkeypatch):
    # Tests that build warehouses point CDP_DUCKDB_PATH at their own file;
    # monkeypatch puts the original value back afterwards.
    monkeypatch.setenv("CDP_DUCKDB_PATH", os.environ.get("CDP_DUCKDB_PATH", ""))


@pytest.fixture
def landing(tmp_path) -> Path:
    root = tmp_path / "landing"
    root.mkdir()
    return root


def write(root: Path, relative: str, content: bytes | str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


PROJECT_PARTS = ["dbt_project.yml", "profiles.yml", "models", "macros", "seeds",
                 "snapshots", "tests", "analyses"]


def copy_project(folder: Path) -> Path:
    """A copy of the dbt project to edit a declaration in, without touching ours."""
    folder.mkdir(parents=True)
    for part in PROJECT_PARTS:
        source = project_dir() / part
        if source.is_dir():
            shutil.copytree(source, folder / part)
        elif source.exists():
            shutil.copy(source, folder / part)
    return folder


def run_cdp(*args: str, env: dict[str, str] | None = None, **options) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "cdp"), *args], capture_output=True, text=True, env=env or dict(os.environ),
        cwd=project_dir(), check=False, **options,
    )


class Sample:
    """A generated landing root, landed and built with dbt into its own warehouse."""

    def __init__(self, root: Path, database: Path, contacts: int, target: Path):
        self.root = root
        self.database = database   # read only: a test that changes it changes a copy
        self.contacts = contacts
        self.target = target       # dbt's manifest of the build, this worker's copy

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.database), read_only=True)

    def copy(self, folder: Path) -> Path:
        """A copy of the built warehouse in `folder`, for a test to change."""
        folder.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copyfile(self.database, folder / "cdp.duckdb"))


def build_sample(base: Path) -> None:
    root, database = base / "landing", base / "cdp.duckdb"
    generate(root, contacts=1500, seed=7, batches=4)
    env = dict(os.environ, CDP_DUCKDB_PATH=str(database))
    previous = os.environ.get("CDP_DUCKDB_PATH")
    os.environ["CDP_DUCKDB_PATH"] = str(database)
    try:
        con = connect()
        land(con, root)
        con.close()
    finally:
        if previous is None:
            del os.environ["CDP_DUCKDB_PATH"]
        else:
            os.environ["CDP_DUCKDB_PATH"] = previous
    built = run_cdp("build", env={**env, "DBT_TARGET_PATH": str(base / "target")})
    assert built.returncode == 0, built.stdout + built.stderr


@pytest.fixture(scope="session")
def sample(tmp_path_factory, worker_id) -> Sample:
    # Built once per test session: under xdist the first worker builds it in the
    # session's shared folder while the others wait; each worker then gets its own
    # copy of dbt's target folder, which commands given it write to.
    session = tmp_path_factory.getbasetemp()
    shared = (session.parent if worker_id != "master" else session) / "sample"
    with FileLock(f"{shared}.lock"):
        if not (shared / "built").exists():
            shutil.rmtree(shared, ignore_errors=True)
            shared.mkdir()
            build_sample(shared)
            (shared / "built").touch()
    target = shutil.copytree(shared / "target", tmp_path_factory.mktemp("sample") / "target")
    return Sample(shared / "landing", shared / "cdp.duckdb", 1500, Path(target))


# Services the export tests write to, one of each per test module.
@pytest.fixture(scope="module")
def azurite(tmp_path_factory):
    server = Azurite(tmp_path_factory.mktemp("azurite"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def sftp(tmp_path_factory):
    server = SftpServer(tmp_path_factory.mktemp("sftp"))
    server.start()
    yield server
    server.shutdown()
