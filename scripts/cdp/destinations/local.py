"""A local folder: files appear by an atomic rename in their final folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from cdp.destinations.base import with_retries
from cdp.faults import checkpoint


def fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class LocalDestination:
    def __init__(self, folder: str):
        self.root = Path(folder).expanduser().resolve()
        self.url = str(self.root)

    def check(self) -> None:
        with_retries(self.url, "creating the folder",
                     lambda: self.root.mkdir(parents=True, exist_ok=True), (OSError,))

    def publish(self, local: Path, name: str) -> None:
        with_retries(self.url, f"writing {name}", lambda: self._publish(local, name), (OSError,))

    def _publish(self, local: Path, name: str) -> None:
        final = self.root / name
        final.parent.mkdir(parents=True, exist_ok=True)
        temporary = final.with_name(f".{final.name}.partial")
        temporary.unlink(missing_ok=True)
        if final.exists() and os.path.samefile(local, final):
            return   # published before an interruption: the very same file

        try:
            # Same file system: a hard link costs nothing and the staged file,
            # already synced, stays for a resumed export.
            os.link(local, temporary)
        except OSError:
            shutil.copyfile(local, temporary)
            with temporary.open("rb+") as handle:
                os.fsync(handle.fileno())
        checkpoint("uploaded-temporary")
        os.replace(temporary, final)
        fsync_directory(final.parent)

    def close(self) -> None:
        pass
