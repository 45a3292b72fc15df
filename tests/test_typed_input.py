"""Dates, names and times as people type them, through the real command line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DST_MONDAY, NEW_YEAR, ZOE, Invoke, as_json


@pytest.mark.parametrize(
    ("now", "typed", "day"),
    [
        (NEW_YEAR, "today", "2027-01-01"),
        (NEW_YEAR, "yesterday", "2026-12-31"),
        (NEW_YEAR, "tue", "2026-12-29"),
        (NEW_YEAR, "fri", "2027-01-01"),  # looking back, today's weekday is today
        (NEW_YEAR, "last tue", "2026-12-29"),
        (NEW_YEAR, "3 days ago", "2026-12-29"),
        (NEW_YEAR, "-3d", "2026-12-29"),
        (NEW_YEAR, "2027-1-1", "2027-01-01"),
        (NEW_YEAR, "2026/12/30", "2026-12-30"),
        (DST_MONDAY, "yesterday", "2027-03-28"),
        (DST_MONDAY, "sun", "2027-03-28"),
        (DST_MONDAY, "1 week ago", "2027-03-22"),
        (DST_MONDAY, "-1w", "2027-03-22"),
    ],
)
def test_log_date_reads_past_looking_forms(
    cli: Invoke, roster: Callable[[str], None], now: str, typed: str, day: str
) -> None:
    roster(now)
    result = cli("log", "ann", "--date", typed)
    assert result.exit_code == 0, result.output
    [entry] = as_json(cli, "history", "ann")
    assert entry["date"] == day


@pytest.mark.parametrize(
    ("now", "typed", "day"),
    [
        (NEW_YEAR, "tomorrow", "2027-01-02"),
        (NEW_YEAR, "tue", "2027-01-05"),
        (NEW_YEAR, "fri", "2027-01-08"),  # looking ahead, today's weekday is a week away
        (NEW_YEAR, "next tue", "2027-01-05"),
        (NEW_YEAR, "in 2 weeks", "2027-01-15"),
        (NEW_YEAR, "+2w", "2027-01-15"),
        (NEW_YEAR, "+3d", "2027-01-04"),
        (NEW_YEAR, "2027-1-12", "2027-01-12"),
        (NEW_YEAR, "13/03/2027", "2027-03-13"),  # only one reading is a real date
        (DST_MONDAY, "tomorrow", "2027-03-30"),
        (DST_MONDAY, "in 1 week", "2027-04-05"),
    ],
)
def test_pause_until_reads_future_looking_forms(
    cli: Invoke, roster: Callable[[str], None], now: str, typed: str, day: str
) -> None:
    roster(now)
    result = cli("pause", "ann", "--until", typed)
    assert result.exit_code == 0, result.output
    [ann] = [peer for peer in as_json(cli, "peers") if peer["name"] == "Ann Lee"]
    assert ann["paused_until"] == day


@pytest.mark.parametrize(
    ("typed", "week"),
    [
        ("yesterday", "2026-12-28"),  # still this week
        ("tomorrow", "2026-12-28"),  # Saturday: still this week
        ("next tue", "2027-01-04"),
        ("mon", "2027-01-04"),
        ("+2w", "2027-01-11"),
        ("in 3 weeks", "2027-01-18"),
        ("2027-1-12", "2027-01-11"),
    ],
)
def test_plan_from_starts_at_the_week_of_the_typed_day(
    cli: Invoke, roster: Callable[[str], None], typed: str, week: str
) -> None:
    roster(NEW_YEAR)
    assert as_json(cli, "plan", "--weeks", "1", "--from", typed)[0]["week"] == week


@pytest.mark.parametrize(
    ("typed", "dates"),
    [
        ("today", ["2027-01-01"]),
        ("yesterday", ["2027-01-01", "2026-12-31"]),
        ("-1d", ["2027-01-01", "2026-12-31"]),
        ("tue", ["2027-01-01", "2026-12-31", "2026-12-29"]),
        ("last tue", ["2027-01-01", "2026-12-31", "2026-12-29"]),
        ("3 days ago", ["2027-01-01", "2026-12-31", "2026-12-29"]),
        ("2026-12-30", ["2027-01-01", "2026-12-31"]),
    ],
)
def test_history_since_keeps_the_entries_from_the_typed_day_on(
    cli: Invoke, roster: Callable[[str], None], typed: str, dates: list[str]
) -> None:
    roster(NEW_YEAR)
    for args in (("ann", "--date", "2026-12-29"), ("bo", "--date", "2026-12-31"), ("zoe", "--touch")):
        assert cli("log", *args).exit_code == 0
    assert [entry["date"] for entry in as_json(cli, "history", "--since", typed)] == dates


@pytest.mark.parametrize(
    ("typed", "start"),
    [
        ("today", "2027-01-01"),
        ("mon", "2027-01-04"),
        ("next mon", "2027-01-04"),
        ("+1w", "2027-01-08"),
        ("in 2 weeks", "2027-01-15"),
        ("2027-1-11", "2027-01-11"),
    ],
)
def test_init_start_reads_future_looking_forms(
    cli: Invoke, at: Callable[[str], None], typed: str, start: str
) -> None:
    at(NEW_YEAR)
    result = cli("init", "--name", "Dana Ode", "--timezone", "Europe/Berlin", "--day", "tue", "--time", "08:30",
                 "--start", typed)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert as_json(cli, "status")["trial"]["start"] == start


@pytest.mark.parametrize(
    "command",
    [
        ("log", "ann", "--date"),
        ("pause", "ann", "--until"),
        ("plan", "--from"),
        ("history", "--since"),
    ],
)
def test_an_ambiguous_slashed_date_names_both_readings(
    cli: Invoke, roster: Callable[[str], None], command: tuple[str, ...]
) -> None:
    roster(NEW_YEAR)
    result = cli(*command, "12/03/2027")
    assert result.exit_code == 2
    assert "12 March 2027 or 3 December 2027" in result.stderr
    assert "(2027-03-12 or 2027-12-03)" in result.stderr


def test_init_start_with_an_ambiguous_date_names_both_readings(
    cli: Invoke, at: Callable[[str], None]
) -> None:
    at(NEW_YEAR)
    result = cli("init", "--name", "Dana Ode", "--timezone", "Europe/Berlin", "--day", "tue", "--time", "08:30",
                 "--start", "12/03/2027")  # fmt: skip
    assert result.exit_code == 2
    assert "12 March 2027 or 3 December 2027" in result.stderr


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("ann lee", "Ann Lee"),
        ("ANN LEE", "Ann Lee"),
        ("ann", "Ann Lee"),  # the first name, whole: not Anna Ek
        ("anna", "Anna Ek"),
        ("bo", "Bo Chen"),  # the first name, whole: not Bob Ray
        ("bob", "Bob Ray"),
        ("zoe muller-lukasz", ZOE),
        ("Zoe Muller-Lukasz", ZOE),
        ("ZOË MÜLLER-ŁUKASZ", ZOE),
        ("zoemullerlukasz", ZOE),
        ("zo", ZOE),
        ("lukasz", ZOE),
        ("ek", "Anna Ek"),
    ],
)
def test_a_peer_is_found_as_people_type_the_name(
    cli: Invoke, roster: Callable[[str], None], typed: str, name: str
) -> None:
    roster(NEW_YEAR)
    result = cli("pause", typed, "--until", "tue")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Paused {name} until")


def _every_command(cli: Invoke, typed: str, tmp_path: Path) -> dict[str, Any]:
    """The name each command that takes a peer acted on, as it reported it (in a fresh journal per call)."""
    acted: dict[str, Any] = {}
    result = cli("edit", typed, "--org", "Acme")
    acted["edit"] = result.stdout
    result = cli("pause", typed, "--until", "tue")
    acted["pause"] = result.stdout
    result = cli("resume", typed)
    acted["resume"] = result.stdout
    result = cli("log", typed, "--date", "yesterday")
    acted["log"] = result.stdout
    acted["history"] = [entry["peer"] for entry in as_json(cli, "history", typed)]
    result = cli("invite", typed, "-o", str(tmp_path / "invite.ics"))
    acted["invite"] = result.stderr
    result = cli("remove", typed, "--yes")
    acted["remove"] = result.stdout
    return acted


@pytest.mark.parametrize("typed", ["zoe muller-lukasz", "Zoe Muller-Lukasz", "zo", "lukasz"])
def test_every_command_that_takes_a_peer_matches_names_alike(
    cli: Invoke, roster: Callable[[str], None], tmp_path: Path, typed: str
) -> None:
    roster(NEW_YEAR)
    acted = _every_command(cli, typed, tmp_path)
    assert acted["edit"] == f"Updated {ZOE}'s org.\n"
    assert acted["pause"].startswith(f"Paused {ZOE} until")
    assert acted["resume"].startswith(f"{ZOE} is back in the rotation")
    assert acted["log"].startswith(f"Logged coffee with {ZOE} on Thu 2026-12-31")
    assert acted["history"] == [ZOE]
    assert acted["invite"].startswith(f"Wrote the invite for {ZOE} to ")
    assert acted["remove"].startswith(f"Removed {ZOE};")


@pytest.mark.parametrize(
    "command",
    [
        ("edit", "{}", "--org", "Acme"),
        ("remove", "{}", "--yes"),
        ("pause", "{}", "--until", "tue"),
        ("resume", "{}"),
        ("log", "{}"),
        ("log", "{}", "--touch"),
        ("history", "{}"),
        ("invite", "{}"),
    ],
)
@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("an", "'an' matches Ann Lee and Anna Ek; type more of the name"),
        ("b", "'b' matches Bo Chen and Bob Ray; type more of the name"),
        ("ann lea", "no peer named 'ann lea'; did you mean Ann Lee or Anna Ek?"),
        ("zoe mular", f"no peer named 'zoe mular'; did you mean {ZOE}?"),
    ],
)
def test_an_ambiguous_name_lists_the_candidates_and_a_typo_gets_did_you_mean(
    cli: Invoke, roster: Callable[[str], None], home: Path, command: tuple[str, ...], typed: str, says: str
) -> None:
    roster(NEW_YEAR)
    before = (home / "roster.toml").read_bytes()
    result = cli(*(typed if part == "{}" else part for part in command))
    assert result.exit_code == 3
    assert result.stderr == f"peerloop: error: {says}\n"
    assert (home / "roster.toml").read_bytes() == before


def test_a_lunch_peer_is_met_at_lunch_time_in_next_plan_json_and_export(
    cli: Invoke, roster: Callable[[str], None], at: Callable[[str], None], tmp_path: Path
) -> None:
    roster(NEW_YEAR)
    assert (
        cli("log", "ann", "--date", "tue").exit_code == 0
    )  # this week done: Anna Ek next week, then Bo Chen
    assert cli("log", "anna", "--date", "yesterday").exit_code == 0
    plan = as_json(cli, "plan", "--weeks", "2")
    assert [(slot["peer"], slot["start"], slot["end"]) for slot in plan] == [
        ("Bo Chen", "2027-01-05T12:30:00+01:00", "2027-01-05T13:15:00+01:00"),
        ("Bob Ray", "2027-01-12T08:30:00+01:00", "2027-01-12T09:15:00+01:00"),
    ]
    table = cli("plan", "--weeks", "2").stdout.splitlines()
    assert table[1].split() == ["Tue", "2027-01-05", "12:30-13:15", "Bo", "Chen", "lunch"]
    assert table[2].split() == ["Tue", "2027-01-12", "08:30-09:15", "Bob", "Ray", "coffee"]
    assert cli("next").stdout.splitlines()[:2] == [
        "Next week: lunch with Bo Chen",
        "  Tue 2027-01-05, 12:30-13:15 (Europe/Berlin)",
    ]
    assert as_json(cli, "next")["start"] == "2027-01-05T12:30:00+01:00"
    target = tmp_path / "plan.ics"
    assert cli("export", "--weeks", "2", "-o", str(target)).exit_code == 0
    lines = target.read_text().splitlines()
    lunch = lines.index("SUMMARY:Lunch with Bo Chen")
    event = lines[lines[:lunch].index("BEGIN:VEVENT") : lunch]
    assert "DTSTART;TZID=Europe/Berlin:20270105T123000" in event
    assert "DTEND;TZID=Europe/Berlin:20270105T131500" in event
    # after the spring change the lunch stays at 12:30 on the wall clock
    at(DST_MONDAY)
    late = [slot for slot in as_json(cli, "plan", "--weeks", "5") if slot["peer"] == "Bo Chen"]
    assert late[0]["start"].endswith("T12:30:00+02:00")
