"""Quoting and binding for the SQL the tool writes."""

from __future__ import annotations


def literal(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def identifier(name: str) -> str:
    """A quoted SQL identifier (keeps its case)."""
    return '"' + name.replace('"', '""') + '"'


def parameters(sql: str, **values: object) -> dict[str, object]:
    """The values `sql` names as `$name` (DuckDB refuses values a statement does not use)."""
    return {name: value for name, value in values.items() if f"${name}" in sql}
