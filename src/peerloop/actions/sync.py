"""`peerloop sync` as a use case, under the folder's lock from the first read to the last record. It is many
small local transactions, so that whatever stops it leaves a state the next sync converges from
(docs/calendar.md): the calendar state and an intent per change before the first request (a SEQUENCE is never
used for two contents, nor a home id made twice), then each answer as it comes. The network is only touched
through `connect.caldav`; nothing here prints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, NamedTuple

from peerloop.core.calendar import reconcile, state
from peerloop.core.calendar.reconcile import SENDS, Action, Applied, Desired, Intent, Kind, Refused, Remote
from peerloop.core.rotation import Slot
from peerloop.errors import ConflictError, Interrupted, PeerloopError, Stopped
from peerloop.store import interrupts
from peerloop.store.records import Store
from peerloop.store.session import Session, calendar_state

if TYPE_CHECKING:
    from peerloop.connect.caldav import Calendar


class Outcome(NamedTuple):
    actions: list[Action]
    accepted: list[Applied]
    refused: list[Refused]
    dry_run: bool

    def count(self, kind: Kind) -> int:
        return sum(1 for action in self.actions if action.kind is kind)

    @property
    def cancelled(self) -> int:
        return sum(
            1 for a in self.actions if a.kind is Kind.UPDATE and a.ics and b"STATUS:CANCELLED" in a.ics
        )


def sync(store: Store, *, overwrite: bool, dry_run: bool, on_step: Callable[[], None]) -> Outcome:
    """Bring the connected calendar up to date with the plan (busy time respected)."""
    from peerloop.actions.calendar import planned
    from peerloop.connect.caldav import open_connected
    from peerloop.output import ics

    with store.folder.locked():
        found = store.connections()  # read under the lock: a `disconnect` meanwhile is seen here
        if found.caldav is None:
            raise ConflictError("no calendar connected: `peerloop connect caldav URL --user NAME` first")
        url = found.caldav.url
        session = Session(store)
        slots = planned(session)
        before = calendar_state(store)
        alarm = state.remembered_alarm(before, None, False)
        with open_connected(found.caldav) as calendar:
            documents, after = ics.event_documents(slots, session.settings, before, session.now, alarm)
            record = reconcile.record_from(before.extra.get(reconcile.KEY), url)
            remote = calendar.list_events(f"peerloop-{after.home_id}-")
            record = _confirm_in_flight(calendar, record, remote)
            desired = {uid: Desired(data, after.events[uid].digest) for uid, data in documents}
            recorded, seen = _in_scope(desired, record.recorded, remote, after, session.today)
            actions = reconcile.plan(desired, recorded, seen, overwrite=overwrite)
            if dry_run:
                return Outcome(actions, [], [], dry_run=True)
            if overwrite:
                actions, after = _above_the_servers(calendar, actions, slots, session, after, alarm)
            stamp = session.now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
            intents = {
                a.uid: Intent(a.digest, after.events[a.uid].sequence, stamp)
                for a in actions
                if a.kind in (Kind.CREATE, Kind.UPDATE) and a.digest is not None
            }
            record = reconcile.settled(record, actions)
            record = reconcile.SyncRecord(
                url, record.synced_at, record.recorded, {**record.intents, **intents}
            )
            _save(store, after, record)
            record, outcome = _send(store, calendar, actions, after, record, on_step)
            fresh = None
            if not outcome.refused:  # the calendar now shows the plan: `status` and the stale line say so
                from peerloop.core.calendar import freshness

                record = reconcile.SyncRecord(url, session.now, record.recorded, record.intents)
                mark = freshness.record(
                    before.extra.get(freshness.KEY), slots, "sync", session.now, session.settings.review_ahead
                )
                fresh = {freshness.KEY: mark}
            _save(store, after, record, fresh)
            return outcome


def _save(
    store: Store,
    after: state.CalendarState,
    record: reconcile.SyncRecord,
    fresh: Mapping[str, object] | None = None,
) -> None:
    with store.change():
        table = {**after.extra, reconcile.KEY: reconcile.record_to(record), **(fresh or {})}
        store.save_calendar_state(state.state_to_toml(after._replace(extra=table)))


def _send(
    store: Store,
    calendar: Calendar,
    actions: list[Action],
    after: state.CalendarState,
    record: reconcile.SyncRecord,
    on_step: Callable[[], None],
) -> tuple[reconcile.SyncRecord, Outcome]:
    """Each change, one request at a time, each answer recorded as it comes; whatever stops it half-way is
    raised with exactly what reached the server."""
    accepted: list[Applied] = []
    refused: list[Refused] = []
    sends = [action for action in actions if action.kind in SENDS]
    try:
        for action in sends:
            answer = calendar.send(action)
            (accepted if isinstance(answer, Applied) else refused).append(answer)  # type: ignore[arg-type]
            interrupts.step("put")
            record = reconcile.answered(record, action, answer)
            _save(store, after, record)
            on_step()
            if interrupts.held_interrupt:  # a Ctrl-C during that record: it landed, the rest waits
                raise Interrupted
    except Interrupted:
        raise Stopped(f"the sync was interrupted: {_so_far(accepted, len(sends))}") from None
    except PeerloopError as error:
        raise type(error)(f"{error.message} ({_so_far(accepted, len(sends))})") from None
    return record, Outcome(actions, accepted, refused, dry_run=False)


def _so_far(accepted: list[Applied], total: int) -> str:
    return f"{len(accepted)} of {total} change{'s' if total != 1 else ''} reached the server; `peerloop sync` finishes the rest"


def _confirm_in_flight(
    calendar: Calendar, record: reconcile.SyncRecord, remote: Mapping[str, Remote]
) -> reconcile.SyncRecord:
    """An intent left by a sync stopped after the server accepted the change: when the server holds the very
    SEQUENCE and DTSTAMP that sync meant to send, the event is ours as it was sent, not changed on the server."""
    recorded, intents = dict(record.recorded), dict(record.intents)
    for uid, intent in record.intents.items():
        now = remote.get(uid)
        was = recorded.get(uid)
        if now is None or (was is not None and was.etag == now.etag):
            continue  # never sent, or sent and gone: planned again from the record as it is
        if reconcile.stamp_of(calendar.read(now.href)) == (intent.sequence, intent.stamp):
            recorded[uid] = reconcile.Recorded(now.href, now.etag, intent.digest)
            del intents[uid]
    return reconcile.SyncRecord(record.url, record.synced_at, recorded, intents)


def _in_scope(
    desired: Mapping[str, Desired],
    recorded: Mapping[str, reconcile.Recorded],
    remote: Mapping[str, Remote],
    after: state.CalendarState,
    today: dt.date,
) -> tuple[dict[str, reconcile.Recorded], dict[str, Remote]]:
    """The recorded and remote views narrowed to the events peerloop may still change: planned ones, and ones
    of its own still ahead. A past meeting stays in the leader's calendar as it happened."""

    def changeable(uid: str) -> bool:
        event = after.events.get(uid)
        return uid in desired or (event is not None and event.start >= today)

    return (
        {uid: r for uid, r in recorded.items() if changeable(uid)},
        {uid: r for uid, r in remote.items() if changeable(uid)},
    )


def _above_the_servers(
    calendar: Calendar,
    actions: list[Action],
    planned: list[Slot],
    session: Session,
    after: state.CalendarState,
    alarm: int | None,
) -> tuple[list[Action], state.CalendarState]:
    """An event overwritten over an edit made in a calendar app gets a SEQUENCE above the server's (a
    calendar ignores an update whose SEQUENCE is not higher than the one it holds)."""
    from peerloop.output import ics

    events = dict(after.events)
    raised = False
    for action in actions:
        if action.kind is Kind.UPDATE and action.href and action.uid in events:
            server, _ = reconcile.stamp_of(calendar.read(action.href))
            if server is not None and server >= events[action.uid].sequence:
                events[action.uid] = events[action.uid]._replace(digest="(server)", sequence=server)
                raised = True
    if not raised:
        return actions, after
    bumped = after._replace(events=events)
    documents, again = ics.event_documents(planned, session.settings, bumped, session.now, alarm)
    data = dict(documents)
    return [
        a
        if a.uid not in data or a.ics is None
        else Action(a.kind, a.uid, a.why, a.href, a.etag, data[a.uid], again.events[a.uid].digest)
        for a in actions
    ], again
