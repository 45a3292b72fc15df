"""Calendar files against real software that runs here: khal 0.14 (import, list) and a Radicale 3 CalDAV server.

Most tests build the files with the builders directly; one drives the export command. Each test spawns the
programs from the venv that runs the tests (next to sys.executable), with bounded waits; the Radicale
server is stopped by its pid when the test ends, whatever happened.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import http.client
import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from peerloop import calendar, ics, rotation
from peerloop.models import JournalYear, Roster, Skip
from tests.test_ics import (
    DST_CASES,
    HOME_ID,
    check_file,
    content,
    dst_plan,
    events_of,
    make_roster,
    make_settings,
    moment,
    parse_strictly,
    skipped,
    unescape,
    whole_trial,
)

if TYPE_CHECKING:
    from tests.conftest import Invoke

BIN = Path(sys.executable).parent
PEERS = ("Ann Lee", 'Bo "B" Chen, PhD', "Cy; Dee 😀", "Di Eh")
KHAL_TIMEOUT = 60

pytestmark = pytest.mark.slow


# --- khal ----------------------------------------------------------------------------------------------------


class Khal:
    """khal with its own config, calendar folder and cache in a temp folder."""

    def __init__(self, folder: Path, zone: str) -> None:
        self.folder = folder
        (folder / "calendar").mkdir(parents=True, exist_ok=True)
        self.config = folder / f"khal-{zone.replace('/', '-')}.conf"
        self.config.write_text(
            f"""[calendars]
[[peers]]
path = {folder / "calendar"}
type = calendar

[locale]
timeformat = %H:%M
dateformat = %Y-%m-%d
longdateformat = %Y-%m-%d
datetimeformat = %Y-%m-%d %H:%M
longdatetimeformat = %Y-%m-%d %H:%M
local_timezone = {zone}
default_timezone = {zone}

[sqlite]
path = {folder / f"khal-{zone.replace('/', '-')}.db"}
""",
            encoding="utf-8",
        )

    def run(self, *args: str) -> str:
        result = subprocess.run(
            [str(BIN / "khal"), "-c", str(self.config), *args],
            capture_output=True,
            text=True,
            timeout=KHAL_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def import_file(self, path: Path) -> None:
        self.run("import", "--batch", "-a", "peers", str(path))

    def events(self, start: str = "2026-01-01", end: str = "2027-12-31") -> list[dict[str, str]]:
        """Every event occurrence khal lists, as {uid, title, start-date, start-time, end, status}."""
        out = self.run(
            "list", "--json", "uid", "--json", "title", "--json", "start-date", "--json", "start-time",
            "--json", "end", "--json", "status", start, end,
        )  # fmt: skip
        found: list[dict[str, str]] = []
        for line in out.splitlines():
            found.extend(json.loads(line))
        return found


def stored_uids(folder: Path) -> list[str]:
    """The UIDs of the .ics files khal keeps in its calendar folder (one file per event)."""
    uids = []
    for path in sorted((folder / "calendar").glob("*.ics")):
        uids += re.findall(r"^UID:(.*)\r?$", path.read_text(encoding="utf-8"), re.M)
    return uids


def leader_plan() -> tuple[Roster, list[rotation.Slot]]:
    """A Berlin leader, Tuesdays 08:30, trial from 2026-03-02 (so it crosses the DST change of 2026-03-29)."""
    config = make_settings()
    roster = make_roster(list(PEERS), config)
    return roster, whole_trial(roster, config)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_khal_shows_every_meeting_at_the_right_local_time_across_dst(tmp_path: Path) -> None:
    roster, slots = leader_plan()
    config = roster.settings
    assert config is not None
    built = ics.build_export(slots, config, calendar.CalendarState(HOME_ID), moment(config), alarm=10)
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
    assert review["start-date"] == "2026-09-02"
    # The same calendar seen from UTC: 07:30 in winter time, 06:30 from 2026-03-29 on.
    utc = Khal(tmp_path / "khal", "UTC")
    around = {e["start-date"]: e["start-time"] for e in utc.events("2026-03-20", "2026-04-05")}
    assert around == {"2026-03-24": "07:30", "2026-03-31": "06:30"}


def test_khal_reads_meetings_on_dst_changes_at_their_real_moments(tmp_path: Path) -> None:
    """Gaps at midnight, 30-minute DST, 45-minute offsets, 02:30 on a Sunday, the repeated hour: khal
    (which reads a repeated wall time as its second pass) imports every file and lists the plan's moments."""
    khal = Khal(tmp_path / "khal", "UTC")
    expected = []
    for n, case in enumerate(DST_CASES):
        config, _, slots = dst_plan(*case.values)
        now = moment(config, f"{config.trial_start}T00:00")
        built = ics.build_export(slots, config, calendar.CalendarState(f"{HOME_ID}{n:02d}"), now)
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


def test_khal_expands_an_invite_to_the_planned_dates(tmp_path: Path) -> None:
    roster, slots = leader_plan()
    config = roster.settings
    assert config is not None
    peer = roster.peers[2]
    first = next(slot for slot in slots if slot.peer == peer)
    built = ics.build_invite(
        peer, first, len(roster.peers), config, calendar.CalendarState(HOME_ID), moment(config)
    )
    khal = Khal(tmp_path / "khal", "Europe/Berlin")
    khal.import_file(write(tmp_path / "invite.ics", built.data))
    listed = khal.events()
    assert [e["start-date"] for e in listed] == [slot.date.isoformat() for slot in slots if slot.peer == peer]
    assert {e["start-time"] for e in listed} == {"08:30"}
    assert {e["title"] for e in listed} == {"Coffee: Dana Ode and Cy; Dee 😀"}


def test_khal_drops_a_week_skipped_before_its_slot(tmp_path: Path) -> None:
    roster, slots = leader_plan()
    config = roster.settings
    assert config is not None
    first = ics.build_export(slots, config, calendar.CalendarState(HOME_ID), moment(config))
    later = whole_trial(roster, config, history=skipped(dt.date(2026, 3, 3)))
    second = ics.build_export(later, config, first.state, moment(config))
    khal = Khal(tmp_path / "khal", "Europe/Berlin")
    khal.import_file(write(tmp_path / "1.ics", first.data))
    khal.import_file(write(tmp_path / "2.ics", second.data))
    statuses = {e["uid"]: e["status"] for e in khal.events()}
    assert statuses[calendar.slot_uid(HOME_ID, dt.date(2026, 3, 2))].strip().upper().startswith("CANCEL")
    assert sorted(stored_uids(tmp_path / "khal")) == sorted(first.uids), "updated in place, none added"


@pytest.fixture
def leader(cli: Invoke, set_up: Callable[..., None], store: Any) -> Any:
    """The same leader, set up through the commands."""
    set_up(*PEERS)
    result = cli("init", "--name", "Dana Ode", "--email", "dana@example.com")
    assert result.exit_code == 0, result.output
    for n, name in enumerate(PEERS):
        assert cli("edit", name, "--email", f"p{n}@example.com").exit_code == 0
    return store


@pytest.mark.usefixtures("leader")
def test_a_second_export_updates_khal_instead_of_duplicating(
    cli: Invoke, store: Any, tmp_path: Path, at: Callable[[str], None]
) -> None:
    first, second = tmp_path / "1.ics", tmp_path / "2.ics"
    assert cli("export", "-o", str(first)).exit_code == 0
    at("2026-03-04T09:00")
    skip = Skip(id="20260303-1", date=dt.date(2026, 3, 3), reason="travel", peer="Ann Lee")
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


# --- Radicale ------------------------------------------------------------------------------------------------


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


def test_radicale_accepts_and_returns_every_event(radicale: CalDav) -> None:
    """The CalDAV documents (one per UID, with a cancelled week among them) and the invite, PUT and read back."""
    assert radicale.request("MKCALENDAR", "/alice/peers/")[0] == 201
    roster, slots = leader_plan()
    config = roster.settings
    assert config is not None
    exported = ics.build_export(slots, config, calendar.CalendarState(HOME_ID), moment(config))
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
