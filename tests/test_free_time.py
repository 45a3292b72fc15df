"""Moving the weekly slot around busy time: exact moves, DST lengths, and the busy cache's TOML shape."""

from __future__ import annotations

import datetime as dt
import tomllib
from zoneinfo import ZoneInfo

import pytest
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from peerloop.core.connections import FreeTime
from peerloop.core.freetime import Busy, Placement, busy_from_toml, busy_to_toml, place

BERLIN = ZoneInfo("Europe/Berlin")
UTC = dt.UTC
WEEK = dt.date(2026, 3, 16)  # Monday; Tuesday 17 March is the leader's slot day
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "Mon+")


def at(text: str, week: dt.date = WEEK) -> dt.datetime:
    """'Tue 08:30' in the week, in Berlin; 'Mon+ 00:00' is the next Monday; an ISO text is taken as it is."""
    if text[:1].isdigit():
        return dt.datetime.fromisoformat(text)
    day, clock = text.split()
    hour, minute = map(int, clock.split(":"))
    return dt.datetime.combine(
        week + dt.timedelta(days=DAYS.index(day)), dt.time(hour, minute), tzinfo=BERLIN
    )


def busy(*spans: tuple[str, str] | tuple[str, str, str]) -> list[Busy]:
    return [Busy(at(span[0]), at(span[1]), span[2] if len(span) == 3 else None) for span in spans]


def later(moment: dt.datetime, hours: int) -> dt.datetime:
    """Real time later (an aware `+` in one zone adds wall time)."""
    return (moment.astimezone(UTC) + dt.timedelta(hours=hours)).astimezone(BERLIN)


def wall(moment: dt.datetime) -> str:
    local = moment.astimezone(BERLIN)
    return f"{DAYS[local.weekday()]} {local:%H:%M}"


WEEKDAYS_ONLY = FreeTime()
NO_WEDNESDAY = FreeTime(days=frozenset({0, 1, 3, 4}))
FROM_SEVEN = FreeTime(start=dt.time(7, 0))

# (slot start, minutes, busy, hours, expected start or None when kept, expected reason)
MOVES = {
    "free": ("Tue 08:30", 60, [], WEEKDAYS_ONLY, None, None),
    "touching-before": ("Tue 08:30", 60, busy(("Tue 07:30", "Tue 08:30", "Gym")), WEEKDAYS_ONLY, None, None),
    "touching-after": ("Tue 08:30", 60, busy(("Tue 09:30", "Tue 10:00", "1:1")), WEEKDAYS_ONLY, None, None),
    "other-day": ("Tue 08:30", 60, busy(("Wed 08:30", "Wed 09:30", "1:1")), WEEKDAYS_ONLY, None, None),
    "later-is-nearer": (
        "Tue 08:30", 60, busy(("Tue 08:00", "Tue 09:00", "Board meeting")), WEEKDAYS_ONLY,
        "Tue 09:00", "moved from Tue 08:30: Board meeting",
    ),
    "earlier-is-nearer": (
        "Tue 08:30", 60, busy(("Tue 09:00", "Tue 12:00", "Offsite prep")), WEEKDAYS_ONLY,
        "Tue 08:00", "moved from Tue 08:30: Offsite prep",
    ),
    "summary-unknown": (
        "Tue 08:30", 60, busy(("Tue 08:30", "Tue 10:00")), WEEKDAYS_ONLY, "Tue 10:00", "moved from Tue 08:30: busy",
    ),
    "same-time-in-two-feeds": (
        "Tue 08:30", 60, busy(("Tue 08:00", "Tue 09:00"), ("Tue 08:00", "Tue 09:00", "Board meeting")),
        WEEKDAYS_ONLY, "Tue 09:00", "moved from Tue 08:30: Board meeting",
    ),
    "tie-goes-later": (
        "Tue 08:30", 60, busy(("Tue 08:30", "Tue 09:30", "Call")), FROM_SEVEN, "Tue 09:30",
        "moved from Tue 08:30: Call",
    ),
    "overlapping-busy-merge": (
        "Tue 08:30", 60, busy(("Tue 08:45", "Tue 10:00", "B"), ("Tue 08:00", "Tue 09:00", "A")), WEEKDAYS_ONLY,
        "Tue 10:00", "moved from Tue 08:30: A",
    ),
    "fits-exactly-at-end-of-hours": (
        "Tue 08:30", 60, busy(("Tue 08:00", "Tue 17:00", "Workshop")), WEEKDAYS_ONLY, "Tue 17:00",
        "moved from Tue 08:30: Workshop",
    ),
    "too-late-in-the-day": (
        "Tue 08:30", 60, busy(("Tue 08:00", "Tue 17:30", "Workshop")), WEEKDAYS_ONLY, "Wed 08:30",
        "moved from Tue 08:30: Workshop",
    ),
    "gap-too-short": (
        "Tue 08:30", 60, busy(("Tue 08:00", "Tue 09:00"), ("Tue 09:40", "Tue 18:00", "Review")), WEEKDAYS_ONLY,
        "Wed 08:30", "moved from Tue 08:30: busy",
    ),
    "all-day-holiday": (
        "Tue 08:30", 60, busy(("Tue 00:00", "Wed 00:00", "Holiday")), WEEKDAYS_ONLY, "Wed 08:30",
        "moved from Tue 08:30: Holiday",
    ),
    "next-day-nearest-free": (
        "Tue 08:30", 60, busy(("Tue 00:00", "Wed 00:00", "Holiday"), ("Wed 08:00", "Wed 12:00", "Audit")),
        WEEKDAYS_ONLY, "Wed 12:00", "moved from Tue 08:30: Holiday",
    ),
    "skips-days-outside-hours": (
        "Tue 08:30", 60, busy(("Tue 00:00", "Wed 00:00", "Holiday")), NO_WEDNESDAY, "Thu 08:30",
        "moved from Tue 08:30: Holiday",
    ),
    "earlier-day-when-rest-of-week-busy": (
        "Tue 08:30", 60, busy(("Tue 00:00", "Sat 00:00", "Trip")), WEEKDAYS_ONLY, "Mon 08:30",
        "moved from Tue 08:30: Trip",
    ),
    "friday-falls-back-to-thursday": (
        "Fri 16:00", 45, busy(("Fri 00:00", "Sat 00:00", "Off")), WEEKDAYS_ONLY, "Thu 16:00",
        "moved from Fri 16:00: Off",
    ),
    "busy-given-in-utc": (
        "Tue 08:30", 60, busy(("2026-03-17T07:00:00+00:00", "2026-03-17T08:00:00+00:00", "Board meeting")),
        WEEKDAYS_ONLY, "Tue 09:00", "moved from Tue 08:30: Board meeting",
    ),
    "slot-outside-hours-kept-when-free": ("Tue 07:00", 60, [], WEEKDAYS_ONLY, None, None),
    "slot-outside-hours-moves-into-them": (
        "Tue 07:00", 60, busy(("Tue 06:30", "Tue 07:30", "Run")), WEEKDAYS_ONLY, "Tue 08:00",
        "moved from Tue 07:00: Run",
    ),
}  # fmt: skip


@pytest.mark.parametrize(
    ("slot", "minutes", "blocked", "hours", "expected", "reason"), MOVES.values(), ids=MOVES.keys()
)
def test_slot_moves_to_nearest_free_time_of_the_week(
    slot: str,
    minutes: int,
    blocked: list[Busy],
    hours: FreeTime,
    expected: str | None,
    reason: str | None,
) -> None:
    start = at(slot)
    end = start + dt.timedelta(minutes=minutes)
    result = place(start, end, blocked, hours, BERLIN)
    if expected is None:
        assert result == Placement(start=start, end=end)
        assert result.moved_from is None
        return
    assert (wall(result.start), result.end - result.start) == (expected, dt.timedelta(minutes=minutes))
    assert result.moved_from == start
    assert result.reason == reason
    assert not result.no_free_time


def test_busy_week_is_flagged_and_the_slot_stays() -> None:
    start, end = at("Tue 08:30"), at("Tue 09:30")
    result = place(start, end, busy(("Mon 00:00", "Mon+ 00:00", "Conference")), WEEKDAYS_ONLY, BERLIN)
    assert result == Placement(
        start=start,
        end=end,
        reason="no free time that week within meeting hours; Tue 08:30: Conference",
        no_free_time=True,
    )
    assert result.moved_from is None


def test_a_move_never_leaves_the_iso_week() -> None:
    """The next Monday is free, but a move never leaves the ISO week."""
    result = place(
        at("Tue 08:30"), at("Tue 09:30"), busy(("Mon 00:00", "Sat 00:00", "Trip")), WEEKDAYS_ONLY, BERLIN
    )
    assert result.no_free_time


def test_not_before_keeps_the_move_out_of_the_past() -> None:
    blocked = busy(("Tue 00:00", "Wed 00:00", "Holiday"))
    result = place(
        at("Tue 08:30"), at("Tue 09:30"), blocked, WEEKDAYS_ONLY, BERLIN, not_before=at("Wed 10:05")
    )
    assert wall(result.start) == "Wed 10:05"
    trip = busy(("Tue 00:00", "Sat 00:00", "Trip"))
    late = place(at("Tue 08:30"), at("Tue 09:30"), trip, WEEKDAYS_ONLY, BERLIN, not_before=at("Tue 12:00"))
    assert late.no_free_time


def test_reason_names_the_time_in_the_leaders_zone() -> None:
    start = at("Tue 08:30").astimezone(UTC)
    result = place(
        start, start + dt.timedelta(hours=1), busy(("Tue 08:00", "Tue 09:00")), WEEKDAYS_ONLY, BERLIN
    )
    assert result.reason == "moved from Tue 08:30: busy"
    assert result.start == at("Tue 09:00")
    assert result.start.tzinfo is BERLIN


def test_length_is_real_time_when_clocks_spring_forward() -> None:
    """Sun 29 March 2026: 00:00-04:00 on the wall is 3 real hours, too little after a call until 01:30."""
    week = dt.date(2026, 3, 23)
    nights = FreeTime(days=frozenset(range(7)), start=dt.time(0, 0), end=dt.time(4, 0))
    start = at("Sun 01:00", week)
    result = place(start, later(start, 2), busy(), nights, BERLIN)
    assert result.start == start
    blocked = [Busy(at("Sun 00:30", week), at("Sun 01:30", week), "Night call")]
    result = place(start, later(start, 2), blocked, nights, BERLIN)
    assert (result.start.isoformat(), result.end.isoformat()) == (
        "2026-03-28T01:00:00+01:00",
        "2026-03-28T03:00:00+01:00",
    )


def test_length_is_real_time_when_clocks_fall_back() -> None:
    """Sun 25 October 2026: two real hours from 01:00 summer time end at 02:00 winter time."""
    week = dt.date(2026, 10, 19)
    nights = FreeTime(days=frozenset(range(7)), start=dt.time(0, 0), end=dt.time(3, 0))
    start = at("Sun 00:30", week)
    blocked = [Busy(at("Sun 00:00", week), at("Sun 01:00", week), "Late call")]
    result = place(start, later(start, 2), blocked, nights, BERLIN)
    assert (result.start.isoformat(), result.end.isoformat()) == (
        "2026-10-25T01:00:00+02:00",
        "2026-10-25T02:00:00+01:00",
    )
    assert result.reason == "moved from Sun 00:30: Late call"


QUARTER = dt.timedelta(minutes=15)
GRID_HOURS = FreeTime(days=frozenset({0, 1, 2, 4}), start=dt.time(9, 0), end=dt.time(12, 0))


def grid_oracle(start: dt.datetime, length: dt.timedelta, blocked: list[Busy]) -> dt.datetime | None:
    """The rule by brute force on a 15-minute grid: days in order, then the start nearest the slot's time."""
    offset = start.weekday()
    days = [start.date() + dt.timedelta(days=n) for n in range(7 - offset)]
    days += [start.date() - dt.timedelta(days=n) for n in range(1, offset + 1)]
    for day in days:
        if day.weekday() not in GRID_HOURS.days:
            continue
        target = dt.datetime.combine(day, start.time(), tzinfo=BERLIN)
        candidate = dt.datetime.combine(day, GRID_HOURS.start, tzinfo=BERLIN)
        close = dt.datetime.combine(day, GRID_HOURS.end, tzinfo=BERLIN)
        free = []
        while candidate + length <= close:
            if not any(b.start < candidate + length and candidate < b.end for b in blocked):
                free.append(candidate)
            candidate += QUARTER
        if free:
            return min(free, key=lambda moment: (abs(moment - target), -moment.timestamp()))
    return None


@settings(max_examples=150, deadline=None)
@given(
    slot_day=st.integers(0, 4),
    slot_quarter=st.integers(0, 16),
    quarters=st.integers(1, 6),
    spans=st.lists(st.tuples(st.integers(0, 6), st.integers(28, 52), st.integers(1, 12)), max_size=8),
)
def test_moves_match_a_brute_force_search(
    slot_day: int, slot_quarter: int, quarters: int, spans: list[tuple[int, int, int]]
) -> None:
    start = at("Mon 07:00") + dt.timedelta(days=slot_day) + slot_quarter * QUARTER
    length = quarters * QUARTER
    blocked = [
        Busy(
            at("Mon 00:00") + dt.timedelta(days=day) + first * QUARTER,
            at("Mon 00:00") + dt.timedelta(days=day) + (first + size) * QUARTER,
        )
        for day, first, size in spans
    ]
    result = place(start, start + length, blocked, GRID_HOURS, BERLIN)
    if not any(b.start < start + length and start < b.end for b in blocked):
        assert result == Placement(start=start, end=start + length)
        return
    expected = grid_oracle(start, length, blocked)
    if expected is None:
        assert result.no_free_time
    else:
        assert (result.start, result.end - result.start) == (expected, length)


@pytest.mark.parametrize(
    ("start", "end", "hours", "message"),
    [
        ("Tue 08:30", "Tue 08:30", WEEKDAYS_ONLY, "a slot must end after it starts"),
        (
            "Tue 08:30",
            "Tue 09:30",
            FreeTime(start=dt.time(18, 0), end=dt.time(8, 0)),
            "meeting hours must",
        ),
    ],
)
def test_impossible_inputs_are_refused(start: str, end: str, hours: FreeTime, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        place(at(start), at(end), [], hours, BERLIN)


def test_busy_cache_round_trips_through_toml_in_utc() -> None:
    items = [
        Busy(at("Wed 08:00"), at("Wed 09:00"), None),
        Busy(at("Tue 08:00"), at("Tue 09:00"), "Board meeting"),
    ]
    text = tomli_w.dumps({"busy": busy_to_toml(items)})
    assert text.count("summary") == 1
    assert "start = 2026-03-17 07:00:00+00:00" in text
    back = busy_from_toml(tomllib.loads(text)["busy"])
    assert back == sorted(items)
    assert all(item.start.tzinfo is UTC for item in back)


def test_busy_cache_reads_offsets_as_utc() -> None:
    data = tomllib.loads("[[busy]]\nstart = 2026-03-17T08:00:00+01:00\nend = 2026-03-17T09:00:00+01:00\n")
    assert busy_from_toml(data["busy"]) == [
        Busy(dt.datetime(2026, 3, 17, 7, tzinfo=UTC), dt.datetime(2026, 3, 17, 8, tzinfo=UTC))
    ]


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("busy = 3", "'busy' must be a list of [[busy]] tables"),
        ("busy = [1]", "busy entry 1 must be a table with start and end"),
        (
            "[[busy]]\nend = 2026-03-17T09:00:00Z",
            "busy entry 1: 'start' must be a date-time with a UTC offset",
        ),
        (
            "[[busy]]\nstart = 2026-03-17T08:00:00\nend = 2026-03-17T09:00:00Z",
            "busy entry 1: 'start' must be a date-time with a UTC offset, like 2026-03-17T07:30:00Z",
        ),
        (
            "[[busy]]\nstart = 2026-03-17T08:00:00Z\nend = 2026-03-18",
            "busy entry 1: 'end' must be a date-time",
        ),
        (
            "[[busy]]\nstart = 2026-03-17T08:00:00Z\nend = 2026-03-17T09:00:00Z\n"
            "[[busy]]\nstart = 2026-03-17T09:00:00Z\nend = 2026-03-17T09:00:00Z",
            "busy entry 2: end 2026-03-17T09:00:00+00:00 is not after start 2026-03-17T09:00:00+00:00",
        ),
        (
            "[[busy]]\nstart = 2026-03-17T08:00:00Z\nend = 2026-03-17T09:00:00Z\nsummary = 5",
            "busy entry 1: 'summary' must be text in quotes",
        ),
    ],
)
def test_damaged_busy_cache_is_refused_with_the_entry_named(toml: str, message: str) -> None:
    with pytest.raises(
        ValueError, match="^" + message.replace("[", r"\[").replace("]", r"\]").replace("+", r"\+")
    ):
        busy_from_toml(tomllib.loads(toml)["busy"])
