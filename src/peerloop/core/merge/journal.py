"""Two versions of a journal year made one, by entry id: an entry on either side is kept; the same entry
changed on both sides keeps the newer version, with the other's differing fields beside it (`replaced`, shown
by `history`); an entry forgotten on one side is dropped unless the other side changed it after that (then it
is kept: a change is never lost to a forget). With the common version (git), an entry one side deleted and the
other left as it was is deleted.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from peerloop.core.journal import field_of, kind_of
from peerloop.core.merge.stamps import unstamped
from peerloop.core.merge.versions import OLDEST, merge_record, newer, plain
from peerloop.core.models import ENTRY_FIELDS, Entry, JournalYear, Replaced, Roster, peer_key


class Merged(NamedTuple):
    year: JournalYear
    notes: list[str]
    """One line per entry both sides changed (and per follow-up renumbered): what was kept, what beside it."""


def merge_years(base: JournalYear | None, ours: JournalYear, theirs: JournalYear) -> Merged:
    """The year both sides' entries make (`base`: the common version, when known)."""
    mine, other = _by_id(ours), _by_id(theirs)
    before = _by_id(base) if base is not None else {}
    forgotten = dict(theirs.forgotten)
    for key, when in ours.forgotten.items():
        forgotten[key] = max(when, forgotten.get(key, when))
    kept: dict[str, Entry] = {}
    notes: list[str] = []
    for entry_id in sorted(mine.keys() | other.keys()):
        left, right, was = mine.get(entry_id), other.get(entry_id), before.get(entry_id)
        if left is not None and right is not None:
            if type(left) is not type(right):  # two devices made the same id (odds: docs/journal.md)
                left, right = (left, right) if newer(left, right) else (right, left)
                kept[entry_id] = left._replace(replaced=(*left.replaced, _whole(right)))
                notes.append(
                    f"{kind_of(left)} {entry_id}: kept; the {kind_of(right)} with the same id is kept beside it"
                )
                continue
            outcome = merge_record(was if type(was) is type(left) else None, left, right)
            kept[entry_id] = outcome.record
            notes += outcome.notes
            if outcome.lost:
                fields = ", ".join(outcome.lost)
                notes.append(f"{kind_of(left)} {entry_id} was changed on both devices: kept the newer version, "
                             f"the other's {fields} beside it (`peerloop history` shows it)")  # fmt: skip
            continue
        present = left if left is not None else right
        assert present is not None
        gone = forgotten.get(entry_id)
        if gone is not None and (present.changed or OLDEST) <= gone:
            continue
        if was is not None and unstamped(was) == unstamped(present):  # deleted on the other side (git)
            continue
        kept[entry_id] = present
    for entry_id, entry in kept.items():
        if entry_id in forgotten and (entry.changed or OLDEST) > forgotten[entry_id]:
            del forgotten[entry_id]
    kinds: dict[str, Any] = {
        kind: tuple(e for e in kept.values() if field_of(e) == kind) for kind in ENTRY_FIELDS
    }
    year = JournalYear(
        year=ours.year,
        **kinds,
        forgotten={key: forgotten[key] for key in sorted(forgotten) if key not in kept},
        extra={**theirs.extra, **ours.extra},
    )
    return Merged(year, notes)


def with_current_names(journal_year: JournalYear, roster: Roster) -> tuple[JournalYear, list[str]]:
    """The year with every entry that names a peer by a former name (another device logged under it before the
    rename reached it) naming them as the roster does now; and the names so changed."""
    current = {peer.key for peer in roster.peers}
    now = {
        peer_key(old): peer.name
        for peer in roster.peers
        for old in peer.formerly
        if peer_key(old) not in current
    }
    changed: set[str] = set()

    def named(entry: Any) -> Any:
        if entry.peer and peer_key(entry.peer) in now:
            changed.add(entry.peer)
            return entry._replace(peer=now[peer_key(entry.peer)])
        return entry

    renamed = journal_year._replace(
        meetings=tuple(named(m) for m in journal_year.meetings),
        skips=tuple(named(s) for s in journal_year.skips),
        touches=tuple(named(t) for t in journal_year.touches),
    )
    return renamed, sorted(changed)


def _by_id(journal_year: JournalYear) -> dict[str, Entry]:
    return {entry.id: entry for entry in journal_year.entries()}


def _whole(entry: Entry) -> Replaced:
    """An entry kept whole beside another that took its id: its kind and every field it has."""
    fields = {
        name: plain(getattr(entry, name))
        for name in entry._fields
        if name not in ("id", "changed", "replaced", "extra")
    }
    return Replaced(entry.changed, {"kind": kind_of(entry), **{k: v for k, v in fields.items() if v != ""}})
