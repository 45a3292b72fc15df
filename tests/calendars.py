"""What the calendar tests share: readers of .ics bytes (strict, line by line), the golden files, and
settings, rosters and slots built for the builders."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from peerloop.core import rotation
from peerloop.core.calendar import state as calendar_state
from peerloop.core.calendar.reconcile import Action, Applied, Recorded, Refused, SyncRecord, answered, settled
from peerloop.core.calendar.series import SentSeries, last_series_date
from peerloop.core.models import (
    Mode,
    Peer,
    Roster,
    Settings,
)
from peerloop.output import ics

Event = dict[str, tuple[dict[str, str], str]]


"""A VEVENT as `events_of` reads it: name -> (parameters, unescaped value)."""


BIN = Path(sys.executable).parent
"""Where the test venv keeps khal and radicale."""
INTEROP_PEERS = ("Ann Lee", 'Bo "B" Chen, PhD', "Cy; Dee 😀", "Di Eh")
KHAL_TIMEOUT = 60

GOLDEN = Path(__file__).parent / "golden"


UPDATE_GOLDEN = "PEERLOOP_UPDATE_GOLDEN"


HOME_ID = "0f1e2d3c4b5a6978"


NOW = "2026-03-02T09:00"


LONG_NAME = ("Ωμέγα Ünal-" * 19)[:199] + "😀"


TRICKY_PEERS = (
    ("Ann Lee", "ann@example.com", Mode.LUNCH),
    ('Bo "the boss" Chen; CTO, Acme \\ Labs', "bo@example.com", None),
    ("Zoë 😀 Ünal ^n", None, Mode.CALL),
    (LONG_NAME, "long@example.com", None),
)


HARD_NAMES = (
    "Trailing\\",
    "\\Leading",
    "Acme \\ Labs",
    'Bo "the boss" Chen',
    "O'Brien",
    "Lee, Ann",
    "Ann; CTO",
    "Dr: Who",
    "Pay ^ day ^n ^^ ^'",
    'Trailing "\\',
)


ESCAPE_LOOKALIKES = ("Ann\\;Lee", "Lee\\, Ann", "Dr\\: Who", "Two \\\\ backslashes")


def physical_lines(data: bytes) -> list[bytes]:
    """The file's lines: CRLF-terminated, none longer than 75 octets, each one valid UTF-8 on its own."""
    assert data.endswith(b"\r\n")
    lines = data[:-2].split(b"\r\n")
    for line in lines:
        assert b"\r" not in line, line
        assert b"\n" not in line, line
        assert len(line) <= 75, (len(line), line)
        line.decode("utf-8")
    return lines


def escapes_split_by_a_fold(data: bytes) -> list[str]:
    """The content lines whose folding separates the two characters of an escape: a backslash and the
    character after it in a value, or an RFC 6868 `^^`, `^'`, `^n` in a parameter."""
    found = []
    for logical in re.split(r"\r\n(?![ \t])", data.decode("utf-8")):
        pieces = re.split(r"\r\n[ \t]", logical)
        folds = set(itertools.accumulate(len(piece) for piece in pieces[:-1]))
        line = "".join(pieces)
        value = len(line) - len(split_line(line)[2]) if ":" in line else len(line)
        n = 0
        while n < len(line) - 1:
            escape = line[n] == "\\" if n >= value else line[n] == "^" and line[n + 1] in "^'n"
            if escape and n + 1 in folds:
                found.append(line)
            n += 2 if escape else 1
    return found


def unfolded(data: bytes) -> list[str]:
    physical_lines(data)
    return data.replace(b"\r\n ", b"").replace(b"\r\n\t", b"").decode("utf-8").split("\r\n")[:-1]


def split_line(line: str) -> tuple[str, dict[str, str], str]:
    """NAME;P=V;P="V":VALUE -> (NAME, params, VALUE); a colon inside a quoted parameter is not the split."""
    quoted = False
    for n, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            head, value = line[:n], line[n + 1 :]
            break
    else:
        raise AssertionError(f"no value in {line!r}")
    name, *raw = re.findall(r'(?:[^;"]|"[^"]*")+', head)
    params = {}
    for item in raw:
        key, _, text = item.partition("=")
        params[key.upper()] = text[1:-1] if text.startswith('"') else text
    return name.upper(), params, value


def unescape(value: str) -> str:
    """A TEXT value, read strictly: an unescaped comma or semicolon is an error, not data."""
    out, n = [], 0
    while n < len(value):
        ch = value[n]
        if ch == "\\":
            following = value[n + 1]
            assert following in "\\;,nN", f"bad escape in {value!r}"
            out.append("\n" if following in "nN" else following)
            n += 2
            continue
        assert ch not in ",;", f"unescaped {ch!r} in TEXT value {value!r}"
        out.append(ch)
        n += 1
    return "".join(out)


def rfc_6868(value: str) -> str:
    """A parameter value decoded as RFC 6868 says (^^, ^n, ^' ; any other ^ stays)."""
    return re.sub(r"\^[\^n']", lambda m: {"^^": "^", "^n": "\n", "^'": '"'}[m.group(0)], value)


def events_of(data: bytes) -> list[Event]:
    """Each VEVENT's own properties (not its VALARM's): name -> (params, raw value)."""
    found: list[Event] = []
    current: Event | None = None
    depth = 0
    for line in unfolded(data):
        if line == "BEGIN:VEVENT":
            current, depth = {}, 0
        elif line == "END:VEVENT":
            assert current is not None
            found.append(current)
            current = None
        elif current is not None and line.startswith("BEGIN:"):
            depth += 1
        elif current is not None and line.startswith("END:"):
            depth -= 1
        elif current is not None and depth == 0:
            name, params, value = split_line(line)
            assert name not in current, f"{name} twice in one event"
            current[name] = (params, value)
    return found


def content(event: Event) -> Event:
    """What an attendee's calendar compares: everything but DTSTAMP and SEQUENCE."""
    return {name: value for name, value in event.items() if name not in {"DTSTAMP", "SEQUENCE"}}


def check_file(data: bytes) -> list[Event]:
    """Every check a calendar file must pass, whatever it holds; returns its events."""
    lines = unfolded(data)
    assert escapes_split_by_a_fold(data) == []
    assert lines[0] == "BEGIN:VCALENDAR"
    assert lines[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines
    found = events_of(data)
    for event in found:
        for name in ("UID", "DTSTAMP", "DTSTART", "SUMMARY"):
            assert name in event, f"{name} missing"
        assert re.fullmatch(r"\d{8}T\d{6}Z", event["DTSTAMP"][1])
        for name in ("SUMMARY", "DESCRIPTION"):
            if name in event:
                unescape(event[name][1])
        params, _ = event["DTSTART"]
        if "TZID" in params:
            assert f"TZID:{params['TZID']}" in lines, "a TZID without its VTIMEZONE"
        if "DTEND" in event:
            end_params, end = event["DTEND"]
            assert "TZID" in end_params or end.endswith("Z") or end_params.get("VALUE") == "DATE", end
        if "RECURRENCE-ID" in event and "TZID" in event["RECURRENCE-ID"][0]:
            assert f"TZID:{event['RECURRENCE-ID'][0]['TZID']}" in lines, "a TZID without its VTIMEZONE"
    if "METHOD:CANCEL" not in lines:
        series = [event["UID"][1] for event in found if "RECURRENCE-ID" not in event]
        assert len(series) == len(set(series))
        for event in found:
            if "RECURRENCE-ID" in event:
                assert event["UID"][1] in series, "an override without its series"
    parse_strictly(data)
    return found


def parse_strictly(data: bytes) -> Any:
    from ical.calendar_stream import IcsCalendarStream

    return IcsCalendarStream.calendar_from_ics(data.decode("utf-8"))


def parse_with_icalendar(data: bytes) -> Any:
    from icalendar import Calendar

    return Calendar.from_ical(data)


def parse_with_vobject(data: bytes) -> Any:
    import vobject

    return vobject.readOne(data.decode("utf-8"))


Meeting = tuple[str, dt.datetime, dt.datetime]
"""One occurrence as a reader lists it: UID, start and end in UTC."""


def meetings_by_icalendar(data: bytes) -> list[Meeting]:
    """Every occurrence, as icalendar and recurring-ical-events expand the file."""
    import recurring_ical_events

    found = recurring_ical_events.of(parse_with_icalendar(data)).between(
        dt.datetime(2000, 1, 1), dt.datetime(2100, 1, 1)
    )
    return sorted((str(event["UID"]), utc(event.start), utc(event.end)) for event in found)


def meetings_by_ical(data: bytes) -> list[Meeting]:
    """Every occurrence, as the strict `ical` parser expands the file."""
    return sorted(
        (item.uid, utc(item.dtstart), utc(item.end)) for item in parse_strictly(data).timeline_tz(dt.UTC)
    )


def make_settings(
    zone: str = "Europe/Berlin",
    start: dt.date = dt.date(2026, 3, 2),
    weekday: int = 1,
    time: dt.time = dt.time(8, 30),
    name: str = "Dana Ode",
) -> Settings:
    return Settings(
        name=name,
        timezone=zone,
        weekday=weekday,
        time=time,
        duration=45,
        mode=Mode.COFFEE,
        trial_start=start,
        email="dana@example.com",
    )


def make_roster(names: list[str], config: Settings, email: bool = True) -> Roster:
    peers = tuple(
        Peer(name=name, added=config.trial_start, email=f"p{n}@example.com" if email else None)
        for n, name in enumerate(names)
    )
    return Roster(settings=config, peers=peers)


def whole_trial(
    roster: Roster, config: Settings, today: dt.date | None = None, history: rotation.History | None = None
) -> list[rotation.Slot]:
    history = history or rotation.History(last_met={}, done_weeks=frozenset())
    day = today or config.trial_start
    first = rotation.first_open_week(config, history, day)
    return rotation.plan(roster, config, history, day, rotation.trial_weeks_left(config, first))


def moment(config: Settings, text: str = NOW) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(config.timezone))


def real_slot(zone: str, day: dt.date, at: dt.time, peer: Peer | None, minutes: int = 45) -> rotation.Slot:
    """A slot as the rotation gives it: a time in a DST gap moved forward, the first of a repeated hour,
    and the end `minutes` later in real time."""
    tz = ZoneInfo(zone)
    start = dt.datetime.combine(day, at, tzinfo=tz).astimezone(dt.UTC)
    week = rotation.week_start(day)
    return rotation.Slot(week, start.astimezone(tz), (start + dt.timedelta(minutes=minutes)).astimezone(tz),
                         peer, Mode.COFFEE)  # fmt: skip


def empty_state() -> calendar_state.CalendarState:
    return calendar_state.CalendarState(HOME_ID)


def tricky_roster() -> Roster:
    """The golden roster: a leader in Europe/Berlin, trial from 2026-03-02 (spans the DST change on 03-29)."""
    config = make_settings()
    peers = tuple(
        Peer(name=name, added=config.trial_start, email=email, mode=mode)
        for name, email, mode in TRICKY_PEERS
    )
    return Roster(settings=config, peers=peers)


def golden(name: str, data: bytes) -> None:
    path = GOLDEN / name
    if os.environ.get(UPDATE_GOLDEN):
        path.write_bytes(data)
    assert data == path.read_bytes(), f"{name} changed; if that is intended, rerun with {UPDATE_GOLDEN}=1"


def golden_export() -> ics.Built:
    roster = tricky_roster()
    config = roster.settings
    assert config is not None
    return ics.build_export(whole_trial(roster, config), config, empty_state(), moment(config), alarm=15)


def golden_invite() -> ics.Built:
    roster = tricky_roster()
    config = roster.settings
    assert config is not None
    bo = roster.peers[1]
    first = next(slot for slot in whole_trial(roster, config) if slot.peer == bo)
    return ics.build_invite(bo, first, len(roster.peers), config, empty_state(), moment(config))


def golden_invite_across_dst() -> ics.Built:
    """A New York leader meeting on Sundays at 01:30: the series meets the repeated hour of 2026-11-01 (a
    wall time in UTC) and ends in the gap of 2027-03-14 (02:15 does not exist)."""
    config = make_settings(
        zone="America/New_York", start=dt.date(2026, 10, 5), weekday=6, time=dt.time(1, 30)
    )
    peer = Peer("Zoë Müller-Łukasz van der Berg", config.trial_start, email="zoe@example.com")
    (first, *_) = whole_trial(Roster(settings=config, peers=(peer,)), config)
    return ics.build_invite(peer, first, 1, config, empty_state(), moment(config, "2026-10-05T09:00"))


def golden_cancel() -> ics.Built:
    """The invite above, then two of its meetings (the weeks of 2026-04-06 and 2026-05-04) cancelled."""
    roster = tricky_roster()
    config = roster.settings
    assert config is not None
    invite = golden_invite()
    later = moment(config, "2026-03-20T10:00")
    return ics.build_invite_cancel(roster.peers[1], config, invite.state, later, golden_series(),
                                   [dt.date(2026, 4, 7), dt.date(2026, 5, 5)])  # fmt: skip


def golden_series() -> SentSeries:
    """The series golden_invite() sends, as `invite` records it."""
    roster = tricky_roster()
    config = roster.settings
    assert config is not None
    first = next(slot for slot in whole_trial(roster, config) if slot.peer == roster.peers[1])
    every = len(roster.peers)
    return SentSeries(first.date, every, last_series_date(config, first.date, every), first.start.time())


DST_CASES = [  # Havana's autumn of 2025: tzdata 2026f (pytz, khal) and 2025b (this system) differ on 2026
    pytest.param("America/New_York", dt.date(2026, 3, 8), dt.time(2, 30), id="new-york-gap"),
    pytest.param("America/New_York", dt.date(2026, 11, 1), dt.time(1, 30), id="new-york-overlap"),
    pytest.param("Europe/Berlin", dt.date(2026, 3, 29), dt.time(2, 30), id="berlin-gap"),
    pytest.param("Europe/Berlin", dt.date(2026, 3, 29), dt.time(1, 45), id="berlin-across-the-gap"),
    pytest.param("Europe/Berlin", dt.date(2026, 10, 25), dt.time(2, 30), id="berlin-overlap"),
    pytest.param("America/Santiago", dt.date(2026, 9, 6), dt.time(0, 30), id="santiago-gap-at-midnight"),
    pytest.param("America/Santiago", dt.date(2026, 4, 4), dt.time(23, 30), id="santiago-overlap"),
    pytest.param("America/Havana", dt.date(2026, 3, 8), dt.time(0, 30), id="havana-gap-at-midnight"),
    pytest.param("America/Havana", dt.date(2025, 11, 2), dt.time(0, 30), id="havana-overlap-at-midnight"),
    pytest.param("Australia/Lord_Howe", dt.date(2026, 10, 4), dt.time(2, 15), id="lord-howe-30-minute-gap"),
    pytest.param(
        "Australia/Lord_Howe", dt.date(2026, 4, 5), dt.time(1, 45), id="lord-howe-30-minute-overlap"
    ),
    pytest.param("Pacific/Chatham", dt.date(2026, 9, 27), dt.time(3, 0), id="chatham-45-minute-offset-gap"),
    pytest.param(
        "Pacific/Chatham", dt.date(2026, 4, 5), dt.time(3, 0), id="chatham-45-minute-offset-overlap"
    ),
]


def dst_plan(zone: str, day: dt.date, at: dt.time) -> tuple[Settings, Peer, list[rotation.Slot]]:
    """Three weekly meetings at `at`, the middle one on the day of the change."""
    config = make_settings(zone=zone, start=day - dt.timedelta(weeks=2), weekday=day.weekday(), time=at)
    peer = Peer("Ann Lee", config.trial_start, email="ann@example.com")
    days = [day + dt.timedelta(weeks=n) for n in (-1, 0, 1)]
    return config, peer, [real_slot(zone, each, at, peer) for each in days]


def utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC)


def khal_config(folder: Path, db: Path, zone: str | None = None) -> str:
    """khal reading `folder/calendar` as the calendar `peers`, with ISO dates and 24-hour times (and `zone` for
    its local and default time zone when given)."""
    zones = f"local_timezone = {zone}\ndefault_timezone = {zone}\n" if zone else ""
    return f"""[calendars]
[[peers]]
path = {folder / "calendar"}
type = calendar

[locale]
timeformat = %H:%M
dateformat = %Y-%m-%d
longdateformat = %Y-%m-%d
datetimeformat = %Y-%m-%d %H:%M
longdatetimeformat = %Y-%m-%d %H:%M
{zones}
[sqlite]
path = {db}
"""


class Khal:
    """khal with its own config, calendar folder and cache in a temp folder."""

    def __init__(self, folder: Path, zone: str) -> None:
        self.folder, self.zone = folder, zone
        (folder / "calendar").mkdir(parents=True, exist_ok=True)
        self.config = folder / f"khal-{zone.replace('/', '-')}.conf"
        self.config.write_text(
            khal_config(folder, folder / f"khal-{zone.replace('/', '-')}.db", zone), encoding="utf-8"
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

    def meetings(self, start: str = "2025-01-01", end: str = "2027-12-31") -> list[Meeting]:
        """Every occurrence khal lists (a khal in UTC: its times are UTC), once each (khal lists an event on
        every day it touches)."""
        assert self.zone == "UTC"
        out = self.run("list", "--json", "uid", "--json", "start", "--json", "end", start, end)
        found = {
            (
                item["uid"],
                *(dt.datetime.fromisoformat(item[key]).replace(tzinfo=dt.UTC) for key in ("start", "end")),
            )
            for line in out.splitlines()
            for item in json.loads(line)
        }
        return sorted(found)

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


def leader_plan() -> tuple[Roster, list[rotation.Slot]]:
    """A Berlin leader, Tuesdays 08:30, trial from 2026-03-02 (so it crosses the DST change of 2026-03-29)."""
    config = make_settings()
    roster = make_roster(list(INTEROP_PEERS), config)
    return roster, whole_trial(roster, config)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def record_after(
    recorded: dict[str, Recorded], actions: list[Action], answers: list[Applied | Refused]
) -> dict[str, Recorded]:
    """The record once the server answered (as `sync` keeps it, one answer at a time)."""
    record = settled(SyncRecord("url", None, recorded, {}), actions)
    by_uid = {answer.uid: answer for answer in answers}
    for action in actions:
        if action.uid in by_uid:
            record = answered(record, action, by_uid[action.uid])
    return dict(record.recorded)
