"""Dates as people type them (`yesterday`, `tue`, `Jan 5`, `a week ago`, `+2w`): one small grammar, stdlib
only, the whole of what is accepted. docs/journal.md lists the forms, and says why not parsedatetime.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from peerloop.core.models import EARLIEST_DAY, LATEST_DAY, WEEKDAY_NAMES

Looking = Literal["past", "future", "onward"]
"""Which way a date without a year (or a bare weekday) points: back (today included), ahead (today excluded:
`pause --until`), or ahead from today (today included: a trial's start, whose default is today)."""

DATE_FORMS = (
    "YYYY-MM-DD, Jan 5, 5 Jan 2027, today, yesterday, tue, last tue, next tue, a week ago, in 2 weeks, +2w"
)

_WEEKDAYS = {form: n for n, name in enumerate(WEEKDAY_NAMES) for form in (name.lower(), name[:3].lower())}
_WEEKDAYS |= {"tues": 1, "weds": 2, "thur": 3, "thurs": 3}
"""The weekdays as people type them, from the one table (`core.models.WEEKDAY_NAMES`)."""
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_MONTH_KEYS = {name.lower()[:3]: n for n, name in enumerate(_MONTHS, start=1)} | {"sept": 9}
_WORDS = {"today": 0, "yesterday": -1, "tomorrow": 1}
_UNIT_DAYS = {"d": 1, "day": 1, "days": 1, "w": 7, "week": 7, "weeks": 7}
_ONE = {"a": 1, "an": 1, "one": 1}
# Patterns stay strings: re caches them on first use, so importing this module compiles nothing.
_YEAR_FIRST = r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})"
_YEAR_LAST = r"(\d{1,2})/(\d{1,2})/(\d{4})"
_AGO = r"(\d{1,7}|an?|one) *([a-z]+) +ago"
_IN = r"in +(\d{1,7}|an?|one) *([a-z]+)"
_MONTH_DAY = r"([a-z]+)\.? +(\d{1,2})(?:(?:st|nd|rd|th)?,? +(\d{4}))?"
_DAY_MONTH = r"(\d{1,2})(?:st|nd|rd|th)? +([a-z]+)\.?(?:,? +(\d{4}))?"
_SHORT = r"([+-])(\d{1,7}) *([dw])"


def parse_day(text: str, today: dt.date, looking: Looking) -> dt.date:
    """The date `text` names, counted from `today`; `looking` says which way a bare weekday points."""
    key = " ".join(text.strip().lower().split())
    if key in _WORDS:
        return _shift(text, today, _WORDS[key])
    if key in _WEEKDAYS:
        return _weekday(text, today, _WEEKDAYS[key], looking)
    first, _, rest = key.partition(" ")
    if first in ("last", "next") and rest in _WEEKDAYS:
        return _weekday(text, today, _WEEKDAYS[rest], "past" if first == "last" else "future", strict=True)
    relative = _relative(key)
    if relative is not None:
        return _shift(text, today, relative)
    if found := re.fullmatch(_YEAR_FIRST, key):
        year, month, day = (int(part) for part in found.groups())
        return _calendar_date(text, year, month, day)
    if found := re.fullmatch(_YEAR_LAST, key):
        return _day_or_month_first(text, *(int(part) for part in found.groups()))
    named = _named_month(key)
    if named is not None:
        month, day_of_month, in_year = named
        if in_year is not None:
            return _calendar_date(text, in_year, month, day_of_month)
        return _nearest(text, today, month, day_of_month, looking)
    try:
        return dt.date.fromisoformat(key.upper())  # the other ISO 8601 forms: 20270112, 2026-W53-5
    except ValueError:
        raise ValueError(f"{text!r} is not a date; use {DATE_FORMS}") from None


def _relative(key: str) -> int | None:
    """Days from today for `3 days ago`, `in 2 weeks`, `-3d`, `+2w`; None when `key` is not one."""
    if found := re.fullmatch(_SHORT, key):
        sign, count, unit = found.groups()
        return (-1 if sign == "-" else 1) * int(count) * _UNIT_DAYS[unit]
    for pattern, sign in ((_AGO, -1), (_IN, 1)):
        if (found := re.fullmatch(pattern, key)) and found[2] in _UNIT_DAYS:
            count = _ONE.get(found[1]) or int(found[1])
            return sign * count * _UNIT_DAYS[found[2]]
    return None


def _named_month(key: str) -> tuple[int, int, int | None] | None:
    """(month, day, year or None) for `jan 5`, `january 5, 2027`, `5 jan`, `5th jan 2027`; None otherwise."""
    if found := re.fullmatch(_MONTH_DAY, key):
        word, day, year = found.groups()
    elif found := re.fullmatch(_DAY_MONTH, key):
        day, word, year = found.groups()
    else:
        return None
    month = _MONTH_KEYS.get(word[:3])
    if month is None or len(word) < 3 or not (_MONTHS[month - 1].lower().startswith(word) or word == "sept"):
        return None
    return month, int(day), int(year) if year else None


def _nearest(text: str, today: dt.date, month: int, day: int, looking: Looking) -> dt.date:
    """A month and day without a year: the last such date (today included) for an option that looks back,
    the next one after today for one that looks ahead; `onward` (a trial's start) from this week's Monday on,
    so "Jan 4" typed on Tuesday 5 January is this week's Monday, not next year's. A day no year has (Feb 30)
    is refused."""
    monday = today - dt.timedelta(days=today.weekday())
    years = (
        range(today.year, today.year - 9, -1) if looking == "past" else range(today.year - 1, today.year + 9)
    )
    for year in years:
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            continue
        if {"past": candidate <= today, "future": candidate > today, "onward": candidate >= monday}[looking]:
            return candidate
    return _calendar_date(text, today.year, month, day)


def _weekday(text: str, today: dt.date, weekday: int, looking: Looking, strict: bool = False) -> dt.date:
    """The nearest such weekday: in the past today counts unless `strict`; in the future it never does,
    because a future-looking option (`pause --until tue`) set to today would change nothing; onward it does
    (a trial starting `mon`, typed on a Monday, starts today)."""
    if looking == "past":
        back = (today.weekday() - weekday) % 7
        return _shift(text, today, -(back or 7) if strict else -back)
    ahead = (weekday - today.weekday()) % 7
    return _shift(text, today, ahead if ahead or looking == "onward" else 7)


def _shift(text: str, today: dt.date, days: int) -> dt.date:
    try:
        return today + dt.timedelta(days=days)
    except OverflowError:
        raise ValueError(
            f"{text!r} is outside the years peerloop keeps ({EARLIEST_DAY.year} to {LATEST_DAY.year})"
        ) from None


def _calendar_date(text: str, year: int, month: int, day: int) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        if not 1 <= month <= 12:
            reason = f"there is no month {month}"
        elif year == 0:
            reason = "there is no year 0"
        else:
            reason = f"{_MONTHS[month - 1]} {year} has no day {day}"
        raise ValueError(f"{text!r} is not a date: {reason}; use YYYY-MM-DD, e.g. 2027-01-12") from None


def _day_or_month_first(text: str, first: int, second: int, year: int) -> dt.date:
    """12/03/2027 is 12 March in most of the world and 3 December in the US: read it only when one
    reading is a real date (or both are the same date), else name both and ask for YYYY-MM-DD."""
    readings = []
    for day, month in ((first, second), (second, first)):
        try:
            readings.append(dt.date(year, month, day))
        except ValueError:
            continue
    if len(set(readings)) == 1:
        return readings[0]
    if not readings:
        raise ValueError(f"{text!r} is not a date; use YYYY-MM-DD, e.g. 2027-01-12")
    day_first, month_first = readings
    raise ValueError(
        f"{text!r} could be {_spoken(day_first)} or {_spoken(month_first)}; write it as YYYY-MM-DD "
        f"({day_first.isoformat()} or {month_first.isoformat()})"
    )


def _spoken(day: dt.date) -> str:
    """`12 March 2027`: English month names, whatever the locale (strftime's %B follows it)."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
