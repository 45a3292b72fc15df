"""The outside world (CalDAV, e-mail, busy-time feeds): imported only by the commands that connect."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from peerloop.errors import InputError
from peerloop.inert import one_line

if TYPE_CHECKING:
    import ssl


def host_of(url: str) -> str:
    """host[:port] of an address, never its user name or password; "the server" when it has none."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    return (f"{host}:{port}" if port is not None else host) or "the server"


def redacted(url: str, keep_path: bool = False) -> str:
    """An address as messages show it: never a user name or password, and (unless `keep_path`: a calendar's
    path is no secret) `scheme://host/...` only, since a feed's secret address carries its token in the path.
    A file path is shown as it is."""
    parts = urlsplit(url)
    if "://" not in url or not parts.scheme or parts.scheme.lower() == "file":
        return url
    if keep_path:
        return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
    rest = "/..." if parts.path.strip("/") or parts.query or parts.fragment else ""
    return f"{parts.scheme.lower()}://{host_of(url)}{rest}"


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


def calendar_fields(text: str) -> dict[str, str]:
    """METHOD and the first UID and SEQUENCE of an iCalendar text, read from its unfolded lines (RFC 5545),
    without importing icalendar."""
    from peerloop.core.calendar.reconcile import unfolded_lines

    found: dict[str, str] = {}
    for line in unfolded_lines(text):
        head, colon, value = line.partition(":")
        key = head.partition(";")[0].upper()
        if colon and key in ("METHOD", "UID", "SEQUENCE") and key not in found:
            found[key] = value.strip()
    return found
