"""Governance at export: the labels of the columns an export sends (`meta.labels` in
the models' YAML) against the labels its destination refuses (`meta.refuses_labels`
of the dbt exposure that stands for it), read from dbt's manifest and judged by the
dbt macro governance_violations (macros/governance.sql), the rule dbt applies at the
start of every run. A refused label stops the export before anything is written."""

from __future__ import annotations

import json

from cdp import macros
from cdp.build import run_dbt
from cdp.errors import CdpError
from cdp.project import project_dir, target_dir


class GovernanceRefusal(CdpError):
    """A column would send a label its destination refuses."""


def declarations_changed_since(moment: float) -> bool:
    root = project_dir()
    paths = [root / "dbt_project.yml", *(root / "models").rglob("*.yml")]
    return any(path.stat().st_mtime > moment for path in paths)


def manifest() -> dict:
    """dbt's manifest, parsed again when a YAML declaration is newer than it."""
    path = target_dir() / "manifest.json"
    if not path.exists() or declarations_changed_since(path.stat().st_mtime):
        parsed = run_dbt("parse", ["--quiet", "--target-path", str(target_dir())])
        if parsed.code != 0 or not path.exists():
            raise CdpError("`dbt parse` failed: cannot read the governance declarations")
    return json.loads(path.read_text())


def exposure(nodes: dict, exposure_name: str) -> dict:
    for candidate in nodes["exposures"].values():
        if candidate["name"] == exposure_name:
            return candidate
    raise CdpError(f"no dbt exposure named {exposure_name}: declare it in models/exposures.yml")


def spreadsheet_safe(exposure_name: str) -> bool:
    """Whether the destination's files are for people with spreadsheets (exposure
    `meta.spreadsheet_safe`): then formula-like cells are escaped."""
    return bool(exposure(manifest(), exposure_name).get("meta", {}).get("spreadsheet_safe"))


def model_node(nodes: dict, model: str) -> dict:
    for node in nodes["nodes"].values():
        if node["resource_type"] == "model" and node["name"] == model:
            return node
    raise CdpError(f"model {model} is not in the dbt project")


def column_meta(model: str, key: str) -> list[tuple[str, object]]:
    """(column, meta[key]) of the model's columns that declare `key`, in YAML order."""
    columns = model_node(manifest(), model)["columns"]
    return [(name, column["meta"][key]) for name, column in columns.items()
            if key in column.get("meta", {})]


def check(exports: list[tuple[str, list[str]]], exposure_name: str) -> None:
    """Refuse when a (model, exported columns) pair carries a label the exposure
    refuses; names model, column, label and destination. The rule is dbt's own, the
    macro governance_violations, which dbt's on-run-start applies to every column of
    the models an exposure depends on, and this to the columns an export sends."""
    nodes = manifest()
    exposure(nodes, exposure_name)
    for model, _ in exports:
        model_node(nodes, model)
    violations = macros.call("governance.sql", "governance_violations", nodes, exposure_name,
                             exports)
    if violations:
        raise GovernanceRefusal("governance: " + "; ".join(violations) + "; nothing was exported")
