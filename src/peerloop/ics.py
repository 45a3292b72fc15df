"""Pure calendar builders: plan + settings + state -> RFC 5545 bytes. No clock, no I/O.

`now` is a parameter, the state (what `calendar.toml` keeps) goes in and comes out. The text is written here,
not with the icalendar library: importing icalendar alone costs about 7x the interpreter's start-up, more
than the whole `peerloop export` budget leaves (see docs/calendar.md). Writing the few properties peerloop
needs is short, and it lets the bytes be exactly what the tests and the golden files say:

- TEXT values escape backslash, semicolon, comma and newline (RFC 5545 3.3.11); other control characters
  are dropped. Parameter values are quoted when they hold `:;,`; a double quote cannot appear inside one,
  so it becomes `'`, and `^` is written `^^` (RFC 6868).
- Lines are folded at 75 octets with CRLF + space, between characters (never inside a UTF-8 sequence),
  never between a backslash and the character it escapes, and not right before a space if avoidable.
- The VTIMEZONE is generated from the zone database with yearly RRULEs when the zone follows a yearly rule
  over the calendar's years (Outlook ignores RDATE-only time zones), else with explicit RDATEs.

UIDs are stable (a per-home random id plus the ISO week, the trial or the peer) so that a re-import
updates the events; SEQUENCE rises exactly when an event's content changes (a digest per UID is kept).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, NamedTuple

from peerloop.errors import ConflictError
from peerloop.models import Mode, Peer, Settings
from peerloop.rotation import Slot, first_trial_week, slot_times

PRODID = "-//peerloop//peerloop//EN"
CALENDAR_NAME = "Peer meetings (peerloop)"
LINE_LIMIT = 75
PRUNE_AFTER = dt.timedelta(weeks=8)
"""Slot records older than this are dropped from the state: the plan never exports a past week again."""

SLOT, REVIEW, SERIES = "slot", "review", "series"
_KINDS = (SLOT, REVIEW, SERIES)
_HOME_ID = re.compile(r"^[0-9a-z]{6,40}$")
_WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_UTC = dt.UTC

AGENDA = (
    "A short life/work update, both ways.",
    "One pressing issue, in depth.",
    "A win worth celebrating.",
    "What works well? What can be improved?",
)
REVIEW_QUESTIONS = ("What works well?", "What can be improved?", "Continue, adjust or stop?")
CONFIDENTIAL = "What is said in a peer meeting stays there."


# --- the state kept in calendar.toml -------------------------------------------------------------------------


class EventRecord(NamedTuple):
    """What a re-export needs to know about one UID it wrote before."""

    kind: str
    """slot, review or series."""
    start: dt.date
    """The event's (first) date: lets old slot records be pruned and a moved review be cancelled."""
    digest: str
    """A hash of the event's content (everything but DTSTAMP and SEQUENCE)."""
    sequence: int


class CalendarState(NamedTuple):
    home_id: str
    """Random, made once per data folder: keeps UIDs unique between two leaders' files."""
    events: Mapping[str, EventRecord] = MappingProxyType({})
    series: Mapping[str, str] = MappingProxyType({})
    """peer key -> the UID of their invite series, so that a renamed peer keeps theirs."""
    extra: Mapping[str, Any] = MappingProxyType({})
    """Keys a newer peerloop wrote: kept."""


def state_from_toml(data: Mapping[str, Any], new_home_id: str) -> CalendarState:
    """Read calendar.toml's contents; `new_home_id` is used when the file has none yet.

    Raises ValueError naming the key when the file was edited into something unusable.
    """
    home_id = data.get("home_id", new_home_id)
    if not isinstance(home_id, str) or not _HOME_ID.match(home_id):
        raise ValueError("'home_id' must be 6 to 40 lowercase letters or digits")
    raw_events = data.get("events", {})
    if not isinstance(raw_events, Mapping):
        raise ValueError("'events' must be a table of [events.UID] tables")
    events: dict[str, EventRecord] = {}
    for uid, raw in raw_events.items():
        if not isinstance(raw, Mapping):
            raise ValueError(f"[events.{uid}] must be a table")
        kind, start, digest, sequence = (raw.get(k) for k in ("kind", "start", "digest", "sequence"))
        if kind not in _KINDS:
            raise ValueError(f"[events.{uid}] 'kind' must be one of {', '.join(_KINDS)}")
        if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
            raise ValueError(f"[events.{uid}] 'start' must be a date like 2026-03-17")
        if not isinstance(digest, str):
            raise ValueError(f"[events.{uid}] 'digest' must be text in quotes")
        if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 0:
            raise ValueError(f"[events.{uid}] 'sequence' must be a whole number, 0 or more")
        events[uid] = EventRecord(kind=kind, start=start, digest=digest, sequence=sequence)
    series = data.get("series", {})
    if not isinstance(series, Mapping) or not all(isinstance(uid, str) for uid in series.values()):
        raise ValueError("'series' must be a table of peer = \"UID\" lines")
    known = {"schema_version", "home_id", "events", "series"}
    extra = {key: value for key, value in data.items() if key not in known}
    return CalendarState(home_id=home_id, events=events, series=dict(series), extra=extra)


def state_to_toml(state: CalendarState) -> dict[str, Any]:
    return {
        **state.extra,
        "home_id": state.home_id,
        "events": {
            uid: {"kind": r.kind, "start": r.start, "digest": r.digest, "sequence": r.sequence}
            for uid, r in sorted(state.events.items())
        },
        **({"series": dict(sorted(state.series.items()))} if state.series else {}),
    }


# --- UIDs ----------------------------------------------------------------------------------------------------


def slot_uid(home_id: str, week: dt.date) -> str:
    """One UID per ISO week: whoever the rotation puts in that week, it is the same calendar event."""
    year, number, _ = week.isocalendar()
    return f"peerloop-{home_id}-{year}W{number:02d}"


def review_uid(home_id: str, trial_start: dt.date) -> str:
    """One UID per trial (a new trial start is a new review)."""
    return f"peerloop-{home_id}-review-{trial_start:%Y%m%d}"


def series_uid(home_id: str, peer: Peer) -> str:
    """The UID a peer's first invite gets; the name is hashed so that it never needs escaping."""
    digest = hashlib.sha256(peer.key.encode("utf-8")).hexdigest()[:12]
    return f"peerloop-{home_id}-peer-{digest}"


def invite_uid(state: CalendarState, peer: Peer) -> str:
    """The UID of the peer's invite series: the one recorded for them, else a new one from their name
    (never one that a renamed peer still holds)."""
    if peer.key in state.series:
        return state.series[peer.key]
    uid, taken, n = series_uid(state.home_id, peer), set(state.series.values()), 2
    candidate = uid
    while candidate in taken:
        candidate, n = f"{uid}-{n}", n + 1
    return candidate


def with_renamed_peer(state: CalendarState, old: Peer, new: Peer) -> CalendarState:
    """After a rename, the peer's invite series keeps its UID, so a new invite updates the one they have."""
    uid = invite_uid(state, old)
    if old.key not in state.series and uid not in state.events:
        return state
    series = {key: value for key, value in state.series.items() if key != old.key}
    return state._replace(series={**series, new.key: uid})


# --- text ----------------------------------------------------------------------------------------------------


_NOT_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""The control characters (Cc) a TEXT value cannot hold; tab and newline are allowed (newline escaped)."""
_SURROGATE = re.compile("[\ud800-\udfff]")
_TEXT_ESCAPES = str.maketrans({"\\": "\\\\", ";": "\\;", ",": "\\,", "\n": "\\n"})


def _clean(value: str) -> str:
    """Unify line ends; drop the control characters RFC 5545 TEXT cannot hold; no lone surrogates."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _SURROGATE.sub("\ufffd", _NOT_TEXT.sub("", value))


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and newline escaped."""
    return _clean(value).translate(_TEXT_ESCAPES)


def param_value(value: str) -> str:
    """A parameter value: no DQUOTE or newline possible inside, so `"` -> `'`; `^` -> `^^` (RFC 6868)."""
    text = _clean(value).replace("\n", " ").replace('"', "'").replace("^", "^^")
    return f'"{text}"' if any(ch in text for ch in ":;,") else text


def _escaped(data: bytes, position: int) -> bool:
    """Whether the byte at `position` follows an odd run of backslashes (so it is escaped)."""
    run = 0
    while position - run > 0 and data[position - run - 1] == 0x5C:
        run += 1
    return run % 2 == 1


def _char_start(data: bytes, position: int) -> int:
    """The first byte of the UTF-8 character that holds byte `position`."""
    while data[position] & 0xC0 == 0x80:
        position -= 1
    return position


def fold(line: str) -> bytes:
    """One content line as bytes: folded at 75 octets with CRLF + space, never inside a character.

    A fold never separates a backslash from the character it escapes (some clients unescape before
    unfolding), and a continuation line does not start with a space when the break can move one
    character back (some clients trim it when unfolding).
    """
    data = line.encode("utf-8")
    if len(data) <= LINE_LIMIT:
        return data + b"\r\n"
    pieces = []
    start, room = 0, LINE_LIMIT
    while len(data) - start > room:
        cut = _char_start(data, start + room)
        if _escaped(data, cut):
            cut -= 1
        if data[cut] in b" \t":
            previous = _char_start(data, cut - 1)
            if previous > start + 1 and data[previous] not in b" \t\\" and not _escaped(data, previous):
                cut = previous
        pieces.append(data[start:cut])
        start, room = cut, LINE_LIMIT - 1
    pieces.append(data[start:])
    return b"\r\n ".join(pieces) + b"\r\n"


def content_line(name: str, value: str, params: Sequence[tuple[str, str]] = ()) -> str:
    """NAME;PARAM=value:VALUE (unfolded). `value` is already in its type's form (TEXT: escape_text)."""
    head = name + "".join(f";{key}={param_value(text)}" for key, text in params)
    return f"{head}:{value}"


def _local(moment: dt.datetime) -> str:
    return f"{moment:%Y%m%dT%H%M%S}"


def _utc(moment: dt.datetime) -> str:
    return f"{moment.astimezone(_UTC):%Y%m%dT%H%M%SZ}"


def _date(day: dt.date) -> str:
    return f"{day:%Y%m%d}"


def _offset(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{secs:02d}" if secs else "")


# --- VTIMEZONE -----------------------------------------------------------------------------------------------


class _Transition(NamedTuple):
    at: dt.datetime
    """The first UTC second of the new observance."""
    before: tuple[dt.timedelta, str]
    after: tuple[dt.timedelta, str]

    @property
    def local_start(self) -> dt.datetime:
        """The wall-clock time at which it happens, in the offset being left (RFC 5545's DTSTART)."""
        return (self.at + self.before[0]).replace(tzinfo=None)


def _observance(zone: dt.tzinfo, moment: dt.datetime) -> tuple[dt.timedelta, str]:
    local = moment.astimezone(zone)
    offset = local.utcoffset() or dt.timedelta(0)
    return offset, local.tzname() or _offset(offset)


def _transitions(zone: dt.tzinfo, start: dt.datetime, end: dt.datetime) -> list[_Transition]:
    """Every change of UTC offset or zone abbreviation between two UTC moments, to the second."""
    found = []
    step = dt.timedelta(hours=12)
    moment, state = start, _observance(zone, start)
    while moment < end:
        following = min(moment + step, end)
        after = _observance(zone, following)
        if after != state:
            low, high = int(moment.timestamp()), int(following.timestamp())
            while high - low > 1:
                middle = (low + high) // 2
                if _observance(zone, dt.datetime.fromtimestamp(middle, _UTC)) == state:
                    low = middle
                else:
                    high = middle
            at = dt.datetime.fromtimestamp(high, _UTC)
            after = _observance(zone, at)
            found.append(_Transition(at=at, before=state, after=after))
            moment, state = at, after
            continue
        moment = following
    return found


def _yearly_rule(starts: Sequence[dt.datetime], years: range) -> str | None:
    """An RRULE that yields exactly `starts` in `years` (one a year, same month, weekday and time), or None."""
    if sorted(start.year for start in starts) != list(years):
        return None
    first = starts[0]
    if any((s.month, s.weekday(), s.time()) != (first.month, first.weekday(), first.time()) for s in starts):
        return None
    code = _WEEKDAY_CODES[first.weekday()]
    if all((s + dt.timedelta(weeks=1)).month != s.month for s in starts):
        return f"FREQ=YEARLY;BYMONTH={first.month};BYDAY=-1{code}"
    ordinals = {(s.day - 1) // 7 + 1 for s in starts}
    if len(ordinals) == 1:
        return f"FREQ=YEARLY;BYMONTH={first.month};BYDAY={ordinals.pop()}{code}"
    return None


def _observance_lines(
    before: tuple[dt.timedelta, str], after: tuple[dt.timedelta, str], start: dt.datetime, extra: list[str]
) -> list[str]:
    kind = "DAYLIGHT" if after[0] > before[0] else "STANDARD"
    return [
        f"BEGIN:{kind}",
        f"DTSTART:{_local(start)}",
        *extra,
        f"TZOFFSETFROM:{_offset(before[0])}",
        f"TZOFFSETTO:{_offset(after[0])}",
        content_line("TZNAME", escape_text(after[1])),
        f"END:{kind}",
    ]


def vtimezone(zone_name: str, first: dt.date, last: dt.date) -> list[str]:
    """A VTIMEZONE for `zone_name`, checked against the zone database from a year before `first` to a year
    after `last` (so right for every moment from `first` to `last`)."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(zone_name)
    years = range(first.year - 1, last.year + 2)
    window_start = dt.datetime(years.start, 1, 1, tzinfo=_UTC)
    window_end = dt.datetime(years.stop, 1, 1, tzinfo=_UTC)
    transitions = _transitions(zone, window_start, window_end)
    groups: dict[tuple[tuple[dt.timedelta, str], tuple[dt.timedelta, str]], list[dt.datetime]] = {}
    for transition in transitions:
        groups.setdefault((transition.before, transition.after), []).append(transition.local_start)
    lines = ["BEGIN:VTIMEZONE", content_line("TZID", escape_text(zone_name))]
    rules = {key: _yearly_rule(starts, years) for key, starts in groups.items()}
    if groups and all(rules.values()):
        for (before, after), starts in groups.items():
            lines += _observance_lines(before, after, starts[0], [f"RRULE:{rules[(before, after)]}"])
    else:
        initial = _observance(zone, window_start)
        start = (window_start + initial[0]).replace(tzinfo=None)
        lines += _observance_lines(initial, initial, start, [])
        for (before, after), starts in groups.items():
            rdates = [f"RDATE:{','.join(_local(s) for s in starts[1:])}"] if starts[1:] else []
            lines += _observance_lines(before, after, starts[0], rdates)
    return [*lines, "END:VTIMEZONE"]


# --- events --------------------------------------------------------------------------------------------------


class _Event(NamedTuple):
    uid: str
    kind: str
    start: dt.date
    body: tuple[str, ...]
    """Content lines (unfolded) without UID, DTSTAMP and SEQUENCE; the VALARM included."""

    @property
    def digest(self) -> str:
        return hashlib.sha256("\n".join(self.body).encode("utf-8")).hexdigest()[:16]


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


def mode_label(mode: Mode) -> str:
    return {Mode.COFFEE: "Coffee", Mode.LUNCH: "Lunch", Mode.CALL: "Call"}[mode]


def _agenda_lines() -> list[str]:
    return ["Agenda:", *(f"- {item}" for item in AGENDA)]


def _slot_event(slot: Slot, peer: Peer, settings: Settings, home_id: str, alarm: int | None) -> _Event:
    summary = f"{mode_label(slot.mode)} with {peer.name}"
    description = "\n".join(
        [
            f"Peer meeting with {peer.name} ({slot.mode.value}, {settings.duration} minutes).",
            "",
            *_agenda_lines(),
            "",
            CONFIDENTIAL,
            "Afterwards, note what it gave you: peerloop log",
        ]
    )
    body = [
        content_line("DTSTART", _local(slot.start), [("TZID", settings.timezone)]),
        content_line("DTEND", _local(slot.end), [("TZID", settings.timezone)]),
        content_line("SUMMARY", escape_text(summary)),
        content_line("DESCRIPTION", escape_text(description)),
        *_people(settings, peer, invite=False),
        "STATUS:CONFIRMED",
        "TRANSP:OPAQUE",
    ]
    if alarm is not None:
        body += [
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            content_line("DESCRIPTION", escape_text(summary)),
            f"TRIGGER:-PT{alarm}M",
            "END:VALARM",
        ]
    return _Event(uid=slot_uid(home_id, slot.week), kind=SLOT, start=slot.date, body=tuple(body))


def _people(settings: Settings, peer: Peer, invite: bool) -> list[str]:
    """ORGANIZER when the leader's email is known; ATTENDEE only with an ORGANIZER (RFC 5545 3.8.4.3)."""
    if not settings.email:
        return []
    lines = [content_line("ORGANIZER", f"mailto:{settings.email}", [("CN", settings.name)])]
    if peer.email:
        params = [("CN", peer.name), ("ROLE", "REQ-PARTICIPANT"), ("PARTSTAT", "NEEDS-ACTION")]
        if invite:
            params.append(("RSVP", "TRUE"))
        lines.append(content_line("ATTENDEE", f"mailto:{peer.email}", params))
    return lines


def _cancelled_slot_event(slot: Slot, settings: Settings, home_id: str) -> _Event:
    body = (
        content_line("DTSTART", _local(slot.start), [("TZID", settings.timezone)]),
        content_line("DTEND", _local(slot.end), [("TZID", settings.timezone)]),
        content_line("SUMMARY", escape_text("Cancelled: peer meeting")),
        content_line("DESCRIPTION", escape_text("Every peer is paused this week: no peer meeting.")),
        "STATUS:CANCELLED",
        "TRANSP:TRANSPARENT",
    )
    return _Event(uid=slot_uid(home_id, slot.week), kind=SLOT, start=slot.date, body=body)


def _review_event(settings: Settings, home_id: str) -> _Event:
    end = settings.trial_end
    description = "\n".join(
        [
            f"{settings.trial_months} months of peer meetings ({settings.trial_start.isoformat()} to "
            f"{end.isoformat()}): did they add value?",
            "",
            "Look at the process (did the meetings happen, did the cadence and format work) and at the "
            "content (what did they give: advice, strength, motivation).",
            "",
            *(f"- {question}" for question in REVIEW_QUESTIONS),
            "",
            "Record it: peerloop review",
        ]
    )
    body = (
        content_line("DTSTART", _date(end), [("VALUE", "DATE")]),
        content_line("DTEND", _date(end + dt.timedelta(days=1)), [("VALUE", "DATE")]),
        content_line("SUMMARY", escape_text("Peer network review: continue, adjust or stop?")),
        content_line("DESCRIPTION", escape_text(description)),
        "STATUS:CONFIRMED",
        "TRANSP:TRANSPARENT",
    )
    return _Event(uid=review_uid(home_id, settings.trial_start), kind=REVIEW, start=end, body=body)


def _cancelled_review_event(uid: str, day: dt.date) -> _Event:
    body = (
        content_line("DTSTART", _date(day), [("VALUE", "DATE")]),
        content_line("DTEND", _date(day + dt.timedelta(days=1)), [("VALUE", "DATE")]),
        content_line("SUMMARY", escape_text("Cancelled: peer network review")),
        content_line("DESCRIPTION", escape_text("The trial's dates changed: the review moved.")),
        "STATUS:CANCELLED",
        "TRANSP:TRANSPARENT",
    )
    return _Event(uid=uid, kind=REVIEW, start=day, body=body)


# --- assembling files ----------------------------------------------------------------------------------------


def _assemble(
    header: Sequence[str],
    zone: str,
    events: Sequence[_Event],
    state: CalendarState,
    now: dt.datetime,
    span: tuple[dt.date, dt.date],
    cancelled: Sequence[str] = (),
) -> Built:
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    records = dict(state.events)
    changed, added = [], []
    out = bytearray()
    for line in ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", *header]:
        out += fold(line)
    if any(line.startswith("DTSTART;TZID=") for event in events for line in event.body):
        for line in vtimezone(zone, *span):
            out += fold(line)
    for event in events:
        record = records.get(event.uid)
        if record is None:
            sequence = 0
            added.append(event.uid)
        elif record.digest != event.digest:
            sequence = record.sequence + 1
            changed.append(event.uid)
        else:
            sequence = record.sequence
        records[event.uid] = EventRecord(event.kind, event.start, event.digest, sequence)
        lines = [
            "BEGIN:VEVENT",
            content_line("UID", escape_text(event.uid)),
            f"DTSTAMP:{_utc(now)}",
            f"SEQUENCE:{sequence}",
            *event.body,
            "END:VEVENT",
        ]
        for line in lines:
            out += fold(line)
    out += fold("END:VCALENDAR")
    today = now.date()
    kept = {
        uid: record
        for uid, record in records.items()
        if record.kind != SLOT or record.start >= today - PRUNE_AFTER
    }
    return Built(
        data=bytes(out),
        state=state._replace(events=kept),
        uids=tuple(event.uid for event in events),
        changed=tuple(uid for uid in changed if uid not in cancelled),
        added=tuple(added),
        cancelled=tuple(uid for uid in cancelled if uid in changed),
    )


def build_export(
    slots: Sequence[Slot],
    settings: Settings,
    state: CalendarState,
    now: dt.datetime,
    alarm: int | None = None,
) -> Built:
    """The leader's file: one event per planned slot with a peer, and the review date. No METHOD.

    A week that was exported with a peer and now has none (every peer paused) is sent as cancelled, and
    so is a review exported for a trial start that changed, while its date is still ahead.
    """
    if alarm is not None and alarm < 0:
        raise ValueError("alarm minutes cannot be negative")
    today = now.astimezone(_zone(settings)).date()
    events: list[_Event] = []
    cancelled: list[str] = []
    for slot in slots:
        if slot.peer is not None:
            events.append(_slot_event(slot, slot.peer, settings, state.home_id, alarm))
        elif slot_uid(state.home_id, slot.week) in state.events:
            events.append(_cancelled_slot_event(slot, settings, state.home_id))
            cancelled.append(events[-1].uid)
    review = _review_event(settings, state.home_id)
    for uid, record in sorted(state.events.items()):
        if record.kind == REVIEW and uid != review.uid and record.start >= today:
            events.append(_cancelled_review_event(uid, record.start))
            cancelled.append(uid)
    events.append(review)
    header = [
        content_line("NAME", escape_text(CALENDAR_NAME)),
        content_line("X-WR-CALNAME", escape_text(CALENDAR_NAME)),
        content_line("X-WR-TIMEZONE", escape_text(settings.timezone)),
    ]
    dates = [event.start for event in events]
    return _assemble(header, settings.timezone, events, state, now, (min(dates), max(dates)), cancelled)


def build_invite(
    peer: Peer,
    first: Slot,
    interval: int,
    settings: Settings,
    state: CalendarState,
    now: dt.datetime,
) -> Built:
    """One peer's invite: their meeting every `interval` weeks from `first` until the review date.

    METHOD:REQUEST with one VEVENT, ORGANIZER the leader and ATTENDEE the peer: both emails are needed.
    """
    if not settings.email:
        raise ConflictError(
            "an invite needs your email as its organizer; set it with `peerloop init --email ADDRESS`"
        )
    if not peer.email:
        import shlex

        raise ConflictError(
            f"{peer.name} has no email to send the invite to; set it with "
            f"`peerloop edit {shlex.quote(peer.name)} --email ADDRESS`"
        )
    if interval < 1:
        raise ValueError("interval must be at least 1")
    review = settings.trial_end
    last_trial_week = first_trial_week(settings) + dt.timedelta(weeks=settings.trial_weeks - 1)
    if first.week > last_trial_week:
        raise ConflictError(
            f"{peer.name}'s next meeting ({first.date.isoformat()}) is after the trial's last week (the review "
            f"is on {review.isoformat()}); nothing to invite to"
        )
    last_week = first.week
    while last_week + dt.timedelta(weeks=interval) <= last_trial_week:
        last_week += dt.timedelta(weeks=interval)
    until = slot_times(settings, last_week)[0]
    every = "every week" if interval == 1 else f"every {interval} weeks"
    mode = mode_label(first.mode)
    description = "\n".join(
        [
            f"Our peer meeting ({first.mode.value}, {settings.duration} minutes), {every} until "
            f"{review.isoformat()}, when {settings.name} reviews how the rotation works.",
            "",
            *_agenda_lines(),
            "",
            CONFIDENTIAL,
        ]
    )
    body = (
        content_line("DTSTART", _local(first.start), [("TZID", settings.timezone)]),
        content_line("DTEND", _local(first.end), [("TZID", settings.timezone)]),
        f"RRULE:FREQ=WEEKLY;INTERVAL={interval};UNTIL={_utc(until)}",
        content_line("SUMMARY", escape_text(f"{mode}: {settings.name} and {peer.name}")),
        content_line("DESCRIPTION", escape_text(description)),
        *_people(settings, peer, invite=True),
        "STATUS:CONFIRMED",
        "TRANSP:OPAQUE",
    )
    uid = invite_uid(state, peer)
    event = _Event(uid=uid, kind=SERIES, start=first.date, body=body)
    built = _assemble(["METHOD:REQUEST"], settings.timezone, [event], state, now, (first.date, review))
    return built._replace(state=built.state._replace(series={**built.state.series, peer.key: uid}))


def _zone(settings: Settings) -> dt.tzinfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo(settings.timezone)
