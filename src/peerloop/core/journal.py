"""Pure changes to the meeting log: adding, replacing and removing entries in a JournalYear, checking dates
and weeks, closing follow-ups. No I/O, no printing: each function returns new values or raises.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from peerloop.core import rotation
from peerloop.core.ids import normal, sort_key, taken_ids
from peerloop.core.models import (
    Entry,
    FollowUp,
    Gain,
    JournalYear,
    Meeting,
    Peer,
    Reflection,
    Review,
    Roster,
    Skip,
    Touch,
    peer_key,
)
from peerloop.core.parse import parse_flag, values
from peerloop.errors import ConflictError, InputError

LogEntry = Meeting | Skip
"""The entries `log` and `history` work on."""

_KINDS: Mapping[type, tuple[str, str]] = {
    Meeting: ("meeting", "meetings"),
    Skip: ("skip", "skips"),
    Reflection: ("reflection", "reflections"),
    Review: ("review", "reviews"),
    Touch: ("touch", "touches"),
}


def kind_of(entry: Entry) -> str:
    return _KINDS[type(entry)][0]


def field_of(entry: Entry) -> str:
    """The JournalYear field that holds the entry."""
    return _KINDS[type(entry)][1]


# --- adding, replacing, removing ---------------------------------------------------------------------------


def add_entry(journal_year: JournalYear, entry: Entry) -> JournalYear:
    """The year with `entry` added; its date must be in the year and its id free."""
    if entry.date.year != journal_year.year:
        raise ValueError(f"an entry dated {entry.date} does not belong in the {journal_year.year} file")
    if entry.id in taken_ids(journal_year):
        raise ValueError(f"id {entry.id} is already taken in {journal_year.year}")
    field = field_of(entry)
    changes: dict[str, Any] = {field: (*getattr(journal_year, field), entry)}
    return journal_year._replace(**changes)


def find_entry(journal_years: Iterable[JournalYear], wanted: str) -> Entry | None:
    """The entry with id `wanted` as typed (in any case)."""
    wanted = wanted.strip()
    return next(
        (e for year in journal_years for e in year.entries() if e.id in (wanted, normal(wanted))), None
    )


def remove_entry(journal_year: JournalYear, wanted: str) -> tuple[JournalYear, Entry]:
    """The year without the entry `wanted`, and the entry removed; ConflictError if there is none."""
    entry = find_entry([journal_year], wanted)
    if entry is None:
        raise unknown_id(wanted)
    field = field_of(entry)
    changes: dict[str, Any] = {field: tuple(e for e in getattr(journal_year, field) if e.id != entry.id)}
    return journal_year._replace(**changes), entry


def replace_entry(journal_year: JournalYear, old_id: str, entry: Entry) -> JournalYear:
    """The year with the entry `old_id` replaced by `entry` (which may carry a new id, in the same year)."""
    without, _ = remove_entry(journal_year, old_id)
    return add_entry(without, entry)


def move_entry(
    source: JournalYear, target: JournalYear | None, old_id: str, entry: Entry
) -> tuple[JournalYear, ...]:
    """Replace `old_id` by `entry`, moving it to `target` when its new date is in another year: the year
    files that changed (one, or two when the entry moved)."""
    if target is None or target.year == source.year:
        return (replace_entry(source, old_id, entry),)
    without, _ = remove_entry(source, old_id)
    return without, add_entry(target, entry)


def unknown_id(wanted: str) -> ConflictError:
    return ConflictError(f"no journal entry with id {wanted!r}; `peerloop history` shows each entry's id")


# --- checks ------------------------------------------------------------------------------------------------


def check_not_future(day: dt.date, today: dt.date) -> dt.date:
    if day > today:
        raise InputError(
            f"--date {day.isoformat()} is in the future (today is {today.isoformat()}); "
            "log a week once it has happened"
        )
    return day


def week_years(day: dt.date) -> set[int]:
    """The years a day's ISO week touches: one, or two for the week around New Year."""
    monday = rotation.week_start(day)
    return {monday.year, (monday + dt.timedelta(days=6)).year}


def entries_in_week(entries: Iterable[LogEntry], day: dt.date, ignore: str | None = None) -> list[LogEntry]:
    """The meetings and skips already logged in `day`'s week (leaving out the entry `ignore`), oldest first."""
    week = rotation.week_start(day)
    found = [e for e in entries if rotation.week_start(e.date) == week and e.id != ignore]
    return sorted(found, key=sort_key)


def describe(entry: LogEntry | Touch) -> str:
    """'meeting 20260310-vzrq2 with Ann Lee' or 'skip 20260310-vzrq2 (Ann Lee's turn)': for one-line messages."""
    if isinstance(entry, Meeting):
        return f"meeting {entry.id} with {entry.peer}"
    if isinstance(entry, Touch):
        return f"touch {entry.id} with {entry.peer}"
    return f"skip {entry.id}" + (f" ({entry.peer}'s turn)" if entry.peer else "")


def check_skip_week(entries: Iterable[LogEntry], day: dt.date, ignore: str | None = None) -> None:
    """A week holds at most one skip, and no skip once a meeting happened: the week is already done."""
    holding = entries_in_week(entries, day, ignore)
    if holding:
        first = holding[0]
        monday = rotation.week_start(day)
        raise ConflictError(
            f"the week of {monday.isoformat()} is already done: it holds {describe(first)}; "
            f"to record a skip instead, run `peerloop forget {first.id}` first"
        )


def extra_meeting_note(entries: Iterable[LogEntry], day: dt.date, ignore: str | None = None) -> str | None:
    """Why a second meeting in a done week is allowed but does not keep next week's slot, or None."""
    holding = entries_in_week(entries, day, ignore)
    if not holding:
        return None
    monday = rotation.week_start(day)
    held = ", ".join(describe(e) for e in holding)
    hint = (
        f"; if the meeting did happen, `peerloop forget {holding[0].id}`"
        if all(isinstance(e, Skip) for e in holding)
        else ""
    )
    return (
        f"the week of {monday.isoformat()} already holds {held}: this meeting counts as an extra, "
        f"not as next week's{hint}"
    )


def with_added_back(roster: Roster, name: str, day: dt.date) -> Roster:
    """Move a peer's `added` date back to `day` when a meeting predates it: weekly commands read the journal
    only back to the oldest `added` year of a peer not yet found, so the rotation would not see it."""
    peer = roster.find(name)
    if peer is None or peer.added <= day:
        return roster
    peers = tuple(p._replace(added=day) if p.key == peer.key else p for p in roster.peers)
    return roster._replace(peers=peers)


# --- values ------------------------------------------------------------------------------------------------


def text_or_none(value: str | None) -> str | None:
    """Reflection text is kept exactly as given; an empty (or blank) value means none."""
    if value is None or not value.strip():
        return None
    return value


def check_text(value: str | None, flag: str) -> str | None:
    """Text from a flag or an answer, kept as given; None when blank; refused, naming the flag, when it is
    not UTF-8."""
    text = text_or_none(value)
    return None if text is None else parse_flag(text, flag, values.check_utf8)


def parse_gains(items: Iterable[str]) -> tuple[Gain, ...]:
    """Gains from repeated flags or one answer, separated by commas or spaces; each kept once, in order."""
    found: list[Gain] = []
    for item in items:
        for word in re.split(r"[,\s]+", item.strip()):
            if word:
                gain = values.parse_gain(word)
                if gain not in found:
                    found.append(gain)
    return tuple(found)


# --- amending ----------------------------------------------------------------------------------------------


class FollowUpChanges(NamedTuple):
    """Follow-ups to mark done, reopen or drop, by their number n (the `.n` of their handle), and ones to add."""

    done: Sequence[int] = ()
    reopen: Sequence[int] = ()
    drop: Sequence[int] = ()
    add: Sequence[str] = ()

    def __bool__(self) -> bool:
        return bool(self.done or self.reopen or self.drop or self.add)


def handle(meeting: Meeting, item: FollowUp) -> str:
    """A follow-up's handle, `20260310-vzrq2.2`: its meeting's id and its own number, which never change."""
    return f"{meeting.id}.{item.n}"


_HANDLE = re.compile(r"^\s*(\S+)\.(\d+)\s*$")


def parse_handle(text: str) -> tuple[str, int]:
    """`20260310-vzrq2.2` -> ("20260310-vzrq2", 2); ValueError naming the form otherwise."""
    match = _HANDLE.match(text)
    if not match or int(match[2]) < 1:
        raise ValueError(
            f"{text!r} is not a follow-up handle; use the form `peerloop next` and `history` show, "
            "e.g. 20260310-vzrq2.2"
        )
    return match[1], int(match[2])


def change_follow_ups(meeting: Meeting, changes: FollowUpChanges) -> tuple[FollowUp, ...]:
    """The meeting's follow-ups after the changes; each keeps its number, a new one takes the next free."""
    numbers = {item.n for item in meeting.follow_ups}
    for flag, wanted in (("--done", changes.done), ("--reopen", changes.reopen), ("--drop", changes.drop)):
        for n in wanted:
            if n not in numbers:
                held = ", ".join(handle(meeting, item) for item in meeting.follow_ups) or "none"
                raise ConflictError(
                    f"{flag}: meeting {meeting.id} has no follow-up {meeting.id}.{n} (it has: {held})"
                )
    both = set(changes.done) & set(changes.reopen)
    if both:
        raise InputError(f"follow-up {meeting.id}.{min(both)} cannot be both done and reopened")
    updated = []
    for item in meeting.follow_ups:
        if item.n in changes.drop:
            continue
        if item.n in changes.done:
            item = item._replace(done=True)
        elif item.n in changes.reopen:
            item = item._replace(done=False)
        updated.append(item)
    following = max(numbers, default=0) + 1
    for text in changes.add:
        if text_or_none(text) is not None:
            updated.append(FollowUp(text, False, following))
            following += 1
    return tuple(updated)


def new_follow_ups(texts: Iterable[str]) -> tuple[FollowUp, ...]:
    """A new meeting's follow-ups, numbered 1, 2, … in the order given."""
    return tuple(FollowUp(text, False, n) for n, text in enumerate(texts, start=1))


def open_follow_ups(meetings: Iterable[Meeting], peer: Peer | str) -> list[tuple[Meeting, FollowUp]]:
    """Every follow-up still open with a peer, from every meeting given, oldest first."""
    key = peer.key if isinstance(peer, Peer) else peer_key(peer)
    mine = sorted((m for m in meetings if peer_key(m.peer) == key), key=sort_key)
    return [(meeting, item) for meeting in mine for item in meeting.follow_ups if not item.done]


def changed_fields(before: LogEntry, after: LogEntry) -> list[str]:
    """The names of the fields that differ (id aside), for the one-line report of an amend."""
    return [
        name
        for name in before._fields
        if name not in ("id", "extra", "changed", "replaced")
        and getattr(before, name) != getattr(after, name)
    ]


def renamed_peer(journal_year: JournalYear, old: str, new: str) -> JournalYear:
    """The year with every meeting and skip that names `old` (any case) naming `new` instead."""
    key = peer_key(old)
    return journal_year._replace(
        meetings=tuple(m._replace(peer=new) if peer_key(m.peer) == key else m for m in journal_year.meetings),
        skips=tuple(
            s._replace(peer=new) if s.peer and peer_key(s.peer) == key else s for s in journal_year.skips
        ),
    )


def names_in(entries: Iterable[LogEntry | Touch]) -> list[str]:
    """Every peer name the entries mention, first spelling kept once per peer."""
    seen: dict[str, str] = {}
    for entry in entries:
        if entry.peer:
            seen.setdefault(peer_key(entry.peer), entry.peer)
    return list(seen.values())
