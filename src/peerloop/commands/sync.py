"""`peerloop sync`: bring the connected CalDAV calendar up to date with the plan.

The whole sync runs under the data folder's lock (another peerloop command waits for it); what the server
accepted is recorded even when the sync stops half-way, so the next one finishes the rest.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import Annotated, Any

import typer

from peerloop import options
from peerloop.errors import ConflictError
from peerloop.output import text
from peerloop.store.session import Session


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
    """Bring your connected calendar up to date with the plan (and refresh busy times).

    Creates the meetings that are missing, updates the ones that changed (SEQUENCE raised), cancels the
    ones that left the plan, puts the review date in, and never touches an event peerloop did not create.
    An event you moved or edited in your calendar app is left alone and reported (--overwrite replaces
    it). A second sync with nothing changed changes nothing on the server. Journal notes never go there.
    What the server accepted is recorded as it goes: a sync stopped half-way (Ctrl-C exits 130) says how
    much reached the server, and the next one finishes the rest. With busy-time feeds but no calendar
    connected, it refreshes the busy times.

    Examples:

      peerloop sync

      peerloop sync --dry-run

      peerloop sync --json | jq .created
    """
    from peerloop.actions import sync as syncing
    from peerloop.actions.busy import respected

    store = options.store()
    found = store.connections()
    if found.caldav is None and not found.busy:
        raise ConflictError(
            "nothing to sync: `peerloop connect caldav URL --user NAME` (or `connect busy FILE-OR-URL`) first"
        )
    if not dry_run:  # busy times first, in their own commit
        text.messages(respected(Session(store), [], refresh_first=True).notes)
    if found.caldav is None:
        text.message("No calendar is connected: only the busy times were refreshed.")
        return 0

    with _progress() as step:
        outcome = syncing.sync(store, overwrite=overwrite, dry_run=dry_run, on_step=step)
    return _report(outcome, json)


def _report(outcome: Any, json: bool) -> int:
    from peerloop.core.calendar.reconcile import Kind

    counts = {
        "created": outcome.count(Kind.CREATE),
        "updated": outcome.count(Kind.UPDATE) - outcome.cancelled,
        "cancelled": outcome.cancelled,
        "deleted": outcome.count(Kind.DELETE),
        "unchanged": outcome.count(Kind.UNCHANGED),
        "conflicts": outcome.count(Kind.CONFLICT) + outcome.count(Kind.MISSING) + len(outcome.refused),
    }
    if json:
        from peerloop.output.json import emit_json

        emit_json({**counts, "dry_run": outcome.dry_run, "complete": not outcome.refused and not outcome.dry_run,
                   "left_alone": [{"uid": a.uid, "why": a.why} for a in outcome.actions
                                  if a.kind in (Kind.CONFLICT, Kind.MISSING)]})  # fmt: skip
    for action in outcome.actions:
        if action.kind in (Kind.CONFLICT, Kind.MISSING):
            text.warn(f"left alone: {action.uid} {action.why}; `peerloop sync --overwrite` replaces it")
    for refused in outcome.refused:
        text.warn(f"left alone: {refused.uid} {refused.why}; the next sync looks again")
    verb = "Would send" if outcome.dry_run else "Synced"
    line = ", ".join(f"{count} {name}" for name, count in counts.items() if name != "conflicts" or count)
    (text.message if json else text.out)(f"{verb}: {line}.")
    return 0


@contextlib.contextmanager
def _progress() -> Iterator[Callable[[], None]]:
    """A step per change that reached the server: after the first few, a progress bar on a terminal."""
    bar: Any = None
    done = 0

    def step() -> None:
        nonlocal bar, done
        done += 1
        if bar is None and done == 5 and sys.stderr.isatty():
            from rich.progress import Progress

            bar = Progress(transient=True)
            bar.start()
            bar.add_task("Syncing", total=None)
        if bar is not None:
            bar.update(bar.task_ids[0], completed=done)

    try:
        yield step
    finally:
        if bar is not None:
            bar.stop()
