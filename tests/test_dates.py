"""Dates as people type them, read against a pinned today: Friday 2027-01-01, in ISO week 53 of 2026."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from peerloop.core.parse.dates import DATE_FORMS, Looking, parse_day
from tests.conftest import Invoke, SetUp
from tests.lived_in import (
    check_result,
    snapshot,
)

TODAY = dt.date(2027, 1, 1)  # a Friday; ISO 2026-W53-5, so the week began in the old year


D = dt.date


@pytest.mark.parametrize(
    ("text", "looking", "expected"),
    [
        # ISO, padded or not, year first with dashes or slashes
        ("2027-01-12", "past", D(2027, 1, 12)),
        ("2027-1-12", "past", D(2027, 1, 12)),
        ("2027/1/2", "future", D(2027, 1, 2)),
        ("  2026-12-28 ", "past", D(2026, 12, 28)),
        ("0001-01-01", "past", D(1, 1, 1)),
        ("9999-12-31", "future", D(9999, 12, 31)),
        # the other ISO 8601 forms Python reads, as `--date` always took them
        ("20270112", "past", D(2027, 1, 12)),
        ("2026-W53-1", "past", D(2026, 12, 28)),
        ("2026-w53-7", "past", D(2027, 1, 3)),
        # words
        ("today", "past", TODAY),
        ("Yesterday", "past", D(2026, 12, 31)),
        ("TOMORROW", "future", D(2027, 1, 2)),
        # a bare weekday looking back: the most recent one, today included, across the year boundary
        ("fri", "past", TODAY),
        ("Friday", "past", TODAY),
        ("thu", "past", D(2026, 12, 31)),
        ("thur", "past", D(2026, 12, 31)),
        ("THURS", "past", D(2026, 12, 31)),
        ("tues", "past", D(2026, 12, 29)),
        ("mon", "past", D(2026, 12, 28)),  # Monday of ISO week 53
        ("sat", "past", D(2026, 12, 26)),
        ("sunday", "past", D(2026, 12, 27)),
        ("wed", "past", D(2026, 12, 30)),
        # a bare weekday looking ahead: the next one after today, never today itself
        ("fri", "future", D(2027, 1, 8)),
        ("sat", "future", D(2027, 1, 2)),
        ("sun", "future", D(2027, 1, 3)),  # the last day of ISO week 53
        ("mon", "future", D(2027, 1, 4)),  # ISO 2027-W01-1
        ("thu", "future", D(2027, 1, 7)),
        # last / next: strictly before / after today, whichever way the option looks
        ("last fri", "past", D(2026, 12, 25)),
        ("last fri", "future", D(2026, 12, 25)),
        ("last thu", "future", D(2026, 12, 31)),
        ("Last   Tue", "past", D(2026, 12, 29)),
        ("next fri", "past", D(2027, 1, 8)),
        ("next sat", "past", D(2027, 1, 2)),
        ("next monday", "future", D(2027, 1, 4)),
        # counted from today, long and short
        ("3 days ago", "past", D(2026, 12, 29)),
        ("1 day ago", "past", D(2026, 12, 31)),
        ("0 days ago", "past", TODAY),
        ("2 weeks ago", "past", D(2026, 12, 18)),
        ("in 3 days", "future", D(2027, 1, 4)),
        ("in 2 weeks", "future", D(2027, 1, 15)),
        ("In 1 Week", "future", D(2027, 1, 8)),
        ("-3d", "past", D(2026, 12, 29)),
        ("-1w", "past", D(2026, 12, 25)),
        ("+2w", "future", D(2027, 1, 15)),
        ("+1d", "future", D(2027, 1, 2)),
        ("+400d", "future", D(2028, 2, 5)),
        # a slashed date with one real reading is read; the same date either way too
        ("13/03/2027", "past", D(2027, 3, 13)),
        ("03/13/2027", "past", D(2027, 3, 13)),
        ("3/3/2027", "past", D(2027, 3, 3)),
    ],
)
def test_typed_dates_are_read_from_a_pinned_today(text: str, looking: Looking, expected: dt.date) -> None:
    assert parse_day(text, TODAY, looking) == expected


@pytest.mark.parametrize(
    ("today", "text", "looking", "expected"),
    [
        # the Monday after Europe's spring-forward Sunday (2027-03-28): days are days, not 24-hour spans
        (D(2027, 3, 29), "yesterday", "past", D(2027, 3, 28)),
        (D(2027, 3, 29), "sun", "past", D(2027, 3, 28)),
        (D(2027, 3, 27), "+1d", "future", D(2027, 3, 28)),
        # a leap day
        (D(2028, 3, 1), "yesterday", "past", D(2028, 2, 29)),
        (D(2028, 2, 22), "+1w", "future", D(2028, 2, 29)),
    ],
)
def test_days_count_as_calendar_days(today: dt.date, text: str, looking: Looking, expected: dt.date) -> None:
    assert parse_day(text, today, looking) == expected


EXTREMES = ["0001-01-01", "0001-01-02", "9999-12-30", "9999-12-31"]
DATE_OPTIONS = [
    ["log", "Ann Lee", "--date"],
    ["pause", "Bo Chen", "--until"],
    ["plan", "--from"],
    ["history", "--since"],
    ["init", "--yes", "--start"],
]


def test_weekdays_land_within_a_week_on_the_right_side_of_today() -> None:
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    for offset in range(-10, 11):  # three weeks around the year boundary, through ISO week 53
        today = TODAY + dt.timedelta(days=offset)
        for weekday, name in enumerate(names):
            past = parse_day(name, today, "past")
            future = parse_day(name, today, "future")
            last = parse_day(f"last {name}", today, "future")
            coming = parse_day(f"next {name}", today, "past")
            assert {past.weekday(), future.weekday(), last.weekday(), coming.weekday()} == {weekday}
            assert 0 <= (today - past).days <= 6
            assert 1 <= (future - today).days <= 7
            assert 1 <= (today - last).days <= 7
            assert coming == future


def test_a_slashed_date_with_two_readings_names_both_and_asks_for_iso() -> None:
    with pytest.raises(ValueError, match="could be") as caught:
        parse_day("12/03/2027", TODAY, "past")
    assert str(caught.value) == (
        "'12/03/2027' could be 12 March 2027 or 3 December 2027; write it as YYYY-MM-DD "
        "(2027-03-12 or 2027-12-03)"
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "2027-02-29",
            "'2027-02-29' is not a date: February 2027 has no day 29; use YYYY-MM-DD, e.g. 2027-01-12",
        ),
        ("2027-13-01", "'2027-13-01' is not a date: there is no month 13; use YYYY-MM-DD, e.g. 2027-01-12"),
        ("0000-01-01", "'0000-01-01' is not a date: there is no year 0; use YYYY-MM-DD, e.g. 2027-01-12"),
        ("32/13/2027", "'32/13/2027' is not a date; use YYYY-MM-DD, e.g. 2027-01-12"),
    ],
)
def test_an_impossible_calendar_date_says_why(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match="is not a date") as caught:
        parse_day(text, TODAY, "past")
    assert str(caught.value) == reason


@pytest.mark.parametrize(
    "text",
    ["", "   ", "someday", "last", "next week", "tue tue", "in two weeks", "3 months ago", "+2m", "+-2d",
     "12/03/27", "12.03.2027", "2027-01-12T10:00", "+12345678d", "last 3 days"],
)  # fmt: skip
def test_an_unknown_form_lists_the_accepted_ones(text: str) -> None:
    with pytest.raises(ValueError, match="is not a date") as caught:
        parse_day(text, TODAY, "past")
    message = str(caught.value)
    assert message == f"{text!r} is not a date; use {DATE_FORMS}"
    assert "\n" not in message


@pytest.mark.parametrize(
    ("today", "text", "edge"),
    [
        (D(9999, 12, 25), "+2w", "after 9999-12-31"),
        (D(9999, 12, 31), "tomorrow", "after 9999-12-31"),
        (D(9999, 12, 31), "in 1 day", "after 9999-12-31"),
        (D(9999, 12, 31), "fri", "after 9999-12-31"),  # looking ahead from the last Friday there is
        (D(9999, 12, 31), "next sat", "after 9999-12-31"),
        (D(1, 1, 1), "yesterday", "before 0001-01-01"),
        (D(1, 1, 1), "-1d", "before 0001-01-01"),
        (D(1, 1, 1), "last sun", "before 0001-01-01"),
        (D(1, 1, 1), "sun", "before 0001-01-01"),  # 0001-01-01 was a Monday
        (D(2027, 1, 1), "9999999 weeks ago", "before 0001-01-01"),
        (D(2027, 1, 1), "+9999999w", "after 9999-12-31"),
    ],
)
def test_dates_beyond_the_calendar_are_a_value_error(today: dt.date, text: str, edge: str) -> None:
    looking: Looking = "past" if edge.startswith("before") else "future"
    with pytest.raises(ValueError, match="outside the years") as caught:
        parse_day(text, today, looking)
    assert str(caught.value) == f"{text!r} is outside the years peerloop keeps (1900 to 9000)"


def test_the_help_line_examples_all_parse() -> None:
    examples = [form.strip() for form in DATE_FORMS.split(",") if form.strip() != "YYYY-MM-DD"]
    assert len(examples) >= 10
    for example in examples:
        parse_day(example, TODAY, "past")
    assert len(DATE_FORMS) <= 110  # one line of --help


def test_the_docs_paragraph_covers_every_help_form_and_its_examples_parse() -> None:
    journal = (Path(__file__).parent.parent / "docs" / "journal.md").read_text(encoding="utf-8")
    paragraph = journal[journal.index("Dates are taken") : journal.index("Why our own grammar")]
    for form in DATE_FORMS.split(", "):
        assert form in paragraph
    quoted = [example for example in paragraph.split("`")[1::2] if " --" not in example]
    assert len(quoted) >= 12
    for example in quoted:
        if example not in ("YYYY-MM-DD", "12/03/2027", "init"):
            parse_day(example, TODAY, "future")


@pytest.mark.parametrize(
    ("option", "day"),
    [
        pytest.param(option, day, id=f"{option[-1]}-{day}")
        for option in DATE_OPTIONS
        for day in EXTREMES
    ],
)  # fmt: skip
def test_dates_at_the_ends_of_the_calendar_are_answered_and_never_saved_into_a_broken_state(
    cli: Invoke, set_up: SetUp, option: list[str], day: str
) -> None:
    set_up("Ann Lee", "Bo Chen", now="2026-04-15T09:00")
    argv = [*option, day]
    check_result(cli(*argv), argv)
    for after in (["peers"], ["status"], ["plan"], ["history"]):
        check_result(result := cli(*after), after)
        assert result.exit_code in (0, 10, 11), (argv, after, result.stderr)


@pytest.mark.parametrize(
    "now", ["0001-01-01", "9999-12-31T23:59", "1899-12-31", "9001-01-01", "soon", "2026-13-01"]
)
def test_a_pinned_clock_out_of_range_is_refused_in_one_line_before_any_write(
    cli: Invoke, set_up: SetUp, home: Path, monkeypatch: pytest.MonkeyPatch, now: str
) -> None:
    set_up("Ann Lee", "Bo Chen", "Cy Dee")
    before = snapshot(home)
    monkeypatch.setenv("PEERLOOP_NOW", now)
    for argv in (["remove", "Cy Dee", "--yes"], ["log", "Ann Lee", "--date", "2026-03-03"], ["peers"]):
        result = cli(*argv)
        check_result(result, argv)
        assert result.exit_code == 2, (argv, result.stderr)
        assert "PEERLOOP_NOW" in result.stderr
        assert "1900 and 9000" in result.stderr
    assert snapshot(home) == before


@pytest.mark.parametrize(
    ("text", "looking", "expected"),
    [
        ("Jan 5", "past", dt.date(2026, 1, 5)),  # typed in December: the January just past, for log --date
        ("Jan 5", "future", dt.date(2027, 1, 5)),
        ("5 Jan 2027", "past", dt.date(2027, 1, 5)),
        ("January 5, 2027", "future", dt.date(2027, 1, 5)),
        ("5th jan", "past", dt.date(2026, 1, 5)),
        ("Dec 4", "past", dt.date(2026, 12, 4)),  # today counts looking back, never looking ahead
        ("Dec 4", "future", dt.date(2027, 12, 4)),
        ("Feb 29", "past", dt.date(2024, 2, 29)),
        ("sept 3", "past", dt.date(2026, 9, 3)),
        ("a week ago", "past", dt.date(2026, 11, 27)),
        ("in a week", "future", dt.date(2026, 12, 11)),
    ],
)
def test_month_names_and_spoken_counts_read_in_the_options_direction(
    text: str, looking: Looking, expected: dt.date
) -> None:
    assert parse_day(text, dt.date(2026, 12, 4), looking) == expected


@pytest.mark.parametrize(("text", "reason"), [("Feb 30", "has no day 30"), ("ja 5", "is not a date"),
                                              ("tue 99", "is not a date"), ("Jan 5 27", "is not a date")])  # fmt: skip
def test_month_name_forms_refuse_what_no_calendar_has(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_day(text, dt.date(2026, 12, 4), "past")
