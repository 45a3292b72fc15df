"""Busy time from the leader's iCalendar sources: .ics files, https feeds ("secret addresses"), CalDAV data.

Only start, end and (when the leader allows it) the summary of busy events are kept. Recurrences are expanded
by recurring-ical-events, never by hand. Imported only by the commands that refresh busy time.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from peerloop.connect import host_of, redacted, tls_context
from peerloop.core.connections import LOCAL_HOSTS
from peerloop.core.freetime import Busy
from peerloop.errors import DataFileError, InputError, LoginRefusedError, RemoteRefusedError, UnreachableError
from peerloop.inert import one_line, shortened

if TYPE_CHECKING:
    import urllib.request
    from http.client import HTTPMessage

UTC = dt.UTC
OWN_UID_PREFIX = "peerloop-"
"""peerloop's own synced events: they never count as busy (see calendar.py's UIDs)."""
MAX_FEED_BYTES = 16 * 1024 * 1024
"""A busy-time feed, downloaded or read: a year of a busy calendar exported with every detail is a few MB."""
DEADLINE = 30.0
"""Seconds a download may take in all."""
_MAX_SUMMARY = 200
MAX_BUSY_PER_FEED = 5_000
"""Busy intervals kept from one feed, and from the connected calendar in all (`capped`): the earliest, with a
note when there are more."""
MAX_COMPONENTS = 20_000
"""Components icalendar would build (events, alarms, zones) once `prefilter` has dropped the far events, or all
of them when it cannot: more is refused before parsing (20,000 cost about 9 s and 290 MB)."""
MAX_RULE_STEPS = 1_000_000
"""Steps dateutil may walk for a feed's series, from their DTSTART (where it always starts) to the window's end."""
MAX_IN_WINDOW = 20_000
"""Occurrences a feed's series may have in the window, by the same upper bound."""


def from_ics(
    data: bytes,
    window_start: dt.datetime,
    window_end: dt.datetime,
    zone: dt.tzinfo,
    leader_email: str | None,
    keep_summary: bool,
    *,
    source: str = "the calendar data",
    notes: list[str] | None = None,
) -> list[Busy]:
    """The busy intervals (UTC, in order) of every event and free/busy period overlapping the window.

    Floating times and all-day events are read in the leader's `zone`. Free (TRANSP:TRANSPARENT), cancelled
    and declined events do not block, nor do peerloop's own events. `data` may hold several VCALENDARs.
    Events far from the window are dropped before parsing (`prefilter`: the result is the same). A series
    that repeats too often to expand is left out, and at most MAX_BUSY_PER_FEED intervals are kept (the
    earliest): each is one line added to `notes`, when given.
    """
    import icalendar
    import recurring_ical_events  # type: ignore[import-untyped]

    from peerloop.connect.prefilter import near_window

    low, high = window_start.astimezone(UTC), window_end.astimezone(UTC)
    email = _address(leader_email) if leader_email else None
    said = notes if notes is not None else []
    near = near_window(data, window_start, window_end)
    # icalendar 7 returns no calendar at all for data cut off, silently (CalDAV data, direct callers)
    if b"\r" in data and b"\n" not in data:
        raise DataFileError(
            f"{source} is not valid iCalendar (its lines end with CR alone, not CRLF); save it again with "
            "standard line ends"
        )
    if not near.complete:
        raise DataFileError(
            f"{source} is not valid iCalendar (it does not end with END:VCALENDAR: cut off?); check the file or feed"
        )
    if near.components > MAX_COMPONENTS:
        raise DataFileError(
            f"{source} has more than {MAX_COMPONENTS:,} events to read for the coming weeks: is it one person's "
            "calendar? Export a shorter range"
        )
    found: list[Busy] = []
    try:
        for calendar in icalendar.Calendar.from_ical(near.data, multiple=True):
            skipped = _skip_dense_series(calendar, low, high, zone)
            if skipped:
                names = ", ".join(f"'{shortened(summary, 40)}'" for summary in skipped[:3])
                more = f" and {len(skipped) - 3} more" if len(skipped) > 3 else ""
                one = len(skipped) == 1
                said.append(f"{source}: {names}{more} repeat{'s' if one else ''} too often to expand; left out "
                            f"(give {'it' if one else 'them'} an end or delete {'it' if one else 'them'} in that "
                            "calendar)")  # fmt: skip
            query = recurring_ical_events.of(calendar, skip_bad_series=True)
            for event in query.between(window_start.astimezone(zone), window_end.astimezone(zone)):
                if _blocks(event, email):
                    start = _utc(event["DTSTART"].dt, zone)
                    end = _utc(event["DTEND"].dt, zone)
                    summary = _summary(event) if keep_summary else None
                    found.append(Busy(start, end, summary))
            for freebusy in calendar.walk("VFREEBUSY"):
                found.extend(_busy_periods(freebusy, zone))
    except KeyError as error:  # recurring_ical_events reads DTSTART without asking
        raise DataFileError(
            f"{source} is not valid iCalendar (an event has no {one_line(str(error.args[0]))}); "
            "check the file or feed"
        ) from None
    except (ValueError, TypeError, OverflowError) as error:  # from icalendar or recurring_ical_events
        raise DataFileError(
            f"{source} is not valid iCalendar ({one_line(str(error))}); check the file or feed"
        ) from None
    return capped(
        [b for b in found if b.start < high and low < b.end and b.start < b.end], zone, source, said
    )


def capped(found: list[Busy], zone: dt.tzinfo, source: str, notes: list[str]) -> list[Busy]:
    """The busy intervals in order, at most MAX_BUSY_PER_FEED of them (the earliest), with a note when cut."""
    kept = sorted(found, key=lambda b: (b.start, b.end))
    if len(kept) > MAX_BUSY_PER_FEED:
        last = kept[MAX_BUSY_PER_FEED - 1].start.astimezone(zone)
        notes.append(f"{source}: only its first {MAX_BUSY_PER_FEED:,} busy times are used "
                     f"(until {last:%Y-%m-%d})")  # fmt: skip
        kept = kept[:MAX_BUSY_PER_FEED]
    return kept


_STEP = {"SECONDLY": 1, "MINUTELY": 60, "HOURLY": 3600, "DAILY": 86400, "WEEKLY": 7 * 86400,
         "MONTHLY": 28 * 86400, "YEARLY": 365 * 86400}  # fmt: skip
_YEAR_DAYS = ("BYDAY", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO")
_SUB_DAILY = ("SECONDLY", "MINUTELY", "HOURLY")
_EXPANDS = {"BYHOUR": ("YEARLY", "MONTHLY", "WEEKLY", "DAILY"),
            "BYMINUTE": ("YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY"),
            "BYSECOND": ("YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY", "MINUTELY")}  # fmt: skip


def _rule_bounds(event: Any, low: dt.datetime, high: dt.datetime, zone: dt.tzinfo) -> tuple[float, float]:
    """Upper bounds of the steps dateutil walks for the event's RRULEs (from DTSTART to the window's end,
    UNTIL or COUNT) and RDATEs, and of their occurrences in the window, from icalendar's parsed values. The
    BYxxx parts that filter are ignored: the bounds can be too high for rules nobody writes, never too low.
    A rule repeating every second, minute or hour without UNTIL or COUNT is endless busy time, never a
    calendar someone keeps: its bounds are infinite, so it is always left out."""
    start = _utc(event["DTSTART"].dt, zone)
    rdates = event.get("RDATE", [])
    walk = inside = float(sum(len(dates.dts) for dates in (rdates if isinstance(rdates, list) else [rdates])))
    rules = event.get("RRULE", [])
    for rule in rules if isinstance(rules, list) else [rules]:
        freq = str(rule.get("FREQ", [""])[0]).upper()
        if freq not in _STEP:
            continue  # recurring_ical_events skips a series with a bad rule
        count = rule.get("COUNT")
        if freq in _SUB_DAILY and not rule.get("UNTIL") and not count:
            return math.inf, math.inf
        step = _STEP[freq] * max(int(rule.get("INTERVAL", [1])[0]), 1)
        end = min(high, _utc(rule["UNTIL"][0], zone)) if rule.get("UNTIL") else high
        per_step = 1
        if freq == "WEEKLY" and "BYDAY" in rule:
            per_step = 7
        elif freq == "MONTHLY" and ("BYDAY" in rule or "BYMONTHDAY" in rule):
            per_step = 31
        elif freq == "YEARLY" and any(part in rule for part in _YEAR_DAYS):
            per_step = 366
        elif freq == "YEARLY" and "BYMONTH" in rule:
            per_step = 12
        for part, coarser in _EXPANDS.items():
            if freq in coarser and part in rule:
                per_step *= max(len(rule[part]), 1)
        steps = (max((end - start).total_seconds(), 0) / step + 1) * per_step
        in_window = (max((end - max(start, low)).total_seconds(), 0) / step + 1) * per_step
        if count:  # dateutil stops after COUNT; with no BYxxx part every step is an occurrence
            in_window = min(in_window, int(count[0]))
            steps = min(steps, int(count[0])) if not any(part.startswith("BY") for part in rule) else steps
        walk, inside = walk + steps, inside + in_window
    return walk, inside


def _skip_dense_series(calendar: Any, low: dt.datetime, high: dt.datetime, zone: dt.tzinfo) -> list[str]:
    """Remove the series (every VEVENT of their UID) that repeat too often to expand, the densest first,
    until the rest fits MAX_RULE_STEPS, MAX_IN_WINDOW and MAX_BUSY_PER_FEED; the summaries of those removed."""
    costs: dict[str, list[float]] = {}
    for event in calendar.subcomponents:
        if event.name == "VEVENT" and ("RRULE" in event or "RDATE" in event) and "DTSTART" in event:
            try:
                walk, inside = _rule_bounds(event, low, high, zone)
            except (ValueError, TypeError, AttributeError, OverflowError):
                continue  # a broken rule or DTSTART: recurring_ical_events skips that series
            cost = costs.setdefault(str(event.get("UID", id(event))), [0.0, 0.0])
            cost[0], cost[1] = cost[0] + walk, cost[1] + inside
    walked = inside = 0.0
    too_dense = set()
    for uid, (walk, count) in sorted(costs.items(), key=lambda item: (item[1][1], item[1][0])):
        if count > MAX_BUSY_PER_FEED or walked + walk > MAX_RULE_STEPS or inside + count > MAX_IN_WINDOW:
            too_dense.add(uid)
        else:
            walked, inside = walked + walk, inside + count
    if not too_dense:
        return []
    summaries, kept = [], []
    for component in calendar.subcomponents:
        if component.name == "VEVENT" and str(component.get("UID", id(component))) in too_dense:
            if "RRULE" in component or "RDATE" in component:
                summaries.append(" ".join(str(component.get("SUMMARY", "")).split()) or "(no summary)")
        else:
            kept.append(component)
    calendar.subcomponents = kept
    return summaries


def _blocks(event: Any, email: str | None) -> bool:
    """Whether an occurrence takes the leader's time."""
    if (
        str(event.get("UID", "")).startswith(OWN_UID_PREFIX)
        or str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT"
        or str(event.get("X-MICROSOFT-CDO-BUSYSTATUS", "")).upper() == "FREE"
        or str(event.get("STATUS", "")).upper() == "CANCELLED"
    ):
        return False
    if email is not None:
        attendees = event.get("ATTENDEE", [])
        for attendee in attendees if isinstance(attendees, list) else [attendees]:
            if _address(str(attendee)) == email:
                return str(attendee.params.get("PARTSTAT", "")).upper() != "DECLINED"
    return True


def _busy_periods(freebusy: Any, zone: dt.tzinfo) -> list[Busy]:
    """The FREEBUSY periods of a VFREEBUSY that are not FBTYPE=FREE (icalendar splits comma lists)."""
    lines = freebusy.get("FREEBUSY", [])
    periods = []
    for period in lines if isinstance(lines, list) else [lines]:
        if str(period.params.get("FBTYPE", "BUSY")).upper() != "FREE":
            periods.append(Busy(_utc(period.start, zone), _utc(period.end, zone)))
    return periods


def _utc(value: dt.date | dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """A DTSTART/DTEND value in UTC: floating times and dates (midnight) are in the leader's zone."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(0))
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def _summary(event: Any) -> str | None:
    text = " ".join(str(event.get("SUMMARY", "")).split())
    return text[:_MAX_SUMMARY] or None


def _address(text: str) -> str:
    return text.strip().casefold().removeprefix("mailto:")


def load_feed(source: str, ca_file: Path | None = None, deadline: float = DEADLINE) -> bytes:
    """The bytes of a local .ics file or an https feed (webcal:// is read as https://; plain http only on
    this machine), whole: at most MAX_FEED_BYTES, a download done within `deadline` seconds in all, a file
    only if it is a regular file, and the data must end where a calendar ends (a feed cut off half-way
    is refused, never read as fewer events). The system's CA store is used unless `ca_file` names the
    certificate to trust."""
    scheme = urlsplit(source).scheme.lower() if "://" in source else ""
    if scheme in ("https", "http", "webcal"):
        data = _download(source, ca_file, deadline)
    else:
        data = _read_file(Path(unquote(urlsplit(source).path) if scheme == "file" else source).expanduser())
    body = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if body[:15].upper() != b"BEGIN:VCALENDAR":
        raise DataFileError(
            f"{redacted(source)} is not iCalendar data (no BEGIN:VCALENDAR): check the file or the address"
        )
    if not body.rstrip().upper().endswith(b"END:VCALENDAR"):
        raise DataFileError(
            f"{redacted(source)} ends before its END:VCALENDAR (cut off on the way?); the last busy times are kept"
        )
    return data


def _read_file(path: Path) -> bytes:
    """A local feed: a regular file (never a device, a pipe or a folder), at most MAX_FEED_BYTES."""
    import os
    import stat

    try:
        # O_NONBLOCK: opening a pipe with no writer would wait for one forever; a regular file ignores it
        with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as file:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise DataFileError(f"the busy-time source {path} is not a regular file; give an .ics file")
            data = file.read(MAX_FEED_BYTES + 1)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise DataFileError(f"cannot read the busy-time file {path}: {reason}; check the path") from None
    if len(data) > MAX_FEED_BYTES:
        raise DataFileError(
            f"the busy-time file {path} is over {MAX_FEED_BYTES // 2**20} MB: is it really a calendar?"
        )
    return data


def _download(source: str, ca_file: Path | None, deadline: float) -> bytes:
    """The feed's bytes, read in chunks against one total deadline (a server that trickles a byte at a time
    is stopped too, not only one that goes silent)."""
    import http.client
    import time
    import urllib.error
    import urllib.request

    from peerloop import __version__

    shown = redacted(source)
    parts = urlsplit(source)
    scheme = "https" if parts.scheme.lower() == "webcal" else parts.scheme.lower()
    try:
        parts.port  # noqa: B018 (a malformed port raises here, not later inside urllib)
    except ValueError:
        raise InputError(f"{shown} has a malformed port: give the full https://... address") from None
    if not parts.hostname:
        raise InputError(f"{shown} is not a feed address: give the full https://... address")
    if parts.username is not None or parts.password is not None:
        raise InputError(f"{shown} contains a user name or password: give the feed's secret address instead")
    if scheme == "http" and parts.hostname not in LOCAL_HOSTS:
        raise InputError(f"{shown} uses plain http: give the https:// address of the feed")
    url = parts._replace(scheme=scheme, fragment="").geturl()
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=tls_context(ca_file)), _redirect_handler(shown)
    )
    request = urllib.request.Request(
        url, headers={"User-Agent": f"peerloop/{__version__}", "Accept": "text/calendar, */*;q=0.1"}
    )
    until = time.monotonic() + deadline
    chunks: list[bytes] = []
    size = 0
    try:
        with opener.open(request, timeout=min(deadline, 30.0)) as response:
            while size <= MAX_FEED_BYTES:
                if time.monotonic() > until:
                    raise TimeoutError
                chunk = response.read1(1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
    except urllib.error.HTTPError as error:
        error.close()
        if error.code in (401, 403):
            raise LoginRefusedError(
                f"{shown} refused access (HTTP {error.code}): the secret address may have been reset; copy it again"
            ) from None
        raise RemoteRefusedError(
            f"{shown} answered HTTP {error.code} {one_line(str(error.reason))}: check the address"
        ) from None
    except (OSError, http.client.HTTPException) as error:  # URLError and TimeoutError are OSErrors
        raise _unreachable(error, host_of(source), deadline) from None
    data = b"".join(chunks)
    if len(data) > MAX_FEED_BYTES:
        raise RemoteRefusedError(
            f"{shown} sent more than {MAX_FEED_BYTES // 2**20} MB: is it really a calendar feed?"
        )
    return data


def _unreachable(error: Exception, host: str, timeout: float) -> UnreachableError:
    import ssl
    import urllib.error

    reason = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(reason, ssl.SSLCertVerificationError):
        return UnreachableError(
            f"the TLS certificate of {host} is not trusted: for a self-signed server, name its certificate file"
        )
    if isinstance(reason, TimeoutError):
        return UnreachableError(f"{host} did not answer within {timeout:g} s: check the network, then retry")
    detail = one_line(str(reason)) or type(reason).__name__
    return UnreachableError(f"cannot reach {host} ({detail}): check the address and the network")


def _redirect_handler(shown: str) -> urllib.request.HTTPRedirectHandler:
    """Follow redirects only to https (or plain http on this machine), so the feed never drops TLS."""
    import urllib.request

    class SafeRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(
            self,
            req: urllib.request.Request,
            fp: Any,
            code: int,
            msg: str,
            headers: HTTPMessage,
            newurl: str,
        ) -> urllib.request.Request | None:
            target = urlsplit(newurl)
            if target.scheme.lower() != "https" and not (
                target.scheme.lower() == "http" and target.hostname in LOCAL_HOSTS
            ):
                fp.close()  # urllib closes it only after a redirect it follows
                raise RemoteRefusedError(f"{shown} redirects to a plain http address: ask for the https feed")
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    return SafeRedirect()
