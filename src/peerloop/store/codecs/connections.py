"""connections.toml as records and back, every value checked; an error names the file, the line, the key and
what to write instead."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from peerloop.core.connections import (
    SECURITIES,
    BusyFeed,
    CalDav,
    Connections,
    FreeTime,
    PasswordSource,
    Sendmail,
    Smtp,
    is_variable_name,
)
from peerloop.core.models import WEEKDAYS
from peerloop.errors import DataFileError
from peerloop.store.codecs.schema import SCHEMA_VERSION, upgraded
from peerloop.store.codecs.toml import Fields, dump_toml, parse

NONE = Connections()
KINDS = ("caldav", "smtp", "sendmail", "busy")
_KNOWN = {"schema_version", *KINDS, "free_time"}


def _fields(data: Any, path: Path, text: str, table: str, index: int | None = None) -> Fields:
    kind = table if table in KINDS else "busy"
    label = f"[{table}]" if index is None else f"[[{table}]] #{index + 1}"
    return Fields(data, path, text, (table, index), label, f"or forget it with `peerloop disconnect {kind}`")


def _text(f: Fields, key: str, required: bool = False) -> str | None:
    value = f.get(key, str, required)
    if value is not None and not value.strip():
        f.fail(key, "is empty")
    return value


def _password(f: Fields) -> PasswordSource:
    command, env = _text(f, "password_command"), _text(f, "password_env")
    if env is not None and not is_variable_name(env):
        f.fail(
            "password_env", "must be the name of an environment variable", 'password_env = "CALDAV_PASSWORD"'
        )
    source = PasswordSource(command=command, env=env, keyring=bool(f.get("keyring", bool)))
    if sum((bool(command), bool(env), source.keyring)) > 1:
        f.fail(
            None, "names more than one password source (password_command, password_env, keyring): keep one"
        )
    return source


def _ca_file(f: Fields) -> Path | None:
    value = _text(f, "ca_file")
    return Path(value) if value else None


def _caldav(f: Fields) -> CalDav:
    url, user = f.required(_text(f, "url", required=True)), f.required(_text(f, "user", required=True))
    if not url.startswith(("https://", "http://")):
        f.fail("url", "must be an https:// address")
    return CalDav(url, user, _password(f), _ca_file(f))


def _smtp(f: Fields) -> Smtp:
    host = f.required(_text(f, "host", required=True))
    port = f.required(f.get("port", int, required=True))
    security = f.required(f.get("security", str, required=True))
    if not 0 < port < 65536:
        f.fail("port", "must be a number from 1 to 65535", "port = 587")
    if security not in SECURITIES:
        f.fail("security", f"must be one of {', '.join(SECURITIES)}", 'security = "starttls"')
    return Smtp(host, port, security, _text(f, "user"), _password(f), _ca_file(f))


def _free_time(f: Fields) -> FreeTime:
    days = f.text_list("days") or WEEKDAYS[:5]
    if any(day not in WEEKDAYS for day in days):
        f.fail(
            "days", "must list weekdays such as 'mon', 'tue'", 'days = ["mon", "tue", "wed", "thu", "fri"]'
        )
    start = f.get("start", dt.time) or dt.time(8)
    end = f.get("end", dt.time) or dt.time(18)
    if start >= end:
        f.fail("end", "must be after 'start'", "end = 18:00:00")
    return FreeTime(
        frozenset(WEEKDAYS.index(day) for day in days), start, end, bool(f.get("keep_summaries", bool))
    )


def from_toml(text: str, path: Path) -> Connections:
    """The connections in `connections.toml`'s text."""
    return connections_from_toml(parse(text, path), text, path)


def connections_from_toml(data: dict[str, Any], text: str, path: Path) -> Connections:
    """The connections in `connections.toml`'s tables (`text` for the lines errors point at)."""
    data = upgraded(data, path, "connections")
    found = Connections(extra={key: value for key, value in data.items() if key not in _KNOWN})
    if "caldav" in data:
        found = found._replace(caldav=_caldav(_fields(data["caldav"], path, text, "caldav")))
    if "smtp" in data:
        found = found._replace(smtp=_smtp(_fields(data["smtp"], path, text, "smtp")))
    if "sendmail" in data:
        command = _text(_fields(data["sendmail"], path, text, "sendmail"), "command", required=True)
        found = found._replace(sendmail=Sendmail(command or ""))
    feeds = data.get("busy", [])
    if not isinstance(feeds, list):
        raise DataFileError(f"{path}: 'busy' must be written as [[busy]] tables; fix it by hand")
    busy = []
    for n, item in enumerate(feeds):
        f = _fields(item, path, text, "busy", n)
        busy.append(BusyFeed(_text(f, "source", required=True) or "", _ca_file(f)))
    free_time = (
        _free_time(_fields(data["free_time"], path, text, "free_time")) if "free_time" in data else FreeTime()
    )
    return found._replace(busy=tuple(busy), free_time=free_time)


def _password_to(source: PasswordSource) -> dict[str, Any]:
    return {"password_command": source.command, "password_env": source.env, "keyring": source.keyring or None}


def _path_to(path: Path | None) -> str | None:
    return str(path) if path else None


def to_toml(connections: Connections) -> str:
    caldav, smtp, free = connections.caldav, connections.smtp, connections.free_time
    return dump_toml({
        "schema_version": SCHEMA_VERSION,
        **connections.extra,
        "caldav": {"url": caldav.url, "user": caldav.user, **_password_to(caldav.password),
                   "ca_file": _path_to(caldav.ca_file)} if caldav else None,
        "smtp": {"host": smtp.host, "port": smtp.port, "security": smtp.security, "user": smtp.user,
                 **_password_to(smtp.password), "ca_file": _path_to(smtp.ca_file)} if smtp else None,
        "sendmail": {"command": connections.sendmail.command} if connections.sendmail else None,
        "busy": [{"source": feed.source, "ca_file": _path_to(feed.ca_file)} for feed in connections.busy] or None,
        "free_time": None if free == FreeTime() else {
            "days": [WEEKDAYS[day] for day in sorted(free.days)], "start": free.start, "end": free.end,
            "keep_summaries": free.keep_summaries or None,
        },
    })  # fmt: skip
