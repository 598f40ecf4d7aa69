"""The files the tool writes and sends: their checksums, and a file DuckDB is writing
followed as it grows."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

from cdp.faults import checkpoint


def file_digest(path: Path, algorithm: str = "sha256") -> bytes:
    """The file's digest, read in chunks."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, algorithm).digest()


def sha256_file(path: Path) -> str:
    return file_digest(path).hex()


class FollowedWrite:
    """Follows a file another writer (DuckDB's COPY) is writing: marks when the first
    bytes appear (the `copy-started` kill point) and starts writing what is written to
    disk along the way, so that the final fsync has little left to wait for. `finish()`
    returns the sha256 of the file once the writer has closed it, read again whole:
    DuckDB's parallel writer may fill a file out of order, so a hash taken as it grows
    can differ from the file (a manifest once listed such a hash)."""

    def __init__(self, path: Path):
        self.path = path
        self.size = 0
        self.written = threading.Event()
        self.thread = threading.Thread(target=self._follow, daemon=True)
        self.thread.start()

    def _follow(self) -> None:
        while not self.path.exists():
            if self.written.is_set():
                return
            time.sleep(0.002)
        with self.path.open("rb") as handle:
            while True:
                chunk = handle.read(1 << 22)
                if chunk:
                    if not self.size:
                        checkpoint("copy-started")
                    self.size += len(chunk)
                    if self.size % (64 << 20) < len(chunk):
                        os.fdatasync(handle.fileno())
                elif self.written.is_set():
                    return
                else:
                    time.sleep(0.002)

    def finish(self) -> str:
        self.written.set()
        self.thread.join()
        return sha256_file(self.path)
