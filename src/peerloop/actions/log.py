"""What each kind of `log` changes, worked out on a session under the lock: a meeting, a skip, a touch, an
amend, closing follow-ups. Each function checks everything first and stages the files it changes; the
command's `store.change()` block commits them together. Nothing here prints.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from peerloop.core import ids, journal, rotation
from peerloop.core.journal import FollowUpChanges
from peerloop.core.models import Entry, FollowUp, Gain, JournalYear, Meeting, Mode, Peer, Skip, Touch
from peerloop.errors import ConflictError, InputError
from peerloop.store.records import Store
from peerloop.store.session import Session


class Notes(NamedTuple):
    """The optional reflection fields of a meeting, as given on the command line or answered."""

    issue: str | None = None
    gains: tuple[Gain, ...] = ()
    win: str | None = None
    works: str | None = None
    improve: str | None = None
    follow_ups: tuple[str, ...] = ()
    note: str | None = None


class Amend(NamedTuple):
    """What `log --amend ID` was asked to change: None leaves a field as is, '' clears a text field."""

    name: str | None = None
    date: dt.date | None = None
    mode: Mode | None = None
    texts: dict[str, str | None] | None = None
    """issue, win, works, improve, note: each checked already."""
    gains: tuple[Gain, ...] | None = None
    reason: str | None = None
    follow_ups: FollowUpChanges = FollowUpChanges()

    def meeting_flags(self) -> list[str]:
        flags = [f"--{field}" for field in self.texts or {}]
        flags += ["--mode"] if self.mode is not None else []
        flags += ["--gain"] if self.gains is not None else []
        changes = self.follow_ups
        for flag, items in (("--follow-up", changes.add), ("--done", changes.done),
                            ("--reopen", changes.reopen), ("--drop", changes.drop)):  # fmt: skip
            if items:
                flags.append(flag)
        return flags

    def anything(self) -> bool:
        return bool(self.meeting_flags()) or any(v is not None for v in (self.name, self.date, self.reason))


def week_peer(session: Session, day: dt.date) -> Peer:
    """The peer whose turn it is in `day`'s week, when that week is still open; else a clear error."""
    history = session.history()
    if rotation.week_start(day) in history.done_weeks:
        raise ConflictError(
            f"the week of {rotation.week_start(day).isoformat()} is already done; "
            "name who you met: `peerloop log NAME`"
        )
    slot = session.next_slot(day)
    if slot is None:
        raise ConflictError(
            "no meeting is planned: the trial was stopped; name who you met: `peerloop log NAME`"
        )
    if slot.peer is None:
        raise ConflictError(
            f"nobody's turn in the week of {slot.week.isoformat()}: every peer is paused; "
            "name who you met: `peerloop log NAME`"
        )
    return slot.peer


def stage(session: Session, *years: JournalYear) -> None:
    for journal_year in years:
        session.years[journal_year.year] = journal_year
        session.store.save_year(journal_year)


def log_meeting(
    session: Session, day: dt.date, peer: Peer, mode: Mode | None, notes: Notes
) -> tuple[Meeting, str | None]:
    """Stage a meeting (and move the peer's `added` date back when it predates it): the meeting and a note."""
    target = session.year(day.year)
    meeting = Meeting(
        id=ids.new_id(target, day, session.store.folder.device),
        date=day,
        peer=peer.name,
        mode=mode or peer.mode or session.settings.mode,
        issue=notes.issue,
        gains=notes.gains,
        win=notes.win,
        works=notes.works,
        improve=notes.improve,
        follow_ups=journal.new_follow_ups(notes.follow_ups),
        note=notes.note,
    )
    note = journal.extra_meeting_note(session.log_entries(), day)
    stage(session, journal.add_entry(target, meeting))
    roster = journal.with_added_back(session.roster, peer.name, day)
    if roster != session.roster:
        session.roster = roster
        session.store.save_roster(roster)
    return meeting, note


def log_skip(session: Session, day: dt.date, peer: Peer | None, reason: str) -> Skip:
    journal.check_skip_week(session.log_entries(), day)
    target = session.year(day.year)
    skip = Skip(
        id=ids.new_id(target, day, session.store.folder.device),
        date=day,
        reason=reason,
        peer=peer.name if peer else None,
    )
    stage(session, journal.add_entry(target, skip))
    return skip


def log_touch(session: Session, day: dt.date, peer: Peer, note: str | None) -> Touch:
    target = session.year(day.year)
    touch = Touch(
        id=ids.new_id(target, day, session.store.folder.device), date=day, peer=peer.name, note=note
    )
    stage(session, journal.add_entry(target, touch))
    return touch


def locate(store: Store, wanted: str) -> tuple[JournalYear, Entry]:
    """The entry with id `wanted` and its year file: the year the id names, else (hand-made ids) any year."""
    year = ids.id_year(wanted)
    years = store.journal_years()
    for candidate in ([year] if year in years else []) + [y for y in years if y != year]:
        journal_year = store.load_year(candidate)
        entry = journal.find_entry([journal_year], wanted)
        if entry is not None:
            return journal_year, entry
    raise journal.unknown_id(wanted)


def _amended(session: Session, entry: Meeting | Skip, amend: Amend, day: dt.date) -> Meeting | Skip:
    changes: dict[str, Any] = {}
    if amend.name is not None:
        changes["peer"] = session.require_peer(amend.name).name
    if day != entry.date:
        changes["date"] = day
    if isinstance(entry, Skip):
        wrong = amend.meeting_flags()
        if wrong:
            raise InputError(
                f"{wrong[0]} is for meetings; {entry.id} is a skip (it takes NAME, --date, --reason)"
            )
        if amend.reason is not None:
            changes["reason"] = amend.reason
        return entry._replace(**changes)
    if amend.reason is not None:
        raise InputError(f"--reason is for skips; {entry.id} is a meeting")
    if amend.mode is not None:
        changes["mode"] = amend.mode
    changes.update(amend.texts or {})
    if amend.gains is not None:
        changes["gains"] = amend.gains
    if amend.follow_ups:
        changes["follow_ups"] = journal.change_follow_ups(entry, amend.follow_ups)
    return entry._replace(**changes)


class Amended(NamedTuple):
    before: Meeting | Skip
    after: Meeting | Skip
    changed: list[str]
    note: str | None


def amend_entry(session: Session, wanted: str, amend: Amend) -> Amended:
    """Stage the amended entry (moved to another year file when its date moved there), in one change."""
    source, entry = locate(session.store, wanted)
    if not isinstance(entry, Meeting | Skip):
        raise ConflictError(
            f"{entry.id} is a {journal.kind_of(entry)}; `peerloop log --amend` changes meetings and skips only"
        )
    session.years[source.year] = source
    day = amend.date or entry.date
    for year in sorted(journal.week_years(day)):
        session.year(year)
    after = _amended(session, entry, amend, day)
    note = None
    if after.date != entry.date:
        after = after._replace(
            id=ids.new_id(session.year(after.date.year), after.date, session.store.folder.device)
        )
        if isinstance(after, Skip):
            journal.check_skip_week(session.log_entries(), after.date, ignore=entry.id)
        else:
            note = journal.extra_meeting_note(session.log_entries(), after.date, ignore=entry.id)
    changed = journal.changed_fields(entry, after)
    if changed:
        stage(session, *journal.move_entry(source, session.year(after.date.year), entry.id, after))
        if isinstance(after, Meeting):
            roster = journal.with_added_back(session.roster, after.peer, after.date)
            if roster != session.roster:
                session.store.save_roster(roster)
    return Amended(entry, after, changed, note)


class FollowUpChanged(NamedTuple):
    meeting: Meeting
    item: FollowUp
    already: bool
    """It was already in the state asked for (closed, or open for --reopen): nothing changed for it."""


def close_follow_ups(session: Session, handles: list[tuple[str, int]], reopen: bool) -> list[FollowUpChanged]:
    """Mark follow-ups done (or open again) by handle; the meetings staged, each follow-up as it is now."""
    changed: list[FollowUpChanged] = []
    for meeting_id, n in handles:
        try:
            source, entry = locate(session.store, meeting_id)
        except ConflictError:
            raise ConflictError(
                f"HANDLE {meeting_id}.{n}: no meeting with id {meeting_id}; `peerloop next` and "
                "`peerloop history` show the follow-ups' handles"
            ) from None
        source = session.years.get(source.year, source)
        entry = journal.find_entry([source], meeting_id) or entry
        if not isinstance(entry, Meeting):
            raise ConflictError(f"{meeting_id} is a {journal.kind_of(entry)}; follow-ups belong to meetings")
        item = next((i for i in entry.follow_ups if i.n == n), None)
        if item is None:
            held = ", ".join(journal.handle(entry, i) for i in entry.follow_ups) or "none"
            raise ConflictError(
                f"HANDLE {meeting_id}.{n}: meeting {meeting_id} has no such follow-up (it has: {held})"
            )
        if item.done != reopen:
            changed.append(FollowUpChanged(entry, item, already=True))
            continue
        changes = FollowUpChanges(reopen=(n,)) if reopen else FollowUpChanges(done=(n,))
        after = entry._replace(follow_ups=journal.change_follow_ups(entry, changes))
        stage(session, journal.replace_entry(source, entry.id, after))
        changed.append(FollowUpChanged(after, item._replace(done=not reopen), already=False))
    return changed
