"""The rotation rule, exactly as DESIGN.md states it. Pure: no clock, no I/O; `today` is a parameter.

- Active peers: the roster minus peers paused on the slot's date.
- Next: the active peer whose last meeting is oldest; never-met peers first; ties by roster order.
- This week's slot stays open (overdue once its day has passed) until the week ends or a meeting or a skip is
  logged in it; a week that has started keeps its peer (a peer added during it joins from the next week).
- The plan applies the same rule week by week, as if each planned meeting happened.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Iterator, Mapping
from typing import NamedTuple

from peerloop.core.models import LATEST_DAY, Meeting, Mode, Peer, Roster, Settings, Skip, Touch, peer_key

WEEK = dt.timedelta(days=7)


class History(NamedTuple):
    """What the rotation needs from the journal."""

    last_met: Mapping[str, dt.date]
    """peer_key -> date of the latest meeting with that peer."""
    done_weeks: frozenset[dt.date]
    """Mondays of the weeks that hold a meeting or a skip."""


class Slot(NamedTuple):
    """One week's meeting: when, with whom, how."""

    week: dt.date
    """Monday of the ISO week."""
    start: dt.datetime
    """Aware, in the leader's zone."""
    end: dt.datetime
    peer: Peer | None
    """None when every peer is paused that week."""
    mode: Mode
    overdue: bool = False
    moved_from: dt.datetime | None = None
    """Where the weekly slot was, when busy time in the leader's calendar moved the meeting."""
    note: str | None = None
    """Why it moved ("moved from Tue 08:30: Board meeting"), or that the week has no free time at all."""

    @property
    def date(self) -> dt.date:
        return self.start.date()


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def last_dates(entries: Iterable[Meeting | Touch]) -> dict[str, dt.date]:
    """peer_key -> the date of the latest of the entries with that peer."""
    latest: dict[str, dt.date] = {}
    for entry in entries:
        key = peer_key(entry.peer)
        latest[key] = max(entry.date, latest.get(key, entry.date))
    return latest


def history_from(meetings: Iterable[Meeting], skips: Iterable[Skip]) -> History:
    met = tuple(meetings)
    done = {week_start(meeting.date) for meeting in met} | {week_start(skip.date) for skip in skips}
    return History(last_met=last_dates(met), done_weeks=frozenset(done))


def slot_times(
    settings: Settings, week: dt.date, mode: Mode | None = None
) -> tuple[dt.datetime, dt.datetime]:
    """The slot's start and end in the leader's zone, at the mode's weekly time, on its own date.

    A wall time that does not exist (a spring-forward gap) starts as RFC 5545 reads it: shifted by the gap's
    length (02:30 in a one-hour gap is 03:30); one that happens twice (the autumn hour) starts at the first.
    The end is the duration later in real time, so every meeting lasts exactly its length.
    """
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(settings.timezone)
    day = week + dt.timedelta(days=settings.weekday)
    wall = dt.datetime.combine(day, settings.time_for(mode or settings.mode), tzinfo=zone)
    start = wall if _exists(wall) else _after_gap(wall)
    end = (start.astimezone(dt.UTC) + dt.timedelta(minutes=settings.duration)).astimezone(zone)
    return start, end


def _exists(wall: dt.datetime) -> bool:
    """Whether a wall time in its zone is real (round-trips through UTC), for the first of two in an overlap."""
    return wall.astimezone(dt.UTC).astimezone(wall.tzinfo).replace(tzinfo=None) == wall.replace(tzinfo=None)


def _after_gap(wall: dt.datetime) -> dt.datetime:
    """RFC 5545 3.3.5: a time in a gap is read with the offset from before the gap."""
    before = (wall - dt.timedelta(days=1)).utcoffset() or dt.timedelta(0)
    return (wall.replace(tzinfo=None) - before).replace(tzinfo=dt.UTC).astimezone(wall.tzinfo)


def in_line(peers: Iterable[Peer], last_met: Mapping[str, dt.date]) -> list[Peer]:
    """Peers in the order the rule meets them: never met first, then oldest last meeting; ties by roster order."""
    ordered = list(peers)
    position = {peer.key: n for n, peer in enumerate(ordered)}
    return sorted(
        ordered,
        key=lambda peer: (peer.key in last_met, last_met.get(peer.key, dt.date.min), position[peer.key]),
    )


def first_open_week(settings: Settings, history: History, today: dt.date) -> dt.date:
    """The week whose slot is next to keep: this week unless it is done, and never before the trial starts."""
    week = week_start(today)
    while True:
        if (
            week not in history.done_weeks
            and week + dt.timedelta(days=settings.weekday) >= settings.trial_start
        ):
            return week
        week += WEEK


def iter_plan(roster: Roster, settings: Settings, history: History, today: dt.date) -> Iterator[Slot]:
    """The slots from the first open week on, without end, each planned meeting counted as kept.

    A trial the leader decided to stop plans nothing; past the last date peerloop plans in
    (`models.LATEST_DAY`) the plan simply ends."""
    if settings.stopped_on is not None:
        return
    last_met = dict(history.last_met)
    week = first_open_week(settings, history, today)
    this_week = week_start(today)
    while True:
        day = week + dt.timedelta(days=settings.weekday)
        active = roster.active_on(day)
        if week == this_week:  # a week that has started keeps its peer: newcomers join from the next one
            active = tuple(p for p in active if p.added < this_week) or active
        peer = in_line(active, last_met)[0] if active else None
        if peer is not None:
            last_met[peer.key] = day
        mode = peer.mode if peer and peer.mode else settings.mode
        start, end = slot_times(settings, week, mode)
        yield Slot(week=week, start=start, end=end, peer=peer, mode=mode, overdue=day < today)
        if week + 2 * WEEK > LATEST_DAY:
            return
        week += WEEK
        while week in history.done_weeks:
            week += WEEK


def plan(roster: Roster, settings: Settings, history: History, today: dt.date, weeks: int) -> list[Slot]:
    """The next `weeks` slots from the first open week."""
    return list(itertools.islice(iter_plan(roster, settings, history, today), weeks))


def next_slot(roster: Roster, settings: Settings, history: History, today: dt.date) -> Slot | None:
    """The next week's slot; None when nothing is planned (the trial was stopped)."""
    return next(iter_plan(roster, settings, history, today), None)


def first_trial_week(settings: Settings) -> dt.date:
    """Monday of trial week 1: the week of the first slot on or after the trial's start."""
    return settings.counted_until - dt.timedelta(weeks=settings.trial_weeks - 1, days=6)


def trial_weeks_left(settings: Settings, first_week: dt.date) -> int:
    """How many of the trial's `trial_weeks` weekly slots remain from `first_week` on (0 once it is over)."""
    return max(0, settings.trial_weeks - (first_week - first_trial_week(settings)).days // 7)
