"""Quoting for the SQL the tool writes, and file checksums."""

from __future__ import annotations

import hashlib
from pathlib import Path


def literal(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def identifier(name: str) -> str:
    """A quoted SQL identifier (keeps its case)."""
    return '"' + name.replace('"', '""') + '"'


def sha256_file(path: Path) -> str:
    """The file's sha256, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
