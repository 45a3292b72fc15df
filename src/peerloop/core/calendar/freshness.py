"""What the leader's calendar was last given (by `export` or `sync`), so that a change to the plan that
leaves it stale is noticed at once. Pure, and cheap enough for every writing command: a line per week
(`peer|mode|start`) is kept in calendar.toml, compared with the plan now for the weeks still ahead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from peerloop.core.rotation import Slot

KEY = "published"
"""The calendar.toml table: `by` (sync or export), `at` (when), `weeks` (ISO week -> what it showed)."""


class Published(NamedTuple):
    by: str
    at: dt.datetime
    weeks: Mapping[str, str]


def week_key(week: dt.date) -> str:
    year, number, _ = week.isocalendar()
    return f"{year}-W{number:02d}"


def shown(slot: Slot) -> str:
    """What a week's event says: who, how, when (a time change, a new peer or a pause all change it)."""
    who = slot.peer.name if slot.peer else ""
    return f"{who}|{slot.mode.value if slot.peer else ''}|{slot.start.isoformat()}|{slot.end.isoformat()}"


def record(slots: Iterable[Slot], by: str, at: dt.datetime, review: dt.date) -> dict[str, Any]:
    weeks = {week_key(slot.week): shown(slot) for slot in slots}
    return {"by": by, "at": at, "weeks": {**weeks, "review": review.isoformat()}}


def read(extra: Mapping[str, Any]) -> Published | None:
    """The record in calendar.toml's extra keys, or None (never exported, or a hand edit broke it)."""
    table = extra.get(KEY)
    if not isinstance(table, Mapping):
        return None
    by, at, weeks = table.get("by"), table.get("at"), table.get("weeks")
    if by not in ("sync", "export") or not isinstance(at, dt.datetime) or not isinstance(weeks, Mapping):
        return None
    return Published(by, at, {str(k): str(v) for k, v in weeks.items()})


def stale_weeks(published: Published, slots: Iterable[Slot], review: dt.date, now: dt.datetime) -> list[str]:
    """The weeks whose event no longer says what the calendar was given: planned differently now, or gone
    from the plan while still ahead (a skip logged before its slot); a review date that moved counts too."""
    planned = {week_key(slot.week): slot for slot in slots}
    last = max((slot.week for slot in planned.values()), default=now.date())
    stale = [key for key, slot in planned.items() if published.weeks.get(key, shown(slot)) != shown(slot)]
    for key, was in published.weeks.items():
        if key in planned or key == "review" or not was.split("|", 1)[0]:
            continue
        start = _start(was)
        if start is not None and now < start and start.date() <= last + dt.timedelta(days=6):
            stale.append(key)
    if published.weeks.get("review", review.isoformat()) != review.isoformat():
        stale.append("review")
    return sorted(stale)


def _start(shown_line: str) -> dt.datetime | None:
    parts = shown_line.split("|")
    try:
        return dt.datetime.fromisoformat(parts[2]) if len(parts) == 4 else None
    except ValueError:
        return None
