"""A sync stopped at any request converges on the next one: `peerloop sync` killed (SIGKILL) or interrupted
(Ctrl-C) after each change a real server accepted, before it was recorded, then run again. Read back with
python-caldav's client and the strict parser: the events are the plan, each UID once, no conflict reported,
and every UID's SEQUENCE rises with each new content, never reused and never lowered."""

from __future__ import annotations

import itertools
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
from ical.calendar_stream import IcsCalendarStream

from peerloop.connect import caldav
from tests.lived_in import python_peerloop, subprocess_env
from tests.servers import Server, radicale, read_back, xandikos

pytestmark = pytest.mark.slow

PEERS = ("Ann Lee", "Bo Chen", "Cy Dee", "Di Eze")
NOW = "2026-03-02T09:00"
STARTERS = {"radicale": radicale, "xandikos": xandikos}
FIRST_SYNC_PUTS = 27
"""26 weekly meetings and the review."""


@pytest.fixture(scope="module", params=sorted(STARTERS))
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with STARTERS[request.param](tmp_path_factory.mktemp(request.param)) as running:
        yield running


class Leader:
    """One leader's data folder, connected to a calendar of their own on the server, run as real processes."""

    def __init__(self, folder: Path, server: Server) -> None:
        self.home, self.server = folder, server
        self.url = server.make_calendar()
        self.run("init", "--name", "Dana Ode", "--timezone", "Europe/Berlin", "--day", "tue", "--time", "08:30",
                 "--start", "2026-03-02", *(w for p in PEERS for w in ("--peer", p)))  # fmt: skip
        trusted = ["--ca-file", str(server.ca_file)] if server.ca_file is not None else []
        self.run("connect", "caldav", self.url, "--user", server.user, "--password-env", "CALDAV_TEST_PASSWORD",
                 *trusted)  # fmt: skip
        self.versions: dict[str, list[tuple[int, tuple[Any, ...]]]] = {}
        """Every content each UID was seen with on the server, and its SEQUENCE then."""

    def run(self, *args: str, fault: str | None = None, code: int = 0) -> subprocess.CompletedProcess[str]:
        extra = {"PEERLOOP_NOW": NOW, "CALDAV_TEST_PASSWORD": self.server.password}
        if fault is not None:
            extra["_PEERLOOP_FAULT"] = fault
        done = subprocess.run(python_peerloop(*args), env=subprocess_env(self.home, extra), capture_output=True,
                              text=True, stdin=subprocess.DEVNULL, timeout=120, check=False)  # type: ignore[arg-type]  # fmt: skip
        assert done.returncode == code, (args, fault, done.returncode, done.stdout, done.stderr)
        return done

    def events(self) -> dict[str, tuple[Any, ...]]:
        """uid -> (SEQUENCE, start, summary, status), as the server stores each, read by the strict parser;
        each stored version is remembered for the SEQUENCE check."""
        found: dict[str, tuple[Any, ...]] = {}
        with caldav.open(
            self.url, self.server.user, self.server.password, ca_file=self.server.ca_file
        ) as calendar:
            for uid, remote in calendar.list_events("peerloop-").items():
                data, _ = read_back(calendar, remote.href)
                parsed = IcsCalendarStream.calendar_from_ics(data.decode("utf-8"))
                assert len(parsed.events) == 1, data
                event = parsed.events[0]
                assert event.uid == uid
                found[uid] = (event.sequence or 0, event.dtstart, event.summary, str(event.status or ""))
        for uid, (sequence, *content) in found.items():
            seen = self.versions.setdefault(uid, [])
            if not seen or seen[-1] != (sequence, tuple(content)):
                seen.append((sequence, tuple(content)))
        return found

    def check_converged(self) -> None:
        """The calendar shows the plan, once per UID, and no stored version ever reused or lowered a SEQUENCE."""
        result = json.loads(self.run("sync", "--json").stdout)
        assert result["conflicts"] == 0, result
        assert result["complete"], result
        events = self.events()
        plan = json.loads(self.run("plan", "--json").stdout)
        live = {
            (str(e[1].isoformat()), e[2])
            for e in events.values()
            if "CANCELLED" not in e[3] and "review" not in e[2]
        }
        wanted = {
            (slot["start"], f"{slot['mode'].capitalize()} with {slot['peer']}")
            for slot in plan
            if slot["peer"]
        }
        assert live == wanted
        for uid, versions in self.versions.items():
            for (before, _), (after, _) in itertools.pairwise(versions):
                assert after > before, (uid, versions)  # a new content never reuses nor lowers a SEQUENCE


@pytest.mark.parametrize("signal", ["KILL", "INT"])
def test_a_first_sync_stopped_after_any_put_converges(server: Server, tmp_path: Path, signal: str) -> None:
    """The worst case of a first sync: the server accepted the event, the record never heard of it. The next
    sync finds the very SEQUENCE and DTSTAMP it meant to send, and takes the event as its own."""
    positions = range(1, FIRST_SYNC_PUTS + 1) if signal == "KILL" else (1, 2, 13, 26, 27)
    for n in positions:
        leader = Leader(tmp_path / f"{signal}-{n}", server)
        stopped = leader.run("sync", fault=f"put#{n}:{signal}", code=-9 if signal == "KILL" else 130)
        if signal == "INT":
            assert f"{n} of {FIRST_SYNC_PUTS} changes reached the server" in stopped.stderr
            assert "Synced" not in stopped.stdout
        assert len(leader.events()) == n
        leader.check_converged()


@pytest.mark.parametrize("signal", ["KILL", "INT"])
def test_a_later_sync_stopped_after_any_put_converges_with_rising_sequences(
    server: Server, tmp_path: Path, signal: str
) -> None:
    leader = Leader(tmp_path / "later", server)
    leader.check_converged()
    for step, changes in enumerate((["log", "--skip", "--reason", "board week"], ["pause", "Bo Chen", "--until",
                                     "2026-05-01"], ["edit", "Cy Dee", "--name", "Cy Deer"])):  # fmt: skip
        leader.run(*changes)
        planned = json.loads(leader.run("sync", "--dry-run", "--json").stdout)
        sends = planned["created"] + planned["updated"] + planned["cancelled"] + planned["deleted"]
        assert sends > 1, planned
        n = 1 + step % sends
        leader.run("sync", fault=f"put#{n}:{signal}", code=-9 if signal == "KILL" else 130)
        leader.events()
        leader.check_converged()


def test_overwrite_over_an_edit_made_in_a_calendar_app_never_lowers_the_sequence(
    server: Server, tmp_path: Path
) -> None:
    leader = Leader(tmp_path / "edited", server)
    leader.check_converged()
    with caldav.open(leader.url, server.user, server.password, ca_file=server.ca_file) as calendar:
        uid, remote = sorted(calendar.list_events("peerloop-").items())[0]
        text = (
            read_back(calendar, remote.href)[0]
            .decode("utf-8")
            .replace("\n", "\r\n")
            .replace("\r\r\n", "\r\n")
        )
        sequence = leader.events()[uid][0]
        edited = text.replace(f"SEQUENCE:{sequence}", f"SEQUENCE:{sequence + 4}").replace(
            "SUMMARY:", "SUMMARY:Moved: "
        )
        status = server.request("PUT", urljoin(leader.url, remote.href), edited.encode(),
                                {"Content-Type": "text/calendar"})  # fmt: skip
        assert status in (201, 204)
    leader.events()
    left_alone = json.loads(leader.run("sync", "--json").stdout)
    assert left_alone["conflicts"] == 1
    assert json.loads(leader.run("sync", "--overwrite", "--json").stdout)["updated"] == 1
    assert leader.events()[uid][0] == sequence + 5
    leader.check_converged()
