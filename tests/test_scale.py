"""Big rosters and long journals cost in proportion to their size: `peers` on 500 peers and `history` on
10,000 entries stay fast (timed in benchmarks/bench.py; here the work is counted, never timed)."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import sys
from collections.abc import Callable
from typing import Any

import pytest

from peerloop import rotation
from peerloop.models import Mode, Peer, Roster, Settings
from peerloop.output import text
from peerloop.roster import next_turns

TODAY = dt.date(2026, 4, 15)
SETTINGS = Settings(
    name="Dana Ode", timezone="Europe/Berlin", weekday=1, time=dt.time(8, 30), duration=45, mode=Mode.COFFEE,
    trial_start=dt.date(2026, 3, 2),
)  # fmt: skip


def calls(work: Callable[[], Any]) -> int:
    """How many Python and C function calls `work` makes: a measure of work that machine load cannot skew."""
    count = 0

    def tally(frame: object, event: str, arg: object) -> None:
        nonlocal count
        count += event in ("call", "c_call")

    sys.setprofile(tally)
    try:
        work()
    finally:
        sys.setprofile(None)
    return count


def lived_roster(size: int, seed: int) -> tuple[Roster, rotation.History]:
    """A roster of `size` peers, some paused, some added this week, met at random dates; some weeks done."""
    pick = random.Random(seed)
    peers = tuple(
        Peer(
            name=f"Peer {n:03d}",
            added=TODAY - dt.timedelta(days=pick.choice([0, 1, 30, 400])),
            mode=pick.choice([None, Mode.LUNCH, Mode.CALL]),
            paused_until=pick.choice([None, None, None, TODAY + dt.timedelta(days=pick.randint(-20, 200))]),
        )
        for n in range(size)
    )
    last_met = {p.key: TODAY - dt.timedelta(days=pick.randint(1, 900)) for p in peers if pick.random() < 0.7}
    done = frozenset(
        rotation.week_start(TODAY) + rotation.WEEK * k for k in range(-3, 6) if pick.random() < 0.4
    )
    return Roster(settings=SETTINGS, peers=peers), rotation.History(last_met=last_met, done_weeks=done)


def turns_by_walking_the_plan(roster: Roster, history: rotation.History) -> dict[str, dt.date]:
    """The first planned date of each peer, read off `rotation.iter_plan` slot by slot (sorting every week)."""
    turns: dict[str, dt.date] = {}
    for slot in itertools.islice(rotation.iter_plan(roster, SETTINGS, history, TODAY), 2000):
        if slot.peer is not None:
            turns.setdefault(slot.peer.key, slot.date)
    return turns


@pytest.mark.parametrize("seed", range(40))
def test_next_turns_are_the_plans_first_date_for_each_peer(seed: int) -> None:
    roster, history = lived_roster(random.Random(seed).randint(1, 30), seed)
    assert next_turns(roster, SETTINGS, history, TODAY) == turns_by_walking_the_plan(roster, history)


def test_next_turns_grow_about_linearly_with_the_roster() -> None:
    small, small_history = lived_roster(50, 1)
    large, large_history = lived_roster(500, 1)
    ratio = calls(lambda: next_turns(large, SETTINGS, large_history, TODAY)) / calls(
        lambda: next_turns(small, SETTINGS, small_history, TODAY)
    )
    assert ratio < 20, f"10x the peers cost {ratio:.0f}x the work (a sort per planned week would be ~100x)"


def history_rows(count: int) -> list[tuple[str, ...]]:
    return [
        (f"2026{n:04d}-1", "Tue 2026-03-03", f"coffee with Peer {n % 500:03d}",
         "Pressing issue: hiring a head of sales for the new region\nWin: shipped the beta\nNote: private")
        for n in range(count)
    ]  # fmt: skip


def test_a_long_table_costs_in_proportion_to_its_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    headers = ("ID", "Date", "What", "Details")
    monkeypatch.setenv("COLUMNS", "80")
    ratio = calls(lambda: text.table(headers, history_rows(3000))) / calls(
        lambda: text.table(headers, history_rows(300))
    )
    assert ratio < 12, f"10x the rows cost {ratio:.1f}x the work"


@pytest.mark.parametrize("columns", [200, 80, 40])
def test_a_long_table_reads_like_the_short_one(monkeypatch: pytest.MonkeyPatch, columns: int) -> None:
    """Past `RICH_ROWS` rows the layout is peerloop's own: the same text as rich's when the table fits the
    terminal, and when it does not, no line wider than the terminal and no word lost."""
    monkeypatch.setenv("COLUMNS", str(columns))
    headers = ("ID", "Date", "What", "Details")
    rows = [*history_rows(3), ("20260404-1", "Sat 2026-04-04", "touch with Zoë Ünal-Ødegård", "")]
    by_rich = text.table(headers, rows)
    monkeypatch.setattr(text, "RICH_ROWS", 0)
    ours = text.table(headers, rows)
    if columns == 200:
        assert ours == by_rich
    assert max(text.width(line) for line in ours.splitlines()) <= columns
    assert ours.split() == by_rich.split() or columns < 80
    assert sorted("".join(ours.split())) == sorted("".join(by_rich.split()))


def test_a_long_table_drops_the_columns_nobody_filled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text, "RICH_ROWS", 0)
    shown = text.table(
        ("Name", "Email", "Org"), [("Ann Lee", "", "Acme"), ("Bo Chen", None, "")], drop_empty=True
    )
    assert shown.splitlines() == ["Name     Org", "Ann Lee  Acme", "Bo Chen"]
