"""Busy time from big and hostile feeds: the pre-filter changes no result, dense series and huge feeds stop early,
and a weekly command keeps working after refreshing a feed that repeats every minute or second."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from peerloop.connect import feeds, prefilter
from peerloop.connect.feeds import from_ics
from peerloop.errors import DataFileError
from tests.conftest import Invoke
from tests.servers import radicale

BERLIN = ZoneInfo("Europe/Berlin")
LEADER = "dana@example.org"


def vcalendar(*events: str) -> bytes:
    head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//peerloop tests//EN\r\nX-WR-TIMEZONE:Europe/Berlin\r\n"
    zone = ("BEGIN:VTIMEZONE\r\nTZID:Far East\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
            "TZOFFSETFROM:+1300\r\nTZOFFSETTO:+1300\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n")  # fmt: skip
    body = "".join(
        "BEGIN:VEVENT\r\nDTSTAMP:20260101T000000Z\r\n"
        + "\r\n".join(line.strip() for line in event.strip().splitlines())
        + "\r\nEND:VEVENT\r\n"
        for event in events
    )
    return (head + zone + body + "END:VCALENDAR\r\n").encode()


def utc(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def wall(t: dt.datetime) -> str:
    return t.strftime("%Y%m%dT%H%M%S")


def traps(w0: dt.datetime, w1: dt.datetime) -> list[str]:
    """Events a careless filter gets wrong, around the window [w0, w1) (wall times)."""
    far, d = w0 - dt.timedelta(days=900), dt.timedelta
    nine = far.replace(hour=9, minute=0)
    return [
        f"UID:long\nDTSTART:{utc(far)}\nDTEND:{utc(w0 + d(days=2))}\nSUMMARY:long",
        f"UID:dur\nDTSTART:{utc(w0 - d(days=40))}\nDURATION:P41D\nSUMMARY:duration",
        f"UID:rdate\nDTSTART:{utc(far)}\nDTEND:{utc(far + d(hours=1))}\nRDATE:{utc(w0 + d(days=9))}\nSUMMARY:rdate",
        f"UID:s\nDTSTART;TZID=Europe/Berlin:{wall(nine)}\nDTEND;TZID=Europe/Berlin:{wall(nine + d(hours=1))}\n"
        "RRULE:FREQ=WEEKLY\nSUMMARY:weekly",
        f"UID:s\nRECURRENCE-ID;TZID=Europe/Berlin:{wall(nine + d(weeks=10))}\nDTSTART:{utc(w0 + d(days=3))}\n"
        f"DTEND:{utc(w0 + d(days=3, hours=1))}\nSUMMARY:moved into the window",
        f"UID:s\nRECURRENCE-ID;TZID=Europe/Berlin:{wall(nine + d(weeks=130))}\nDTSTART:{utc(far)}\n"
        f"DTEND:{utc(far + d(hours=1))}\nSUMMARY:moved out of the window",
        f"UID:s\nRECURRENCE-ID;TZID=Europe/Berlin:{wall(nine + d(weeks=20))}\nDTSTART:{utc(far + d(weeks=20))}\n"
        f"DTEND:{utc(far + d(weeks=20, hours=1))}\nSUMMARY:moved far from it",
        f"UID:tf\nDTSTART:{utc(far)}\nDTEND:{utc(far + d(hours=1))}\nRRULE:FREQ=MONTHLY\nSUMMARY:monthly",
        f"UID:tf\nRECURRENCE-ID;RANGE=THISANDFUTURE:{utc(far + d(days=86))}\nDTSTART:{utc(far + d(days=86, hours=5))}"
        f"\nDTEND:{utc(far + d(days=86, hours=7))}\nSUMMARY:monthly, moved from then on",
        f"UID:seq\nSEQUENCE:2\nDTSTART:{utc(far)}\nDTEND:{utc(far + d(hours=1))}\nSUMMARY:sequence 2, far",
        f"UID:seq\nSEQUENCE:1\nDTSTART:{utc(w0 + d(days=4))}\nDTEND:{utc(w0 + d(days=4, hours=1))}\nSUMMARY:seq 1",
        f"UID:fb\nDTSTART:{wall(w0 - d(hours=15))}\nDTEND:{wall(w0 - d(hours=13))}\nSUMMARY:floating before",
        f"UID:fa\nDTSTART:{wall(w1 + d(hours=13))}\nDTEND:{wall(w1 + d(hours=15))}\nSUMMARY:floating after",
        f"UID:db\nDTSTART;VALUE=DATE:{w0 - d(days=1):%Y%m%d}\nSUMMARY:the day before",
        f"UID:df\nDTSTART;VALUE=DATE:{w0:%Y%m%d}\nSUMMARY:the first day",
        f"UID:dl\nDTSTART;VALUE=DATE:{w1 - d(days=1):%Y%m%d}\nSUMMARY:the last day",
        f"UID:fe\nDTSTART;TZID=Far East:{wall(w0 - d(hours=20))}\nDTEND;TZID=Far East:{wall(w0 - d(hours=19))}\n"
        "SUMMARY:custom zone",
        f"DTSTART:{utc(w0 + d(days=6))}\nDTEND:{utc(w0 + d(days=6, hours=1))}\nSUMMARY:no uid",
        f"UID:outer\nDTSTART:{utc(far)}\nDTEND:{utc(far + d(hours=1))}\nSUMMARY:outer\nBEGIN:VEVENT\nUID:inner\n"
        f"DTSTART:{utc(w0 + d(days=7))}\nDTEND:{utc(w0 + d(days=7, hours=1))}\nSUMMARY:nested\nEND:VEVENT",
    ]


def many(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    events = []
    for k in range(n):
        start = dt.datetime(2016, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
            minutes=15 * rng.randrange(4 * 24 * 4400)
        )
        events.append(
            f"UID:e{k}\nDTSTART:{utc(start)}\nDTEND:{utc(start + dt.timedelta(minutes=45))}\nSUMMARY:e{k}"
        )
    return events


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
@pytest.mark.parametrize("today", [dt.date(2019, 6, 12), dt.date(2026, 12, 4)])
def test_the_prefilter_changes_no_result(zone: str, today: dt.date, monkeypatch: pytest.MonkeyPatch) -> None:
    tz = ZoneInfo(zone)
    w0 = dt.datetime.combine(today - dt.timedelta(days=today.weekday()), dt.time(), tz)
    w1 = w0 + dt.timedelta(weeks=27)
    data = vcalendar(*many(today.toordinal(), 600), *traps(w0.replace(tzinfo=None), w1.replace(tzinfo=None)))
    near = prefilter.near_window(data, w0, w1)
    assert near.data.count("BEGIN:VEVENT") < data.count(b"BEGIN:VEVENT") / 3  # it does drop most
    filtered = from_ics(data, w0, w1, tz, LEADER, True)
    unfiltered = prefilter.Prefiltered(data, 0, True)
    monkeypatch.setattr(prefilter, "near_window", lambda *_: unfiltered)
    assert from_ics(data, w0, w1, tz, LEADER, True) == filtered
    assert {"long", "duration", "rdate", "moved into the window", "the first day", "nested"} <= {
        b.summary for b in filtered
    }


W0 = dt.datetime(2026, 11, 30, tzinfo=BERLIN)
W1 = W0 + dt.timedelta(weeks=27)


@pytest.mark.parametrize(
    ("rule", "back"), [("MINUTELY", 1), ("SECONDLY", 1), ("MINUTELY", 730), ("SECONDLY", 365)]
)
def test_a_series_repeating_every_minute_or_second_is_left_out_quickly_and_said(rule: str, back: int) -> None:
    start = W0.replace(tzinfo=None) - dt.timedelta(days=back)
    data = vcalendar(
        f"UID:tick\nDTSTART;TZID=Europe/Berlin:{wall(start)}\nDTEND;TZID=Europe/Berlin:{wall(start)}\n"
        f"RRULE:FREQ={rule}\nSUMMARY:Every tick",
        f"UID:m\nDTSTART:{utc(W0 + dt.timedelta(days=1))}\nDTEND:{utc(W0 + dt.timedelta(days=1, hours=1))}\nSUMMARY:Meeting",
    )
    notes: list[str] = []
    found = from_ics(data, W0, W1, BERLIN, LEADER, True, source="feed", notes=notes)
    assert [b.summary for b in found] == ["Meeting"]
    assert notes == [
        "feed: 'Every tick' repeats too often to expand; left out (give it an end or delete it in that calendar)"
    ]


def test_the_densest_series_are_left_out_first_until_the_feed_fits_and_it_is_said_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        feeds, "MAX_IN_WINDOW", 800
    )  # 5 weekly series (28 each by the bound) and 3 daily (190)
    monkeypatch.setattr(feeds, "MAX_BUSY_PER_FEED", 200)
    data = vcalendar(*[f"UID:{freq}{k}\nDTSTART:{utc(W0 + dt.timedelta(minutes=10 * k))}\nDURATION:PT5M\n"
                       f"RRULE:FREQ={freq}\nSUMMARY:{freq.title()} {k}"
                       for freq in ("DAILY", "WEEKLY") for k in range(5)])  # fmt: skip
    notes: list[str] = []
    found = from_ics(data, W0, W1, BERLIN, LEADER, True, source="feed", notes=notes)
    assert len(found) == 200
    assert {b.summary for b in found} == {"Daily 2", "Daily 3", "Daily 4"} | {f"Weekly {k}" for k in range(5)}
    assert notes == [
        "feed: 'Daily 0', 'Daily 1' repeat too often to expand; left out "
        "(give them an end or delete them in that calendar)",
        "feed: only its first 200 busy times are used (until 2027-01-22)",
    ]


def test_an_endless_hourly_series_is_left_out_and_one_with_an_end_still_fits() -> None:
    endless = vcalendar(f"UID:h\nDTSTART:{utc(W0)}\nDURATION:PT30M\nRRULE:FREQ=HOURLY\nSUMMARY:Hourly")
    notes: list[str] = []
    assert from_ics(endless, W0, W1, BERLIN, LEADER, True, source="feed", notes=notes) == []
    assert notes == [
        "feed: 'Hourly' repeats too often to expand; left out (give it an end or delete it in that calendar)"
    ]
    data = endless.replace(b"FREQ=HOURLY", b"FREQ=HOURLY;UNTIL=20280101T000000Z")
    notes: list[str] = []
    found = from_ics(data, W0, W1, BERLIN, LEADER, True, notes=notes)
    # 27 weeks less the hour of the DST change, and recurring_ical_events (with X-WR-TIMEZONE) gives the
    # hour after the change twice
    assert len(found) == 27 * 7 * 24 - 1 + 1
    assert notes == []


def test_more_busy_times_than_the_cap_keeps_the_earliest_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feeds, "MAX_BUSY_PER_FEED", 10)
    data = vcalendar(*[f"UID:o{k}\nDTSTART:{utc(W0 + dt.timedelta(days=k))}\nDURATION:PT1H\nSUMMARY:o{k}"
                       for k in range(15)])  # fmt: skip
    notes: list[str] = []
    found = from_ics(data, W0, W1, BERLIN, LEADER, True, source="feed", notes=notes)
    assert [b.summary for b in found] == [f"o{k}" for k in range(10)]
    assert notes == ["feed: only its first 10 busy times are used (until 2026-12-09)"]


def test_a_huge_feed_near_the_window_is_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feeds, "MAX_COMPONENTS", 100)
    data = vcalendar(*[f"UID:x{k}\nDTSTART:{utc(W0)}\nDURATION:PT1H\nSUMMARY:x" for k in range(200)])
    with pytest.raises(DataFileError, match=r"^feed has more than 100 events to read for the coming weeks"):
        from_ics(data, W0, W1, BERLIN, LEADER, True, source="feed")


@pytest.mark.parametrize("cut", ["END:VCALENDAR", "END:VEVENT", "SUMMARY:"])
def test_data_cut_off_is_a_data_error_not_an_empty_calendar(cut: str) -> None:
    data = vcalendar(f"UID:m\nDTSTART:{utc(W0)}\nDURATION:PT1H\nSUMMARY:Meeting")
    with pytest.raises(
        DataFileError, match=r"^feed is not valid iCalendar \(it does not end with END:VCALENDAR"
    ):
        from_ics(data[: data.rindex(cut.encode())], W0, W1, BERLIN, LEADER, True, source="feed")


def test_an_event_with_a_huge_rdate_list_is_left_out() -> None:
    dates = ",".join(utc(W0 + dt.timedelta(minutes=k)) for k in range(30_000))
    data = vcalendar(
        f"UID:r\nDTSTART:{utc(W0)}\nDURATION:PT1M\nRDATE:{dates}\nSUMMARY:Many dates",
        f"UID:m\nDTSTART:{utc(W0)}\nDURATION:PT1H\nSUMMARY:Meeting",
    )
    notes: list[str] = []
    found = from_ics(data, W0, W1, BERLIN, LEADER, True, source="feed", notes=notes)
    assert [b.summary for b in found] == ["Meeting"]
    assert notes == [
        "feed: 'Many dates' repeats too often to expand; left out (give it an end or delete it in that calendar)"
    ]


def test_a_dense_rule_with_a_small_count_is_expanded_even_from_years_back() -> None:
    start = W0 - dt.timedelta(days=3 * 365)
    data = vcalendar(
        f"UID:q\nDTSTART:{utc(start)}\nDURATION:PT10M\nRRULE:FREQ=MINUTELY;INTERVAL=15;COUNT=4\nSUMMARY:Past",
        f"UID:n\nDTSTART:{utc(W0 + dt.timedelta(days=2))}\nDURATION:PT10M\nRRULE:FREQ=SECONDLY;COUNT=3\nSUMMARY:Now",
    )
    notes: list[str] = []
    found = from_ics(data, W0, W1, BERLIN, LEADER, True, source="feed", notes=notes)
    assert [b.summary for b in found] == ["Now"] * 3
    assert notes == []


@pytest.mark.parametrize(
    ("rule", "back"), [("MINUTELY", 1), ("SECONDLY", 1), ("MINUTELY", 3 * 365), ("SECONDLY", 3 * 365)]
)
def test_plan_refresh_leaves_out_an_endless_dense_series_and_next_still_works(
    cli: Invoke, set_up: Callable[..., None], tmp_path: Path, rule: str, back: int
) -> None:
    set_up("Ann Lee", "Bo Chen", "Cy Dee", now="2026-03-09T07:00")
    start = dt.datetime(2026, 3, 9, 6, 0) - dt.timedelta(days=back)
    feed = tmp_path / "work.ics"
    feed.write_bytes(vcalendar(
        f"UID:tick\nDTSTART;TZID=Europe/Berlin:{wall(start)}\nDTEND;TZID=Europe/Berlin:{wall(start)}\n"
        f"RRULE:FREQ={rule}\nSUMMARY:Every tick",
        "UID:board\nDTSTART;TZID=Europe/Berlin:20260310T080000\nDTEND;TZID=Europe/Berlin:20260310T100000\n"
        "SUMMARY:Board meeting",
    ))  # fmt: skip
    assert cli("connect", "busy", str(feed), "--keep-summaries").exit_code == 0
    refreshed = cli("plan", "--refresh", "--weeks", "2", "--json")
    assert refreshed.exit_code == 0, refreshed.output
    assert (
        f"warning: {feed}: 'Every tick' repeats too often to expand; left out "
        "(give it an end or delete it in that calendar)" in refreshed.stderr
    )
    assert "Fetched 1 busy time from your calendars." in refreshed.stderr
    assert json.loads(refreshed.stdout)[0]["note"] == "moved from Tue 08:30: Board meeting"
    after = cli("next")
    assert after.exit_code == 0, after.output
    assert "Moved from Tue 08:30: Board meeting (busy in your calendar)" in after.stdout
    assert "Every tick" not in after.output


@pytest.mark.slow
def test_the_connected_calendar_keeps_at_most_the_cap_in_all_and_says_so(
    cli: Invoke, set_up: Callable[..., None], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        feeds, "MAX_BUSY_PER_FEED", 10
    )  # each event is its own resource: only the total can cap
    set_up("Ann Lee", "Bo Chen", "Cy Dee")
    with radicale(tmp_path / "radicale") as server:
        url = server.make_calendar()
        for day in range(12):
            start = dt.datetime(2026, 3, 3 + day, 12, tzinfo=dt.UTC)
            event = vcalendar(f"UID:lunch-{day}\nDTSTART:{utc(start)}\nDURATION:PT1H\nSUMMARY:Lunch {day}")
            assert (
                server.request("PUT", f"{url}lunch-{day}.ics", event, {"Content-Type": "text/calendar"})
                == 201
            )
        monkeypatch.setenv("CALDAV_TEST_PASSWORD", server.password)
        connected = cli(
            "connect", "caldav", url, "--user", server.user, "--password-env", "CALDAV_TEST_PASSWORD"
        )
        assert connected.exit_code == 0, connected.output
        refreshed = cli("plan", "--refresh", "--weeks", "2")
    assert refreshed.exit_code == 0, refreshed.output
    assert "warning: the connected calendar: only its first 10 busy times are used (until 2026-03-12)" in (
        refreshed.stderr
    )
    assert "Fetched 10 busy times from your calendars." in refreshed.stderr


@pytest.mark.parametrize(
    "hostile",
    [
        "UID:y\nDTSTART:99991231T235959Z\nDURATION:P10D\nSUMMARY:Past the last year",
        "UID:y\nDTSTART:00010101T000000Z\nDURATION:-P10D\nSUMMARY:Before the first year",
        "UID:y\nUID:z\nDTSTART:20261201T090000Z\nDURATION:PT1H\nSUMMARY:Two UIDs",
        "UID:y\nDTSTART;VALUE=PERIOD:20261201T090000Z/PT1H\nSUMMARY:A period",
        "UID:y\nSUMMARY:No start",
        "UID:y\nDTSTART:20261201T090000Z\nSUMMARY:Outer\nBEGIN:VEVENT\nSUMMARY:Nested, no start\nEND:VEVENT",
    ],
)
def test_a_feed_icalendar_cannot_expand_is_one_warning_naming_it_and_the_last_busy_times_are_kept(
    cli: Invoke, set_up: Callable[..., None], tmp_path: Path, hostile: str
) -> None:
    set_up("Ann Lee", "Bo Chen", "Cy Dee", now="2026-03-09T07:00")
    feed = tmp_path / "work.ics"
    board = ("UID:board\nDTSTART;TZID=Europe/Berlin:20260310T080000\nDTEND;TZID=Europe/Berlin:20260310T100000\n"
             "SUMMARY:Board meeting")  # fmt: skip
    feed.write_bytes(vcalendar(board))
    assert cli("connect", "busy", str(feed), "--keep-summaries").exit_code == 0
    assert cli("plan", "--refresh", "--weeks", "2").exit_code == 0
    feed.write_bytes(vcalendar(board, hostile))
    refreshed = cli("plan", "--refresh", "--weeks", "2", "--json")
    assert refreshed.exit_code == 0, refreshed.output
    assert f"warning: {feed} is not valid iCalendar (" in refreshed.stderr
    assert "(the last busy times are kept)" in refreshed.stderr
    assert json.loads(refreshed.stdout)[0]["note"] == "moved from Tue 08:30: Board meeting"
    assert cli("next").exit_code == 0
