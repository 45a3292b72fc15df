"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the mail tests: plain, STARTTLS, implicit TLS, a required
login, and recipients it rejects. It keeps what it received, and it is always stopped."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.servers import self_signed_certificate

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for 127.0.0.1; `cert` is also the CA file a client must be given."""

    cert: Path
    key: Path


@dataclass
class MailServer:
    host: str
    port: int
    received: list[Received] = field(default_factory=list)


def make_certificate(folder: Path) -> Certificate:
    """The same self-signed certificate the CalDAV servers use (`servers.self_signed_certificate`)."""
    return Certificate(*self_signed_certificate(folder))


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


class _Handler:
    def __init__(self, received: list[Received], reject: set[str]) -> None:
        self.received = received
        self.reject = reject

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address.lower() in self.reject:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), content))
        return "250 2.0.0 Message accepted for delivery"


class _Login:
    """A careless server: its refusal echoes the password it was given, so that the tests prove peerloop's
    error line never shows it."""

    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user.encode(), password.encode()

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        given = (data.login, data.password) if isinstance(data, LoginPassword) else (b"", b"")
        if given == (self.user, self.password):
            return AuthResult(success=True)
        said = f"535 5.7.8 Authentication failed for {given[0].decode()} with password {given[1].decode()}"
        return AuthResult(success=False, handled=False, message=said)


@contextmanager
def smtp_server(
    *,
    certificate: Certificate | None = None,
    implicit_tls: bool = False,
    login: tuple[str, str] | None = None,
    reject: Iterable[str] = (),
) -> Iterator[MailServer]:
    """With a certificate the server offers (and requires) STARTTLS, or speaks TLS from the first byte with
    `implicit_tls`; with `login` it takes mail only after AUTH LOGIN/PLAIN, which it offers only over TLS."""
    server = MailServer(HOST, free_port())
    tls: ssl.SSLContext | None = None
    if certificate is not None:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(certificate.cert, certificate.key)
    options: dict[str, Any] = {}
    if tls is not None and not implicit_tls:
        options.update(tls_context=tls, require_starttls=True)
    if login is not None:
        options.update(auth_required=True, authenticator=_Login(*login))
    controller = Controller(
        _Handler(server.received, {address.lower() for address in reject}),
        hostname=HOST,
        port=server.port,
        ready_timeout=10,
        ssl_context=tls if implicit_tls else None,
        server_hostname="mail.test",
        **options,
    )
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
