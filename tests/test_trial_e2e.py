"""A whole trial end to end: set up six months back, 20 meetings and 6 skips, the review, a new trial."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

from peerloop.models import Decision, JournalYear, Meeting, Mode, Skip
from peerloop.session import Store
from tests.conftest import Invoke

PEERS = ("Ann Lee", "Bo Chen", "Cy Dee", "Di Eze")
START = dt.date(2026, 3, 2)  # a Monday; the slot is Tuesday 08:30 in Europe/Berlin
REVIEW_DAY = dt.date(2026, 9, 7)  # a Monday, five days after the review date (2026-09-02)
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
