"""The pipeline as Dagster assets (dagster-dbt): landing, every dbt model, seed and
snapshot, the data quality check and each export, in the order data flows.

    CDP_LANDING_ROOT=/data/extracts CDP_EXPORT_TO=az://insight/exports \
        dagster dev -f scripts/orchestration/dagster_cdp.py

- `land`: `cdp land $CDP_LANDING_ROOT`, one asset per landed source table (the dbt
  sources in schema raw, under the keys dagster-dbt gives them);
- the dbt project: `dbt build` through dagster-dbt, models, seeds and snapshots as
  assets and their data tests as asset checks; dbt creates the warehouse's own tables
  itself, so it also runs on an empty warehouse;
- `checked`: `cdp check` (Great Expectations' suites) after the build;
- `export_<kind>`: `cdp export <kind> --to $CDP_EXPORT_TO` for each kind `cdp run`
  exports, after the check.

`cdp` and dbt read the same settings as on the command line (`CDP_DUCKDB_PATH`,
`CDP_THREADS`, `CDP_MEMORY_LIMIT`, ...). dbt's manifest is parsed into
`target/dagster/` when it is missing or older than a file of the project.
"""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

from cdp.project import project_dir, raw_entities

# What `cdp run` exports, in its order.
EXPORT_KINDS = ("insight", "segments", "campaign-profiles", "campaign-lookups", "campaign-logs")
# The environment's own commands, whatever PATH the orchestrator has.
CDP = str(Path(sys.executable).parent / "cdp")
DBT = str(Path(sys.executable).parent / "dbt")

dbt_project = DbtProject(project_dir=project_dir(), profiles_dir=project_dir(),
                         target_path=Path("target") / "dagster")
# The assets are read from dbt's manifest: parsed again whenever a file of the
# project is newer, so that an edited model shows in Dagster as it is.
PROJECT_FILES = ["dbt_project.yml", "models/**/*", "macros/**/*", "seeds/**/*",
                 "snapshots/**/*", "tests/**/*"]


def manifest_is_stale() -> bool:
    if not dbt_project.manifest_path.exists():
        return True
    parsed = dbt_project.manifest_path.stat().st_mtime
    return any(path.stat().st_mtime > parsed for pattern in PROJECT_FILES
               for path in project_dir().glob(pattern) if path.is_file())


if manifest_is_stale():
    DbtCliResource(project_dir=dbt_project, dbt_executable=DBT).cli(
        ["parse", "--quiet"], target_path=dbt_project.target_path).wait()


def cdp(context: dg.AssetExecutionContext, *args: str) -> None:
    """Run a `cdp` command; its output goes to the run's log, a failure fails the step."""
    done = subprocess.run([CDP, "-q", *args], capture_output=True, text=True, check=False,
                          cwd=project_dir())
    context.log.info(f"cdp {' '.join(args)}: exit {done.returncode}\n{done.stdout}{done.stderr}")
    if done.returncode != 0:
        raise dg.Failure(f"cdp {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")


@dg.multi_asset(specs=[dg.AssetSpec([source, entity], group_name="landing")
                       for source, entity in raw_entities()], can_subset=False)
def land(context: dg.AssetExecutionContext):
    """New extract files under CDP_LANDING_ROOT into the raw tables."""
    cdp(context, "land", os.environ["CDP_LANDING_ROOT"])
    for source, entity in raw_entities():
        yield dg.MaterializeResult(asset_key=[source, entity])


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    yield from dbt.cli(["build", "--exclude", "resource_type:unit_test"],
                       context=context).stream()


@dg.asset(deps=[dbt_models], group_name="quality")
def checked(context: dg.AssetExecutionContext) -> None:
    """Great Expectations' suites on the marts (`cdp check`)."""
    cdp(context, "check")


def export_asset(kind: str) -> dg.AssetsDefinition:
    @dg.asset(name=f"export_{kind.replace('-', '_')}", deps=[checked], group_name="exports")
    def exported(context: dg.AssetExecutionContext) -> None:
        cdp(context, "export", kind, "--to", os.environ["CDP_EXPORT_TO"])

    exported.__doc__ = f"`cdp export {kind}` to CDP_EXPORT_TO."
    return exported


defs = dg.Definitions(
    assets=[land, dbt_models, checked, *(export_asset(kind) for kind in EXPORT_KINDS)],
    resources={"dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=DBT)},
)
