"""The roster, pure: its changes (each returns a new Roster or raises ConflictError), the 4-to-5 nudge, and
what `peers` shows of each peer. No I/O."""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Iterable

from peerloop import rotation
from peerloop.errors import ConflictError
from peerloop.models import LATEST_DAY, Meeting, Peer, Roster, Settings, Touch, peer_key

FEWEST_PEERS = 4
MOST_PEERS = 5
TROUBLE_QUESTION = "Trouble getting past 3 names? Why might this be the case?"


def require_peer(roster: Roster, name: str) -> Peer:
    peer = roster.find(name)
    if peer is None:
        known = ", ".join(p.name for p in roster.peers) or "none yet"
        raise ConflictError(f"no peer named {name!r} in the roster (peers: {known}); see `peerloop peers`")
    return peer


def with_settings(roster: Roster, settings: Settings) -> Roster:
    return roster._replace(settings=settings)


def add_peer(roster: Roster, peer: Peer) -> Roster:
    existing = roster.find(peer.name)
    if existing is not None:
        raise ConflictError(
            f"{existing.name!r} is already in the roster (names are unique whatever their case); "
            f"use `peerloop edit {existing.name!r}` to change them"
        )
    return roster._replace(peers=(*roster.peers, peer))


def replace_peer(roster: Roster, name: str, updated: Peer) -> Roster:
    """Put `updated` in the place of the peer called `name` (roster order is the rotation's tie-break)."""
    current = require_peer(roster, name)
    clash = roster.find(updated.name)
    if clash is not None and clash.key != current.key:
        raise ConflictError(f"{clash.name!r} is already in the roster; choose another name")
    peers = tuple(updated if peer.key == current.key else peer for peer in roster.peers)
    return roster._replace(peers=peers)


def remove_peer(roster: Roster, name: str) -> Roster:
    current = require_peer(roster, name)
    return roster._replace(peers=tuple(p for p in roster.peers if p.key != current.key))


def roster_warning(active_count: int) -> str | None:
    """The method's nudge when the roster is outside 4 to 5 peers (counted whether paused or not)."""
    if active_count == 0:
        return "No peers yet: add the 4 to 5 people you want to meet with `peerloop add NAME`."
    if active_count < FEWEST_PEERS:
        return f"{active_count} peer{'s' if active_count > 1 else ''} in the roster. {TROUBLE_QUESTION}"
    if active_count > MOST_PEERS:
        return (
            f"{active_count} peers: each is seen every {active_count} weeks, "
            f"less often than every {MOST_PEERS}. The method suggests 4 to 5."
        )
    return None


# --- peers: what the roster shows --------------------------------------------------------------------------


def meeting_stats(meetings: Iterable[Meeting]) -> dict[str, tuple[dt.date, int]]:
    """peer_key -> (last meeting date, number of meetings)."""
    stats: dict[str, tuple[dt.date, int]] = {}
    for meeting in meetings:
        key = peer_key(meeting.peer)
        last, count = stats.get(key, (meeting.date, 0))
        stats[key] = (max(last, meeting.date), count + 1)
    return stats


def last_touches(touches: Iterable[Touch]) -> dict[str, dt.date]:
    """peer_key -> the date of the latest touch (a call or message between meetings)."""
    latest: dict[str, dt.date] = {}
    for touch in touches:
        key = peer_key(touch.peer)
        if key not in latest or touch.date > latest[key]:
            latest[key] = touch.date
    return latest


def next_turns(
    roster: Roster, settings: Settings, history: rotation.History, today: dt.date
) -> dict[str, dt.date]:
    """peer_key -> the date of their next planned meeting, for every peer the plan reaches.

    The plan (`rotation.iter_plan`) is walked until each peer has a turn, or one full round after the last
    pause ends. The rule's order is kept in a heap rather than sorted each week, so 500 peers cost one walk
    of 500 weeks, not 500 sorts of 500 peers; tests/test_scale.py holds it equal to the plan.
    """
    if not roster.peers:
        return {}
    back = max((p.paused_until for p in roster.peers if p.paused_until), default=today)
    limit = max(0, (back - today).days // 7) + len(roster.peers) + 2
    week = rotation.first_open_week(settings, history, today)
    this_week = rotation.week_start(today)
    position = {peer.key: n for n, peer in enumerate(roster.peers)}
    waiting = sorted(roster.peers, key=lambda peer: peer.paused_until or dt.date.min, reverse=True)
    line: list[tuple[bool, dt.date, int, Peer]] = []  # the rule's sort key, then the peer
    turns: dict[str, dt.date] = {}
    for _ in range(limit):
        day = week + dt.timedelta(days=settings.weekday)
        while waiting and not waiting[-1].is_paused_on(day):
            peer = waiting.pop()
            met = history.last_met.get(peer.key)
            heapq.heappush(line, (met is not None, met or dt.date.min, position[peer.key], peer))
        if line:
            first = line[0]
            if week == this_week:  # a week that has started keeps its peer: newcomers join from the next one
                first = min((entry for entry in line if entry[3].added < this_week), default=first)
                line.remove(first)
                heapq.heapify(line)
                heapq.heappush(line, (True, day, first[2], first[3]))
            else:
                heapq.heapreplace(line, (True, day, first[2], first[3]))
            chosen = first[3]
            if chosen.key not in turns:
                turns[chosen.key] = rotation.slot_times(settings, week, chosen.mode)[0].date()
                if len(turns) == len(roster.peers):
                    break
        if week + 2 * rotation.WEEK > LATEST_DAY:
            break
        week += rotation.WEEK
        while week in history.done_weeks:
            week += rotation.WEEK
    return turns
