"""The CalDAV client against real servers (Radicale and Xandikos on 127.0.0.1), and where passwords come from."""

from __future__ import annotations

import datetime as dt
import shlex
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from peerloop.connect import caldav, secrets
from peerloop.core.calendar.reconcile import (
    SENDS,
    Action,
    Applied,
    Desired,
    Kind,
    Refused,
    Remote,
    plan,
)
from peerloop.core.connections import PasswordSource
from peerloop.errors import InputError, LoginRefusedError, RemoteRefusedError, UnreachableError
from tests.calendars import record_after
from tests.servers import Server, free_port, radicale, read_back, sparse_dav, xandikos

PREFIX = "peerloop-t3st-"
WRONG_PASSWORD = "Wr0ng-Hunter2-pw"
UTC = dt.UTC
STARTERS: dict[str, Callable[..., AbstractContextManager[Server]]] = {
    "radicale": radicale,
    "xandikos": xandikos,
}
SLOW_KINDS = [pytest.param(kind, marks=pytest.mark.slow) for kind in STARTERS]


def event(uid: str, summary: str = "Coffee with Ann", day: int = 3, hour: int = 8) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//peerloop tests//EN", "BEGIN:VEVENT", f"UID:{uid}",
             "DTSTAMP:20260301T000000Z", f"DTSTART:202603{day:02d}T{hour:02d}0000Z",
             f"DTEND:202603{day:02d}T{hour + 1:02d}0000Z", f"SUMMARY:{summary}", "END:VEVENT", "END:VCALENDAR"]  # fmt: skip
    return ("\r\n".join(lines) + "\r\n").encode()


def leader_puts(server: Server, href: str, ics: bytes) -> None:
    """The leader's calendar app saves an event: no preconditions, a new ETag."""
    assert server.request("PUT", server.base_url + href, ics, {"Content-Type": "text/calendar"}) in (201, 204)


@pytest.fixture(scope="module", params=SLOW_KINDS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with STARTERS[request.param](tmp_path_factory.mktemp(request.param)) as running:
        yield running


@pytest.fixture
def calendar(server: Server) -> Iterator[caldav.Calendar]:
    """A fresh, empty calendar collection on the module's server."""
    with caldav.open(server.make_calendar(), server.user, server.password, ca_file=server.ca_file) as opened:
        yield opened


# --- events ---------------------------------------------------------------------------------------------------


def test_listing_finds_only_peerloops_events_with_the_etags_the_server_gave(
    calendar: caldav.Calendar, server: Server
) -> None:
    first = calendar.create(PREFIX + "1", event(PREFIX + "1"))
    second = calendar.create(PREFIX + "2", event(PREFIX + "2", day=10))
    assert isinstance(first, Remote)
    assert isinstance(second, Remote)
    leader_puts(server, first.href.replace(PREFIX + "1", "dentist"), event("dentist-at-9", "Dentist"))
    assert calendar.list_events(PREFIX) == {
        PREFIX + "1": first,
        PREFIX + "2": second,
    }


def test_create_stores_the_event_and_gives_its_current_etag(calendar: caldav.Calendar) -> None:
    written = calendar.create(PREFIX + "1", event(PREFIX + "1", "Lunch with Bo"))
    assert isinstance(written, Remote)
    body, etag = read_back(calendar, written.href)
    assert b"SUMMARY:Lunch with Bo\n" in body.replace(b"\r\n", b"\n")
    assert etag == written.etag


def test_create_never_replaces_an_event_already_there(calendar: caldav.Calendar) -> None:
    written = calendar.create(PREFIX + "1", event(PREFIX + "1", "First"))
    assert isinstance(written, Remote)
    assert calendar.create(PREFIX + "1", event(PREFIX + "1", "Second")) == caldav.Conflict(written.href)
    assert b"SUMMARY:First" in read_back(calendar, written.href)[0]


def test_update_with_the_current_etag_replaces_the_event_and_gives_its_new_etag(
    calendar: caldav.Calendar,
) -> None:
    written = calendar.create(PREFIX + "1", event(PREFIX + "1", "Coffee with Ann"))
    assert isinstance(written, Remote)
    updated = calendar.update(written.href, event(PREFIX + "1", "Call with Ann"), written.etag)
    assert isinstance(updated, Remote)
    assert updated.etag != written.etag
    body, etag = read_back(calendar, written.href)
    assert b"SUMMARY:Call with Ann" in body
    assert etag == updated.etag


def test_update_with_a_stale_etag_is_a_conflict_and_keeps_the_leaders_edit(
    calendar: caldav.Calendar, server: Server
) -> None:
    written = calendar.create(PREFIX + "1", event(PREFIX + "1"))
    assert isinstance(written, Remote)
    leader_puts(server, written.href, event(PREFIX + "1", "Moved by the leader", hour=14))
    assert calendar.update(written.href, event(PREFIX + "1", "Ours"), written.etag) == caldav.Conflict(
        written.href
    )
    assert b"SUMMARY:Moved by the leader" in read_back(calendar, written.href)[0]
    assert isinstance(calendar.update(written.href, event(PREFIX + "1", "Ours"), None), Remote)
    assert b"SUMMARY:Ours" in read_back(calendar, written.href)[0]


def test_delete_needs_the_current_etag_and_an_event_already_gone_counts_as_deleted(
    calendar: caldav.Calendar, server: Server
) -> None:
    written = calendar.create(PREFIX + "1", event(PREFIX + "1"))
    assert isinstance(written, Remote)
    leader_puts(server, written.href, event(PREFIX + "1", "Edited"))
    assert calendar.delete(written.href, written.etag) == caldav.Conflict(written.href)
    current = calendar.list_events(PREFIX)[PREFIX + "1"].etag
    assert calendar.delete(written.href, current) is None
    assert calendar.list_events(PREFIX) == {}
    assert calendar.delete(written.href, None) is None


def test_a_sync_round_trip_creates_then_changes_nothing_then_updates_deletes_and_reports_the_leaders_edit(
    calendar: caldav.Calendar, server: Server
) -> None:
    desired = {f"{PREFIX}{n}": Desired(event(f"{PREFIX}{n}", day=2 + n), f"v1-{n}") for n in range(4)}
    first = plan(desired, {}, calendar.list_events(PREFIX))
    record = record_after({}, first, list(apply(calendar, first)))
    assert [a.kind for a in first] == [Kind.CREATE] * 4
    idle = plan(desired, record, calendar.list_events(PREFIX))
    assert {a.kind for a in idle} == {Kind.UNCHANGED}
    assert list(apply(calendar, idle)) == []
    leader_puts(server, record[PREFIX + "0"].href, event(PREFIX + "0", "Moved by the leader", hour=15))
    desired[PREFIX + "1"] = Desired(event(PREFIX + "1", "Lunch with Bo", day=3), "v2-1")
    del desired[PREFIX + "2"]
    third = plan(desired, record, calendar.list_events(PREFIX))
    assert [(a.kind, a.uid) for a in third] == [(Kind.CONFLICT, PREFIX + "0"), (Kind.UPDATE, PREFIX + "1"),
                                                (Kind.DELETE, PREFIX + "2"), (Kind.UNCHANGED, PREFIX + "3")]  # fmt: skip
    record = record_after(record, third, list(apply(calendar, third)))
    on_server = calendar.list_events(PREFIX)
    assert sorted(on_server) == [PREFIX + "0", PREFIX + "1", PREFIX + "3"]
    assert {uid: (r.href, r.etag) for uid, r in record.items() if uid != PREFIX + "0"} == {
        uid: (r.href, r.etag) for uid, r in on_server.items() if uid != PREFIX + "0"
    }
    assert b"Moved by the leader" in read_back(calendar, on_server[PREFIX + "0"].href)[0]


def test_an_update_racing_the_leaders_edit_is_refused_and_not_recorded(
    calendar: caldav.Calendar, server: Server
) -> None:
    desired = {PREFIX + "1": Desired(event(PREFIX + "1"), "v1")}
    first = plan(desired, {}, {})
    record = record_after({}, first, list(apply(calendar, first)))
    desired = {PREFIX + "1": Desired(event(PREFIX + "1", "Renamed"), "v2")}
    actions = plan(desired, record, calendar.list_events(PREFIX))
    leader_puts(server, record[PREFIX + "1"].href, event(PREFIX + "1", "Leader, meanwhile"))
    results = list(apply(calendar, actions))
    assert [type(r).__name__ for r in results] == ["Refused"]
    assert record_after(record, actions, results) == record


# --- free/busy --------------------------------------------------------------------------------------------------


def busy_periods(data: bytes) -> list[tuple[dt.datetime, dt.datetime]]:
    """The FREEBUSY periods of a VFREEBUSY answer, read by icalendar (comma lists come split)."""
    from icalendar import Calendar

    periods = []
    for component in Calendar.from_ical(data).walk("VFREEBUSY"):
        for period in component.get("FREEBUSY", []):
            begin, until = period.dt
            periods.append((begin, begin + until if isinstance(until, dt.timedelta) else until))
    return sorted(periods)


def test_events_between_gives_the_leaders_own_events_in_the_window_but_not_peerloops(
    calendar: caldav.Calendar,
) -> None:
    calendar.create(PREFIX + "1", event(PREFIX + "1", day=3))
    calendar.create("leader-1", event("leader-1", "Board meeting", day=4))
    calendar.create("leader-2", event("leader-2", "Outside the window", day=20))
    found = calendar.events_between(
        dt.datetime(2026, 3, 2, tzinfo=UTC), dt.datetime(2026, 3, 9, tzinfo=UTC), exclude_uid_prefix=PREFIX
    )
    assert len(found) == 1
    assert b"UID:leader-1\r\n" in found[0]
    assert found[0].startswith(b"BEGIN:VCALENDAR\r\n")


# --- failures ---------------------------------------------------------------------------------------------------


def test_wrong_password_is_refused_with_exit_8_in_one_line_without_the_password(server: Server) -> None:
    url = server.make_calendar()
    with pytest.raises(LoginRefusedError) as refused:
        caldav.open(url, server.user, WRONG_PASSWORD, ca_file=server.ca_file)
    assert refused.value.exit_code == 8
    assert "user 'alice'" in refused.value.message
    assert WRONG_PASSWORD not in refused.value.message
    assert "\n" not in refused.value.message


def test_calendar_that_does_not_exist_is_refused_with_exit_9(server: Server) -> None:
    with pytest.raises(RemoteRefusedError, match="no calendar at") as refused:
        caldav.open(
            server.calendar_url("no-such-calendar"), server.user, server.password, ca_file=server.ca_file
        )
    assert refused.value.exit_code == 9


def test_url_of_a_folder_instead_of_a_calendar_is_refused_with_exit_9(server: Server) -> None:
    folder = server.base_url + server.home_path
    with pytest.raises(RemoteRefusedError, match="not a calendar") as refused:
        caldav.open(folder, server.user, server.password, ca_file=server.ca_file)
    assert refused.value.exit_code == 9


def apply(calendar: caldav.Calendar, actions: list[Action]) -> Iterator[Applied | Refused]:
    """What `sync` does with the changes: each sent in turn, each answer as it comes."""
    for action in actions:
        if action.kind in SENDS:
            yield calendar.send(action)


def send_stopping_after(count: int, sending: Iterator[Applied | Refused], results: list[Applied | Refused],
                        server: Server) -> None:  # fmt: skip
    """Collect what the server accepts; stop the server once it has accepted `count` actions."""
    for result in sending:
        results.append(result)
        if len(results) == count:
            server.stop()


@pytest.mark.parametrize("kind", SLOW_KINDS)
def test_server_stopped_mid_sync_keeps_what_it_accepted_and_the_next_sync_finishes(
    kind: str, tmp_path: Path
) -> None:
    desired = {f"{PREFIX}{n}": Desired(event(f"{PREFIX}{n}", day=2 + n), f"v1-{n}") for n in range(6)}
    with STARTERS[kind](tmp_path / kind) as server:
        url = server.make_calendar("peers")
        port = int(server.base_url.rsplit(":", 1)[1])
        with caldav.open(url, server.user, server.password, ca_file=server.ca_file) as calendar:
            actions = plan(desired, {}, calendar.list_events(PREFIX))
            results: list[Applied | Refused] = []
            with pytest.raises(UnreachableError) as unreachable:
                send_stopping_after(3, apply(calendar, actions), results, server)
            assert unreachable.value.exit_code == 7
    record = record_after({}, actions, results)
    assert sorted(record) == [f"{PREFIX}{n}" for n in range(3)]
    with (
        STARTERS[kind](tmp_path / kind, port=port) as server,
        caldav.open(url, server.user, server.password, ca_file=server.ca_file) as calendar,
    ):
        rest = plan(desired, record, calendar.list_events(PREFIX))
        assert [a.kind for a in rest] == [Kind.UNCHANGED] * 3 + [Kind.CREATE] * 3
        record = record_after(record, rest, list(apply(calendar, rest)))
        assert {uid: Remote(r.href, r.etag) for uid, r in record.items()} == calendar.list_events(PREFIX)


@pytest.mark.slow
@pytest.mark.parametrize(
    "start", [lambda p: radicale(p, tls=True), xandikos], ids=["radicale-tls", "xandikos"]
)
def test_self_signed_https_server_is_trusted_only_with_its_certificate_file(
    start: Callable[[Path], AbstractContextManager[Server]], tmp_path: Path
) -> None:
    with start(tmp_path) as server:
        url = server.make_calendar()
        assert url.startswith("https://")
        with pytest.raises(UnreachableError, match="certificate") as untrusted:
            caldav.open(url, server.user, server.password)
        assert untrusted.value.exit_code == 7
        with caldav.open(url, server.user, server.password, ca_file=server.ca_file) as calendar:
            assert calendar.list_events(PREFIX) == {}


def test_nothing_listening_is_unreachable_with_exit_7() -> None:
    with pytest.raises(UnreachableError, match=r"cannot reach 127\.0\.0\.1") as unreachable:
        caldav.open(f"http://127.0.0.1:{free_port()}/alice/peers/", "alice", "pw")
    assert unreachable.value.exit_code == 7


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://alice:Hunter2@cal.example.org/alice/peers/", "contains a password"),
        ("ftp://cal.example.org/alice/peers/", "not a calendar URL"),
        ("cal.example.org/alice/peers/", "not a calendar URL"),
    ],
)
def test_malformed_calendar_urls_are_input_errors_that_never_echo_a_password(url: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as wrong:
        caldav.open(url, "alice", "pw")
    assert "Hunter2" not in wrong.value.message


def test_a_certificate_file_that_does_not_exist_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no certificate file"):
        caldav.open("https://cal.example.org/alice/peers/", "alice", "pw", ca_file=tmp_path / "missing.pem")


# --- passwords --------------------------------------------------------------------------------------------------


def python_command(code: str) -> str:
    return shlex.join([sys.executable, "-c", code])


def test_password_command_gives_its_first_line() -> None:
    command = python_command("print('s3cret with spaces'); print('login: alice')")
    assert (
        secrets.password(PasswordSource(command=command, env=None, keyring=False), "alice")
        == "s3cret with spaces"
    )


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("import sys; print('Leaked-' + 'Hunter2'); sys.exit(3)", "exit status 3"),
        ("print('')", "no password"),
        ("pass", "no password"),
    ],
)
def test_failing_or_silent_password_command_is_refused_naming_it_not_its_output(code: str, why: str) -> None:
    command = python_command(code)
    with pytest.raises(LoginRefusedError, match=why) as refused:
        secrets.password(PasswordSource(command=command, env=None, keyring=False), "alice")
    assert refused.value.exit_code == 8
    assert command in refused.value.message
    assert "Leaked-Hunter2" not in refused.value.message


@pytest.mark.parametrize(
    ("command", "why"),
    [("no-such-program-xyz show caldav", "was not found"), ("pass show 'caldav", "unbalanced quotes"),
     ("   ", "is empty")],
)  # fmt: skip
def test_password_command_that_cannot_run_is_refused_in_one_line(command: str, why: str) -> None:
    with pytest.raises(LoginRefusedError, match=why):
        secrets.password(PasswordSource(command=command, env=None, keyring=False), "alice")


def test_password_from_an_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERLOOP_TEST_PW", "from-env")
    assert (
        secrets.password(PasswordSource(command=None, env="PEERLOOP_TEST_PW", keyring=False), "alice")
        == "from-env"
    )


def test_unset_environment_variable_is_refused_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PEERLOOP_TEST_PW", raising=False)
    with pytest.raises(LoginRefusedError, match="PEERLOOP_TEST_PW is not set"):
        secrets.password(PasswordSource(command=None, env="PEERLOOP_TEST_PW", keyring=False), "alice")


def test_no_password_source_at_all_is_refused() -> None:
    with pytest.raises(LoginRefusedError, match="no password source"):
        secrets.password(PasswordSource(command=None, env=None, keyring=False), "alice")


def fake_keyring(
    monkeypatch: pytest.MonkeyPatch, priority: float, stored: dict[tuple[str, str], str]
) -> None:
    """A stand-in for the optional `keyring` package, with a backend of the given priority."""
    errors = types.ModuleType("keyring.errors")
    errors.KeyringError = type("KeyringError", (Exception,), {})  # type: ignore[attr-defined]
    module = types.ModuleType("keyring")
    module.get_keyring = lambda: types.SimpleNamespace(priority=priority)  # type: ignore[attr-defined]
    module.get_password = lambda service, user: stored.get((service, user))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "keyring", module)
    monkeypatch.setitem(sys.modules, "keyring.errors", errors)


def test_password_from_a_usable_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_keyring(monkeypatch, 5, {("peerloop", "alice"): "from-keyring"})
    assert secrets.password(PasswordSource(command=None, env=None, keyring=True), "alice") == "from-keyring"


def test_keyring_without_a_usable_backend_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_keyring(monkeypatch, 0, {("peerloop", "alice"): "from-keyring"})
    with pytest.raises(LoginRefusedError, match="no usable system keyring"):
        secrets.password(PasswordSource(command=None, env=None, keyring=True), "alice")


def test_keyring_without_the_password_says_how_to_store_it(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_keyring(monkeypatch, 5, {})
    with pytest.raises(LoginRefusedError, match="keyring set peerloop alice"):
        secrets.password(PasswordSource(command=None, env=None, keyring=True), "alice")


def test_keyring_package_not_installed_is_refused_with_the_alternatives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "keyring", None)
    with pytest.raises(LoginRefusedError, match="password command or an environment variable"):
        secrets.password(PasswordSource(command=None, env=None, keyring=True), "alice")


# --- a server that leaves out what the real ones send (tests.servers.SparseDAV) ---------------------------------


@pytest.fixture
def sparse_url() -> Iterator[str]:
    """The base URL of a SparseDAV server; /cal/ is its calendar."""
    with sparse_dav() as url:
        yield url


@pytest.fixture
def sparse(sparse_url: str) -> Iterator[caldav.Calendar]:
    with caldav.open(f"{sparse_url}/cal/", "alice", "pw", timeout=5) as calendar:
        yield calendar


def test_etags_the_server_leaves_out_are_asked_for(sparse: caldav.Calendar) -> None:
    ics = event(PREFIX + "1")
    assert sparse.create(PREFIX + "1", ics) == Remote(f"/cal/{PREFIX}1.ics", f'"{len(ics)}"')
    assert sparse.list_events(PREFIX) == {PREFIX + "1": Remote(f"/cal/{PREFIX}1.ics", f'"{len(ics)}"')}


def test_server_error_is_refused_with_exit_9_and_the_status_in_one_line(sparse: caldav.Calendar) -> None:
    with pytest.raises(
        RemoteRefusedError, match=r"refused to save .* HTTP 500 Internal Server Error$"
    ) as failed:
        sparse.create(PREFIX + "boom", event(PREFIX + "boom"))
    assert failed.value.exit_code == 9


def test_answer_that_is_not_caldav_is_refused_with_exit_9(sparse_url: str) -> None:
    with pytest.raises(RemoteRefusedError, match="not valid CalDAV") as refused:
        caldav.open(f"{sparse_url}/broken/", "alice", "pw", timeout=5)
    assert refused.value.exit_code == 9
