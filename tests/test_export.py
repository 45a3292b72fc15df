"""`peerloop export`, the leader's calendar file: golden bytes, strict parsing, names, time zones and DST,
stable UIDs and SEQUENCE, privacy, and real software reading it (khal, Radicale).

The builders (`output.ics`, `core.calendar`) are tested directly with Slots built here; the tests at the
end drive the commands. The readers and builders the calendar tests share are in tests/calendars.py.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import http.client
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peerloop.actions.calendar import CalendarFreshness
from peerloop.core import rotation
from peerloop.core.calendar import events as calendar
from peerloop.core.calendar import state as calendar_state
from peerloop.core.models import Decision as ReviewDecision
from peerloop.core.models import (
    FollowUp,
    JournalYear,
    Meeting,
    Mode,
    Peer,
    Reflection,
    Review,
    Roster,
    Skip,
    Verdict,
)
from peerloop.core.parse import values
from peerloop.output import ics
from peerloop.output.folding import fold_line
from tests.calendars import (
    BIN,
    DST_CASES,
    ESCAPE_LOOKALIKES,
    GOLDEN,
    HARD_NAMES,
    HOME_ID,
    INTEROP_PEERS,
    LONG_NAME,
    NOW,
    TRICKY_PEERS,
    Khal,
    check_file,
    content,
    dst_plan,
    empty_state,
    escapes_split_by_a_fold,
    events_of,
    golden,
    golden_export,
    leader_plan,
    make_roster,
    make_settings,
    moment,
    parse_strictly,
    parse_with_icalendar,
    parse_with_vobject,
    physical_lines,
    real_slot,
    rfc_6868,
    unescape,
    unfolded,
    utc,
    whole_trial,
    write,
)
from tests.conftest import Invoke, SetUp
from tests.lived_in import (
    LOCK,
    check_result,
    snapshot,
)

"""200 characters, most of them two or four octets: folds must fall between characters."""


"""Names that once broke parameter values; each one must read back exactly as written."""


"""A backslash before `;`, `,`, `:` or another backslash: RFC 5545 has no escapes in a parameter value,
but icalendar reads these four pairs as escapes (Google writes `CN=Lee\\, Ann`)."""


def test_export_matches_the_golden_file() -> None:
    golden("export.ics", golden_export().data)


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
    assert review["DTSTART"] == ({"VALUE": "DATE"}, "20260831")
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


def test_folding_never_splits_a_character() -> None:
    """Checked at byte level: each physical line is valid UTF-8 on its own."""
    config = make_settings()
    roster = make_roster(["a" + "😀" * 40, "é" * 80, "中" * 60 + "a", "x" * 40 + "\\,;" * 20], config)
    built = ics.build_export(whole_trial(roster, config)[:4], config, empty_state(), moment(config))
    for event, slot in zip(check_file(built.data), whole_trial(roster, config)[:4], strict=False):
        assert slot.peer is not None
        assert unescape(event["SUMMARY"][1]) == f"Coffee with {slot.peer.name}"


@pytest.mark.parametrize("piece", ["\\", "\\\\", ";", ",", "a\\;", "\\,", "😀\\"])
def test_no_fold_separates_the_two_characters_of_an_escape(piece: str) -> None:
    """A backslash, a semicolon or a comma (each written as a two-character escape) at every place the
    folds of SUMMARY, DESCRIPTION, the CN and the alarm fall: the escape stays on one line, and the strict
    parser and icalendar read every name back."""
    config = make_settings()
    names = [f"{'x' * n}{piece}yyyyy" for n in range(40, 135)]
    for chunk in (names[n : n + 26] for n in range(0, len(names), 26)):
        slots = whole_trial(make_roster(chunk, config), config)[: len(chunk)]
        built = ics.build_export(slots, config, empty_state(), moment(config), alarm=10)
        check_file(built.data)  # no escape split by a fold, every line within 75 octets
        expected = [f"Coffee with {slot.peer.name}" for slot in slots if slot.peer]
        assert [event.summary for event in parse_strictly(built.data).events[:-1]] == expected
        assert [
            str(event["SUMMARY"]) for event in parse_with_icalendar(built.data).walk("VEVENT")[:-1]
        ] == expected


def test_icalendar_alone_splits_an_escaped_backslash_at_a_fold() -> None:
    """Why peerloop folds the lines itself: icalendar 7 moves the second backslash of `\\\\` to the next line."""
    event = icalendar.Event()
    event.add("summary", "x" * 64 + "\\yyyyy")
    assert escapes_split_by_a_fold(event.to_ical()) == ["SUMMARY:" + "x" * 64 + "\\\\yyyyy"]


CHARACTERS = ["\\", ";", ",", "^", "'", "n", ":", "=", "a", "é", "€", "😀", "\u0301"]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["SUMMARY:", 'ATTENDEE;CN="', "X-A;P=^:"]),
    st.text(st.sampled_from(CHARACTERS)),
    st.text(st.sampled_from([*CHARACTERS, '"'])),
)
def test_a_folded_line_unfolds_to_itself_within_75_octets_and_keeps_each_escape_whole(
    head: str, middle: str, tail: str
) -> None:
    """Values and parameters of any length and mix of escapes, multi-octet characters and combining marks."""
    line = head + middle + ('":' if head.endswith('"') else "") + tail
    folded = fold_line(line)
    data = f"{folded}\r\n".encode()
    physical_lines(data)
    assert folded.replace("\r\n ", "") == line
    assert escapes_split_by_a_fold(data) == []


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


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
def test_a_day_long_meeting_across_a_dst_change_lasts_24_hours_with_its_alarm_24_hours_before(
    zone: str,
) -> None:
    """1440 minutes, from the Saturday noon before the autumn change: DTEND is the real end, the alarm
    `-PT24H` (exact time), never the nominal day `P1D`, which is 25 hours long that day."""
    day = {"Europe/Berlin": dt.date(2026, 10, 24), "America/New_York": dt.date(2026, 10, 31)}[zone]
    config, peer, _ = dst_plan(zone, day, dt.time(12))
    config = config._replace(duration=1440)
    slots = [
        real_slot(zone, each, dt.time(12), peer, minutes=1440) for each in (day, day + dt.timedelta(weeks=1))
    ]
    built = ics.build_export(
        slots, config, empty_state(), moment(config, f"{config.trial_start}T09:00"), alarm=1440
    )
    assert b"P1D" not in built.data
    assert unfolded(built.data).count("TRIGGER:-PT24H") == 2
    expected = [(utc(slot.start), utc(slot.start) + dt.timedelta(hours=24)) for slot in slots]
    assert [(utc(slot.start), utc(slot.end)) for slot in slots] == expected
    assert [
        (utc(event.dtstart), utc(event.end)) for event in parse_strictly(built.data).events[:2]
    ] == expected
    lenient = parse_with_icalendar(built.data).walk("VEVENT")[:2]
    assert [(utc(event.start), utc(event.end)) for event in lenient] == expected
    alarms = [alarm.decoded("TRIGGER") for event in lenient for alarm in event.walk("VALARM")]
    assert alarms == [dt.timedelta(hours=-24)] * 2


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
    assert calendar_state.slot_uid(HOME_ID, dt.date(2026, 3, 2)) == f"peerloop-{HOME_ID}-2026W10"
    assert calendar_state.slot_uid(HOME_ID, dt.date(2026, 12, 28)) == f"peerloop-{HOME_ID}-2026W53"
    assert calendar_state.review_uid(HOME_ID, config.trial_start) == f"peerloop-{HOME_ID}-review-20260302"
    assert calendar_state.series_uid(HOME_ID, peer) == calendar_state.series_uid(
        HOME_ID, peer._replace(name="ANN LEE")
    )
    assert calendar_state.series_uid(HOME_ID, peer) != calendar_state.series_uid("aaaaaaaaaaaaaaaa", peer)


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
    week_10 = calendar_state.slot_uid(HOME_ID, dt.date(2026, 3, 2))
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
    gone = {calendar_state.slot_uid(HOME_ID, dt.date(2026, 3, day)) for day in (2, 9)}
    gone.add(calendar_state.review_uid(HOME_ID, config.trial_start))
    assert {uid for uid, event in found.items() if event["STATUS"][1] == "CANCELLED"} == gone
    assert set(second.cancelled) == gone
    assert list(second.added) == [
        calendar_state.slot_uid(HOME_ID, dt.date(2026, 8, 31)),
        calendar_state.slot_uid(HOME_ID, dt.date(2026, 9, 7)),
        calendar_state.review_uid(HOME_ID, later.trial_start),
    ]


def test_a_meeting_already_held_is_not_cancelled() -> None:
    """The week is done once its meeting is logged; the event that happened stays as it was."""
    config = make_settings()
    roster = make_roster(["A", "B"], config)
    first = ics.build_export(whole_trial(roster, config), config, empty_state(), moment(config))
    held = rotation.history_from(
        [Meeting(id="20260303-psve7", date=dt.date(2026, 3, 3), peer="A", mode=Mode.COFFEE)], []
    )
    after = moment(config, "2026-03-03T10:00")
    slots = whole_trial(roster, config, today=after.date(), history=held)
    second = ics.build_export(slots, config, first.state, after)
    assert calendar_state.slot_uid(HOME_ID, dt.date(2026, 3, 2)) not in second.uids
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
        calendar_state.review_uid(HOME_ID, config.trial_start),
        calendar_state.review_uid(HOME_ID, later.trial_start),
    )
    assert found[old]["STATUS"][1] == "CANCELLED"
    assert found[old]["DTSTART"][1] == "20260831"
    assert found[new]["DTSTART"][1] == "20260907"
    assert found[new]["SEQUENCE"][1] == "0"
    done = ics.build_export(slots, later, second.state, moment(later, "2026-09-05T09:00"))
    assert old not in done.uids, "once its date has passed, an old review is left alone"


def test_state_round_trips_through_calendar_toml() -> None:
    import tomllib

    import tomli_w

    config = make_settings()
    built = ics.build_export(
        whole_trial(make_roster(["A", "B"], config), config),
        config,
        calendar_state.CalendarState(HOME_ID, extra={"future_key": [1, 2]}),
        moment(config),
    )
    text = tomli_w.dumps(calendar_state.state_to_toml(built.state))
    assert calendar_state.state_from_toml(tomllib.loads(text), new_home_id="unused") == built.state


def test_old_slot_records_are_pruned() -> None:
    config = make_settings()
    roster = make_roster(["A", "B"], config)
    first = ics.build_export(whole_trial(roster, config), config, empty_state(), moment(config))
    today = dt.date(2026, 8, 1)
    later = ics.build_export(
        whole_trial(roster, config, today), config, first.state, moment(config, "2026-08-01T09:00")
    )
    starts = [record.start for record in later.state.events.values() if record.kind == calendar_state.SLOT]
    assert min(starts) >= today - calendar.PRUNE_AFTER
    assert calendar_state.review_uid(HOME_ID, config.trial_start) in later.state.events


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
        calendar_state.state_from_toml(data, new_home_id=HOME_ID)


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


def test_caldav_bodies_get_the_yearly_zone_rules_whole_escapes_and_exact_alarms_of_the_export() -> None:
    """What `sync` PUTs: a Jerusalem leader (RDATEs only, before), names whose escaped backslash falls
    where icalendar would fold, a reminder a day before."""
    config = make_settings(zone="Asia/Jerusalem")
    roster = make_roster([f"{'x' * n}\\ Lee" for n in range(50, 58)], config)
    documents, _ = ics.event_documents(
        whole_trial(roster, config), config, empty_state(), moment(config), alarm=1440
    )
    for _, data in documents:
        (event,) = check_file(data)  # every escape whole, every line within 75 octets
        lines = unfolded(data)
        if "TZID" in event["DTSTART"][0]:
            assert not [line for line in lines if line.startswith("RDATE")]
            assert [line for line in lines if line.startswith("RRULE")] == [
                "RRULE:FREQ=YEARLY;BYDAY=4FR;BYMONTH=3",
                "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10",
            ]
            assert "TRIGGER:-PT24H" in lines
    summaries = [event.summary for _, data in documents for event in parse_strictly(data).events]
    assert summaries[:8] == [f"Coffee with {'x' * n}\\ Lee" for n in range(50, 58)]


def test_the_calendar_planning_stays_free_of_icalendar() -> None:
    script = (
        "import sys, peerloop.core.calendar.events, peerloop.core.calendar.series, peerloop.core.calendar.state; "
        "assert 'icalendar' not in sys.modules, 'icalendar was imported'"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                            stdin=subprocess.DEVNULL)  # fmt: skip
    assert result.returncode == 0, result.stderr


@pytest.mark.usefixtures("tricky")
def test_the_export_command_writes_the_golden_file(cli: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "peerloop.ics"
    result = cli("export", "-o", str(target), "--alarm", "15")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "Wrote 26 meetings" in result.stderr
    assert "the review date (2026-08-31)" in result.stderr
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
    assert "the trial ended on 2026-08-31" in result.stderr
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
            skips=(Skip(id="20260303-psve7", date=dt.date(2026, 3, 3), reason="travel", peer="Ann Lee"),),
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
                    id="20260303-psve7",
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
                Skip(
                    id="20260310-vzrq2", date=dt.date(2026, 3, 10), reason=f"{SECRET} reason", peer="Bo Chen"
                ),
            ),
            reflections=(
                Reflection(
                    id="20260302-ge5bm",
                    date=dt.date(2026, 3, 2),
                    names=(f"{SECRET} name",),
                    why=f"{SECRET} why",
                    excuses=(f"{SECRET} excuse",),
                    ceo=f"{SECRET} ceo",
                ),
            ),
            reviews=(
                Review(
                    id="20260301-z3tff",
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
        assert not {"icalendar", "peerloop.output.ics"} & imported(*weekly), weekly
    assert {"icalendar", "peerloop.output.ics", "peerloop.core.calendar.events"} <= imported(
        "export", "-o", str(tmp_path / "x.ics")
    )


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


def stored_uids(folder: Path) -> list[str]:
    """The UIDs of the .ics files khal keeps in its calendar folder (one file per event)."""
    uids = []
    for path in sorted((folder / "calendar").glob("*.ics")):
        uids += re.findall(r"^UID:(.*)\r?$", path.read_text(encoding="utf-8"), re.M)
    return uids


@pytest.mark.slow
def test_khal_shows_every_meeting_at_the_right_local_time_across_dst(tmp_path: Path) -> None:
    roster, slots = leader_plan()
    config = roster.settings
    assert config is not None
    built = ics.build_export(slots, config, calendar_state.CalendarState(HOME_ID), moment(config), alarm=10)
    berlin = Khal(tmp_path / "khal", "Europe/Berlin")
    berlin.import_file(write(tmp_path / "peerloop.ics", built.data))
    listed = berlin.events()
    meetings = [event for event in listed if event["start-time"]]
    assert [(e["start-date"], e["start-time"]) for e in meetings] == [
        (slot.date.isoformat(), "08:30") for slot in slots
    ]
    assert [e["title"] for e in meetings] == [
        f"{slot.mode.value.capitalize()} with {slot.peer.name}" for slot in slots if slot.peer
    ]
    (review,) = [event for event in listed if not event["start-time"]]
    assert review["start-date"] == "2026-08-31"
    # The same calendar seen from UTC: 07:30 in winter time, 06:30 from 2026-03-29 on.
    utc = Khal(tmp_path / "khal", "UTC")
    around = {e["start-date"]: e["start-time"] for e in utc.events("2026-03-20", "2026-04-05")}
    assert around == {"2026-03-24": "07:30", "2026-03-31": "06:30"}


@pytest.mark.slow
def test_khal_reads_meetings_on_dst_changes_at_their_real_moments(tmp_path: Path) -> None:
    """Gaps at midnight, 30-minute DST, 45-minute offsets, 02:30 on a Sunday, the repeated hour: khal
    (which reads a repeated wall time as its second pass) imports every file and lists the plan's moments."""
    khal = Khal(tmp_path / "khal", "UTC")
    expected = []
    for n, case in enumerate(DST_CASES):
        config, _, slots = dst_plan(*case.values)
        now = moment(config, f"{config.trial_start}T00:00")
        built = ics.build_export(slots, config, calendar_state.CalendarState(f"{HOME_ID}{n:02d}"), now)
        khal.import_file(write(tmp_path / f"dst-{n}.ics", built.data))
        expected += [(f"{slot.start.astimezone(dt.UTC):%Y-%m-%d %H:%M}", f"{slot.end.astimezone(dt.UTC):%Y-%m-%d %H:%M}")
                     for slot in slots]  # fmt: skip
    listed = {
        (f"{e['start-date']} {e['start-time']}", e["end"])
        for e in khal.events("2025-01-01")
        if e["start-time"]
    }
    assert listed == set(expected), "a meeting across midnight UTC is listed on both days: compared as a set"
    assert len(expected) == 3 * len(DST_CASES)


@pytest.mark.slow
def test_khal_drops_a_week_skipped_before_its_slot(tmp_path: Path) -> None:
    roster, slots = leader_plan()
    config = roster.settings
    assert config is not None
    first = ics.build_export(slots, config, calendar_state.CalendarState(HOME_ID), moment(config))
    later = whole_trial(roster, config, history=skipped(dt.date(2026, 3, 3)))
    second = ics.build_export(later, config, first.state, moment(config))
    khal = Khal(tmp_path / "khal", "Europe/Berlin")
    khal.import_file(write(tmp_path / "1.ics", first.data))
    khal.import_file(write(tmp_path / "2.ics", second.data))
    statuses = {e["uid"]: e["status"] for e in khal.events()}
    assert (
        statuses[calendar_state.slot_uid(HOME_ID, dt.date(2026, 3, 2))].strip().upper().startswith("CANCEL")
    )
    assert sorted(stored_uids(tmp_path / "khal")) == sorted(first.uids), "updated in place, none added"


@pytest.fixture
def leader(cli: Invoke, set_up: Callable[..., None], store: Any) -> Any:
    """The same leader, set up through the commands."""
    set_up(*INTEROP_PEERS)
    result = cli("init", "--name", "Dana Ode", "--email", "dana@example.com")
    assert result.exit_code == 0, result.output
    for n, name in enumerate(INTEROP_PEERS):
        assert cli("edit", name, "--email", f"p{n}@example.com").exit_code == 0
    return store


@pytest.mark.slow
@pytest.mark.usefixtures("leader")
def test_a_second_export_updates_khal_instead_of_duplicating(
    cli: Invoke, store: Any, tmp_path: Path, at: Callable[[str], None]
) -> None:
    first, second = tmp_path / "1.ics", tmp_path / "2.ics"
    assert cli("export", "-o", str(first)).exit_code == 0
    at("2026-03-04T09:00")
    skip = Skip(id="20260303-psve7", date=dt.date(2026, 3, 3), reason="travel", peer="Ann Lee")
    store.save_year(JournalYear(year=2026, skips=(skip,)))
    assert cli("export", "-o", str(second)).exit_code == 0
    before = {e["UID"][1]: e for e in check_file(first.read_bytes())}
    after = {e["UID"][1]: e for e in check_file(second.read_bytes())}
    assert after.keys() <= before.keys(), "no new UID: the same weeks, updated"
    for uid, event in after.items():
        assert int(event["SEQUENCE"][1]) == int(before[uid]["SEQUENCE"][1]) + (
            content(event) != content(before[uid])
        )
    khal = Khal(tmp_path / "khal", "Europe/Berlin")
    khal.import_file(first)
    khal.import_file(second)
    uids = stored_uids(tmp_path / "khal")
    assert sorted(uids) == sorted(before), "one event per UID, none twice"
    listed = khal.events()
    assert len(listed) == len(before)
    titles = {e["uid"]: e["title"] for e in listed}
    for uid, event in after.items():
        assert titles[uid] == unescape(event["SUMMARY"][1])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class CalDav:
    """Just enough HTTP for the test: basic auth as alice (Radicale's `none` auth accepts any password)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.auth = "Basic " + base64.b64encode(b"alice:any").decode("ascii")

    def request(
        self, method: str, path: str, body: bytes | None = None, depth: str | None = None
    ) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            headers = {"Authorization": self.auth}
            if depth is not None:
                headers["Depth"] = depth
            if body is not None:
                headers["Content-Type"] = "text/calendar; charset=utf-8"
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()


@pytest.fixture
def radicale(tmp_path: Path) -> Iterator[CalDav]:
    port = free_port()
    log = (tmp_path / "radicale.log").open("wb")
    server = subprocess.Popen(
        [str(BIN / "radicale"), "--config", "", "--server-hosts", f"127.0.0.1:{port}", "--auth-type", "none",
         "--storage-filesystem-folder", str(tmp_path / "radicale"), "--logging-level", "warning"],
        stdout=log, stderr=log, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        while True:
            assert server.poll() is None, (tmp_path / "radicale.log").read_text(errors="replace")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            assert time.monotonic() < deadline, "Radicale did not start within 15 s"
            time.sleep(0.05)
        yield CalDav(port)
    finally:
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)
        log.close()


def split_by_uid(data: bytes) -> dict[str, bytes]:
    """One calendar object per event, as CalDAV wants it: the header and VTIMEZONE, one VEVENT, no METHOD."""
    head = data.split(b"BEGIN:VEVENT\r\n", 1)[0]
    head = re.sub(rb"METHOD:[^\r]*\r\n", b"", head)
    objects = {}
    for block in re.findall(rb"BEGIN:VEVENT\r\n.*?END:VEVENT\r\n", data, re.S):
        uid = re.search(rb"\r\nUID:([^\r]*)\r\n", b"\r\n" + block).group(1).decode()  # type: ignore[union-attr]
        objects[uid] = head + block + b"END:VCALENDAR\r\n"
    return objects


@pytest.mark.slow
def test_radicale_accepts_and_returns_every_event(radicale: CalDav) -> None:
    """The CalDAV documents (one per UID, with a cancelled week among them) and the invite, PUT and read back."""
    assert radicale.request("MKCALENDAR", "/alice/peers/")[0] == 201
    roster, slots = leader_plan()
    config = roster.settings
    assert config is not None
    exported = ics.build_export(slots, config, calendar_state.CalendarState(HOME_ID), moment(config))
    later = whole_trial(roster, config, history=skipped(dt.date(2026, 3, 3)))
    documents, state = ics.event_documents(later, config, exported.state, moment(config), alarm=15)
    bo = roster.peers[1]
    invite = ics.build_invite(bo, next(s for s in slots if s.peer == bo), 4, config, state, moment(config))
    objects = {**dict(documents), **split_by_uid(invite.data)}
    assert (
        len(objects) == 26 + 1 + 1
    )  # the trial's weekly slots (the first one cancelled), the review, the series
    for uid, body in objects.items():
        status, answer = radicale.request("PUT", f"/alice/peers/{uid}.ics", body)
        assert status == 201, answer
    for uid, body in objects.items():
        status, stored = radicale.request("GET", f"/alice/peers/{uid}.ics")
        assert status == 200
        (event,) = events_of(stored)
        (sent,) = events_of(body)
        assert event["UID"][1] == uid
        assert unescape(event["SUMMARY"][1]) == unescape(sent["SUMMARY"][1])
        assert (event["DTSTART"], event["STATUS"]) == (sent["DTSTART"], sent["STATUS"])
        parse_strictly(stored)
    # A second set of documents is a set of updates: every PUT replaces (204), none creates.
    renamed = roster._replace(peers=(roster.peers[0]._replace(name="Ann Lee-Smith"), *roster.peers[1:]))
    again, _ = ics.event_documents(whole_trial(renamed, config), config, state, moment(config))
    assert dict(again).keys() <= objects.keys()
    for uid, body in again:
        assert radicale.request("PUT", f"/alice/peers/{uid}.ics", body)[0] == 204
    status, listing = radicale.request("PROPFIND", "/alice/peers/", depth="1")
    assert status == 207
    assert listing.count(b".ics</") == len(objects)


@pytest.mark.slow
@pytest.mark.parametrize("flag", ["export -o", "review --report"])
def test_an_output_path_onto_a_data_file_or_a_folder_is_refused(
    cli: Invoke, set_up: SetUp, home: Path, tmp_path: Path, flag: str
) -> None:
    set_up("Ann Lee", "Bo Chen")
    cli("log", "Ann Lee", "--date", "2026-03-03")
    before = snapshot(home)
    command, option = flag.split()
    extra = ["--early", "--added-value", "yes", "--decision", "stop"] if command == "review" else []
    for target in (home / "roster.toml", home / "journal" / "2026.toml", home / LOCK, tmp_path):
        argv = [command, *extra, option, str(target)]
        result = cli(*argv)
        check_result(result, argv)
        assert result.exit_code == 2, (argv, result.stdout)
    assert snapshot(home) == before


@pytest.mark.slow
def test_an_output_path_onto_a_fifo_is_streamed_and_the_node_kept(
    cli: Invoke, set_up: SetUp, tmp_path: Path
) -> None:
    set_up("Ann Lee", "Bo Chen")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    read: list[bytes] = []
    reader = threading.Thread(target=lambda: read.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = cli("export", "-o", str(fifo))
    reader.join(timeout=20)
    assert result.exit_code == 0, result.stderr
    assert read, "nothing came through the pipe"
    assert read[0].startswith(b"BEGIN:VCALENDAR")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.slow
def test_an_output_path_that_is_another_name_of_a_data_file_is_refused(
    cli: Invoke, set_up: SetUp, home: Path, tmp_path: Path
) -> None:
    """Compared by device and inode: a link to the data folder, a hard link to the roster."""
    set_up("Ann Lee", "Bo Chen")
    before = (home / "roster.toml").read_bytes()
    (tmp_path / "elsewhere").symlink_to(home, target_is_directory=True)
    os.link(home / "roster.toml", tmp_path / "roster-again.toml")
    for target in (tmp_path / "elsewhere" / "roster.toml", tmp_path / "roster-again.toml"):
        result = cli("export", "-o", str(target))
        assert result.exit_code == 2, result.output
        assert "inside the data folder" in result.stderr
    assert (home / "roster.toml").read_bytes() == before


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("unshare") is None or os.geteuid() != 0, reason="needs unshare and root")
def test_an_output_path_through_a_bind_mount_of_the_folder_is_refused(
    set_up: SetUp, home: Path, tmp_path: Path
) -> None:
    set_up("Ann Lee", "Bo Chen")
    before = (home / "roster.toml").read_bytes()
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    script = (f'mount --bind "{home}" "{mirror}" && "{sys.executable}" -m peerloop export -o "{mirror}/roster.toml"; '
              'echo "exit $?"')  # fmt: skip
    env = {**os.environ, "PEERLOOP_HOME": str(home), "PEERLOOP_NOW": "2026-03-02T09:00"}
    done = subprocess.run(["unshare", "--mount", "sh", "-c", script], env=env, capture_output=True, text=True,
                          check=False, timeout=60)  # fmt: skip
    if "mount:" in done.stderr and "exit" not in done.stdout:
        pytest.skip(f"no bind mount here: {done.stderr.strip()}")
    assert "exit 2" in done.stdout, done.stderr
    assert "inside the data folder" in done.stderr
    assert (home / "roster.toml").read_bytes() == before


def calendar_status(cli: Invoke) -> dict[str, object]:
    status = json.loads(cli("status", "--json").stdout)
    return status["calendar"]  # type: ignore[no-any-return]


@pytest.mark.slow
def test_a_partial_export_leaves_the_rest_of_the_plan_counted_as_behind(
    cli: Invoke, set_up: SetUp, tmp_path: Path
) -> None:
    set_up("Ann Lee", "Bo Chen", "Cy Dee", "Di Eze")
    assert cli("export", "--weeks", "4", "-o", str(tmp_path / "four.ics")).exit_code == 0
    assert calendar_status(cli)["stale_weeks"] == 26 - 4
    assert cli("export", "-o", str(tmp_path / "all.ics")).exit_code == 0
    assert calendar_status(cli)["stale_weeks"] == 0


@pytest.mark.parametrize(
    ("stale", "line"),
    [
        (("2027-W02",), "1 week in your calendar no longer matches the plan"),
        (
            ("2027-W02", "2027-W03", "review"),
            "2 weeks and the review date in your calendar no longer match the plan",
        ),
        (("review",), "the review date in your calendar no longer matches the plan"),
    ],
)
def test_the_stale_line_counts_weeks_that_differ_not_a_delay(stale: tuple[str, ...], line: str) -> None:
    """ "24 weeks behind the plan" read as a calendar lagging 24 weeks; it is how many weeks differ."""
    fresh = CalendarFreshness("export", dt.datetime(2027, 1, 4, tzinfo=dt.UTC), stale)
    assert fresh.stale_line() == f"{line}: `peerloop export` and import the file again"


@pytest.mark.slow
def test_the_stale_line_follows_a_change_that_moves_an_event_and_no_other(
    cli: Invoke, set_up: SetUp, tmp_path: Path, at: Callable[[str], None]
) -> None:
    set_up("Ann Lee", "Bo Chen", "Cy Dee", "Di Eze")
    assert cli("log", "Ann Lee", "--date", "2026-03-02", "--follow-up", "send the deck").exit_code == 0
    assert cli("export", "-o", str(tmp_path / "plan.ics")).exit_code == 0
    for quiet in (["done", "20260302-ge5bm.1"], ["log", "Bo Chen", "--touch", "--note", "called"]):
        assert "no longer match" not in cli(*quiet).stderr, quiet
    moved = cli("pause", "Cy Dee", "--until", "2026-04-20")
    assert moved.exit_code == 0
    assert (
        "weeks in your calendar no longer match the plan: `peerloop export` and import the file again."
        in (moved.stderr)
    )


@pytest.mark.slow
def test_after_a_review_every_week_of_the_new_trial_is_behind(
    cli: Invoke, set_up: SetUp, tmp_path: Path, at: Callable[[str], None]
) -> None:
    set_up("Ann Lee", "Bo Chen", "Cy Dee", "Di Eze")
    assert cli("export", "-o", str(tmp_path / "plan.ics")).exit_code == 0
    at("2026-09-03T09:00")
    reviewed = cli("review", "--added-value", "yes", "--decision", "continue")
    assert reviewed.exit_code == 0, reviewed.output
    # the new trial starts with the review's week, whose Tuesday has passed: its 25 meetings ahead and its review
    assert calendar_status(cli)["stale_weeks"] == 25 + 1
