"""Two versions of the roster made one, by peer: a peer is the same on both sides when one of their names
(their name, or one they had before a rename: `formerly`) matches, so a rename on one side and a log on the
other meet as one peer under the new name. The settings are one record, merged as `versions` says.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import NamedTuple

from peerloop.core.merge.stamps import names_of, unstamped
from peerloop.core.merge.versions import OLDEST, merge_record, newer
from peerloop.core.models import Peer, Roster, peer_key


class Merged(NamedTuple):
    roster: Roster
    notes: list[str]


def merge_rosters(base: Roster | None, ours: Roster, theirs: Roster) -> Merged:
    """The roster both sides make (`base`: the common version, when known)."""
    notes: list[str] = []
    settings = ours.settings or theirs.settings
    if ours.settings is not None and theirs.settings is not None:
        outcome = merge_record(base.settings if base else None, ours.settings, theirs.settings)
        settings = outcome.record
        if outcome.lost:
            notes.append(f"settings changed on both devices: kept the newer {', '.join(outcome.lost)}; the other "
                         f"said {_said(outcome.lost)}")  # fmt: skip
    removed = dict(theirs.removed)
    for name, when in ours.removed.items():
        removed[name] = max(when, removed.get(name, when))
    gone = {peer_key(name): when for name, when in removed.items()}
    peers: list[Peer] = []
    unmatched = list(theirs.peers)
    for mine in ours.peers:
        other = next((peer for peer in unmatched if names_of(peer) & names_of(mine)), None)
        if other is None:
            kept = _alone(mine, base, gone)
        else:
            unmatched.remove(other)
            was = (
                next((peer for peer in base.peers if names_of(peer) & names_of(mine)), None) if base else None
            )
            kept, said = _one_peer(was, mine, other)
            notes += said
        if kept is not None:
            peers.append(kept)
    peers += [kept for other in unmatched if (kept := _alone(other, base, gone)) is not None]
    present = {name for peer in peers for name in names_of(peer)}
    removed = {name: when for name, when in sorted(removed.items()) if peer_key(name) not in present}
    extra = {**theirs.extra, **ours.extra}
    return Merged(Roster(settings=settings, peers=tuple(peers), removed=removed, extra=extra), notes)


def _one_peer(base: Peer | None, ours: Peer, theirs: Peer) -> tuple[Peer, list[str]]:
    """One peer from both sides' versions: the rename kept, the earlier `added`, other fields as `versions`."""
    name = _name(base, ours, theirs)
    outcome = merge_record(base, ours._replace(name=name), theirs._replace(name=name))
    formerly = [n for n in dict.fromkeys((*ours.formerly, *theirs.formerly, ours.name, theirs.name))
                if peer_key(n) != peer_key(name)]  # fmt: skip
    lost = {key: value for key, value in outcome.lost.items() if key not in ("added", "formerly")}
    peer = outcome.record._replace(name=name, added=min(ours.added, theirs.added), formerly=tuple(formerly))
    said = [
        f"{name} was changed on both devices: kept the newer {', '.join(lost)}; the other said {_said(lost)}"
    ]
    return peer, said if lost else []


def _name(base: Peer | None, ours: Peer, theirs: Peer) -> str:
    """The name after a rename on either side: the side that knows the other's name as a former one renamed
    last; with the common version, the side that changed it; else the newer side's."""
    if ours.key == theirs.key:
        return ours.name
    if theirs.key in {peer_key(n) for n in ours.formerly}:
        return ours.name
    if ours.key in {peer_key(n) for n in theirs.formerly}:
        return theirs.name
    if base is not None and base.key in (ours.key, theirs.key):
        return theirs.name if base.key == ours.key else ours.name
    return ours.name if newer(ours, theirs) else theirs.name


def _alone(peer: Peer, base: Roster | None, gone: Mapping[str, dt.datetime]) -> Peer | None:
    """A peer on one side only: kept, unless removed on the other (and not changed since), or (with the
    common version) removed there and left as it was here."""
    removed_at = max((when for name, when in gone.items() if name in names_of(peer)), default=None)
    if removed_at is not None and (peer.changed or OLDEST) <= removed_at:
        return None
    was = next((old for old in base.peers if names_of(old) & names_of(peer)), None) if base else None
    if was is not None and unstamped(was) == unstamped(peer):
        return None
    return peer


def _said(lost: dict[str, object]) -> str:
    """'weekday 2, no note, org "Acme"': what the older version said, for the closing message."""
    return ", ".join(
        f"no {key}" if value == "" else f'{key} "{value}"' if isinstance(value, str) else f"{key} {value}"
        for key, value in lost.items()
    )
