"""Two versions of calendar.toml, or of connections.toml, made one, as the tables they are.

calendar.toml merges by event UID, keeping the higher SEQUENCE: both devices sync one CalDAV calendar (the
home id, so the UIDs, are shared) without duplicates and never send a SEQUENCE lower than one already sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, NamedTuple

from peerloop.core.calendar.freshness import KEY as PUBLISHED
from peerloop.core.calendar.reconcile import KEY as CALDAV
from peerloop.core.calendar.series import INVITED

_NEVER = dt.datetime.min.replace(tzinfo=dt.UTC)


class Merged(NamedTuple):
    tables: dict[str, Any]
    notes: list[str]


def merge_calendar(
    base: Mapping[str, Any] | None, ours: Mapping[str, Any], theirs: Mapping[str, Any]
) -> Merged:
    """calendar.toml's tables from both sides (`base` is not needed: SEQUENCE only grows); the freshness
    record and each peer's invitation the later one."""
    merged = {**theirs, **ours}
    notes = []
    if ours.get("home_id") != theirs.get("home_id") and "home_id" in theirs:
        notes.append(f"calendar.toml: the other device's calendar id {theirs['home_id']!r} was not kept: events "
                     "it exported or synced are not updated from here")  # fmt: skip
    merged["events"] = _by_key(ours.get("events"), theirs.get("events"), _sequence)
    if isinstance(ours.get(CALDAV), Mapping) and isinstance(theirs.get(CALDAV), Mapping):
        merged[CALDAV] = _caldav(ours[CALDAV], theirs[CALDAV])
    published = [side[PUBLISHED] for side in (ours, theirs) if isinstance(side.get(PUBLISHED), Mapping)]
    merged[PUBLISHED] = max(published, key=lambda table: _moment(table.get("at")), default=None)
    merged["series"] = {**_table(theirs.get("series")), **_table(ours.get("series"))}
    merged[INVITED] = _by_key(
        ours.get(INVITED), theirs.get(INVITED), lambda item: (_sequence(item), _moment(item.get("at")))
    )
    return Merged({key: value for key, value in merged.items() if value not in (None, {})}, notes)


def _caldav(ours: Mapping[str, Any], theirs: Mapping[str, Any]) -> dict[str, Any]:
    """The CalDAV record: one calendar's; per UID, the device that synced last knows the server's ETag."""
    if ours.get("url") != theirs.get("url"):
        return dict(ours)
    later, earlier = (
        (ours, theirs)
        if _moment(ours.get("synced_at")) >= _moment(theirs.get("synced_at"))
        else (theirs, ours)
    )
    events = {**_table(earlier.get("events")), **_table(later.get("events"))}
    return {**earlier, **later, "events": events}


def merge_connections(
    base: Mapping[str, Any] | None, ours: Mapping[str, Any], theirs: Mapping[str, Any]
) -> Merged:
    """connections.toml's tables from both sides, by connection: one made on one side only is kept; one made
    differently on both keeps this device's (`base`, when known, tells which side changed it); busy-time feeds
    are all kept."""
    merged: dict[str, Any] = {}
    notes = []
    for key in [*ours, *(key for key in theirs if key not in ours)]:
        mine, other = ours.get(key), theirs.get(key)
        was = base.get(key) if base is not None else None
        if key == "busy" and isinstance(mine, list) and isinstance(other, list):
            merged[key] = [*mine, *(feed for feed in other if feed not in mine)]
        elif mine is None or (base is not None and mine == was and other is not None):
            if mine is None and base is not None and other == was:
                continue  # removed here (`disconnect`), left as it was there
            merged[key] = other
        else:
            merged[key] = mine
            if other is not None and other != mine and (base is None or other != was):
                notes.append(f"connections.toml: both devices connected [{key}] differently; kept this device's "
                             f"(`peerloop disconnect` and `peerloop connect` change it)")  # fmt: skip
    return Merged(merged, notes)


def _by_key(ours: Any, theirs: Any, rank: Any) -> dict[str, Any]:
    """Two tables of records by key, the one that ranks higher kept where both have a key (ties: ours)."""
    mine, other = _table(ours), _table(theirs)
    merged = dict(other)
    for key, item in mine.items():
        if key not in other or rank(item) >= rank(other[key]):
            merged[key] = item
    return dict(sorted(merged.items()))


def _sequence(item: Any) -> int:
    value = item.get("sequence") if isinstance(item, Mapping) else None
    return value if type(value) is int else -1


def _moment(value: Any) -> dt.datetime:
    return value if isinstance(value, dt.datetime) and value.tzinfo is not None else _NEVER


def _table(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}
