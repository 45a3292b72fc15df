"""What the leader's calendar holds (given by `export` and `sync`), so that a change to the plan that leaves
it stale is noticed at once. Pure, and cheap enough for every writing command: a line per week
(`peer|mode|start|end`, empty for a week that shows no meeting) is kept in calendar.toml, merged by each
export or sync, and compared with the whole plan ahead (the rest of the trial) and the review date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
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


def record(
    previous: object, slots: Sequence[Slot], by: str, at: dt.datetime, review: dt.date | None
) -> dict[str, Any]:
    """The record after an export or a sync wrote `slots` and the review: those weeks now show what they
    say, the weeks between them that left the plan show nothing (they were written as cancelled), and weeks
    written before, beyond these, still show what they showed (a partial export changes only its weeks).
    With no review (a stopped trial) everything ahead was written as cancelled."""
    old = read({KEY: previous})
    weeks = dict(old.weeks) if old is not None else {}
    written = {week_key(slot.week): shown(slot) if slot.peer else "" for slot in slots}
    last = max((week_key(slot.week) for slot in slots), default="") if review else "9999"
    for key in list(weeks):
        if key != "review" and key not in written and key <= last:
            weeks[key] = ""
    weeks.update(written)
    horizon = at.date() - dt.timedelta(weeks=8)
    kept = {key: what for key, what in weeks.items() if key == "review" or _week_of(key) >= horizon}
    return {"by": by, "at": at, "weeks": {**kept, "review": review.isoformat() if review else ""}}


def read(extra: Mapping[str, Any]) -> Published | None:
    """The record in calendar.toml's extra keys, or None (never exported, or a hand edit broke it)."""
    table = extra.get(KEY)
    if not isinstance(table, Mapping):
        return None
    by, at, weeks = table.get("by"), table.get("at"), table.get("weeks")
    if by not in ("sync", "export") or not isinstance(at, dt.datetime) or not isinstance(weeks, Mapping):
        return None
    return Published(by, at, {str(k): str(v) for k, v in weeks.items()})


def stale_weeks(
    published: Published, slots: Iterable[Slot], review: dt.date | None, now: dt.datetime
) -> list[str]:
    """What the calendar shows otherwise than the plan, from now on: a planned meeting it does not show, or
    shows at another time, with another peer or mode; a meeting it shows that is no longer planned (a skip,
    a pause, a stopped trial); the review date, when it moved or (`review` None: a stopped trial) when the
    calendar still shows one ahead."""
    planned = {week_key(slot.week): shown(slot) if slot.peer else "" for slot in slots if slot.end > now}
    stale = [key for key, want in planned.items() if published.weeks.get(key, "") != want]
    for key, was in published.weeks.items():
        start = _start(was)
        if key not in planned and key != "review" and start is not None and start > now:
            stale.append(key)
    shown_review = published.weeks.get("review", "")
    if review is None:
        if shown_review > now.date().isoformat():
            stale.append("review")
    elif shown_review != review.isoformat() and review > now.date():
        stale.append("review")
    return sorted(stale)


def _week_of(key: str) -> dt.date:
    try:
        year, number = key.split("-W")
        return dt.date.fromisocalendar(int(year), int(number), 1)
    except ValueError:
        return dt.date.min


def _start(shown_line: str) -> dt.datetime | None:
    parts = shown_line.split("|")
    try:
        return dt.datetime.fromisoformat(parts[2]) if len(parts) == 4 and parts[0] else None
    except ValueError:
        return None
