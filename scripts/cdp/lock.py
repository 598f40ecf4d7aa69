"""One `cdp run` or `cdp export` at a time per warehouse: an exclusive lock on a
file beside the warehouse. The operating system releases it when the process ends,
however it ends, so a killed run never leaves a stale lock behind."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from cdp.errors import LockBusy
from cdp.project import warehouse_path


@contextmanager
def exclusive_run(command: str) -> Iterator[None]:
    path = warehouse_path().with_suffix(".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise LockBusy(f"{holder} holds {path}; wait for it to finish") from None
        handle.seek(0)
        handle.truncate()
        started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        handle.write(f"`cdp {command}` (pid {os.getpid()}, started {started})")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)
