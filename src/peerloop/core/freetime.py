"""Busy time and moving a weekly slot around it (docs/calendar.md). Pure: no clock, no I/O.

Lengths are real time (a 60-minute meeting lasts 60 minutes across a DST change), meeting hours wall times in
the leader's zone; all arithmetic is done in UTC, where `b - a` is real time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from peerloop.core.connections import FreeTime
from peerloop.core.models import WEEKDAYS

UTC = dt.UTC
_DAY = dt.timedelta(days=1)


class Busy(NamedTuple):
    """One busy interval: aware start and end, and the event's summary when the leader allows keeping it."""

    start: dt.datetime
    end: dt.datetime
    summary: str | None = None


class Placement(NamedTuple):
    """Where the week's slot ends up: kept as it is, moved (with why), or flagged when the week has no room."""

    start: dt.datetime
    end: dt.datetime
    moved_from: dt.datetime | None = None
    """The original start, in the leader's zone, when the slot was moved."""
    reason: str | None = None
    """One line for the leader: "moved from Tue 08:30: Board meeting", or why no free time was found."""
    no_free_time: bool = False
    """True when the slot is busy and nothing of the same length is free in that week: it stays, flagged."""


def place(
    start: dt.datetime,
    end: dt.datetime,
    busy: Iterable[Busy],
    hours: FreeTime,
    zone: dt.tzinfo,
    *,
    not_before: dt.datetime | None = None,
) -> Placement:
    """Keep the slot [start, end) if it is free, else move it to the free time of its length in its ISO week
    nearest to it: the same day (later on a tie), the following days, then the earlier ones (nearest first).

    `not_before` (aware) keeps a move out of the past: in the current week, pass the current time.
    """
    if hours.start >= hours.end:
        raise ValueError(
            f"meeting hours must start before they end (got {hours.start:%H:%M}-{hours.end:%H:%M})"
        )
    slot_start, slot_end = start.astimezone(UTC), end.astimezone(UTC)
    length = slot_end - slot_start
    if length <= dt.timedelta(0):
        raise ValueError(f"a slot must end after it starts (got {start.isoformat()} to {end.isoformat()})")
    local = start.astimezone(zone)
    monday = local.date() - dt.timedelta(days=local.weekday())
    week_from = _utc(monday, dt.time(0), zone)
    week_to = _utc(monday + 7 * _DAY, dt.time(0), zone)
    in_week = [
        (b.start.astimezone(UTC), b.end.astimezone(UTC), b.summary)
        for b in busy
        if b.start < week_to and week_from < b.end
    ]
    blockers = sorted(
        ((s, e, what) for s, e, what in in_week if s < slot_end and slot_start < e), key=lambda b: b[:2]
    )
    if not blockers:
        return Placement(start=start, end=end)
    what = next((summary for _, _, summary in blockers if summary), None)
    when = f"{WEEKDAYS[local.weekday()].capitalize()} {local:%H:%M}"
    blocks = sorted((s, e) for s, e, _ in in_week)
    earliest = not_before.astimezone(UTC) if not_before is not None else None
    for day in _days_in_order(local.date(), monday):
        if day.weekday() not in hours.days:
            continue
        found = _best_start(day, local.time(), length, blocks, hours, zone, earliest)
        if found is not None:
            return Placement(
                start=found.astimezone(zone),
                end=(found + length).astimezone(zone),
                moved_from=local,
                reason=f"moved from {when}: {what or 'busy'}",
            )
    return Placement(
        start=start,
        end=end,
        reason=f"no free time that week within meeting hours; {when}: {what or 'busy'}",
        no_free_time=True,
    )


def _utc(day: dt.date, wall: dt.time, zone: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)


def _days_in_order(day: dt.date, monday: dt.date) -> list[dt.date]:
    """The slot's day, the following days of its week, then the earlier ones, nearest first."""
    offset = (day - monday).days
    later = [day + n * _DAY for n in range(7 - offset)]
    earlier = [day - n * _DAY for n in range(1, offset + 1)]
    return later + earlier


def _best_start(
    day: dt.date,
    wall: dt.time,
    length: dt.timedelta,
    blocks: Sequence[tuple[dt.datetime, dt.datetime]],
    hours: FreeTime,
    zone: dt.tzinfo,
    earliest: dt.datetime | None,
) -> dt.datetime | None:
    """The free start on `day` nearest to the wall time `wall` (the later one on a tie), or None."""
    low, high = _utc(day, hours.start, zone), _utc(day, hours.end, zone)
    if earliest is not None:
        low = max(low, earliest)
    target = _utc(day, wall, zone)
    best: dt.datetime | None = None
    for free_from, free_to in _free(low, high, blocks):
        if free_to - free_from >= length:
            candidate = min(max(target, free_from), free_to - length)
            if best is None or abs(candidate - target) <= abs(best - target):
                best = candidate
    return best


def _free(
    low: dt.datetime, high: dt.datetime, blocks: Sequence[tuple[dt.datetime, dt.datetime]]
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The free stretches of [low, high) between the busy blocks (sorted by start; they may overlap)."""
    free: list[tuple[dt.datetime, dt.datetime]] = []
    cursor = low
    for block_from, block_to in blocks:
        if block_from >= high:
            break
        if block_from > cursor:
            free.append((cursor, block_from))
        cursor = max(cursor, block_to)
    if cursor < high:
        free.append((cursor, high))
    return free


def busy_to_toml(busy: Iterable[Busy]) -> list[dict[str, Any]]:
    """The cache's `[[busy]]` tables, in UTC and in order; a summary only when the record carries one."""
    rows: list[dict[str, Any]] = []
    for item in sorted(busy, key=lambda b: (b.start.astimezone(UTC), b.end.astimezone(UTC))):
        row: dict[str, Any] = {"start": item.start.astimezone(UTC), "end": item.end.astimezone(UTC)}
        if item.summary is not None:
            row["summary"] = item.summary
        rows.append(row)
    return rows


def busy_from_toml(data: object) -> list[Busy]:
    """Read back what `busy_to_toml` wrote; ValueError names the entry and what is wrong with it."""
    if not isinstance(data, list):
        raise ValueError("'busy' must be a list of [[busy]] tables")
    result: list[Busy] = []
    for number, row in enumerate(data, start=1):
        if not isinstance(row, dict):
            raise ValueError(f"busy entry {number} must be a table with start and end")
        start, end = _moment(row, "start", number), _moment(row, "end", number)
        if end <= start:
            raise ValueError(
                f"busy entry {number}: end {end.isoformat()} is not after start {start.isoformat()}"
            )
        summary = row.get("summary")
        if summary is not None and not isinstance(summary, str):
            raise ValueError(f"busy entry {number}: 'summary' must be text in quotes")
        result.append(Busy(start, end, summary))
    return result


def _moment(row: dict[str, Any], key: str, number: int) -> dt.datetime:
    value = row.get(key)
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise ValueError(
            f"busy entry {number}: '{key}' must be a date-time with a UTC offset, like 2026-03-17T07:30:00Z"
        )
    return value if value.tzinfo is UTC else value.astimezone(UTC)
