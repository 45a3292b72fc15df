"""Calendar documents, built with icalendar's components from the pure plan in `peerloop.calendar`.

icalendar escapes TEXT, folds lines at 75 octets between characters and quotes parameters; this module
adds what it does not do the way calendars need:

- A CN holding a backslash is quoted: icalendar leaves `Trailing\\` bare, and a bare value that ends in
  a backslash is read (by icalendar itself) as escaping the `;` that follows. Inside quotes a backslash
  is plain text for every reader; a double quote is written `^'` and a caret `^^` (RFC 6868).
- The VTIMEZONE is generated from the zone database with yearly RRULEs when the zone follows a yearly
  rule over the calendar's years (Outlook reads one yearly rule and ignores RDATE), else with RDATEs;
  it is built once per call, however many events share it.
- A meeting's DTSTART and DTEND are real moments, written as wall times with TZID, except a wall time
  of a repeated autumn hour, which is written in UTC: RFC 5545 reads it as the first pass, khal (pytz)
  as the second. DTEND rather than DURATION: icalendar and ical add a DURATION to the wall time, which
  makes a meeting across the repeated hour an hour too long.
- A series is DTSTART at the weekly wall time plus DURATION: its DTSTART may lie in a DST gap (RFC 5545
  moves it forward), where a DTEND would give readers that subtract wall times a wrong length for every
  meeting of the series.

icalendar is imported at the top: only `export`, `invite` and the CalDAV sync import this module.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence
from typing import NamedTuple
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, Parameters, Timezone, TimezoneDaylight, TimezoneStandard
from icalendar.prop import vCalAddress, vText

from peerloop.core.calendar import events as plan
from peerloop.core.calendar import series as invites
from peerloop.core.calendar.events import Outcome, Person, Planned, Sent
from peerloop.core.calendar.state import CalendarState
from peerloop.core.models import Peer, Settings
from peerloop.core.rotation import Slot

PRODID = "-//peerloop//peerloop//EN"
CALENDAR_NAME = "Peer meetings (peerloop)"
_WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


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


# --- VTIMEZONE -----------------------------------------------------------------------------------------------


Observance = tuple[dt.timedelta, str]


class _Transition(NamedTuple):
    at: dt.datetime
    """The first UTC second of the new observance."""
    before: Observance
    after: Observance

    @property
    def local_start(self) -> dt.datetime:
        """The wall-clock time at which it happens, in the offset being left (RFC 5545's DTSTART)."""
        return (self.at + self.before[0]).replace(tzinfo=None)


def _observance(zone: dt.tzinfo, moment: dt.datetime) -> Observance:
    local = moment.astimezone(zone)
    offset = local.utcoffset() or dt.timedelta(0)
    return offset, local.tzname() or ""


def _transitions(zone: dt.tzinfo, start: dt.datetime, end: dt.datetime) -> list[_Transition]:
    """Every change of UTC offset or zone abbreviation between two UTC moments, to the second."""
    found = []
    step = dt.timedelta(hours=12)
    moment, state = start, _observance(zone, start)
    while moment < end:
        following = min(moment + step, end)
        if _observance(zone, following) == state:
            moment = following
            continue
        low, high = int(moment.timestamp()), int(following.timestamp())
        while high - low > 1:
            middle = (low + high) // 2
            if _observance(zone, dt.datetime.fromtimestamp(middle, dt.UTC)) == state:
                low = middle
            else:
                high = middle
        at = dt.datetime.fromtimestamp(high, dt.UTC)
        after = _observance(zone, at)
        found.append(_Transition(at=at, before=state, after=after))
        moment, state = at, after
    return found


def _yearly_rule(starts: Sequence[dt.datetime], years: range) -> dict[str, object] | None:
    """An RRULE that yields exactly `starts` in `years` (one a year, same month, weekday and time), or None."""
    if sorted(start.year for start in starts) != list(years):
        return None
    first = starts[0]
    if any((s.month, s.weekday(), s.time()) != (first.month, first.weekday(), first.time()) for s in starts):
        return None
    code = _WEEKDAY_CODES[first.weekday()]
    if all((s + dt.timedelta(weeks=1)).month != s.month for s in starts):
        return {"FREQ": "YEARLY", "BYMONTH": first.month, "BYDAY": f"-1{code}"}
    ordinals = {(s.day - 1) // 7 + 1 for s in starts}
    if len(ordinals) == 1:
        return {"FREQ": "YEARLY", "BYMONTH": first.month, "BYDAY": f"{ordinals.pop()}{code}"}
    return None


def _observance_component(
    before: Observance, after: Observance, start: dt.datetime
) -> TimezoneDaylight | TimezoneStandard:
    part = TimezoneDaylight() if after[0] > before[0] else TimezoneStandard()
    part.add("dtstart", start)
    return part


def vtimezone(zone_name: str, first: dt.date, last: dt.date) -> Timezone:
    """A VTIMEZONE for `zone_name`, checked against the zone database from a year before `first` to a year
    after `last` (so right for every moment from `first` to `last`)."""
    zone = ZoneInfo(zone_name)
    years = range(first.year - 1, last.year + 2)
    window_start = dt.datetime(years.start, 1, 1, tzinfo=dt.UTC)
    groups: dict[tuple[Observance, Observance], list[dt.datetime]] = {}
    for transition in _transitions(zone, window_start, dt.datetime(years.stop, 1, 1, tzinfo=dt.UTC)):
        groups.setdefault((transition.before, transition.after), []).append(transition.local_start)
    timezone = Timezone()
    timezone.add("tzid", zone_name)
    parts = []
    rules = {key: _yearly_rule(starts, years) for key, starts in groups.items()}
    if groups and all(rules.values()):
        for (before, after), starts in groups.items():
            parts.append((before, after, _observance_component(before, after, starts[0])))
            parts[-1][2].add("rrule", rules[(before, after)])
    else:
        initial = _observance(zone, window_start)
        parts.append(
            (
                initial,
                initial,
                _observance_component(initial, initial, window_start.replace(tzinfo=None) + initial[0]),
            )
        )
        for (before, after), starts in groups.items():
            parts.append((before, after, _observance_component(before, after, starts[0])))
            if starts[1:]:
                parts[-1][2].add("rdate", starts[1:])
    for before, after, part in parts:
        part.add("tzoffsetfrom", before[0])
        part.add("tzoffsetto", after[0])
        part.add("tzname", after[1] or _offset_name(after[0]))
        timezone.add_component(part)
    return timezone


def _offset_name(offset: dt.timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    return f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


# --- events and documents ------------------------------------------------------------------------------------


def _unambiguous(moment: dt.datetime) -> dt.datetime:
    """`moment` as a wall time in its zone when that wall time names no other moment, else in UTC."""
    passes = {moment.replace(fold=fold).astimezone(dt.UTC) for fold in (0, 1)}
    return moment if passes == {moment.astimezone(dt.UTC)} else moment.astimezone(dt.UTC)


def _event(sent: Sent, now: dt.datetime) -> Event:
    item, event = sent.event, Event()
    event.add("uid", item.uid)
    event.add("dtstamp", now.astimezone(dt.UTC))
    event.add("sequence", sent.sequence)
    if item.occurrence is not None:
        event.add("recurrence-id", item.occurrence)
    if not isinstance(item.start, dt.datetime):
        event.add("dtstart", item.start)
        event.add("dtend", item.start + item.length)
    elif item.every is not None or item.occurrence is not None:
        event.add("dtstart", item.start)
        if item.length:
            event.add("duration", item.length)
    else:
        event.add("dtstart", _unambiguous(item.start))
        if item.length:
            end = item.start.astimezone(dt.UTC) + item.length
            event.add("dtend", _unambiguous(end.astimezone(item.start.tzinfo)))
    if item.every is not None:
        event.add("rrule", {"FREQ": "WEEKLY", "INTERVAL": item.every, "UNTIL": item.until})
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
        alarm.add("trigger", -dt.timedelta(minutes=item.alarm))
        event.add_component(alarm)
    return event


def _calendar(header: Sequence[tuple[str, str]]) -> Calendar:
    document = Calendar()
    for name, value in [("version", "2.0"), ("prodid", PRODID), ("calscale", "GREGORIAN"), *header]:
        document.add(name, value)
    return document


def _zone_for(settings: Settings, events: Sequence[Planned]) -> Timezone | None:
    """The VTIMEZONE the events' TZIDs need, over their dates (None when every event is a whole day)."""
    if not any(isinstance(event.start, dt.datetime) for event in events):
        return None
    days = [event.day for event in events]
    return vtimezone(settings.timezone, min(days), max(days))


def _document(header: Sequence[tuple[str, str]], zone: Timezone | None, events: Sequence[Event]) -> bytes:
    document = _calendar(header)
    if zone is not None and any(
        "TZID" in event[name].params for event in events for name in ("DTSTART", "DTEND") if name in event
    ):
        document.add_component(zone)
    for event in events:
        document.add_component(event)
    data: bytes = document.to_ical(sorted=False)
    return data


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
    data = _document(header, zone, [_event(sent, now) for sent in outcome.events])
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
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    outcome = plan.sequenced(events, state, now.astimezone(ZoneInfo(settings.timezone)).date())
    zone = vtimezone(settings.timezone, events[0].day, settings.trial_end)
    data = _document([("method", method)], zone, [_event(sent, now) for sent in outcome.events])
    uid = events[0].uid
    return _built(
        data, outcome._replace(state=outcome.state._replace(series={**state.series, peer.key: uid}))
    )
