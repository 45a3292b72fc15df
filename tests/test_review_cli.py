"""`peerloop review`, and the reminder every command prints on stderr once the review is due."""

from __future__ import annotations

import datetime as dt
import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from peerloop import prompts
from peerloop.models import (
    Decision,
    FollowUp,
    Gain,
    JournalYear,
    Meeting,
    Mode,
    Reflection,
    Review,
    Skip,
    Verdict,
)
from peerloop.reminder import review_reminder
from peerloop.session import Store
from tests.conftest import Invoke

PEERS = ("Ann Lee", "Bo Chen", "Cy Dee", "Di Eze")
REMINDER = (
    "peerloop: your 6-month trial ended on Wed 2026-09-02: run `peerloop review` to decide whether to "
    "continue, adjust or stop.\n"
)
ANSWERS = ("--added-value", "partly", "--works", "the Tuesday slot", "--improve", "fewer calls")


def write(store: Store, *entries: Meeting | Skip | Reflection | Review) -> None:
    for year in sorted({e.date.year for e in entries}):
        current = store.load_year(year)
        mine = [e for e in entries if e.date.year == year]
        store.save_year(
            JournalYear(
                year=year,
                meetings=(*current.meetings, *(e for e in mine if isinstance(e, Meeting))),
                skips=(*current.skips, *(e for e in mine if isinstance(e, Skip))),
                reflections=(*current.reflections, *(e for e in mine if isinstance(e, Reflection))),
                reviews=(*current.reviews, *(e for e in mine if isinstance(e, Review))),
            )
        )


def a_trial(store: Store) -> None:
    """Three weeks of a trial: two meetings, one skip, and the coaching thoughts at the start."""
    write(
        store,
        Reflection(id="20260302-9", date=dt.date(2026, 3, 2), names=("Ann Lee", "Bo Chen"), why="new job",
                   excuses=("no time", "it feels awkward"), ceo="Make time."),
        Meeting(id="20260303-1", date=dt.date(2026, 3, 3), peer="Ann Lee", mode=Mode.COFFEE,
                gains=(Gain.ADVICE, Gain.STRENGTH), win="hired a VP", follow_ups=(FollowUp("send the deck"),)),
        Skip(id="20260310-1", date=dt.date(2026, 3, 10), reason="no time", peer="Bo Chen"),
        Meeting(id="20260317-1", date=dt.date(2026, 3, 17), peer="Bo Chen", mode=Mode.LUNCH,
                gains=(Gain.MOTIVATION,), works="lunch is better", improve="start on time"),
    )  # fmt: skip


@pytest.fixture
def due(set_up: Callable[..., None], store: Store, at: Callable[[str], None]) -> None:
    """A trial from 2026-03-02 whose review date (2026-09-02) has passed."""
    set_up(*PEERS)
    a_trial(store)
    at("2026-09-07T12:00")


# --- the reminder ------------------------------------------------------------------------------------------


def test_the_reminder_appears_from_the_review_date_on_and_only_on_stderr(
    cli: Invoke, set_up: Callable[..., None], at: Callable[[str], None]
) -> None:
    set_up(*PEERS)
    at("2026-09-01T23:00")
    assert cli("peers").stderr == ""
    at("2026-09-02T00:30")
    result = cli("peers")
    assert result.exit_code == 0
    assert result.stderr == REMINDER
    assert "peerloop review" not in result.stdout


@pytest.mark.usefixtures("due")
@pytest.mark.parametrize(
    "args",
    [["next", "--json"], ["plan", "--json"], ["peers", "--json"], ["review", "--json"],
     ["status", "--json"]],
)  # fmt: skip
def test_json_stays_valid_while_the_reminder_shows(cli: Invoke, args: list[str]) -> None:
    result = cli(*args)
    assert result.exit_code == 0, result.output
    json.loads(result.stdout)
    if args[0] != "review":
        assert result.stderr.endswith(REMINDER)


@pytest.mark.usefixtures("due")
def test_the_reminder_is_printed_once_and_not_for_help_version_errors_or_review(cli: Invoke) -> None:
    assert cli("next").stderr.count("peerloop review") == 1
    assert cli("--version").stderr == ""
    assert cli("next", "--help").stderr == ""
    assert cli("--help").stderr == ""
    assert cli("add", "ann lee").stderr.count("peerloop review") == 0  # a failure reports only itself
    assert "peerloop: your" not in cli("review", "--json").stderr
    assert cli("status", "--check").stderr.count("peerloop review") == 1  # its own reason, not both


@pytest.mark.usefixtures("due")
def test_the_reminder_follows_the_home_the_command_used(cli: Invoke, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    assert cli("--home", str(elsewhere), "next").stderr.count("peerloop review") == 0


@pytest.mark.usefixtures("due")
def test_the_reminder_disappears_after_the_review(cli: Invoke, store: Store) -> None:
    assert review_reminder(store) == REMINDER.rstrip("\n")
    assert cli("review", *ANSWERS, "--decision", "continue").exit_code == 0
    assert review_reminder(store) is None
    assert cli("peers").stderr == ""


def test_a_review_of_an_earlier_trial_does_not_silence_the_reminder(
    cli: Invoke, set_up: Callable[..., None], store: Store, at: Callable[[str], None]
) -> None:
    set_up(*PEERS)
    write(store, Review(id="20260302-8", date=dt.date(2026, 3, 2), trial_start=dt.date(2025, 9, 1),
                        added_value=Verdict.YES, decision=Decision.CONTINUE))  # fmt: skip
    at("2026-09-03T12:00")
    assert cli("peers").stderr == REMINDER


def test_an_early_stop_silences_the_reminder_even_from_an_earlier_year(
    cli: Invoke, set_up: Callable[..., None], store: Store, at: Callable[[str], None]
) -> None:
    set_up(*PEERS, start="2025-10-06", now="2025-10-06T09:00")
    at("2025-12-15T12:00")
    assert cli("review", "--early", "--added-value", "no", "--decision", "stop").exit_code == 0
    at("2026-04-07T12:00")
    assert store.load_roster().settings.trial_end == dt.date(2026, 4, 6)  # type: ignore[union-attr]
    assert cli("peers").stderr == ""


@pytest.mark.usefixtures("due")
def test_a_damaged_journal_does_not_break_the_reminder(cli: Invoke, store: Store) -> None:
    store.year_path(2026).write_text("schema_version = [", encoding="utf-8")
    assert review_reminder(store) is None
    result = cli("add", "Eve Fox")
    assert result.exit_code == 0
    assert result.stderr == ""


# --- the review --------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("due")
def test_review_shows_the_evidence_then_records_the_answers(cli: Invoke, store: Store) -> None:
    result = cli("review", *ANSWERS, "--decision", "continue")
    assert result.exit_code == 0, result.output
    out = result.stdout
    evidence = [
        "The review of your 6-month trial: Mon 2026-03-02 to Wed 2026-09-02",
        "Process: did the meetings happen?",
        "  ●○●" + "×" * 23,  # noqa: RUF001 (the trial's 26 weeks)
        "  2 of 26 weeks kept (2 meetings); 1 skipped, 23 missed",
        "Content: what did they give you?",
        "  Gains: advice 1, strength 1, motivation 1 (in 2 meetings)",
        "    Tue 2026-03-03, Ann Lee: hired a VP",
        "    Tue 2026-03-03, Ann Lee: send the deck",
        "    Tue 2026-03-17, Bo Chen: lunch is better",
        "    Tue 2026-03-17, Bo Chen: start on time",
        "  The excuses you listed at the start: no time; it feels awkward",
        "    Tue 2026-03-10, Bo Chen: no time",
        "    Your CEO might say: Make time.",
        "Saved your review of Mon 2026-09-07 (20260907-1): it partly added value; decision: continue.",
        "A new 6-month trial starts today: Mon 2026-09-07 to Sun 2027-03-07 (26 weeks). "
        "`peerloop status` shows where it stands.",
    ]
    lines = out.splitlines()
    positions = [lines.index(line) for line in evidence]
    assert positions == sorted(positions)
    assert "An early review" not in out
    [review] = store.load_journal().reviews
    assert review == Review(
        id="20260907-1", date=dt.date(2026, 9, 7), trial_start=dt.date(2026, 3, 2), added_value=Verdict.PARTLY,
        decision=Decision.CONTINUE, works="the Tuesday slot", improve="fewer calls",
    )  # fmt: skip
    settings = store.load_roster().settings
    assert settings is not None
    assert settings.trial_start == dt.date(2026, 9, 7)


@pytest.mark.usefixtures("due")
def test_adjust_starts_a_new_trial_and_says_which_commands_adjust(cli: Invoke, store: Store) -> None:
    result = cli("review", "--added-value", "yes", "--decision", "adjust")
    assert result.exit_code == 0, result.output
    assert (
        "`peerloop add NAME`, `peerloop remove NAME` and `peerloop pause NAME --until DATE`" in result.stdout
    )
    assert (
        "`peerloop init --day DAY --time HH:MM --duration MIN --mode MODE` changes the slot" in result.stdout
    )
    assert store.load_roster().settings.trial_start == dt.date(2026, 9, 7)  # type: ignore[union-attr]


@pytest.mark.usefixtures("due")
def test_stop_keeps_the_settings_and_a_second_review_is_refused(cli: Invoke, store: Store) -> None:
    before = store.load_roster().settings
    result = cli("review", "--added-value", "no", "--decision", "stop")
    assert result.exit_code == 0, result.output
    assert "The loop stops here." in result.stdout
    assert before is not None
    assert store.load_roster().settings == before._replace(stopped_on=dt.date(2026, 9, 7))
    again = cli("review", "--added-value", "yes", "--decision", "continue")
    assert again.exit_code == 3
    assert again.stderr == (
        "peerloop: error: you reviewed this trial on 2026-09-07 and decided to stop; "
        "`peerloop init --start DATE` starts a new trial\n"
    )


def test_an_early_review_needs_early(
    cli: Invoke, set_up: Callable[..., None], store: Store, at: Callable[[str], None]
) -> None:
    set_up(*PEERS)
    a_trial(store)
    at("2026-06-01T12:00")
    refused = cli("review", "--added-value", "yes", "--decision", "continue")
    assert refused.exit_code == 2
    assert refused.stderr == (
        "peerloop: error: the trial runs until 2026-09-02, 13 weeks from now; to review it now, pass --early\n"
    )
    assert store.load_journal().reviews == ()
    result = cli("review", "--early", "--added-value", "yes", "--decision", "continue")
    assert result.exit_code == 0, result.output
    assert "An early review: the review date is 13 weeks away." in result.stdout
    [review] = store.load_journal().reviews
    assert review.early
    assert store.load_roster().settings.trial_start == dt.date(2026, 6, 1)  # type: ignore[union-attr]


@pytest.mark.usefixtures("due")
def test_off_a_terminal_the_review_names_its_flags(cli: Invoke, store: Store) -> None:
    for args in ([], ["--added-value", "yes"], ["--decision", "stop"], ["--json", "--works", "x"]):
        result = cli("review", *args)
        assert result.exit_code == 2, args
        assert result.stderr == (
            "peerloop: error: the review needs --added-value (yes, partly, no) and --decision (continue, adjust, "
            "stop) when there is no terminal to ask on (--works and --improve are optional)\n"
        )
    assert cli("review", "--added-value", "maybe", "--decision", "stop").stderr == (
        "peerloop: error: Invalid value for '--added-value': 'maybe' is not one of 'yes', 'partly', 'no'. "
        "(see 'peerloop review --help')\n"
    )
    assert store.load_journal().reviews == ()


@pytest.mark.usefixtures("due")
def test_review_json_alone_prints_the_evidence_and_records_nothing(cli: Invoke, store: Store) -> None:
    result = cli("review", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {
        "trial", "weeks", "meetings", "skips", "peers", "gains", "wins", "follow_ups", "works", "improve",
        "skip_reasons", "excuses", "reflections", "touches", "purpose", "review",
    }  # fmt: skip
    assert data["trial"] == {
        "start": "2026-03-02", "end": "2026-09-02", "weeks": 26, "week": 28, "today": "2026-09-07", "early": False,
    }  # fmt: skip
    assert data["weeks"]["kept"] == 2
    assert data["meetings"] == 2
    assert data["skips"] == 1
    assert data["peers"][0] == {"name": "Ann Lee", "meetings": 1, "last_met": "2026-03-03", "in_roster": True}
    assert data["gains"] == {"advice": 1, "strength": 1, "motivation": 1}
    assert data["wins"] == [{"date": "2026-03-03", "peer": "Ann Lee", "text": "hired a VP"}]
    assert data["follow_ups"] == [{"date": "2026-03-03", "peer": "Ann Lee", "text": "send the deck"}]
    assert data["skip_reasons"] == [{"date": "2026-03-10", "peer": "Bo Chen", "text": "no time"}]
    assert data["excuses"] == ["no time", "it feels awkward"]
    assert data["reflections"][0]["ceo"] == "Make time."
    assert data["review"] is None
    assert store.load_journal().reviews == ()


@pytest.mark.usefixtures("due")
def test_review_json_with_answers_records_and_keeps_stdout_json(cli: Invoke, store: Store) -> None:
    result = cli("review", "--json", *ANSWERS, "--decision", "stop")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["review"] == {
        "date": "2026-09-07", "trial_start": "2026-03-02", "added_value": "partly", "works": "the Tuesday slot",
        "improve": "fewer calls", "decision": "stop", "early": False,
    }  # fmt: skip
    assert "Saved your review" in result.stderr
    assert len(store.load_journal().reviews) == 1


@pytest.mark.usefixtures("due")
def test_review_report_writes_a_private_markdown_file(cli: Invoke, tmp_path: Path) -> None:
    report = tmp_path / "review-2026.md"
    result = cli("review", *ANSWERS, "--decision", "adjust", "--report", str(report))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    text = report.read_text(encoding="utf-8")
    assert text.startswith("# Peer network review: trial of 2026-03-02 to 2026-09-02\n")
    for expected in ("## Process", "| Ann Lee | 1 | 2026-03-03 |", "- 2026-03-03, Ann Lee: hired a VP",
                     "- it feels awkward", "- 2026-03-10, Bo Chen: no time", "- Did it add value? partly",
                     "- What works well? the Tuesday slot", "- Decision: adjust"):  # fmt: skip
        assert expected in text
    assert f"Wrote the evidence and your answers to {report}" in result.stdout


@pytest.mark.usefixtures("due")
def test_a_report_that_cannot_be_written_records_nothing(cli: Invoke, store: Store, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    result = cli("review", *ANSWERS, "--decision", "stop", "--report", str(blocker / "review.md"))
    assert result.exit_code == 2  # checked before anything is written: its folder is a file
    assert "--report: the folder" in result.stderr
    assert store.load_journal().reviews == ()


@pytest.mark.usefixtures("due")
def test_review_on_a_terminal_asks_after_the_evidence(
    cli: Invoke, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prompts, "interactive", lambda: True)
    result = cli("review", input="maybe\nyes\nthe cadence\n\nkeep going\ncontinue\n")
    assert result.exit_code == 0, result.output
    assert "Did the peer meetings add value? (yes, partly, no)" in result.stderr
    assert "'maybe' is not a verdict" in result.stderr
    assert "'keep going' is not a decision" in result.stderr
    [review] = store.load_journal().reviews
    assert (review.added_value, review.works, review.improve, review.decision) == (
        Verdict.YES, "the cadence", None, Decision.CONTINUE,
    )  # fmt: skip
    assert result.stdout.index("The review of your 6-month trial") < result.stdout.index("Saved your review")
