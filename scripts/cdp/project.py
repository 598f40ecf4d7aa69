"""Where the project lives, how to reach its warehouse, and the raw contract.

The raw contract is declared once, for dbt and landing alike: sources, entities and
columns in the dbt sources YAML under models/staging, required columns in the var
`required_columns` of dbt_project.yml.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb
import yaml

from cdp.errors import CdpError, LockBusy
from cdp.settings import setting

# What each raw table records about the load a row came from, after the file's columns
# (their types are declared with the sources).
LOAD_COLUMNS = ("_load_id", "_source_file", "_row_number", "_loaded_at")


def project_dir() -> Path:
    """The dbt project root: CDP_PROJECT_DIR (`cdp --project-dir`), else the checkout
    this package is installed from (an editable install), else the current folder."""
    configured = setting("CDP_PROJECT_DIR")
    if configured:
        return Path(configured).resolve()
    for folder in (Path(__file__).resolve().parents[2], Path.cwd()):
        if (folder / "dbt_project.yml").is_file():
            return folder
    raise CdpError("no dbt project here: run cdp in the project's folder, or name it with "
                   "--project-dir or CDP_PROJECT_DIR")


def profiles_dir() -> Path:
    """The folder of the profiles.yml dbt reads: DBT_PROFILES_DIR, else the project's."""
    configured = os.environ.get("DBT_PROFILES_DIR")
    return Path(configured).resolve() if configured else project_dir()


def warehouse_path() -> Path:
    """The DuckDB file, as profiles.yml names it (relative to the profiles.yml folder)."""
    path = Path(os.environ.get("CDP_DUCKDB_PATH", "warehouse/cdp.duckdb"))
    return path if path.is_absolute() else profiles_dir() / path


# dbt_project.yml's keys naming the folders whose files decide what dbt builds.
PROJECT_PATH_KEYS = ("model-paths", "macro-paths", "seed-paths", "snapshot-paths",
                     "test-paths")


def project_fingerprint() -> str:
    """A hash of everything that decides what dbt builds from the same landed rows:
    dbt_project.yml, profiles.yml, every file under the model, macro, seed, snapshot
    and test folders, the target (CDP_TARGET) and dbt's version. Equal fingerprints
    and equal loads build equal tables."""
    from dbt.version import __version__ as dbt_version

    root = project_dir()
    project = yaml.safe_load((root / "dbt_project.yml").read_text())
    profiles = profiles_dir() / "profiles.yml"
    files = [root / "dbt_project.yml", profiles]
    for key in PROJECT_PATH_KEYS:
        for folder in project.get(key, []):
            files += sorted(p for p in (root / folder).rglob("*") if p.is_file())
    digest = hashlib.sha256(f"{dbt_version}\0{os.environ.get('CDP_TARGET', '')}".encode())
    for path in files:
        name = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
        digest.update(f"\0{name}\0".encode())
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()


def project_vars(con: duckdb.DuckDBPyConnection | None = None) -> dict:
    """dbt_project.yml's vars; given the warehouse, with the `--vars` the latest dbt
    build or run of models was given (the run manifest records them), so that what
    reads the models (`cdp check`, `cdp export`) reads the vars they were built with."""
    declared = yaml.safe_load((project_dir() / "dbt_project.yml").read_text())["vars"]
    return {**declared, **(vars_of_last_build(con) if con is not None else {})}


def vars_of_last_build(con: duckdb.DuckDBPyConnection) -> dict:
    """The `--vars` of the latest dbt build or run of models; {} when none is recorded."""
    recorded = con.execute(
        "select count(*) from duckdb_columns() where schema_name = 'cdp_state' "
        "and table_name = 'dbt_invocations' and column_name = 'vars'").fetchone()[0]
    if not recorded:
        return {}
    found = con.execute(
        "select vars from cdp_state.dbt_invocations where command in ('build', 'run') "
        "and scope is distinct from 'export_state' order by started_at desc limit 1").fetchone()
    return json.loads(found[0]) if found and found[0] else {}


def make_warehouse_folder() -> None:
    folder = warehouse_path().parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CdpError(f"cannot create the warehouse folder {folder}: "
                       f"{error.strerror or error}") from None


# The warehouse's lock file (cdp.lock), which names the command holding it.
def lock_path() -> Path:
    return warehouse_path().with_suffix(".lock")


def busy(holder: str) -> LockBusy:
    return LockBusy(f"{holder} is using the warehouse {warehouse_path()}; "
                    "wait for it to finish")


def holder_named_in_lock_file() -> str:
    try:
        return lock_path().read_text().strip() or "another process"
    except OSError:
        return "another process"


def duckdb_config() -> dict[str, str]:
    """The limits of every DuckDB connection cdp opens, as profiles.yml sets them for
    dbt: CDP_MEMORY_LIMIT (default 8GB), spilling to a folder beside the warehouse
    rather than into the working folder."""
    make_warehouse_folder()
    return {"memory_limit": setting("CDP_MEMORY_LIMIT"),
            "temp_directory": str(warehouse_path()) + ".tmp"}


def connect(read_only: bool = False) -> duckdb.DuckDBPyConnection:
    path = warehouse_path()
    if read_only and not path.exists():
        raise CdpError(f"no warehouse at {path}: run `cdp land <root>` first")
    try:
        con = duckdb.connect(str(path), read_only=read_only, config=duckdb_config())
    except duckdb.IOException as error:
        if "Could not set lock" in str(error):   # a writer has it open
            raise busy(holder_named_in_lock_file()) from None
        raise CdpError(f"cannot open warehouse {path}: {error}") from error
    # Set after connecting: the time zone extension is linked in but not yet loaded.
    con.execute("set TimeZone = 'UTC'")
    con.execute("set enable_progress_bar = false")
    return con


@dataclass(frozen=True)
class Entity:
    source: str
    name: str
    table: str
    columns: tuple[str, ...]   # the file's, without the load columns
    required: tuple[str, ...]
    declared: tuple[dict[str, str | None], ...]   # every column: name, data_type

    @property
    def label(self) -> str:
        return f"{self.source}/{self.name}"


@cache
def raw_entities() -> dict[tuple[str, str], Entity]:
    """Every landed (source, entity): the sources in schema raw declared in
    models/staging/*/_*__sources.yml whose rows carry their load (`_load_id`)."""
    project = yaml.safe_load((project_dir() / "dbt_project.yml").read_text())
    required = project["vars"]["required_columns"]
    entities: dict[tuple[str, str], Entity] = {}
    for path in sorted((project_dir() / "models" / "staging").glob("*/_*__sources.yml")):
        for source in yaml.safe_load(path.read_text())["sources"]:
            if source.get("schema") != "raw":
                continue  # not a landing source (e.g. the export state)
            for table in source["tables"]:
                names = [c["name"] for c in table["columns"]]
                if LOAD_COLUMNS[0] not in names:
                    continue  # not written by landing (e.g. its manifest)
                rules = required.get(f"{source['name']}__{table['name']}", {})
                entities[(source["name"], table["name"])] = Entity(
                    source=source["name"],
                    name=table["name"],
                    table=table.get("identifier", f"{source['name']}_{table['name']}"),
                    columns=tuple(name for name in names if name not in LOAD_COLUMNS),
                    required=tuple(rules.get("ids", []) + rules.get("timestamps", [])),
                    declared=tuple({"name": c["name"], "data_type": c.get("data_type")}
                                   for c in table["columns"]),
                )
    return entities


def target_dir() -> Path:
    """dbt's target folder: DBT_TARGET_PATH (relative to the project), else target/."""
    configured = os.environ.get("DBT_TARGET_PATH")
    if configured:
        path = Path(configured)
        return path if path.is_absolute() else project_dir() / path
    return project_dir() / "target"


def writable_folder(path: Path) -> Path:
    """`path`, created if missing; one line when it cannot be (under a file, no
    permission, no space)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CdpError(f"cannot write {path}: {error.strerror}") from None
    return path


def require_built(con: duckdb.DuckDBPyConnection, schemas: list[str], doing: str) -> None:
    """One line, not a catalog error, when dbt has not built what a command reads."""
    for schema in schemas:
        found = con.execute("select count(*) from information_schema.tables "
                            "where table_schema = ?", [schema]).fetchone()[0]
        if not found:
            raise CdpError(f"schema {schema} is empty: run `cdp build` before {doing}")
