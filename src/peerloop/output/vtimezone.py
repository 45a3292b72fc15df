"""A VTIMEZONE from the zone database, with yearly RRULEs wherever the zone's changes follow a yearly rule.

Outlook misreads a VTIMEZONE made of RDATEs (every summer meeting an hour off), so RDATEs are written only for
changes no yearly rule describes. The rules tried, and why, are in docs/calendar.md ("Text, escaping, folding
and time zones").
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple
from zoneinfo import ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

from peerloop.core.models import WEEKDAY_NAMES


class _Observance(NamedTuple):
    offset: dt.timedelta
    name: str


class _Change(NamedTuple):
    at: dt.datetime
    """The first UTC second of the new observance."""
    before: _Observance
    after: _Observance

    @property
    def local_start(self) -> dt.datetime:
        """The wall time at which it happens, in the offset being left (RFC 5545's DTSTART and RRULE)."""
        return (self.at + self.before.offset).replace(tzinfo=None)


class _Run(NamedTuple):
    """One observance: changes of one kind, with the yearly rule they follow (None: DTSTART and RDATEs)."""

    changes: tuple[_Change, ...]
    rule: dict[str, object] | None
    open_ended: bool = False


def _observance(zone: dt.tzinfo, moment: dt.datetime) -> _Observance:
    local = moment.astimezone(zone)
    return _Observance(local.utcoffset() or dt.timedelta(0), local.tzname() or "")


def _changes(zone: dt.tzinfo, start: dt.datetime, end: dt.datetime) -> list[_Change]:
    """Every change of UTC offset or abbreviation between two UTC moments, to the second (two changes less
    than a day apart that undo each other would be missed: tzdata has none since 1970)."""
    found = []
    moment, state = start, _observance(zone, start)
    while moment < end:
        following = min(moment + dt.timedelta(days=1), end)
        if _observance(zone, following) == state:
            moment = following
            continue
        low, high = int(moment.timestamp()), int(following.timestamp())
        while high - low > 1:
            middle = (low + high) // 2
            if _observance(zone, dt.datetime.fromtimestamp(middle, dt.UTC)) == state:
                low = middle
            else:
                high = middle
        at = dt.datetime.fromtimestamp(high, dt.UTC)
        after = _observance(zone, at)
        found.append(_Change(at, state, after))
        moment, state = at, after
    return found


def _days_in(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _fewest_days(month: int) -> int:
    return 28 if month == 2 else _days_in(2001, month)


def _yearly_rule(starts: Sequence[dt.datetime]) -> dict[str, object] | None:
    """A YEARLY RRULE (without COUNT) whose instances in the years of `starts` are exactly `starts` (one a
    year, consecutive years, one month, weekday and time of day), or None. A set of month days must lie in
    the month every year, so that a rule left open stays one day a year."""
    first = starts[0]
    years = [start.year for start in starts]
    if years != list(range(years[0], years[0] + len(years))):
        return None
    if any((s.month, s.weekday(), s.time()) != (first.month, first.weekday(), first.time()) for s in starts):
        return None
    month, code = first.month, WEEKDAY_NAMES[first.weekday()][:2].upper()
    ordinals = {(start.day - 1) // 7 + 1 for start in starts}
    if len(ordinals) == 1 and (ordinal := ordinals.pop()) <= 4:
        return {"FREQ": "YEARLY", "BYMONTH": month, "BYDAY": f"{ordinal}{code}"}
    if all(start.day + 7 > _days_in(start.year, month) for start in starts):
        return {"FREQ": "YEARLY", "BYMONTH": month, "BYDAY": f"-1{code}"}
    low = max(max(start.day for start in starts) - 6, 1)
    if low <= min(min(start.day for start in starts), _fewest_days(month) - 6):
        return {"FREQ": "YEARLY", "BYMONTH": month, "BYDAY": code, "BYMONTHDAY": list(range(low, low + 7))}
    from_end = [start.day - _days_in(start.year, month) - 1 for start in starts]
    low = max(max(from_end) - 6, -_fewest_days(month))
    if low <= min(min(from_end), -7):
        return {"FREQ": "YEARLY", "BYMONTH": month, "BYDAY": code, "BYMONTHDAY": list(range(low, low + 7))}
    return None


def _runs(kind: Sequence[_Change], last_year: int) -> list[_Run]:
    """The longest runs (two years or more) of one kind's changes that a yearly rule describes, in order;
    the changes left over share one observance of RDATEs."""
    runs: list[_Run] = []
    leftover: list[_Change] = []
    index = 0
    while index < len(kind):
        end, rule = index + 1, None
        while end < len(kind) and (found := _yearly_rule([c.local_start for c in kind[index : end + 1]])):
            rule, end = found, end + 1
        if rule is None:
            leftover.append(kind[index])
        else:
            reaches_the_end = end == len(kind) and kind[end - 1].local_start.year >= last_year
            runs.append(_Run(tuple(kind[index:end]), rule, reaches_the_end))
        index = end
    return runs + ([_Run(tuple(leftover), None)] if leftover else [])


def _offset_name(offset: dt.timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    return f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def _part(
    start: dt.datetime, before: _Observance, after: _Observance, *recurrence: tuple[str, object]
) -> TimezoneDaylight | TimezoneStandard:
    part = TimezoneDaylight() if after.offset > before.offset else TimezoneStandard()
    part.add("dtstart", start)
    for name, value in recurrence:
        part.add(name, value)
    part.add("tzoffsetfrom", before.offset)
    part.add("tzoffsetto", after.offset)
    part.add("tzname", after.name or _offset_name(after.offset))
    return part


def vtimezone(zone_name: str, first: dt.date, last: dt.date) -> Timezone:
    """A VTIMEZONE for `zone_name`, right for every moment from `first` to `last` (built from the zone
    database from 1 January of the year before `first` to the end of the year after `last`)."""
    zone = ZoneInfo(zone_name)
    window_start = dt.datetime(first.year - 1, 1, 1, tzinfo=dt.UTC)
    found = _changes(zone, window_start, dt.datetime(last.year + 2, 1, 1, tzinfo=dt.UTC))
    kinds: dict[tuple[_Observance, _Observance], list[_Change]] = {}
    for change in found:
        kinds.setdefault((change.before, change.after), []).append(change)
    runs = sorted(
        (run for kind in kinds.values() for run in _runs(kind, last.year + 1)),
        key=lambda run: run.changes[0].at,
    )
    timezone = Timezone()
    timezone.add("tzid", zone_name)
    if not runs or runs[0].changes[0] is not found[0] or runs[0].rule is None:
        initial = _observance(zone, window_start)
        start = (window_start + initial.offset).replace(tzinfo=None)
        timezone.add_component(_part(start, initial, initial))
    for run in runs:
        head, *rest = run.changes
        recurrence: list[tuple[str, object]] = []
        if run.rule is not None:
            recurrence.append(("rrule", run.rule if run.open_ended else {**run.rule, "COUNT": len(rest) + 1}))
        elif rest:
            recurrence.append(("rdate", [change.local_start for change in rest]))
        timezone.add_component(_part(head.local_start, head.before, head.after, *recurrence))
    return timezone
