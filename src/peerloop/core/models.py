"""The plain data peerloop works on: immutable records with no I/O, shared by every layer.

NamedTuples rather than frozen dataclasses: they define in a fraction of the time at import, which every
command pays (see docs/performance.md). Change them with `record._replace(field=value)`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any, NamedTuple

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
"""The one weekday table (0 = Monday, as `date.weekday()`); every other form is derived from it."""
WEEKDAYS = tuple(name[:3].lower() for name in WEEKDAY_NAMES)
"""How settings and flags write a weekday: mon … sun."""


class Mode(StrEnum):
    COFFEE = "coffee"
    LUNCH = "lunch"
    CALL = "call"


class Gain(StrEnum):
    ADVICE = "advice"
    STRENGTH = "strength"
    MOTIVATION = "motivation"


class Verdict(StrEnum):
    YES = "yes"
    PARTLY = "partly"
    NO = "no"


class Decision(StrEnum):
    CONTINUE = "continue"
    ADJUST = "adjust"
    STOP = "stop"


Extra = Mapping[str, Any]
"""Keys a newer peerloop wrote that this one does not know: kept as they are and written back."""
NO_EXTRA: Extra = MappingProxyType({})
NO_TIMES: Mapping[str, dt.datetime] = MappingProxyType({})


def peer_key(name: str) -> str:
    """Peer names are unique regardless of case: this is the form compared."""
    return name.casefold().strip()


EARLIEST_DAY = dt.date(1900, 1, 1)
LATEST_DAY = dt.date(9000, 12, 31)
"""The dates peerloop plans and records between: far enough for any life, and every date computed from one
(a trial's end, a week's Sunday, a plan years ahead) stays a valid date."""


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day of the month `months` later, clamped to the month's last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    month_end = dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    return dt.date(year, month, min(day.day, month_end.day))


class Settings(NamedTuple):
    name: str
    timezone: str
    weekday: int
    """0 = Monday … 6 = Sunday."""
    time: dt.time
    duration: int
    """Minutes."""
    mode: Mode
    trial_start: dt.date
    trial_months: int = 6
    email: str | None = None
    mode_times: Mapping[Mode, dt.time] = MappingProxyType({})
    """A weekly time per mode (lunch at 12:30); a mode not listed meets at `time`."""
    stopped_on: dt.date | None = None
    """The day a review decided to stop this trial: read from the roster, the reminder needs no journal."""
    changed: dt.datetime | None = None
    """When peerloop last changed the settings (UTC): on two devices, the newer settings win a merge."""
    extra: Extra = NO_EXTRA

    def time_for(self, mode: Mode) -> dt.time:
        return self.mode_times.get(mode, self.time)

    @property
    def trial_end(self) -> dt.date:
        """The review date: the day after the trial's last week (a Monday). A week belongs to one trial: the
        review never falls inside a week the trial counts (docs/review.md)."""
        return self.counted_until + dt.timedelta(days=1)

    @property
    def review_ahead(self) -> dt.date | None:
        """The review date a calendar shows: none once a review stopped the trial (its events are cancelled)."""
        return None if self.stopped_on else self.trial_end

    @property
    def trial_weeks(self) -> int:
        """The trial's length in whole weeks: its months, in weeks, rounded (26 for six months)."""
        return max(1, round((add_months(self.trial_start, self.trial_months) - self.trial_start).days / 7))

    @property
    def counted_until(self) -> dt.date:
        """The last day of the trial's last week (a Sunday): `trial_weeks` whole weeks from week 1, the week
        of its first slot on or after its start."""
        first = self.trial_start - dt.timedelta(days=self.trial_start.weekday())
        if first + dt.timedelta(days=self.weekday) < self.trial_start:
            first += dt.timedelta(weeks=1)
        return first + dt.timedelta(weeks=self.trial_weeks - 1, days=6)


class Peer(NamedTuple):
    name: str
    added: dt.date
    email: str | None = None
    org: str | None = None
    mode: Mode | None = None
    note: str | None = None
    paused_until: dt.date | None = None
    formerly: tuple[str, ...] = ()
    """Names the peer had before a rename: entries another device wrote under one of them are theirs."""
    changed: dt.datetime | None = None
    extra: Extra = NO_EXTRA

    @property
    def key(self) -> str:
        return peer_key(self.name)

    def is_paused_on(self, day: dt.date) -> bool:
        """Paused until DATE means away before DATE and back on DATE."""
        return self.paused_until is not None and day < self.paused_until


class Roster(NamedTuple):
    settings: Settings | None = None
    peers: tuple[Peer, ...] = ()
    removed: Mapping[str, dt.datetime] = NO_TIMES
    """Peers removed (name -> when, UTC), so that a device which still has one does not bring them back."""
    extra: Extra = NO_EXTRA

    def find(self, name: str) -> Peer | None:
        key = peer_key(name)
        return next((peer for peer in self.peers if peer.key == key), None)

    def active_on(self, day: dt.date) -> tuple[Peer, ...]:
        return tuple(peer for peer in self.peers if not peer.is_paused_on(day))


class Replaced(NamedTuple):
    """A version of an entry that another device changed at the same time, kept on the entry that won the
    merge (the newer one): the fields in which it differed, as written in the file."""

    changed: dt.datetime | None
    fields: Mapping[str, Any]


class FollowUp(NamedTuple):
    text: str
    done: bool = False
    n: int = 0
    """Its number within its meeting, given once and never reused: the handle is `MEETING-ID.n`."""


class Meeting(NamedTuple):
    id: str
    date: dt.date
    peer: str
    mode: Mode
    issue: str | None = None
    gains: tuple[Gain, ...] = ()
    win: str | None = None
    works: str | None = None
    improve: str | None = None
    follow_ups: tuple[FollowUp, ...] = ()
    note: str | None = None
    changed: dt.datetime | None = None
    """When peerloop last wrote this entry (UTC): on two devices, the newer version of an entry wins a merge
    (the same for every kind of entry)."""
    replaced: tuple[Replaced, ...] = ()
    extra: Extra = NO_EXTRA


class Skip(NamedTuple):
    id: str
    date: dt.date
    reason: str
    peer: str | None = None
    """Whose turn it was: the skip leaves them first in line."""
    changed: dt.datetime | None = None
    replaced: tuple[Replaced, ...] = ()
    extra: Extra = NO_EXTRA


class Reflection(NamedTuple):
    id: str
    date: dt.date
    names: tuple[str, ...] = ()
    why: str | None = None
    excuses: tuple[str, ...] = ()
    ceo: str | None = None
    purpose: str | None = None
    """What the leader wants the network to give them: the review reads the evidence against it."""
    changed: dt.datetime | None = None
    replaced: tuple[Replaced, ...] = ()
    extra: Extra = NO_EXTRA


class Thoughts(NamedTuple):
    """The answers to the coaching thoughts, from flags or prompts, before they become a Reflection."""

    names: tuple[str, ...] = ()
    why: str | None = None
    excuses: tuple[str, ...] = ()
    ceo: str | None = None
    add_names: bool = False
    """Add the names listed that are not in the roster yet."""
    purpose: str | None = None
    kept_out: tuple[str, ...] = ()
    """Names not to add after all: each looked like a peer already in the roster and was not confirmed."""

    @property
    def empty(self) -> bool:
        return not (self.names or self.why or self.excuses or self.ceo or self.purpose)


class Touch(NamedTuple):
    """A call or message between meetings: evidence of the relationship, never a week's slot."""

    id: str
    date: dt.date
    peer: str
    note: str | None = None
    changed: dt.datetime | None = None
    replaced: tuple[Replaced, ...] = ()
    extra: Extra = NO_EXTRA


class Review(NamedTuple):
    id: str
    date: dt.date
    trial_start: dt.date
    added_value: Verdict
    decision: Decision
    works: str | None = None
    improve: str | None = None
    early: bool = False
    changed: dt.datetime | None = None
    replaced: tuple[Replaced, ...] = ()
    extra: Extra = NO_EXTRA


Entry = Meeting | Skip | Reflection | Review | Touch
ENTRY_FIELDS = ("meetings", "skips", "reflections", "reviews", "touches")
"""The JournalYear fields that hold entries, one per kind."""


class JournalYear(NamedTuple):
    """The entries dated in one calendar year: the contents of `journal/YYYY.toml`."""

    year: int
    meetings: tuple[Meeting, ...] = ()
    skips: tuple[Skip, ...] = ()
    reflections: tuple[Reflection, ...] = ()
    reviews: tuple[Review, ...] = ()
    touches: tuple[Touch, ...] = ()
    forgotten: Mapping[str, dt.datetime] = NO_TIMES
    """Ids of entries forgotten (id -> when, UTC): a device that still has one drops it when they merge."""
    extra: Extra = NO_EXTRA

    def entries(self) -> tuple[Entry, ...]:
        return (*self.meetings, *self.skips, *self.reflections, *self.reviews, *self.touches)


class Journal(NamedTuple):
    """The entries of the years that were loaded (not necessarily every year on disk)."""

    years: tuple[JournalYear, ...] = ()

    @property
    def meetings(self) -> tuple[Meeting, ...]:
        return tuple(m for y in self.years for m in y.meetings)

    @property
    def skips(self) -> tuple[Skip, ...]:
        return tuple(s for y in self.years for s in y.skips)

    @property
    def reflections(self) -> tuple[Reflection, ...]:
        return tuple(r for y in self.years for r in y.reflections)

    @property
    def reviews(self) -> tuple[Review, ...]:
        return tuple(r for y in self.years for r in y.reviews)

    @property
    def touches(self) -> tuple[Touch, ...]:
        return tuple(t for y in self.years for t in y.touches)
