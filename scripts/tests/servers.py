"""Real servers for the export tests, on 127.0.0.1: Azurite (the Azure Blob Storage
emulator, from the repository's npm lock) and an SFTP server (asyncssh, in this
process, rooted in a folder). Both can be stopped and started again on the same port,
keeping what they stored, and the SFTP server can be told to refuse uploads."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import threading
import time
from pathlib import Path

import asyncssh

from cdp.project import project_dir

ACCOUNT = "devstoreaccount1"
# The emulator's published development key (not a secret).
ACCOUNT_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"
               "K1SZFPTOtr/KBHBeksoGMGw==")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


class Azurite:
    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def connection_string(self) -> str:
        return (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
                f"BlobEndpoint=http://127.0.0.1:{self.port}/{ACCOUNT};")

    def start(self) -> None:
        executable = project_dir() / "node_modules" / ".bin" / "azurite-blob"
        if not executable.exists():
            raise RuntimeError(f"{executable} is missing: run `npm ci` (make test does)")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [str(executable), "--blobHost", "127.0.0.1", "--blobPort", str(self.port),
             "--location", str(self.folder), "--skipApiVersionCheck", "--loose",
             "--disableTelemetry"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


class SftpServer:
    """asyncssh in a thread of its own; one user, with a password or a key."""

    user, password = "exporter", "test-only-password"

    def __init__(self, root: Path):
        self.root = root
        self.port = free_port()
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.client_key = asyncssh.generate_private_key("ssh-ed25519")
        self.refuse_uploads_after: int | None = None   # uploads allowed, then refusals
        self.uploads = 0
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.listener = None
        self.connections: set = set()

    def known_hosts(self, path: Path) -> Path:
        public = self.host_key.export_public_key().decode().strip()
        path.write_text(f"[127.0.0.1]:{self.port} {public}\n")
        return path

    def environment(self, folder: Path, with_key: bool = False) -> dict[str, str]:
        """What `cdp export` needs to reach this server: a password, or a key file."""
        known_hosts = {"CDP_SFTP_KNOWN_HOSTS": str(self.known_hosts(folder / "known_hosts"))}
        if not with_key:
            return {"CDP_SFTP_PASSWORD": self.password, **known_hosts}
        key_file = folder / "id_ed25519"
        key_file.write_bytes(self.client_key.export_private_key("openssh"))
        key_file.chmod(0o600)
        return {"CDP_SFTP_KEY_FILE": str(key_file), **known_hosts}

    @property
    def url(self) -> str:
        return f"sftp://{self.user}@127.0.0.1:{self.port}/exports"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        server = self

        class Sftp(asyncssh.SFTPServer):
            def __init__(self, channel):
                super().__init__(channel, chroot=str(server.root).encode())

            def open(self, path, pflags, attrs):
                if pflags & asyncssh.FXF_WRITE:
                    if server.refuse_uploads_after is not None and \
                            server.uploads >= server.refuse_uploads_after:
                        raise asyncssh.SFTPFailure("the server refuses uploads")
                    server.uploads += 1
                return super().open(path, pflags, attrs)

        class Auth(asyncssh.SSHServer):
            def connection_made(self, connection):
                server.connections.add(connection)

            def connection_lost(self, exc):
                server.connections = {c for c in server.connections if not c.is_closed()}

            def begin_auth(self, username):
                return True

            def password_auth_supported(self):
                return True

            def validate_password(self, username, password):
                return username == server.user and password == server.password

            def public_key_auth_supported(self):
                return True

            def validate_public_key(self, username, key):
                return username == server.user and \
                    key.export_public_key() == server.client_key.export_public_key()

        async def listen():
            return await asyncssh.listen(
                "127.0.0.1", self.port, server_host_keys=[self.host_key],
                server_factory=Auth, sftp_factory=Sftp, allow_scp=False,
            )

        self.listener = asyncio.run_coroutine_threadsafe(listen(), self.loop).result(10)

    def stop(self) -> None:
        if self.listener is not None:
            async def close():
                self.listener.close()
                await self.listener.wait_closed()
                # Stopping means the connections in use go too, mid-upload or not.
                for connection in list(self.connections):
                    connection.abort()
                self.connections.clear()
            asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
            self.listener = None

    def shutdown(self) -> None:
        self.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class InsightApiServer:
    """Insight's contact-data management API as its documentation shapes it, on
    127.0.0.1: `POST /admin/v1/access-keys/issue-access-token` ({"AccessKey"} →
    {"access_token", "token_type", "expires_in"}) and `POST /analytics/v1/contacts/
    delete-requests` (Authorization: Bearer, x-dataintelligence-datacenterkey, a JSON
    array of {"Subject", "DataSource"} → 200 DeleteContactRequest {"Id", "Status",
    "CreatedOn"}; 400/412 for a bad body, 401 for a bad token, 403 for a bad data
    center key, as GeneralErrorResponse {"code", "message"}).

    `fail_next` queues status codes to answer the next delete requests with (0:
    answer as usual)."""

    ACCESS_KEY = "test-access-key"
    DATACENTER_KEY = "c27aeeb7-d222-d848-d8bf-9792485dafa9"

    def __init__(self):
        from http.server import ThreadingHTTPServer

        self.requests: list[dict] = []      # accepted delete requests
        self.fail_next: list[int] = []
        self.tokens_issued = 0
        self.expire_after = None           # delete requests a token is good for
        self.token_uses = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def environment(self, access_key: str | None = None) -> dict[str, str]:
        return {"CDP_INSIGHT_ACCESS_KEY": access_key or self.ACCESS_KEY,
                "CDP_INSIGHT_DATACENTER_KEY": self.DATACENTER_KEY}

    def handler(self):
        import json
        from http.server import BaseHTTPRequestHandler

        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def answer(self, code: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def error(self, code: int, message: str) -> None:
                self.answer(code, {"code": code, "message": message})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                try:
                    body = json.loads(self.rfile.read(length) or b"null")
                except json.JSONDecodeError:
                    return self.error(412, "The provided JSON is invalid or empty.")
                if self.path == "/admin/v1/access-keys/issue-access-token":
                    if not isinstance(body, dict) or body.get("AccessKey") != api.ACCESS_KEY:
                        return self.error(401, "Invalid access key.")
                    api.tokens_issued += 1
                    api.token_uses = 0
                    return self.answer(200, {"access_token": f"token-{api.tokens_issued}",
                                             "token_type": "bearer", "expires_in": "3600"})
                if self.path != "/analytics/v1/contacts/delete-requests":
                    return self.error(404, "Not found.")
                if self.headers.get("Authorization") != f"Bearer token-{api.tokens_issued}" \
                        or (api.expire_after is not None and api.token_uses >= api.expire_after):
                    return self.error(401, "Unauthorized")
                api.token_uses += 1
                if self.headers.get("x-dataintelligence-datacenterkey") != api.DATACENTER_KEY:
                    return self.error(403, "Invalid API key.")
                code = api.fail_next.pop(0) if api.fail_next else 0
                if code:
                    return self.error(code, f"Failure {code} on purpose.")
                if not isinstance(body, list) or not body:
                    return self.error(412, "The provided JSON is invalid or empty.")
                if any(not isinstance(s, dict) or set(s) != {"Subject", "DataSource"}
                       for s in body):
                    return self.error(400, "An invalid property is provided in the JSON.")
                request = {"Id": len(api.requests) + 83, "Status": "Pending",
                           "CreatedOn": "2026-06-03T10:00:00Z", "TargetSubjects": body}
                api.requests.append(request)
                return self.answer(200, {k: v for k, v in request.items()
                                         if k != "TargetSubjects"})

        return Handler

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
