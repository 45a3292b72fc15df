"""Pure changes to the roster: each returns a new Roster or raises ConflictError. No I/O."""

from __future__ import annotations

from peerloop.errors import ConflictError
from peerloop.models import Peer, Roster, Settings

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
    """The method's nudge when the roster is outside 4 to 5 active peers."""
    if active_count == 0:
        return "No active peers yet: add the 4 to 5 people you want to meet with `peerloop add NAME`."
    if active_count < FEWEST_PEERS:
        return f"{active_count} active peer{'s' if active_count > 1 else ''}. {TROUBLE_QUESTION}"
    if active_count > MOST_PEERS:
        return (
            f"{active_count} active peers: each is seen every {active_count} weeks, "
            f"less often than every {MOST_PEERS}. The method suggests 4 to 5."
        )
    return None
