"""One read of an extract file before it lands: its checksum, how many lines it has
and how long the longest is. The line count is what landing checks its rows and
rejected lines against; the longest line sizes the reader's buffer, so that no
record is longer than the buffer (DuckDB silently skips such a record)."""

from __future__ import annotations

import hashlib
import mmap
import re
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20

# A line end followed by a blank line (empty, or a lone CR before its LF). A pattern
# that starts with a literal lets the regex engine skip from line end to line end.
BEFORE_BLANK_LINE = re.compile(rb"\n(?=\r?\n)")


@dataclass(frozen=True)
class Survey:
    sha256: str
    size: int
    lines: int          # line ends, plus a last line without one
    longest_line: int   # exact for lines longer than CHUNK; shorter ones count as CHUNK


def survey(path: Path) -> Survey:
    digest = hashlib.sha256()
    size = lines = longest = 0
    run = 0   # bytes since the last line end
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if ends := chunk.count(b"\n"):
                lines += ends
                longest = max(longest, run + chunk.find(b"\n"))
                run = len(chunk) - chunk.rfind(b"\n") - 1
            else:
                run += len(chunk)
    if run:
        lines += 1
    return Survey(digest.hexdigest(), size, lines, max(longest, run, CHUNK))


def blank_lines(path: Path) -> int:
    """Lines that are empty or a lone CR (a second read, only when they matter)."""
    if not path.stat().st_size:
        return 0
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        blank = sum(1 for _ in BEFORE_BLANK_LINE.finditer(data))
        first_blank = data[:1] == b"\n" or data[:2] == b"\r\n" or data[:] == b"\r"
        last_a_lone_cr = data[-2:] == b"\n\r"   # without a line end after it
        return blank + first_blank + last_a_lone_cr
