"""`peerloop status`: week k of N at a glance, in text and JSON, and `--check` for cron."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

from peerloop.models import Decision, JournalYear, Meeting, Mode, Review, Skip, Verdict
from peerloop.session import Store
from tests.conftest import Invoke

PEERS = ("Ann Lee", "Bo Chen", "Cy Dee", "Di Eze")
LEGEND = "  ● kept  ○ skipped  × missed  ◌ this week, open  · to come"  # noqa: RUF001
REMINDER = (
    "peerloop: your 6-month trial ended on Wed 2026-09-02: run `peerloop review` to decide whether to "
    "continue, adjust or stop.\n"
)


def write(store: Store, *entries: Meeting | Skip | Review) -> None:
    """Journal entries written straight to the files (the log command is tested elsewhere)."""
    for year in sorted({e.date.year for e in entries}):
        current = store.load_year(year)
        store.save_year(
            JournalYear(
                year=year,
                meetings=(
                    *current.meetings,
                    *(e for e in entries if isinstance(e, Meeting) and e.date.year == year),
                ),
                skips=(*current.skips, *(e for e in entries if isinstance(e, Skip) and e.date.year == year)),
                reviews=(
                    *current.reviews,
                    *(e for e in entries if isinstance(e, Review) and e.date.year == year),
                ),
            )
        )


def met(day: str, peer: str) -> Meeting:
    return Meeting(
        id=f"{day.replace('-', '')}-1", date=dt.date.fromisoformat(day), peer=peer, mode=Mode.COFFEE
    )


def skipped(day: str, reason: str, peer: str | None = None) -> Skip:
    return Skip(id=f"{day.replace('-', '')}-2", date=dt.date.fromisoformat(day), reason=reason, peer=peer)


def test_status_before_init_points_to_init(cli: Invoke) -> None:
    for args in (["status"], ["status", "--json"], ["status", "--check"]):
        result = cli(*args)
        assert result.exit_code == 6
        assert result.stderr == "peerloop: error: peerloop is not set up yet; run `peerloop init` first\n"


def test_status_shows_the_week_the_strip_the_counts_the_skips_and_the_next_meeting(
    cli: Invoke, set_up: Callable[..., None], store: Store, at: Callable[[str], None]
) -> None:
    set_up(*PEERS)
    write(
        store,
        met("2026-03-03", "Ann Lee"),
        skipped("2026-03-10", "board week", "Bo Chen"),
        met("2026-03-17", "Bo Chen"),
    )
    at("2026-03-31T12:00")
    result = cli("status")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Trial week 5 of 26 (Mon 2026-03-02 to Wed 2026-09-02)",
        "  ●○●×◌" + "·" * 21,  # noqa: RUF001
        LEGEND,
        "Meetings  2 of 5 weeks kept so far; 1 skipped, 1 missed, this week open",
        "Skips     Tue 2026-03-10: board week",
        "Next      Tue 2026-03-31, 08:30-09:15 (Europe/Berlin): coffee with Cy Dee",
        "Review    Wed 2026-09-02, in 22 weeks",
        "Calendar  not given the plan yet: `peerloop export`, or `peerloop connect caldav` and `peerloop sync`",
    ]
    assert result.stderr == ""


def test_status_marks_this_weeks_meeting_overdue_once_its_day_has_passed(
    cli: Invoke, set_up: Callable[..., None], at: Callable[[str], None]
) -> None:
    set_up(*PEERS)
    at("2026-03-04T12:00")
    assert "coffee with Ann Lee (overdue)" in cli("status").stdout


def test_status_before_the_trial_starts(cli: Invoke, set_up: Callable[..., None]) -> None:
    set_up(*PEERS, start="2026-03-11", now="2026-03-02T09:00")
    lines = cli("status").stdout.splitlines()
    assert (
        lines[0]
        == "The trial starts in the week of Mon 2026-03-16: Wed 2026-03-11 to Fri 2026-09-11, 26 weeks"
    )
    assert lines[1] == "  " + "·" * 26
    assert lines[3] == "Meetings  none yet"
    data = json.loads(cli("status", "--json").stdout)
    assert data["trial"]["week"] == 0
    assert data["weeks"] == []
    assert data["next"]["date"] == "2026-03-17"


def test_status_with_no_peers_says_how_to_add_them(cli: Invoke, set_up: Callable[..., None]) -> None:
    set_up()
    result = cli("status")
    assert result.exit_code == 0
    assert "Next      none yet: add the 4 to 5 peers you will meet with `peerloop add NAME`" in result.stdout
    assert json.loads(cli("status", "--json").stdout)["next"] is None
    assert cli("status", "--check").exit_code == 0


def test_status_json_shape(
    cli: Invoke, set_up: Callable[..., None], store: Store, at: Callable[[str], None]
) -> None:
    set_up(*PEERS)
    write(store, met("2026-03-03", "Ann Lee"), skipped("2026-03-10", "board week", "Bo Chen"))
    at("2026-03-18T12:00")
    data = json.loads(cli("status", "--json").stdout)
    assert set(data) == {
        "today", "trial", "strip", "weeks", "planned", "kept", "skipped", "missed", "open", "meetings", "skips",
        "next", "overdue", "review", "check", "calendar", "invitations", "paused",
    }  # fmt: skip
    assert data["today"] == "2026-03-18"
    assert data["trial"] == {"start": "2026-03-02", "end": "2026-09-02", "week": 3, "weeks": 26}
    assert data["strip"] == "●○◌" + "·" * 23
    assert data["weeks"] == [
        {"week": 1, "monday": "2026-03-02", "state": "kept"},
        {"week": 2, "monday": "2026-03-09", "state": "skipped"},
        {"week": 3, "monday": "2026-03-16", "state": "open"},
    ]
    assert (data["planned"], data["kept"], data["skipped"], data["missed"], data["open"]) == (3, 1, 1, 0, 1)
    assert data["meetings"] == 1
    assert data["skips"] == [{"date": "2026-03-10", "peer": "Bo Chen", "reason": "board week"}]
    assert data["next"]["peer"] == "Bo Chen"
    assert data["next"]["date"] == "2026-03-17"
    assert data["overdue"] is True
    assert data["review"] == {"date": "2026-09-02", "due": False, "done": None, "decision": None}
    assert data["check"]["code"] == 10


def test_check_is_silent_and_zero_when_on_track(cli: Invoke, set_up: Callable[..., None]) -> None:
    set_up(*PEERS)
    result = cli("status", "--check")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


def test_check_exits_10_when_this_weeks_meeting_is_overdue(
    cli: Invoke, set_up: Callable[..., None], store: Store, at: Callable[[str], None]
) -> None:
    set_up(*PEERS)
    at("2026-03-04T12:00")
    result = cli("status", "--check")
    assert result.exit_code == 10
    assert result.stdout == ""
    assert result.stderr == (
        "peerloop: this week's coffee with Ann Lee (Tue 2026-03-03) is overdue: log it with `peerloop log`, "
        "or `peerloop log --skip --reason TEXT`\n"
    )
    write(store, skipped("2026-03-04", "ill"))
    assert cli("status", "--check").exit_code == 0


def test_check_exits_11_when_the_review_is_due(
    cli: Invoke, set_up: Callable[..., None], store: Store, at: Callable[[str], None]
) -> None:
    set_up(*PEERS)
    at("2026-09-01T12:00")  # the day before the review date: the Tuesday slot is today, not overdue
    assert cli("status", "--check").exit_code == 0
    at("2026-09-02T07:00")  # the review date, and Tuesday's meeting is overdue: both, code 10
    result = cli("status", "--check")
    assert result.exit_code == 10
    assert result.stderr.count("\n") == 1
    assert "overdue" in result.stderr
    assert "the trial ended on Wed 2026-09-02 and the review is due: run `peerloop review`" in result.stderr
    write(store, met("2026-09-01", "Ann Lee"))
    result = cli("status", "--check")
    assert result.exit_code == 11
    assert result.stderr == (
        "peerloop: the trial ended on Wed 2026-09-02 and the review is due: run `peerloop review`\n"
    )


def test_status_says_the_review_is_due_and_reminds_on_stderr(
    cli: Invoke, set_up: Callable[..., None], at: Callable[[str], None]
) -> None:
    set_up(*PEERS)
    at("2026-09-07T12:00")
    result = cli("status")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "The trial of Mon 2026-03-02 to Wed 2026-09-02 has ended (26 weeks; this is week 28)"
    assert lines[-2] == "Review    due since Wed 2026-09-02: run `peerloop review`"
    assert result.stderr == REMINDER
    as_json = cli("status", "--json")
    assert json.loads(as_json.stdout)["review"]["due"] is True
    assert as_json.stderr == REMINDER


def test_status_after_a_stop_shows_the_trial_as_it_was_and_checks_nothing(
    cli: Invoke, set_up: Callable[..., None], store: Store, at: Callable[[str], None]
) -> None:
    set_up(*PEERS)
    stop = Review(
        id="20260907-1", date=dt.date(2026, 9, 7), trial_start=dt.date(2026, 3, 2), added_value=Verdict.NO,
        decision=Decision.STOP,
    )  # fmt: skip
    write(store, stop)
    at("2026-10-20T12:00")
    result = cli("status")
    assert result.stdout.splitlines()[0] == (
        "Trial of Mon 2026-03-02 to Wed 2026-09-02: stopped at the review of Mon 2026-09-07"
    )
    assert len(result.stdout.splitlines()[1].strip()) == 26  # the trial's 26 weeks, not to today
    assert "Next" not in result.stdout
    assert result.stdout.splitlines()[-2].startswith("Review    done on Mon 2026-09-07: you decided to stop")
    assert result.stderr == ""
    assert cli("status", "--check").exit_code == 0
    data = json.loads(cli("status", "--json").stdout)
    assert data["review"] == {"date": "2026-09-02", "due": False, "done": "2026-09-07", "decision": "stop"}
    assert data["next"] is None


def test_status_reads_only_the_trials_years(
    cli: Invoke, set_up: Callable[..., None], store: Store, at: Callable[[str], None]
) -> None:
    set_up(*PEERS, start="2036-03-03", now="2036-03-03T09:00")
    store.journal_dir.mkdir(parents=True, exist_ok=True)
    (store.journal_dir / "2030.toml").write_text("this is not TOML", encoding="utf-8")
    at("2036-03-20T12:00")
    result = cli("status")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Trial week 3 of 26")
