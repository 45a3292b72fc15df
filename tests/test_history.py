"""`peerloop history` (text and JSON) and what `peerloop peers` shows from the log."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.conftest import Invoke

PEERS = ("Ann Lee", "Bo Chen", "Cy Dee", "Di Eze")
SetUp = Callable[..., None]
At = Callable[[str], None]


@pytest.fixture
def journal(set_up: SetUp, at: At, cli: Invoke) -> None:
    """Three weeks: a meeting with Ann, a skip (Bo's turn), a meeting with Bo; and one in December."""
    set_up(*PEERS)
    at("2026-03-17T12:00")
    steps = [
        ["log", "Ann Lee", "--date", "2025-12-09", "--issue", "budget"],
        ["log", "Ann Lee", "--date", "2026-03-03", "--issue", "hiring", "--gain", "advice", "--gain", "strength",
         "--win", "shipped", "--works", "walks", "--improve", "time", "--follow-up", "deck",
         "--follow-up", "intro", "--note", "private", "--mode", "lunch"],
        ["log", "--skip", "--reason", "board week", "--date", "2026-03-10"],
        ["log", "--date", "2026-03-17"],
        ["log", "--amend", "20260303-psve7", "--done", "1"],
    ]  # fmt: skip
    for args in steps:
        result = cli(*args)
        assert result.exit_code == 0, result.output


@pytest.mark.usefixtures("journal")
def test_history_lists_newest_first_with_ids(cli: Invoke) -> None:
    result = cli("history", "--all")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "ID              Date            What                      Details\n"
        "20260317-dvvbh  Tue 2026-03-17  coffee with Bo Chen\n"
        "\n"
        "20260310-vzrq2  Tue 2026-03-10  skipped (Bo Chen's turn)  Reason: board week\n"
        "\n"
        "20260303-psve7  Tue 2026-03-03  lunch with Ann Lee        Pressing issue: hiring\n"
        "                                                          It gave: advice, strength\n"
        "                                                          Win: shipped\n"
        "                                                          Works well: walks\n"
        "                                                          To improve: time\n"
        "                                                          Note: private\n"
        "                                                          [x] 20260303-psve7.1 deck\n"
        "                                                          [ ] 20260303-psve7.2 intro\n"
        "\n"
        "20251209-jndwb  Tue 2025-12-09  coffee with Ann Lee       Pressing issue: budget\n"
    )
    assert result.stderr == ""


@pytest.mark.usefixtures("journal")
def test_history_json_shape(cli: Invoke) -> None:
    listed = json.loads(cli("history", "--all", "--json").stdout)
    assert [(e["id"], e["kind"], e["date"], e["peer"]) for e in listed] == [
        ("20260317-dvvbh", "meeting", "2026-03-17", "Bo Chen"),
        ("20260310-vzrq2", "skip", "2026-03-10", "Bo Chen"),
        ("20260303-psve7", "meeting", "2026-03-03", "Ann Lee"),
        ("20251209-jndwb", "meeting", "2025-12-09", "Ann Lee"),
    ]
    assert listed[1] == {"id": "20260310-vzrq2", "kind": "skip", "date": "2026-03-10", "peer": "Bo Chen",
                         "reason": "board week", "replaced": []}  # fmt: skip
    assert listed[2] == {
        "id": "20260303-psve7", "kind": "meeting", "date": "2026-03-03", "peer": "Ann Lee", "mode": "lunch",
        "issue": "hiring", "gains": ["advice", "strength"], "win": "shipped", "works": "walks",
        "improve": "time",
        "follow_ups": [{"handle": "20260303-psve7.1", "n": 1, "text": "deck", "done": True},
                       {"handle": "20260303-psve7.2", "n": 2, "text": "intro", "done": False}],
        "note": "private", "replaced": [],
    }  # fmt: skip
    assert listed[0] == {
        "id": "20260317-dvvbh", "kind": "meeting", "date": "2026-03-17", "peer": "Bo Chen", "mode": "coffee",
        "issue": None, "gains": [], "win": None, "works": None, "improve": None, "follow_ups": [], "note": None,
        "replaced": [],
    }  # fmt: skip


@pytest.mark.usefixtures("journal")
def test_history_since_and_name(cli: Invoke) -> None:
    since = json.loads(cli("history", "--since", "2026-03-10", "--json").stdout)
    assert [e["id"] for e in since] == ["20260317-dvvbh", "20260310-vzrq2"]
    ann = json.loads(cli("history", "ANN LEE", "--all", "--json").stdout)
    assert [e["id"] for e in ann] == ["20260303-psve7", "20251209-jndwb"]
    bo = json.loads(cli("history", "bo chen", "--since", "2026-01-01", "--json").stdout)
    assert [e["id"] for e in bo] == ["20260317-dvvbh", "20260310-vzrq2"]
    assert cli("history", "--since", "2027-01-01", "--json").stdout == "[]\n"


@pytest.mark.usefixtures("journal")
def test_history_of_a_removed_peer_is_still_readable(cli: Invoke) -> None:
    assert cli("remove", "Ann Lee", "--yes").exit_code == 0
    result = cli("history", "ann lee", "--all", "--json")
    assert result.exit_code == 0, result.output
    assert [e["id"] for e in json.loads(result.stdout)] == ["20260303-psve7", "20251209-jndwb"]


@pytest.mark.usefixtures("journal")
def test_a_removed_peer_is_found_by_the_same_loose_names_as_a_current_one(cli: Invoke) -> None:
    assert cli("remove", "Ann Lee", "--yes").exit_code == 0
    for typed in ("ann", "lee", "ANN L"):
        result = cli("history", typed, "--all", "--json")
        assert result.exit_code == 0, (typed, result.output)
        assert [e["id"] for e in json.loads(result.stdout)] == ["20260303-psve7", "20251209-jndwb"]


@pytest.mark.usefixtures("journal")
def test_history_shows_the_current_trial_and_says_how_to_see_the_older_entries(cli: Invoke) -> None:
    result = cli("history")
    assert result.exit_code == 0, result.output
    assert "20260303-psve7" in result.stdout
    assert "20251209-jndwb" not in result.stdout
    assert (
        result.stderr
        == "This trial's entries, since Mon 2026-03-02; `--all` (or -n N) shows the older ones.\n"
    )


@pytest.mark.usefixtures("journal")
def test_history_n_shows_the_newest_entries_of_any_trial(cli: Invoke) -> None:
    newest = json.loads(cli("history", "-n", "2", "--json").stdout)
    assert [e["id"] for e in newest] == ["20260317-dvvbh", "20260310-vzrq2"]
    every = json.loads(cli("history", "-n", "9", "--json").stdout)
    assert [e["id"] for e in every] == [
        "20260317-dvvbh",
        "20260310-vzrq2",
        "20260303-psve7",
        "20251209-jndwb",
    ]
    assert cli("history", "-n", "0").exit_code == 2


def test_history_all_and_since_do_not_go_together(cli: Invoke, set_up: SetUp) -> None:
    set_up("Ann Lee")
    result = cli("history", "--all", "--since", "2026-01-01")
    assert result.exit_code == 2
    assert "--all and --since do not go together" in result.stderr


@pytest.mark.usefixtures("journal")
def test_history_errors(cli: Invoke) -> None:
    stranger = cli("history", "Zed")
    assert stranger.exit_code == 3
    assert stranger.stderr == "peerloop: error: no peer named 'Zed'; did you mean Di Eze?\n"
    bad = cli("history", "--since", "someday")
    assert bad.exit_code == 2
    assert bad.stderr.startswith("peerloop: error: --since: 'someday' is not a date; use YYYY-MM-DD, Jan 5")


def test_empty_history(cli: Invoke, set_up: SetUp) -> None:
    set_up(*PEERS)
    result = cli("history")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == "Nothing logged yet: `peerloop log` records a meeting.\n"
    assert cli("history", "--json").stdout == "[]\n"
    with_name = cli("history", "Cy Dee", "--since", "2026-03-01")
    assert (
        with_name.stderr
        == "Nothing logged with Cy Dee since Sun 2026-03-01 yet: `peerloop log` records a meeting.\n"
    )


def test_history_shows_control_characters_without_obeying_them(cli: Invoke, set_up: SetUp, at: At) -> None:
    set_up(*PEERS)
    at("2026-03-03T12:00")
    assert cli("log", "--issue", "two\nlines \x1b[31mred", "--note", "tab\there").exit_code == 0
    text = cli("history").stdout
    assert "Pressing issue: two / lines \\x1b[31mred" in text
    assert "Note: tab\\there" in text
    assert "\x1b" not in text


# --- peers -------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("journal")
def test_peers_json_shows_last_met_meetings_and_next_turn(cli: Invoke) -> None:
    listed = json.loads(cli("peers", "--json").stdout)
    assert [(p["name"], p["last_met"], p["meetings"], p["next_turn"]) for p in listed] == [
        ("Ann Lee", "2026-03-03", 2, "2026-04-07"),
        ("Bo Chen", "2026-03-17", 1, "2026-04-14"),
        ("Cy Dee", None, 0, "2026-03-24"),
        ("Di Eze", None, 0, "2026-03-31"),
    ]
    plan = json.loads(cli("plan", "--weeks", "4", "--json").stdout)
    assert [(s["peer"], s["date"]) for s in plan] == [
        ("Cy Dee", "2026-03-24"), ("Di Eze", "2026-03-31"), ("Ann Lee", "2026-04-07"), ("Bo Chen", "2026-04-14")
    ]  # fmt: skip


@pytest.mark.usefixtures("journal")
def test_peers_table_shows_the_new_columns(cli: Invoke) -> None:
    lines = cli("peers").stdout.splitlines()
    assert lines[0].split() == ["Name", "Mode", "Status", "Last", "met", "Meetings", "Next", "turn"]
    assert lines[1].split()[-3:] == ["2026-03-03", "2", "2026-04-07"]
    assert lines[3].split()[-3:] == ["never", "0", "2026-03-24"]


def test_peers_next_turn_waits_for_a_pause(cli: Invoke, set_up: SetUp) -> None:
    set_up(*PEERS)
    assert cli("pause", "Ann Lee", "--until", "2026-05-01").exit_code == 0
    listed = {p["name"]: p["next_turn"] for p in json.loads(cli("peers", "--json").stdout)}
    assert listed == {
        "Ann Lee": "2026-05-05",
        "Bo Chen": "2026-03-03",
        "Cy Dee": "2026-03-10",
        "Di Eze": "2026-03-17",
    }


def test_peers_before_init_has_no_next_turn(cli: Invoke) -> None:
    assert cli("add", "Ann Lee").exit_code == 0
    (peer,) = json.loads(cli("peers", "--json").stdout)
    assert (peer["last_met"], peer["meetings"], peer["next_turn"]) == (None, 0, None)
