"""The VTIMEZONE in every calendar file: yearly RRULEs wherever a zone's changes follow one (Outlook misreads
RDATEs), RDATEs only for changes no rule describes, and right at every change, read back from the text by
two readers: an RFC 5545 expansion written here (dateutil for the RRULE arithmetic) and icalendar's own.
The slow lane checks every zone of the zone database over ten years."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from zoneinfo import ZoneInfo

import pytest
from dateutil import rrule
from icalendar import Timezone

from peerloop.output.vtimezone import vtimezone

SECOND = dt.timedelta(seconds=1)
TWO_YEARS = (dt.date(2026, 3, 2), dt.date(2027, 9, 2))
TEN_YEARS = (dt.date(2026, 1, 1), dt.date(2035, 12, 31))


def text_of(zone: str, first: dt.date, last: dt.date) -> bytes:
    data: bytes = vtimezone(zone, first, last).to_ical(sorted=False)
    return data


def lines_of(zone: str, first: dt.date = TWO_YEARS[0], last: dt.date = TWO_YEARS[1]) -> list[str]:
    return text_of(zone, first, last).decode().replace("\r\n ", "").split("\r\n")[:-1]


def zone_changes(zone: dt.tzinfo, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """The instants the zone database changes offset, found here on their own: a probe every 6 hours, then
    bisection to the second."""
    found = []
    moment, offset = start, start.astimezone(zone).utcoffset()
    while moment < end:
        following = min(moment + dt.timedelta(hours=6), end)
        if following.astimezone(zone).utcoffset() == offset:
            moment = following
            continue
        low, high = int(moment.timestamp()), int(following.timestamp())
        while high - low > 1:
            middle = (low + high) // 2
            if dt.datetime.fromtimestamp(middle, dt.UTC).astimezone(zone).utcoffset() == offset:
                low = middle
            else:
                high = middle
        moment = dt.datetime.fromtimestamp(high, dt.UTC)
        found.append(moment)
        offset = moment.astimezone(zone).utcoffset()
    return found


def onsets(component: Timezone, until: dt.datetime) -> list[tuple[dt.datetime, dt.timedelta]]:
    """RFC 5545 3.6.5, read from the text: each observance's onsets (DTSTART, the RRULE's instances, the
    RDATEs, as local times in TZOFFSETFROM) as UTC instants, with the offset each one starts."""
    found = []
    horizon = (until + dt.timedelta(days=2)).replace(tzinfo=None)
    for part in component.subcomponents:
        start = part.decoded("DTSTART")
        offset_from, offset_to = part.decoded("TZOFFSETFROM"), part.decoded("TZOFFSETTO")
        local = [start]
        if "RRULE" in part:
            rule = rrule.rrulestr(part["RRULE"].to_ical().decode(), dtstart=start)
            local = list(rule.between(start, horizon, inc=True))
            assert local[0] == start, "DTSTART is the rule's first instance (RFC 5545 3.6.5)"
        rdates = part.get("RDATE", [])
        for rdate in rdates if isinstance(rdates, list) else [rdates]:
            local += [value.dt for value in rdate.dts]
        found += [((moment - offset_from).replace(tzinfo=dt.UTC), offset_to) for moment in local]
    return sorted(found)


def misread(zone_name: str, data: bytes, first: dt.date, last: dt.date) -> list[str]:
    """Every instant, from `first` to the end of `last`, at which either reader of the VTIMEZONE text gives
    another UTC offset than the zone database: each change and the second before it, each onset the text
    declares and the second before it, and midnight UTC of every day."""
    zone = ZoneInfo(zone_name)
    start = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    component = Timezone.from_ical(data)
    declared = onsets(component, end)
    changes = zone_changes(zone, start, end)
    instants = {start, *changes, *(moment - SECOND for moment in changes)}
    instants |= {at + step for at, _ in declared if start <= at < end for step in (-SECOND, dt.timedelta(0))}
    instants |= {start + dt.timedelta(days=n) for n in range((end - start).days)}
    wrong = []
    for instant in sorted(instants):
        offset = next((to for at, to in reversed(declared) if at <= instant), None)
        if offset != instant.astimezone(zone).utcoffset():
            wrong.append(f"{instant:%Y-%m-%dT%H:%M:%SZ}: the RFC reading gives {offset}")
    read_by_icalendar = component.to_tz(lookup_tzid=False)  # without the lookup it reads the text
    assert not isinstance(read_by_icalendar, ZoneInfo)
    for instant in sorted({start, *changes, *(moment - SECOND for moment in changes)}):
        offset = instant.astimezone(read_by_icalendar).utcoffset()
        if offset != instant.astimezone(zone).utcoffset():
            wrong.append(f"{instant:%Y-%m-%dT%H:%M:%SZ}: icalendar reads {offset}")
    return wrong


@pytest.mark.parametrize(
    ("zone", "rules"),
    [
        (
            "America/Santiago",
            ["RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=4", "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=9"],
        ),
        (
            "America/Nuuk",
            ["RRULE:FREQ=YEARLY;BYDAY=-1SA;BYMONTH=3", "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10"],
        ),
        (
            "Asia/Jerusalem",
            ["RRULE:FREQ=YEARLY;BYDAY=4FR;BYMONTH=3", "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10"],
        ),
        (
            "Africa/Cairo",
            ["RRULE:FREQ=YEARLY;BYDAY=-1FR;BYMONTH=4", "RRULE:FREQ=YEARLY;BYDAY=-1FR;BYMONTH=10"],
        ),
    ],
)
def test_zones_whose_rule_is_not_an_nth_weekday_get_yearly_rules_over_two_years(
    zone: str, rules: list[str]
) -> None:
    """Santiago, Nuuk, Jerusalem and Cairo came out as RDATEs only over an export's two years."""
    lines = lines_of(zone)
    assert not [line for line in lines if line.startswith("RDATE")]
    assert [line for line in lines if line.startswith("RRULE")] == rules
    assert misread(zone, text_of(zone, *TWO_YEARS), *TWO_YEARS) == []


@pytest.mark.parametrize(
    ("zone", "rules"),
    [
        ("America/Santiago", ["RRULE:FREQ=YEARLY;BYDAY=SU;BYMONTHDAY=2,3,4,5,6,7,8;BYMONTH=4",
                              "RRULE:FREQ=YEARLY;BYDAY=SU;BYMONTHDAY=2,3,4,5,6,7,8;BYMONTH=9"]),
        ("America/Nuuk", ["RRULE:FREQ=YEARLY;BYDAY=SA;BYMONTHDAY=24,25,26,27,28,29,30;BYMONTH=3",
                          "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10"]),
        ("Asia/Jerusalem", ["RRULE:FREQ=YEARLY;BYDAY=FR;BYMONTHDAY=23,24,25,26,27,28,29;BYMONTH=3",
                            "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10"]),
    ],
)  # fmt: skip
def test_a_weekday_in_a_seven_day_set_is_one_yearly_rule_over_ten_years(zone: str, rules: list[str]) -> None:
    """Over ten years "the Friday before the last Sunday" is no n-th or last Friday: BYDAY with BYMONTHDAY."""
    lines = lines_of(zone, *TEN_YEARS)
    assert not [line for line in lines if line.startswith("RDATE")]
    assert [line for line in lines if line.startswith("RRULE")] == rules
    assert misread(zone, text_of(zone, *TEN_YEARS), *TEN_YEARS) == []


def test_cairo_gets_a_lone_onset_only_for_the_year_its_change_falls_in_november() -> None:
    """The day after the last Thursday of October is 1 November when 31 October is a Thursday (2030): that
    change is an observance of its own, and the yearly rule starts again after it."""
    lines = lines_of("Africa/Cairo", *TEN_YEARS)
    assert [line for line in lines if line.startswith(("DTSTART", "RRULE", "RDATE"))] == [
        "DTSTART:20250425T000000", "RRULE:FREQ=YEARLY;BYDAY=-1FR;BYMONTH=4",
        "DTSTART:20251031T000000", "RRULE:FREQ=YEARLY;COUNT=5;BYDAY=-1FR;BYMONTH=10",
        "DTSTART:20301101T000000",
        "DTSTART:20311031T000000", "RRULE:FREQ=YEARLY;BYDAY=-1FR;BYMONTH=10",
    ]  # fmt: skip
    assert misread("Africa/Cairo", text_of("Africa/Cairo", *TEN_YEARS), *TEN_YEARS) == []


def test_changes_that_follow_ramadan_are_rdates() -> None:
    lines = lines_of("Africa/Casablanca")
    assert not [line for line in lines if line.startswith("RRULE")]
    assert [line for line in lines if line.startswith("RDATE")]
    assert misread("Africa/Casablanca", text_of("Africa/Casablanca", *TWO_YEARS), *TWO_YEARS) == []


def test_berlin_is_two_yearly_rules_as_outlook_writes_them() -> None:
    assert lines_of("Europe/Berlin") == [
        "BEGIN:VTIMEZONE", "TZID:Europe/Berlin",
        "BEGIN:DAYLIGHT", "DTSTART:20250330T020000", "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3",
        "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "TZNAME:CEST", "END:DAYLIGHT",
        "BEGIN:STANDARD", "DTSTART:20251026T030000", "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10",
        "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "TZNAME:CET", "END:STANDARD",
        "END:VTIMEZONE",
    ]  # fmt: skip


def test_a_zone_without_changes_is_one_standard_observance() -> None:
    assert lines_of("Asia/Kolkata") == [
        "BEGIN:VTIMEZONE", "TZID:Asia/Kolkata", "BEGIN:STANDARD", "DTSTART:20250101T053000",
        "TZOFFSETFROM:+0530", "TZOFFSETTO:+0530", "TZNAME:IST", "END:STANDARD", "END:VTIMEZONE",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "zone",
    ["America/New_York", "Australia/Sydney", "Australia/Lord_Howe", "Pacific/Chatham", "America/Havana",
     "Europe/Dublin", "America/St_Johns", "America/Asuncion", "Asia/Gaza", "Antarctica/Troll", "UTC"],
)  # fmt: skip
def test_zones_north_and_south_with_odd_and_negative_dst_agree_with_the_zone_database(zone: str) -> None:
    assert misread(zone, text_of(zone, *TWO_YEARS), *TWO_YEARS) == []


def test_the_check_finds_a_rule_one_day_off_and_an_onset_an_hour_late() -> None:
    """The readers above can fail: a wrong BYMONTHDAY set or DTSTART is caught."""
    good = text_of("Asia/Jerusalem", *TEN_YEARS)
    day_off = good.replace(b"BYMONTHDAY=23,24,25,26,27,28,29", b"BYMONTHDAY=24,25,26,27,28,29,30")
    hour_late = good.replace(b"DTSTART:20251026T020000", b"DTSTART:20251026T030000")
    assert good not in (day_off, hour_late)
    assert misread("Asia/Jerusalem", day_off, *TEN_YEARS)
    assert misread("Asia/Jerusalem", hour_late, *TEN_YEARS)


@pytest.mark.slow
def test_every_zone_of_the_zone_database_is_right_at_every_change_over_ten_years() -> None:
    """All of `zoneinfo.available_timezones()`, 2026 to 2035."""
    wrong = {}
    for zone in sorted(zoneinfo.available_timezones()):
        found = misread(zone, text_of(zone, *TEN_YEARS), *TEN_YEARS)
        if found:
            wrong[zone] = found[:3]
    assert wrong == {}
