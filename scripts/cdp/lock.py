"""One command that writes the warehouse at a time (`land`, `build`, `run`, every
export): an exclusive lock on a file beside the warehouse. The operating system
releases it when the process ends, however it ends, so a killed command never leaves
a stale lock behind. A second command exits at once with ExitCode.LOCK_BUSY, naming
the holder; so does a reading command (`status`, `check`) while a writer has the
warehouse open, through DuckDB's own file lock (see `project.connect`). The lock file's place and
contents are read in cdp.project, which connects."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from cdp.project import busy, lock_path, make_warehouse_folder

_held_by_this_process = False   # `cdp run` takes the lock once for all its steps


@contextmanager
def warehouse_lock(command: str) -> Iterator[None]:
    global _held_by_this_process
    if _held_by_this_process:
        yield
        return
    path = lock_path()
    make_warehouse_folder()
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise busy(handle.read().strip() or "another process") from None
        handle.seek(0)
        handle.truncate()
        started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        handle.write(f"`cdp {command}` (pid {os.getpid()}, started {started})")
        handle.flush()
        _held_by_this_process = True
        try:
            yield
        finally:
            _held_by_this_process = False
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)
