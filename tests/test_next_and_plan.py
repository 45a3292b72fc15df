"""`peerloop next` and `peerloop plan` as the leader sees them, in text and JSON."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.conftest import Invoke

PEERS = ("Ann Lee", "Bo Chen", "Cy Dee", "Di Eze")


def test_next_before_init_points_to_init(cli: Invoke) -> None:
    for command in (["next"], ["next", "--json"], ["plan"]):
        result = cli(*command)
        assert result.exit_code == 6
        assert result.stderr == "peerloop: error: peerloop is not set up yet; run `peerloop init` first\n"


def test_next_with_no_peers_points_to_add(cli: Invoke, set_up: Callable[..., None]) -> None:
    set_up()
    result = cli("next")
    assert result.exit_code == 0
    assert "every peer is paused" not in result.stdout
    assert "peerloop add NAME" in result.stderr
    assert json.loads(cli("next", "--json").stdout)["peer"] is None
    plan = cli("plan")
    assert plan.exit_code == 0
    assert "No peers yet" in plan.stderr


def test_next_shows_this_weeks_peer_day_time_and_mode(cli: Invoke, set_up: Callable[..., None]) -> None:
    set_up(*PEERS, now="2026-03-02T09:00")
    result = cli("next")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[:2] == [
        "This week: coffee with Ann Lee",
        "  Tue 2026-03-03, 08:30-09:15 (Europe/Berlin)",
    ]
    assert result.stderr == ""


def test_next_json_shape(cli: Invoke, set_up: Callable[..., None]) -> None:
    set_up(*PEERS, now="2026-03-02T09:00")
    data = json.loads(cli("next", "--json").stdout)
    assert {k: data[k] for k in ("peer", "date", "start", "mode", "overdue")} == {
        "peer": "Ann Lee",
        "date": "2026-03-03",
        "start": "2026-03-03T08:30:00+01:00",
        "mode": "coffee",
        "overdue": False,
    }
    assert data["follow_ups"] == []
    assert data["last_met"] is None


def test_next_marks_a_passed_day_overdue(
    cli: Invoke, set_up: Callable[..., None], at: Callable[[str], None]
) -> None:
    set_up(*PEERS, now="2026-03-02T09:00")
    at("2026-03-05T12:00")
    result = cli("next")
    assert "This week: coffee with Ann Lee" in result.stdout
    assert "Overdue: the day has passed" in result.stdout
    assert json.loads(cli("next", "--json").stdout)["overdue"] is True


def test_next_before_the_trial_shows_the_first_slot(cli: Invoke, set_up: Callable[..., None]) -> None:
    set_up(*PEERS, start="2026-03-09", now="2026-03-02T09:00")
    assert json.loads(cli("next", "--json").stdout)["date"] == "2026-03-10"
    assert cli("next").stdout.startswith("Next week: coffee with Ann Lee")


def test_plan_defaults_to_the_rest_of_the_trial(
    cli: Invoke, set_up: Callable[..., None], at: Callable[[str], None]
) -> None:
    set_up(*PEERS)
    slots = json.loads(cli("plan", "--json").stdout)
    assert (len(slots), slots[0]["date"], slots[-1]["date"]) == (26, "2026-03-03", "2026-08-25")
    status = json.loads(cli("status", "--json").stdout)
    assert status["trial"]["weeks"] == 26
    at("2026-08-31T09:00")  # past the trial's last week: one round of the roster
    after = json.loads(cli("plan", "--json").stdout)
    assert (len(after), after[0]["date"]) == (len(PEERS), "2026-09-01")
    assert [s["peer"] for s in slots[:5]] == [*PEERS, "Ann Lee"]


def test_plan_weeks_and_from(cli: Invoke, set_up: Callable[..., None]) -> None:
    set_up(*PEERS)
    slots = json.loads(cli("plan", "--weeks", "3", "--from", "2026-03-19", "--json").stdout)
    assert [(s["date"], s["peer"]) for s in slots] == [
        ("2026-03-17", "Cy Dee"),
        ("2026-03-24", "Di Eze"),
        ("2026-03-31", "Ann Lee"),
    ]
    assert slots[2]["start"] == "2026-03-31T08:30:00+02:00"


def test_plan_from_the_past_is_refused(cli: Invoke, set_up: Callable[..., None]) -> None:
    set_up(*PEERS)
    result = cli("plan", "--from", "2026-01-01")
    assert result.exit_code == 2
    assert "past weeks are in `peerloop history`" in result.stderr


def test_plan_text_is_a_table(cli: Invoke, set_up: Callable[..., None]) -> None:
    set_up(*PEERS)
    lines = cli("plan", "--weeks", "2").stdout.splitlines()
    assert lines[0].split() == ["Date", "Time", "(Europe/Berlin)", "Peer", "Mode"]
    assert lines[1].split() == ["Tue", "2026-03-03", "08:30-09:15", "Ann", "Lee", "coffee"]


def test_paused_peer_drops_out_and_comes_back(cli: Invoke, set_up: Callable[..., None]) -> None:
    set_up(*PEERS)
    assert cli("pause", "Bo Chen", "--until", "2026-03-20").exit_code == 0
    peers = [s["peer"] for s in json.loads(cli("plan", "--weeks", "5", "--json").stdout)]
    assert peers == ["Ann Lee", "Cy Dee", "Di Eze", "Bo Chen", "Ann Lee"]


def test_everyone_paused_says_what_is_true(cli: Invoke, set_up: Callable[..., None]) -> None:
    set_up(*PEERS)
    for name in PEERS:
        assert cli("pause", name, "--until", "2026-03-20").exit_code == 0
    result = cli("next")
    assert (
        result.stdout
        == "No meeting in the week of Mon 2026-03-02: every peer is paused until Fri 2026-03-20.\n"
    )
    assert "No peers yet" not in result.stderr
    assert "Trouble" not in result.stderr  # a deliberate pause is not a roster problem
    assert "(nobody: every peer is paused)" in cli("plan", "--weeks", "1").stdout


def test_the_roster_nudge_belongs_to_the_roster_commands(cli: Invoke, set_up: Callable[..., None]) -> None:
    set_up("Ann Lee", "Bo Chen")
    for command in ("next", "plan"):
        assert "Trouble" not in cli(command).stderr  # not repeated every week
    assert "2 peers in the roster; the method suggests 4 to 5." in cli("peers").stderr
    set_up(*PEERS, "Eve Fox", "Fay Gill")
    assert "less often than every 5" in cli("peers").stderr
    assert "less often than every 5" in cli("add", "Gil Ho").stderr


def test_init_ends_with_the_plan(cli: Invoke, at: Callable[[str], None]) -> None:
    at("2026-03-02T09:00")
    result = cli("init", "--name", "Dana", "--timezone", "Europe/Berlin", "--day", "tue", "--time", "08:30",
                 "--start", "2026-03-02", *[arg for p in PEERS for arg in ("--peer", p)])  # fmt: skip
    assert result.exit_code == 0
    assert "Tue 2026-03-03  08:30-09:15" in result.stdout
    assert "Di Eze" in result.stdout


def test_next_names_the_week_when_the_trial_starts_later(cli: Invoke, set_up: Callable[..., None]) -> None:
    set_up(*PEERS, start="2026-04-20", now="2026-03-03T09:00")
    assert cli("next").stdout.startswith("Week of Mon 2026-04-20: coffee with Ann Lee")
