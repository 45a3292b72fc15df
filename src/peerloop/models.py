"""The plain data peerloop works on: frozen dataclasses with no I/O, shared by every layer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


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


def peer_key(name: str) -> str:
    """Peer names are unique regardless of case: this is the form compared."""
    return name.casefold().strip()


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day of the month `months` later, clamped to the month's last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for last_day in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last_day))
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has at least 28 days")


@dataclass(frozen=True)
class Settings:
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
    extra: Extra = field(default_factory=dict)

    @property
    def trial_end(self) -> dt.date:
        """The review date: the trial's start plus its length in months."""
        return add_months(self.trial_start, self.trial_months)

    @property
    def trial_weeks(self) -> int:
        return max(1, round((self.trial_end - self.trial_start).days / 7))


@dataclass(frozen=True)
class Peer:
    name: str
    added: dt.date
    email: str | None = None
    org: str | None = None
    mode: Mode | None = None
    note: str | None = None
    paused_until: dt.date | None = None
    extra: Extra = field(default_factory=dict)

    @property
    def key(self) -> str:
        return peer_key(self.name)

    def is_paused_on(self, day: dt.date) -> bool:
        """Paused until DATE means away before DATE and back on DATE."""
        return self.paused_until is not None and day < self.paused_until


@dataclass(frozen=True)
class Roster:
    settings: Settings | None = None
    peers: tuple[Peer, ...] = ()
    extra: Extra = field(default_factory=dict)

    def find(self, name: str) -> Peer | None:
        key = peer_key(name)
        return next((peer for peer in self.peers if peer.key == key), None)

    def active_on(self, day: dt.date) -> tuple[Peer, ...]:
        return tuple(peer for peer in self.peers if not peer.is_paused_on(day))


@dataclass(frozen=True)
class FollowUp:
    text: str
    done: bool = False


@dataclass(frozen=True)
class Meeting:
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
    extra: Extra = field(default_factory=dict)


@dataclass(frozen=True)
class Skip:
    id: str
    date: dt.date
    reason: str
    peer: str | None = None
    """Whose turn it was: the skip leaves them first in line."""
    extra: Extra = field(default_factory=dict)


@dataclass(frozen=True)
class Reflection:
    id: str
    date: dt.date
    names: tuple[str, ...] = ()
    why: str | None = None
    excuses: tuple[str, ...] = ()
    ceo: str | None = None
    extra: Extra = field(default_factory=dict)


@dataclass(frozen=True)
class Review:
    id: str
    date: dt.date
    trial_start: dt.date
    added_value: Verdict
    decision: Decision
    works: str | None = None
    improve: str | None = None
    early: bool = False
    extra: Extra = field(default_factory=dict)


Entry = Meeting | Skip | Reflection | Review


@dataclass(frozen=True)
class JournalYear:
    """The entries dated in one calendar year: the contents of `journal/YYYY.toml`."""

    year: int
    meetings: tuple[Meeting, ...] = ()
    skips: tuple[Skip, ...] = ()
    reflections: tuple[Reflection, ...] = ()
    reviews: tuple[Review, ...] = ()
    extra: Extra = field(default_factory=dict)

    def entries(self) -> tuple[Entry, ...]:
        return (*self.meetings, *self.skips, *self.reflections, *self.reviews)


@dataclass(frozen=True)
class Journal:
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
