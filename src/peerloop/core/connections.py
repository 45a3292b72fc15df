"""The opt-in connections to the outside world, as `connections.toml` keeps them (`store.codecs.connections`).
No password is kept: a connection names where it comes from, and `connect.secrets` fetches it when needed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

SECURITIES = ("starttls", "ssl", "none")
"""How a mail connection is protected."""
LOCAL_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
"""The hosts plain http and an unencrypted mail server are allowed on: nothing crosses a network."""


def is_variable_name(name: str) -> bool:
    """A name an environment variable can have (letters, digits and _), checked before it is looked up."""
    return name.replace("_", "").isalnum()


class PasswordSource(NamedTuple):
    """Where a password comes from; at most one of the three is set (none: no login)."""

    command: str | None = None
    env: str | None = None
    keyring: bool = False

    @property
    def given(self) -> bool:
        return bool(self.command or self.env or self.keyring)

    def describe(self) -> str:
        if self.command:
            return f"from the command `{self.command}`"
        if self.env:
            return f"from ${self.env}"
        return "from the keyring" if self.keyring else "none"


class CalDav(NamedTuple):
    url: str
    user: str
    password: PasswordSource
    ca_file: Path | None = None


class Smtp(NamedTuple):
    host: str
    port: int
    security: str
    user: str | None
    password: PasswordSource
    ca_file: Path | None = None


class Sendmail(NamedTuple):
    command: str


class BusyFeed(NamedTuple):
    source: str
    """A file path or an https address (a calendar's "secret address")."""
    ca_file: Path | None = None


class FreeTime(NamedTuple):
    """Where a meeting moved by busy time may land: meeting days (0 = Monday) and hours (wall time in the
    leader's zone), and whether the summaries of busy events may be kept in the cache (to say why it moved)."""

    days: frozenset[int] = frozenset(range(5))
    start: dt.time = dt.time(8, 0)
    end: dt.time = dt.time(18, 0)
    keep_summaries: bool = False


class Connections(NamedTuple):
    caldav: CalDav | None = None
    smtp: Smtp | None = None
    sendmail: Sendmail | None = None
    busy: tuple[BusyFeed, ...] = ()
    free_time: FreeTime = FreeTime()
    extra: Mapping[str, Any] = MappingProxyType({})
    """Keys a newer peerloop wrote: kept as they are."""
