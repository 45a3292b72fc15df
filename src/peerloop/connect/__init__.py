"""The outside world (CalDAV, e-mail, busy-time feeds): imported only by the commands that connect."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from peerloop.errors import InputError

if TYPE_CHECKING:
    import ssl


def one_line(text: str) -> str:
    """A server's or a user's words fit for a one-line message: control characters and runs of space become
    one space."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def tls_context(ca_file: str | os.PathLike[str] | None) -> ssl.SSLContext:
    """Certificates and host names are always checked: with the system's CA store, or only the given file."""
    import ssl

    try:
        return ssl.create_default_context(cafile=ca_file)
    except OSError as error:  # ssl.SSLError is an OSError
        reason = error.strerror or str(error)
        raise InputError(
            f"cannot read the CA file {os.fspath(ca_file or '')!r} ({one_line(reason)}); "
            "give a PEM file holding the server's CA certificate"
        ) from None
