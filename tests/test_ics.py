"""Calendar files: golden bytes, strict parsing, names, time zones and DST, stable UIDs and SEQUENCE, privacy.

The builders (`peerloop.ics`, `peerloop.calendar`) are tested directly with Slots built here; the tests at
the end drive the commands. The real-software checks (khal, Radicale) are in test_ics_interop.py; the
helpers here are shared with it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peerloop import calendar, ics, invites, rotation, values
from peerloop.errors import ConflictError
from peerloop.models import Decision as ReviewDecision
from peerloop.models import (
    FollowUp,
    JournalYear,
    Meeting,
    Mode,
    Peer,
    Reflection,
    Review,
    Roster,
    Settings,
    Skip,
    Verdict,
)

if TYPE_CHECKING:
    from tests.conftest import Invoke

GOLDEN = Path(__file__).parent / "golden"
UPDATE_GOLDEN = "PEERLOOP_UPDATE_GOLDEN"
HOME_ID = "0f1e2d3c4b5a6978"
NOW = "2026-03-02T09:00"
LONG_NAME = ("Ωμέγα Ünal-" * 19)[:199] + "😀"
"""200 characters, most of them two or four octets: folds must fall between characters."""
TRICKY_PEERS = (
    ("Ann Lee", "ann@example.com", Mode.LUNCH),
    ('Bo "the boss" Chen; CTO, Acme \\ Labs', "bo@example.com", None),
    ("Zoë 😀 Ünal ^n", None, Mode.CALL),
    (LONG_NAME, "long@example.com", None),
)
HARD_NAMES = (
    "Trailing\\",
    "\\Leading",
    "Acme \\ Labs",
    'Bo "the boss" Chen',
    "O'Brien",
    "Lee, Ann",
    "Ann; CTO",
    "Dr: Who",
    "Pay ^ day ^n ^^ ^'",
    'Trailing "\\',
)
"""Names that once broke parameter values; each one must read back exactly as written."""
ESCAPE_LOOKALIKES = ("Ann\\;Lee", "Lee\\, Ann", "Dr\\: Who", "Two \\\\ backslashes")
"""A backslash before `;`, `,`, `:` or another backslash: RFC 5545 has no escapes in a parameter value,
but icalendar reads these four pairs as escapes (Google writes `CN=Lee\\, Ann`)."""


# --- reading calendar files the hard way (bytes, not a lenient library) --------------------------------------


def physical_lines(data: bytes) -> list[bytes]:
    """The file's lines: CRLF-terminated, none longer than 75 octets, each one valid UTF-8 on its own."""
    assert data.endswith(b"\r\n")
    lines = data[:-2].split(b"\r\n")
    for line in lines:
        assert b"\r" not in line, line
        assert b"\n" not in line, line
        assert len(line) <= 75, (len(line), line)
        line.decode("utf-8")
    return lines


def unfolded(data: bytes) -> list[str]:
    physical_lines(data)
    return data.replace(b"\r\n ", b"").replace(b"\r\n\t", b"").decode("utf-8").split("\r\n")[:-1]


def split_line(line: str) -> tuple[str, dict[str, str], str]:
    """NAME;P=V;P="V":VALUE -> (NAME, params, VALUE); a colon inside a quoted parameter is not the split."""
    quoted = False
    for n, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            head, value = line[:n], line[n + 1 :]
            break
    else:
        raise AssertionError(f"no value in {line!r}")
    name, *raw = re.findall(r'(?:[^;"]|"[^"]*")+', head)
    params = {}
    for item in raw:
        key, _, text = item.partition("=")
        params[key.upper()] = text[1:-1] if text.startswith('"') else text
    return name.upper(), params, value


def unescape(value: str) -> str:
    """A TEXT value, read strictly: an unescaped comma or semicolon is an error, not data."""
    out, n = [], 0
    while n < len(value):
        ch = value[n]
        if ch == "\\":
            following = value[n + 1]
            assert following in "\\;,nN", f"bad escape in {value!r}"
            out.append("\n" if following in "nN" else following)
            n += 2
            continue
        assert ch not in ",;", f"unescaped {ch!r} in TEXT value {value!r}"
        out.append(ch)
        n += 1
    return "".join(out)


def rfc_6868(value: str) -> str:
    """A parameter value decoded as RFC 6868 says (^^, ^n, ^' ; any other ^ stays)."""
    return re.sub(r"\^[\^n']", lambda m: {"^^": "^", "^n": "\n", "^'": '"'}[m.group(0)], value)


Event = dict[str, tuple[dict[str, str], str]]


def events_of(data: bytes) -> list[Event]:
    """Each VEVENT's own properties (not its VALARM's): name -> (params, raw value)."""
    found: list[Event] = []
    current: Event | None = None
    depth = 0
    for line in unfolded(data):
        if line == "BEGIN:VEVENT":
            current, depth = {}, 0
        elif line == "END:VEVENT":
            assert current is not None
            found.append(current)
            current = None
        elif current is not None and line.startswith("BEGIN:"):
            depth += 1
        elif current is not None and line.startswith("END:"):
            depth -= 1
        elif current is not None and depth == 0:
            name, params, value = split_line(line)
            assert name not in current, f"{name} twice in one event"
            current[name] = (params, value)
    return found


def content(event: Event) -> Event:
    """What an attendee's calendar compares: everything but DTSTAMP and SEQUENCE."""
    return {name: value for name, value in event.items() if name not in {"DTSTAMP", "SEQUENCE"}}


def check_file(data: bytes) -> list[Event]:
    """Every check a calendar file must pass, whatever it holds; returns its events."""
    lines = unfolded(data)
    assert lines[0] == "BEGIN:VCALENDAR"
    assert lines[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines
    found = events_of(data)
    for event in found:
        for name in ("UID", "DTSTAMP", "DTSTART", "SUMMARY"):
            assert name in event, f"{name} missing"
        assert re.fullmatch(r"\d{8}T\d{6}Z", event["DTSTAMP"][1])
        for name in ("SUMMARY", "DESCRIPTION"):
            if name in event:
                unescape(event[name][1])
        params, _ = event["DTSTART"]
        if "TZID" in params:
            assert f"TZID:{params['TZID']}" in lines, "a TZID without its VTIMEZONE"
        if "DTEND" in event:
            end_params, end = event["DTEND"]
            assert "TZID" in end_params or end.endswith("Z") or end_params.get("VALUE") == "DATE", end
    if "METHOD:CANCEL" not in lines:
        uids = [event["UID"][1] for event in found]
        assert len(uids) == len(set(uids))
    parse_strictly(data)
    return found


def parse_strictly(data: bytes) -> Any:
    from ical.calendar_stream import IcsCalendarStream

    return IcsCalendarStream.calendar_from_ics(data.decode("utf-8"))


def parse_with_icalendar(data: bytes) -> Any:
    from icalendar import Calendar

    return Calendar.from_ical(data)


def parse_with_vobject(data: bytes) -> Any:
    import vobject

    return vobject.readOne(data.decode("utf-8"))


# --- building plans ------------------------------------------------------------------------------------------


def make_settings(
    zone: str = "Europe/Berlin",
    start: dt.date = dt.date(2026, 3, 2),
    weekday: int = 1,
    time: dt.time = dt.time(8, 30),
    name: str = "Dana Ode",
) -> Settings:
    return Settings(
        name=name,
        timezone=zone,
        weekday=weekday,
        time=time,
        duration=45,
        mode=Mode.COFFEE,
        trial_start=start,
        email="dana@example.com",
    )


def make_roster(names: list[str], config: Settings, email: bool = True) -> Roster:
    peers = tuple(
        Peer(name=name, added=config.trial_start, email=f"p{n}@example.com" if email else None)
        for n, name in enumerate(names)
    )
    return Roster(settings=config, peers=peers)


def whole_trial(
    roster: Roster, config: Settings, today: dt.date | None = None, history: rotation.History | None = None
) -> list[rotation.Slot]:
    history = history or rotation.History(last_met={}, done_weeks=frozenset())
    day = today or config.trial_start
    first = rotation.first_open_week(config, history, day)
    return rotation.plan(roster, config, history, day, rotation.trial_weeks_left(config, first))


def moment(config: Settings, text: str = NOW) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(config.timezone))


def real_slot(zone: str, day: dt.date, at: dt.time, peer: Peer | None, minutes: int = 45) -> rotation.Slot:
    """A slot as the rotation gives it: a time in a DST gap moved forward, the first of a repeated hour,
    and the end `minutes` later in real time."""
    tz = ZoneInfo(zone)
    start = dt.datetime.combine(day, at, tzinfo=tz).astimezone(dt.UTC)
    week = rotation.week_start(day)
    return rotation.Slot(week, start.astimezone(tz), (start + dt.timedelta(minutes=minutes)).astimezone(tz),
                         peer, Mode.COFFEE)  # fmt: skip


def empty_state() -> calendar.CalendarState:
    return calendar.CalendarState(HOME_ID)


def tricky_roster() -> Roster:
    """The golden roster: a leader in Europe/Berlin, trial from 2026-03-02 (spans the DST change on 03-29)."""
    config = make_settings()
    peers = tuple(
        Peer(name=name, added=config.trial_start, email=email, mode=mode)
        for name, email, mode in TRICKY_PEERS
    )
    return Roster(settings=config, peers=peers)


def golden(name: str, data: bytes) -> None:
    path = GOLDEN / name
    if os.environ.get(UPDATE_GOLDEN):
        path.write_bytes(data)
    assert data == path.read_bytes(), f"{name} changed; if that is intended, rerun with {UPDATE_GOLDEN}=1"


def golden_export() -> ics.Built:
    roster = tricky_roster()
    config = roster.settings
    assert config is not None
    return ics.build_export(whole_trial(roster, config), config, empty_state(), moment(config), alarm=15)


def golden_invite() -> ics.Built:
    roster = tricky_roster()
    config = roster.settings
    assert config is not None
    bo = roster.peers[1]
    first = next(slot for slot in whole_trial(roster, config) if slot.peer == bo)
    return ics.build_invite(bo, first, len(roster.peers), config, empty_state(), moment(config))


def golden_cancel() -> ics.Built:
    """The invite above, then two of its meetings (the weeks of 2026-04-06 and 2026-05-04) cancelled."""
    roster = tricky_roster()
    config = roster.settings
    assert config is not None
    invite = golden_invite()
    weeks = [dt.date(2026, 4, 6), dt.date(2026, 5, 4)]
    later = moment(config, "2026-03-20T10:00")
    return ics.build_invite_cancel(roster.peers[1], config, invite.state, later, weeks)


# --- golden files --------------------------------------------------------------------------------------------


def test_export_matches_the_golden_file() -> None:
    golden("export.ics", golden_export().data)


def test_invite_matches_the_golden_file() -> None:
    golden("invite.ics", golden_invite().data)


def test_invite_cancel_matches_the_golden_file() -> None:
    golden("invite-cancel.ics", golden_cancel().data)


def test_the_golden_export_reads_back_exactly() -> None:
    data = golden_export().data
    found = check_file(data)
    lines = unfolded(data)
    assert not any(line.startswith("METHOD") for line in lines)
    assert "X-WR-CALNAME:Peer meetings (peerloop)" in lines
    assert "NAME:Peer meetings (peerloop)" in lines
    assert len(found) == 27, "the trial's 26 weekly meetings and the review"
    summaries = [unescape(event["SUMMARY"][1]) for event in found]
    assert summaries[:4] == [
        "Lunch with Ann Lee",
        'Coffee with Bo "the boss" Chen; CTO, Acme \\ Labs',
        "Call with Zoë 😀 Ünal ^n",
        f"Coffee with {LONG_NAME}",
    ]
    assert summaries[-1] == "Peer network review: continue, adjust or stop?"
    review = found[-1]
    assert review["DTSTART"] == ({"VALUE": "DATE"}, "20260902")
    for question in calendar.REVIEW_QUESTIONS:
        assert question in unescape(review["DESCRIPTION"][1])
    first = found[0]
    assert first["DTSTART"] == ({"TZID": "Europe/Berlin"}, "20260303T083000")
    assert first["DTEND"] == ({"TZID": "Europe/Berlin"}, "20260303T091500")
    assert first["DTSTAMP"][1] == "20260302T080000Z"
    assert first["ORGANIZER"] == ({"CN": "Dana Ode"}, "mailto:dana@example.com")
    assert first["ATTENDEE"][1] == "mailto:ann@example.com"
    assert "ATTENDEE" not in found[2], "no email, no attendee"
    assert rfc_6868(found[1]["ATTENDEE"][0]["CN"]) == TRICKY_PEERS[1][0]
    assert "TRIGGER:-PT15M" in lines
    assert "ACTION:DISPLAY" in lines
    description = unescape(first["DESCRIPTION"][1])
    for item in calendar.AGENDA:
        assert item in description


def test_icalendar_reads_the_golden_files_the_same_way() -> None:
    """A second, independent reader: icalendar 7 sees the same events, names and times."""
    calendar_file = parse_with_icalendar((GOLDEN / "export.ics").read_bytes())
    events = list(calendar_file.walk("VEVENT"))
    assert len(events) == 27
    assert str(events[1]["SUMMARY"]) == 'Coffee with Bo "the boss" Chen; CTO, Acme \\ Labs'
    assert events[1]["ATTENDEE"].params["CN"] == 'Bo "the boss" Chen; CTO, Acme \\ Labs'
    assert str(events[3]["SUMMARY"]) == f"Coffee with {LONG_NAME}"
    berlin = ZoneInfo("Europe/Berlin")
    starts = [event.decoded("DTSTART") for event in events[:-1]]
    assert all(start.astimezone(berlin).time() == dt.time(8, 30) for start in starts)
    assert {start.utcoffset() for start in starts} == {dt.timedelta(hours=1), dt.timedelta(hours=2)}
    assert {event.end - event.start for event in events[:-1]} == {dt.timedelta(minutes=45)}
    invite = parse_with_icalendar((GOLDEN / "invite.ics").read_bytes())
    assert str(invite["METHOD"]) == "REQUEST"
    assert len(list(invite.walk("VEVENT"))) == 1
    cancel = parse_with_icalendar((GOLDEN / "invite-cancel.ics").read_bytes())
    assert str(cancel["METHOD"]) == "CANCEL"
    (uid,) = {str(event["UID"]) for event in invite.walk("VEVENT")}
    assert {str(event["UID"]) for event in cancel.walk("VEVENT")} == {uid}


# --- names and text ------------------------------------------------------------------------------------------


def test_a_newline_in_a_name_cannot_inject_a_property_or_an_event() -> None:
    config = make_settings()
    peer = Peer(name="Eve\r\nEND:VEVENT\r\nBEGIN:VEVENT\nUID:evil", added=config.trial_start)
    slots = whole_trial(Roster(settings=config, peers=(peer,)), config)[:2]
    built = ics.build_export(slots, config, empty_state(), moment(config))
    found = check_file(built.data)
    assert len(found) == 3
    assert unescape(found[0]["SUMMARY"][1]) == "Coffee with Eve\nEND:VEVENT\nBEGIN:VEVENT\nUID:evil"


def test_control_characters_never_reach_a_text_value() -> None:
    config = make_settings()
    peer = Peer(name="bell\x07 del\x7f tab\t end", added=config.trial_start)
    built = ics.build_export(whole_trial(Roster(settings=config, peers=(peer,)), config)[:1], config,
                             empty_state(), moment(config))  # fmt: skip
    (event, _) = check_file(built.data)
    assert unescape(event["SUMMARY"][1]) == "Coffee with bell del tab\t end"


@pytest.mark.parametrize("name", HARD_NAMES)
def test_hard_names_read_back_identically_in_icalendar_ical_and_vobject(name: str) -> None:
    """Attendee and organizer CN, and SUMMARY: the same text in three independent readers.

    vobject 0.9.9 (the newest) does not decode RFC 6868, the only way a double quote can be in a
    parameter; for names with `"` or `^` it shows the encoded form, which decodes to the name."""
    config = make_settings(name=name)
    peer = Peer(name=name, added=config.trial_start, email="peer@example.com")
    first = whole_trial(Roster(settings=config, peers=(peer,)), config)[0]
    for built in (
        ics.build_export([first], config, empty_state(), moment(config)),
        ics.build_invite(peer, first, 1, config, empty_state(), moment(config)),
    ):
        check_file(built.data)
        event = parse_with_icalendar(built.data).walk("VEVENT")[0]
        assert [event["ORGANIZER"].params["CN"], event["ATTENDEE"].params["CN"]] == [name, name]
        assert name in str(event["SUMMARY"])
        strict = parse_strictly(built.data).events[0]
        assert [strict.organizer.common_name, strict.attendees[0].common_name] == [name, name]
        assert name in strict.summary
        other = parse_with_vobject(built.data).vevent
        read = [other.organizer.params["CN"], other.attendee.params["CN"]]
        if set(name) & set('"^'):
            assert [rfc_6868(value) for (value,) in read] == [name, name]
        else:
            assert read == [[name], [name]]
        assert name in other.summary.value


def test_a_backslash_before_a_separator_reads_back_as_written_by_the_rfc_readers() -> None:
    """ical and vobject follow RFC 5545 and read each name exactly; icalendar drops the backslash of the
    pairs it takes for escapes. No encoding satisfies both: the file follows the RFC."""
    config = make_settings()
    peers = tuple(
        Peer(name, config.trial_start, email=f"p{n}@example.com") for n, name in enumerate(ESCAPE_LOOKALIKES)
    )
    slots = whole_trial(Roster(settings=config, peers=peers), config)[: len(peers)]
    built = ics.build_export(slots, config, empty_state(), moment(config))
    check_file(built.data)
    expected = [slot.peer.name for slot in slots if slot.peer]
    assert [event.attendees[0].common_name for event in parse_strictly(built.data).events[:-1]] == expected
    assert [
        event.attendee.params["CN"][0] for event in parse_with_vobject(built.data).vevent_list[:-1]
    ] == expected
    lenient = [
        event["ATTENDEE"].params["CN"] for event in parse_with_icalendar(built.data).walk("VEVENT")[:-1]
    ]
    assert lenient == [re.sub(r"\\([\\;,:])", r"\1", name) for name in expected]


names = st.text(
    alphabet=st.one_of(
        st.characters(exclude_categories=("Cc", "Cs")),
        st.sampled_from([*",;:\"'\\^ ", "😀", "👩", "\u200d", "é", "\u0301", "中"]),
    ),
    min_size=1,
    max_size=values.MAX_NAME_LENGTH,
)


def clean_names(raw: list[str]) -> list[str]:
    cleaned: dict[str, str] = {}
    for name in raw:
        try:
            name = values.clean_name(name)
        except ValueError:
            continue
        cleaned.setdefault(name.casefold().strip(), name)
    return list(cleaned.values())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(names, min_size=1, max_size=5))
def test_any_names_make_files_a_strict_parser_accepts(raw: list[str]) -> None:
    peer_names = clean_names(raw)
    if not peer_names:
        return
    config = make_settings()
    roster = make_roster(peer_names, config)
    slots = whole_trial(roster, config)[:8]
    built = ics.build_export(slots, config, empty_state(), moment(config), alarm=10)
    found = check_file(built.data)
    assert len(found) == len(slots) + 1
    strict = parse_strictly(built.data).events
    lenient = parse_with_icalendar(built.data).walk("VEVENT")
    assert len(strict) == len(lenient) == len(slots) + 1
    for event, parsed, other, slot in zip(found, strict, lenient, slots, strict=False):
        assert slot.peer is not None
        summary = f"{calendar.mode_label(slot.mode)} with {slot.peer.name}"
        assert unescape(event["SUMMARY"][1]) == parsed.summary == str(other["SUMMARY"]) == summary
        assert rfc_6868(event["ATTENDEE"][0]["CN"]) == slot.peer.name
        assert parsed.attendees[0].common_name == slot.peer.name
        # icalendar's reader (not RFC 5545, which has no escapes in parameter values) halves `\\` there
        assert other["ATTENDEE"].params["CN"] == slot.peer.name.replace("\\\\", "\\")
    peer = roster.peers[0]
    first = next(slot for slot in slots if slot.peer == peer)
    invite = ics.build_invite(peer, first, len(roster.peers), config, empty_state(), moment(config))
    (event,) = check_file(invite.data)
    assert unescape(event["SUMMARY"][1]) == f"Coffee: Dana Ode and {peer.name}"


def test_icalendar_7_folding_is_character_safe() -> None:
    """Checked at byte level: icalendar 7.3 counts octets per character, so it never splits one."""
    config = make_settings()
    roster = make_roster(["a" + "😀" * 40, "é" * 80, "中" * 60 + "a", "x" * 40 + "\\,;" * 20], config)
    built = ics.build_export(whole_trial(roster, config)[:4], config, empty_state(), moment(config))
    for event, slot in zip(check_file(built.data), whole_trial(roster, config)[:4], strict=False):
        assert slot.peer is not None
        assert unescape(event["SUMMARY"][1]) == f"Coffee with {slot.peer.name}"


# --- time zones ----------------------------------------------------------------------------------------------


def vtimezone_lines(zone: str) -> list[str]:
    component = ics.vtimezone(zone, dt.date(2026, 3, 2), dt.date(2026, 9, 2))
    text: str = component.to_ical(sorted=False).decode("utf-8")
    return text.split("\r\n")[:-1]


@pytest.mark.parametrize(
    ("zone", "form"),
    [
        ("Europe/Berlin", "RRULE"),
        ("America/New_York", "RRULE"),
        ("Australia/Sydney", "RRULE"),
        ("Australia/Lord_Howe", "RRULE"),
        ("Pacific/Chatham", "RRULE"),
        ("America/Havana", "RRULE"),
        ("America/Santiago", "RRULE"),
        ("Europe/Dublin", "RRULE"),
        ("America/St_Johns", "RRULE"),
        ("Asia/Tokyo", None),
        ("Asia/Kolkata", None),
        ("UTC", None),
        ("Africa/Casablanca", "RDATE"),
    ],
)
def test_the_generated_vtimezone_agrees_with_the_zone_database(zone: str, form: str | None) -> None:
    """Read back by icalendar (an independent implementation), hour by hour over the calendar's years."""
    lines = vtimezone_lines(zone)
    kinds = {line.split(":")[0] for line in lines if line.startswith(("RRULE", "RDATE"))}
    assert kinds == ({form} if form else set())
    text = "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:x", *lines, "END:VCALENDAR", ""])
    generated = parse_with_icalendar(text.encode()).timezones[0].to_tz()
    real = ZoneInfo(zone)
    instant = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    while instant < dt.datetime(2027, 12, 31, tzinfo=dt.UTC):
        assert instant.astimezone(generated).utcoffset() == instant.astimezone(real).utcoffset(), instant
        instant += dt.timedelta(hours=1)


def test_berlin_gets_the_rrule_form_outlook_understands() -> None:
    assert vtimezone_lines("Europe/Berlin") == [
        "BEGIN:VTIMEZONE", "TZID:Europe/Berlin",
        "BEGIN:DAYLIGHT", "DTSTART:20250330T020000", "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3",
        "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "TZNAME:CEST", "END:DAYLIGHT",
        "BEGIN:STANDARD", "DTSTART:20251026T030000", "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10",
        "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "TZNAME:CET", "END:STANDARD",
        "END:VTIMEZONE",
    ]  # fmt: skip


DST_CASES = [  # Havana's autumn of 2025: tzdata 2026f (pytz, khal) and 2025b (this system) differ on 2026
    pytest.param("America/New_York", dt.date(2026, 3, 8), dt.time(2, 30), id="new-york-gap"),
    pytest.param("America/New_York", dt.date(2026, 11, 1), dt.time(1, 30), id="new-york-overlap"),
    pytest.param("Europe/Berlin", dt.date(2026, 3, 29), dt.time(2, 30), id="berlin-gap"),
    pytest.param("Europe/Berlin", dt.date(2026, 3, 29), dt.time(1, 45), id="berlin-across-the-gap"),
    pytest.param("Europe/Berlin", dt.date(2026, 10, 25), dt.time(2, 30), id="berlin-overlap"),
    pytest.param("America/Santiago", dt.date(2026, 9, 6), dt.time(0, 30), id="santiago-gap-at-midnight"),
    pytest.param("America/Santiago", dt.date(2026, 4, 4), dt.time(23, 30), id="santiago-overlap"),
    pytest.param("America/Havana", dt.date(2026, 3, 8), dt.time(0, 30), id="havana-gap-at-midnight"),
    pytest.param("America/Havana", dt.date(2025, 11, 2), dt.time(0, 30), id="havana-overlap-at-midnight"),
    pytest.param("Australia/Lord_Howe", dt.date(2026, 10, 4), dt.time(2, 15), id="lord-howe-30-minute-gap"),
    pytest.param(
        "Australia/Lord_Howe", dt.date(2026, 4, 5), dt.time(1, 45), id="lord-howe-30-minute-overlap"
    ),
    pytest.param("Pacific/Chatham", dt.date(2026, 9, 27), dt.time(3, 0), id="chatham-45-minute-offset-gap"),
    pytest.param(
        "Pacific/Chatham", dt.date(2026, 4, 5), dt.time(3, 0), id="chatham-45-minute-offset-overlap"
    ),
]


def dst_plan(zone: str, day: dt.date, at: dt.time) -> tuple[Settings, Peer, list[rotation.Slot]]:
    """Three weekly meetings at `at`, the middle one on the day of the change."""
    config = make_settings(zone=zone, start=day - dt.timedelta(weeks=2), weekday=day.weekday(), time=at)
    peer = Peer("Ann Lee", config.trial_start, email="ann@example.com")
    days = [day + dt.timedelta(weeks=n) for n in (-1, 0, 1)]
    return config, peer, [real_slot(zone, each, at, peer) for each in days]


def utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC)


@pytest.mark.parametrize(("zone", "day", "at"), DST_CASES)
def test_a_meeting_on_a_dst_change_starts_at_its_real_moment_and_lasts_its_duration(
    zone: str, day: dt.date, at: dt.time
) -> None:
    """Three readers see the plan's start and an end exactly 45 minutes later, in real time."""
    config, _, slots = dst_plan(zone, day, at)
    built = ics.build_export(
        slots, config, empty_state(), moment(config, f"{day - dt.timedelta(weeks=2)}T09:00")
    )
    check_file(built.data)
    expected = [(utc(slot.start), utc(slot.start) + dt.timedelta(minutes=45)) for slot in slots]
    assert [(utc(slot.start), utc(slot.end)) for slot in slots] == expected
    strict = parse_strictly(built.data).events[:3]
    assert [(utc(event.dtstart), utc(event.end)) for event in strict] == expected
    for event, slot in zip(events_of(built.data), slots, strict=False):
        repeated = slot.start.replace(fold=1).utcoffset() != slot.start.replace(fold=0).utcoffset()
        assert event["DTSTART"] == (
            ({}, f"{utc(slot.start):%Y%m%dT%H%M%SZ}")
            if repeated
            else ({"TZID": zone}, f"{slot.start:%Y%m%dT%H%M%S}")
        ), "a wall time of a repeated hour is written in UTC; a gap time is moved forward"
    lenient = parse_with_icalendar(built.data).walk("VEVENT")[:3]
    assert [(utc(event.start), utc(event.end)) for event in lenient] == expected
    other = parse_with_vobject(built.data).vevent_list[:3]
    assert [(utc(event.dtstart.value), utc(event.dtend.value)) for event in other] == expected


@pytest.mark.parametrize(("zone", "day", "at"), DST_CASES)
def test_an_invite_through_a_dst_change_meets_when_the_plan_says(
    zone: str, day: dt.date, at: dt.time
) -> None:
    """The series is written at the weekly wall time; RFC 5545 resolves the change day as the plan does."""
    config, peer, slots = dst_plan(zone, day, at)
    for index in (0, 1):
        first = slots[index]
        built = ics.build_invite(peer, first, 1, config, empty_state(), moment(config, f"{first.date}T00:00"))
        (event,) = check_file(built.data)
        assert event["DURATION"][1] == "PT45M", "exact time (RFC 5545 3.3.6), the same for every meeting"
        expanded = [utc(item.dtstart) for item in parse_strictly(built.data).timeline_tz(ZoneInfo(zone))]
        assert expanded[: 3 - index] == [utc(slot.start) for slot in slots[index:]]


# --- the invite ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "start", "count"),
    [
        ("Europe/Berlin", dt.date(2026, 3, 2), 4),
        ("America/New_York", dt.date(2026, 9, 7), 5),
        ("Australia/Sydney", dt.date(2026, 2, 2), 3),
    ],
)
def test_the_invite_recurrence_expands_to_the_planned_dates(zone: str, start: dt.date, count: int) -> None:
    config = make_settings(zone=zone, start=start, weekday=2)
    roster = make_roster([f"Peer {n}" for n in range(count)], config)
    slots = whole_trial(roster, config)
    for peer in roster.peers:
        planned = [slot.start for slot in slots if slot.peer == peer]
        first = next(slot for slot in slots if slot.peer == peer)
        built = ics.build_invite(peer, first, count, config, empty_state(), moment(config, f"{start}T07:00"))
        (event,) = check_file(built.data)
        assert f"INTERVAL={count}" in event["RRULE"][1]
        expanded = [item.dtstart for item in parse_strictly(built.data).timeline_tz(ZoneInfo(zone))]
        assert expanded == planned
        for item in expanded:
            assert item.astimezone(ZoneInfo(zone)).time() == dt.time(8, 30)


def test_an_invite_is_one_request_with_one_uid() -> None:
    config = make_settings()
    roster = make_roster(["Ann Lee", "Bo Chen"], config)
    slots = whole_trial(roster, config)
    built = ics.build_invite(roster.peers[1], slots[1], 2, config, empty_state(), moment(config))
    lines = unfolded(built.data)
    assert "METHOD:REQUEST" in lines
    assert lines.count("BEGIN:VEVENT") == 1
    (event,) = events_of(built.data)
    assert event["ORGANIZER"] == ({"CN": "Dana Ode"}, "mailto:dana@example.com")
    params, address = event["ATTENDEE"]
    assert address == "mailto:p1@example.com"
    assert params == {"CN": "Bo Chen", "ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION", "RSVP": "TRUE"}
    rule = dict(part.split("=") for part in event["RRULE"][1].split(";"))
    assert rule == {"FREQ": "WEEKLY", "INTERVAL": "2", "UNTIL": "20260825T063000Z"}
    assert event["SEQUENCE"][1] == "0"
    assert built.uids == built.added == (event["UID"][1],)


@pytest.mark.parametrize(
    ("leader_email", "peer_email", "message"),
    [
        (None, "ann@example.com", "an invite needs your email as its organizer; set it with "
                                  "`peerloop init --email ADDRESS`"),
        ("dana@example.com", None, "Ann O'Lee has no email to send the invite to; set it with "
                                   "`peerloop edit 'Ann O'\"'\"'Lee' --email ADDRESS`"),
    ],
)  # fmt: skip
def test_an_invite_needs_both_emails(leader_email: str | None, peer_email: str | None, message: str) -> None:
    config = make_settings()._replace(email=leader_email)
    peer = Peer("Ann O'Lee", config.trial_start, email=peer_email)
    first = whole_trial(Roster(settings=config, peers=(peer,)), config)[0]
    with pytest.raises(ConflictError) as raised:
        ics.build_invite(peer, first, 1, config, empty_state(), moment(config))
    assert raised.value.message == message


def test_invite_warns_only_when_the_plan_really_differs_from_the_series() -> None:
    """The series and the comparison end on the same date: the series' last meeting, not the review."""
    config = make_settings()
    roster = make_roster(["A", "B", "C", "D", "E"], config)
    slots = whole_trial(roster, config)
    peer = roster.peers[0]
    planned = [slot.date for slot in slots if slot.peer == peer]
    until = invites.last_series_date(config, planned[0], 5)
    assert until == planned[-1] < config.trial_end - dt.timedelta(weeks=1)
    assert not invites.irregular_series(planned, planned[0], 5, until)
    paused = roster._replace(peers=(roster.peers[0], roster.peers[1]._replace(paused_until=dt.date(2026, 4, 20)),
                                    *roster.peers[2:]))  # fmt: skip
    shifted = [slot.date for slot in whole_trial(paused, config) if slot.peer == peer]
    assert invites.irregular_series(shifted, shifted[0], 5, invites.last_series_date(config, shifted[0], 5))


def test_the_series_ends_on_its_last_meeting_within_the_trial() -> None:
    config = make_settings()
    assert invites.last_series_date(config, dt.date(2026, 3, 3), 1) == dt.date(2026, 8, 25)
    assert invites.last_series_date(config, dt.date(2026, 3, 10), 4) == dt.date(2026, 8, 25)
    assert invites.last_series_date(config, dt.date(2026, 3, 3), 4) == dt.date(2026, 8, 18)
    with pytest.raises(ValueError, match="interval"):
        invites.last_series_date(config, dt.date(2026, 3, 3), 0)


# --- cancelling an invite ------------------------------------------------------------------------------------


def test_cancelling_a_whole_series_sends_one_cancel_with_a_higher_sequence() -> None:
    config = make_settings()
    roster = make_roster(["Ann Lee", "Bo Chen"], config)
    invite = ics.build_invite(roster.peers[1], whole_trial(roster, config)[1], 2, config, empty_state(),
                              moment(config))  # fmt: skip
    cancel = ics.build_invite_cancel(roster.peers[1], config, invite.state, moment(config), None)
    lines = unfolded(cancel.data)
    assert "METHOD:CANCEL" in lines
    (event,) = check_file(cancel.data)
    assert event["UID"] == events_of(invite.data)[0]["UID"]
    assert (event["SEQUENCE"][1], event["STATUS"][1]) == ("1", "CANCELLED")
    assert "RECURRENCE-ID" not in event
    assert event["ATTENDEE"][1] == "mailto:p1@example.com"
    assert cancel.cancelled == cancel.uids == (event["UID"][1],)
    again = ics.build_invite(roster.peers[1], whole_trial(roster, config)[1], 2, config, cancel.state,
                             moment(config))  # fmt: skip
    assert events_of(again.data)[0]["SEQUENCE"][1] == "2", "a new invite after a cancel outranks it"


def test_cancelling_paused_weeks_names_each_meeting_by_its_recurrence_id() -> None:
    data = golden_cancel().data
    found = check_file(data)
    invite = parse_strictly(golden_invite().data)
    meetings = {item.dtstart for item in invite.timeline_tz(ZoneInfo("Europe/Berlin"))}
    ids = [event["RECURRENCE-ID"] for event in found]
    assert ids == [
        ({"TZID": "Europe/Berlin"}, "20260407T083000"),
        ({"TZID": "Europe/Berlin"}, "20260505T083000"),
    ]
    for event in parse_with_icalendar(data).walk("VEVENT"):
        assert event.decoded("RECURRENCE-ID") in meetings
    assert {(event["SEQUENCE"][1], event["STATUS"][1]) for event in found} == {("1", "CANCELLED")}
    assert unfolded(data).count("METHOD:CANCEL") == 1


def test_a_cancel_needs_an_invite_written_before() -> None:
    config = make_settings()
    peer = Peer("Ann Lee", config.trial_start, email="ann@example.com")
    with pytest.raises(ConflictError, match="no invite was written for Ann Lee"):
        ics.build_invite_cancel(peer, config, empty_state(), moment(config), None)


# --- UIDs and SEQUENCE ---------------------------------------------------------------------------------------


def test_same_plan_same_uids_same_sequence() -> None:
    config = make_settings()
    slots = whole_trial(make_roster(["A", "B", "C", "D"], config), config)
    first = ics.build_export(slots, config, empty_state(), moment(config))
    again = ics.build_export(slots, config, first.state, moment(config, "2026-03-03T07:00"))
    assert again.uids == first.uids
    assert (again.changed, again.added, again.cancelled) == ((), (), ())
    assert [content(e) for e in events_of(again.data)] == [content(e) for e in events_of(first.data)]
    assert {e["SEQUENCE"][1] for e in events_of(again.data)} == {"0"}


def test_sequence_rises_exactly_on_the_events_whose_content_changed() -> None:
    config = make_settings()
    roster = make_roster(["A", "B", "C", "D"], config)
    first = ics.build_export(whole_trial(roster, config), config, empty_state(), moment(config))
    renamed = roster._replace(
        peers=(roster.peers[0], roster.peers[1]._replace(name="Bee"), *roster.peers[2:])
    )
    second = ics.build_export(whole_trial(renamed, config), config, first.state, moment(config))
    before = {e["UID"][1]: e for e in events_of(first.data)}
    after = {e["UID"][1]: e for e in events_of(second.data)}
    assert before.keys() == after.keys()
    moved = {uid for uid in after if content(after[uid]) != content(before[uid])}
    assert moved == set(second.changed)
    assert len(moved) == 7, "Bee's 7 meetings, nothing else"
    for uid, event in after.items():
        assert event["SEQUENCE"][1] == ("1" if uid in moved else "0")
    third = ics.build_export(whole_trial(renamed, config), config, second.state, moment(config), alarm=5)
    assert {e["SEQUENCE"][1] for e in events_of(third.data)[:-1]} == {"1", "2"}, (
        "an alarm changes every meeting"
    )
    assert events_of(third.data)[-1]["SEQUENCE"][1] == "0", "the review has no alarm: unchanged"


def test_uids_are_per_week_per_trial_and_per_peer() -> None:
    config = make_settings()
    peer = Peer(name="Ann Lee", added=config.trial_start)
    assert calendar.slot_uid(HOME_ID, dt.date(2026, 3, 2)) == f"peerloop-{HOME_ID}-2026W10"
    assert calendar.slot_uid(HOME_ID, dt.date(2026, 12, 28)) == f"peerloop-{HOME_ID}-2026W53"
    assert calendar.review_uid(HOME_ID, config.trial_start) == f"peerloop-{HOME_ID}-review-20260302"
    assert calendar.series_uid(HOME_ID, peer) == calendar.series_uid(HOME_ID, peer._replace(name="ANN LEE"))
    assert calendar.series_uid(HOME_ID, peer) != calendar.series_uid("aaaaaaaaaaaaaaaa", peer)


def test_a_new_peer_with_a_renamed_peers_old_name_gets_a_series_of_their_own() -> None:
    old, renamed, newcomer = (
        Peer("Bo Chen", dt.date(2026, 3, 2)),
        Peer("Bo Li", dt.date(2026, 3, 2)),
        Peer("bo chen", dt.date(2026, 4, 1)),
    )
    state = calendar.CalendarState(home_id=HOME_ID, series={old.key: calendar.series_uid(HOME_ID, old)})
    state = calendar.with_renamed_peer(state, old, renamed)
    assert calendar.invite_uid(state, renamed) == calendar.series_uid(HOME_ID, old)
    assert calendar.invite_uid(state, newcomer) == calendar.series_uid(HOME_ID, old) + "-2"


# --- events that leave the plan ------------------------------------------------------------------------------


def test_a_week_that_lost_its_peer_is_sent_as_cancelled() -> None:
    config = make_settings()
    roster = make_roster(["A"], config)
    first = ics.build_export(whole_trial(roster, config)[:3], config, empty_state(), moment(config))
    paused = roster._replace(peers=(roster.peers[0]._replace(paused_until=dt.date(2026, 3, 10)),))
    slots = whole_trial(paused, config)[:3]
    assert slots[0].peer is None
    assert slots[1].peer is not None
    second = ics.build_export(slots, config, first.state, moment(config))
    found = check_file(second.data)
    assert found[0]["STATUS"][1] == "CANCELLED"
    assert found[0]["SEQUENCE"][1] == "1"
    assert found[0]["UID"] == events_of(first.data)[0]["UID"]
    assert second.cancelled == (found[0]["UID"][1],)
    assert second.changed == ()
    fresh = ics.build_export(slots, config, empty_state(), moment(config))
    assert len(events_of(fresh.data)) == 3, "a week never exported is not sent as cancelled"


def skipped(*days: dt.date) -> rotation.History:
    return rotation.history_from([], [Skip(id=f"{day:%Y%m%d}-1", date=day, reason="travel") for day in days])


def test_a_week_skipped_before_its_slot_is_cancelled_not_dropped() -> None:
    config = make_settings()
    roster = make_roster(["A", "B"], config)
    first = ics.build_export(whole_trial(roster, config), config, empty_state(), moment(config))
    week_10 = calendar.slot_uid(HOME_ID, dt.date(2026, 3, 2))
    history = skipped(dt.date(2026, 3, 3))
    slots = whole_trial(roster, config, history=history)
    assert slots[0].week == dt.date(2026, 3, 9)
    second = ics.build_export(slots, config, first.state, moment(config))
    found = {event["UID"][1]: event for event in check_file(second.data)}
    assert found.keys() == {event["UID"][1] for event in events_of(first.data)}
    assert (found[week_10]["STATUS"][1], found[week_10]["SEQUENCE"][1]) == ("CANCELLED", "1")
    assert found[week_10]["DTSTART"] == ({"TZID": "Europe/Berlin"}, "20260303T083000")
    assert second.cancelled == (week_10,)
    third = ics.build_export(slots, config, second.state, moment(config, "2026-03-02T18:00"))
    assert events_of(third.data)[0]["SEQUENCE"][1] == "1", "sent again while ahead, with the same SEQUENCE"
    assert (third.changed, third.cancelled) == ((), ())
    after = ics.build_export(slots, config, third.state, moment(config, "2026-03-03T09:00"))
    assert week_10 not in after.uids, "once its time has passed, it is left alone"


def test_a_later_trial_start_cancels_the_weeks_before_it() -> None:
    config = make_settings()
    roster = make_roster(["A", "B"], config)
    first = ics.build_export(whole_trial(roster, config), config, empty_state(), moment(config))
    later = config._replace(trial_start=dt.date(2026, 3, 16))
    second = ics.build_export(whole_trial(roster._replace(settings=later), later), later, first.state,
                              moment(later))  # fmt: skip
    found = {event["UID"][1]: event for event in check_file(second.data)}
    gone = {calendar.slot_uid(HOME_ID, dt.date(2026, 3, day)) for day in (2, 9)}
    gone.add(calendar.review_uid(HOME_ID, config.trial_start))
    assert {uid for uid, event in found.items() if event["STATUS"][1] == "CANCELLED"} == gone
    assert set(second.cancelled) == gone
    assert list(second.added) == [
        calendar.slot_uid(HOME_ID, dt.date(2026, 8, 31)),
        calendar.slot_uid(HOME_ID, dt.date(2026, 9, 7)),
        calendar.review_uid(HOME_ID, later.trial_start),
    ]


def test_a_meeting_already_held_is_not_cancelled() -> None:
    """The week is done once its meeting is logged; the event that happened stays as it was."""
    config = make_settings()
    roster = make_roster(["A", "B"], config)
    first = ics.build_export(whole_trial(roster, config), config, empty_state(), moment(config))
    held = rotation.history_from(
        [Meeting(id="20260303-1", date=dt.date(2026, 3, 3), peer="A", mode=Mode.COFFEE)], []
    )
    after = moment(config, "2026-03-03T10:00")
    slots = whole_trial(roster, config, today=after.date(), history=held)
    second = ics.build_export(slots, config, first.state, after)
    assert calendar.slot_uid(HOME_ID, dt.date(2026, 3, 2)) not in second.uids
    assert second.cancelled == ()


def test_weeks_beyond_a_shorter_export_are_left_alone() -> None:
    config = make_settings()
    roster = make_roster(["A", "B"], config)
    first = ics.build_export(whole_trial(roster, config), config, empty_state(), moment(config))
    short = ics.build_export(whole_trial(roster, config)[:3], config, first.state, moment(config))
    assert len(short.uids) == 4
    assert (short.changed, short.added, short.cancelled) == ((), (), ())
    assert short.state.events == first.state.events


def test_a_review_moved_before_its_date_is_cancelled_and_replaced() -> None:
    config = make_settings()
    slots = whole_trial(make_roster(["A"], config), config)[:2]
    first = ics.build_export(slots, config, empty_state(), moment(config))
    later = config._replace(trial_start=dt.date(2026, 3, 9))
    second = ics.build_export(slots, later, first.state, moment(config))
    found = {e["UID"][1]: e for e in events_of(second.data)}
    old, new = (
        calendar.review_uid(HOME_ID, config.trial_start),
        calendar.review_uid(HOME_ID, later.trial_start),
    )
    assert found[old]["STATUS"][1] == "CANCELLED"
    assert found[old]["DTSTART"][1] == "20260902"
    assert found[new]["DTSTART"][1] == "20260909"
    assert found[new]["SEQUENCE"][1] == "0"
    done = ics.build_export(slots, later, second.state, moment(later, "2026-09-05T09:00"))
    assert old not in done.uids, "once its date has passed, an old review is left alone"


# --- the state, and one document per event for CalDAV --------------------------------------------------------


def test_state_round_trips_through_calendar_toml() -> None:
    import tomllib

    import tomli_w

    config = make_settings()
    built = ics.build_export(
        whole_trial(make_roster(["A", "B"], config), config),
        config,
        calendar.CalendarState(HOME_ID, extra={"future_key": [1, 2]}),
        moment(config),
    )
    text = tomli_w.dumps(calendar.state_to_toml(built.state))
    assert calendar.state_from_toml(tomllib.loads(text), new_home_id="unused") == built.state


def test_old_slot_records_are_pruned() -> None:
    config = make_settings()
    roster = make_roster(["A", "B"], config)
    first = ics.build_export(whole_trial(roster, config), config, empty_state(), moment(config))
    today = dt.date(2026, 8, 1)
    later = ics.build_export(
        whole_trial(roster, config, today), config, first.state, moment(config, "2026-08-01T09:00")
    )
    starts = [record.start for record in later.state.events.values() if record.kind == calendar.SLOT]
    assert min(starts) >= today - calendar.PRUNE_AFTER
    assert calendar.review_uid(HOME_ID, config.trial_start) in later.state.events


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"home_id": "BAD ID"}, "'home_id'"),
        ({"home_id": HOME_ID, "events": []}, "'events'"),
        (
            {
                "home_id": HOME_ID,
                "events": {"u": {"kind": "slot", "start": "2026-01-01", "digest": "x", "sequence": 0}},
            },
            "'start'",
        ),
        ({"home_id": HOME_ID, "events": {"u": {"kind": "x"}}}, "'kind'"),
    ],
)
def test_a_damaged_state_is_refused_with_its_key(data: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        calendar.state_from_toml(data, new_home_id=HOME_ID)


def test_event_documents_are_the_export_one_uid_each_without_method() -> None:
    config = make_settings()
    roster = make_roster(["A", "B", "C"], config)
    first = ics.build_export(whole_trial(roster, config), config, empty_state(), moment(config))
    slots = whole_trial(roster, config, history=skipped(dt.date(2026, 3, 3)))
    export = ics.build_export(slots, config, first.state, moment(config), alarm=10)
    documents, state = ics.event_documents(slots, config, first.state, moment(config), alarm=10)
    assert state == export.state
    assert [uid for uid, _ in documents] == list(export.uids)
    exported = {event["UID"][1]: event for event in events_of(export.data)}
    for uid, data in documents:
        (event,) = check_file(data)
        lines = unfolded(data)
        assert not any(line.startswith(("METHOD", "NAME", "X-WR-")) for line in lines)
        assert lines.count("BEGIN:VTIMEZONE") == ("TZID" in event["DTSTART"][0])
        assert event == exported[uid]


def test_the_planning_module_stays_free_of_icalendar() -> None:
    script = "import sys, peerloop.calendar; assert 'icalendar' not in sys.modules, 'icalendar was imported'"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                            stdin=subprocess.DEVNULL)  # fmt: skip
    assert result.returncode == 0, result.stderr


# --- the commands (they drive the command layer, which reads the files and calls the builders) --------------


LEADER = ["--name", "Dana Ode", "--email", "dana@example.com", "--timezone", "Europe/Berlin", "--day", "tue",
          "--time", "08:30", "--start", "2026-03-02"]  # fmt: skip


@pytest.fixture
def tricky(cli: Invoke, at: Callable[[str], None], store: Any) -> None:
    """The golden roster, set up through the commands."""
    at(NOW)
    assert cli("init", *LEADER).exit_code == 0
    for name, email, mode in TRICKY_PEERS:
        args = (
            ["add", name] + (["--email", email] if email else []) + (["--mode", mode.value] if mode else [])
        )
        result = cli(*args)
        assert result.exit_code == 0, result.output
    store.save_calendar_state({"home_id": HOME_ID})


@pytest.mark.usefixtures("tricky")
def test_the_export_command_writes_the_golden_file(cli: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "peerloop.ics"
    result = cli("export", "-o", str(target), "--alarm", "15")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "Wrote 26 meetings" in result.stderr
    assert "the review date (2026-09-02)" in result.stderr
    assert target.read_bytes() == (GOLDEN / "export.ics").read_bytes()


@pytest.mark.usefixtures("tricky")
def test_export_to_stdout_also_records_the_sequence(cli: Invoke, store: Any) -> None:
    result = cli("export", "-o", "-", "--weeks", "3")
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.startswith(b"BEGIN:VCALENDAR\r\n")
    assert len(check_file(result.stdout_bytes)) == 4
    assert "to stdout" in result.stderr
    state = store.load_calendar_state()
    assert state["home_id"] == HOME_ID
    assert len(state["events"]) == 4
    assert cli("edit", "Ann Lee", "--mode", "coffee").exit_code == 0
    again = cli("export", "-o", "-", "--weeks", "3")
    assert "Events: 1 updated." in again.stderr
    assert events_of(again.stdout_bytes)[0]["SEQUENCE"][1] == "1"


@pytest.mark.usefixtures("tricky")
def test_export_writes_peerloop_ics_in_the_current_folder(
    cli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli("export").exit_code == 0
    assert (tmp_path / "peerloop.ics").read_bytes().startswith(b"BEGIN:VCALENDAR")
    again = cli("export")
    assert "No event changed since the last export." in again.stderr


@pytest.mark.parametrize(
    ("name", "file_name"),
    [
        ("Ann Lee", "peerloop-ann-lee.ics"),
        ("Zoë O'Brien-Ünal", "peerloop-zoe-o-brien-unal.ics"),
        ("李雷", "peerloop-李雷.ics"),
        ("😀 ; ,", "peerloop-peer.ics"),
    ],
)
def test_invite_file_names_come_from_the_peer_name(name: str, file_name: str) -> None:
    from peerloop.names import slug

    assert f"peerloop-{slug(name)}.ics" == file_name


@pytest.mark.usefixtures("tricky")
def test_invite_needs_the_peer_email(cli: Invoke) -> None:
    result = cli("invite", "zoë 😀 ünal ^n")
    assert result.exit_code == 3
    assert result.stderr == (
        "peerloop: error: Zoë 😀 Ünal ^n has no email to send the invite to; set it with "
        "`peerloop edit 'Zoë 😀 Ünal ^n' --email ADDRESS`\n"
    )


def test_invite_needs_the_leader_email(cli: Invoke, set_up: Callable[..., None], tmp_path: Path) -> None:
    set_up("Ann Lee", "Bo Chen")
    assert cli("edit", "Ann Lee", "--email", "ann@example.com").exit_code == 0
    result = cli("invite", "ann lee", "-o", str(tmp_path / "x.ics"))
    assert result.exit_code == 3
    assert result.stderr == (
        "peerloop: error: an invite needs your email as its organizer; set it with "
        "`peerloop init --email ADDRESS`\n"
    )
    assert not (tmp_path / "x.ics").exists()


def test_export_before_init_says_how_to_start(cli: Invoke) -> None:
    result = cli("export", "-o", "-")
    assert result.exit_code == 6
    assert "peerloop init" in result.stderr


def test_export_after_the_trial_asks_for_weeks(
    cli: Invoke, set_up: Callable[..., None], at: Callable[[str], None]
) -> None:
    set_up("Ann Lee")
    at("2026-09-10T09:00")
    result = cli("export", "-o", "-")
    assert result.exit_code == 3
    assert "the trial ended on 2026-09-02" in result.stderr
    assert "--weeks" in result.stderr
    assert cli("export", "-o", "-", "--weeks", "2").exit_code == 0


@pytest.mark.usefixtures("tricky")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "{tmp}"], "is a folder"),
        (["-o", "{tmp}/missing/x.ics"], "does not exist"),
        (["--weeks", "0"], "--weeks"),
        (["--alarm", "-5"], "--alarm"),
    ],
)
def test_export_refuses_bad_options(cli: Invoke, tmp_path: Path, args: list[str], message: str) -> None:
    result = cli("export", *(arg.format(tmp=tmp_path) for arg in args))
    assert result.exit_code == 2
    assert message in result.stderr


def test_a_skip_moves_the_plan_and_updates_instead_of_duplicating(
    cli: Invoke, set_up: Callable[..., None], at: Callable[[str], None], store: Any, tmp_path: Path
) -> None:
    set_up("Ann Lee", "Bo Chen", "Cy Dee", "Di Eh")
    assert cli("export", "-o", str(tmp_path / "1.ics")).exit_code == 0
    at("2026-03-04T09:00")
    store.save_year(
        JournalYear(
            year=2026,
            skips=(Skip(id="20260303-1", date=dt.date(2026, 3, 3), reason="travel", peer="Ann Lee"),),
        )
    )
    result = cli("export", "-o", str(tmp_path / "2.ics"))
    assert result.exit_code == 0, result.output
    before = {e["UID"][1]: e for e in check_file((tmp_path / "1.ics").read_bytes())}
    after = {e["UID"][1]: e for e in check_file((tmp_path / "2.ics").read_bytes())}
    skipped = next(uid for uid in before if uid.endswith("2026W10"))
    assert after.keys() == before.keys() - {skipped}
    for uid, event in after.items():
        changed = content(event) != content(before[uid])
        assert event["SEQUENCE"][1] == ("1" if changed else "0"), uid
    assert unescape(after[next(uid for uid in after if uid.endswith("2026W11"))]["SUMMARY"][1]) == (
        "Coffee with Ann Lee"
    )
    review = next(uid for uid in after if "review" in uid)
    assert after[review]["SEQUENCE"][1] == "0"
    assert "Events: 25 updated." in result.stderr


SECRET = "TOPSECRET"


def test_no_note_or_journal_text_ever_reaches_a_calendar_file(
    cli: Invoke, set_up: Callable[..., None], store: Any, tmp_path: Path, at: Callable[[str], None]
) -> None:
    set_up("Ann Lee", "Bo Chen")
    assert cli("init", "--name", "Dana Ode", "--email", "dana@example.com").exit_code == 0
    assert cli("edit", "Ann Lee", "--email", "ann@example.com", "--note", f"{SECRET} note").exit_code == 0
    store.save_year(
        JournalYear(
            year=2026,
            meetings=(
                Meeting(
                    id="20260303-1",
                    date=dt.date(2026, 3, 3),
                    peer="Ann Lee",
                    mode=Mode.COFFEE,
                    issue=f"{SECRET} issue",
                    win=f"{SECRET} win",
                    works=f"{SECRET} works",
                    improve=f"{SECRET} improve",
                    follow_ups=(FollowUp(f"{SECRET} follow-up", n=1),),
                    note=f"{SECRET} meeting note",
                ),
            ),
            skips=(
                Skip(id="20260310-1", date=dt.date(2026, 3, 10), reason=f"{SECRET} reason", peer="Bo Chen"),
            ),
            reflections=(
                Reflection(
                    id="20260302-1",
                    date=dt.date(2026, 3, 2),
                    names=(f"{SECRET} name",),
                    why=f"{SECRET} why",
                    excuses=(f"{SECRET} excuse",),
                    ceo=f"{SECRET} ceo",
                ),
            ),
            reviews=(
                Review(
                    id="20260301-1",
                    date=dt.date(2026, 3, 1),
                    trial_start=dt.date(2026, 3, 2),
                    added_value=Verdict.YES,
                    decision=ReviewDecision.CONTINUE,
                    works=f"{SECRET} review works",
                    improve=f"{SECRET} review improve",
                ),
            ),
        )
    )
    at("2026-03-11T09:00")
    exported = cli("export", "-o", str(tmp_path / "e.ics"), "--alarm", "10")
    assert exported.exit_code == 0, exported.stderr
    assert cli("invite", "ann lee", "-o", str(tmp_path / "i.ics")).exit_code == 0
    stdout = cli("export", "-o", "-").stdout_bytes
    for data in (
        (tmp_path / "e.ics").read_bytes(),
        (tmp_path / "i.ics").read_bytes(),
        stdout,
        store.calendar_path.read_bytes(),
    ):
        assert SECRET.encode() not in data
        assert SECRET.encode() not in data.replace(b"\r\n ", b"")


def test_icalendar_loads_for_export_and_never_for_the_weekly_commands(tmp_path: Path) -> None:
    """Read from `python -X importtime`, so the check does not depend on how the command layer is built."""
    env = {**os.environ, "PEERLOOP_HOME": str(tmp_path / "home"), "PEERLOOP_NOW": NOW, "NO_COLOR": "1"}

    def imported(*args: str) -> set[str]:
        result = subprocess.run([sys.executable, "-X", "importtime", "-m", "peerloop", *args], env=env,
                                capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)  # fmt: skip
        assert result.returncode == 0, result.stderr[-2000:]
        return {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if "|" in line}

    imported("init", "--name", "D", "--timezone", "Europe/Berlin", "--peer", "A")
    for weekly in (["next"], ["plan"], ["status", "--check"]):
        assert not {"icalendar", "peerloop.ics"} & imported(*weekly), weekly
    assert {"icalendar", "peerloop.ics", "peerloop.calendar"} <= imported(
        "export", "-o", str(tmp_path / "x.ics")
    )


def test_a_renamed_peer_keeps_their_invite_series(
    cli: Invoke, set_up: Callable[..., None], store: Any, tmp_path: Path
) -> None:
    """The second invite updates the series the peer already has, instead of adding one next to it."""
    set_up("Ann Lee", "Bo Chen", "Cy Dee", "Di Eze")
    assert cli("init", "--email", "dana@example.com").exit_code == 0
    assert cli("edit", "Bo Chen", "--email", "bo@example.com").exit_code == 0
    first, second = tmp_path / "first.ics", tmp_path / "second.ics"
    assert cli("invite", "Bo Chen", "-o", str(first)).exit_code == 0
    assert cli("edit", "Bo Chen", "--name", "Bo Chen-Li").exit_code == 0
    assert cli("invite", "Bo Chen-Li", "-o", str(second)).exit_code == 0

    def uid_and_sequence(path: Path) -> tuple[str, str]:
        lines = path.read_bytes().decode().split("\r\n")
        return next(x for x in lines if x.startswith("UID:")), next(
            x for x in lines if x.startswith("SEQUENCE:")
        )

    (uid, sequence), (uid_after, sequence_after) = uid_and_sequence(first), uid_and_sequence(second)
    assert uid_after == uid
    assert (sequence, sequence_after) == ("SEQUENCE:0", "SEQUENCE:1")
    assert "Bo Chen-Li" in second.read_text()


@pytest.mark.parametrize("name", ["\\Nina", "C:\\Notes", "Bo \\N Chen"])
def test_a_backslash_before_n_in_a_name_stays_a_backslash(name: str) -> None:
    config = make_settings()
    roster = make_roster([name], config)
    slots = whole_trial(roster, config)[:2]
    built = ics.build_export(slots, config, empty_state(), moment(config), alarm=10)
    summary = f"Coffee with {name}"
    assert parse_strictly(built.data).events[0].summary == summary
    assert str(parse_with_icalendar(built.data).walk("VEVENT")[0]["SUMMARY"]) == summary
    assert b"SUMMARY:Coffee with " + name.replace("\\", "\\\\").encode() in built.data
