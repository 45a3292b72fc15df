"""Busy time from generated calendars (recurrences, exceptions, zones, DST) and from files and https feeds."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import os
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

import pytest

from peerloop.connect import redacted
from peerloop.connect.feeds import from_ics, load_feed
from peerloop.core.connections import FreeTime
from peerloop.core.freetime import Busy, place
from peerloop.errors import (
    DataFileError,
    InputError,
    LoginRefusedError,
    PeerloopError,
    RemoteRefusedError,
    UnreachableError,
)
from tests.conftest import Invoke

BERLIN = ZoneInfo("Europe/Berlin")


UTC = dt.UTC


LEADER = "dana@example.org"


WINDOW = (dt.datetime(2026, 3, 1, tzinfo=BERLIN), dt.datetime(2026, 7, 1, tzinfo=BERLIN))


OUTLOOK_ZONE = """BEGIN:VTIMEZONE
TZID:W. Europe Standard Time
BEGIN:STANDARD
DTSTART:16010101T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3
END:DAYLIGHT
END:VTIMEZONE"""


def calendar(*events: str, extra: str = "") -> bytes:
    """A VCALENDAR around VEVENT bodies (each given without BEGIN/END lines), with CRLF line ends."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//peerloop tests//EN"]
    if extra:
        lines += extra.splitlines()
    for n, body in enumerate(events):
        lines += ["BEGIN:VEVENT", "DTSTAMP:20260101T000000Z", *body.strip().splitlines(), "END:VEVENT"]
        if not any(line.startswith("UID:") for line in body.splitlines()):
            lines.insert(-1, f"UID:event-{n}@example.org")
    lines.append("END:VCALENDAR")
    return ("\r\n".join(line.strip() for line in lines) + "\r\n").encode()


def spans(busy: list[Busy], zone: dt.tzinfo = BERLIN) -> list[str]:
    """Each interval as wall times in `zone`, and its summary: '2026-03-03 08:30-09:00 Leadership sync'."""
    shown = []
    for item in busy:
        start, end = item.start.astimezone(zone), item.end.astimezone(zone)
        until = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%Y-%m-%d %H:%M}"
        shown.append(f"{start:%Y-%m-%d %H:%M}-{until} {item.summary or ''}".rstrip())
    return shown


def busy_of(
    data: bytes, *, keep_summary: bool = True, window: tuple[dt.datetime, dt.datetime] = WINDOW
) -> list[Busy]:
    return from_ics(data, window[0], window[1], BERLIN, LEADER, keep_summary)


WEEKLY = """
UID:sync@example.org
DTSTART;TZID=Europe/Berlin:20260303T083000
DTEND;TZID=Europe/Berlin:20260303T090000
RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=6
EXDATE;TZID=Europe/Berlin:20260310T083000
SUMMARY:Leadership sync
"""


WEEKLY_MOVED = """
UID:sync@example.org
RECURRENCE-ID;TZID=Europe/Berlin:20260317T083000
DTSTART;TZID=Europe/Berlin:20260317T140000
DTEND;TZID=Europe/Berlin:20260317T150000
SUMMARY:Leadership sync (moved)
"""


def test_weekly_series_with_exdate_and_moved_occurrence_keeps_local_time_across_dst() -> None:
    assert spans(busy_of(calendar(WEEKLY, WEEKLY_MOVED))) == [
        "2026-03-03 08:30-09:00 Leadership sync",
        "2026-03-17 14:00-15:00 Leadership sync (moved)",
        "2026-03-24 08:30-09:00 Leadership sync",
        "2026-03-31 08:30-09:00 Leadership sync",
        "2026-04-07 08:30-09:00 Leadership sync",
    ]


def test_monthly_series_with_exdate_override_and_cancelled_occurrence() -> None:
    series = """
UID:board@example.org
DTSTART;TZID=Europe/Berlin:20260312T100000
DTEND;TZID=Europe/Berlin:20260312T120000
RRULE:FREQ=MONTHLY;BYDAY=2TH
EXDATE;TZID=Europe/Berlin:20260409T100000
SUMMARY:Board meeting
"""
    moved = """
UID:board@example.org
RECURRENCE-ID;TZID=Europe/Berlin:20260514T100000
DTSTART;TZID=Europe/Berlin:20260515T090000
DTEND;TZID=Europe/Berlin:20260515T110000
SUMMARY:Board meeting
"""
    cancelled = """
UID:board@example.org
RECURRENCE-ID;TZID=Europe/Berlin:20260611T100000
DTSTART;TZID=Europe/Berlin:20260611T100000
DTEND;TZID=Europe/Berlin:20260611T120000
STATUS:CANCELLED
SUMMARY:Board meeting
"""
    assert spans(busy_of(calendar(series, moved, cancelled))) == [
        "2026-03-12 10:00-12:00 Board meeting",
        "2026-05-15 09:00-11:00 Board meeting",
    ]


def test_all_day_events_take_whole_days_in_the_leaders_zone() -> None:
    trip = "DTSTART;VALUE=DATE:20260406\nDTEND;VALUE=DATE:20260408\nSUMMARY:Easter trip"
    one_day = "DTSTART;VALUE=DATE:20260501\nSUMMARY:Holiday"
    over_dst = "DTSTART;VALUE=DATE:20260328\nDTEND;VALUE=DATE:20260330\nSUMMARY:Weekend away"
    found = busy_of(calendar(trip, one_day, over_dst))
    assert spans(found) == [
        "2026-03-28 00:00-2026-03-30 00:00 Weekend away",
        "2026-04-06 00:00-2026-04-08 00:00 Easter trip",
        "2026-05-01 00:00-2026-05-02 00:00 Holiday",
    ]
    assert found[0].end - found[0].start == dt.timedelta(hours=47)
    assert found[1].start == dt.datetime(2026, 4, 5, 22, tzinfo=UTC)


def test_events_in_other_zones_floating_and_utc_times() -> None:
    new_york = """
DTSTART;TZID=America/New_York:20260302T100000
DTEND;TZID=America/New_York:20260302T110000
RRULE:FREQ=WEEKLY;COUNT=5
SUMMARY:US sync
"""
    outlook = "DTSTART;TZID=W. Europe Standard Time:20260401T090000\nDURATION:PT45M\nSUMMARY:Outlook zone"
    utc = "DTSTART:20260402T120000Z\nDTEND:20260402T130000Z\nSUMMARY:In UTC"
    floating = "DTSTART:20260403T090000\nDTEND:20260403T100000\nSUMMARY:Floating"
    found = busy_of(calendar(new_york, outlook, utc, floating, extra=OUTLOOK_ZONE))
    assert spans(found) == [
        # New York moves to summer time on 8 March, Berlin on 29 March: the gap between them shrinks for 3 weeks.
        "2026-03-02 16:00-17:00 US sync",
        "2026-03-09 15:00-16:00 US sync",
        "2026-03-16 15:00-16:00 US sync",
        "2026-03-23 15:00-16:00 US sync",
        "2026-03-30 16:00-17:00 US sync",
        "2026-04-01 09:00-09:45 Outlook zone",
        "2026-04-02 14:00-15:00 In UTC",
        "2026-04-03 09:00-10:00 Floating",
    ]
    assert all(item.start.tzinfo is UTC and item.end.tzinfo is UTC for item in found)


def test_free_cancelled_declined_and_own_events_do_not_block() -> None:
    at_nine = "DTSTART;TZID=Europe/Berlin:20260318T090000\nDTEND;TZID=Europe/Berlin:20260318T100000"
    events = [
        f"{at_nine}\nTRANSP:TRANSPARENT\nSUMMARY:Focus time (free)",
        f"{at_nine}\nSTATUS:CANCELLED\nSUMMARY:Cancelled",
        f"{at_nine}\nX-MICROSOFT-CDO-BUSYSTATUS:FREE\nSUMMARY:Outlook free",
        f"{at_nine}\nATTENDEE;PARTSTAT=DECLINED:mailto:Dana@Example.org\nSUMMARY:Declined by the leader",
        f"UID:peerloop-home1-2026W12\n{at_nine}\nSUMMARY:Coffee with Ann Lee",
        "DTSTART;TZID=Europe/Berlin:20260318T090000\nSUMMARY:No length",
        f"{at_nine}\nATTENDEE;PARTSTAT=DECLINED:mailto:ann@example.org\n"
        f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:dana@example.org\nSUMMARY:Someone else declined",
        f"{at_nine}\nSTATUS:TENTATIVE\nSUMMARY:Tentative",
        f"{at_nine}\nTRANSP:OPAQUE\nSUMMARY:Opaque",
        at_nine,
    ]
    assert sorted(spans(busy_of(calendar(*events)))) == [
        "2026-03-18 09:00-10:00",
        "2026-03-18 09:00-10:00 Opaque",
        "2026-03-18 09:00-10:00 Someone else declined",
        "2026-03-18 09:00-10:00 Tentative",
    ]


def test_declining_one_occurrence_of_a_series_frees_only_that_one() -> None:
    series = """
UID:weekly@example.org
DTSTART;TZID=Europe/Berlin:20260303T083000
DTEND;TZID=Europe/Berlin:20260303T090000
RRULE:FREQ=WEEKLY;COUNT=4
ATTENDEE;PARTSTAT=ACCEPTED:mailto:dana@example.org
"""
    declined = """
UID:weekly@example.org
RECURRENCE-ID;TZID=Europe/Berlin:20260317T083000
DTSTART;TZID=Europe/Berlin:20260317T083000
DTEND;TZID=Europe/Berlin:20260317T090000
ATTENDEE;PARTSTAT=DECLINED;CN=Dana Ode:mailto:dana@example.org
"""
    assert [line[:10] for line in spans(busy_of(calendar(series, declined)))] == [
        "2026-03-03",
        "2026-03-10",
        "2026-03-24",
    ]


def test_summaries_are_kept_only_when_allowed_and_on_one_line() -> None:
    data = calendar("DTSTART:20260318T080000Z\nDTEND:20260318T090000Z\nSUMMARY:Board\\n  meeting")
    assert [item.summary for item in busy_of(data)] == ["Board meeting"]
    assert [item.summary for item in busy_of(data, keep_summary=False)] == [None]


def test_free_busy_periods_count_except_free_ones() -> None:
    freebusy = """BEGIN:VFREEBUSY
UID:fb@example.org
DTSTAMP:20260101T000000Z
DTSTART:20260316T000000Z
DTEND:20260323T000000Z
FREEBUSY;FBTYPE=BUSY:20260317T073000Z/20260317T090000Z,20260318T100000Z/PT1H
FREEBUSY;FBTYPE=FREE:20260319T073000Z/20260319T090000Z
FREEBUSY;FBTYPE=BUSY-TENTATIVE:20260320T073000Z/20260320T080000Z
FREEBUSY:20260321T073000Z/20260321T080000Z
END:VFREEBUSY"""
    assert spans(busy_of(calendar(extra=freebusy))) == [
        "2026-03-17 08:30-10:00",
        "2026-03-18 11:00-12:00",
        "2026-03-20 08:30-09:00",
        "2026-03-21 08:30-09:00",
    ]


def test_window_keeps_overlapping_events_whole_and_several_calendars_are_read() -> None:
    long_trip = "DTSTART;VALUE=DATE:20260225\nDTEND;VALUE=DATE:20260303\nSUMMARY:Trip"
    before = "DTSTART:20260210T080000Z\nDTEND:20260210T090000Z\nSUMMARY:Too early"
    after = "DTSTART:20260801T080000Z\nDTEND:20260801T090000Z\nSUMMARY:Too late"
    data = calendar(long_trip, before) + calendar(after, WEEKLY)
    found = spans(busy_of(data))
    assert found[0] == "2026-02-25 00:00-2026-03-03 00:00 Trip"
    assert len(found) == 6
    assert not any("Too" in line for line in found)


@pytest.mark.parametrize(
    "data", [b"BEGIN:VCALENDAR\r\nthis is not a content line\r\n", b"\xff\xfe\x00garbage"]
)
def test_damaged_calendar_data_is_a_data_error_naming_the_source(data: bytes) -> None:
    with pytest.raises(
        DataFileError, match=r"^https://cal\.example/\.\.\. is not valid iCalendar \("
    ) as caught:
        from_ics(data, *WINDOW, BERLIN, LEADER, True, source="https://cal.example/...")
    assert caught.value.exit_code == 4
    assert "\n" not in caught.value.message


def test_a_feed_whose_lines_end_with_cr_alone_is_named_for_it_not_called_cut_off() -> None:
    data = calendar(WEEKLY).replace(b"\r\n", b"\n").replace(b"\n", b"\r")
    with pytest.raises(DataFileError, match=r"its lines end with CR alone, not CRLF"):
        from_ics(data, *WINDOW, BERLIN, LEADER, True, source="work.ics")


def test_a_broken_series_is_skipped_and_the_rest_still_blocks() -> None:
    broken = "DTSTART:garbage\nSUMMARY:Broken"
    bad_rule = "DTSTART:20260317T080000Z\nDTEND:20260317T090000Z\nRRULE:FREQ=SOMETIMES\nSUMMARY:Bad rule"
    good = "DTSTART:20260318T080000Z\nDTEND:20260318T090000Z\nSUMMARY:Good"
    assert spans(busy_of(calendar(broken, bad_rule, good))) == ["2026-03-18 09:00-10:00 Good"]


def test_calendar_busy_moves_the_slot_exactly() -> None:
    """The Tuesday 08:30 slot: moved after the weekly sync, and to Wednesday on the Easter holiday."""
    holiday = "DTSTART;VALUE=DATE:20260407\nSUMMARY:Easter Tuesday"
    found = busy_of(calendar(WEEKLY.replace("T090000", "T093000"), holiday))
    moves = []
    for day in (dt.date(2026, 3, 24), dt.date(2026, 3, 31), dt.date(2026, 4, 7)):
        start = dt.datetime.combine(day, dt.time(8, 30), tzinfo=BERLIN)
        placed = place(start, start + dt.timedelta(hours=1), found, FreeTime(), BERLIN)
        moves.append(f"{placed.start:%a %d %H:%M}-{placed.end:%H:%M} ({placed.reason})")
    assert moves == [
        "Tue 24 09:30-10:30 (moved from Tue 08:30: Leadership sync)",
        "Tue 31 09:30-10:30 (moved from Tue 08:30: Leadership sync)",
        "Wed 08 08:30-09:30 (moved from Tue 08:30: Easter Tuesday)",
    ]


def test_local_file_and_file_url_are_read(tmp_path: Path) -> None:
    path = tmp_path / "my calendar.ics"
    data = b"\xef\xbb\xbf\r\n" + calendar(WEEKLY)
    path.write_bytes(data)
    assert load_feed(str(path)) == data
    assert load_feed(path.as_uri()) == data


def test_missing_or_non_calendar_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match=r"^cannot read the busy-time file .*nope\.ics: No such file"):
        load_feed(str(tmp_path / "nope.ics"))
    (tmp_path / "notes.txt").write_text("Dear diary\n")
    with pytest.raises(DataFileError, match=r"notes\.txt is not iCalendar data \(no BEGIN:VCALENDAR\)"):
        load_feed(str(tmp_path / "notes.txt"))


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("http://calendar.example.com/feed/s3cret.ics", "http://calendar.example.com/... uses plain http"),
        ("https://me:pw@calendar.example.com/s3cret.ics", "contains a user name or password"),
        ("https:///s3cret.ics", "is not a feed address"),
        ("https://calendar.example.com:99999/s3cret.ics", "has a malformed port"),
    ],
)
def test_unsafe_or_malformed_addresses_are_refused_before_any_network(source: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        load_feed(source)
    assert "s3cret" not in caught.value.message
    assert "pw" not in caught.value.message


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        (
            "https://calendar.google.com/calendar/ical/x%40gmail.com/private-abc123/basic.ics",
            "https://calendar.google.com/...",
        ),
        ("webcal://p01-caldav.icloud.com/published/2/TOKEN", "webcal://p01-caldav.icloud.com/..."),
        (
            "https://outlook.office365.com/owa/calendar/a/b/reachcalendar.ics?token=1",
            "https://outlook.office365.com/...",
        ),
        ("https://user:pw@127.0.0.1:8443/feed.ics", "https://127.0.0.1:8443/..."),
        ("https://[::1]:8443/", "https://[::1]:8443"),
        ("/home/dana/cal.ics", "/home/dana/cal.ics"),
    ],
)
def test_feed_addresses_are_shown_without_their_secret(source: str, shown: str) -> None:
    assert redacted(source) == shown


TOKEN = "private-7f3a9c"


FEED = calendar(WEEKLY)


class Feeds(NamedTuple):
    https: str
    http: str
    cert: Path


class FeedHandler(http.server.BaseHTTPRequestHandler):
    """Routes: a good feed under the secret token, refusals, an HTML page, redirects, a slow answer."""

    def do_GET(self) -> None:
        path = self.path
        if path == f"/calendar/{TOKEN}/basic.ics":
            self.answer(200, FEED, "text/calendar")
        elif path.startswith("/status/"):
            self.answer(int(path.split("/")[2]), b"no", "text/plain")
        elif path == f"/html/{TOKEN}":
            self.answer(200, b"<!doctype html><title>Sign in</title>", "text/html")
        elif path.startswith("/redirect"):
            target = f"https://{self.headers['Host']}/calendar/{TOKEN}/basic.ics"
            self.send_response(302)
            self.send_header("Location", "http://example.invalid/x.ics" if "to-http" in path else target)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/slow":
            time.sleep(1.5)
            self.answer(200, FEED, "text/calendar")
        elif path == "/trickle":  # a byte every 0.3 s: no single read ever times out
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.end_headers()
            for byte in FEED:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.3)
        elif path == "/cut":
            self.answer(200, FEED[: len(FEED) // 2], "text/calendar")

    def answer(self, code: int, body: bytes, kind: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests assert on what load_feed raises."""


class QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that gave up (the timeout test) is expected, not a failure to print."""


def serve(context: ssl.SSLContext | None) -> tuple[http.server.ThreadingHTTPServer, threading.Thread]:
    server = QuietServer(("127.0.0.1", 0), FeedHandler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture(scope="module")
def feeds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Feeds]:
    """An https server with a self-signed certificate (made by the openssl CLI) and a plain http one."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    servers = [serve(context), serve(None)]
    try:
        (tls, _), (plain, _) = servers
        yield Feeds(
            https=f"https://127.0.0.1:{tls.server_address[1]}",
            http=f"http://127.0.0.1:{plain.server_address[1]}",
            cert=cert,
        )
    finally:
        for server, thread in servers:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


@pytest.mark.slow
def test_https_feed_with_self_signed_certificate_is_trusted_through_ca_file(feeds: Feeds) -> None:
    data = load_feed(f"{feeds.https}/calendar/{TOKEN}/basic.ics", ca_file=feeds.cert, deadline=10)
    assert data == FEED
    assert len(busy_of(data)) == 5
    webcal = feeds.https.replace("https://", "webcal://")
    assert load_feed(f"{webcal}/calendar/{TOKEN}/basic.ics", ca_file=feeds.cert, deadline=10) == FEED


@pytest.mark.slow
def test_self_signed_certificate_is_refused_without_ca_file(feeds: Feeds) -> None:
    with pytest.raises(
        UnreachableError, match=r"^the TLS certificate of 127\.0\.0\.1:\d+ is not trusted"
    ) as caught:
        load_feed(f"{feeds.https}/calendar/{TOKEN}/basic.ics", deadline=10)
    assert TOKEN not in caught.value.message


@pytest.mark.slow
def test_plain_http_is_allowed_on_this_machine(feeds: Feeds) -> None:
    assert load_feed(f"{feeds.http}/calendar/{TOKEN}/basic.ics", deadline=10) == FEED


@pytest.mark.slow
@pytest.mark.parametrize(
    ("path", "error", "message"),
    [
        (
            f"/status/401/{TOKEN}",
            LoginRefusedError,
            r"/\.\.\. refused access \(HTTP 401\): the secret address may",
        ),
        (f"/status/403/{TOKEN}", LoginRefusedError, r"/\.\.\. refused access \(HTTP 403\)"),
        (
            f"/status/404/{TOKEN}",
            RemoteRefusedError,
            r"/\.\.\. answered HTTP 404 Not Found: check the address",
        ),
        (f"/status/500/{TOKEN}", RemoteRefusedError, r"/\.\.\. answered HTTP 500 Internal Server Error"),
        (f"/html/{TOKEN}", DataFileError, r"/\.\.\. is not iCalendar data \(no BEGIN:VCALENDAR\)"),
        (f"/redirect/to-http/{TOKEN}.ics", RemoteRefusedError, r"/\.\.\. redirects to a plain http address"),
        ("/slow", UnreachableError, r"^127\.0\.0\.1:\d+ did not answer within 0\.3 s"),
    ],
)
def test_failing_feed_gives_one_line_without_the_token(
    feeds: Feeds, path: str, error: type[PeerloopError], message: str
) -> None:
    with pytest.raises(error, match=message) as caught:
        load_feed(feeds.https + path, ca_file=feeds.cert, deadline=0.3 if path == "/slow" else 10)
    assert TOKEN not in caught.value.message
    assert "\n" not in caught.value.message
    assert caught.value.message.startswith(("https://127.0.0.1:", "127.0.0.1:"))


@pytest.mark.slow
def test_redirect_to_https_is_followed(feeds: Feeds) -> None:
    assert load_feed(f"{feeds.https}/redirect/{TOKEN}", ca_file=feeds.cert, deadline=10) == FEED


def test_closed_port_is_unreachable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(
        UnreachableError, match=rf"^cannot reach 127\.0\.0\.1:{port} \(.*\): check the address"
    ):
        load_feed(f"https://127.0.0.1:{port}/calendar/{TOKEN}.ics", deadline=5)


def test_unreadable_ca_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^cannot read the CA file '.*missing\.pem' \(No such file"):
        load_feed("https://127.0.0.1:9/feed.ics", ca_file=tmp_path / "missing.pem")


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


@pytest.mark.slow
def test_a_trickling_server_is_stopped_by_the_total_deadline(feeds: Feeds) -> None:
    started = time.monotonic()
    with pytest.raises(UnreachableError, match="did not answer within 2 s"):
        load_feed(f"{feeds.http}/trickle", deadline=2)
    assert time.monotonic() - started < 5


@pytest.mark.slow
def test_a_feed_cut_off_half_way_is_refused_not_read_as_fewer_events(feeds: Feeds) -> None:
    with pytest.raises(DataFileError, match="ends before its END:VCALENDAR"):
        load_feed(f"{feeds.http}/cut", deadline=10)


def test_a_feed_path_that_became_a_pipe_with_no_writer_is_refused_without_waiting(tmp_path: Path) -> None:
    pipe = tmp_path / "work.ics"
    os.mkfifo(pipe)
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            load_feed(str(pipe))
        except DataFileError as error:
            outcome.append(error)

    reader = threading.Thread(target=read, daemon=True)  # a reader that hangs must not hang the tests
    reader.start()
    reader.join(timeout=10)
    assert [str(error) for error in outcome] == [
        f"the busy-time source {pipe} is not a regular file; give an .ics file"
    ]


def test_connecting_a_feed_that_is_a_pipe_or_a_folder_says_what_it_is(
    cli: Invoke, set_up: Callable[..., None], tmp_path: Path
) -> None:
    set_up(*PEERS, now="2026-03-09T07:00")
    os.mkfifo(tmp_path / "pipe.ics")
    for source, said in ((tmp_path / "pipe.ics", "not a regular file"), (tmp_path, "not a regular file"),
                         (tmp_path / "gone.ics", "no such file")):  # fmt: skip
        result = cli("connect", "busy", str(source))
        assert result.exit_code == 2, result.output
        assert result.stderr == (
            f"peerloop: error: {source}: {said}{' (a folder, a pipe or a device?)' if 'regular' in said else ''}; "
            "give an .ics file or an https feed address\n"
        )


def test_only_a_regular_file_of_a_sane_size_is_read_as_a_feed(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="/dev/zero is not a regular file"):
        load_feed("/dev/zero")
    big = tmp_path / "big.ics"
    with big.open("wb") as file:
        file.write(b"BEGIN:VCALENDAR\r\n")
        file.truncate(17 * 2**20)
    with pytest.raises(DataFileError, match="is over 16 MB"):
        load_feed(str(big))
    cut = tmp_path / "cut.ics"
    cut.write_bytes(FEED[: len(FEED) // 2])
    with pytest.raises(DataFileError, match="ends before its END:VCALENDAR"):
        load_feed(str(cut))


def test_a_broken_busy_cache_never_stops_a_weekly_command_and_doctor_reports_it(
    cli: Invoke, set_up: Callable[..., None], home: Path
) -> None:
    set_up("Ann Lee", "Bo Chen", "Cy Dee", "Di Eze")
    (home / "busy.toml").write_text(
        "schema_version = 1\nrefreshed_at = 2026-03-01T09:00:00Z\n[[busy]]\nstart = 7\n"
    )
    os.chmod(home / "busy.toml", 0o600)
    for argv in (["next"], ["plan", "--weeks", "2"], ["export", "-o", os.devnull]):
        result = cli(*argv)
        assert result.exit_code == 0, (argv, result.output)
        assert result.stderr.count("busy.toml") == 1, result.stderr
        assert "planned without busy times this time" in result.stderr
    checked = cli("doctor")
    assert checked.exit_code == 4
    assert "busy.toml" in checked.stdout
