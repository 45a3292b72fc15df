"""Dates as people type them (`yesterday`, `tue`, `3 days ago`, `+2w`): one small grammar, stdlib only.

A well-kept library (dateparser, parsedatetime) would cost more start-up time than the weekly commands'
budget allows and would accept forms we could not document; this grammar is the whole of what is accepted.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

Looking = Literal["past", "future"]

DATE_FORMS = (
    "YYYY-MM-DD, today, yesterday, tomorrow, tue, last tue, next tue, 3 days ago, in 2 weeks, -3d, +2w"
)

_WEEKDAYS = {
    "mon": 0, "monday": 0,
    "tue": 1, "tues": 1, "tuesday": 1,
    "wed": 2, "weds": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3,
    "fri": 4, "friday": 4,
    "sat": 5, "saturday": 5,
    "sun": 6, "sunday": 6,
}  # fmt: skip
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_WORDS = {"today": 0, "yesterday": -1, "tomorrow": 1}
_UNIT_DAYS = {"d": 1, "day": 1, "days": 1, "w": 7, "week": 7, "weeks": 7}
# Patterns stay strings: re caches them on first use, so importing this module compiles nothing.
_YEAR_FIRST = r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})"
_YEAR_LAST = r"(\d{1,2})/(\d{1,2})/(\d{4})"
_AGO = r"(\d{1,7}) *([a-z]+) +ago"
_IN = r"in +(\d{1,7}) *([a-z]+)"
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
            return sign * int(found[1]) * _UNIT_DAYS[found[2]]
    return None


def _weekday(text: str, today: dt.date, weekday: int, looking: Looking, strict: bool = False) -> dt.date:
    """The nearest such weekday: in the past today counts unless `strict`; in the future it never does,
    because a future-looking option (`pause --until tue`) set to today would change nothing."""
    if looking == "past":
        back = (today.weekday() - weekday) % 7
        return _shift(text, today, -(back or 7) if strict else -back)
    ahead = (weekday - today.weekday()) % 7
    return _shift(text, today, ahead or 7)


def _shift(text: str, today: dt.date, days: int) -> dt.date:
    try:
        return today + dt.timedelta(days=days)
    except OverflowError:
        from peerloop.core.models import EARLIEST_DAY, LATEST_DAY

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
