"""The rotation rule, pinned by properties over generated rosters, histories, pauses and skips."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from peerloop.core.models import Meeting, Mode, Peer, Roster, Settings, Skip
from peerloop.core.rotation import History, history_from, in_line, next_slot, plan, week_start
from tests.conftest import Invoke

TODAY = dt.date(2026, 6, 10)


ZONES = ("Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC")


def make_settings(
    weekday: int = 1, zone: str = "Europe/Berlin", start: dt.date = dt.date(2026, 1, 5)
) -> Settings:
    return Settings(
        name="Dana", timezone=zone, weekday=weekday, time=dt.time(8, 30), duration=45, mode=Mode.COFFEE,
        trial_start=start,
    )  # fmt: skip


def make_roster(count: int, paused: dict[int, dt.date] | None = None) -> Roster:
    paused = paused or {}
    peers = tuple(
        Peer(name=f"Peer {n}", added=dt.date(2025, 1, 1), paused_until=paused.get(n)) for n in range(count)
    )
    return Roster(settings=make_settings(), peers=peers)


def meeting(peer: str, day: dt.date) -> Meeting:
    return Meeting(id=f"{day:%Y%m%d}-1", date=day, peer=peer, mode=Mode.COFFEE)


@st.composite
def situations(draw: st.DrawFn) -> tuple[Roster, Settings, History, dt.date]:
    """A roster of 1 to 12 peers, some met before (on past days), some weeks done, a weekday and a zone."""
    count = draw(st.integers(1, 12))
    roster = make_roster(count)
    today = TODAY + dt.timedelta(days=draw(st.integers(0, 400)))
    meetings = []
    for peer in roster.peers:
        if draw(st.booleans()):
            meetings.append(meeting(peer.name, today - dt.timedelta(days=draw(st.integers(7, 300)))))
    config = make_settings(weekday=draw(st.integers(0, 6)), zone=draw(st.sampled_from(ZONES)))
    return roster, config, history_from(meetings, ()), today


@settings(max_examples=300, deadline=None)
@given(situations(), st.integers(0, 30))
def test_any_n_consecutive_planned_weeks_meet_each_active_peer_once(
    situation: tuple[Roster, Settings, History, dt.date], offset: int
) -> None:
    roster, config, history, today = situation
    n = len(roster.peers)
    slots = plan(roster, config, history, today, offset + 2 * n)
    window = slots[offset : offset + n]
    assert sorted(slot.peer.name for slot in window if slot.peer) == sorted(p.name for p in roster.peers)


@settings(max_examples=200, deadline=None)
@given(situations())
def test_nobody_is_planned_twice_in_one_week(situation: tuple[Roster, Settings, History, dt.date]) -> None:
    roster, config, history, today = situation
    weeks = [slot.week for slot in plan(roster, config, history, today, 40)]
    assert weeks == sorted(set(weeks))
    assert all(week.weekday() == 0 for week in weeks)


@settings(max_examples=200, deadline=None)
@given(situations())
def test_skipped_week_keeps_peer_first_in_line(situation: tuple[Roster, Settings, History, dt.date]) -> None:
    roster, config, history, today = situation
    due = next_slot(roster, config, history, today)
    assert due.peer is not None
    skip = Skip(id="s", date=due.date, reason="travel", peer=due.peer.name)
    after = History(last_met=history.last_met, done_weeks=history.done_weeks | {week_start(skip.date)})
    following = next_slot(roster, config, after, today)
    assert following.week > due.week
    assert following.peer == due.peer


@settings(max_examples=200, deadline=None)
@given(situations(), st.data())
def test_out_of_turn_meeting_sends_that_peer_to_the_back(
    situation: tuple[Roster, Settings, History, dt.date], data: st.DataObject
) -> None:
    roster, config, history, today = situation
    due = next_slot(roster, config, history, today)
    chosen = data.draw(st.sampled_from(roster.peers))
    last_met = {**history.last_met, chosen.key: due.date}
    after = History(last_met=last_met, done_weeks=history.done_weeks | {due.week})
    upcoming = plan(roster, config, after, today, len(roster.peers))
    assert upcoming[-1].peer == chosen
    assert upcoming[0].week > due.week


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 12), st.data())
def test_paused_peer_is_never_planned_inside_the_pause(count: int, data: st.DataObject) -> None:
    pauses = {
        n: TODAY + dt.timedelta(days=data.draw(st.integers(1, 200)))
        for n in data.draw(st.sets(st.integers(0, count - 1), max_size=count))
    }
    roster = make_roster(count, pauses)
    for slot in plan(roster, make_settings(), History({}, frozenset()), TODAY, 60):
        if slot.peer is None:
            assert all(peer.is_paused_on(slot.date) for peer in roster.peers)
        else:
            assert not slot.peer.is_paused_on(slot.date)


def test_paused_peer_comes_back_first_after_the_pause() -> None:
    roster = make_roster(4, {1: dt.date(2026, 7, 1)})
    names = [
        slot.peer.name
        for slot in plan(roster, make_settings(), History({}, frozenset()), TODAY, 6)
        if slot.peer
    ]
    assert names == ["Peer 0", "Peer 2", "Peer 3", "Peer 0", "Peer 1", "Peer 2"]


def test_never_met_peers_go_first_then_oldest_meeting_then_roster_order() -> None:
    roster = make_roster(4)
    last_met = {"peer 0": dt.date(2026, 5, 1), "peer 1": dt.date(2026, 4, 1), "peer 3": dt.date(2026, 4, 1)}
    assert [p.name for p in in_line(roster.peers, last_met)] == ["Peer 2", "Peer 1", "Peer 3", "Peer 0"]


def test_this_weeks_open_slot_is_overdue_once_its_day_passed() -> None:
    roster = make_roster(3)
    thursday = dt.date(2026, 6, 11)
    slot = next_slot(roster, make_settings(weekday=1), History({}, frozenset()), thursday)
    assert (slot.date, slot.overdue) == (dt.date(2026, 6, 9), True)
    on_the_day = next_slot(roster, make_settings(weekday=1), History({}, frozenset()), dt.date(2026, 6, 9))
    assert on_the_day.overdue is False


def test_a_done_week_moves_next_to_the_following_week() -> None:
    roster = make_roster(3)
    history = history_from([meeting("Peer 0", dt.date(2026, 6, 9))], ())
    slot = next_slot(roster, make_settings(weekday=1), history, dt.date(2026, 6, 10))
    assert (slot.date, slot.peer and slot.peer.name) == (dt.date(2026, 6, 16), "Peer 1")


def test_no_slot_before_the_trial_starts() -> None:
    config = make_settings(weekday=1, start=dt.date(2026, 6, 10))
    slot = next_slot(make_roster(2), config, History({}, frozenset()), dt.date(2026, 6, 1))
    assert slot.date == dt.date(2026, 6, 16)


def test_peer_mode_wins_over_the_default() -> None:
    roster = Roster(peers=(Peer(name="Ann", added=TODAY, mode=Mode.LUNCH), Peer(name="Bo", added=TODAY)))
    slots = plan(roster, make_settings(), History({}, frozenset()), TODAY, 2)
    assert [slot.mode for slot in slots] == [Mode.LUNCH, Mode.COFFEE]


def _tuesdays(zone: str, first: dt.date, weeks: int) -> list[tuple[str, str]]:
    roster = make_roster(1)
    slots = plan(roster, make_settings(weekday=1, zone=zone), History({}, frozenset()), first, weeks)
    return [(f"{slot.start:%H:%M}", slot.start.isoformat()[-6:]) for slot in slots]


def test_berlin_slot_stays_0830_local_across_spring_and_autumn_changes() -> None:
    spring = _tuesdays("Europe/Berlin", dt.date(2026, 3, 23), 2)
    autumn = _tuesdays("Europe/Berlin", dt.date(2026, 10, 19), 2)
    assert spring == [("08:30", "+01:00"), ("08:30", "+02:00")]
    assert autumn == [("08:30", "+02:00"), ("08:30", "+01:00")]


def test_new_york_slot_stays_0830_local_across_spring_and_autumn_changes() -> None:
    spring = _tuesdays("America/New_York", dt.date(2026, 3, 2), 2)
    autumn = _tuesdays("America/New_York", dt.date(2026, 10, 26), 2)
    assert spring == [("08:30", "-05:00"), ("08:30", "-04:00")]
    assert autumn == [("08:30", "-04:00"), ("08:30", "-05:00")]


PEERS = ["Ann Lee", "Bo Chen", "Cy Dee", "Di Eze"]


def names_in_line(last_met: dict[str, str]) -> list[str]:
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
            peer = names_in_line(last_met)[0]
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
