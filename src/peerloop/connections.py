"""The opt-in connections to the outside world, as `connections.toml` keeps them: a CalDAV calendar, an SMTP
server or a sendmail-compatible command, and busy-time feeds. Pure records and their TOML form.

No password is ever kept here: a connection names where its password comes from (a command, an
environment variable, or the system keyring), and `connect.secret` fetches it when a command needs it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from peerloop.errors import DataFileError
from peerloop.freetime import MeetingHours
from peerloop.models import WEEKDAYS

SECURITIES = ("starttls", "ssl", "none")
LOCAL_HOSTS = ("127.0.0.1", "::1", "localhost")


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
    """Where a meeting moved by busy time may land: meeting days and hours (wall time), and whether the
    summaries of busy events may be kept in the cache (to say why a meeting moved)."""

    days: frozenset[int] = frozenset(range(5))
    start: dt.time = dt.time(8, 0)
    end: dt.time = dt.time(18, 0)
    keep_summaries: bool = False

    def hours(self) -> MeetingHours:
        return MeetingHours(self.days, self.start, self.end)


class Connections(NamedTuple):
    caldav: CalDav | None = None
    smtp: Smtp | None = None
    sendmail: Sendmail | None = None
    busy: tuple[BusyFeed, ...] = ()
    free_time: FreeTime = FreeTime()
    extra: Mapping[str, Any] = {}


def _password_from(table: Mapping[str, Any]) -> PasswordSource:
    return PasswordSource(
        command=table.get("password_command"),
        env=table.get("password_env"),
        keyring=bool(table.get("keyring")),
    )


def _password_to(source: PasswordSource) -> dict[str, Any]:
    return {"password_command": source.command, "password_env": source.env, "keyring": source.keyring or None}


def _path(value: Any) -> Path | None:
    return Path(value) if isinstance(value, str) and value else None


def from_toml(data: Mapping[str, Any], path: Path) -> Connections:
    """The connections in `connections.toml`; a hand edit gone wrong is one line naming the table."""

    def table(name: str) -> Mapping[str, Any] | None:
        value = data.get(name)
        if value is not None and not isinstance(value, Mapping):
            raise DataFileError(
                f"{path}: [{name}] must be a table; fix it by hand or `peerloop disconnect {name}`"
            )
        return value

    def text(section: str, values: Mapping[str, Any], key: str, required: bool = True) -> Any:
        value = values.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            raise DataFileError(f"{path}: [{section}] '{key}' must be text in quotes; fix it by hand")
        return value

    connections = Connections(
        extra={
            k: v for k, v in data.items() if k not in {"schema_version", "caldav", "smtp", "sendmail", "busy"}
        }
    )
    caldav = table("caldav")
    if caldav is not None:
        connections = connections._replace(
            caldav=CalDav(
                text("caldav", caldav, "url"),
                text("caldav", caldav, "user"),
                _password_from(caldav),
                _path(caldav.get("ca_file")),
            )
        )
    smtp = table("smtp")
    if smtp is not None:
        port = smtp.get("port")
        security = smtp.get("security")
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            raise DataFileError(f"{path}: [smtp] 'port' must be a number from 1 to 65535; fix it by hand")
        if security not in SECURITIES:
            raise DataFileError(
                f"{path}: [smtp] 'security' must be one of {', '.join(SECURITIES)}; fix it by hand"
            )
        connections = connections._replace(
            smtp=Smtp(
                text("smtp", smtp, "host"),
                port,
                security,
                text("smtp", smtp, "user", required=False),
                _password_from(smtp),
                _path(smtp.get("ca_file")),
            )
        )
    sendmail = table("sendmail")
    if sendmail is not None:
        connections = connections._replace(sendmail=Sendmail(text("sendmail", sendmail, "command")))
    feeds = data.get("busy", [])
    if not isinstance(feeds, list) or not all(isinstance(feed, Mapping) for feed in feeds):
        raise DataFileError(f"{path}: 'busy' must be [[busy]] tables; fix it by hand")
    busy = tuple(BusyFeed(text("busy", feed, "source"), _path(feed.get("ca_file"))) for feed in feeds)
    return connections._replace(busy=busy, free_time=_free_time(table("free_time") or {}, path))


def _free_time(table: Mapping[str, Any], path: Path) -> FreeTime:
    days, start, end = (
        table.get("days", list(WEEKDAYS[:5])),
        table.get("start", dt.time(8)),
        table.get("end", dt.time(18)),
    )
    if not isinstance(days, list) or not days or not all(day in WEEKDAYS for day in days):
        raise DataFileError(
            f"{path}: [free_time] 'days' must be a list such as ['mon', 'tue']; fix it by hand"
        )
    if not isinstance(start, dt.time) or not isinstance(end, dt.time) or start >= end:
        raise DataFileError(
            f"{path}: [free_time] 'start' and 'end' must be times, start before end; fix it by hand"
        )
    return FreeTime(
        frozenset(WEEKDAYS.index(day) for day in days), start, end, bool(table.get("keep_summaries"))
    )


def to_toml(connections: Connections) -> dict[str, Any]:
    caldav, smtp = connections.caldav, connections.smtp
    return {
        **connections.extra,
        "caldav": {"url": caldav.url, "user": caldav.user, **_password_to(caldav.password),
                   "ca_file": str(caldav.ca_file) if caldav.ca_file else None} if caldav else None,
        "smtp": {"host": smtp.host, "port": smtp.port, "security": smtp.security, "user": smtp.user,
                 **_password_to(smtp.password), "ca_file": str(smtp.ca_file) if smtp.ca_file else None}
        if smtp else None,
        "sendmail": {"command": connections.sendmail.command} if connections.sendmail else None,
        "busy": [{"source": feed.source, "ca_file": str(feed.ca_file) if feed.ca_file else None}
                 for feed in connections.busy] or None,
        "free_time": None if connections.free_time == FreeTime() else {
            "days": [WEEKDAYS[day] for day in sorted(connections.free_time.days)],
            "start": connections.free_time.start, "end": connections.free_time.end,
            "keep_summaries": connections.free_time.keep_summaries or None,
        },
    }  # fmt: skip
