"""`pipeline.run`, the order of a run's stages and when it stops, with the steps
replaced by stand-ins (each step has its own tests with the real warehouse)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from cdp import export as export_module
from cdp import pipeline
from cdp.errors import ExitCode


class Heard(pipeline.Reporter):
    def __init__(self):
        self.events: list[str] = []

    def landed(self, landed):
        self.events.append("landed")

    def built(self, built):
        self.events.append("built")

    def checked(self, results, docs, seconds):
        self.events.append("checked")

    def exported(self, exported):
        self.events.append(f"exported {exported.kind}")

    def refused(self, kind, refusal):
        self.events.append(f"refused {kind}")


@pytest.fixture
def steps(monkeypatch, tmp_path):
    """Stand-ins for the four steps; `steps.failures`, `steps.build_code` and
    `steps.refusing` say how they end; `steps.guardrails` records what was asked."""
    monkeypatch.setenv("CDP_DUCKDB_PATH", str(tmp_path / "cdp.duckdb"))   # the run's lock
    state = SimpleNamespace(failures=[], build_code=0, refusing=set(), guardrails={})

    def export(kind, to, guardrail=False, progress=None):
        state.guardrails[kind] = guardrail
        if guardrail and kind in state.refusing:
            raise export_module.GuardrailRefusal(f"{kind} too soon")
        return pipeline.Exported(kind, None, 0.0)

    monkeypatch.setattr(pipeline, "land", lambda root, progress: pipeline.Landed(None, 0.0))
    monkeypatch.setattr(pipeline, "build", lambda args, planned: pipeline.Built(
        None, SimpleNamespace(code=state.build_code)))
    monkeypatch.setattr(pipeline, "check", lambda docs, progress: [
        SimpleNamespace(failures=state.failures)])
    monkeypatch.setattr(pipeline, "export", export)
    return state


def test_a_run_lands_builds_checks_then_exports_every_kind_in_order(steps, tmp_path):
    heard = Heard()

    seconds = pipeline.run(tmp_path, "out", tmp_path / "docs", reporter=heard)

    assert list(seconds) == ["land", "build", "check", "export"]
    assert heard.events == ["landed", "built", "checked",
                            *(f"exported {kind}" for kind in pipeline.RUN_EXPORTS)]
    assert steps.guardrails == {kind: kind in export_module.CAMPAIGN_BOUND
                                for kind in pipeline.RUN_EXPORTS}


def test_a_failed_check_or_build_stops_the_run_before_anything_is_exported(steps, tmp_path):
    steps.failures = ["an expectation"]
    heard = Heard()
    with pytest.raises(pipeline.StepFailed) as failed:
        pipeline.run(tmp_path, "out", tmp_path / "docs", reporter=heard)
    assert (failed.value.stage, failed.value.exit_code) == ("check", ExitCode.FAILURE)
    assert heard.events == ["landed", "built", "checked"]

    steps.failures, steps.build_code = [], 2
    heard = Heard()
    with pytest.raises(pipeline.StepFailed) as failed:
        pipeline.run(tmp_path, "out", tmp_path / "docs", reporter=heard)
    assert (failed.value.stage, failed.value.exit_code) == ("build", 2)
    assert heard.events == ["landed", "built"]
    assert steps.guardrails == {}


def test_a_kind_within_its_guardrail_is_skipped_and_the_others_go_unless_forced(
        steps, tmp_path):
    steps.refusing = {"segments"}
    heard = Heard()

    pipeline.run(tmp_path, "out", tmp_path / "docs", reporter=heard)

    assert "refused segments" in heard.events
    assert [e for e in heard.events if e.startswith("exported")] == [
        f"exported {kind}" for kind in pipeline.RUN_EXPORTS if kind != "segments"]

    heard = Heard()
    pipeline.run(tmp_path, "out", tmp_path / "docs", force=True, reporter=heard)
    assert "exported segments" in heard.events
    assert not any(steps.guardrails.values())


def test_a_run_with_the_default_reporter_prints_nothing(steps, tmp_path, capsys):
    pipeline.run(tmp_path, "out", tmp_path / "docs")
    assert capsys.readouterr() == ("", "")
