"""Quoting for the SQL the tool writes, and file checksums."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

from cdp.faults import checkpoint


def literal(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def identifier(name: str) -> str:
    """A quoted SQL identifier (keeps its case)."""
    return '"' + name.replace('"', '""') + '"'


def file_digest(path: Path, algorithm: str = "sha256") -> bytes:
    """The file's digest, read in chunks."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, algorithm).digest()


def sha256_file(path: Path) -> str:
    return file_digest(path).hex()


class GrowingFileHash:
    """The sha256 of a file another writer is appending to, read as it grows: DuckDB
    writes CSV and Parquet front to back, so the hash is ready when the write is,
    and the file is flushed to disk along the way. Call `finish()` once the writer
    has closed the file."""

    def __init__(self, path: Path):
        self.path = path
        self.digest = hashlib.sha256()
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
                    self.digest.update(chunk)
                    self.size += len(chunk)
                    if self.size % (64 << 20) < len(chunk):
                        # Start writing what is hashed to disk now, so that the
                        # final fsync has little left to wait for.
                        os.fdatasync(handle.fileno())
                elif self.written.is_set():
                    if not (rest := handle.read()):
                        return
                    self.digest.update(rest)
                    self.size += len(rest)
                else:
                    time.sleep(0.002)

    def finish(self) -> str:
        self.written.set()
        self.thread.join()
        if self.size != self.path.stat().st_size:   # never expected: rewritten in place
            return sha256_file(self.path)
        return self.digest.hexdigest()
