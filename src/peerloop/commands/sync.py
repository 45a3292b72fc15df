"""`peerloop sync`: bring the connected CalDAV calendar up to date with the plan.

The whole sync runs under the data folder's lock (another peerloop command waits for it); what the server
accepted is recorded even when the sync stops half-way, so the next one finishes the rest.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from peerloop import options
from peerloop.errors import ConflictError, PeerloopError
from peerloop.output import text
from peerloop.store.session import Session, calendar_state


def sync(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change on the server; change nothing.")
    ] = False,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="Replace peerloop's events that were edited in your calendar app since the last sync.",
        ),
    ] = False,
    json: options.JsonOption = False,
) -> int:
    """Bring your connected calendar up to date with the plan.

    Creates the meetings that are missing, updates the ones that changed (SEQUENCE raised), cancels the
    ones that left the plan, puts the review date in, and never touches an event peerloop did not create.
    An event you moved or edited in your calendar app is left alone and reported (--overwrite replaces
    it). A second sync with nothing changed changes nothing on the server. Journal notes never go there.

    Examples:

      peerloop sync

      peerloop sync --dry-run

      peerloop sync --json | jq .created
    """
    from peerloop.actions import sync as syncing
    from peerloop.connect.caldav import open_connected
    from peerloop.core import rotation
    from peerloop.core.calendar import freshness as published
    from peerloop.core.calendar import reconcile as syncplan
    from peerloop.core.calendar import state as state_records
    from peerloop.output import ics

    store = options.store()
    found = store.connections()
    if found.caldav is None:
        raise ConflictError("no calendar connected: `peerloop connect caldav URL --user NAME` first")
    from peerloop.actions.busy import respected

    session = Session(store)
    settings, today = session.settings, session.today
    history = session.history()
    first_week = rotation.first_open_week(settings, history, today)
    weeks = rotation.trial_weeks_left(settings, first_week) or max(1, len(session.roster.active_on(today)))
    placed = respected(
        session, rotation.plan(session.roster, settings, history, today, weeks), refresh_first=True
    )
    text.messages(placed.notes)
    slots = placed.slots
    with store.locked(), open_connected(found.caldav) as remote_calendar:
        state = calendar_state(store)
        alarm = state_records.remembered_alarm(state, None, False)
        documents, planned_state = ics.event_documents(slots, settings, state, session.now, alarm)
        desired = syncing.desired_from(documents, planned_state)
        recorded = syncing.recorded_from(state, found.caldav.url)
        remote = remote_calendar.list_events(f"peerloop-{state.home_id}-")
        narrowed, seen = syncing.plan_scope(desired, recorded, remote, state, today)
        actions = syncplan.plan(desired, narrowed, seen, overwrite=overwrite)
        if dry_run:
            return _report(syncing.Result(actions, [], [], None), json, dry_run=True)
        sends = sum(1 for action in actions if action.kind in syncplan.SENDS)
        with _progress(sends) as step:
            result = syncing.apply(remote_calendar.apply, actions, step)
        after = syncing.with_record(planned_state, found.caldav.url, syncing.recorded_after(recorded, result),
                                    session.now if result.complete else None)  # fmt: skip
        if result.complete:
            stamp = published.record(slots, "sync", session.now, settings.trial_end)
            after = after._replace(extra={**after.extra, published.KEY: stamp})
        with store.change():
            store.save_calendar_state(state_records.state_to_toml(after))
    return _report(result, json, dry_run=False)


def _report(result: Any, json: bool, dry_run: bool) -> int:
    from peerloop.core.calendar.reconcile import Kind

    counts = {
        "created": result.count(Kind.CREATE),
        "updated": result.count(Kind.UPDATE) - result.cancelled,
        "cancelled": result.cancelled,
        "deleted": result.count(Kind.DELETE),
        "unchanged": result.count(Kind.UNCHANGED),
        "conflicts": result.count(Kind.CONFLICT) + result.count(Kind.MISSING) + len(result.refused),
    }
    if json:
        from peerloop.output.json import emit_json

        emit_json({**counts, "dry_run": dry_run, "complete": result.complete and not dry_run,
                   "left_alone": [{"uid": a.uid, "why": a.why} for a in result.actions
                                  if a.kind in (Kind.CONFLICT, Kind.MISSING)]})  # fmt: skip
    for action in result.actions:
        if action.kind in (Kind.CONFLICT, Kind.MISSING):
            text.warn(f"left alone: {action.uid} {action.why}; `peerloop sync --overwrite` replaces it")
    for refused in result.refused:
        text.warn(f"left alone: {refused.uid} {refused.why}; the next sync looks again")
    verb = "Would send" if dry_run else "Synced"
    line = ", ".join(f"{count} {name}" for name, count in counts.items() if name != "conflicts" or count)
    (text.message if json else text.out)(f"{verb}: {line}.")
    if result.stopped is not None:
        sent = len(result.accepted)
        so_far = (f"{sent} change{'s' if sent != 1 else ''} reached the server and {'is' if sent == 1 else 'are'} "
                  "recorded; `peerloop sync` finishes the rest")  # fmt: skip
        if isinstance(result.stopped, PeerloopError):
            raise type(result.stopped)(f"{result.stopped.message} ({so_far})")  # its own exit code
        raise PeerloopError(f"the sync was interrupted ({so_far})")
    return 0


class _Steps:
    """A progress bar on a terminal when there is more than a handful to send; otherwise nothing."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> Any:
        if self.total > 5 and sys.stderr.isatty():
            from rich.progress import Progress

            self.bar = Progress(transient=True)
            self.bar.start()
            self.task = self.bar.add_task("Syncing", total=self.total)
        return self.step

    def step(self) -> None:
        if self.bar is not None and self.task is not None:
            self.bar.advance(self.task)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def _progress(total: int) -> _Steps:
    return _Steps(total)
