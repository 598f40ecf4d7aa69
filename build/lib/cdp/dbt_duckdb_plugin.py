"""A dbt-duckdb plugin (profiles.yml): creates the warehouse file's folder before dbt
connects, as `cdp` does, so that dbt started on its own works on a fresh checkout or
with a CDP_DUCKDB_PATH in a new folder. profiles.yml finds it through `module_paths`,
so it works without the `cdp` package installed; it imports nothing else of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin


class Plugin(BasePlugin):
    def update_connection_config(self, creds: Any, config: dict[str, Any]) -> None:
        path = str(creds.path)
        if path != ":memory:" and ":" not in path.split("/")[0]:   # a file, not md: or s3:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
