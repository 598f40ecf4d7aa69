"""The project's dbt macros that cdp renders itself, as plain Jinja, so that a fact
they define (the warehouse's tables, where a row landed) is written once. Only
macros that use nothing of dbt's but `var` and `return` can be rendered here."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2

from cdp.project import project_dir, project_vars


class _Returned(Exception):
    """How a macro's `return(value)` reaches the caller, as in dbt."""

    def __init__(self, value: object):
        self.value = value


def _return(value: object) -> str:
    raise _Returned(value)


@cache
def _module(project: Path, file: str) -> jinja2.runtime.TemplateModule:
    environment = jinja2.Environment(extensions=["jinja2.ext.do"])
    environment.globals["return"] = _return
    environment.globals["var"] = lambda name: project_vars()[name]
    return environment.from_string((project / file).read_text()).module


def call(file: str, name: str, *args: object) -> object:
    """What macro `name` of macros/`file` returns (`return(...)`), else the text it renders."""
    try:
        return str(getattr(_module(project_dir(), f"macros/{file}"), name)(*args))
    except _Returned as returned:
        return returned.value


def landing_position(load_id: str, row_number: str) -> str:
    """SQL of where a row landed, as the models store it (macro landing_position)."""
    return str(call("incremental.sql", "landing_position", load_id, row_number))


def insight_interaction_columns() -> list[str]:
    """The columns an Insight file starts with, in order (macro
    insight_interaction_columns)."""
    return list(call("insight_mappings.sql", "insight_interaction_columns"))
