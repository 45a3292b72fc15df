"""Calendar files against real software that runs here: khal 0.14 (import, list) and a Radicale 3 CalDAV server.

Each test spawns the programs from the venv that runs the tests (next to sys.executable), with bounded
waits; the Radicale server is stopped by its pid when the test ends, whatever happened.
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

import pytest

from peerloop import rotation
from peerloop.models import JournalYear, Skip
from peerloop.storage import Store
from tests.conftest import Invoke
from tests.test_ics import check_file, content, events_of, parse_strictly, unescape

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
        """Every event occurrence khal lists, as {uid, title, start-date, start-time, status}."""
        out = self.run(
            "list", "--json", "uid", "--json", "title", "--json", "start-date", "--json", "start-time",
            "--json", "status", start, end,
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


@pytest.fixture
def leader(cli: Invoke, set_up: Callable[..., None], store: Store) -> Store:
    """A Berlin leader, Tuesdays 08:30, trial from 2026-03-02 (so it crosses the DST change of 2026-03-29)."""
    set_up(*PEERS)
    result = cli("init", "--name", "Dana Ode", "--email", "dana@example.com")
    assert result.exit_code == 0, result.output
    for n, name in enumerate(PEERS):
        assert cli("edit", name, "--email", f"p{n}@example.com").exit_code == 0
    return store


def planned(store: Store, today: dt.date) -> list[rotation.Slot]:
    roster = store.load_roster()
    assert roster.settings is not None
    history = rotation.History(last_met={}, done_weeks=frozenset())
    first = rotation.first_open_week(roster.settings, history, today)
    weeks = rotation.trial_weeks_left(roster.settings, first)
    return rotation.plan(roster, roster.settings, history, today, weeks)


@pytest.mark.usefixtures("leader")
def test_khal_shows_every_meeting_at_the_right_local_time_across_dst(
    cli: Invoke, store: Store, tmp_path: Path
) -> None:
    target = tmp_path / "peerloop.ics"
    assert cli("export", "-o", str(target), "--alarm", "10").exit_code == 0
    berlin = Khal(tmp_path / "khal", "Europe/Berlin")
    berlin.import_file(target)
    listed = berlin.events()
    slots = planned(store, dt.date(2026, 3, 2))
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


@pytest.mark.usefixtures("leader")
def test_khal_expands_an_invite_to_the_planned_dates(cli: Invoke, store: Store, tmp_path: Path) -> None:
    target = tmp_path / "invite.ics"
    assert cli("invite", "cy; dee 😀", "-o", str(target)).exit_code == 0
    khal = Khal(tmp_path / "khal", "Europe/Berlin")
    khal.import_file(target)
    listed = khal.events()
    dates = [
        slot.date.isoformat()
        for slot in planned(store, dt.date(2026, 3, 2))
        if slot.peer and slot.peer.name == "Cy; Dee 😀"
    ]
    assert [e["start-date"] for e in listed] == dates
    assert {e["start-time"] for e in listed} == {"08:30"}
    assert {e["title"] for e in listed} == {"Coffee: Dana Ode and Cy; Dee 😀"}


@pytest.mark.usefixtures("leader")
def test_a_second_export_updates_khal_instead_of_duplicating(
    cli: Invoke, store: Store, tmp_path: Path, at: Callable[[str], None]
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


@pytest.mark.usefixtures("leader")
def test_radicale_accepts_and_returns_every_event(cli: Invoke, radicale: CalDav, tmp_path: Path) -> None:
    assert radicale.request("MKCALENDAR", "/alice/peers/")[0] == 201
    export, invite = tmp_path / "peerloop.ics", tmp_path / "invite.ics"
    assert cli("export", "-o", str(export), "--alarm", "15").exit_code == 0
    assert cli("invite", 'bo "b" chen, phd', "-o", str(invite)).exit_code == 0
    objects = {**split_by_uid(export.read_bytes()), **split_by_uid(invite.read_bytes())}
    assert len(objects) == 26 + 1 + 1  # the trial's weekly meetings, the review, the invite's series
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
        assert event["DTSTART"] == sent["DTSTART"]
        parse_strictly(stored)
    # A second export is a set of updates: every PUT replaces (204), none creates.
    assert cli("edit", "Ann Lee", "--name", "Ann Lee-Smith").exit_code == 0
    again = split_by_uid(_export(cli, tmp_path / "again.ics"))
    assert again.keys() <= objects.keys()
    for uid, body in again.items():
        assert radicale.request("PUT", f"/alice/peers/{uid}.ics", body)[0] == 204
    status, listing = radicale.request("PROPFIND", "/alice/peers/", depth="1")
    assert status == 207
    assert listing.count(b".ics</") == len(objects)


def _export(cli: Invoke, target: Path) -> bytes:
    assert cli("export", "-o", str(target)).exit_code == 0
    return target.read_bytes()
