"""The roster as TOML tables and back; errors name the file and the line. Pure: `store.records` reads and
writes the file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from peerloop.core.models import (
    EARLIEST_DAY,
    LATEST_DAY,
    WEEKDAYS,
    Mode,
    Peer,
    Roster,
    Settings,
)
from peerloop.core.parse import values
from peerloop.errors import DataFileError
from peerloop.store.codecs.schema import SCHEMA_VERSION, upgraded
from peerloop.store.codecs.toml import Fields, dump_toml, line_of, moment, moments

ROSTER_HEADER = """\
# peerloop roster: your settings and the peers you meet, one a week.
# Hand edits are fine (run `peerloop doctor` after); peerloop rewrites this file, so comments are not kept.
"""


def roster_text(roster: Roster) -> str:
    return ROSTER_HEADER + dump_toml(roster_to_toml(roster))


def day_field(f: Fields, key: str, required: bool = False) -> dt.date | None:
    """A date within the years peerloop plans in (a date beyond them would break every later command)."""
    day = f.get(key, dt.date, required)
    if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
        f.fail(key, f"must be between {EARLIEST_DAY} and {LATEST_DAY}")
    return day


def _settings_from_toml(data: Any, path: Path, text: str) -> Settings:
    f = Fields(data, path, text, ("settings", None), "setting")
    name = f.parsed("name", values.clean_name, required=True)
    timezone = f.parsed("timezone", values.check_zone, required=True)
    weekday = f.parsed("weekday", values.parse_weekday, required=True)
    start = f.get("time", dt.time, required=True)
    duration = f.get("duration", int)
    duration = 45 if duration is None else duration
    if not 5 <= duration <= 24 * 60:
        f.fail("duration", "must be between 5 and 1440 minutes")
    mode = f.parsed("mode", values.parse_mode) or Mode.COFFEE
    trial_start = day_field(f, "trial_start", required=True)
    mode_times = _mode_times(f)
    trial_months = f.get("trial_months", int)
    trial_months = 6 if trial_months is None else trial_months
    if not 1 <= trial_months <= 24:
        f.fail("trial_months", "must be between 1 and 24")
    email = f.parsed("email", values.check_email)
    return Settings(
        name=f.required(name),
        timezone=f.required(timezone),
        weekday=f.required(weekday),
        time=f.required(start).replace(second=0, microsecond=0, tzinfo=None),
        duration=duration,
        mode=mode,
        trial_start=f.required(trial_start),
        trial_months=trial_months,
        email=email,
        mode_times=mode_times,
        stopped_on=day_field(f, "stopped_on"),
        changed=moment(f, "changed"),
        extra=f.extra(),
    )


def _mode_times(f: Fields) -> dict[Mode, dt.time]:
    """`coffee_time = 08:30`, `lunch_time = 12:30`, `call_time = 17:00`: each optional."""
    times = {}
    for mode in Mode:
        value = f.get(f"{mode.value}_time", dt.time)
        if value is not None:
            times[mode] = value.replace(second=0, microsecond=0, tzinfo=None)
    return times


def _settings_to_toml(settings: Settings) -> dict[str, Any]:
    return {
        "name": settings.name,
        "email": settings.email,
        "timezone": settings.timezone,
        "weekday": WEEKDAYS[settings.weekday],
        "time": settings.time,
        "duration": settings.duration,
        "mode": settings.mode.value,
        "trial_start": settings.trial_start,
        "trial_months": settings.trial_months,
        **{f"{mode.value}_time": settings.mode_times[mode] for mode in Mode if mode in settings.mode_times},
        "stopped_on": settings.stopped_on,
        "changed": settings.changed,
        **settings.extra,
    }


def _peer_from_toml(data: Any, index: int, path: Path, text: str) -> Peer:
    f = Fields(data, path, text, ("peers", index), f"peer #{index + 1}")
    name = f.required(f.parsed("name", values.clean_name, required=True))
    f.label = f"peer {name!r}"
    return Peer(
        name=name,
        added=f.required(day_field(f, "added", required=True)),
        email=f.parsed("email", values.check_email),
        org=f.get("org", str),
        mode=f.parsed("mode", values.parse_mode),
        note=f.get("note", str),
        paused_until=day_field(f, "paused_until"),
        formerly=f.text_list("formerly"),
        changed=moment(f, "changed"),
        extra=f.extra(),
    )


def _peer_to_toml(peer: Peer) -> dict[str, Any]:
    return {
        "name": peer.name,
        "email": peer.email,
        "org": peer.org,
        "mode": peer.mode.value if peer.mode else None,
        "note": peer.note,
        "added": peer.added,
        "paused_until": peer.paused_until,
        "formerly": list(peer.formerly) or None,
        "changed": peer.changed,
        **peer.extra,
    }


def roster_from_toml(data: dict[str, Any], text: str, path: Path) -> Roster:
    data = upgraded(data, path, "roster")
    settings = _settings_from_toml(data["settings"], path, text) if "settings" in data else None
    raw_peers = data.get("peers", [])
    if not isinstance(raw_peers, list):
        raise DataFileError(f"{path}: 'peers' must be written as [[peers]] tables; fix it by hand")
    peers = tuple(_peer_from_toml(item, n, path, text) for n, item in enumerate(raw_peers))
    seen: dict[str, int] = {}
    for n, peer in enumerate(peers):
        if peer.key in seen:
            line = line_of(text, ("peers", n), "name")
            raise DataFileError(
                f"{path} line {line}: peer {peer.name!r} is listed twice (names are unique whatever their case); "
                "remove or rename one by hand"
            )
        seen[peer.key] = n
    known = {"schema_version", "settings", "peers", "removed"}
    extra = {key: value for key, value in data.items() if key not in known}
    return Roster(
        settings=settings, peers=peers, removed=moments(data.get("removed"), path, "removed"), extra=extra
    )


def roster_to_toml(roster: Roster) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        **roster.extra,
        "settings": _settings_to_toml(roster.settings) if roster.settings else None,
        "peers": [_peer_to_toml(peer) for peer in roster.peers] or None,
        "removed": dict(sorted(roster.removed.items())) or None,
    }
