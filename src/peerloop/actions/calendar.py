"""What the calendar shows against the plan: a peer's invite series, and whether the calendar last given the
plan (by `export` or `sync`) is stale. Read-only: these change nothing."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from peerloop.core import rotation
from peerloop.core.models import Peer
from peerloop.store.records import Store
from peerloop.store.session import Session, calendar_state


class CalendarFreshness(NamedTuple):
    by: str
    """"sync" or "export": how the calendar was last given the plan."""
    at: dt.datetime
    stale: int
    """How many weeks (and the review) it shows otherwise than the plan now."""

    def advice(self) -> str:
        return "`peerloop sync`" if self.by == "sync" else "`peerloop export` and import the file again"

    def stale_line(self) -> str:
        """ "the calendar is 3 weeks behind the plan: `peerloop sync`", said after a change that moved events."""
        weeks = "1 week" if self.stale == 1 else f"{self.stale} weeks"
        return f"the calendar is {weeks} behind the plan: {self.advice()}"


def calendar_freshness(store: Store) -> CalendarFreshness | None:
    """Whether the calendar last given the plan (by sync or export) still shows it; None if never given.

    Cheap enough to run after every change: calendar.toml is read, and the plan walked for the weeks it holds.
    """
    from peerloop.core.calendar import freshness

    if not store.calendar_path.exists():
        return None
    record = freshness.read(calendar_state(store).extra)
    if record is None:
        return None
    session = Session(store)
    weeks = sum(1 for key in record.weeks if key != "review")
    slots = rotation.plan(session.roster, session.settings, session.history(), session.today, max(1, weeks))
    stale = freshness.stale_weeks(record, slots, session.settings.trial_end, session.now)
    return CalendarFreshness(record.by, record.at, len(stale))


class Series(NamedTuple):
    """A peer's recurring meeting as an invitation carries it: from their first planned meeting, every
    `interval` weeks (the number of active peers then), and the plan it was read from."""

    first: rotation.Slot
    interval: int
    slots: list[rotation.Slot]


def series_of(session: Session, peer: Peer) -> Series | None:
    """The peer's series until the review date, or None when the plan gives them no meeting before it."""
    settings, today = session.settings, session.today
    history = session.history()
    weeks = rotation.trial_weeks_left(settings, rotation.first_open_week(settings, history, today))
    slots = rotation.plan(session.roster, settings, history, today, weeks)
    first = next((slot for slot in slots if slot.peer is not None and slot.peer.key == peer.key), None)
    if first is None:
        return None
    return Series(first, len(session.roster.active_on(first.date)), slots)
