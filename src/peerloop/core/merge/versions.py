"""Which version of one record a merge keeps, field by field: a field only one side changed (from the common
version, `base`, when it is known: git knows it, a sync tool's conflict copy does not) comes from that side;
a field both sides changed, or any field in which they differ without a base, comes from the newer version
(`changed`; a record never stamped counts as oldest, a tie goes to the version that sorts last, so every
device decides alike), and the older version's value is returned so that it is never silently dropped.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from typing import Any, NamedTuple, TypeVar

from peerloop.core.models import FollowUp, Meeting, Replaced

R = TypeVar("R", bound=tuple[Any, ...])

OWN = ("id", "changed", "replaced", "extra", "follow_ups")
"""Fields merged by their own rule, never field by field."""
OLDEST = dt.datetime.min.replace(tzinfo=dt.UTC)


class Outcome(NamedTuple):
    record: Any
    lost: dict[str, Any]
    """The older version's value of each field both sides changed, as written in a file (None as "")."""
    notes: list[str]
    """What else the merge did that the user should hear (a follow-up renumbered)."""


def newer(first: Any, second: Any) -> bool:
    """Whether `first` is the newer version: by `changed`, then (a tie) by what it says."""
    return (first.changed or OLDEST, repr(first._replace(changed=None))) >= (
        second.changed or OLDEST,
        repr(second._replace(changed=None)),
    )


def merge_record(base: R | None, ours: R, theirs: R) -> Outcome:
    """One record from two versions of it (and the common one when known)."""
    winner, loser = (ours, theirs) if newer(ours, theirs) else (theirs, ours)
    values: dict[str, Any] = {}
    lost: dict[str, Any] = {}
    for name in ours._fields:  # type: ignore[attr-defined]
        if name in OWN:
            continue
        mine, other = getattr(ours, name), getattr(theirs, name)
        was = getattr(base, name) if base is not None else None
        if mine == other or (base is not None and other == was):
            values[name] = mine
        elif base is not None and mine == was:
            values[name] = other
        else:
            values[name] = getattr(winner, name)
            lost[name] = plain(getattr(loser, name))
    merged = winner._replace(**values)  # type: ignore[attr-defined]
    notes: list[str] = []
    if "follow_ups" in ours._fields:  # type: ignore[attr-defined]
        items, notes = merge_follow_ups(base, ours, theirs, winner is ours)  # type: ignore[arg-type]
        merged = merged._replace(follow_ups=items)
    if "extra" in ours._fields:  # type: ignore[attr-defined]
        merged = merged._replace(extra={**loser.extra, **winner.extra})  # type: ignore[attr-defined]
    stamps = [stamp for stamp in (ours.changed, theirs.changed) if stamp is not None]  # type: ignore[attr-defined]
    merged = merged._replace(changed=max(stamps) if stamps else None)
    if "replaced" in ours._fields:  # type: ignore[attr-defined]
        kept = [*winner.replaced, *(r for r in loser.replaced if r not in winner.replaced)]  # type: ignore[attr-defined]
        if lost:
            kept.append(Replaced(loser.changed, lost))  # type: ignore[attr-defined]
        merged = merged._replace(replaced=tuple(kept))
    return Outcome(merged, lost, notes)


def merge_follow_ups(
    base: Meeting | None, ours: Meeting, theirs: Meeting, ours_newer: bool
) -> tuple[tuple[FollowUp, ...], list[str]]:
    """A meeting's follow-ups by number: each kept; its done mark as one side changed it (the newer side's
    when both did); one added on each side under the same number (two devices amending the same meeting)
    both kept, the older side's taking the next free number."""
    mine, other = ({item.n: item for item in side.follow_ups} for side in (ours, theirs))
    before = {item.n: item for item in base.follow_ups} if base is not None else {}
    kept: dict[int, FollowUp] = {}
    moved: list[FollowUp] = []
    for n in sorted(mine.keys() | other.keys()):
        left, right, was = mine.get(n), other.get(n), before.get(n)
        if left is None or right is None:
            present = left or right
            if was is None or present != was:  # added on one side (or changed there): never lost
                kept[n] = present  # type: ignore[assignment]
        elif left.text != right.text:
            kept[n], extra = (left, right) if ours_newer else (right, left)
            moved.append(extra)
        elif left.done == right.done or (was is not None and right.done == was.done):
            kept[n] = left
        elif was is not None and left.done == was.done:
            kept[n] = right
        else:
            kept[n] = left if ours_newer else right
    notes = []
    following = max([*kept, *mine, *other], default=0) + 1
    for item in moved:
        notes.append(f"{ours.id}.{item.n} from the other version is now {ours.id}.{following}")
        kept[following], following = item._replace(n=following), following + 1
    return tuple(kept[n] for n in sorted(kept)), notes


def plain(value: Any) -> Any:
    """A field's value as a file writes it: texts for choices, lists for tuples, "" for none."""
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [plain(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    return value
