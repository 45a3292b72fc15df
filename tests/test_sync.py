"""`peerloop connect caldav` and `peerloop sync` against real servers on 127.0.0.1 (Radicale and Xandikos):
the scenarios of a trial, every event read back by the strict `ical` parser and compared with `plan --json`."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ical.calendar_stream import IcsCalendarStream

from peerloop.connect import caldav
from peerloop.core.calendar.reconcile import (
    Action,
    Applied,
    Desired,
    Intent,
    Kind,
    Recorded,
    Refused,
    Remote,
    SyncRecord,
    answered,
    plan,
    record_from,
    record_to,
    stamp_of,
)
from tests.calendars import record_after
from tests.conftest import Invoke
from tests.servers import Server, radicale, read_back, xandikos

PEERS = ("Ann Lee", "Bo Chen", "Cy Dee", "Di Eze")


STARTERS = {"radicale": radicale, "xandikos": xandikos}


@pytest.fixture(scope="module", params=sorted(STARTERS))
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with STARTERS[request.param](tmp_path_factory.mktemp(request.param)) as running:
        yield running


@pytest.fixture
def connected(
    server: Server, cli: Invoke, set_up: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> str:
    """A trial of four peers, connected to a fresh calendar on the server; the calendar's URL."""
    set_up(*PEERS)
    url = server.make_calendar()
    monkeypatch.setenv("CALDAV_TEST_PASSWORD", server.password)
    args = ["connect", "caldav", url, "--user", server.user, "--password-env", "CALDAV_TEST_PASSWORD"]
    if server.ca_file is not None:
        args += ["--ca-file", str(server.ca_file)]
    result = cli(*args)
    assert result.exit_code == 0, result.output
    return url


def on_server(server: Server, url: str) -> dict[str, Any]:
    """Every peerloop event on the server, read back by the strict parser: uid -> (start, summary, status)."""
    found = {}
    with caldav.open(url, server.user, server.password, ca_file=server.ca_file) as calendar:
        for uid, remote in calendar.list_events("peerloop-").items():
            data, _ = read_back(calendar, remote.href)
            parsed = IcsCalendarStream.calendar_from_ics(data.decode("utf-8"))
            assert len(parsed.events) == 1, data
            event = parsed.events[0]
            found[uid] = (event.dtstart, event.summary, str(event.status or ""), event.sequence, remote.etag)
    return found


def synced(cli: Invoke, *args: str) -> dict[str, Any]:
    result = cli("sync", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def meetings_match_the_plan(cli: Invoke, events: dict[str, Any]) -> None:
    plan = json.loads(cli("plan", "--json").stdout)
    live = {
        (e[0].isoformat(), e[1]) for e in events.values() if "CANCELLED" not in e[2] and "review" not in e[1]
    }
    wanted = {(slot["start"], f"{slot['mode'].capitalize()} with {slot['peer']}") for slot in plan}
    assert live == wanted


@pytest.mark.slow
def test_first_sync_creates_the_plan_and_a_second_changes_nothing(
    server: Server, connected: str, cli: Invoke
) -> None:
    first = synced(cli)
    assert (first["created"], first["complete"]) == (27, True)  # 26 weeks and the review
    events = on_server(server, connected)
    assert len(events) == 27
    meetings_match_the_plan(cli, events)
    assert any("review" in summary.lower() for _, summary, *_ in events.values())
    second = synced(cli)
    assert (second["created"], second["updated"], second["unchanged"]) == (0, 0, 27)
    assert on_server(server, connected) == events  # not one ETag moved
    status = cli("status").stdout
    assert "Calendar  synced " in status
    assert "up to date" in status


@pytest.mark.slow
def test_after_a_stop_sync_cancels_every_meeting_and_the_review_ahead(
    server: Server, connected: str, cli: Invoke, at: Callable[[str], None]
) -> None:
    synced(cli)
    at("2026-04-01T09:00")
    assert cli("review", "--early", "--added-value", "no", "--decision", "stop").exit_code == 0
    synced(cli)
    now = dt.datetime(2026, 4, 1, 9, tzinfo=dt.UTC)
    ahead = {uid: e for uid, e in on_server(server, connected).items() if _as_utc(e[0]) > now}
    assert ahead, "the trial had meetings ahead"
    assert {status for _, _, status, *_ in ahead.values()} == {"EventStatus.CANCELLED"}, (
        "nothing stays planned"
    )
    assert "up to date" in cli("status").stdout
    assert synced(cli)["updated"] == 0


def _as_utc(start: dt.date) -> dt.datetime:
    if isinstance(start, dt.datetime):
        return start.astimezone(dt.UTC)
    return dt.datetime.combine(start, dt.time(), dt.UTC)


@pytest.mark.slow
def test_a_skip_a_pause_a_rename_and_a_removal_each_update_the_calendar(
    server: Server, connected: str, cli: Invoke, at: Callable[[str], None]
) -> None:
    synced(cli)
    at("2026-03-02T12:00")
    changed = cli("log", "--skip", "--reason", "board week")
    assert "weeks in your calendar no longer match the plan: `peerloop sync`" in changed.stderr
    after_skip = synced(cli)
    assert after_skip["cancelled"] + after_skip["updated"] > 0
    meetings_match_the_plan(cli, on_server(server, connected))
    events = on_server(server, connected)
    for step in (["pause", "Bo Chen", "--until", "2026-05-01"], ["edit", "Cy Dee", "--name", "Cy Deer"],
                 ["remove", "Di Eze", "--yes"]):  # fmt: skip
        assert cli(*step).exit_code == 0
        synced(cli)
        before, events = events, on_server(server, connected)
        meetings_match_the_plan(cli, events)
        for uid in before.keys() & events.keys():  # SEQUENCE rises exactly when what the event says changed
            changed = before[uid][:3] != events[uid][:3]
            assert events[uid][3] > before[uid][3] if changed else events[uid][3] == before[uid][3], (
                uid,
                step,
            )
    summaries = {summary for _, summary, status, *_ in events.values() if "CANCELLED" not in status}
    assert not any("Di Eze" in s or "Cy Dee " in s or s.endswith("Cy Dee") for s in summaries)
    assert any("Cy Deer" in s for s in summaries)


@pytest.mark.slow
def test_an_event_the_leader_edited_is_left_alone_unless_overwritten(
    server: Server, connected: str, cli: Invoke
) -> None:
    synced(cli)
    events = on_server(server, connected)
    uid = sorted(events)[0]
    with caldav.open(connected, server.user, server.password, ca_file=server.ca_file) as calendar:
        remote = calendar.list_events(uid)[uid]
        data, etag = read_back(calendar, remote.href)
        moved = data.replace(b"SUMMARY:", b"SUMMARY:Moved by me - ", 1)
        assert not isinstance(calendar.update(remote.href, moved, etag), caldav.Conflict)
    assert cli("pause", "Ann Lee", "--until", "2026-04-15").exit_code == 0  # the plan changes every week
    result = cli("sync")
    assert result.exit_code == 0
    assert f"left alone: {uid}" in result.stderr
    assert on_server(server, connected)[uid][1].startswith("Moved by me")
    overwritten = synced(cli, "--overwrite")
    assert overwritten["conflicts"] == 0
    assert not on_server(server, connected)[uid][1].startswith("Moved by me")


@pytest.mark.slow
def test_a_server_stopped_mid_sync_records_what_it_accepted_and_the_next_sync_finishes(
    tmp_path: Path, cli: Invoke, set_up: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    port_folder = tmp_path / "radicale"
    with radicale(port_folder) as server:
        set_up(*PEERS)
        url = server.make_calendar("peers")
        monkeypatch.setenv("CALDAV_TEST_PASSWORD", server.password)
        assert (
            cli(
                "connect", "caldav", url, "--user", server.user, "--password-env", "CALDAV_TEST_PASSWORD"
            ).exit_code
            == 0
        )
        real_send = caldav.Calendar.send
        sent: list[Any] = []

        def stopping_after_five(self: caldav.Calendar, action: Any) -> Any:
            answer = real_send(self, action)
            sent.append(answer)
            if len(sent) == 5:
                server.stop()
            return answer

        monkeypatch.setattr(caldav.Calendar, "send", stopping_after_five)
        stopped = cli("sync")
        assert stopped.exit_code == 7, stopped.output
        assert "5 of 27 changes reached the server; `peerloop sync` finishes the rest" in stopped.stderr
        assert "Synced" not in stopped.stdout
        port = int(url.split(":")[2].split("/")[0])
    monkeypatch.setattr(caldav.Calendar, "send", real_send)
    with radicale(port_folder, port=port) as again:
        finished = synced(cli)
        assert (finished["created"], finished["unchanged"]) == (22, 5)
        assert len(on_server(again, url)) == 27


@pytest.mark.slow
def test_wrong_password_missing_calendar_and_no_server_are_one_line_each(
    server: Server, connected: str, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALDAV_TEST_PASSWORD", "not-the-password-123")
    wrong = cli("sync")
    assert wrong.exit_code == 8
    assert wrong.stderr.count("\n") == 1
    assert "not-the-password-123" not in wrong.output
    monkeypatch.setenv("CALDAV_TEST_PASSWORD", server.password)
    missing = cli("connect", "caldav", server.calendar_url("nowhere"), "--user", server.user,
                  "--password-env", "CALDAV_TEST_PASSWORD", *(["--ca-file", str(server.ca_file)] if server.ca_file else []))  # fmt: skip
    assert missing.exit_code == 9, missing.output
    closed = cli(
        "connect",
        "caldav",
        "https://127.0.0.1:9/cal/",
        "--user",
        "x",
        "--password-env",
        "CALDAV_TEST_PASSWORD",
    )
    assert closed.exit_code == 7
    assert server.password not in closed.output + missing.output


@pytest.mark.slow
def test_sync_without_a_connection_says_how_to_connect(cli: Invoke, set_up: Callable[..., None]) -> None:
    set_up(*PEERS)
    result = cli("sync")
    assert result.exit_code == 3
    assert (
        result.stderr
        == "peerloop: error: nothing to sync: `peerloop connect caldav URL --user NAME` (or `connect busy "
        "FILE-OR-URL`) first\n"
    )


@pytest.mark.slow
def test_connections_never_hold_a_password(cli: Invoke, set_up: Callable[..., None], home: Path) -> None:
    set_up(*PEERS)
    args = ["connect", "caldav", "https://cal.example.com/dana/peers/", "--user", "dana", "--no-check"]
    assert cli(*args).exit_code == 2  # no password source given
    assert cli(*args, "--password-command", "pass show caldav").exit_code == 0
    saved = (home / "connections.toml").read_text(encoding="utf-8")
    assert 'password_command = "pass show caldav"' in saved
    assert "password =" not in saved
    listed = json.loads(cli("connect", "--json").stdout)
    assert listed == [{"kind": "caldav", "where": "https://cal.example.com/dana/peers/",
                       "how": "user dana, password from the command `pass show caldav`"}]  # fmt: skip
    assert cli("disconnect", "caldav").exit_code == 0
    assert json.loads(cli("connect", "--json").stdout) == []
    assert cli("disconnect", "caldav").exit_code == 3


@pytest.mark.slow
def test_sync_plans_around_the_leaders_own_events_and_never_its_own(
    server: Server, connected: str, cli: Invoke
) -> None:
    board = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:board-1@example.com\r\n"
        "DTSTAMP:20260101T000000Z\r\nDTSTART:20260310T070000Z\r\nDTEND:20260310T090000Z\r\n"
        "SUMMARY:Board meeting\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    status = server.request(
        "PUT", connected + "board-1.ics", board.encode(), {"Content-Type": "text/calendar"}
    )
    assert status in (201, 204)
    first = synced(cli)
    assert first["created"] == 27
    moved = [e for e in on_server(server, connected).values() if e[0].isoformat().startswith("2026-03-10")]
    assert [e[0].isoformat() for e in moved] == ["2026-03-10T10:00:00+01:00"]
    again = synced(cli)  # its own events are not busy time: nothing moves again
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 27)


@pytest.mark.slow
def test_no_note_or_reflection_reaches_the_server(server: Server, connected: str, cli: Invoke) -> None:
    secret = "zz-private-journal-text-zz"
    for args in (
        ["edit", "Ann Lee", "--note", secret, "--email", "ann@example.com"],
        ["log", "--skip", "--reason", secret],
        ["log", "Ann Lee", "--date", "2026-03-02", "--issue", secret, "--win", secret, "--works", secret,
         "--improve", secret, "--follow-up", secret, "--note", secret],
        ["reflect", "--purpose", secret],
    ):  # fmt: skip
        assert cli(*args).exit_code == 0, args
    created = synced(cli)["created"]
    with caldav.open(connected, server.user, server.password, ca_file=server.ca_file) as calendar:
        stored = [
            read_back(calendar, remote.href)[0] for remote in calendar.list_events("peerloop-").values()
        ]
    assert len(stored) == created > 20
    assert not [data for data in stored if secret.encode() in data]


UID = "peerloop-abc-2026W10"


ICS, ICS2 = b"BEGIN:VCALENDAR\r\n...v1", b"BEGIN:VCALENDAR\r\n...v2"


HREF = "/alice/peers/peerloop-abc-2026W10.ics"


WANT = Desired(ICS, "d1")


WANT_CHANGED = Desired(ICS2, "d2")


WAS = Recorded(HREF, '"e1"', "d1")


NOW_SAME = Remote(HREF, '"e1"')


NOW_EDITED = Remote(HREF, '"e-leader"')


NOW_MOVED = Remote("/alice/peers/renamed.ics", '"e1"')


# (case, desired, recorded, remote, overwrite) -> expected action, or None for "nothing at all"
CASES = [
    ("new event is created", WANT, None, None, False,
     Action(Kind.CREATE, UID, "new", ics=ICS, digest="d1")),
    ("same content and etag is unchanged", WANT, WAS, NOW_SAME, False,
     Action(Kind.UNCHANGED, UID, "unchanged", HREF, '"e1"', digest="d1")),
    ("unchanged follows the server's href", WANT, WAS, NOW_MOVED, False,
     Action(Kind.UNCHANGED, UID, "unchanged", NOW_MOVED.href, '"e1"', digest="d1")),
    ("changed content is updated with if-match of the recorded etag", WANT_CHANGED, WAS, NOW_SAME, False,
     Action(Kind.UPDATE, UID, "changed", HREF, '"e1"', ICS2, "d2")),
    ("leader's edit of a planned event is a conflict", WANT_CHANGED, WAS, NOW_EDITED, False,
     Action(Kind.CONFLICT, UID, "changed on the server", HREF, '"e-leader"')),
    ("leader's edit stays a conflict even when our content did not change", WANT, WAS, NOW_EDITED, False,
     Action(Kind.CONFLICT, UID, "changed on the server", HREF, '"e-leader"')),
    ("overwrite replaces the leader's edit, if-match its current etag", WANT, WAS, NOW_EDITED, True,
     Action(Kind.UPDATE, UID, "changed on the server, overwritten", HREF, '"e-leader"', ICS, "d1")),
    ("planned event deleted on the server is reported missing", WANT, WAS, None, False,
     Action(Kind.MISSING, UID, "deleted on the server", HREF, '"e1"')),
    ("overwrite puts a deleted event back", WANT, WAS, None, True,
     Action(Kind.CREATE, UID, "deleted on the server, put back", ics=ICS, digest="d1")),
    ("unrecorded event of ours on the server is adopted by an update", WANT, None, NOW_EDITED, False,
     Action(Kind.UPDATE, UID, "on the server but not recorded", HREF, '"e-leader"', ICS, "d1")),
    ("event that left the plan is deleted", None, WAS, NOW_SAME, False,
     Action(Kind.DELETE, UID, "left the plan", HREF, '"e1"')),
    ("event that left the plan but was edited is a conflict", None, WAS, NOW_EDITED, False,
     Action(Kind.CONFLICT, UID, "left the plan but was changed on the server", HREF, '"e-leader"')),
    ("overwrite deletes an edited event that left the plan", None, WAS, NOW_EDITED, True,
     Action(Kind.DELETE, UID, "left the plan", HREF, '"e-leader"')),
    ("event that left the plan and is gone is only forgotten", None, WAS, None, False,
     Action(Kind.FORGET, UID, "already gone from the server")),
    ("leftover of an interrupted sync is deleted", None, None, NOW_SAME, False,
     Action(Kind.DELETE, UID, "left over from an interrupted sync", HREF, '"e1"')),
]  # fmt: skip


@pytest.mark.parametrize(("desired", "recorded", "remote", "overwrite", "expected"),
                         [pytest.param(*case[1:], id=case[0]) for case in CASES])  # fmt: skip
def test_each_combination_gets_exactly_its_action(
    desired: Desired | None,
    recorded: Recorded | None,
    remote: Remote | None,
    overwrite: bool,
    expected: Action,
) -> None:
    actions = plan(
        {UID: desired} if desired else {},
        {UID: recorded} if recorded else {},
        {UID: remote} if remote else {},
        overwrite=overwrite,
    )
    assert actions == [expected]


def test_uid_known_nowhere_needs_nothing() -> None:
    assert plan({}, {}, {}) == []


def test_actions_come_in_uid_order_whatever_side_knows_them() -> None:
    desired = {"peerloop-x-3": WANT, "peerloop-x-1": WANT}
    remote = {"peerloop-x-2": NOW_SAME}
    assert [a.uid for a in plan(desired, {}, remote)] == ["peerloop-x-1", "peerloop-x-2", "peerloop-x-3"]


def test_second_sync_after_everything_was_accepted_changes_nothing() -> None:
    desired = {f"peerloop-x-{n}": Desired(f"ics{n}".encode(), f"d{n}") for n in range(5)}
    first = plan(desired, {}, {})
    results = [Applied(a.uid, f"/cal/{a.uid}.ics", f'"e{a.uid}"') for a in first]
    record = record_after({}, first, results)
    remote = {uid: Remote(r.href, r.etag) for uid, r in record.items()}
    second = plan(desired, record, remote)
    assert {a.kind for a in second} == {Kind.UNCHANGED}
    assert record_after(record, second, []) == record


def test_sync_stopped_half_way_records_exactly_what_the_server_accepted() -> None:
    desired = {f"peerloop-x-{n}": Desired(f"ics{n}".encode(), f"d{n}") for n in range(4)}
    actions = plan(desired, {}, {})
    accepted = [Applied(a.uid, f"/cal/{a.uid}.ics", '"e"') for a in actions[:2]]
    record = record_after({}, actions, accepted)
    assert sorted(record) == ["peerloop-x-0", "peerloop-x-1"]
    remote = {uid: Remote(r.href, r.etag) for uid, r in record.items()}
    rest = plan(desired, record, remote)
    assert [(a.kind, a.uid) for a in rest if a.kind is not Kind.UNCHANGED] == [
        (Kind.CREATE, "peerloop-x-2"),
        (Kind.CREATE, "peerloop-x-3"),
    ]


def test_accepted_update_records_new_etag_and_digest() -> None:
    actions = plan({UID: WANT_CHANGED}, {UID: WAS}, {UID: NOW_SAME})
    record = record_after({UID: WAS}, actions, [Applied(UID, HREF, '"e2"')])
    assert record == {UID: Recorded(HREF, '"e2"', "d2")}


def test_update_refused_during_the_sync_keeps_the_old_record() -> None:
    actions = plan({UID: WANT_CHANGED}, {UID: WAS}, {UID: NOW_SAME})
    record = record_after({UID: WAS}, actions, [Refused(UID, "changed on the server during the sync")])
    assert record == {UID: WAS}


def test_accepted_delete_and_forget_drop_the_record() -> None:
    other = "peerloop-abc-2026W11"
    recorded = {UID: WAS, other: Recorded("/o.ics", '"o"', "do")}
    actions = plan({}, recorded, {UID: NOW_SAME})
    assert [a.kind for a in actions] == [Kind.DELETE, Kind.FORGET]
    assert record_after(recorded, actions, [Applied(UID, None, None)]) == {}


def test_conflicts_and_missing_events_keep_their_record_so_they_stay_reported() -> None:
    other = "peerloop-abc-2026W11"
    recorded = {UID: WAS, other: Recorded("/o.ics", '"o"', "d1")}
    actions = plan({UID: WANT, other: WANT}, recorded, {UID: NOW_EDITED})
    assert [a.kind for a in actions] == [Kind.CONFLICT, Kind.MISSING]
    record = record_after(recorded, actions, [])
    assert record == recorded
    assert [a.kind for a in plan({UID: WANT, other: WANT}, record, {UID: NOW_EDITED})] == [
        Kind.CONFLICT,
        Kind.MISSING,
    ]


def test_the_record_keeps_each_intent_until_the_server_answers_it() -> None:
    record = SyncRecord(
        "https://cal.example/peers/", None, {UID: WAS}, {UID: Intent("d2", 3, "20260302T090000Z")}
    )
    again = record_from(record_to(record), record.url)
    assert again == record
    assert record_from(record_to(record), "https://elsewhere.example/") == SyncRecord(
        "https://elsewhere.example/", None, {}, {}
    )
    actions = plan({UID: WANT_CHANGED}, {UID: WAS}, {UID: NOW_SAME})
    done = answered(again, actions[0], Applied(UID, HREF, '"e2"'))
    assert done.intents == {}
    assert done.recorded == {UID: Recorded(HREF, '"e2"', "d2")}
    refused = answered(again, actions[0], Refused(UID, "changed on the server during the sync"))
    assert (refused.recorded, refused.intents) == ({UID: WAS}, {})


def test_the_sequence_and_stamp_of_a_stored_event_are_read_from_its_unfolded_lines() -> None:
    stored = ("BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nDTSTAMP:19700101T000000Z\r\nEND:VTIMEZONE\r\n"
              "BEGIN:VEVENT\r\nUID:x\r\nSEQUENCE:1\r\n 2\r\nDTSTAMP;VALUE=DATE-TIME:20260302T090000Z\r\n"
              "END:VEVENT\r\nEND:VCALENDAR\r\n")  # fmt: skip
    assert stamp_of(stored) == (12, "20260302T090000Z")
    assert stamp_of("BEGIN:VCALENDAR\nEND:VCALENDAR\n") == (None, None)
