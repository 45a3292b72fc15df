"""Busy time through the command line: `connect busy`, `plan --refresh`, and plan, next and export moving a
meeting around the leader's own calendar, from a cache that works offline and says when it is old."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Invoke

PEERS = ("Ann Lee", "Bo Chen", "Cy Dee", "Di Eze")

BOARD = (
    """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//busy//EN
BEGIN:VEVENT
UID:board@example.com
DTSTAMP:20260101T000000Z
DTSTART;TZID=Europe/Berlin:20260310T08:00:00
DTEND;TZID=Europe/Berlin:20260310T10:00:00
RRULE:FREQ=WEEKLY;COUNT=3
EXDATE;TZID=Europe/Berlin:20260317T080000
SUMMARY:Board meeting
END:VEVENT
BEGIN:VEVENT
UID:lunch-free@example.com
DTSTAMP:20260101T000000Z
DTSTART;TZID=Europe/Berlin:20260331T08:00:00
DTEND;TZID=Europe/Berlin:20260331T09:00:00
TRANSP:TRANSPARENT
SUMMARY:Optional stand-up
END:VEVENT
BEGIN:VEVENT
UID:trip@example.com
DTSTAMP:20260101T000000Z
DTSTART;VALUE=DATE:20260406
DTEND;VALUE=DATE:20260411
SUMMARY:Trip
END:VEVENT
END:VCALENDAR
""".replace("T08:00:00", "T080000")
    .replace("T10:00:00", "T100000")
    .replace("T09:00:00", "T090000")
)


@pytest.fixture
def busy_feed(cli: Invoke, set_up: Callable[..., None], at: Callable[[str], None], tmp_path: Path) -> Path:
    set_up(*PEERS, now="2026-03-09T07:00")
    feed = tmp_path / "work.ics"
    feed.write_text(BOARD.replace("\n", "\r\n"), encoding="utf-8")
    result = cli("connect", "busy", str(feed), "--keep-summaries")
    assert result.exit_code == 0, result.output
    return feed


def slots(cli: Invoke, *args: str) -> list[dict[str, object]]:
    result = cli("plan", "--weeks", "6", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_a_busy_slot_moves_to_the_nearest_free_time_the_same_day_and_says_why(
    cli: Invoke, busy_feed: Path
) -> None:
    planned = slots(cli, "--refresh")
    by_date = {s["date"]: s for s in planned}
    moved = by_date["2026-03-10"]
    assert (moved["start"], moved["end"]) == ("2026-03-10T10:00:00+01:00", "2026-03-10T10:45:00+01:00")
    assert moved["moved_from"] == "2026-03-10T08:30:00+01:00"
    assert moved["note"] == "moved from Tue 08:30: Board meeting"
    assert by_date["2026-03-17"]["moved_from"] is None  # the EXDATE week keeps its slot
    assert by_date["2026-03-31"]["moved_from"] is None  # a transparent event does not block
    assert by_date["2026-03-24"]["start"] == "2026-03-24T10:00:00+01:00"
    text = cli("plan", "--weeks", "2").stdout
    assert "moved from Tue 08:30: Board meeting" in text
    assert "Moved from Tue 08:30: Board meeting (busy in your calendar)" in cli("next").stdout


def test_a_week_with_no_free_time_is_flagged_not_skipped(cli: Invoke, busy_feed: Path) -> None:
    cli("connect", "busy", "--days", "tue", "--hours", "08:00-10:00")
    planned = {s["date"]: s for s in slots(cli, "--refresh")}
    stuck = planned["2026-03-10"]
    assert stuck["moved_from"] is None
    assert stuck["note"] == "no free time that week within meeting hours; Tue 08:30: Board meeting"
    assert stuck["peer"] is not None  # the week keeps its meeting, flagged
    trip = planned["2026-04-07"]  # an all-day trip covers the whole Tuesday
    assert "Trip" in str(trip["note"])


def test_export_writes_the_moved_time_and_nothing_of_the_busy_events(
    cli: Invoke, busy_feed: Path, tmp_path: Path
) -> None:
    assert cli("plan", "--refresh", "--json").exit_code == 0
    out = tmp_path / "out.ics"
    assert cli("export", "--weeks", "3", "-o", str(out)).exit_code == 0
    data = out.read_text(encoding="utf-8")
    assert "DTSTART;TZID=Europe/Berlin:20260310T100000" in data
    assert "Board meeting" not in data
    assert "Trip" not in data


def test_the_cache_works_offline_and_says_when_it_is_old(
    cli: Invoke, busy_feed: Path, at: Callable[[str], None]
) -> None:
    assert cli("plan", "--refresh", "--json").exit_code == 0
    busy_feed.unlink()  # offline, or the file gone: the cache still answers
    at("2026-03-09T20:00")
    fresh = cli("next")
    assert "busy times are" not in fresh.stderr
    at("2026-03-12T07:00")
    old = cli("plan", "--json")
    assert (
        "peerloop: busy times are 3 days old; `peerloop sync` or `peerloop plan --refresh` fetches them again"
        in old.stderr
    )
    still = {s["date"]: s for s in json.loads(old.stdout)}
    assert still["2026-03-24"]["moved_from"] == "2026-03-24T08:30:00+01:00"  # planned from the cache
    failing = cli("plan", "--refresh", "--json")
    assert failing.exit_code == 0
    assert "(the last busy times are kept)" in failing.stderr


def test_busy_settings_and_feeds_are_listed_and_forgotten(cli: Invoke, busy_feed: Path) -> None:
    listed = json.loads(cli("connect", "--json").stdout)
    assert listed == [{"kind": "busy", "where": str(busy_feed), "how": ""}]
    bad = cli("connect", "busy", "--hours", "18:00-08:00")
    assert bad.exit_code == 2
    assert "the start must be before the end" in bad.stderr
    assert cli("disconnect", "busy", str(busy_feed)).exit_code == 0
    assert json.loads(cli("connect", "--json").stdout) == []
