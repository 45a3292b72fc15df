"""A whole trial end to end: set up six months back, 20 meetings and 6 skips, the review, a new trial."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import icalendar
import pytest

from peerloop.core.models import Decision, JournalYear, Meeting, Mode, Skip
from peerloop.store.records import Store
from tests.conftest import Invoke, as_json

PEERS = ("Ann Lee", "Bo Chen", "Cy Dee", "Di Eze")


START = dt.date(2026, 3, 2)  # a Monday; the slot is Tuesday 08:30 in Europe/Berlin


REVIEW_DAY = dt.date(2026, 9, 7)  # a Monday, five days after the review date (2026-08-31)


SKIPPED_WEEKS = {3, 7, 11, 15, 19, 23}  # 6 skips, 20 meetings in weeks 1..26


def log_the_trial(cli: Invoke, store: Store, at: Callable[[str], None]) -> str:
    """Each of the 26 weeks' Tuesday: a meeting with whoever's turn it is, or a skip with its reason."""
    through_log = cli("log", "--help").exit_code == 0
    meetings: list[Meeting] = []
    skips: list[Skip] = []
    for week in range(1, 27):
        day = START + dt.timedelta(weeks=week - 1, days=1)
        at(f"{day.isoformat()}T12:00")
        if through_log:
            if week in SKIPPED_WEEKS:
                result = cli("log", "--skip", "--reason", f"excuse {week}")
            else:
                result = cli("log", "--gain", "advice", "--win", f"win {week}", "--follow-up", f"owe {week}")
            assert result.exit_code == 0, result.output
        else:
            peer = json.loads(cli("next", "--json").stdout)["peer"]
            if week in SKIPPED_WEEKS:
                skips.append(Skip(id=f"{day:%Y%m%d}-1", date=day, reason=f"excuse {week}", peer=peer))
            else:
                meetings.append(Meeting(id=f"{day:%Y%m%d}-1", date=day, peer=peer, mode=Mode.COFFEE))
            store.save_year(JournalYear(year=2026, meetings=tuple(meetings), skips=tuple(skips)))
    return "log" if through_log else "files"


def test_a_whole_trial_then_the_review_then_a_new_trial(
    cli: Invoke, set_up: Callable[..., None], store: Store, at: Callable[[str], None]
) -> None:
    set_up(*PEERS, start=START.isoformat(), now=f"{START.isoformat()}T09:00")
    assert cli("reflect", "--name", "Ann Lee", "--excuse", "no time", "--ceo", "Make time.").exit_code == 0
    assert log_the_trial(cli, store, at) in ("log", "files")

    at(f"{REVIEW_DAY.isoformat()}T09:00")
    status = json.loads(cli("status", "--json").stdout)
    assert (status["kept"], status["skipped"], status["meetings"], len(status["skips"])) == (20, 6, 20, 6)
    assert status["review"]["due"] is True
    assert cli("status", "--check").exit_code == 11
    assert cli("next").stderr.endswith(
        "run `peerloop review` to decide whether to continue, adjust or stop.\n"
    )

    evidence = json.loads(cli("review", "--json").stdout)
    assert evidence["meetings"] == 20
    assert evidence["skips"] == 6
    assert sum(peer["meetings"] for peer in evidence["peers"]) == 20
    assert [peer["meetings"] for peer in evidence["peers"]] == [5, 5, 5, 5]
    assert evidence["excuses"] == ["no time"]
    assert [reason["text"] for reason in evidence["skip_reasons"]] == [
        f"excuse {w}" for w in sorted(SKIPPED_WEEKS)
    ]

    result = cli("review", "--added-value", "yes", "--works", "Tuesdays", "--improve", "more lunches",
                 "--decision", "continue")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "A new 6-month trial starts today: Mon 2026-09-07 to Sun 2027-03-07 (26 weeks)." in result.stdout
    [review] = store.load_journal().reviews
    assert (review.trial_start, review.decision) == (START, Decision.CONTINUE)

    status_text = cli("status")
    assert status_text.stdout.splitlines()[0] == "Trial week 1 of 26 (Mon 2026-09-07 to Sun 2027-03-07)"
    assert status_text.stderr == ""
    after = json.loads(cli("status", "--json").stdout)
    assert after["trial"]["week"] == 1
    assert after["weeks"] == [{"week": 1, "monday": "2026-09-07", "state": "open"}]
    assert after["review"]["due"] is False
    assert cli("status", "--check").exit_code == 0
    assert cli("next").stderr == ""
    # the old trial's reflections stay with it: the new trial's evidence starts empty
    fresh = json.loads(cli("review", "--json").stdout)
    assert (fresh["meetings"], fresh["reflections"], fresh["trial"]["early"]) == (0, [], True)


LIFE_START = dt.date(2027, 1, 4)  # a Monday; slots are Tuesdays 08:30 in Europe/Berlin, lunch at 12:30


REVIEW_DATE = dt.date(2027, 7, 5)  # the Monday after week 26


LIFE_PEERS = ("Ann Lee", "Bo Chen", "Cy Dee", "Di Eze", "Zoë Müller-Łukasz")


MARKS = {"kept": "●", "skipped": "○", "missed": "×", "open": "◌"}  # noqa: RUF001 (the strip's marks)


SKIPPED, MISSED = {10, 18}, {12}


def day(week: int, weekday: int) -> dt.date:
    """The day of trial week `week` (1-based), Monday = 0."""
    return LIFE_START + dt.timedelta(weeks=week - 1, days=weekday)


class Life:
    """The leader at the keyboard: a pinned clock, the command line, and what they expect to see."""

    def __init__(self, cli: Invoke, at: Callable[[str], None], tmp_path: Path) -> None:
        self.cli, self.at, self.folder = cli, at, tmp_path
        self.meetings = 0

    def run(self, when: dt.date, *args: str, clock: str = "09:00", code: int = 0) -> Any:
        self.at(f"{when.isoformat()}T{clock}")
        result = self.cli(*args)
        assert result.exit_code == code, (args, result.output)
        return result

    def json(self, when: dt.date, *args: str) -> Any:
        return json.loads(self.run(when, *args, "--json").stdout)

    def meet(self, week: int, *args: str) -> str:
        """Log this week's meeting on its Tuesday afternoon: the peer is the one `next` named that Monday."""
        expected = self.json(day(week, 0), "next")["peer"]
        logged = self.run(day(week, 1), "log", *args, clock="14:00").stdout
        assert logged.startswith(
            f"Logged {self.mode(expected)} with {expected} on {day(week, 1):%a %Y-%m-%d}"
        )
        self.meetings += 1
        return str(expected)

    def mode(self, name: str) -> str:
        return "lunch" if name == "Bo Chen" else "coffee"

    def export(self, when: dt.date) -> str:
        target = self.folder / f"plan-{when.isoformat()}.ics"
        said = self.run(when, "export", "-o", str(target), clock="09:30").stderr
        assert target.read_text().count("BEGIN:VEVENT") >= 2
        return str(said)

    def check_week(self, week: int) -> None:
        """On the Sunday evening: status, its text, history and next agree, and the weeks add up."""
        sunday = day(week, 6)
        status = self.json(sunday, "status")
        states = [entry["state"] for entry in status["weeks"]]
        assert status["trial"]["week"] == week == len(states)
        assert status["kept"] + status["skipped"] + status["missed"] + status["open"] == week
        assert (status["skipped"], status["missed"]) == (states.count("skipped"), states.count("missed"))
        assert len(status["skips"]) == status["skipped"]
        assert status["meetings"] == self.meetings
        assert status["strip"] == "".join(MARKS[state] for state in states) + "·" * (26 - week)
        expected = [
            "skipped" if w in SKIPPED else "missed" if w in MISSED else "kept" for w in range(1, week)
        ]
        assert states[:-1] == expected
        history = self.json(sunday, "history")
        assert sum(entry["kind"] == "meeting" for entry in history) == self.meetings
        assert sum(entry["kind"] == "skip" for entry in history) == status["skipped"]
        lines = self.run(sunday, "status", clock="20:00").stdout.splitlines()
        meetings_line = next(line for line in lines if line.startswith("Meetings"))
        extra = f" ({self.meetings} meetings)" if self.meetings != status["kept"] else ""
        so_far = "" if sunday >= REVIEW_DATE else " so far"  # on its last Sunday the trial still runs
        assert meetings_line.startswith(
            f"Meetings  {status['kept']} of {week} week{'s' if week > 1 else ''} kept{so_far}{extra}; "
            f"{status['skipped']} skipped, {status['missed']} missed"
        )
        coming = self.json(sunday, "next")
        assert coming["peer"] == status["next"]["peer"] == self.json(sunday, "plan")[0]["peer"]


@pytest.mark.slow
def test_six_months_lived_week_by_week_add_up_and_end_in_a_review(
    cli: Invoke, at: Callable[[str], None], tmp_path: Path
) -> None:
    life = Life(cli, at, tmp_path)
    setup = ["init", "--name", "Dana Ode", "--email", "dana@example.com", "--timezone", "Europe/Berlin",
             "--day", "tue", "--time", "08:30", "--lunch-time", "12:30", "--start", "today"]  # fmt: skip
    life.run(LIFE_START, *setup, *(w for name in LIFE_PEERS for w in ("--peer", name)))
    life.run(LIFE_START, "edit", "bo", "--mode", "lunch")
    life.run(LIFE_START, "reflect", "--purpose", "a second view on hard calls", "--excuse", "no time")
    assert "27 new" in life.export(LIFE_START)

    # week 1: the first meeting, with two follow-ups
    assert life.meet(1, "--issue", "hiring a VP", "--follow-up", "send the org chart", "--follow-up",
                     "ask for her recruiter") == "Ann Lee"  # fmt: skip
    life.check_week(1)

    # week 2: Bo at lunch time; a call with Ann on Thursday moves nothing
    assert life.json(day(2, 0), "next")["start"] == "2027-01-12T12:30:00+01:00"
    assert life.meet(2, "--gain", "motivation") == "Bo Chen"
    plan_before = life.json(day(2, 3), "plan")
    life.run(day(2, 3), "log", "ann", "--touch", "--note", "called about the offer")
    assert life.json(day(2, 3), "plan") == plan_before
    assert life.json(day(2, 3), "peers")[0]["last_touch"] == "2027-01-14"
    life.check_week(2)

    # week 3: a follow-up closed; the slot passes, it is overdue, logged the day after
    life.run(day(3, 0), "done", "20270105-p9c99.1")
    assert life.json(day(3, 2), "next")["overdue"] is True
    assert life.run(day(3, 2), "status", "--check", code=10).stderr.startswith("peerloop: this week's coffee")
    assert life.run(day(3, 2), "log", "cy", "--date", "yesterday").stdout.startswith(
        "Logged coffee with Cy Dee on Tue 2027-01-19"
    )
    life.meetings += 1
    life.check_week(3)

    # week 4: this week's peer is paused: the week goes to the next in line
    assert life.json(day(4, 0), "next")["peer"] == "Di Eze"
    life.run(day(4, 0), "pause", "di", "--until", "in 3 weeks")
    life.export(day(4, 0))
    assert life.meet(4, "--follow-up", "send Zoë the paper") == "Zoë Müller-Łukasz"
    life.check_week(4)

    # week 5: Ann's open follow-up is still there, under its own handle
    shown = life.json(day(5, 0), "next")
    assert [item["handle"] for item in shown["follow_ups"]] == ["20270105-p9c99.2"]
    assert life.meet(5, "--follow-up", "check references") == "Ann Lee"
    life.check_week(5)

    # week 6: Di resumed on Monday joins from next week; this week keeps Bo
    life.run(day(6, 0), "resume", "di")
    assert "No event changed" in life.export(day(6, 0))
    assert life.meet(6) == "Bo Chen"
    life.check_week(6)
    assert life.meet(7) == "Di Eze"
    life.check_week(7)

    # week 8: a sixth peer added on Monday: the week keeps Cy, Eve starts next week
    added = life.run(day(8, 0), "add", "Eve Fox")
    assert "First turn: Tue 2027-03-02" in added.stdout
    assert life.json(day(8, 0), "next")["peer"] == "Cy Dee"
    life.export(day(8, 0))
    assert life.meet(8) == "Cy Dee"
    life.check_week(8)
    assert life.meet(9) == "Eve Fox"
    life.check_week(9)

    # week 10: skipped on Monday (its event is cancelled), then an extra meeting with Ann on Friday
    skipped = life.run(day(10, 0), "log", "--skip", "--reason", "board week").stdout
    assert "(Zoë Müller-Łukasz's turn)" in skipped
    assert "1 cancelled" in life.export(day(10, 0))
    events = (tmp_path / f"plan-{day(10, 0).isoformat()}.ics").read_text().split("BEGIN:VEVENT")
    [cancelled] = [event for event in events if "STATUS:CANCELLED" in event]
    assert "DTSTART;TZID=Europe/Berlin:20270309T083000" in cancelled.splitlines()
    life.run(day(10, 4), "log", "ann", "--gain", "motivation")
    life.meetings += 1
    life.check_week(10)
    assert life.meet(11) == "Zoë Müller-Łukasz"
    life.check_week(11)

    # week 12: nothing logged; on Monday `next` mentions the missed week once
    assert life.json(day(12, 2), "next")["overdue"] is True
    life.check_week(12)
    first = life.run(day(13, 0), "next")
    assert first.stderr == (
        "Last week (of Mon 2027-03-22) ended with nothing logged, so it counts as missed.\n"
        "  If you met: `peerloop log NAME --date 2027-03-23`\n"
        "  If not, say why: `peerloop log --skip --date 2027-03-23 --reason TEXT`\n"
    )
    assert max(len(line) for line in first.stderr.splitlines()) <= 80
    assert life.run(day(13, 0), "next").stderr == ""
    assert life.json(day(13, 0), "next")["missed_last_week"] == "2027-03-22"
    assert life.meet(13) == "Bo Chen"  # the missed week's peer keeps the turn
    bare = life.run(day(13, 3), "log", code=2)
    assert (
        "already holds meeting 20270330-e2kqp with Bo Chen; to log another meeting, name who you met"
        in bare.stderr
    )
    life.check_week(13)

    for week in range(14, 27):
        if week in SKIPPED:
            life.run(day(week, 2), "log", "--skip", "--reason", "sick")
        else:
            life.meet(week, "--win", f"win {week}")
        life.check_week(week)

    # the review, the day after the trial's end, with a report
    report = tmp_path / "review.md"
    life.run(day(27, 0), "status", "--check", code=11)
    done = life.run(day(27, 0), "review", "--added-value", "yes", "--works", "Tuesdays", "--improve",
                    "fewer missed weeks", "--decision", "continue", "--report", str(report))  # fmt: skip
    assert "23 of 26 weeks kept (24 meetings); 2 skipped, 1 missed" in done.stdout
    assert "What you wanted the network to give you: a second view on hard calls" in done.stdout
    written = report.read_text()
    for line in ("- Weeks counted: 26", "- Kept: 23 weeks (24 meetings)", "- Skipped: 2 weeks (2 skips logged)",
                 "- Missed: 1 week", "- Decision: continue"):  # fmt: skip
        assert line in written.splitlines()
    evidence = life.json(day(27, 0), "review", "--show", "20270705-kra11")
    assert sum(peer["meetings"] for peer in evidence["peers"]) == evidence["meetings"] == 24
    assert evidence["touches"] == [{"name": "Ann Lee", "count": 1, "last": "2027-01-14"}]

    # the next trial: the past review can be read again and written as a report
    later = day(28, 2)
    assert life.json(later, "status")["trial"]["start"] == "2027-07-05"
    [review] = life.json(later, "history", "--kind", "review")
    assert (review["id"], review["trial_start"], review["decision"]) == (
        "20270705-kra11",
        "2027-01-04",
        "continue",
    )
    again = tmp_path / "again.md"
    shown_again = life.run(later, "review", "--show", "20270705-kra11", "--report", str(again)).stdout
    assert shown_again.startswith("The review of your 6-month trial: Mon 2027-01-04 to Sun 2027-07-04")
    assert again.read_text() == written


NEW_YORK_LUNCH = ("init", "--name", "Lee Leader", "--email", "lee@example.com", "--timezone", "America/New_York",
                  "--day", "tue", "--time", "12:30", "--mode", "lunch", "--start", "2027-01-06",
                  "--peer", "Ann Lee", "--peer", "Bo Chen", "--peer", "Cy Dee", "--peer", "Di Eze")  # fmt: skip


def test_a_wednesday_start_runs_26_tuesdays_and_each_week_belongs_to_one_trial(
    cli: Invoke, at: Callable[[str], None]
) -> None:
    at("2027-01-04T09:00")
    assert cli(*NEW_YORK_LUNCH).exit_code == 0
    at("2027-07-06T08:00")  # Tuesday of week 26: the last lunch is ahead and the review is not due yet
    status = as_json(cli, "status")
    assert (status["trial"]["week"], status["review"]["date"], status["review"]["due"]) == (
        26,
        "2027-07-12",
        False,
    )
    assert cli("status", "--check").exit_code == 0
    assert cli("status", "--line").stdout == "peer: Ann Lee · today 12:30\n"
    last = as_json(cli, "next")
    assert (last["date"], last["peer"]) == ("2027-07-06", "Ann Lee")
    at("2027-07-06T14:00")
    assert cli("log", "Ann Lee", "--win", "a hire").exit_code == 0
    at("2027-07-11T20:00")  # the trial's last day
    assert cli("status", "--check").exit_code == 0
    at("2027-07-12T08:00")  # the Monday after: the review is due
    due = cli("status", "--check")
    assert (due.exit_code, due.stderr) == (
        11, "peerloop: the trial ended on Sun 2027-07-11 and the review is due: run `peerloop review`\n"
    )  # fmt: skip
    saved = cli("review", "--added-value", "yes", "--decision", "continue")
    assert "A new 6-month trial starts today: Mon 2027-07-12 to Sun 2028-01-09 (26 weeks)." in saved.stdout
    [review] = as_json(cli, "history", "--kind", "review")
    shown = as_json(cli, "review", "--show", review["id"])
    assert (shown["meetings"], shown["weeks"]["kept"], shown["weeks"]["so_far"]) == (1, 1, 26)

    at("2027-07-13T14:00")  # the review's week is the new trial's first: its lunch counts there, once
    assert cli("log", as_json(cli, "next")["peer"]).exit_code == 0
    assert as_json(cli, "review", "--show", review["id"]) == shown, "a past review's evidence is fixed"
    status = as_json(cli, "status")
    assert (status["trial"]["start"], status["trial"]["week"], status["kept"]) == ("2027-07-12", 1, 1)


def test_an_early_review_midweek_leaves_this_weeks_meeting_to_the_new_trial(
    cli: Invoke, at: Callable[[str], None]
) -> None:
    at("2027-01-04T09:00")
    assert cli(*NEW_YORK_LUNCH).exit_code == 0
    for tuesday in ("2027-01-12", "2027-01-19"):
        at(f"{tuesday}T14:00")
        assert cli("log", as_json(cli, "next")["peer"]).exit_code == 0
    at("2027-01-20T09:00")  # Wednesday of week 2, after its lunch
    evidence = as_json(
        cli, "review", "--early", "--added-value", "partly", "--decision", "continue", "--json"
    )
    assert (evidence["weeks"]["so_far"], evidence["meetings"]) == (1, 1)
    status = as_json(cli, "status")
    assert (status["trial"]["start"], status["trial"]["week"], status["kept"]) == ("2027-01-18", 1, 1)


def test_after_a_stop_nothing_is_planned_the_calendar_is_cancelled_and_a_new_trial_needs_no_confirmation(
    cli: Invoke, at: Callable[[str], None], tmp_path: Path
) -> None:
    at("2027-01-04T09:00")
    assert cli(*NEW_YORK_LUNCH).exit_code == 0
    first, again = tmp_path / "first.ics", tmp_path / "after-stop.ics"
    assert cli("export", "-o", str(first)).exit_code == 0
    at("2027-03-03T09:00")
    stop = cli("review", "--early", "--added-value", "no", "--decision", "stop")
    assert "The loop stops here: no meeting is planned any more" in stop.stdout
    stopped = "You stopped the trial on Wed 2027-03-03: no meeting is planned. `peerloop init --start DATE` starts a new trial.\n"
    assert cli("next").stdout == stopped
    assert (cli("plan").stdout, cli("plan").stderr) == ("", stopped)
    assert as_json(cli, "next") is None
    assert as_json(cli, "plan") == []
    assert "Next      none: no meeting is planned once you stop" in cli("status").stdout.splitlines()
    assert "no longer match the plan" in cli("status").stdout  # the calendar still shows what was stopped

    result = cli("export", "-o", str(again))
    assert result.stderr == f"The trial is stopped: wrote no meeting to {again}. Events: 19 cancelled.\n"
    events = calendar_events(again.read_bytes())
    assert len(events) == 19
    assert {str(e["STATUS"]) for e in events} == {"CANCELLED"}
    assert any(str(e["UID"]).endswith("-review-20270106") for e in events), (
        "the review ahead is cancelled too"
    )
    assert "up to date" in cli("status").stdout

    restart = cli("init", "--start", "2027-03-08")  # off a terminal, no --yes: nothing to confirm
    assert restart.exit_code == 0, restart.output
    assert as_json(cli, "next")["date"] == "2027-03-09"


def calendar_events(data: bytes) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(data).walk("VEVENT"))
