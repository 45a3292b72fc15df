"""What a save records for a later merge: when each record it changes was changed (`changed`), and what it took
away (the ids a year file forgets, the peers the roster removes), so that a device which still has them does
not bring them back. The store calls these for every save a command makes; a merge saves its result as is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from peerloop.core.models import ENTRY_FIELDS, JournalYear, Peer, Roster, peer_key


def unstamped(record: Any) -> Any:
    """A record without its `changed` moment: two records equal this way say the same."""
    return record._replace(changed=None)


def stamped_year(before: JournalYear, after: JournalYear, now: dt.datetime) -> JournalYear:
    """`after` as saved over `before`: each entry new or changed carries `changed = now`, each id that left
    the file is forgotten now (a forgotten entry, or one whose date moved it to a new id or year)."""
    old = {entry.id: entry for entry in before.entries()}

    def stamp(entries: Iterable[Any]) -> tuple[Any, ...]:
        return tuple(
            entry
            if entry.id in old and unstamped(old[entry.id]) == unstamped(entry)
            else entry._replace(changed=now)
            for entry in entries
        )

    kept = {entry.id for entry in after.entries()}
    gone = {entry_id: now for entry_id in old if entry_id not in kept}
    stamped: dict[str, Any] = {field: stamp(getattr(after, field)) for field in ENTRY_FIELDS}
    return after._replace(
        **stamped, forgotten=_without({**before.forgotten, **after.forgotten, **gone}, kept)
    )


def names_of(peer: Peer) -> set[str]:
    """Every name the peer is known by (compared as `peer_key` does): their name and their former names."""
    return {peer_key(name) for name in (peer.name, *peer.formerly)}


def stamped_roster(before: Roster, after: Roster, now: dt.datetime) -> Roster:
    """`after` as saved over `before`: changed settings and peers carry `changed = now`; a peer no longer in
    the roster under any of their names is removed now; a peer added back is no longer removed."""
    settings = after.settings
    if settings is not None and (
        before.settings is None or unstamped(before.settings) != unstamped(settings)
    ):
        settings = settings._replace(changed=now)
    peers = []
    for peer in after.peers:
        was = next((old for old in before.peers if old.key in names_of(peer)), None)
        peers.append(
            peer if was is not None and unstamped(was) == unstamped(peer) else peer._replace(changed=now)
        )
    present = set().union(*(names_of(peer) for peer in peers)) if peers else set()
    gone = {old.name: now for old in before.peers if old.key not in present}
    removed = {name: when for name, when in {**before.removed, **after.removed, **gone}.items()
               if peer_key(name) not in {peer.key for peer in peers}}  # fmt: skip
    return after._replace(settings=settings, peers=tuple(peers), removed=removed)


def _without(moments: Mapping[str, dt.datetime], kept: set[str]) -> dict[str, dt.datetime]:
    return {key: when for key, when in moments.items() if key not in kept}
