"""The calendar state kept in calendar.toml, pure: the home id, each UID's content digest and SEQUENCE, the
peers' invite series, the export's remembered reminder. UIDs are stable (a per-home random id plus the ISO
week, the trial or the peer) so that a re-import updates the events instead of adding new ones.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from peerloop.core.models import Peer

SLOT, REVIEW, SERIES = "slot", "review", "series"
KINDS = (SLOT, REVIEW, SERIES)
_HOME_ID = re.compile(r"^[0-9a-z]{6,40}$")


class EventRecord(NamedTuple):
    """What a re-export needs to know about one UID it wrote before."""

    kind: str
    """slot, review or series."""
    start: dt.date
    """The event's (first) date: lets old slot records be pruned and a moved event be cancelled."""
    digest: str
    """A hash of the event's content (everything but DTSTAMP and SEQUENCE)."""
    sequence: int


class CalendarState(NamedTuple):
    home_id: str
    """Random, made once per data folder: keeps UIDs unique between two leaders' files."""
    events: Mapping[str, EventRecord] = MappingProxyType({})
    series: Mapping[str, str] = MappingProxyType({})
    """peer key -> the UID of their invite series, so that a renamed peer keeps theirs."""
    extra: Mapping[str, Any] = MappingProxyType({})
    """Keys a newer peerloop wrote: kept."""


def state_from_toml(data: Mapping[str, Any], new_home_id: str) -> CalendarState:
    """Read calendar.toml's contents; `new_home_id` is used when the file has none yet.

    Raises ValueError naming the key when the file was edited into something unusable.
    """
    home_id = data.get("home_id", new_home_id)
    if not isinstance(home_id, str) or not _HOME_ID.match(home_id):
        raise ValueError("'home_id' must be 6 to 40 lowercase letters or digits")
    raw_events = data.get("events", {})
    if not isinstance(raw_events, Mapping):
        raise ValueError("'events' must be a table of [events.UID] tables")
    events: dict[str, EventRecord] = {}
    for uid, raw in raw_events.items():
        if not isinstance(raw, Mapping):
            raise ValueError(f"[events.{uid}] must be a table")
        kind, start, digest, sequence = (raw.get(k) for k in ("kind", "start", "digest", "sequence"))
        if kind not in KINDS:
            raise ValueError(f"[events.{uid}] 'kind' must be one of {', '.join(KINDS)}")
        if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
            raise ValueError(f"[events.{uid}] 'start' must be a date like 2026-03-17")
        if not isinstance(digest, str):
            raise ValueError(f"[events.{uid}] 'digest' must be text in quotes")
        if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 0:
            raise ValueError(f"[events.{uid}] 'sequence' must be a whole number, 0 or more")
        events[uid] = EventRecord(kind=kind, start=start, digest=digest, sequence=sequence)
    series = data.get("series", {})
    if not isinstance(series, Mapping) or not all(isinstance(uid, str) for uid in series.values()):
        raise ValueError("'series' must be a table of peer = \"UID\" lines")
    known = {"schema_version", "home_id", "events", "series"}
    extra = {key: value for key, value in data.items() if key not in known}
    return CalendarState(home_id=home_id, events=events, series=dict(series), extra=extra)


def state_to_toml(state: CalendarState) -> dict[str, Any]:
    return {
        **state.extra,
        "home_id": state.home_id,
        "events": {
            uid: {"kind": r.kind, "start": r.start, "digest": r.digest, "sequence": r.sequence}
            for uid, r in sorted(state.events.items())
        },
        **({"series": dict(sorted(state.series.items()))} if state.series else {}),
    }


# --- UIDs ----------------------------------------------------------------------------------------------------


def slot_uid(home_id: str, week: dt.date) -> str:
    """One UID per ISO week: whoever the rotation puts in that week, it is the same calendar event."""
    year, number, _ = week.isocalendar()
    return f"peerloop-{home_id}-{year}W{number:02d}"


def review_uid(home_id: str, trial_start: dt.date) -> str:
    """One UID per trial (a new trial start is a new review)."""
    return f"peerloop-{home_id}-review-{trial_start:%Y%m%d}"


def series_uid(home_id: str, peer: Peer) -> str:
    """The UID a peer's first invite gets; the name is hashed so that it never needs escaping."""
    digest = hashlib.sha256(peer.key.encode("utf-8")).hexdigest()[:12]
    return f"peerloop-{home_id}-peer-{digest}"


def invite_uid(state: CalendarState, peer: Peer) -> str:
    """The UID of the peer's invite series: the one recorded for them, else a new one from their name
    (never one that a renamed peer still holds)."""
    if peer.key in state.series:
        return state.series[peer.key]
    uid, taken, n = series_uid(state.home_id, peer), set(state.series.values()), 2
    candidate = uid
    while candidate in taken:
        candidate, n = f"{uid}-{n}", n + 1
    return candidate


# --- the export's reminder -----------------------------------------------------------------------------------


ALARM_KEY = "alarm"
"""calendar.toml remembers the export's reminder, so a plain re-export (or a sync) keeps it."""


def remembered_alarm(state: CalendarState, alarm: int | None, no_alarm: bool) -> int | None:
    if no_alarm:
        return None
    if alarm is not None:
        return alarm
    kept = state.extra.get(ALARM_KEY)
    return kept if isinstance(kept, int) and not isinstance(kept, bool) and 0 <= kept <= 7 * 24 * 60 else None


def with_alarm(state: CalendarState, alarm: int | None) -> CalendarState:
    extra = {key: value for key, value in state.extra.items() if key != ALARM_KEY}
    return state._replace(extra={**extra, **({ALARM_KEY: alarm} if alarm is not None else {})})
