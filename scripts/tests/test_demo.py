"""The README's first command, `make demo`, as a newcomer runs it: more than once."""

from __future__ import annotations

import os
import subprocess

import pytest

from cdp.project import project_dir

from conftest import BIN

# make demo: generate, land, dbt build, check and export, twice.
pytestmark = pytest.mark.integration


def test_make_demo_twice_exports_the_sample_both_times(tmp_path):
    sample, exports = tmp_path / "sample", tmp_path / "exports"
    env = {**os.environ, "DBT_TARGET_PATH": str(tmp_path / "target")}
    for attempt in (1, 2):
        demo = subprocess.run(
            ["make", f"--assume-old={BIN / 'cdp'}", "demo", "CONTACTS=300",
             f"SAMPLE={sample}", f"DEMO_FOLDER={tmp_path / 'demo'}", f"DEMO_EXPORTS={exports}"],
            cwd=project_dir(), env=env, capture_output=True, text=True, check=False)
        assert demo.returncode == 0, f"demo {attempt}: " + (demo.stdout + demo.stderr)[-3000:]
        # Each demo starts from an empty warehouse and export state: every Insight
        # import type is sent again, into a fresh exports folder.
        sent = {path.parent.name for path in (exports / "insight").rglob("*.csv")}
        assert {"crm_contacts", "crm_purchases", "support_tickets"} <= sent, f"demo {attempt}"
        assert (tmp_path / "demo" / "cdp.duckdb").exists()
