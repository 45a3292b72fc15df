"""Five weeks of the log end to end: `next`, `plan` and `history` agree with the rotation rule at every step.

The rule is restated here independently (never met first, then the oldest last meeting, ties by roster
order; a week holding a meeting or a skip is done), and each step is also checked against the names a
person would expect.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from tests.conftest import Invoke

PEERS = ["Ann Lee", "Bo Chen", "Cy Dee", "Di Eze"]


def in_line(last_met: dict[str, str]) -> list[str]:
    return sorted(PEERS, key=lambda name: (name in last_met, last_met.get(name, ""), PEERS.index(name)))


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def expected_plan(history: list[dict[str, Any]], today: dt.date, weeks: int) -> list[tuple[str, str]]:
    """(peer, date) of the coming Tuesday slots, computed from `history --json` alone."""
    last_met: dict[str, str] = {}
    for entry in history:
        if entry["kind"] == "meeting":
            last_met[entry["peer"]] = max(last_met.get(entry["peer"], ""), entry["date"])
    done = {monday(dt.date.fromisoformat(entry["date"])) for entry in history}
    week, slots = monday(today), []
    while len(slots) < weeks:
        if week not in done:
            slot = (week + dt.timedelta(days=1)).isoformat()
            peer = in_line(last_met)[0]
            last_met[peer] = slot
            slots.append((peer, slot))
        week += dt.timedelta(days=7)
    return slots


def test_five_weeks_log_log_skip_out_of_turn_log(
    cli: Invoke, set_up: Callable[..., None], at: Callable[[str], None]
) -> None:
    set_up(*PEERS)

    def check(today: str, names: list[str]) -> list[dict[str, Any]]:
        history: list[dict[str, Any]] = json.loads(cli("history", "--json").stdout)
        upcoming = json.loads(cli("next", "--json").stdout)
        plan = json.loads(cli("plan", "--weeks", "4", "--json").stdout)
        expected = expected_plan(history, dt.date.fromisoformat(today), 4)
        assert [(slot["peer"], slot["date"]) for slot in plan] == expected
        assert (upcoming["peer"], upcoming["date"]) == expected[0]
        assert [peer for peer, _ in expected] == names
        assert history == sorted(history, key=lambda e: (e["date"], e["id"]), reverse=True)
        return history

    def step(today: str, *args: str) -> str:
        at(f"{today}T12:00")
        result = cli(*args)
        assert result.exit_code == 0, result.output
        return result.stdout

    # Week 1: nobody met yet, so roster order; on Wednesday the slot is overdue, but still open.
    at("2026-03-04T12:00")
    check("2026-03-04", ["Ann Lee", "Bo Chen", "Cy Dee", "Di Eze"])
    assert json.loads(cli("next", "--json").stdout)["overdue"] is True
    assert "Logged coffee with Ann Lee on Tue 2026-03-03" in step("2026-03-04", "log", "--date", "2026-03-03")
    check("2026-03-04", ["Bo Chen", "Cy Dee", "Di Eze", "Ann Lee"])

    # Week 2: the turn passes to the next never-met peer.
    assert "Logged coffee with Bo Chen" in step("2026-03-10", "log")
    check("2026-03-10", ["Cy Dee", "Di Eze", "Ann Lee", "Bo Chen"])

    # Week 3: skipped; Cy had the turn and keeps it.
    assert "(Cy Dee's turn)" in step("2026-03-17", "log", "--skip", "--reason", "board week")
    history = check("2026-03-17", ["Cy Dee", "Di Eze", "Ann Lee", "Bo Chen"])
    assert (history[0]["kind"], history[0]["peer"], history[0]["reason"]) == ("skip", "Cy Dee", "board week")

    # Week 4: met Ann out of turn; the week is done and Ann's last meeting moves, so Ann goes last.
    at("2026-03-24T12:00")
    check("2026-03-24", ["Cy Dee", "Di Eze", "Ann Lee", "Bo Chen"])
    assert "Next: Cy Dee, Tue 2026-03-31." in step("2026-03-24", "log", "Ann Lee")
    check("2026-03-24", ["Cy Dee", "Di Eze", "Bo Chen", "Ann Lee"])

    # Week 5: Cy, finally.
    assert "Logged coffee with Cy Dee" in step("2026-03-31", "log")
    history = check("2026-03-31", ["Di Eze", "Bo Chen", "Ann Lee", "Cy Dee"])
    assert [(e["kind"], e["peer"], e["date"]) for e in history] == [
        ("meeting", "Cy Dee", "2026-03-31"),
        ("meeting", "Ann Lee", "2026-03-24"),
        ("skip", "Cy Dee", "2026-03-17"),
        ("meeting", "Bo Chen", "2026-03-10"),
        ("meeting", "Ann Lee", "2026-03-03"),
    ]
    peers = {p["name"]: (p["meetings"], p["last_met"]) for p in json.loads(cli("peers", "--json").stdout)}
    assert peers == {
        "Ann Lee": (2, "2026-03-24"), "Bo Chen": (1, "2026-03-10"), "Cy Dee": (1, "2026-03-31"), "Di Eze": (0, None)
    }  # fmt: skip
