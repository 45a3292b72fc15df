"""Pure: what `peerloop sync` must do to the calendar, and the record it keeps of what the server accepted.

Three views of each UID meet here: what the plan wants now (`Desired`), what the last sync recorded as
accepted (`Recorded`) and what the server holds now (`Remote`). A server ETag other than the recorded one
means the leader changed the event in their calendar app: it is left alone and reported unless overwritten.
The record is written as the sync goes, like vdirsyncer's status file (docs/calendar.md, "sync").
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

KEY = "caldav"
"""calendar.toml's table for the record."""


class Desired(NamedTuple):
    """One event as the plan wants it: the iCalendar bytes and a digest of what matters in them."""

    ics: bytes
    digest: str


class Recorded(NamedTuple):
    """What the server accepted for a UID at the last sync (kept in the data folder)."""

    href: str
    etag: str
    digest: str


class Remote(NamedTuple):
    """A peerloop event as the server holds it now."""

    href: str
    etag: str


class Kind(enum.StrEnum):
    CREATE = "create"  # planned, not on the server: PUT with If-None-Match: *
    UPDATE = "update"  # planned, content changed (or not recorded yet): PUT with If-Match
    DELETE = "delete"  # left the plan (or an unrecorded leftover of ours): DELETE with If-Match
    UNCHANGED = "unchanged"  # nothing to send
    CONFLICT = "conflict"  # changed on the server since the last sync: left alone, reported
    MISSING = "missing"  # still planned, but deleted on the server since the last sync: left alone, reported
    FORGET = "forget"  # left the plan and already gone from the server: only the record is dropped


SENDS = frozenset({Kind.CREATE, Kind.UPDATE, Kind.DELETE})


class Action(NamedTuple):
    """One step of a sync. `etag` is the If-Match value for UPDATE/DELETE, the server's for the others."""

    kind: Kind
    uid: str
    why: str
    href: str | None = None
    etag: str | None = None
    ics: bytes | None = None
    digest: str | None = None


class Applied(NamedTuple):
    """The server accepted an action: where the event now is, or `href=None` when it is gone."""

    uid: str
    href: str | None
    etag: str | None


class Refused(NamedTuple):
    """The server refused a conditional write (412): the event changed between listing and sending."""

    uid: str
    why: str


def plan(
    desired: Mapping[str, Desired],
    recorded: Mapping[str, Recorded],
    remote: Mapping[str, Remote],
    *,
    overwrite: bool = False,
) -> list[Action]:
    """Every UID known to any side gets exactly one action, in UID order (stable output, stable tests)."""
    actions = []
    for uid in sorted(desired.keys() | recorded.keys() | remote.keys()):
        action = _decide(uid, desired.get(uid), recorded.get(uid), remote.get(uid), overwrite)
        if action is not None:
            actions.append(action)
    return actions


def _decide(
    uid: str, want: Desired | None, was: Recorded | None, now: Remote | None, overwrite: bool
) -> Action | None:
    if want is not None:
        return _decide_planned(uid, want, was, now, overwrite)
    if now is None:
        return None if was is None else Action(Kind.FORGET, uid, "already gone from the server")
    if was is None:
        # Our UID prefix, but never recorded: a sync was killed after the server accepted it.
        return Action(Kind.DELETE, uid, "left over from an interrupted sync", now.href, now.etag)
    if now.etag != was.etag and not overwrite:
        return Action(Kind.CONFLICT, uid, "left the plan but was changed on the server", now.href, now.etag)
    return Action(Kind.DELETE, uid, "left the plan", now.href, now.etag)


def _decide_planned(
    uid: str, want: Desired, was: Recorded | None, now: Remote | None, overwrite: bool
) -> Action:
    if now is None:
        if was is not None and not overwrite:
            return Action(Kind.MISSING, uid, "deleted on the server", was.href, was.etag)
        return Action(Kind.CREATE, uid, "new" if was is None else "deleted on the server, put back",
                      ics=want.ics, digest=want.digest)  # fmt: skip
    if was is None:
        return Action(Kind.UPDATE, uid, "on the server but not recorded", now.href, now.etag,
                      want.ics, want.digest)  # fmt: skip
    if now.etag != was.etag:
        if not overwrite:
            return Action(Kind.CONFLICT, uid, "changed on the server", now.href, now.etag)
        return Action(Kind.UPDATE, uid, "changed on the server, overwritten", now.href, now.etag,
                      want.ics, want.digest)  # fmt: skip
    if want.digest != was.digest:
        return Action(Kind.UPDATE, uid, "changed", now.href, now.etag, want.ics, want.digest)
    return Action(Kind.UNCHANGED, uid, "unchanged", now.href, now.etag, digest=was.digest)


# --- the record ----------------------------------------------------------------------------------------------


class Intent(NamedTuple):
    """A change about to be sent for a UID: what it says (digest), its SEQUENCE, and its DTSTAMP as written."""

    digest: str
    sequence: int
    stamp: str


class SyncRecord(NamedTuple):
    """What calendar.toml keeps of the last syncs to one calendar."""

    url: str
    synced_at: dt.datetime | None
    recorded: Mapping[str, Recorded]
    intents: Mapping[str, Intent]


def record_from(table: object, url: str) -> SyncRecord:
    """The record kept for `url` (a record for another calendar starts afresh); anything malformed is left out,
    so that a damaged entry is synced again rather than trusted."""
    if not isinstance(table, Mapping) or table.get("url") != url:
        return SyncRecord(url, None, {}, {})
    synced_at = table.get("synced_at")
    recorded: dict[str, Recorded] = {}
    intents: dict[str, Intent] = {}
    events = table.get("events")
    for uid, item in events.items() if isinstance(events, Mapping) else ():
        if not isinstance(item, Mapping):
            continue
        if all(isinstance(item.get(k), str) for k in ("href", "etag", "digest")):
            recorded[str(uid)] = Recorded(item["href"], item["etag"], item["digest"])
        sending = item.get("sending")
        if isinstance(sending, Mapping):
            digest, sequence, stamp = (sending.get(k) for k in ("digest", "sequence", "stamp"))
            if isinstance(digest, str) and isinstance(stamp, str) and type(sequence) is int:
                intents[str(uid)] = Intent(digest, sequence, stamp)
    return SyncRecord(url, synced_at if isinstance(synced_at, dt.datetime) else None, recorded, intents)


def record_to(record: SyncRecord) -> dict[str, Any]:
    events: dict[str, dict[str, Any]] = {}
    for uid in sorted(record.recorded.keys() | record.intents.keys()):
        item: dict[str, Any] = {}
        if uid in record.recorded:
            done = record.recorded[uid]
            item.update(href=done.href, etag=done.etag, digest=done.digest)
        if uid in record.intents:
            intent = record.intents[uid]
            item["sending"] = {"digest": intent.digest, "sequence": intent.sequence, "stamp": intent.stamp}
        events[uid] = item
    table: dict[str, Any] = {"url": record.url, "events": events}
    if record.synced_at is not None:
        table["synced_at"] = record.synced_at
    return table


def answered(record: SyncRecord, action: Action, result: Applied | Refused) -> SyncRecord:
    """The record once the server answered one action: accepted, it is recorded (or forgotten, when the event
    is gone); refused, the old record stays and the next sync looks again. Either way the intent is done."""
    recorded = dict(record.recorded)
    if isinstance(result, Applied):
        if result.href is None or result.etag is None or action.digest is None:
            recorded.pop(action.uid, None)
        else:
            recorded[action.uid] = Recorded(result.href, result.etag, action.digest)
    intents = {uid: intent for uid, intent in record.intents.items() if uid != action.uid}
    return SyncRecord(record.url, record.synced_at, recorded, intents)


def settled(record: SyncRecord, actions: Iterable[Action]) -> SyncRecord:
    """The record after planning: unchanged events recorded with the server's ETag, events gone from the
    server forgotten (nothing is sent for either)."""
    recorded = dict(record.recorded)
    for action in actions:
        if action.kind is Kind.FORGET:
            recorded.pop(action.uid, None)
        elif action.kind is Kind.UNCHANGED and action.href and action.etag and action.digest:
            recorded[action.uid] = Recorded(action.href, action.etag, action.digest)
    return SyncRecord(record.url, record.synced_at, recorded, record.intents)


def unfolded_lines(text: str) -> list[str]:
    """An iCalendar text's content lines, unfolded (RFC 5545 3.1), read without icalendar."""
    return text.replace("\r\n", "\n").replace("\n ", "").replace("\n\t", "").split("\n")


def stamp_of(data: str) -> tuple[int | None, str | None]:
    """The SEQUENCE and DTSTAMP of the first event in an iCalendar text, as written (unfolded lines)."""
    sequence: int | None = None
    stamp: str | None = None
    in_event = False
    for line in unfolded_lines(data):
        name, colon, value = line.partition(":")
        key = name.split(";")[0].strip().upper()
        if key == "BEGIN" and value.strip().upper() == "VEVENT":
            in_event = True
        elif not in_event or not colon:
            continue
        elif key == "SEQUENCE" and sequence is None and value.strip().isdigit():
            sequence = int(value.strip())
        elif key == "DTSTAMP" and stamp is None:
            stamp = value.strip()
        elif key == "END" and value.strip().upper() == "VEVENT":
            break
    return sequence, stamp
