"""Settings from the environment, checked once when a command starts: a bad value
is one line naming the variable, never a traceback or a crash half-way (dbt reads
CDP_THREADS and CDP_MEMORY_LIMIT through profiles.yml, the export its retry policy,
`cdp land` its column cap)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cdp.errors import CdpError

SIZE = re.compile(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)


def whole_at_least_one(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def seconds(text: str) -> float:
    value = float(text)
    if not value >= 0:   # also refuses nan
        raise ValueError(text)
    return value


def size(text: str) -> str:
    match = SIZE.fullmatch(text.strip())
    if not match or not float(text.strip()[:match.start(2)]) > 0:
        raise ValueError(text)
    return text.strip()


def project_folder(text: str) -> str:
    if not (Path(text) / "dbt_project.yml").is_file():
        raise ValueError(text)
    return text


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None
    parse: Callable[[str], object]
    rule: str


SETTINGS = {s.name: s for s in [
    Setting("CDP_EXPORT_ATTEMPTS", "5", whole_at_least_one, "a whole number of at least 1"),
    Setting("CDP_EXPORT_BACKOFF_SECONDS", "1", seconds, "seconds, 0 or more"),
    Setting("CDP_THREADS", "4", whole_at_least_one, "a whole number of at least 1"),
    # The default is also profiles.yml's, for dbt run on its own.
    Setting("CDP_MEMORY_LIMIT", "8GB", size, "a size above 0, such as 8GB or 512MB"),
    Setting("CDP_LAND_MAX_COLUMNS", "1000", whole_at_least_one,
            "a whole number of at least 1"),
    Setting("CDP_PROJECT_DIR", None, project_folder, "a folder holding dbt_project.yml"),
]}


def setting(name: str) -> object:
    """The parsed value of a setting (its default when unset)."""
    spec = SETTINGS[name]
    text = os.environ.get(name, spec.default)
    if text is None:
        return None
    try:
        return spec.parse(text)
    except ValueError:
        raise CdpError(f"{name}={text!r}: {spec.rule}") from None


def check_environment() -> None:
    for name in SETTINGS:
        setting(name)
