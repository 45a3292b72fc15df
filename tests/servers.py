"""Real CalDAV servers for tests: Radicale and Xandikos on 127.0.0.1, free ports, temp storage, always stopped.

Use the context managers (`with radicale(tmp_path) as server:`) from any test file; each yields a `Server`
that knows its user, password, optional CA file, how to make a calendar and how to stop mid-test.
Radicale runs with HTTP basic auth from an htpasswd file and owner-only rights, so calendar URLs start with
the user name; `tls=True` serves HTTPS with a self-signed certificate (Radicale's own ssl options).
Xandikos only offers basic auth together with HTTPS (its `--htpasswd` requires `--autocert`), so it always
serves HTTPS; the certificate is made here with the `openssl` CLI and handed to `--autocert` as the one it
would have generated, because Xandikos' own generator needs the `cryptography` package.
`sparse_dav()` is a fake in a thread, for the fallbacks real servers never need: no ETags, no free-busy
report, HTTP 500, broken XML.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

START_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0
USER = "alice"
PASSWORD = "s3cret-Pa55"
_CALDAV = "urn:ietf:params:xml:ns:caldav"


@dataclass
class Server:
    """A running server; `stop()` may be called mid-test, and is called again (harmlessly) at the end."""

    kind: str
    base_url: str
    user: str
    password: str
    ca_file: Path | None
    process: subprocess.Popen[bytes]
    log: Path
    home_path: str = field(default="")

    def calendar_url(self, name: str) -> str:
        """The URL of a calendar collection of the user (it need not exist)."""
        return f"{self.base_url}{self.home_path}{name}/"

    def make_calendar(self, name: str | None = None) -> str:
        """MKCALENDAR a fresh collection and return its URL (tests use one calendar each)."""
        url = self.calendar_url(name or f"cal-{uuid.uuid4().hex[:8]}")
        status = self.request("MKCALENDAR", url)
        if status != 201:
            raise RuntimeError(f"MKCALENDAR {url} answered {status}")
        return url

    def request(self, method: str, url: str, body: bytes = b"", headers: dict[str, str] | None = None) -> int:
        """One authenticated request with the standard library only, independent of the code under test."""
        parts = urlsplit(url)
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        all_headers = {"Authorization": f"Basic {token}", **(headers or {})}
        conn: http.client.HTTPConnection
        if parts.scheme == "https":
            context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
            conn = http.client.HTTPSConnection(parts.hostname or "", parts.port, context=context, timeout=10)
        else:
            conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
        try:
            conn.request(method, parts.path, body=body, headers=all_headers)
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()

    def stop(self) -> None:
        """Stop the server now (for "server stopped mid-sync" tests); a second call does nothing."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)


def free_port() -> int:
    """A port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost (subjectAltNames) and its key, made with the openssl CLI.

    It is valid for 400 days because Xandikos replaces a certificate that expires within 30 days.
    """
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("the openssl command is needed to make a test certificate")
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "selfsigned.crt", folder / "selfsigned.key"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "400", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return cert, key


def _wait_until_listening(server: Server, port: int) -> None:
    """Bounded wait for the port to accept connections; a server that died says why."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.kind} exited at start:\n{server.log.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"{server.kind} did not listen within {START_TIMEOUT} s")


@contextmanager
def _running(server: Server, port: int) -> Iterator[Server]:
    try:
        _wait_until_listening(server, port)
        yield server
    finally:
        server.stop()


@contextmanager
def radicale(folder: Path, *, tls: bool = False, port: int | None = None) -> Iterator[Server]:
    """Radicale 3 with basic auth (plain htpasswd) and owner-only rights; `port` restarts on the same one."""
    folder.mkdir(parents=True, exist_ok=True)
    htpasswd = folder / "htpasswd"
    htpasswd.write_text(f"{USER}:{PASSWORD}\n")
    port = port or free_port()
    args = [sys.executable, "-m", "radicale", "--config", "", "--server-hosts", f"127.0.0.1:{port}",
            "--storage-filesystem-folder", str(folder / "storage"), "--auth-type", "htpasswd",
            "--auth-htpasswd-filename", str(htpasswd),
            "--auth-htpasswd-encryption", "plain",
            "--auth-delay", "0", "--rights-type", "owner_only", "--web-type", "none",
            "--logging-level", "warning"]  # fmt: skip
    ca_file = None
    if tls:
        ca_file, key = self_signed_certificate(folder / "certs")
        args += ["--server-ssl", "True", "--server-certificate", str(ca_file), "--server-key", str(key)]
    log = folder / "radicale.log"
    with log.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    scheme = "https" if tls else "http"
    server = Server("radicale", f"{scheme}://127.0.0.1:{port}", USER, PASSWORD, ca_file, process, log,
                    home_path=f"/{USER}/")  # fmt: skip
    with _running(server, port) as running:
        yield running


@contextmanager
def xandikos(folder: Path, *, port: int | None = None) -> Iterator[Server]:
    """Xandikos over HTTPS (self-signed, see the module docstring) with basic auth from an {SHA} htpasswd.

    Called again on the same folder (and `port`), it serves the same calendars with the same certificate.
    """
    folder.mkdir(parents=True, exist_ok=True)
    certs = folder / "state" / "certs"
    ca_file = certs / "selfsigned.crt"
    if not ca_file.exists():
        self_signed_certificate(certs)
    sha = base64.b64encode(hashlib.sha1(PASSWORD.encode()).digest()).decode()
    htpasswd = folder / "htpasswd"
    htpasswd.write_text(f"{USER}:{{SHA}}{sha}\n")
    port = port or free_port()
    args = [sys.executable, "-m", "xandikos", "serve", "-d", str(folder / "storage"),
            "--state-dir", str(folder / "state"), "-l", "127.0.0.1", "-p", str(port), "--autocert",
            "--htpasswd", str(htpasswd), "--current-user-principal", f"/{USER}/", "--autocreate",
            "--no-detect-systemd"]  # fmt: skip
    log = folder / "xandikos.log"
    with log.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    server = Server("xandikos", f"https://127.0.0.1:{port}", USER, PASSWORD, ca_file, process, log,
                    home_path=f"/{USER}/calendars/")  # fmt: skip
    with _running(server, port) as running:
        yield running


# --- a minimal server that leaves out what the real ones send -----------------------------------------------------


class SparseDAV(BaseHTTPRequestHandler):
    """A calendar at /cal/ whose server sends no ETag with a PUT or a REPORT, offers no free-busy report,
    fails PUTs of events whose UID contains "boom" with HTTP 500, and answers /broken/ with broken XML."""

    events: ClassVar[dict[str, bytes]] = {}

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test output is for the tests."""

    def _answer(self, status: int, body: bytes = b"", content_type: str = "application/xml") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _multistatus(self, parts: list[str]) -> None:
        self._answer(
            207,
            f'<D:multistatus xmlns:D="DAV:" xmlns:C="{_CALDAV}">{"".join(parts)}</D:multistatus>'.encode(),
        )

    def do_PROPFIND(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/broken/":
            self._answer(207, b"<html><body>Welcome", "text/xml")
        elif self.path == "/cal/" and self.headers["Depth"] == "0":
            prop = "<D:resourcetype><D:collection/><C:calendar/></D:resourcetype>"
            self._multistatus([f"<D:response><D:href>/cal/</D:href>{_ok(prop)}</D:response>"])
        elif self.path == "/cal/":
            self._multistatus([_etag_response(href, body) for href, body in self.events.items()])
        elif self.path in self.events:
            self._multistatus([_etag_response(self.path, self.events[self.path])])
        else:
            self._answer(404)

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if b"boom" in body:
            self._answer(500)
            return
        self.events[self.path] = body
        self._answer(201)

    def do_REPORT(self) -> None:
        query = self.rfile.read(int(self.headers["Content-Length"]))
        if b"free-busy-query" in query:
            self._answer(501)
            return
        data = "<C:calendar-data>{}</C:calendar-data>"
        self._multistatus([f"<D:response><D:href>{href}</D:href>{_ok(data.format(body.decode()))}</D:response>"
                           for href, body in self.events.items()])  # fmt: skip


def _ok(prop: str) -> str:
    return f"<D:propstat><D:prop>{prop}</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>"


def _etag_response(href: str, body: bytes) -> str:
    return f"<D:response><D:href>{href}</D:href>{_ok(f'<D:getetag>&quot;{len(body)}&quot;</D:getetag>')}</D:response>"


@contextmanager
def sparse_dav() -> Iterator[str]:
    """A SparseDAV server in a thread of this process (no auth, plain HTTP); yields its base URL."""
    SparseDAV.events = {}
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), SparseDAV)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def read_back(calendar: Any, href: str) -> tuple[bytes, str]:
    """An event as the server stores it, and its ETag, through python-caldav's client (not peerloop's)."""
    from urllib.parse import urljoin

    response = calendar.client.request(urljoin(calendar.url, href), "GET")
    assert response.status == 200, response.status
    return str(response.raw).encode("utf-8"), response.headers.get("ETag", "")
