"""Calendar files: `export` (the leader's plan and review date) and `invite` (one peer's recurring meeting).

The documents come from `peerloop.ics` (icalendar, imported here only); the UIDs and SEQUENCE numbers they
carry are recorded in calendar.toml in one transaction, before the file is written (a number used twice
would be ignored by calendars). Output paths are checked before anything is written.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from peerloop import options
from peerloop.errors import InputError
from peerloop.inert import safe
from peerloop.output import text
from peerloop.store.records import Store
from peerloop.store.session import Session

if TYPE_CHECKING:
    from peerloop.core.rotation import Slot
    from peerloop.output.destination import Output
    from peerloop.output.ics import Built

STDOUT = "-"
DEFAULT_EXPORT = "peerloop.ics"
MAX_WEEKS = 520
MAX_ALARM = 7 * 24 * 60


def output_target(store: Store, output: str) -> Path | None:
    """None for stdout; else the file, checked before anything is built: not in the data folder, not a folder."""
    if output == STDOUT:
        return None
    return options.output_path(store, output, "--output", f"{DEFAULT_EXPORT}, or '-' for stdout")


class Written:
    """Where a command's file goes: prepared (staged) inside the change, put in place after the lock is
    released, so that a slow reader (a FIFO, a pipe) never holds up the folder; stdout when `target` is None."""

    def __init__(self, target: Path | None) -> None:
        self.target = target
        self.output: Output | None = None
        self.data = b""

    def stage(self, data: bytes) -> None:
        from peerloop.output.destination import Output

        self.data = data
        self.output = Output(self.target, data).stage() if self.target is not None else None

    def where(self) -> str:
        return "stdout" if self.target is None else str(self.target)


@contextlib.contextmanager
def _written(target: Path | None) -> Iterator[Written]:
    """Run a change that stages a file, then put the file in place once the change (and its lock) is done."""
    written = Written(target)
    try:
        yield written
    except BaseException:
        if written.output is not None:
            written.output.discard()
        raise
    if written.output is not None:
        written.output.finish()
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(written.data)
        sys.stdout.buffer.flush()


def changes_line(built: Built) -> str:
    if not built.added and not built.changed and not built.cancelled:
        return "No event changed since the last export."
    parts = [
        f"{len(items)} {label}"
        for items, label in ((built.added, "new"), (built.changed, "updated"), (built.cancelled, "cancelled"))
        if items
    ]
    return f"Events: {', '.join(parts)}."


def export(
    output: Annotated[
        str, typer.Option("--output", "-o", metavar="FILE", help="File to write; '-' writes to stdout.")
    ] = DEFAULT_EXPORT,
    weeks: Annotated[
        int | None,
        typer.Option(
            "--weeks",
            metavar="N",
            min=1,
            max=MAX_WEEKS,
            help="How many weekly slots to export (default: the rest of the six-month trial).",
            show_default=False,
        ),
    ] = None,
    alarm: Annotated[
        int | None,
        typer.Option(
            "--alarm",
            metavar="MINUTES",
            min=0,
            max=MAX_ALARM,
            help="A reminder this many minutes before each meeting; remembered for the next exports.",
            show_default=False,
        ),
    ] = None,
    no_alarm: Annotated[bool, typer.Option("--no-alarm", help="Drop the remembered reminder.")] = False,
) -> None:
    """Write your calendar file (.ics).

    One event per planned meeting, and one on the review date. Import it into your calendar; after the
    rotation changes, export and import again: the same events are updated (same UIDs, higher
    SEQUENCE), never duplicated, and a meeting that left the plan comes as cancelled. No notes from your
    journal go into it. Writing to stdout ('-o -') records the new SEQUENCE numbers just like a file.

    Examples:

      peerloop export

      peerloop export --alarm 15 -o ~/peer-meetings.ics

      peerloop export --weeks 8 -o - | khal import --batch
    """
    from peerloop.actions.busy import respected
    from peerloop.actions.calendar import export as export_calendar

    if alarm is not None and no_alarm:
        raise InputError("--alarm and --no-alarm do not go together")
    store = options.store()
    notes: list[str] = []

    def place(session: Session, slots: list[Slot]) -> list[Slot]:
        placed = respected(session, slots)
        notes.extend(placed.notes)
        return placed.slots

    with _written(output_target(store, output)) as written:
        done = export_calendar(store, weeks, alarm, no_alarm, place, written.stage)
    text.messages(notes)
    if done.review is None:
        text.message(
            f"The trial is stopped: wrote no meeting to {safe(written.where())}. {changes_line(done.built)}"
        )
        return
    meetings = sum(1 for slot in done.slots if slot.peer is not None)
    kept = f" with a reminder {done.reminder} minutes before" if done.reminder is not None else ""
    text.message(
        f"Wrote {text.plural(meetings, 'meeting')}{kept} and the review date ({done.review.isoformat()}) "
        f"to {safe(written.where())}. {changes_line(done.built)}"
    )
    if meetings == 0:
        text.warn("no peer to meet in these weeks: add peers with `peerloop add NAME`")


def invite(
    name: options.PeerArgument,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="File to write (default: peerloop-NAME.ics); '-' writes to stdout.",
            show_default=False,
        ),
    ] = None,
    send: Annotated[
        bool,
        typer.Option(
            "--send",
            help="E-mail it as an invitation they can accept (needs `peerloop connect smtp` or sendmail).",
        ),
    ] = False,
    eml: Annotated[
        str | None,
        typer.Option(
            "--eml", metavar="FILE", help="Write the ready e-mail (.eml) for any mail client, as a draft."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the e-mail that would be sent; send nothing.")
    ] = False,
) -> None:
    """Write one peer's calendar invite (.ics), or e-mail it as an invitation.

    Your recurring meeting with them, until the review date. With --send it goes out as a real calendar
    invitation (iMIP: Accept and Decline buttons in Gmail, Outlook, Apple Mail); --eml writes that e-mail
    for your own mail client. It needs your email (`peerloop init --email`) and theirs (`peerloop edit
    NAME --email`). Send it again after the rotation changes: it updates the same series (same UID,
    higher SEQUENCE). No journal text ever goes into it. The default file name comes from the peer's
    name, e.g. peerloop-ann-lee.ics.

    Examples:

      peerloop invite "Ann Lee"

      peerloop invite ann -o ~/Desktop/ann.ics

      peerloop invite ann --send --dry-run
    """
    from peerloop.actions import invite as inviting
    from peerloop.connect import mail
    from peerloop.core.calendar import series as invites
    from peerloop.core.parse import names

    store = options.store()
    by_mail = send or dry_run or eml is not None
    if by_mail and output is not None:
        raise InputError("-o writes the .ics file; with --send, --eml or --dry-run the e-mail carries it")
    by = "mail" if send else "eml" if eml is not None else "file"
    if dry_run:
        shown = inviting.invite(store, name, by="mail" if by == "file" else by, dry_run=True)
        assert shown.email is not None
        text.out(mail.describe(shown.email))
        text.message("Nothing was sent (--dry-run).")
        return
    peer = store.load_roster().find(name)
    if eml is not None:
        target: Path | None = options.output_path(store, eml, "--eml", "invite.eml")
    elif by == "file":
        default = f"peerloop-{names.slug(peer.name if peer else name)}.ics"
        target = output_target(store, output or default)
    else:
        target = None
    if by == "mail" and target is None:
        done = inviting.invite(store, name, by=by)
    else:
        with _written(target) as file:
            done = inviting.invite(store, name, by=by, stage=file.stage)
    first, interval, settings = done.series.first, done.series.interval, Session(store).settings
    every = "every week" if interval == 1 else f"every {interval} weeks"
    when = (
        f"from {text.day(first.date)} at {first.start:%H:%M}, {every} until {settings.trial_end.isoformat()}"
    )
    if eml is not None:
        text.out(f"Wrote the invitation e-mail for {safe(done.peer.name)} to {target} (it opens as a draft).")
    if by == "mail":
        updated = "an update of " if done.updated else ""
        text.out(
            f"Sent {updated}the invitation to {safe(done.peer.name)} <{done.peer.email}> via {done.how}: {when}."
        )
    if by == "file":
        where = "stdout" if target is None else str(target)
        text.message(
            f"Wrote the invite for {safe(done.peer.name)} to {safe(where)}: {when}. {changes_line(done.built)}"
        )
    planned = [
        slot.date for slot in done.series.slots if slot.peer is not None and slot.peer.key == done.peer.key
    ]
    until = invites.last_series_date(settings, first.date, interval)
    if invites.irregular_series(planned, first.date, interval, until):
        text.warn(
            f"the plan differs from a meeting {every} (a pause, a skip or a new peer moves it); "
            "send the invite again when it changes (`peerloop plan` has the exact dates)"
        )
