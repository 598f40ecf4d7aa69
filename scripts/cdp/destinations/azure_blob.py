"""Azure Blob Storage, `az://<container>/<prefix>`, with the connection string from
AZURE_STORAGE_CONNECTION_STRING. A block blob becomes visible only when its block
list is committed, so a reader never sees part of a file. Every block is sent with
its MD5 (checked by the service), the blob's Content-MD5 is set, and the stored
MD5 and size are compared with the local file after the upload."""

from __future__ import annotations

import os
from pathlib import Path

from azure.core.exceptions import AzureError, ResourceExistsError
from azure.storage.blob import BlobServiceClient, ContainerClient, ContentSettings

from cdp.destinations.base import with_retries
from cdp.errors import CdpError
from cdp.faults import checkpoint
from cdp.files import file_digest

CONTENT_TYPES = {".csv": "text/csv", ".json": "application/json",
                 ".parquet": "application/vnd.apache.parquet"}


class UploadMismatch(AzureError):
    """The stored blob is not the file sent (retried like any transient error)."""


class AzureBlobDestination:
    def __init__(self, url: str):
        container, _, prefix = url.removeprefix("az://").partition("/")
        if not container:
            raise CdpError(f"{url}: name a container, as az://<container>/<prefix>")
        connection_string = os.environ.get("AZURE_STORAGE_CONNECTION_STRING")
        if not connection_string:
            raise CdpError(f"{url}: set AZURE_STORAGE_CONNECTION_STRING")
        self.url = url.rstrip("/")
        self.prefix = prefix.strip("/")
        # Retries are ours (with_retries), so that every operation has the same
        # policy and the final error names the destination.
        try:
            self.service = BlobServiceClient.from_connection_string(
                connection_string, retry_total=0, connection_timeout=10, read_timeout=120,
            )
        except ValueError as error:
            raise CdpError(f"{url}: AZURE_STORAGE_CONNECTION_STRING is malformed "
                           f"({error})") from None
        self.container: ContainerClient = self.service.get_container_client(container)
        self.container_ready = False

    def check(self) -> None:
        with_retries(self.url, "reaching the container", self._ensure_container,
                     (AzureError, OSError))

    def _ensure_container(self) -> None:
        if not self.container_ready:
            try:
                self.container.create_container()
            except ResourceExistsError:
                pass
            self.container_ready = True

    def publish(self, local: Path, name: str) -> None:
        md5 = file_digest(local, "md5")
        with_retries(self.url, f"uploading {name}", lambda: self._upload(local, name, md5),
                     (AzureError, OSError))

    def _upload(self, local: Path, name: str, md5: bytes) -> None:
        self._ensure_container()
        blob_name = f"{self.prefix}/{name}" if self.prefix else name
        blob = self.container.get_blob_client(blob_name)
        settings = ContentSettings(
            content_type=CONTENT_TYPES.get(local.suffix, "application/octet-stream"),
            content_md5=bytearray(md5),
        )
        with local.open("rb") as handle:
            blob.upload_blob(handle, overwrite=True, content_settings=settings,
                             validate_content=True, max_concurrency=2)
        checkpoint("uploaded-temporary")
        stored = blob.get_blob_properties()
        if bytes(stored.content_settings.content_md5 or b"") != md5 or \
                stored.size != local.stat().st_size:
            raise UploadMismatch(f"{blob_name}: stored MD5 or size differs from the file sent")

    def close(self) -> None:
        self.service.close()
