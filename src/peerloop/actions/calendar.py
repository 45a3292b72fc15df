"""The leader's calendar against the plan: `export` (the file and the state it records, one transaction), a
peer's invite series, and whether the calendar last given the plan (by `export` or `sync`) is stale."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from peerloop.core import rotation
from peerloop.core.models import Peer
from peerloop.store.records import Store
from peerloop.store.session import Session, calendar_state

if TYPE_CHECKING:
    from peerloop.output.ics import Built


class CalendarFreshness(NamedTuple):
    by: str
    """"sync" or "export": how the calendar was last given the plan."""
    at: dt.datetime
    stale: tuple[str, ...]
    """The weeks (ISO week keys, and "review") it shows otherwise than the plan ahead now."""

    def stale_line(self) -> str:
        """ "3 weeks in your calendar no longer match the plan: `peerloop sync`", said after a change that moved
        events (a count of weeks, not a delay; the review date is named, not counted as a week)."""
        weeks = sum(key != "review" for key in self.stale)
        parts = ([f"{weeks} week{'' if weeks == 1 else 's'}"] if weeks else []) + (
            ["the review date"] if "review" in self.stale else []
        )
        verb = "matches" if len(self.stale) == 1 else "match"
        advice = "`peerloop sync`" if self.by == "sync" else "`peerloop export` and import the file again"
        return f"{' and '.join(parts)} in your calendar no longer {verb} the plan: {advice}"


def calendar_freshness(store: Store) -> CalendarFreshness | None:
    """Whether the calendar given the plan (by sync or export) shows the plan ahead; None if never given.

    Cheap enough to run around every change: calendar.toml and the cached busy times are read, and the plan
    walked for the rest of the trial (or one round of the peers once it ended)."""
    from peerloop.core.calendar import freshness

    if not store.calendar_path.exists():
        return None
    record = freshness.read(calendar_state(store).extra)
    if record is None:
        return None
    session = Session(store)
    stale = freshness.stale_weeks(record, planned(session), session.settings.review_ahead, session.now)
    return CalendarFreshness(record.by, record.at, tuple(stale))


def planned(session: Session) -> list[rotation.Slot]:
    """What the calendar is given: the plan for the rest of the trial (one round of the peers once it ended),
    moved around busy time."""
    from peerloop.actions.busy import respected

    settings, history, today = session.settings, session.history(), session.today
    ahead = rotation.trial_weeks_left(settings, rotation.first_open_week(settings, history, today))
    weeks = ahead or max(1, len(session.roster.active_on(today)))
    return respected(session, rotation.plan(session.roster, settings, history, today, weeks)).slots


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


class Exported(NamedTuple):
    built: Built
    slots: list[rotation.Slot]
    reminder: int | None
    """The reminder written (and remembered), in minutes before each meeting."""
    review: dt.date | None
    """The review date written; None once the trial was stopped (the file cancels what is ahead)."""


def export(
    store: Store,
    weeks: int | None,
    alarm: int | None,
    no_alarm: bool,
    place: Callable[[Session, list[rotation.Slot]], list[rotation.Slot]],
    stage: Callable[[bytes], object],
) -> Exported:
    """The leader's file, read, built and recorded under one lock: the plan (moved around busy time by
    `place`), the UIDs and SEQUENCE numbers it carries committed together with `stage(data)` having prepared
    the file (a full disk stops before anything changes); the file is put in place after, by the caller."""
    from peerloop.core.calendar import freshness, state
    from peerloop.errors import ConflictError
    from peerloop.output import ics

    with store.change():
        session = Session(store)
        settings, today = session.settings, session.today
        history = session.history()
        review = settings.review_ahead
        if weeks is None and review is not None:
            weeks = rotation.trial_weeks_left(settings, rotation.first_open_week(settings, history, today))
            if weeks == 0:
                raise ConflictError(
                    f"the trial ended on {settings.trial_end.isoformat()} (the review date), so there is nothing "
                    "to export until it; pass --weeks N to export meetings after it, or start a new trial with "
                    "`peerloop init --start DATE`"
                )
        slots = place(session, rotation.plan(session.roster, settings, history, today, weeks or 0))
        before = calendar_state(store)
        reminder = state.remembered_alarm(before, alarm, no_alarm)
        built = ics.build_export(slots, settings, before, session.now, reminder)
        mark = freshness.record(before.extra.get(freshness.KEY), slots, "export", session.now, review)
        stamped = {**built.state.extra, freshness.KEY: mark}
        built = built._replace(state=state.with_alarm(built.state._replace(extra=stamped), reminder))
        stage(built.data)
        store.save_calendar_state(state.state_to_toml(built.state))
    return Exported(built, slots, reminder, review)
