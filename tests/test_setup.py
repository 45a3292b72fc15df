"""`peerloop init`: the settings, a running trial's start, and the start as people type it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from peerloop import prompts
from tests.conftest import NEW_YEAR, Invoke, as_json

SAME_SETTINGS = ("--name", "Dana Ode", "--email", "dana@example.com", "--timezone", "Europe/Berlin", "--day",
                 "tue", "--time", "08:30", "--duration", "45", "--mode", "coffee", "--lunch-time", "12:30")  # fmt: skip


def test_init_refuses_to_move_a_running_trial_without_yes(
    cli: Invoke, roster: Callable[[str], None], at: Callable[[str], None], home: Path
) -> None:
    roster(NEW_YEAR)
    at("2027-02-10T09:00")
    before = (home / "roster.toml").read_bytes()
    result = cli("init", "--start", "next mon")
    assert result.exit_code == 2
    assert result.stderr == (
        "peerloop: error: --start 2027-02-15 would move your running trial (week 7, started 2026-12-28); "
        "pass --yes to move it\n"
    )
    assert (home / "roster.toml").read_bytes() == before


def test_init_with_yes_moves_the_start_and_says_so(
    cli: Invoke, roster: Callable[[str], None], at: Callable[[str], None]
) -> None:
    roster(NEW_YEAR)
    at("2027-02-10T09:00")
    result = cli("init", "--start", "next mon", "--yes")
    assert result.exit_code == 0, result.output
    assert "Moved the trial's start from 2026-12-28 to 2027-02-15." in result.stderr
    assert as_json(cli, "status")["trial"]["start"] == "2027-02-15"


@pytest.mark.parametrize(("answer", "code", "start"), [("n", 0, "2026-12-28"), ("y", 0, "2027-02-15")])
def test_init_on_a_terminal_asks_before_moving_a_running_trial(
    cli: Invoke,
    roster: Callable[[str], None],
    at: Callable[[str], None],
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    code: int,
    start: str,
) -> None:
    roster(NEW_YEAR)
    at("2027-02-10T09:00")
    monkeypatch.setattr(prompts, "interactive", lambda: True)
    result = cli("init", *SAME_SETTINGS, "--start", "next mon", input=f"{answer}\n")
    assert result.exit_code == code, result.output
    assert (
        "Your trial is running (week 7, started 2026-12-28). Move its start to 2027-02-15?" in result.stderr
    )
    assert as_json(cli, "status")["trial"]["start"] == start


def test_init_without_a_new_start_changes_the_settings_of_a_running_trial_freely(
    cli: Invoke, roster: Callable[[str], None], at: Callable[[str], None]
) -> None:
    roster(NEW_YEAR)
    at("2027-02-10T09:00")
    result = cli("init", "--time", "09:00")
    assert result.exit_code == 0, result.output
    assert as_json(cli, "status")["trial"]["start"] == "2026-12-28"
    assert as_json(cli, "next")["start"].endswith("T09:00:00+01:00")


@pytest.mark.parametrize("typed", ["Jan 4", "4 January", "mon", "today"])
def test_a_trial_start_typed_as_today_starts_today_not_a_week_or_a_year_later(
    cli: Invoke, at: Callable[[str], None], typed: str
) -> None:
    at("2027-01-04T08:00")  # a Monday: the prompt offers today, and `Jan 4` as an example
    result = cli("init", *SAME_SETTINGS, "--start", typed)
    assert result.exit_code == 0, result.output
    assert "Trial:    2027-01-04 to 2027-07-04" in result.stdout
    assert as_json(cli, "status")["trial"]["start"] == "2027-01-04"


@pytest.mark.parametrize(("typed", "start"), [("Jan 4", "2027-01-04"), ("Jan 3", "2028-01-03"),
                                              ("Dec 29", "2027-12-29")])  # fmt: skip
def test_a_trial_start_without_a_year_is_this_weeks_day_or_ahead_never_a_year_late_by_a_day(
    cli: Invoke, at: Callable[[str], None], typed: str, start: str
) -> None:
    at("2027-01-05T08:00")  # a Tuesday: "Jan 4" is this week's Monday; Jan 3 ended last week
    assert cli("init", *SAME_SETTINGS, "--start", typed).exit_code == 0
    assert as_json(cli, "status")["trial"]["start"] == start


def test_a_start_far_ahead_is_said_with_how_to_start_sooner(cli: Invoke, at: Callable[[str], None]) -> None:
    at("2027-01-05T08:00")
    result = cli("init", *SAME_SETTINGS, "--start", "Jan 3")
    assert result.exit_code == 0, result.output
    assert (
        "The trial starts 51 weeks from today; to start sooner, `peerloop init --start DATE`.\n"
        in result.stderr
    )
    assert "weeks from today" not in cli("init", "--start", "Jan 4").stderr


def test_moving_the_start_of_a_trial_whose_first_week_has_not_come_asks_nothing(
    cli: Invoke, at: Callable[[str], None]
) -> None:
    at("2027-01-06T08:00")  # a Wednesday: with a Tuesday slot, the first week is the one of 11 January
    assert cli("init", *SAME_SETTINGS, "--start", "2027-01-06").exit_code == 0
    at("2027-01-07T08:00")
    moved = cli("init", "--start", "2027-01-04")
    assert moved.exit_code == 0, moved.output
    assert as_json(cli, "status")["trial"]["start"] == "2027-01-04"


def test_next_weekday_as_a_trial_start_is_still_a_week_ahead(cli: Invoke, at: Callable[[str], None]) -> None:
    at("2027-01-04T08:00")
    assert cli("init", *SAME_SETTINGS, "--start", "next mon").exit_code == 0
    assert as_json(cli, "status")["trial"]["start"] == "2027-01-11"
