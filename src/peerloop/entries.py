"""Pure changes to the meeting log: adding, replacing and removing entries in a JournalYear, choosing ids,
checking dates and weeks, closing follow-ups. No I/O, no printing: each function returns new values or raises.

Ids are `YYYYMMDD-N` (see `storage.entry_id`): the date the entry is filed under and the first free number
on that day. So an id names its year file, and a changed date means a new id.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from peerloop import rotation, values
from peerloop.errors import ConflictError, InputError
from peerloop.models import (
    Entry,
    FollowUp,
    Gain,
    JournalYear,
    Meeting,
    Peer,
    Reflection,
    Review,
    Roster,
    Settings,
    Skip,
    peer_key,
)
from peerloop.storage import entry_id

LogEntry = Meeting | Skip
"""The entries `log` and `history` work on."""

_ID = re.compile(r"^(\d{4})(\d{2})(\d{2})-(\d+)$")

KIND_NAMES: Mapping[type, str] = {
    Meeting: "meeting",
    Skip: "skip",
    Reflection: "reflection",
    Review: "review",
}


def kind_of(entry: Entry) -> str:
    return KIND_NAMES[type(entry)]


# --- ids ---------------------------------------------------------------------------------------------------


def id_year(text: str) -> int | None:
    """The year an id is filed under (its first four digits), or None for an id not of the form YYYYMMDD-N."""
    match = _ID.match(text.strip())
    return int(match[1]) if match else None


def taken_ids(journal_year: JournalYear) -> set[str]:
    """Every id in the year file, whatever the entry's kind: ids are unique across kinds."""
    return {entry.id for entry in journal_year.entries()}


def new_id(journal_year: JournalYear, day: dt.date) -> str:
    if day.year != journal_year.year:
        raise ValueError(f"an entry dated {day} does not belong in the {journal_year.year} file")
    return entry_id(day, taken_ids(journal_year))


def sort_key(entry: Entry) -> tuple[dt.date, int, str]:
    """Date, then the id's number (so 20260310-10 comes after 20260310-9), then the id itself."""
    match = _ID.match(entry.id)
    return entry.date, int(match[4]) if match else 0, entry.id


def newest_first(entries: Iterable[LogEntry]) -> list[LogEntry]:
    return sorted(entries, key=sort_key, reverse=True)


# --- adding, replacing, removing ---------------------------------------------------------------------------


def _field_for(entry: Entry) -> str:
    return {Meeting: "meetings", Skip: "skips", Reflection: "reflections", Review: "reviews"}[type(entry)]


def add_entry(journal_year: JournalYear, entry: Entry) -> JournalYear:
    """The year with `entry` added; its date must be in the year and its id free."""
    if entry.date.year != journal_year.year:
        raise ValueError(f"an entry dated {entry.date} does not belong in the {journal_year.year} file")
    if entry.id in taken_ids(journal_year):
        raise ValueError(f"id {entry.id} is already taken in {journal_year.year}")
    field = _field_for(entry)
    changes: dict[str, Any] = {field: (*getattr(journal_year, field), entry)}
    return journal_year._replace(**changes)


def find_entry(journal_years: Iterable[JournalYear], wanted: str) -> Entry | None:
    wanted = wanted.strip()
    return next((e for year in journal_years for e in year.entries() if e.id == wanted), None)


def remove_entry(journal_year: JournalYear, wanted: str) -> tuple[JournalYear, Entry]:
    """The year without the entry `wanted`, and the entry removed; ConflictError if there is none."""
    entry = find_entry([journal_year], wanted)
    if entry is None:
        raise unknown_id(wanted)
    field = _field_for(entry)
    changes: dict[str, Any] = {field: tuple(e for e in getattr(journal_year, field) if e.id != entry.id)}
    return journal_year._replace(**changes), entry


def replace_entry(journal_year: JournalYear, old_id: str, entry: Entry) -> JournalYear:
    """The year with the entry `old_id` replaced by `entry` (which may carry a new id, in the same year)."""
    without, _ = remove_entry(journal_year, old_id)
    return add_entry(without, entry)


def move_entry(
    source: JournalYear, target: JournalYear | None, old_id: str, entry: Entry
) -> tuple[JournalYear, ...]:
    """Replace `old_id` by `entry`, moving it to `target` when its new date is in another year.

    Returns the year files that changed (one, or two when the entry moved).
    """
    if target is None or target.year == source.year:
        return (replace_entry(source, old_id, entry),)
    without, _ = remove_entry(source, old_id)
    return without, add_entry(target, entry)


def unknown_id(wanted: str) -> ConflictError:
    return ConflictError(f"no journal entry with id {wanted!r}; `peerloop history` shows each entry's id")


# --- checks ------------------------------------------------------------------------------------------------


def check_not_future(day: dt.date, today: dt.date, flag: str = "--date") -> dt.date:
    if day > today:
        raise InputError(
            f"{flag} {day.isoformat()} is in the future (today is {today.isoformat()}); "
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


def describe(entry: LogEntry) -> str:
    """'meeting 20260310-1 with Ann Lee' or 'skip 20260310-1 (Ann Lee's turn)': for one-line messages."""
    if isinstance(entry, Meeting):
        return f"meeting {entry.id} with {entry.peer}"
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


def unknown_peer(roster: Roster, name: str, journal_names: Iterable[str]) -> ConflictError:
    """The error for a name not in the roster: a removed peer (still in the journal) or a stranger."""
    key = peer_key(name)
    removed = next((n for n in journal_names if peer_key(n) == key), None)
    if removed is not None:
        return ConflictError(
            f"{removed} is no longer in the roster (removed; the journal keeps their entries); "
            f'add them back with `peerloop add "{removed}"` to log with them'
        )
    known = ", ".join(p.name for p in roster.peers) or "none yet"
    return ConflictError(f"no peer named {name!r} in the roster (peers: {known}); see `peerloop peers`")


def with_added_back(roster: Roster, name: str, day: dt.date) -> Roster:
    """Move a peer's `added` date back to `day` when a meeting predates it.

    Weekly commands read the journal only back to the oldest `added` year of a peer not yet found,
    so a meeting filed before that would be invisible to the rotation.
    """
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
    """Text from a flag or an answer, kept as given; None when blank.

    Text that is not UTF-8 (see `values.check_utf8`) is refused, naming the flag, before anything is written.
    """
    text = text_or_none(value)
    if text is not None:
        try:
            values.check_utf8(text)
        except ValueError as error:
            raise InputError(f"{flag}: {error}") from None
    return text


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
    """Follow-ups to mark done, reopen or drop, by their number in `history` (1-based), and ones to add."""

    done: Sequence[int] = ()
    reopen: Sequence[int] = ()
    drop: Sequence[int] = ()
    add: Sequence[str] = ()

    def __bool__(self) -> bool:
        return bool(self.done or self.reopen or self.drop or self.add)


def change_follow_ups(meeting: Meeting, changes: FollowUpChanges) -> tuple[FollowUp, ...]:
    """The meeting's follow-ups after the changes; numbers refer to the list before any change.

    The result lists open follow-ups first, then done ones, each in their order: the order the journal
    file keeps them in, so the numbers `history` shows next time are the ones returned here.
    """
    count = len(meeting.follow_ups)
    for flag, numbers in (("--done", changes.done), ("--reopen", changes.reopen), ("--drop", changes.drop)):
        for n in numbers:
            if not 1 <= n <= count:
                held = f"follow-ups 1 to {count}" if count else "no follow-ups"
                raise ConflictError(
                    f"{flag} {n}: meeting {meeting.id} has {held}; `peerloop history` numbers them"
                )
    both = set(changes.done) & set(changes.reopen)
    if both:
        raise InputError(f"follow-up {min(both)} cannot be both --done and --reopen")
    updated = []
    for n, item in enumerate(meeting.follow_ups, start=1):
        if n in changes.drop:
            continue
        if n in changes.done:
            item = item._replace(done=True)
        elif n in changes.reopen:
            item = item._replace(done=False)
        updated.append(item)
    updated += [FollowUp(text) for text in changes.add if text_or_none(text) is not None]
    return canonical_follow_ups(updated)


def canonical_follow_ups(items: Iterable[FollowUp]) -> tuple[FollowUp, ...]:
    """Open follow-ups first, then done ones: how the journal file stores them."""
    listed = list(items)
    return (*(i for i in listed if not i.done), *(i for i in listed if i.done))


def changed_fields(before: LogEntry, after: LogEntry) -> list[str]:
    """The names of the fields that differ (id aside), for the one-line report of an amend."""
    return [
        name
        for name in before._fields
        if name not in ("id", "extra") and getattr(before, name) != getattr(after, name)
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
    """peer_key -> the date of their next planned meeting, for every peer the plan reaches.

    The plan is walked until each peer has a turn, or one full round after the last pause ends.
    """
    if not roster.peers:
        return {}
    back = max((p.paused_until for p in roster.peers if p.paused_until), default=today)
    limit = max(0, (back - today).days // 7) + len(roster.peers) + 2
    turns: dict[str, dt.date] = {}
    for slot in itertools.islice(rotation.iter_plan(roster, settings, history, today), limit):
        if slot.peer is not None and slot.peer.key not in turns:
            turns[slot.peer.key] = slot.date
            if len(turns) == len(roster.peers):
                break
    return turns


# --- JSON --------------------------------------------------------------------------------------------------


def entry_json(entry: LogEntry) -> dict[str, Any]:
    """One history entry for scripts: id, kind, date, peer, then every field of its kind."""
    if isinstance(entry, Meeting):
        return {
            "id": entry.id,
            "kind": "meeting",
            "date": entry.date,
            "peer": entry.peer,
            "mode": entry.mode.value,
            "issue": entry.issue,
            "gains": [gain.value for gain in entry.gains],
            "win": entry.win,
            "works": entry.works,
            "improve": entry.improve,
            "follow_ups": [
                {"n": n, "text": item.text, "done": item.done}
                for n, item in enumerate(entry.follow_ups, start=1)
            ],
            "note": entry.note,
        }
    return {"id": entry.id, "kind": "skip", "date": entry.date, "peer": entry.peer, "reason": entry.reason}


def names_in(entries: Iterable[LogEntry]) -> list[str]:
    """Every peer name the entries mention, first spelling kept once per peer."""
    seen: dict[str, str] = {}
    for entry in entries:
        if entry.peer:
            seen.setdefault(peer_key(entry.peer), entry.peer)
    return list(seen.values())


def for_peer(entries: Iterable[LogEntry], peer: Peer | str) -> list[LogEntry]:
    key = peer.key if isinstance(peer, Peer) else peer_key(peer)
    return [e for e in entries if e.peer is not None and peer_key(e.peer) == key]
