"""One peer's invite (`peerloop invite`): the recurring series, its cancellations, its UID and SEQUENCE, read
back by icalendar, the strict `ical` parser and khal (sending it by e-mail: test_mail.py)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from peerloop.core import rotation
from peerloop.core.calendar import series as invites
from peerloop.core.calendar import state as calendar_state
from peerloop.core.calendar.series import SentSeries, last_series_date
from peerloop.core.models import Peer, Roster, Settings
from peerloop.errors import ConflictError
from peerloop.output import ics
from tests.calendars import (
    DST_CASES,
    HOME_ID,
    Khal,
    Meeting,
    check_file,
    dst_plan,
    empty_state,
    events_of,
    golden,
    golden_cancel,
    golden_invite,
    golden_invite_across_dst,
    leader_plan,
    make_roster,
    make_settings,
    meetings_by_ical,
    meetings_by_icalendar,
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


def test_an_invite_across_dst_changes_matches_the_golden_file() -> None:
    golden("invite-dst.ics", golden_invite_across_dst().data)


def test_invite_cancel_matches_the_golden_file() -> None:
    golden("invite-cancel.ics", golden_cancel().data)


def planned_series(config: Settings, peer: Peer, first: dt.date, interval: int = 1) -> list[Meeting]:
    """The series' meetings as the plan times them (`plan --json`): every `interval` weeks from `first` to the
    trial's last week, each at its real moment (RFC 5545 3.3.5) and exactly its duration long."""
    uid = calendar_state.invite_uid(empty_state(), peer)
    last = last_series_date(config, first, interval)
    days = [first + dt.timedelta(weeks=n) for n in range(0, (last - first).days // 7 + 1, interval)]
    times = [rotation.slot_times(config, rotation.week_start(day)) for day in days]
    return [(uid, utc(start), utc(end)) for start, end in times]


def series_invite(config: Settings, peer: Peer, first: dt.date, interval: int = 1) -> bytes:
    slot = next(slot for slot in whole_trial(Roster(config, (peer,)), config) if slot.date == first)
    now = moment(config, f"{config.trial_start}T00:00")
    return ics.build_invite(peer, slot, interval, config, empty_state(), now).data


def without_overrides(data: bytes) -> bytes:
    return re.sub(
        rb"BEGIN:VEVENT\r\n(?:(?!END:VEVENT).)*?RECURRENCE-ID.*?END:VEVENT\r\n", b"", data, flags=re.S
    )


@pytest.mark.parametrize(("zone", "day", "at"), DST_CASES)
def test_a_series_through_a_dst_change_is_read_by_icalendar_and_ical_as_the_plan_times_it(
    zone: str, day: dt.date, at: dt.time
) -> None:
    """The change on a middle meeting and on the first one: every meeting of the series starts and ends
    when the plan says, in both readers."""
    config, peer, _ = dst_plan(zone, day, at)
    for first in (day - dt.timedelta(weeks=1), day):
        data = series_invite(config, peer, first)
        master, *overrides = check_file(data)
        assert master["DURATION"][1] == "PT45M"
        assert overrides, "the meeting on the change has its own VEVENT"
        for override in overrides:
            params, wall = override["RECURRENCE-ID"]
            assert (params, wall[8:]) == ({"TZID": zone}, f"T{at:%H%M%S}"), (
                "the weekly wall time, as the RRULE"
            )
            assert "EXDATE" not in override
        planned = planned_series(config, peer, first)
        assert meetings_by_ical(data) == planned
        assert meetings_by_icalendar(data) == planned


@pytest.mark.parametrize(
    ("zone", "day", "at", "misread"),
    [
        ("Europe/Berlin", dt.date(2026, 3, 29), dt.time(2, 30), "ends 15 minutes before it starts"),
        ("America/New_York", dt.date(2026, 11, 1), dt.time(1, 30), "lasts 1 h 45 min"),
    ],
)
def test_without_its_overrides_a_series_through_a_dst_change_is_misread(
    zone: str, day: dt.date, at: dt.time, misread: str
) -> None:
    """What the overrides are for: the master alone is read otherwise by both readers."""
    config, peer, _ = dst_plan(zone, day, at)
    data = without_overrides(series_invite(config, peer, day - dt.timedelta(weeks=1)))
    planned = planned_series(config, peer, day - dt.timedelta(weeks=1))
    for read in (meetings_by_ical(data), meetings_by_icalendar(data)):
        (wrong,) = set(read) - set(planned)
        assert wrong[2] - wrong[1] == {"ends 15 minutes before it starts": dt.timedelta(minutes=-15),
                                       "lasts 1 h 45 min": dt.timedelta(minutes=105)}[misread]  # fmt: skip


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "America/Santiago"])
def test_a_day_long_series_lasts_exactly_24_hours_across_a_dst_change(zone: str) -> None:
    """1440 minutes is `PT24H`, exact time; `P1D` is a nominal day, 23 or 25 hours across a change."""
    config = make_settings(zone=zone, start=dt.date(2026, 8, 3), weekday=5, time=dt.time(12))._replace(
        duration=1440
    )
    peer = Peer("Ann Lee", config.trial_start, email="ann@example.com")
    data = series_invite(config, peer, dt.date(2026, 8, 8))
    master, *overrides = check_file(data)
    assert master["DURATION"][1] == "PT24H"
    assert b"P1D" not in data
    assert len(overrides) == 1, "the Saturday before the change ends on the Sunday of the change"
    planned = planned_series(config, peer, dt.date(2026, 8, 8))
    assert {end - start for _, start, end in planned} == {dt.timedelta(hours=24)}
    assert meetings_by_ical(data) == planned
    assert meetings_by_icalendar(data) == planned


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
    assert rule == {"FREQ": "WEEKLY", "INTERVAL": "2", "UNTIL": "20260825T215959Z"}
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


def test_a_cancelled_meeting_on_a_dst_change_names_the_override_it_cancels() -> None:
    """A pause that takes the meeting of 02:30 on Berlin's spring day: RECURRENCE-ID is the wall time the
    RRULE gives (as in the override), DTSTART its real moment, 03:30."""
    config, peer, _ = dst_plan("Europe/Berlin", dt.date(2026, 3, 29), dt.time(2, 30))
    first = dt.date(2026, 3, 22)
    request = series_invite(config, peer, first)
    (override,) = [event for event in events_of(request) if "RECURRENCE-ID" in event]
    sent = SentSeries(first, 1, last_series_date(config, first, 1), dt.time(2, 30))
    later = moment(config, "2026-03-23T10:00")
    state = ics.build_invite(peer, next(s for s in whole_trial(Roster(config, (peer,)), config) if s.date == first),
                             1, config, empty_state(), later).state  # fmt: skip
    cancel = ics.build_invite_cancel(peer, config, state, later, sent, [dt.date(2026, 3, 29)]).data
    (cancelled,) = check_file(cancel)
    assert (
        cancelled["RECURRENCE-ID"]
        == override["RECURRENCE-ID"]
        == ({"TZID": "Europe/Berlin"}, "20260329T023000")
    )
    assert cancelled["DTSTART"] == override["DTSTART"] == ({"TZID": "Europe/Berlin"}, "20260329T033000")


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
    kept = invites.renamed(kept, old, renamed)
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


@pytest.mark.slow
def test_khal_reads_every_meeting_of_a_series_through_dst_changes_as_the_plan_times_it(
    tmp_path: Path,
) -> None:
    """khal reads a repeated hour's wall time as its second pass and a DURATION as exact time; with the
    overrides it lists the plan's moments for every series above (gaps, repeated hours, a day across)."""
    khal = Khal(tmp_path / "khal", "UTC")
    expected: list[Meeting] = []
    series = [(*case.values, first) for case in DST_CASES for first in (0, 1)]
    for n, (zone, day, at, first) in enumerate(series):
        config, _, _ = dst_plan(zone, day, at)
        peer = Peer(f"Peer {n}", config.trial_start, email=f"p{n}@example.com")
        start = day - dt.timedelta(weeks=1 - first)
        khal.import_file(write(tmp_path / f"series-{n}.ics", series_invite(config, peer, start)))
        expected += planned_series(config, peer, start)
    for zone in ("Europe/Berlin", "America/New_York"):
        config = make_settings(zone=zone, start=dt.date(2026, 8, 3), weekday=5, time=dt.time(12))
        peer = Peer(f"All day in {zone}", config.trial_start, email="day@example.com")
        data = series_invite(config._replace(duration=1440), peer, dt.date(2026, 8, 8))
        khal.import_file(write(tmp_path / f"day-{zone.replace('/', '-')}.ics", data))
        expected += planned_series(config._replace(duration=1440), peer, dt.date(2026, 8, 8))
    assert khal.meetings() == sorted(expected)
