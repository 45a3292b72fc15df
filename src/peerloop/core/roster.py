"""The roster, pure: its changes (each returns a new Roster or raises ConflictError), the method's 4 to 5
peers, and what `peers` shows of each peer. No I/O."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable

from peerloop.core import rotation
from peerloop.core.models import Meeting, Peer, Roster, Settings, peer_key
from peerloop.errors import ConflictError

FEWEST_PEERS = 4
MOST_PEERS = 5


def find_peer(roster: Roster, typed: str, gone: Callable[[], Iterable[str]] = tuple) -> Peer:
    """The roster's peer as typed (any case, accents optional, a unique start of a word). A name that matches
    no one in the roster but a removed peer (one of `gone()`, the journal's names, read only on a miss) says
    so, with how to bring them back."""
    from peerloop.core.parse import names

    try:
        found = names.match(typed, [peer.name for peer in roster.peers])
    except ConflictError as miss:
        try:
            removed = names.match(typed, [name for name in gone() if roster.find(name) is None])
        except ConflictError:
            raise miss from None
        raise ConflictError(
            f"{removed} is no longer in the roster (removed; the journal keeps their entries); "
            f'add them back with `peerloop add "{removed}"`'
        ) from None
    peer = roster.find(found)
    assert peer is not None, "names.match returns a roster name"
    return peer


def resembling(roster: Roster, name: str) -> Peer | None:
    """The peer a new name looks like ('ann' or 'lee' beside Ann Lee, 'Zoe Muller' beside Zoë Müller): one
    word that starts one of theirs, or their name without its accents. Adding it is likely a slip; a longer
    name that merely starts theirs ('Peer 1' beside Peer 16) is not."""
    from peerloop.core.parse import names

    if roster.find(name) is not None:
        return None
    typed = names.fold(name)
    one_word = len(typed.split()) == 1
    for peer in roster.peers:
        theirs = names.fold(peer.name)
        if theirs == typed or (one_word and any(word.startswith(typed) for word in theirs.split())):
            return peer
    return None


def add_peer(roster: Roster, peer: Peer) -> Roster:
    existing = roster.find(peer.name)
    if existing is not None:
        raise ConflictError(
            f"{existing.name!r} is already in the roster (names are unique whatever their case); "
            f"use `peerloop edit {existing.name!r}` to change them"
        )
    return roster._replace(peers=(*roster.peers, peer))


def replace_peer(roster: Roster, current: Peer, updated: Peer) -> Roster:
    """Put `updated` in the place of `current` (roster order is the rotation's tie-break). A rename keeps the
    name it replaces among the peer's former names: another device may still log under it."""
    clash = roster.find(updated.name)
    if clash is not None and clash.key != current.key:
        raise ConflictError(f"{clash.name!r} is already in the roster; choose another name")
    if updated.name != current.name:
        earlier = (*current.formerly, current.name)
        updated = updated._replace(
            formerly=tuple(n for n in dict.fromkeys(earlier) if peer_key(n) != updated.key)
        )
    peers = tuple(updated if peer.key == current.key else peer for peer in roster.peers)
    return roster._replace(peers=peers)


def remove_peer(roster: Roster, current: Peer) -> Roster:
    return roster._replace(peers=tuple(p for p in roster.peers if p.key != current.key))


# --- peers: what the roster shows --------------------------------------------------------------------------


def meeting_stats(meetings: Iterable[Meeting]) -> dict[str, tuple[dt.date, int]]:
    """peer_key -> (last meeting date, number of meetings)."""
    stats: dict[str, tuple[dt.date, int]] = {}
    for meeting in meetings:
        key = peer_key(meeting.peer)
        last, count = stats.get(key, (meeting.date, 0))
        stats[key] = (max(last, meeting.date), count + 1)
    return stats


def next_turns(
    roster: Roster, settings: Settings, history: rotation.History, today: dt.date
) -> dict[str, dt.date]:
    """peer_key -> the date of their next planned meeting, for every peer the plan reaches: the plan walked
    until each peer has a turn, or one full round after the last pause ends."""
    if not roster.peers:
        return {}
    back = max((p.paused_until for p in roster.peers if p.paused_until), default=today)
    limit = max(0, (back - today).days // 7) + len(roster.peers) + 2
    turns: dict[str, dt.date] = {}
    for slot in itertools.islice(rotation.iter_plan(roster, settings, history, today), limit):
        if slot.peer is not None:
            turns.setdefault(slot.peer.key, slot.date)
            if len(turns) == len(roster.peers):
                break
    return turns
