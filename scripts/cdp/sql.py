"""Quoting for the SQL the tool writes."""

from __future__ import annotations


def literal(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def identifier(name: str) -> str:
    """A quoted SQL identifier (keeps its case)."""
    return '"' + name.replace('"', '""') + '"'
