"""Calendar files: golden bytes, strict parsing, escaping and folding, stable UIDs and SEQUENCE, privacy.

The real-software checks (khal, Radicale) are in test_ics_interop.py; the helpers here are shared with it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peerloop import ics, rotation, values
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
from peerloop.storage import Store
from tests.conftest import Invoke

GOLDEN = Path(__file__).parent / "golden"
UPDATE_GOLDEN = "PEERLOOP_UPDATE_GOLDEN"
HOME_ID = "0f1e2d3c4b5a6978"
NOW = "2026-03-02T09:00"
LEADER = ["--name", "Dana Ode", "--email", "dana@example.com", "--timezone", "Europe/Berlin", "--day", "tue",
          "--time", "08:30", "--start", "2026-03-02"]  # fmt: skip
LONG_NAME = ("Ωμέγα Ünal-" * 19)[:199] + "😀"
"""200 characters, most of them two or four octets: folds must fall between characters."""
TRICKY_PEERS = (
    ("Ann Lee", "ann@example.com", "lunch"),
    ('Bo "the boss" Chen; CTO, Acme \\ Labs', "bo@example.com", None),
    ("Zoë 😀 Ünal ^n", None, "call"),
    (LONG_NAME, "long@example.com", None),
)


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
    uids = [event["UID"][1] for event in found]
    assert len(uids) == len(set(uids))
    parse_strictly(data)
    return found


def parse_strictly(data: bytes) -> object:
    from ical.calendar_stream import IcsCalendarStream

    return IcsCalendarStream.calendar_from_ics(data.decode("utf-8"))


# --- fixtures ------------------------------------------------------------------------------------------------


def make_settings(
    zone: str = "Europe/Berlin", start: dt.date = dt.date(2026, 3, 2), weekday: int = 1
) -> Settings:
    return Settings(
        name="Dana Ode",
        timezone=zone,
        weekday=weekday,
        time=dt.time(8, 30),
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


def whole_trial(roster: Roster, config: Settings, today: dt.date | None = None) -> list[rotation.Slot]:
    history = rotation.History(last_met={}, done_weeks=frozenset())
    day = today or config.trial_start
    first = rotation.first_open_week(config, history, day)
    return rotation.plan(roster, config, history, day, rotation.trial_weeks_left(config, first))


def moment(config: Settings, text: str = NOW) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(config.timezone))


@pytest.fixture
def tricky(cli: Invoke, at: Callable[[str], None], store: Store) -> None:
    """The golden roster: a leader in Europe/Berlin, trial from 2026-03-02 (spans the DST change on 03-29)."""
    at(NOW)
    assert cli("init", *LEADER).exit_code == 0
    for name, email, mode in TRICKY_PEERS:
        args = ["add", name] + (["--email", email] if email else []) + (["--mode", mode] if mode else [])
        result = cli(*args)
        assert result.exit_code == 0, result.output
    store.save_calendar_state({"home_id": HOME_ID})


def golden(name: str, data: bytes) -> None:
    path = GOLDEN / name
    if os.environ.get(UPDATE_GOLDEN):
        path.write_bytes(data)
    assert data == path.read_bytes(), f"{name} changed; if that is intended, rerun with {UPDATE_GOLDEN}=1"


# --- golden files --------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("tricky")
def test_export_matches_the_golden_file(cli: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "peerloop.ics"
    result = cli("export", "-o", str(target), "--alarm", "15")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "Wrote 26 meetings and the review date (2026-09-02)" in result.stderr
    golden("export.ics", target.read_bytes())


@pytest.mark.usefixtures("tricky")
def test_invite_matches_the_golden_file(cli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli("invite", 'bo "the boss" chen; cto, acme \\ labs')
    assert result.exit_code == 0, result.output
    target = tmp_path / "peerloop-bo-the-boss-chen-cto-acme-labs.ics"
    golden("invite.ics", target.read_bytes())


@pytest.mark.usefixtures("tricky")
def test_the_golden_export_reads_back_exactly(cli: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "out.ics"
    assert cli("export", "-o", str(target), "--alarm", "15").exit_code == 0
    data = target.read_bytes()
    found = check_file(data)
    lines = unfolded(data)
    assert not any(line.startswith("METHOD") for line in lines)
    assert "X-WR-CALNAME:Peer meetings (peerloop)" in lines
    assert "NAME:Peer meetings (peerloop)" in lines
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
    for question in ("What works well?", "What can be improved?", "Continue, adjust or stop?"):
        assert question in unescape(review["DESCRIPTION"][1])
    first = found[0]
    assert first["DTSTART"] == ({"TZID": "Europe/Berlin"}, "20260303T083000")
    assert first["DTSTAMP"][1] == "20260302T080000Z"
    assert first["ORGANIZER"] == ({"CN": "Dana Ode"}, "mailto:dana@example.com")
    assert first["ATTENDEE"][1] == "mailto:ann@example.com"
    assert "ATTENDEE" not in found[2], "no email, no attendee"
    assert found[1]["ATTENDEE"][0]["CN"] == "Bo 'the boss' Chen; CTO, Acme \\ Labs"
    assert "TRIGGER:-PT15M" in lines
    assert "ACTION:DISPLAY" in lines
    description = unescape(first["DESCRIPTION"][1])
    for item in ics.AGENDA:
        assert item in description


def test_icalendar_reads_the_golden_files_the_same_way() -> None:
    """A second, independent reader: icalendar 7 sees the same events, names and times."""
    from icalendar import Calendar

    calendar = Calendar.from_ical((GOLDEN / "export.ics").read_bytes())
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 27  # the trial's 26 weekly meetings and the review
    assert str(events[1]["SUMMARY"]) == 'Coffee with Bo "the boss" Chen; CTO, Acme \\ Labs'
    assert str(events[3]["SUMMARY"]) == f"Coffee with {LONG_NAME}"
    berlin = ZoneInfo("Europe/Berlin")
    starts = [event.decoded("DTSTART") for event in events[:-1]]
    assert all(start.astimezone(berlin).time() == dt.time(8, 30) for start in starts)
    assert {start.utcoffset() for start in starts} == {dt.timedelta(hours=1), dt.timedelta(hours=2)}
    invite = Calendar.from_ical((GOLDEN / "invite.ics").read_bytes())
    assert str(invite["METHOD"]) == "REQUEST"
    assert len(list(invite.walk("VEVENT"))) == 1


# --- escaping and folding ------------------------------------------------------------------------------------


def test_text_escaping_follows_rfc_5545() -> None:
    assert ics.escape_text('a,b;c\\d\ne "f"') == 'a\\,b\\;c\\\\d\\ne "f"'
    assert ics.escape_text("one\r\ntwo\rthree") == "one\\ntwo\\nthree"
    assert ics.escape_text("bell\x07 del\x7f tab\t") == "bell del tab\t"


def test_parameter_values_are_quoted_and_cannot_hold_a_quote() -> None:
    assert ics.param_value("Ann Lee") == "Ann Lee"
    assert ics.param_value("Lee, Ann") == '"Lee, Ann"'
    assert ics.param_value('Ann "A:B" Lee') == "\"Ann 'A:B' Lee\""
    assert ics.param_value("x^y") == "x^^y"


def test_a_newline_in_a_name_cannot_inject_a_property_or_an_event() -> None:
    config = make_settings()
    peer = Peer(name="Eve\r\nEND:VEVENT\r\nBEGIN:VEVENT\nUID:evil", added=config.trial_start)
    slots = whole_trial(Roster(settings=config, peers=(peer,)), config)[:2]
    built = ics.build_export(slots, config, ics.CalendarState(HOME_ID), moment(config))
    found = check_file(built.data)
    assert len(found) == 3
    assert unescape(found[0]["SUMMARY"][1]) == "Coffee with Eve\nEND:VEVENT\nBEGIN:VEVENT\nUID:evil"


@pytest.mark.parametrize(
    "line",
    [
        "SUMMARY:" + "é" * 80,
        "SUMMARY:" + "a" + "😀" * 40,
        "SUMMARY:" + "x" * 66 + "\\,\\,\\,\\,\\,",
        "DESCRIPTION:" + "word " * 40,
        "X:" + "中" * 100,
    ],
)
def test_folding_never_splits_a_character_or_an_escape(line: str) -> None:
    data = ics.fold(line)
    lines = physical_lines(data)
    assert all(len(piece) <= 75 for piece in lines)
    assert all(piece.startswith(b" ") for piece in lines[1:])
    assert data.replace(b"\r\n ", b"")[:-2].decode("utf-8") == line
    for before in lines[:-1]:
        assert (len(before) - len(before.rstrip(b"\\"))) % 2 == 0, "a backslash left without its character"


def test_folding_keeps_continuation_lines_from_starting_with_a_space() -> None:
    lines = physical_lines(ics.fold("DESCRIPTION:" + "ab " * 60))
    assert all(not piece.startswith(b"  ") for piece in lines[1:])


def test_icalendar_7_folding_is_character_safe_too() -> None:
    """Checked at byte level: icalendar 7.3 counts octets per character, so it never splits one either."""
    from icalendar.parser import Contentline

    for text in ("a" + "😀" * 40, "é" * 80, "中" * 60 + "a"):
        data = Contentline("SUMMARY:" + text).to_ical()  # type: ignore[no-untyped-call]
        for piece in data.split(b"\r\n"):
            assert len(piece) <= 75
            piece.decode("utf-8")


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
    built = ics.build_export(slots, config, ics.CalendarState(HOME_ID), moment(config), alarm=10)
    found = check_file(built.data)
    assert len(found) == len(slots) + 1
    strict = parse_strictly(built.data).events  # type: ignore[attr-defined]
    assert len(strict) == len(slots) + 1
    for event, parsed, slot in zip(found, strict, slots, strict=False):
        assert slot.peer is not None
        assert unescape(event["SUMMARY"][1]) == f"{ics.mode_label(slot.mode)} with {slot.peer.name}"
        assert parsed.summary == f"{ics.mode_label(slot.mode)} with {slot.peer.name}"
        assert event["ATTENDEE"][0]["CN"] == slot.peer.name.replace('"', "'").replace("^", "^^")
        assert parsed.attendees[0].common_name == slot.peer.name.replace('"', "'"), "RFC 6868 decoded"
    peer = roster.peers[0]
    first = next(slot for slot in slots if slot.peer == peer)
    invite = ics.build_invite(
        peer, first, len(roster.peers), config, ics.CalendarState(HOME_ID), moment(config)
    )
    (event,) = check_file(invite.data)
    assert unescape(event["SUMMARY"][1]) == f"Coffee: Dana Ode and {peer.name}"


# --- time zones ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "form"),
    [
        ("Europe/Berlin", "RRULE"),
        ("America/New_York", "RRULE"),
        ("Australia/Sydney", "RRULE"),
        ("Australia/Lord_Howe", "RRULE"),
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
    from icalendar import Calendar

    lines = ics.vtimezone(zone, dt.date(2026, 3, 2), dt.date(2026, 9, 2))
    kinds = {line.split(":")[0] for line in lines if line.startswith(("RRULE", "RDATE"))}
    assert kinds == ({form} if form else set())
    text = "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:x", *lines, "END:VCALENDAR", ""])
    generated = Calendar.from_ical(text).timezones[0].to_tz()
    real = ZoneInfo(zone)
    instant = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    while instant < dt.datetime(2027, 12, 31, tzinfo=dt.UTC):
        assert instant.astimezone(generated).utcoffset() == instant.astimezone(real).utcoffset(), instant
        instant += dt.timedelta(hours=1)


def test_berlin_gets_the_rrule_form_outlook_understands() -> None:
    lines = ics.vtimezone("Europe/Berlin", dt.date(2026, 3, 2), dt.date(2026, 9, 2))
    assert lines == [
        "BEGIN:VTIMEZONE", "TZID:Europe/Berlin",
        "BEGIN:DAYLIGHT", "DTSTART:20250330T020000", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
        "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "TZNAME:CEST", "END:DAYLIGHT",
        "BEGIN:STANDARD", "DTSTART:20251026T030000", "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
        "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "TZNAME:CET", "END:STANDARD",
        "END:VTIMEZONE",
    ]  # fmt: skip


# --- the invite's recurrence is the plan ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "start", "count"),
    [
        ("Europe/Berlin", dt.date(2026, 3, 2), 4),
        ("America/New_York", dt.date(2026, 9, 7), 5),
        ("Australia/Sydney", dt.date(2026, 2, 2), 3),
    ],
)
def test_the_invite_recurrence_expands_to_the_planned_dates(zone: str, start: dt.date, count: int) -> None:
    from ical.calendar_stream import IcsCalendarStream

    config = make_settings(zone=zone, start=start, weekday=2)
    roster = make_roster([f"Peer {n}" for n in range(count)], config)
    slots = whole_trial(roster, config)
    for peer in roster.peers:
        planned = [slot.start for slot in slots if slot.peer == peer]
        built = ics.build_invite(
            peer,
            planned_slot(slots, peer),
            count,
            config,
            ics.CalendarState(HOME_ID),
            moment(config, f"{start.isoformat()}T07:00"),
        )
        (event,) = check_file(built.data)
        assert f"INTERVAL={count}" in event["RRULE"][1]
        calendar = IcsCalendarStream.calendar_from_ics(built.data.decode("utf-8"))
        expanded = [item.dtstart for item in calendar.timeline_tz(ZoneInfo(zone))]
        assert expanded == planned
        for item in expanded:
            assert isinstance(item, dt.datetime)
            assert item.astimezone(ZoneInfo(zone)).time() == dt.time(8, 30)


def planned_slot(slots: list[rotation.Slot], peer: Peer) -> rotation.Slot:
    return next(slot for slot in slots if slot.peer == peer)


def test_an_invite_is_one_request_with_one_uid() -> None:
    config = make_settings()
    roster = make_roster(["Ann Lee", "Bo Chen"], config)
    slots = whole_trial(roster, config)
    built = ics.build_invite(roster.peers[1], slots[1], 2, config, ics.CalendarState(HOME_ID), moment(config))
    lines = unfolded(built.data)
    assert "METHOD:REQUEST" in lines
    assert lines.count("BEGIN:VEVENT") == 1
    (event,) = events_of(built.data)
    assert event["ORGANIZER"] == ({"CN": "Dana Ode"}, "mailto:dana@example.com")
    params, address = event["ATTENDEE"]
    assert address == "mailto:p1@example.com"
    assert params == {"CN": "Bo Chen", "ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION", "RSVP": "TRUE"}
    assert event["RRULE"][1] == "FREQ=WEEKLY;INTERVAL=2;UNTIL=20260825T063000Z"
    assert event["SEQUENCE"][1] == "0"


# --- UIDs and SEQUENCE ---------------------------------------------------------------------------------------


def test_same_plan_same_uids_same_sequence() -> None:
    config = make_settings()
    slots = whole_trial(make_roster(["A", "B", "C", "D"], config), config)
    first = ics.build_export(slots, config, ics.CalendarState(HOME_ID), moment(config))
    again = ics.build_export(slots, config, first.state, moment(config, "2026-03-03T07:00"))
    assert again.uids == first.uids
    assert (again.changed, again.added) == ((), ())
    assert [content(e) for e in events_of(again.data)] == [content(e) for e in events_of(first.data)]
    assert {e["SEQUENCE"][1] for e in events_of(again.data)} == {"0"}


def test_sequence_rises_exactly_on_the_events_whose_content_changed() -> None:
    config = make_settings()
    roster = make_roster(["A", "B", "C", "D"], config)
    first = ics.build_export(whole_trial(roster, config), config, ics.CalendarState(HOME_ID), moment(config))
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
    assert ics.slot_uid(HOME_ID, dt.date(2026, 3, 2)) == f"peerloop-{HOME_ID}-2026W10"
    assert ics.slot_uid(HOME_ID, dt.date(2026, 12, 28)) == f"peerloop-{HOME_ID}-2026W53"
    assert ics.review_uid(HOME_ID, config.trial_start) == f"peerloop-{HOME_ID}-review-20260302"
    assert ics.series_uid(HOME_ID, peer) == ics.series_uid(HOME_ID, peer._replace(name="ANN LEE"))
    assert ics.series_uid(HOME_ID, peer) != ics.series_uid("aaaaaaaaaaaaaaaa", peer)


def test_a_week_that_lost_its_peer_is_sent_as_cancelled() -> None:
    config = make_settings()
    roster = make_roster(["A"], config)
    first = ics.build_export(
        whole_trial(roster, config)[:3], config, ics.CalendarState(HOME_ID), moment(config)
    )
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
    fresh = ics.build_export(slots, config, ics.CalendarState(HOME_ID), moment(config))
    assert len(events_of(fresh.data)) == 3, "a week never exported is not sent as cancelled"


def test_a_review_moved_before_its_date_is_cancelled_and_replaced() -> None:
    config = make_settings()
    slots = whole_trial(make_roster(["A"], config), config)[:2]
    first = ics.build_export(slots, config, ics.CalendarState(HOME_ID), moment(config))
    later = config._replace(trial_start=dt.date(2026, 3, 9))
    second = ics.build_export(slots, later, first.state, moment(config))
    found = {e["UID"][1]: e for e in events_of(second.data)}
    old, new = ics.review_uid(HOME_ID, config.trial_start), ics.review_uid(HOME_ID, later.trial_start)
    assert found[old]["STATUS"][1] == "CANCELLED"
    assert found[old]["DTSTART"][1] == "20260902"
    assert found[new]["DTSTART"][1] == "20260909"
    assert found[new]["SEQUENCE"][1] == "0"
    done = ics.build_export(slots, later, second.state, moment(later, "2026-09-05T09:00"))
    assert old not in done.uids, "once its date has passed, an old review is left alone"


def test_state_round_trips_through_calendar_toml(store: Store) -> None:
    config = make_settings()
    built = ics.build_export(
        whole_trial(make_roster(["A", "B"], config), config),
        config,
        ics.CalendarState(HOME_ID, extra={"future_key": [1, 2]}),
        moment(config),
    )
    store.save_calendar_state(ics.state_to_toml(built.state))
    assert ics.state_from_toml(store.load_calendar_state(), new_home_id="unused") == built.state


def test_old_slot_records_are_pruned() -> None:
    config = make_settings()
    roster = make_roster(["A", "B"], config)
    first = ics.build_export(whole_trial(roster, config), config, ics.CalendarState(HOME_ID), moment(config))
    today = dt.date(2026, 8, 1)
    later = ics.build_export(
        whole_trial(roster, config, today), config, first.state, moment(config, "2026-08-01T09:00")
    )
    starts = [record.start for record in later.state.events.values() if record.kind == ics.SLOT]
    assert min(starts) >= today - ics.PRUNE_AFTER
    assert ics.review_uid(HOME_ID, config.trial_start) in later.state.events


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
        ics.state_from_toml(data, new_home_id=HOME_ID)


# --- the commands --------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("tricky")
def test_export_to_stdout_also_records_the_sequence(cli: Invoke, store: Store) -> None:
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
    assert "Nothing changed since the last export." in again.stderr


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
    from peerloop.commands.calendar import invite_file_name

    assert invite_file_name(name) == file_name


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
    cli: Invoke, set_up: Callable[..., None], at: Callable[[str], None], store: Store, tmp_path: Path
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
    cli: Invoke, set_up: Callable[..., None], store: Store, tmp_path: Path, at: Callable[[str], None]
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
                    follow_ups=(FollowUp(f"{SECRET} follow-up"),),
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
    assert cli("export", "-o", str(tmp_path / "e.ics"), "--alarm", "10").exit_code == 0
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


def test_icalendar_and_ics_stay_out_of_start_up_and_out_of_export(tmp_path: Path) -> None:
    """`peerloop.ics` loads only when export or invite runs, and icalendar never (see docs/calendar.md)."""
    script = f"""
import sys
import peerloop.cli
assert "peerloop.ics" not in sys.modules and "icalendar" not in sys.modules, "loaded at start-up"
from peerloop.cli import run
for args in (["init", "--name", "D", "--timezone", "Europe/Berlin", "--peer", "A"],
             ["export", "-o", {str(tmp_path / "x.ics")!r}]):
    try:
        run(args)
    except SystemExit as done:
        assert not done.code, done.code
assert "peerloop.ics" in sys.modules
assert "icalendar" not in sys.modules, "icalendar was imported"
"""
    env = {**os.environ, "PEERLOOP_HOME": str(tmp_path / "home"), "PEERLOOP_NOW": NOW}
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr


def test_a_renamed_peer_keeps_their_invite_series(
    cli: Invoke, set_up: Callable[..., None], store: Store, tmp_path: Path
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


def test_a_new_peer_with_a_renamed_peers_old_name_gets_a_series_of_their_own() -> None:
    from peerloop.models import Peer

    old, renamed, newcomer = (
        Peer("Bo Chen", dt.date(2026, 3, 2)),
        Peer("Bo Li", dt.date(2026, 3, 2)),
        Peer("bo chen", dt.date(2026, 4, 1)),
    )
    state = ics.CalendarState(home_id=HOME_ID, series={old.key: ics.series_uid(HOME_ID, old)})
    state = ics.with_renamed_peer(state, old, renamed)
    assert ics.invite_uid(state, renamed) == ics.series_uid(HOME_ID, old)
    assert ics.invite_uid(state, newcomer) == ics.series_uid(HOME_ID, old) + "-2"
