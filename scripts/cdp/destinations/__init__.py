"""Where exports go: a local folder, Azure Blob Storage (`az://container/prefix`) or
an SFTP server (`sftp://user@host[:port]/path`), behind one small interface.

A destination publishes a finished local file under a name relative to its root, so
that no consumer ever sees it half-written: rename after writing (local folder,
SFTP), or a blob whose blocks are committed at once. Publishing the same file again
under the same name is harmless, which is what makes an interrupted export safe to
finish later. Transient errors are retried with backoff; the last one names the
destination.
"""

from __future__ import annotations

from cdp.destinations.base import Destination, DestinationError, with_retries
from cdp.errors import CdpError

__all__ = ["Destination", "DestinationError", "open_destination", "with_retries"]


def open_destination(url: str) -> Destination:
    if url.startswith("az://"):
        from cdp.destinations.azure_blob import AzureBlobDestination
        return AzureBlobDestination(url)
    if url.startswith("sftp://"):
        from cdp.destinations.sftp import SftpDestination
        return SftpDestination(url)
    if "://" in url and not url.startswith("file://"):
        raise CdpError(f"unknown destination {url}: use a folder, az://... or sftp://...")
    from cdp.destinations.local import LocalDestination
    return LocalDestination(url.removeprefix("file://"))
