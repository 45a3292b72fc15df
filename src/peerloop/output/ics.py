"""Calendar documents, built with icalendar's components from the pure plan in `peerloop.core.calendar`.

What icalendar does not do the way calendars need (a CN quoted when it holds a backslash, folds never inside
an escape, a repeated hour's wall time written in UTC, DTEND rather than DURATION, a series' overrides across
DST changes) is explained in docs/calendar.md. Only `export`, `invite` and the CalDAV sync import this module.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence
from typing import NamedTuple
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, Parameters, Timezone
from icalendar.prop import vCalAddress, vDuration, vText

from peerloop.core.calendar import events as plan
from peerloop.core.calendar import series as invites
from peerloop.core.calendar.events import Outcome, Person, Planned, Sent
from peerloop.core.calendar.state import CalendarState
from peerloop.core.models import Peer, Settings
from peerloop.core.rotation import Slot
from peerloop.output.folding import refold
from peerloop.output.vtimezone import vtimezone

PRODID = "-//peerloop//peerloop//EN"
CALENDAR_NAME = "Peer meetings (peerloop)"


class Built(NamedTuple):
    """A calendar file and the state to keep after writing it."""

    data: bytes
    state: CalendarState
    uids: tuple[str, ...]
    """Every event's UID, in file order."""
    changed: tuple[str, ...]
    """UIDs written before whose content changed: their SEQUENCE went up."""
    added: tuple[str, ...]
    """UIDs written for the first time."""
    cancelled: tuple[str, ...] = ()
    """UIDs written before that are now cancelled (STATUS:CANCELLED)."""


# --- text and people -----------------------------------------------------------------------------------------


class _QuotedParameters(Parameters):
    """Parameters whose CN is quoted when it holds a backslash, so that it cannot escape what follows."""

    quote_also = {**Parameters.quote_also, "CN": Parameters.quote_also["CN"] + "\\"}  # noqa: RUF012 (as in the base)


class _Text(vText):
    """A TEXT value escaped as RFC 5545 says. icalendar's own escaping first reads a literal `\\N` as a line
    break, so a peer named `\\Nina` would lose the backslash and gain a new line."""

    def to_ical(self) -> bytes:
        escaped = str(self).replace("\\", "\\\\").replace(";", r"\;").replace(",", r"\,")
        return escaped.replace("\n", r"\n").encode("utf-8")


def _text(value: str) -> _Text:
    """What a TEXT value can hold: unified line ends, no other control characters, no lone surrogates."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _Text(
        "".join(
            "\ufffd" if unicodedata.category(ch) == "Cs" else ch
            for ch in value
            if ch in "\n\t" or unicodedata.category(ch) != "Cc"
        )
    )


def _address(person: Person, *params: tuple[str, str]) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.email}")
    address.params = _QuotedParameters({"CN": _text(person.name).replace("\n", " "), **dict(params)})
    return address


# --- events and documents ------------------------------------------------------------------------------------


class _ExactDuration(vDuration):
    """A DURATION in exact time: icalendar writes 1440 minutes as `P1D`, a nominal day that lasts 23 or 25
    hours across a DST change (RFC 5545 3.3.6); this writes `PT24H`. Hours, minutes and seconds only."""

    def to_ical(self) -> bytes:
        seconds = int(self.td.total_seconds())
        hours, rest = divmod(abs(seconds), 3600)
        minutes, seconds = divmod(rest, 60)
        text = f"{'-' if self.td < dt.timedelta(0) else ''}PT"
        text += f"{hours}H" if hours else ""
        text += f"{minutes}M" if minutes or (hours and seconds) else ""  # dur-hour = DIGITs "H" [dur-minute]
        text += f"{seconds}S" if seconds or not (hours or minutes) else ""
        return text.encode("ascii")


def _unambiguous(moment: dt.datetime) -> dt.datetime:
    """`moment` as a wall time in its zone when that wall time names no other moment, else in UTC."""
    passes = {moment.replace(fold=fold).astimezone(dt.UTC) for fold in (0, 1)}
    return moment if passes == {moment.astimezone(dt.UTC)} else moment.astimezone(dt.UTC)


def _real(wall: dt.datetime) -> dt.datetime:
    """The moment RFC 5545 gives a wall time (3.3.5: a time in a gap moves forward by the gap, a repeated
    time is its first pass), in the same zone."""
    return wall.replace(fold=0).astimezone(dt.UTC).astimezone(wall.tzinfo)


def _times(event: Event, item: Planned) -> None:
    """DTSTART and DTEND, DURATION or RRULE: each meeting's real moments, however a reader reads them."""
    if not isinstance(item.start, dt.datetime):
        event.add("dtstart", item.start)
        event.add("dtend", item.start + item.length)
    elif item.every is not None:
        event.add("dtstart", item.start)
        if item.length:
            event.add("duration", _ExactDuration(item.length))
        event.add("rrule", {"FREQ": "WEEKLY", "INTERVAL": item.every, "UNTIL": _until(item)})
    else:
        if item.occurrence is not None:
            event.add("recurrence-id", item.occurrence)
        start = _real(item.start)
        event.add("dtstart", _unambiguous(start))
        if item.length:
            end = start.astimezone(dt.UTC) + item.length
            event.add("dtend", _unambiguous(end.astimezone(start.tzinfo)))


def _event(sent: Sent, now: dt.datetime) -> Event:
    item, event = sent.event, Event()
    event.add("uid", item.uid)
    event.add("dtstamp", now.astimezone(dt.UTC))
    event.add("sequence", sent.sequence)
    _times(event, item)
    event.add("summary", _text(item.summary))
    if item.description:
        event.add("description", _text(item.description))
    if item.organizer is not None:
        event.add("organizer", _address(item.organizer))
    if item.attendee is not None:
        params = [("ROLE", "REQ-PARTICIPANT"), ("PARTSTAT", "NEEDS-ACTION")]
        event.add("attendee", _address(item.attendee, *params, *([("RSVP", "TRUE")] if item.rsvp else [])))
    event.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
    timed = isinstance(item.start, dt.datetime) and not item.cancelled
    event.add("transp", "OPAQUE" if timed else "TRANSPARENT")
    if item.alarm is not None:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", _text(item.summary))
        alarm.add("trigger", _ExactDuration(-dt.timedelta(minutes=item.alarm)))
        event.add_component(alarm)
    return event


# --- a series through DST changes ----------------------------------------------------------------------------


def _series_walls(item: Planned) -> list[dt.datetime]:
    """The wall time of each meeting of a series, as its RRULE makes them (and as RECURRENCE-ID names them)."""
    assert isinstance(item.start, dt.datetime)
    assert item.every is not None
    assert item.until is not None
    step = dt.timedelta(weeks=item.every)
    walls = [item.start]
    while (walls[-1] + step).astimezone(dt.UTC) <= item.until:
        walls.append(walls[-1] + step)  # wall-clock arithmetic: the same time of day each week
    return walls


def _until(item: Planned) -> dt.datetime:
    """The series' UNTIL: the last second of its last meeting's day, in UTC. Not that meeting's moment, which
    a reader that reads its wall time otherwise (khal: a repeated hour's second pass) would find after it."""
    last = _series_walls(item)[-1]
    midnight = dt.datetime.combine(last.date() + dt.timedelta(days=1), dt.time(), tzinfo=last.tzinfo)
    return midnight.astimezone(dt.UTC) - dt.timedelta(seconds=1)


def _read_alike(wall: dt.datetime, length: dt.timedelta) -> bool:
    """Whether every reader finds the meeting a series' RRULE and DURATION give at `wall` at its real moments.
    Not so when its start or end (the wall time plus the length: icalendar, ical and vobject add DURATION to
    the wall time) lies in a gap or a repeated hour, or a change of offset falls inside the meeting."""

    def one_moment(moment: dt.datetime) -> bool:
        return moment.replace(fold=0).utcoffset() == moment.replace(fold=1).utcoffset()

    end = wall + length
    return one_moment(wall) and one_moment(end) and end.astimezone(dt.UTC) - wall.astimezone(dt.UTC) == length


def _events(sent: Sent, now: dt.datetime) -> list[Event]:
    """An event's VEVENTs: one, or for a series the master and an override (same UID, RECURRENCE-ID the
    meeting's wall time) with real DTSTART and DTEND for each meeting readers would read otherwise. No
    EXDATE: recurring-ical-events drops an override whose instance an EXDATE removed."""
    item = sent.event
    if item.every is None:
        return [_event(sent, now)]
    overrides = [
        item._replace(occurrence=wall, start=wall, every=None, until=None)
        for wall in _series_walls(item)
        if not _read_alike(wall, item.length)
    ]
    return [_event(sent, now), *(_event(Sent(override, sent.sequence), now) for override in overrides)]


# --- documents -----------------------------------------------------------------------------------------------


def _zone_for(settings: Settings, events: Sequence[Planned]) -> Timezone | None:
    """The VTIMEZONE the events' TZIDs need, over their dates (None when every event is a whole day)."""
    if not any(isinstance(event.start, dt.datetime) for event in events):
        return None
    days = [event.day for event in events]
    return vtimezone(settings.timezone, min(days), max(days))


def _document(header: Sequence[tuple[str, str]], zone: Timezone | None, events: Sequence[Event]) -> bytes:
    document = Calendar()
    for name, value in [("version", "2.0"), ("prodid", PRODID), ("calscale", "GREGORIAN"), *header]:
        document.add(name, value)
    if zone is not None and any(
        "TZID" in event[name].params
        for event in events
        for name in ("DTSTART", "DTEND", "RECURRENCE-ID")
        if name in event
    ):
        document.add_component(zone)
    for event in events:
        document.add_component(event)
    return refold(document.to_ical(sorted=False))


def _built(data: bytes, outcome: Outcome) -> Built:
    return Built(
        data=data,
        state=outcome.state,
        uids=tuple(dict.fromkeys(sent.event.uid for sent in outcome.events)),
        changed=outcome.changed,
        added=outcome.added,
        cancelled=outcome.cancelled,
    )


def _export_outcome(
    slots: Sequence[Slot], settings: Settings, state: CalendarState, now: dt.datetime, alarm: int | None
) -> Outcome:
    events = plan.export_events(slots, settings, state, now, alarm)
    return plan.sequenced(events, state, now.astimezone(ZoneInfo(settings.timezone)).date())


def build_export(
    slots: Sequence[Slot],
    settings: Settings,
    state: CalendarState,
    now: dt.datetime,
    alarm: int | None = None,
) -> Built:
    """The leader's file: one event per planned slot with a peer, the weeks that left the plan (cancelled),
    and the review date. No METHOD (RFC 5546 forbids ATTENDEE under PUBLISH; CalDAV stores refuse it)."""
    outcome = _export_outcome(slots, settings, state, now, alarm)
    header = [("name", CALENDAR_NAME), ("x-wr-calname", CALENDAR_NAME), ("x-wr-timezone", settings.timezone)]
    zone = _zone_for(settings, [sent.event for sent in outcome.events])
    data = _document(header, zone, [e for sent in outcome.events for e in _events(sent, now)])
    return _built(data, outcome)


def event_documents(
    slots: Sequence[Slot],
    settings: Settings,
    state: CalendarState,
    now: dt.datetime,
    alarm: int | None = None,
) -> tuple[list[tuple[str, bytes]], CalendarState]:
    """The export's events as one calendar object per UID (its VTIMEZONE, one VEVENT, no METHOD), as a
    CalDAV PUT wants them; the same UIDs and SEQUENCE rules as `build_export`."""
    outcome = _export_outcome(slots, settings, state, now, alarm)
    zone = _zone_for(settings, [sent.event for sent in outcome.events])
    documents = [(sent.event.uid, _document((), zone, [_event(sent, now)])) for sent in outcome.events]
    return documents, outcome.state


def build_invite(
    peer: Peer,
    first: Slot,
    interval: int,
    settings: Settings,
    state: CalendarState,
    now: dt.datetime,
) -> Built:
    """One peer's invite: their meeting every `interval` weeks from `first` until the trial's last week.

    METHOD:REQUEST with one VEVENT (Outlook imports only a REQUEST's first UID), ORGANIZER the leader and
    ATTENDEE the peer with RSVP: both emails are needed.
    """
    event = invites.series_event(peer, first, interval, settings, state)
    return _series_document("REQUEST", [event], peer, settings, state, now)


def build_invite_cancel(
    peer: Peer,
    settings: Settings,
    state: CalendarState,
    now: dt.datetime,
    sent: invites.SentSeries,
    occurrences: Sequence[dt.date] | None,
) -> Built:
    """METHOD:CANCEL for the series the peer was sent: all of it (`occurrences` None), or only those of its
    meetings, one VEVENT each by RECURRENCE-ID (the meetings a pause takes away). SEQUENCE goes up."""
    events = invites.series_cancel_events(peer, settings, state, sent, occurrences)
    return _series_document("CANCEL", events, peer, settings, state, now)


def _series_document(
    method: str,
    events: Sequence[Planned],
    peer: Peer,
    settings: Settings,
    state: CalendarState,
    now: dt.datetime,
) -> Built:
    outcome = plan.sequenced(events, state, now.astimezone(ZoneInfo(settings.timezone)).date())
    zone = vtimezone(settings.timezone, events[0].day, settings.trial_end)
    data = _document([("method", method)], zone, [e for sent in outcome.events for e in _events(sent, now)])
    uid = events[0].uid
    return _built(
        data, outcome._replace(state=outcome.state._replace(series={**state.series, peer.key: uid}))
    )
