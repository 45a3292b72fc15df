"""One peer's invite (`peerloop invite`): the recurring series, its cancellations, its UID and SEQUENCE, read
back by icalendar, the strict `ical` parser and khal (sending it by e-mail: test_mail.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from peerloop.core.calendar import series as invites
from peerloop.core.calendar import state as calendar_state
from peerloop.core.calendar.series import SentSeries, last_series_date
from peerloop.core.models import (
    Peer,
    Roster,
)
from peerloop.errors import ConflictError
from peerloop.output import ics
from tests.calendars import (
    DST_CASES,
    HOME_ID,
    Khal,
    check_file,
    dst_plan,
    empty_state,
    events_of,
    golden,
    golden_cancel,
    golden_invite,
    leader_plan,
    make_roster,
    make_settings,
    moment,
    parse_strictly,
    parse_with_icalendar,
    unfolded,
    utc,
    whole_trial,
    write,
)
from tests.conftest import Invoke


def test_invite_matches_the_golden_file() -> None:
    golden("invite.ics", golden_invite().data)


def test_invite_cancel_matches_the_golden_file() -> None:
    golden("invite-cancel.ics", golden_cancel().data)


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
    assert until == planned[-1] < config.trial_end
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


def test_cancelling_a_whole_series_sends_one_cancel_with_a_higher_sequence() -> None:
    config = make_settings()
    roster = make_roster(["Ann Lee", "Bo Chen"], config)
    invite = ics.build_invite(roster.peers[1], whole_trial(roster, config)[1], 2, config, empty_state(),
                              moment(config))  # fmt: skip
    slot = whole_trial(roster, config)[1]
    sent = SentSeries(slot.date, 2, last_series_date(config, slot.date, 2), slot.start.time())
    cancel = ics.build_invite_cancel(roster.peers[1], config, invite.state, moment(config), sent, None)
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


def test_only_meetings_of_the_series_as_sent_can_be_cancelled() -> None:
    config = make_settings()
    peer = Peer("Ann Lee", config.trial_start, email="ann@example.com")
    sent = SentSeries(dt.date(2026, 3, 3), 2, dt.date(2026, 8, 25), dt.time(8, 30))
    assert [day.isoformat() for day in sent.dates()[:3]] == ["2026-03-03", "2026-03-17", "2026-03-31"]
    with pytest.raises(ValueError, match="as it was sent"):
        ics.build_invite_cancel(peer, config, empty_state(), moment(config), sent, [dt.date(2026, 3, 10)])


def test_a_new_peer_with_a_renamed_peers_old_name_gets_a_series_of_their_own() -> None:
    old, renamed, newcomer = (
        Peer("Bo Chen", dt.date(2026, 3, 2)),
        Peer("Bo Li", dt.date(2026, 3, 2)),
        Peer("bo chen", dt.date(2026, 4, 1)),
    )
    first = calendar_state.series_uid(HOME_ID, old)
    kept = calendar_state.CalendarState(home_id=HOME_ID, series={old.key: first})
    kept = calendar_state.with_renamed_peer(kept, old, renamed)
    assert calendar_state.invite_uid(kept, renamed) == first
    assert calendar_state.invite_uid(kept, newcomer) == first + "-2"


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
    from peerloop.core.parse.names import slug

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


@pytest.mark.slow
def test_khal_expands_an_invite_to_the_planned_dates(tmp_path: Path) -> None:
    roster, slots = leader_plan()
    config = roster.settings
    assert config is not None
    peer = roster.peers[2]
    first = next(slot for slot in slots if slot.peer == peer)
    built = ics.build_invite(
        peer, first, len(roster.peers), config, calendar_state.CalendarState(HOME_ID), moment(config)
    )
    khal = Khal(tmp_path / "khal", "Europe/Berlin")
    khal.import_file(write(tmp_path / "invite.ics", built.data))
    listed = khal.events()
    assert [e["start-date"] for e in listed] == [slot.date.isoformat() for slot in slots if slot.peer == peer]
    assert {e["start-time"] for e in listed} == {"08:30"}
    assert {e["title"] for e in listed} == {"Coffee: Dana Ode and Cy; Dee 😀"}
