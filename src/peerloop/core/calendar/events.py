"""Calendar planning, pure (no clock, no I/O, no icalendar): which events a calendar file holds, as plain
`Planned` events that `output.ics` writes, and their SEQUENCE, which rises exactly when an event's content
changes (a digest per UID is kept in `core.calendar.state`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from peerloop.core.calendar.state import REVIEW, SLOT, CalendarState, EventRecord, review_uid, slot_uid
from peerloop.core.models import Mode, Peer, Settings
from peerloop.core.rotation import Slot

PRUNE_AFTER = dt.timedelta(weeks=8)
"""Slot records older than this are dropped from the state: the plan never exports a past week again."""

_DAY = dt.timedelta(days=1)

AGENDA = (
    "A short life/work update, both ways.",
    "One pressing issue, in depth.",
    "A win worth celebrating.",
    "What works well? What can be improved?",
)
REVIEW_QUESTIONS = ("What works well?", "What can be improved?", "Continue, adjust or stop?")
CONFIDENTIAL = "What is said in a peer meeting stays there."
AGENDA_LINES = ("Agenda:", *(f"- {item}" for item in AGENDA))


# --- planned events ------------------------------------------------------------------------------------------


class Person(NamedTuple):
    name: str
    email: str


class Planned(NamedTuple):
    """One VEVENT as plain data: everything that goes into it except DTSTAMP and SEQUENCE.

    `day` is what the state records as its start (a series: its first date); `start` an aware datetime
    (ZoneInfo) or a whole day; `length` real time; `alarm` minutes before; `every` weeks between a series'
    meetings, `until` the UTC start of its last; `occurrence` the RECURRENCE-ID of one cancelled meeting.
    """

    uid: str
    kind: str
    day: dt.date
    start: dt.datetime | dt.date
    length: dt.timedelta
    summary: str
    description: str = ""
    cancelled: bool = False
    organizer: Person | None = None
    attendee: Person | None = None
    rsvp: bool = False
    alarm: int | None = None
    every: int | None = None
    until: dt.datetime | None = None
    occurrence: dt.datetime | None = None

    def canonical(self) -> str:
        """The content as text, for the digest: every field but uid, kind and day, times with their zone."""
        parts = [
            f"{value.isoformat()}@{value.tzinfo}" if isinstance(value, dt.datetime) else repr(value)
            for value in self[3:]
        ]
        return "\x1f".join(parts)


class Sent(NamedTuple):
    event: Planned
    sequence: int


class Outcome(NamedTuple):
    """The events to write with their SEQUENCE, and what changed against the state."""

    events: tuple[Sent, ...]
    state: CalendarState
    added: tuple[str, ...]
    changed: tuple[str, ...]
    """UIDs written before whose content changed; those now cancelled are in `cancelled` instead."""
    cancelled: tuple[str, ...]


def digest(events: Iterable[Planned]) -> str:
    text = "\x1e".join(event.canonical() for event in events)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def sequenced(events: Sequence[Planned], state: CalendarState, today: dt.date) -> Outcome:
    """SEQUENCE per UID (events sharing a UID share one), the new state, and old slot records pruned."""
    by_uid: dict[str, list[Planned]] = {}
    for event in events:
        by_uid.setdefault(event.uid, []).append(event)
    records = dict(state.events)
    sequences: dict[str, int] = {}
    added: list[str] = []
    changed: list[str] = []
    cancelled: list[str] = []
    for uid, group in by_uid.items():
        record, content = records.get(uid), digest(group)
        if record is None:
            sequences[uid] = 0
            added.append(uid)
        elif record.digest != content:
            sequences[uid] = record.sequence + 1
            (cancelled if all(event.cancelled for event in group) else changed).append(uid)
        else:
            sequences[uid] = record.sequence
        records[uid] = EventRecord(group[0].kind, group[0].day, content, sequences[uid])
    kept = {
        uid: record
        for uid, record in records.items()
        if record.kind != SLOT or record.start >= today - PRUNE_AFTER
    }
    return Outcome(
        events=tuple(Sent(event, sequences[event.uid]) for event in events),
        state=state._replace(events=kept),
        added=tuple(added),
        changed=tuple(changed),
        cancelled=tuple(cancelled),
    )


def mode_label(mode: Mode) -> str:
    return mode.value.capitalize()


def zone_of(settings: Settings) -> dt.tzinfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo(settings.timezone)


def _real(moment: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """The same instant with a wall time that exists: a time in a DST gap moves forward (RFC 5545 3.3.5)."""
    return moment.astimezone(dt.UTC).astimezone(zone)


def _people(settings: Settings, peer: Peer | None) -> tuple[Person | None, Person | None]:
    """ORGANIZER when the leader's email is known; ATTENDEE only with an ORGANIZER (RFC 5545 3.8.4.3)."""
    if not settings.email:
        return None, None
    organizer = Person(settings.name, settings.email)
    return organizer, (Person(peer.name, peer.email) if peer is not None and peer.email else None)


def _meeting(slot: Slot, peer: Peer, settings: Settings, home_id: str, alarm: int | None) -> Planned:
    zone = zone_of(settings)
    start = _real(slot.start, zone)
    about = f"Peer meeting with {peer.name} ({slot.mode.value}, {settings.duration} minutes)."
    lines = [about, "", *AGENDA_LINES, "", CONFIDENTIAL, "Afterwards, note what it gave you: peerloop log"]
    organizer, attendee = _people(settings, peer)
    return Planned(
        uid=slot_uid(home_id, slot.week),
        kind=SLOT,
        day=slot.date,
        start=start,
        length=slot.end.astimezone(dt.UTC) - start.astimezone(dt.UTC),
        summary=f"{mode_label(slot.mode)} with {peer.name}",
        description="\n".join(lines),
        organizer=organizer,
        attendee=attendee,
        alarm=alarm,
    )


def _cancelled_meeting(uid: str, day: dt.date, settings: Settings, why: str) -> Planned:
    start = _real(dt.datetime.combine(day, settings.time, tzinfo=zone_of(settings)), zone_of(settings))
    length = dt.timedelta(minutes=settings.duration)
    return Planned(uid, SLOT, day, start, length, "Cancelled: peer meeting", why, cancelled=True)


def _review(settings: Settings, home_id: str) -> Planned:
    end = settings.trial_end
    lines = [
        f"{settings.trial_months} months of peer meetings ({settings.trial_start.isoformat()} to "
        f"{settings.counted_until.isoformat()}): did they add value?",
        "",
        "Look at the process (did the meetings happen, did the cadence and format work) and at the "
        "content (what did they give: advice, strength, motivation).",
        "",
        *(f"- {question}" for question in REVIEW_QUESTIONS),
        "",
        "Record it: peerloop review",
    ]
    summary = "Peer network review: continue, adjust or stop?"
    return Planned(
        review_uid(home_id, settings.trial_start), REVIEW, end, end, _DAY, summary, "\n".join(lines)
    )


def export_events(
    slots: Sequence[Slot], settings: Settings, state: CalendarState, now: dt.datetime, alarm: int | None
) -> list[Planned]:
    """The leader's events: the planned meetings, the weeks that left the plan while still ahead, the review.

    A week left the plan when it was written before, is not in `slots`, and lies between now and the last
    slot (later weeks are only beyond this export, not gone). A review written for another trial start is
    cancelled while its date is ahead. Once a review decided to stop, every meeting ahead is cancelled, and
    the review, which happened, is not written again.
    """
    zone = zone_of(settings)
    today = now.astimezone(zone).date()
    meetings: list[Planned] = []
    for slot in slots:
        uid = slot_uid(state.home_id, slot.week)
        if slot.peer is not None:
            meetings.append(_meeting(slot, slot.peer, settings, state.home_id, alarm))
        elif uid in state.events:
            why = "Every peer is paused this week: no peer meeting."
            meetings.append(_cancelled_meeting(uid, slot.date, settings, why))
    planned = {event.uid for event in meetings}
    stopped = settings.stopped_on is not None
    last = dt.date.max if stopped else max((slot.date for slot in slots), default=today)
    earliest = min([settings.time, *settings.mode_times.values()])
    for uid, record in state.events.items():
        ahead = dt.datetime.combine(record.start, earliest, tzinfo=zone) > now
        if record.kind == SLOT and uid not in planned and ahead and record.start <= last:
            why = (
                "You stopped the peer meetings: no peer meeting."
                if stopped
                else "This week left the plan (a skip, a pause or new trial dates): no peer meeting."
            )
            meetings.append(_cancelled_meeting(uid, record.start, settings, why))
    meetings.sort(key=lambda event: event.day)
    review = _review(settings, state.home_id)
    for uid, record in sorted(state.events.items()):
        if record.kind == REVIEW and (uid != review.uid or stopped) and record.start >= today:
            why = "The trial's dates changed: the review moved."
            meetings.append(
                Planned(
                    uid, REVIEW, record.start, record.start, _DAY, "Cancelled: peer network review", why, True
                )
            )
    return meetings if stopped else [*meetings, review]
