"""Pure: what `peerloop sync` must do to the calendar, and what to record once the server has answered.

Three views of each peerloop UID meet here: the events the plan wants now (`Desired`), what the last sync
recorded as accepted by the server (`Recorded`), and what the server holds now (`Remote`). The ETag is the
witness: a server ETag other than the recorded one means someone (the leader, in their calendar app) changed
the event since, so peerloop leaves it alone and reports it unless told to overwrite. A cancelled event is
ordinary desired content (an update); a UID that left the desired set is deleted.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Desired:
    """One event as the plan wants it: the iCalendar bytes and a digest of what matters in them."""

    ics: bytes
    digest: str


@dataclass(frozen=True)
class Recorded:
    """What the server accepted for a UID at the last sync (kept in the data folder)."""

    href: str
    etag: str
    digest: str


@dataclass(frozen=True)
class Remote:
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


@dataclass(frozen=True)
class Action:
    """One step of a sync. `etag` is the If-Match value for UPDATE/DELETE, the server's for the others."""

    kind: Kind
    uid: str
    why: str
    href: str | None = None
    etag: str | None = None
    ics: bytes | None = None
    digest: str | None = None


@dataclass(frozen=True)
class Applied:
    """The server accepted an action: where the event now is, or `href=None` when it is gone."""

    uid: str
    href: str | None
    etag: str | None


@dataclass(frozen=True)
class Refused:
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


def record_after(
    recorded: Mapping[str, Recorded], actions: Iterable[Action], results: Iterable[Applied | Refused]
) -> dict[str, Recorded]:
    """The record once the server has answered: only what it accepted changes it.

    Actions without a result (the sync stopped half-way) and refused ones keep their old record, so the
    next sync plans them again; conflicts and missing events keep theirs so that they stay reported.
    """
    accepted = {result.uid: result for result in results if isinstance(result, Applied)}
    record = dict(recorded)
    for action in actions:
        done = accepted.get(action.uid)
        if action.kind is Kind.FORGET:
            record.pop(action.uid, None)
        elif action.kind is Kind.UNCHANGED and action.href and action.etag and action.digest:
            record[action.uid] = Recorded(action.href, action.etag, action.digest)
        elif action.kind in SENDS and done is not None:
            if done.href is None or done.etag is None or action.digest is None:
                record.pop(action.uid, None)
            else:
                record[action.uid] = Recorded(done.href, done.etag, action.digest)
    return record


def counts(actions: Iterable[Action]) -> dict[Kind, int]:
    """How many actions of each kind (every kind present, zeros included), for the summary line."""
    tally = dict.fromkeys(Kind, 0)
    for action in actions:
        tally[action.kind] += 1
    return tally
