"""SFTP, `sftp://<user>@<host>[:port]/<path>`. Credentials come from the
environment: CDP_SFTP_PASSWORD, or CDP_SFTP_KEY_FILE (with CDP_SFTP_KEY_PASSPHRASE
if the key has one). The server's host key must be in CDP_SFTP_KNOWN_HOSTS (default
~/.ssh/known_hosts): an unknown host is refused. A file is uploaded under a
temporary name, its size checked, then renamed over its final name."""

from __future__ import annotations

import os
import posixpath
import socket
import stat
from pathlib import Path
from urllib.parse import unquote, urlsplit

import paramiko

from cdp.destinations.base import with_retries
from cdp.errors import CdpError
from cdp.faults import checkpoint

TRANSIENT = (OSError, EOFError, paramiko.SSHException)


class RefuseUnknownHost(paramiko.MissingHostKeyPolicy):
    def __init__(self, destination: SftpDestination):
        self.destination = destination

    def missing_host_key(self, client, hostname, key) -> None:
        raise CdpError(f"{self.destination.url}: the host key of {hostname} is not in "
                       f"{self.destination.known_hosts}; add it (ssh-keyscan) first")


class SftpDestination:
    def __init__(self, url: str):
        parts = urlsplit(url)
        if not parts.hostname or not parts.username:
            raise CdpError(f"{url}: use sftp://<user>@<host>[:port]/<path>")
        try:
            port = parts.port or 22
        except ValueError:
            port = 0
        if not 1 <= port <= 65535:
            raise CdpError(f"{url}: the port must be a number from 1 to 65535")
        self.url = url.rstrip("/")
        self.host, self.port = parts.hostname, port
        self.user = unquote(parts.username)
        self.root = unquote(parts.path) or "."
        self.password = os.environ.get("CDP_SFTP_PASSWORD")
        self.key_file = os.environ.get("CDP_SFTP_KEY_FILE")
        if not self.password and not self.key_file:
            raise CdpError(f"{url}: set CDP_SFTP_PASSWORD or CDP_SFTP_KEY_FILE")
        self.known_hosts = Path(os.environ.get(
            "CDP_SFTP_KNOWN_HOSTS", Path.home() / ".ssh" / "known_hosts"))
        self.client: paramiko.SSHClient | None = None
        self.sftp: paramiko.SFTPClient | None = None
        self.folders: set[str] = set()

    def _connect(self) -> paramiko.SFTPClient:
        if self.sftp is None:
            client = paramiko.SSHClient()
            if self.known_hosts.exists():
                client.load_host_keys(str(self.known_hosts))
            client.set_missing_host_key_policy(RefuseUnknownHost(self))
            try:
                client.connect(
                    self.host, port=self.port, username=self.user, password=self.password,
                    key_filename=self.key_file,
                    passphrase=os.environ.get("CDP_SFTP_KEY_PASSPHRASE"),
                    timeout=10, banner_timeout=10, auth_timeout=10,
                    allow_agent=False, look_for_keys=False,
                )
            # Not worth a retry: the server is not who it should be, or refuses us.
            except paramiko.BadHostKeyException as error:
                raise CdpError(f"{self.url}: the server's host key does not match "
                               f"{self.known_hosts}: {error}") from error
            except paramiko.AuthenticationException as error:
                raise CdpError(f"{self.url}: authentication failed: {error}") from error
            self.client, self.sftp = client, client.open_sftp()
            self.sftp.get_channel().settimeout(60)
        return self.sftp

    def _disconnect(self) -> None:
        if self.client is not None:
            self.client.close()
        self.client = self.sftp = None
        self.folders.clear()

    def _makedirs(self, sftp: paramiko.SFTPClient, folder: str) -> None:
        if folder in self.folders or folder in ("", "/", "."):
            return
        try:
            if not stat.S_ISDIR(sftp.stat(folder).st_mode):
                raise CdpError(f"{self.url}: {folder} is not a folder")
        except FileNotFoundError:
            self._makedirs(sftp, posixpath.dirname(folder))
            try:
                sftp.mkdir(folder)
            except OSError:
                if not stat.S_ISDIR(sftp.stat(folder).st_mode):
                    raise
        self.folders.add(folder)

    def check(self) -> None:
        with_retries(self.url, "connecting", lambda: self._makedirs(self._connect(), self.root),
                     TRANSIENT + (socket.timeout,), on_failure=self._disconnect)

    def publish(self, local: Path, name: str) -> None:
        with_retries(self.url, f"uploading {name}", lambda: self._upload(local, name),
                     TRANSIENT + (socket.timeout,), on_failure=self._disconnect)

    def _upload(self, local: Path, name: str) -> None:
        sftp = self._connect()
        final = posixpath.join(self.root, name)
        folder, base = posixpath.split(final)
        self._makedirs(sftp, folder)
        temporary = posixpath.join(folder, f".{base}.partial")
        # put() checks the uploaded size against the local file.
        sftp.put(str(local), temporary, confirm=True)
        checkpoint("uploaded-temporary")
        sftp.posix_rename(temporary, final)

    def close(self) -> None:
        self._disconnect()
