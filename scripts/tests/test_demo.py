"""The README's first command, `make demo`, as a newcomer runs it: more than once.
Its warehouse then gets what CI asks of a build beyond the demo: dbt's unit tests,
dbt's documentation, and the exported Insight files judged against Insight's
documented format."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from cdp.project import project_dir

from conftest import BIN, run_cdp

# make demo (generate, land, dbt build, check, export) twice, then unit tests, docs and
# the Insight validator.
pytestmark = pytest.mark.integration


def test_make_demo_twice_exports_the_sample_both_times(tmp_path):
    sample, exports = tmp_path / "sample", tmp_path / "exports"
    target = tmp_path / "target"
    env = {**os.environ, "DBT_TARGET_PATH": str(target)}
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

    env["CDP_DUCKDB_PATH"] = str(tmp_path / "demo" / "cdp.duckdb")

    def dbt(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "dbt"), *args, "--target-path", str(target)],
                              cwd=project_dir(), env=env, capture_output=True, text=True,
                              check=False)

    # dbt's unit tests (static inputs: CI runs them, production builds do not)
    unit_tests = dbt("test", "--select", "test_type:unit")
    assert unit_tests.returncode == 0, unit_tests.stdout[-3000:]
    ran = json.loads((target / "run_results.json").read_text())["results"]
    unit = [result["status"] for result in ran if result["unique_id"].startswith("unit_test.")]
    assert len(unit) >= 30 and set(unit) == {"pass"}
    docs = dbt("docs", "generate")
    assert docs.returncode == 0, docs.stdout[-3000:]
    assert (target / "catalog.json").stat().st_size > 0
    validated = run_cdp("validate", "insight", str(exports), env=env)
    assert validated.returncode == 0, validated.stdout + validated.stderr
