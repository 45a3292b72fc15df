"""`peerloop log` as the leader uses it: meetings, the reflection prompts, skips, amends, forget, errors."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import pytest

from peerloop import prompts
from peerloop.core import journal
from peerloop.core import roster as roster_rules
from peerloop.core.models import (
    FollowUp,
    Gain,
    JournalYear,
    Meeting,
    Mode,
    Peer,
    Reflection,
    Replaced,
    Roster,
    Settings,
    Skip,
)
from peerloop.core.roster import find_peer, rotation
from peerloop.errors import ConflictError, InputError
from peerloop.output.json import entry_json
from peerloop.store.records import Store
from tests.conftest import Invoke

PEERS = ("Ann Lee", "Bo Chen", "Cy Dee", "Di Eze")


D = dt.date


SetUp = Callable[..., None]


At = Callable[[str], None]


def only_meeting(store: Store, year: int = 2026) -> Meeting:
    """The one meeting of the year, as logged (when it was written aside)."""
    (meeting,) = store.load_year(year).meetings
    return meeting._replace(changed=None)


def skips_of(store: Store, year: int = 2026) -> tuple[Skip, ...]:
    return tuple(skip._replace(changed=None) for skip in store.load_year(year).skips)


@pytest.fixture
def four(set_up: SetUp, at: At) -> None:
    """Four peers added on 2026-03-02; now is Tuesday 2026-03-03 at noon, after the 08:30 slot."""
    set_up(*PEERS)
    at("2026-03-03T12:00")


@pytest.mark.usefixtures("four")
def test_log_records_the_meeting_with_whoever_has_the_turn(cli: Invoke, store: Store) -> None:
    result = cli("log")
    assert result.exit_code == 0, result.output
    assert (
        result.stdout
        == "Logged coffee with Ann Lee on Tue 2026-03-03 (20260303-psve7). Next: Bo Chen, Tue 2026-03-10.\n"
    )
    assert result.stderr == ""
    assert only_meeting(store) == Meeting(
        id="20260303-psve7", date=D(2026, 3, 3), peer="Ann Lee", mode=Mode.COFFEE
    )


@pytest.mark.usefixtures("four")
def test_log_takes_every_option(cli: Invoke, store: Store) -> None:
    result = cli(
        "log", "cy dee", "--date", "2026-03-02", "--mode", "LUNCH", "--issue", "hiring a VP",
        "--gain", "advice", "--gain", "strength", "--gain", "motivation", "--win", "shipped", "--works", "the walk",
        "--improve", "start on time", "--follow-up", "send the deck", "--follow-up", "intro to Bo",
        "--note", "confidential",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        "Logged lunch with Cy Dee on Mon 2026-03-02 (20260302-ge5bm). Next: Ann Lee,"
    )
    assert only_meeting(store) == Meeting(
        id="20260302-ge5bm", date=D(2026, 3, 2), peer="Cy Dee", mode=Mode.LUNCH, issue="hiring a VP",
        gains=(Gain.ADVICE, Gain.STRENGTH, Gain.MOTIVATION), win="shipped", works="the walk",
        improve="start on time", follow_ups=(FollowUp("send the deck", n=1), FollowUp("intro to Bo", n=2)),
        note="confidential",
    )  # fmt: skip


@pytest.mark.usefixtures("four")
def test_the_mode_defaults_to_the_peers_then_the_settings(cli: Invoke, store: Store) -> None:
    assert cli("edit", "Bo Chen", "--mode", "call").exit_code == 0
    assert cli("log", "Bo Chen").exit_code == 0
    assert cli("log", "Ann Lee").exit_code == 0
    assert sorted((m.peer, m.mode) for m in store.load_year(2026).meetings) == [
        ("Ann Lee", Mode.COFFEE), ("Bo Chen", Mode.CALL)
    ]  # fmt: skip


@pytest.mark.usefixtures("four")
def test_off_a_terminal_log_never_asks(cli: Invoke, store: Store) -> None:
    result = cli("log", input="hiring\n")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert only_meeting(store).issue is None


@pytest.mark.usefixtures("four", "terminal")
def test_on_a_terminal_log_asks_the_reflection_one_question_at_a_time(cli: Invoke, store: Store) -> None:
    answers = (
        "hiring a VP\nadvice, strength\nshipped\nthe walk\nstart on time\nsend the deck\nintro\n\nkeep\n"
    )
    result = cli("log", input=answers)
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith(
        "Logging coffee with Ann Lee on Tue 2026-03-03. A few questions; Enter skips any.\n"
        "The pressing issue you went deep on (Enter to skip): "
        "What did it give you? advice, strength, motivation (separate several with commas) (Enter to skip): "
        "A win worth celebrating (Enter to skip): What works well (Enter to skip): "
        "What can be improved (Enter to skip): Follow-ups you owe or are owed (one per line, empty line to finish)"
    )
    assert "A private note (Enter to skip): " in result.stderr
    assert only_meeting(store) == Meeting(
        id="20260303-psve7", date=D(2026, 3, 3), peer="Ann Lee", mode=Mode.COFFEE, issue="hiring a VP",
        gains=(Gain.ADVICE, Gain.STRENGTH), win="shipped", works="the walk", improve="start on time",
        follow_ups=(FollowUp("send the deck", n=1), FollowUp("intro", n=2)), note="keep",
    )  # fmt: skip


@pytest.mark.usefixtures("four", "terminal")
def test_every_question_is_skipped_with_enter_and_a_bad_gain_is_asked_again(
    cli: Invoke, store: Store
) -> None:
    result = cli("log", input="\nluck\n\n\n\n\n\n\n")
    assert result.exit_code == 0, result.output
    assert "'luck' is not a gain; use one of advice, strength, motivation" in result.stderr
    assert only_meeting(store) == Meeting(
        id="20260303-psve7", date=D(2026, 3, 3), peer="Ann Lee", mode=Mode.COFFEE
    )


@pytest.mark.usefixtures("four", "terminal")
def test_a_reflection_flag_means_no_questions(cli: Invoke, store: Store) -> None:
    result = cli("log", "--win", "shipped", input="")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert only_meeting(store).win == "shipped"


@pytest.mark.usefixtures("four", "terminal")
def test_a_mistake_fails_before_the_questions(cli: Invoke, home: object) -> None:
    result = cli("log", "Zed", input="")
    assert result.exit_code == 3
    assert "Pressing" not in result.stderr


@pytest.mark.usefixtures("four", "terminal")
def test_end_of_input_at_a_question_changes_nothing(cli: Invoke, store: Store) -> None:
    result = cli("log", input="hiring\n")
    assert result.exit_code == 1
    assert result.stderr.endswith("peerloop: error: no answer (end of input); nothing was changed\n")
    assert store.journal_years() == []


def test_a_meeting_dated_before_its_peer_was_added_moves_added_back(
    cli: Invoke, store: Store, set_up: SetUp, at: At
) -> None:
    """Weekly commands read back to a peer's `added` year only: an older meeting must move it back."""
    set_up("Ann Lee", "Bo Chen")
    at("2026-03-03T12:00")
    result = cli("log", "Ann Lee", "--date", "2025-12-16")
    assert result.exit_code == 0, result.output
    assert [p.added for p in store.load_roster().peers] == [D(2025, 12, 16), D(2026, 3, 2)]
    assert store.journal_years() == [2025]
    at("2026-03-10T07:00")  # next week: both joined before it, so only the rotation's rule decides
    assert json.loads(cli("next", "--json").stdout)["peer"] == "Bo Chen"
    assert json.loads(cli("next", "--json").stdout)["date"] == "2026-03-10"


@pytest.mark.usefixtures("four")
def test_skip_records_whose_turn_it_was_and_they_stay_first(cli: Invoke, store: Store) -> None:
    result = cli("log", "--skip", "--reason", "board week")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Logged skip 20260303-psve7 for the week of Mon 2026-03-02 (Ann Lee's turn). Next: Ann Lee, Tue 2026-03-10.\n"
    )
    assert skips_of(store) == (
        Skip(id="20260303-psve7", date=D(2026, 3, 3), reason="board week", peer="Ann Lee"),
    )
    upcoming = json.loads(cli("next", "--json").stdout)
    assert (upcoming["peer"], upcoming["date"]) == ("Ann Lee", "2026-03-10")


@pytest.mark.usefixtures("four")
def test_skip_off_a_terminal_needs_reason(cli: Invoke, store: Store) -> None:
    result = cli("log", "--skip")
    assert result.exit_code == 2
    assert result.stderr == (
        "peerloop: error: --skip needs --reason TEXT: why this week's meeting did not happen "
        "(no terminal to ask on)\n"
    )
    empty = cli("log", "--skip", "--reason", "  ")
    assert empty.exit_code == 2
    assert empty.stderr == "peerloop: error: --reason cannot be empty: say why the meeting did not happen\n"
    assert store.journal_years() == []


@pytest.mark.usefixtures("four", "terminal")
def test_skip_on_a_terminal_asks_the_reason(cli: Invoke, store: Store) -> None:
    result = cli("log", "--skip", input="\ntravel\n")
    assert result.exit_code == 0, result.output
    assert "Why did this week's meeting not happen?: " in result.stderr
    assert [s.reason for s in store.load_year(2026).skips] == ["travel"]


@pytest.mark.usefixtures("four")
def test_skip_with_a_name_and_date(cli: Invoke, store: Store) -> None:
    result = cli("log", "--skip", "bo chen", "--date", "2026-03-02", "--reason", "ill")
    assert result.exit_code == 0, result.output
    assert skips_of(store) == (Skip(id="20260302-ge5bm", date=D(2026, 3, 2), reason="ill", peer="Bo Chen"),)


@pytest.mark.usefixtures("four")
def test_a_skip_in_a_week_already_done_is_a_conflict(cli: Invoke, store: Store) -> None:
    assert cli("log").exit_code == 0
    result = cli("log", "--skip", "--reason", "travel", "--date", "2026-03-02")
    assert result.exit_code == 3
    assert result.stderr == (
        "peerloop: error: the week of 2026-03-02 is already done: it holds meeting 20260303-psve7 with Ann Lee; "
        "to record a skip instead, run `peerloop forget 20260303-psve7` first\n"
    )
    assert cli("log", "--skip", "--reason", "travel", "--date", "2026-02-24").exit_code == 0


def test_a_skip_sees_a_meeting_across_new_year(cli: Invoke, store: Store, set_up: SetUp, at: At) -> None:
    set_up(*PEERS, start="2025-12-01", now="2025-12-01T09:00")
    at("2025-12-29T12:00")
    assert cli("log", "--date", "2025-12-29").exit_code == 0
    at("2026-01-02T12:00")
    result = cli("log", "--skip", "--reason", "holidays")
    assert result.exit_code == 3
    assert "holds meeting 20251229-m36cd with Ann Lee" in result.stderr
    extra = cli("log", "Bo Chen")
    assert extra.exit_code == 0
    assert "the week of 2025-12-29 already holds meeting 20251229-m36cd with Ann Lee" in extra.stderr


@pytest.mark.usefixtures("four")
def test_a_bare_log_in_a_done_week_guesses_nobody_off_a_terminal(cli: Invoke, store: Store) -> None:
    assert cli("log").exit_code == 0
    result = cli("log")
    assert result.exit_code == 2
    assert result.stderr == (
        "peerloop: error: the week of 2026-03-02 already holds meeting 20260303-psve7 with Ann Lee; to log another "
        "meeting, name who you met: `peerloop log NAME`\n"
    )
    assert len(store.load_journal().meetings) == 1


@pytest.mark.usefixtures("four")
def test_a_bare_log_in_a_done_week_shows_who_and_asks_on_a_terminal(
    cli: Invoke, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("log").exit_code == 0
    monkeypatch.setattr(prompts, "interactive", lambda: True)
    declined = cli("log", "--note", "n", input="n\n")
    assert declined.exit_code == 0  # answering no is not an error: nothing is logged
    assert (
        "Nothing logged. To log an extra meeting with someone else: `peerloop log NAME`." in declined.stderr
    )
    assert len(store.load_journal().meetings) == 1
    assert "This week is done. Log an extra meeting with Bo Chen (next in line)? [y/N]" in declined.stderr
    accepted = cli("log", "--note", "n", input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert "Logged coffee with Bo Chen" in accepted.stdout


@pytest.mark.usefixtures("four")
def test_a_paused_peer_is_never_logged_by_default(cli: Invoke, store: Store) -> None:
    assert cli("pause", "Ann Lee", "--until", "2026-04-01").exit_code == 0
    assert cli("log").exit_code == 0
    assert store.load_journal().meetings[0].peer == "Bo Chen"


@pytest.mark.usefixtures("four")
def test_a_second_meeting_in_a_done_week_counts_as_an_extra(cli: Invoke, store: Store) -> None:
    assert cli("log").exit_code == 0
    result = cli("log", "Bo Chen")
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "note: the week of 2026-03-02 already holds meeting 20260303-psve7 with Ann Lee: this meeting counts as an "
        "extra, not as next week's\n"
    )
    assert (
        result.stdout
        == "Logged coffee with Bo Chen on Tue 2026-03-03 (20260303-nst4e). Next: Cy Dee, Tue 2026-03-10.\n"
    )


@pytest.mark.usefixtures("four")
def test_a_meeting_after_a_skip_in_the_same_week_says_how_to_undo_the_skip(cli: Invoke) -> None:
    assert cli("log", "--skip", "--reason", "travel").exit_code == 0
    result = cli("log", "Ann Lee")
    assert result.exit_code == 0
    assert result.stderr.rstrip().endswith("if the meeting did happen, `peerloop forget 20260303-psve7`")


@pytest.mark.usefixtures("four")
@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--date", "2026-03-04"], 2, "--date 2026-03-04 is in the future (today is 2026-03-03); log a week once it has happened"),
        (["--skip", "--reason", "x", "--date", "2026-03-09"], 2, "--date 2026-03-09 is in the future (today is 2026-03-03)"),
        (["--date", "03/04/2026"], 2, "--date: '03/04/2026' could be 3 April 2026 or 4 March 2026; write it as YYYY-MM-DD (2026-04-03 or 2026-03-04)"),
        (["--date", "someday"], 2, "--date: 'someday' is not a date"),
        (["--mode", "walk"], 2, "Invalid value for '--mode': 'walk' is not one of 'coffee', 'lunch', 'call'. (see 'peerloop log --help')"),
        (["--gain", "luck"], 2, "Invalid value for '--gain': 'luck' is not one of 'advice', 'strength', 'motivation'."),
        (["Zed"], 3, "no peer named 'Zed'; did you mean Di Eze?"),
        (["Xavier"], 3, "no peer named 'Xavier'"),
        (["--reason", "x"], 2, "--reason goes with --skip (a week without a meeting)"),
        (["--skip", "--reason", "x", "--issue", "y"], 2, "--issue is for meetings; --skip takes NAME, --date, --reason; --touch NAME, --date, --note"),
        (["--done", "1"], 2, "--done N changes a logged meeting: use it with --amend ID, or `peerloop done HANDLE`"),
        (["--amend", "20260303-psve7", "--skip"], 2, "--skip, --touch and --amend do not go together: choose one"),
        (["--amend", "20260303-psve7"], 2, "nothing to change: with --amend ID, pass the fields to change"),
        (["--amend", "20260303-jh2gk", "--issue", "x"], 3, "no journal entry with id '20260303-jh2gk'; `peerloop history` shows each entry's id"),
    ],
)  # fmt: skip
def test_each_error_is_one_line_with_its_code(
    cli: Invoke, store: Store, args: list[str], code: int, message: str
) -> None:
    result = cli("log", *args)
    assert result.exit_code == code, result.output
    assert result.stderr.startswith(f"peerloop: error: {message}")
    assert result.stderr.count("\n") == 1
    assert store.journal_years() == []


@pytest.mark.usefixtures("four")
@pytest.mark.parametrize(
    "args",
    [
        ["--note", "caf\udce9"],
        ["--follow-up", "ok", "--follow-up", "\udcff"],
        ["--skip", "--reason", "\udcff"],
    ],
)
def test_text_that_is_not_utf8_is_a_usage_error(cli: Invoke, store: Store, args: list[str]) -> None:
    """A terminal in another encoding hands Python lone surrogates: refused before anything is written."""
    result = cli("log", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith("peerloop: error: --")
    assert "is not valid UTF-8 (a stray byte from the terminal?); retype it\n" in result.stderr
    assert store.journal_years() == []


@pytest.mark.usefixtures("four")
def test_a_removed_peer_is_named_with_how_to_add_them_back(cli: Invoke, store: Store) -> None:
    assert cli("log", "Bo Chen").exit_code == 0
    assert cli("remove", "Bo Chen", "--yes").exit_code == 0
    result = cli("log", "bo chen")
    assert result.exit_code == 3
    assert result.stderr == (
        "peerloop: error: Bo Chen is no longer in the roster (removed; the journal keeps their entries); "
        'add them back with `peerloop add "Bo Chen"`\n'
    )
    assert len(store.load_year(2026).meetings) == 1


def test_log_before_init_says_to_run_init(cli: Invoke) -> None:
    result = cli("log", "--skip", "--reason", "x")
    assert result.exit_code == 6
    assert result.stderr == "peerloop: error: peerloop is not set up yet; run `peerloop init` first\n"


def test_log_when_every_peer_is_paused_needs_a_name(cli: Invoke, set_up: SetUp, at: At) -> None:
    set_up("Ann Lee")
    assert cli("pause", "Ann Lee", "--until", "2026-06-01").exit_code == 0
    at("2026-03-03T12:00")
    result = cli("log")
    assert result.exit_code == 3
    assert result.stderr == (
        "peerloop: error: nobody's turn in the week of 2026-03-02: every peer is paused; "
        "name who you met: `peerloop log NAME`\n"
    )
    assert cli("log", "Ann Lee").exit_code == 0


@pytest.fixture
def logged(four: None, cli: Invoke) -> str:
    result = cli(
        "log", "--issue", "hiring", "--gain", "advice", "--win", "w", "--note", "n",
        "--follow-up", "a", "--follow-up", "b", "--follow-up", "c",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return "20260303-psve7"


def test_amend_changes_only_the_fields_given(cli: Invoke, store: Store, logged: str) -> None:
    result = cli(
        "log", "--amend", logged, "--issue", "firing", "--win", "", "--gain", "strength", "--gain", "motivation",
        "--mode", "call", "--works", "pace", "--improve", "notes", "--follow-up", "d",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (
        result.stdout == f"Amended meeting {logged} (mode, issue, gains, win, works, improve, follow-ups).\n"
    )
    assert only_meeting(store) == Meeting(
        id=logged, date=D(2026, 3, 3), peer="Ann Lee", mode=Mode.CALL, issue="firing",
        gains=(Gain.STRENGTH, Gain.MOTIVATION), win=None, works="pace", improve="notes",
        follow_ups=(FollowUp("a", n=1), FollowUp("b", n=2), FollowUp("c", n=3), FollowUp("d", n=4)), note="n",
    )  # fmt: skip


def test_a_follow_up_keeps_its_handle_when_others_close(cli: Invoke, store: Store, logged: str) -> None:
    result = cli("log", "--amend", logged, "--done", "1", "--done", "3")
    assert result.exit_code == 0, result.output
    assert only_meeting(store).follow_ups == (
        FollowUp("a", True, 1),
        FollowUp("b", False, 2),
        FollowUp("c", True, 3),
    )
    listed = json.loads(cli("history", "--json").stdout)[0]["follow_ups"]
    assert listed == [
        {"handle": f"{logged}.1", "n": 1, "text": "a", "done": True},
        {"handle": f"{logged}.2", "n": 2, "text": "b", "done": False},
        {"handle": f"{logged}.3", "n": 3, "text": "c", "done": True},
    ]
    again = cli("log", "--amend", logged, "--done", "1")  # repeating it closes the same one, nothing else
    assert again.exit_code == 0
    assert again.stdout == f"Nothing to change: meeting {logged} already says that.\n"
    assert cli("log", "--amend", logged, "--reopen", "3", "--drop", "1").exit_code == 0
    assert only_meeting(store).follow_ups == (FollowUp("b", False, 2), FollowUp("c", False, 3))
    assert cli("log", "--amend", logged, "--follow-up", "e").exit_code == 0
    assert only_meeting(store).follow_ups[-1] == FollowUp("e", False, 4)
    wrong = cli("log", "--amend", logged, "--done", "7")
    assert wrong.exit_code == 3
    assert wrong.stderr == (
        f"peerloop: error: --done: meeting {logged} has no follow-up {logged}.7 "
        f"(it has: {logged}.2, {logged}.3, {logged}.4)\n"
    )
    not_a_number = cli("log", "--amend", logged, "--done", "first")
    assert not_a_number.exit_code == 2
    assert "Invalid value for '--done': 'first' is not a valid int." in not_a_number.stderr


def test_done_closes_a_follow_up_by_its_handle(cli: Invoke, store: Store, logged: str) -> None:
    result = cli("done", f"{logged}.2")
    assert (result.exit_code, result.stdout) == (0, f"Closed {logged}.2 (Ann Lee): b\n")
    again = cli("done", f"{logged}.2")  # closing it twice is harmless, and said
    assert (again.exit_code, again.stdout) == (0, f"Already closed: {logged}.2 (Ann Lee): b\n")
    assert [item.done for item in only_meeting(store).follow_ups] == [False, True, False]
    reopened = cli("done", f"{logged}.2", "--reopen")
    assert reopened.stdout == f"Reopened {logged}.2 (Ann Lee): b\n"
    bad = cli("done", "send the deck")
    assert bad.exit_code == 2
    assert "is not a follow-up handle" in bad.stderr
    missing = cli("done", f"{logged}.9", f"{logged}.1")
    assert missing.exit_code == 3
    assert missing.stderr.startswith(
        f"peerloop: error: HANDLE {logged}.9: meeting {logged} has no such follow-up"
    )
    assert not only_meeting(store).follow_ups[0].done  # one bad handle: nothing closed
    unknown = cli("done", "20260101-7.1")
    assert unknown.stderr.startswith("peerloop: error: HANDLE 20260101-7.1: no meeting with id 20260101-7;")


def test_next_shows_the_last_issue_and_only_open_follow_ups(cli: Invoke, set_up: SetUp, at: At) -> None:
    set_up("Ann Lee", "Bo Chen")
    at("2026-03-03T12:00")
    assert (
        cli("log", "--issue", "hiring a VP", "--follow-up", "send the deck", "--follow-up", "intro").exit_code
        == 0
    )
    assert cli("done", "20260303-psve7.2").exit_code == 0
    at("2026-03-10T12:00")
    assert cli("log", "--note", "bo").exit_code == 0
    at("2026-03-12T09:00")
    upcoming = json.loads(cli("next", "--json").stdout)
    assert (upcoming["peer"], upcoming["last_met"], upcoming["last_issue"], upcoming["follow_ups"]) == (
        "Ann Lee", "2026-03-03", "hiring a VP",
        [{"handle": "20260303-psve7.1", "text": "send the deck", "since": "2026-03-03"}],
    )  # fmt: skip
    text = cli("next").stdout
    assert (
        "  Last met Tue 2026-03-03: hiring a VP\n  Open follow-ups (`peerloop done HANDLE` closes one):\n"
        "    20260303-psve7.1  send the deck (since 2026-03-03)\n"
    ) in text
    assert "intro" not in text


def test_next_shows_what_is_open_from_every_meeting_not_only_the_last(
    cli: Invoke, set_up: SetUp, at: At
) -> None:
    set_up("Ann Lee")
    at("2026-03-03T12:00")
    assert cli("log", "--follow-up", "send the deck").exit_code == 0
    at("2026-03-10T12:00")
    assert cli("log", "--follow-up", "book the venue").exit_code == 0
    at("2026-03-12T12:00")
    text = cli("next").stdout
    assert "20260303-psve7.1  send the deck (since 2026-03-03)" in text
    assert "20260310-vzrq2.1  book the venue (since 2026-03-10)" in text


def test_a_changed_date_gives_a_new_id_and_says_so(cli: Invoke, store: Store, logged: str) -> None:
    result = cli("log", "--amend", logged, "--date", "2026-03-02")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"Amended meeting {logged} (date): its date changed, so its id is now 20260302-ge5bm.\n"
    )
    assert [m.id for m in store.load_year(2026).meetings] == ["20260302-ge5bm"]
    assert cli("forget", logged, "--yes").exit_code == 3


def test_a_date_moved_to_another_year_moves_the_entry_between_files(
    cli: Invoke, store: Store, logged: str, at: At
) -> None:
    result = cli("log", "--amend", logged, "--date", "2025-11-04")
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("its id is now 20251104-wn48r, moved to the 2025 file.\n")
    assert store.load_year(2026).meetings == ()
    moved = only_meeting(store, 2025)
    assert (moved.id, moved.issue, moved.follow_ups[0].text) == ("20251104-wn48r", "hiring", "a")
    assert store.load_roster().find("Ann Lee").added == D(2025, 11, 4)  # type: ignore[union-attr]
    at("2026-03-10T07:00")  # next week: both joined before it, so only the rotation's rule decides
    assert json.loads(cli("next", "--json").stdout)["peer"] == "Bo Chen"


def test_amend_into_the_future_or_onto_a_done_week(cli: Invoke, store: Store, logged: str) -> None:
    future = cli("log", "--amend", logged, "--date", "2026-03-20")
    assert future.exit_code == 2
    assert "is in the future" in future.stderr
    assert cli("log", "--skip", "--reason", "travel", "--date", "2026-02-24").exit_code == 0
    clash = cli("log", "--amend", "20260224-wmkms", "--date", "2026-03-02")
    assert clash.exit_code == 3
    assert "it holds meeting 20260303-psve7 with Ann Lee" in clash.stderr
    extra = cli("log", "--amend", logged, "--date", "2026-02-26")
    assert extra.exit_code == 0
    assert extra.stderr.startswith(
        "note: the week of 2026-02-23 already holds skip 20260224-wmkms (Bo Chen's turn)"
    )


def test_amend_a_skip_and_its_peer(cli: Invoke, store: Store, four: None) -> None:
    assert cli("log", "--skip", "--reason", "travel").exit_code == 0
    result = cli("log", "--amend", "20260303-psve7", "Cy Dee", "--reason", "ill")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Amended skip 20260303-psve7 (reason, peer).\n"
    assert skips_of(store) == (Skip(id="20260303-psve7", date=D(2026, 3, 3), reason="ill", peer="Cy Dee"),)
    wrong = cli("log", "--amend", "20260303-psve7", "--issue", "x")
    assert wrong.exit_code == 2
    assert wrong.stderr == (
        "peerloop: error: --issue is for meetings; 20260303-psve7 is a skip (it takes NAME, --date, --reason)\n"
    )
    blank = cli("log", "--amend", "20260303-psve7", "--reason", "")
    assert blank.exit_code == 2


def test_amend_a_meeting_refuses_a_reason_and_reports_no_change(cli: Invoke, logged: str) -> None:
    wrong = cli("log", "--amend", logged, "--reason", "x")
    assert wrong.exit_code == 2
    assert wrong.stderr == f"peerloop: error: --reason is for skips; {logged} is a meeting\n"
    same = cli("log", "--amend", logged, "--issue", "hiring")
    assert same.exit_code == 0
    assert same.stdout == f"Nothing to change: meeting {logged} already says that.\n"


def test_amend_to_a_removed_peer_is_refused(cli: Invoke, logged: str) -> None:
    assert cli("remove", "Bo Chen", "--yes").exit_code == 0
    assert cli("log", "--amend", logged, "Zed").exit_code == 3


def test_amend_refuses_reflections_and_reviews(cli: Invoke, store: Store, four: None) -> None:
    store.save_year(
        JournalYear(year=2026, reflections=(Reflection(id="20260303-psve7", date=D(2026, 3, 3)),))
    )
    result = cli("log", "--amend", "20260303-psve7", "--note", "x")
    assert result.exit_code == 3
    assert result.stderr == (
        "peerloop: error: 20260303-psve7 is a reflection; `peerloop log --amend` changes meetings and skips only\n"
    )


def test_forget_with_yes_deletes_the_entry(cli: Invoke, store: Store, logged: str) -> None:
    result = cli("forget", logged, "--yes")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Forgot meeting {logged} with Ann Lee on Tue 2026-03-03.\n"
    assert store.load_year(2026).meetings == ()
    assert json.loads(cli("next", "--json").stdout)["peer"] == "Ann Lee"


def test_forget_off_a_terminal_needs_yes(cli: Invoke, store: Store, logged: str) -> None:
    result = cli("forget", logged)
    assert result.exit_code == 2
    assert result.stderr == "peerloop: error: pass --yes to confirm (no terminal to ask on)\n"
    assert len(store.load_year(2026).meetings) == 1


def test_forget_on_a_terminal_asks_first(cli: Invoke, store: Store, logged: str, terminal: None) -> None:
    kept = cli("forget", logged, input="n\n")
    assert kept.exit_code == 0
    assert (
        f"Forget meeting {logged} with Ann Lee on Tue 2026-03-03? This cannot be undone. [y/N]: "
        in kept.stderr
    )
    assert "Nothing forgotten." in kept.stderr
    assert len(store.load_year(2026).meetings) == 1
    assert cli("forget", logged, input="y\n").exit_code == 0
    assert store.load_year(2026).meetings == ()


def test_forget_an_unknown_id(cli: Invoke, logged: str) -> None:
    result = cli("forget", "20260303-xrdx2", "--yes")
    assert result.exit_code == 3
    assert result.stderr == (
        "peerloop: error: no journal entry with id '20260303-xrdx2'; `peerloop history` shows each entry's id\n"
    )


def test_forget_finds_a_hand_made_id_in_any_year(cli: Invoke, store: Store, four: None) -> None:
    store.save_year(JournalYear(year=2025, skips=(Skip(id="old", date=D(2025, 5, 5), reason="x"),)))
    store.save_year(
        JournalYear(year=2026, skips=(Skip(id="20250505-sf0zk", date=D(2026, 1, 6), reason="y"),))
    )
    assert cli("forget", "old", "--yes").exit_code == 0
    assert store.load_year(2025).skips == ()
    assert cli("forget", "20250505-sf0zk", "--yes").exit_code == 0
    assert skips_of(store) == ()


def test_only_the_changed_year_file_is_written(cli: Invoke, store: Store, four: None) -> None:
    assert cli("log", "--date", "2025-12-02", "Ann Lee").exit_code == 0
    old = store.year_path(2025).stat().st_mtime_ns
    assert cli("log", "Bo Chen").exit_code == 0
    assert cli("log", "--amend", "20260303-psve7", "--note", "x").exit_code == 0
    assert cli("forget", "20260303-psve7", "--yes").exit_code == 0
    assert store.year_path(2025).stat().st_mtime_ns == old


def meeting(id_: str, day: dt.date, peer: str = "Ann Lee", **fields: object) -> Meeting:
    return Meeting(id=id_, date=day, peer=peer, mode=Mode.COFFEE, **fields)  # type: ignore[arg-type]


def skip(id_: str, day: dt.date, peer: str | None = "Ann Lee") -> Skip:
    return Skip(id=id_, date=day, reason="travel", peer=peer)


SETTINGS = Settings(
    name="Dana", timezone="Europe/Berlin", weekday=1, time=dt.time(8, 30), duration=45, mode=Mode.COFFEE,
    trial_start=D(2026, 3, 2),
)  # fmt: skip


ADDED = D(2026, 3, 2)


def roster(*names: str) -> Roster:
    return Roster(settings=SETTINGS, peers=tuple(Peer(name=n, added=ADDED) for n in names))


def test_add_replace_remove_keep_each_kind_in_its_place() -> None:
    year = JournalYear(year=2026)
    first = meeting("20260310-vzrq2", D(2026, 3, 10))
    year = journal.add_entry(year, first)
    year = journal.add_entry(year, skip("20260317-dvvbh", D(2026, 3, 17)))
    assert [m.id for m in year.meetings] == ["20260310-vzrq2"]
    assert [s.id for s in year.skips] == ["20260317-dvvbh"]
    with pytest.raises(ValueError, match="already taken"):
        journal.add_entry(year, first)
    with pytest.raises(ValueError, match="does not belong"):
        journal.add_entry(year, meeting("20250310-bmpcd", D(2025, 3, 10)))
    changed = meeting("20260311-p6e1e", D(2026, 3, 11), issue="hiring")
    year = journal.replace_entry(year, "20260310-vzrq2", changed)
    assert year.meetings == (changed,)
    year, removed = journal.remove_entry(year, "20260317-dvvbh")
    assert removed.id == "20260317-dvvbh"
    assert year.skips == ()
    with pytest.raises(ConflictError, match="no journal entry with id 'nope'; `peerloop history`"):
        journal.remove_entry(year, "nope")


def test_moving_an_entry_to_another_year_changes_both_files() -> None:
    old = meeting("20260105-h1cj9", D(2026, 1, 5))
    source = JournalYear(year=2026, meetings=(old,))
    target = JournalYear(year=2025)
    moved = meeting("20251229-m36cd", D(2025, 12, 29))
    new_source, new_target = journal.move_entry(source, target, old.id, moved)
    assert new_source.meetings == ()
    assert new_target.meetings == (moved,)
    (same,) = journal.move_entry(source, source, old.id, meeting("20260106-xceat", D(2026, 1, 6)))
    assert [m.id for m in same.meetings] == ["20260106-xceat"]


def test_a_future_date_is_refused_naming_the_flag() -> None:
    assert journal.check_not_future(D(2026, 3, 10), D(2026, 3, 10)) == D(2026, 3, 10)
    with pytest.raises(InputError, match=r"^--date 2026-03-11 is in the future \(today is 2026-03-10\)"):
        journal.check_not_future(D(2026, 3, 11), D(2026, 3, 10))


def test_weeks_around_new_year_span_two_files() -> None:
    assert journal.week_years(D(2026, 1, 1)) == {2025, 2026}
    assert journal.week_years(D(2026, 3, 10)) == {2026}
    logged = [meeting("20251229-m36cd", D(2025, 12, 29)), skip("20260105-h1cj9", D(2026, 1, 5))]
    assert [e.id for e in journal.entries_in_week(logged, D(2026, 1, 2))] == ["20251229-m36cd"]
    assert journal.entries_in_week(logged, D(2026, 1, 2), ignore="20251229-m36cd") == []


def test_a_skip_in_a_done_week_names_the_entry_and_forget() -> None:
    logged = [meeting("20260310-vzrq2", D(2026, 3, 10))]
    journal.check_skip_week(logged, D(2026, 3, 17))
    with pytest.raises(ConflictError) as caught:
        journal.check_skip_week(logged, D(2026, 3, 12))
    assert caught.value.message == (
        "the week of 2026-03-09 is already done: it holds meeting 20260310-vzrq2 with Ann Lee; "
        "to record a skip instead, run `peerloop forget 20260310-vzrq2` first"
    )
    journal.check_skip_week(logged, D(2026, 3, 12), ignore="20260310-vzrq2")


def test_an_extra_meeting_is_explained_not_refused() -> None:
    assert journal.extra_meeting_note([], D(2026, 3, 10)) is None
    note = journal.extra_meeting_note([meeting("20260310-vzrq2", D(2026, 3, 10))], D(2026, 3, 12))
    assert note == (
        "the week of 2026-03-09 already holds meeting 20260310-vzrq2 with Ann Lee: this meeting counts as an "
        "extra, not as next week's"
    )
    after_skip = journal.extra_meeting_note([skip("20260310-vzrq2", D(2026, 3, 10))], D(2026, 3, 12))
    assert after_skip is not None
    assert after_skip.endswith("if the meeting did happen, `peerloop forget 20260310-vzrq2`")


def test_an_unknown_name_is_told_apart_from_a_removed_peer() -> None:
    current = roster("Bo Chen")
    with pytest.raises(ConflictError) as removed:
        find_peer(current, "ann", lambda: ["Ann Lee", "Bo Chen"])  # the loose names a roster peer takes
    assert removed.value.message == (
        "Ann Lee is no longer in the roster (removed; the journal keeps their entries); "
        'add them back with `peerloop add "Ann Lee"`'
    )
    with pytest.raises(ConflictError) as stranger:
        find_peer(current, "Zed", lambda: ["Ann Lee"])
    assert (
        stranger.value.message == "no peer named 'Zed' in the roster (peers: Bo Chen); see `peerloop peers`"
    )


def test_a_meeting_before_a_peer_was_added_moves_added_back() -> None:
    current = roster("Ann Lee", "Bo Chen")
    earlier = journal.with_added_back(current, "ann lee", D(2025, 12, 16))
    assert [p.added for p in earlier.peers] == [D(2025, 12, 16), D(2026, 3, 2)]
    assert journal.with_added_back(current, "Ann Lee", D(2026, 3, 10)) is current
    assert journal.with_added_back(current, "Gone", D(2020, 1, 1)) is current


def test_gains_accept_commas_spaces_and_repeats() -> None:
    assert journal.parse_gains(["advice, Strength", "advice", "motivation"]) == (
        Gain.ADVICE, Gain.STRENGTH, Gain.MOTIVATION
    )  # fmt: skip
    assert journal.parse_gains([""]) == ()
    with pytest.raises(ValueError, match="'luck' is not a gain; use one of advice, strength, motivation"):
        journal.parse_gains(["luck"])


def test_text_is_kept_exactly_and_blank_means_none() -> None:
    assert journal.text_or_none("  two\nlines ") == "  two\nlines "
    assert journal.text_or_none(" \t") is None
    assert journal.text_or_none(None) is None
    assert journal.check_text("\x00\x1b😀", "--note") == "\x00\x1b😀"


def test_text_that_is_not_utf8_is_refused_naming_the_flag() -> None:
    """Bytes that are not UTF-8 reach Python's argv as lone surrogates, which cannot be written to a file."""
    with pytest.raises(InputError, match=r"^--note: the text is not valid UTF-8 \(a stray byte"):
        journal.check_text("caf\udce9", "--note")


def test_follow_ups_keep_their_numbers_and_a_new_one_takes_the_next_free() -> None:
    items = (FollowUp("a", n=1), FollowUp("b", n=2), FollowUp("c", n=3), FollowUp("d", done=True, n=4))
    original = meeting("20260310-vzrq2", D(2026, 3, 10), follow_ups=items)
    changes = journal.FollowUpChanges(done=(1,), reopen=(4,), drop=(3,), add=("e", " "))
    assert journal.change_follow_ups(original, changes) == (
        FollowUp("a", True, 1), FollowUp("b", False, 2), FollowUp("d", False, 4), FollowUp("e", False, 5)
    )  # fmt: skip
    with pytest.raises(
        ConflictError, match=r"^--done: meeting 20260310-vzrq2 has no follow-up 20260310-vzrq2.5 \(it has"
    ):
        journal.change_follow_ups(original, journal.FollowUpChanges(done=(5,)))
    with pytest.raises(ConflictError, match=r"\(it has: none\)"):
        journal.change_follow_ups(
            meeting("20260310-qmkfy", D(2026, 3, 10)), journal.FollowUpChanges(drop=(1,))
        )
    with pytest.raises(InputError, match=r"follow-up 20260310-vzrq2.2 cannot be both done and reopened"):
        journal.change_follow_ups(original, journal.FollowUpChanges(done=(2,), reopen=(2,)))


def test_a_handle_names_its_meeting_and_its_number() -> None:
    assert journal.parse_handle(" 20260310-vzrq2.2 ") == ("20260310-vzrq2", 2)
    assert journal.handle(meeting("20260310-vzrq2", D(2026, 3, 10)), FollowUp("x", n=3)) == "20260310-vzrq2.3"
    for bad in ("20260310-vzrq2", "20260310-vzrq2.0", "send the deck", "20260310-vzrq2.x"):
        with pytest.raises(ValueError, match="is not a follow-up handle"):
            journal.parse_handle(bad)


def test_open_follow_ups_come_from_every_meeting_with_the_peer_oldest_first() -> None:
    older = meeting(
        "20260303-psve7", D(2026, 3, 3), follow_ups=(FollowUp("deck", n=1), FollowUp("done", True, 2))
    )
    newer = meeting("20260310-vzrq2", D(2026, 3, 10), follow_ups=(FollowUp("venue", n=1),))
    other = meeting("20260317-dvvbh", D(2026, 3, 17), peer="Bo Chen", follow_ups=(FollowUp("bo's", n=1),))
    found = journal.open_follow_ups([newer, other, older], "ann lee")
    assert [(m.id, item.text) for m, item in found] == [
        ("20260303-psve7", "deck"),
        ("20260310-vzrq2", "venue"),
    ]


def test_changed_fields_name_what_an_amend_changed() -> None:
    before = meeting("20260310-vzrq2", D(2026, 3, 10))
    after = meeting("20260311-p6e1e", D(2026, 3, 11), issue="x")
    assert journal.changed_fields(before, after) == ["date", "issue"]
    assert journal.changed_fields(before, before) == []


def test_meeting_stats_count_per_peer_whatever_the_case() -> None:
    logged = [
        meeting("20260310-vzrq2", D(2026, 3, 10)),
        meeting("20260303-psve7", D(2026, 3, 3), peer="ANN LEE"),
        meeting("20260317-dvvbh", D(2026, 3, 17), peer="Bo Chen"),
    ]
    assert roster_rules.meeting_stats(logged) == {
        "ann lee": (D(2026, 3, 10), 2),
        "bo chen": (D(2026, 3, 17), 1),
    }


def test_next_turns_follow_the_plan_and_wait_for_a_pause_to_end() -> None:
    current = roster("Ann Lee", "Bo Chen", "Cy Dee")
    paused = Peer(name="Di Eng", added=D(2026, 3, 2), paused_until=D(2026, 5, 1))
    current = Roster(settings=SETTINGS, peers=(*current.peers, paused))
    history = rotation.history_from([meeting("20260303-psve7", D(2026, 3, 3))], [])
    turns = roster_rules.next_turns(current, SETTINGS, history, D(2026, 3, 4))
    assert turns == {
        "bo chen": D(2026, 3, 10),
        "cy dee": D(2026, 3, 17),
        "ann lee": D(2026, 3, 24),
        "di eng": D(2026, 5, 5),
    }
    assert roster_rules.next_turns(Roster(settings=SETTINGS), SETTINGS, history, D(2026, 3, 4)) == {}


def test_entry_json_carries_id_kind_date_peer_and_every_field() -> None:
    full = meeting(
        "20260310-vzrq2", D(2026, 3, 10), issue="i", gains=(Gain.ADVICE,), win="w", works="ww", improve="im",
        follow_ups=(FollowUp("a", n=1), FollowUp("b", done=True, n=2)), note="n",
    )  # fmt: skip
    assert entry_json(full) == {
        "id": "20260310-vzrq2", "kind": "meeting", "date": D(2026, 3, 10), "peer": "Ann Lee", "mode": "coffee",
        "issue": "i", "gains": ["advice"], "win": "w", "works": "ww", "improve": "im",
        "follow_ups": [{"handle": "20260310-vzrq2.1", "n": 1, "text": "a", "done": False},
                       {"handle": "20260310-vzrq2.2", "n": 2, "text": "b", "done": True}],
        "note": "n", "replaced": [],
    }  # fmt: skip
    merged = skip("20260317-dvvbh", D(2026, 3, 17), peer=None)._replace(
        replaced=(Replaced(dt.datetime(2026, 3, 17, 9, tzinfo=dt.UTC), {"reason": "flu"}),)
    )
    assert entry_json(merged) == {
        "id": "20260317-dvvbh", "kind": "skip", "date": D(2026, 3, 17), "peer": None, "reason": "travel",
        "replaced": [{"changed": dt.datetime(2026, 3, 17, 9, tzinfo=dt.UTC), "fields": {"reason": "flu"}}],
    }  # fmt: skip


def test_renaming_a_peer_rewrites_their_meetings_and_skips_only() -> None:
    from peerloop.core.journal import renamed_peer
    from peerloop.core.models import JournalYear, Meeting, Mode, Skip

    day = dt.date(2026, 3, 3)
    year = JournalYear(
        year=2026,
        meetings=(Meeting("a", day, "ann lee", Mode.COFFEE), Meeting("b", day, "Bo", Mode.CALL)),
        skips=(Skip("c", day, "travel", "ANN LEE"), Skip("d", day, "sick", None)),
    )
    renamed = renamed_peer(year, "Ann Lee", "Ann Li")
    assert [m.peer for m in renamed.meetings] == ["Ann Li", "Bo"]
    assert [s.peer for s in renamed.skips] == ["Ann Li", None]
    assert renamed_peer(year, "Nobody", "X") == year
