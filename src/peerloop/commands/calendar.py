"""Calendar files: `export` (the leader's plan and review date) and `invite` (one peer's recurring meeting).

The documents come from `peerloop.ics` (icalendar, imported here only); the UIDs and SEQUENCE numbers they
carry are recorded in calendar.toml in one transaction, before the file is written (a number used twice
would be ignored by calendars). Output paths are checked before anything is written.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from peerloop import options
from peerloop.errors import ConflictError, InputError
from peerloop.inert import safe
from peerloop.output import text
from peerloop.store.records import Store
from peerloop.store.session import Session, calendar_state

if TYPE_CHECKING:
    from peerloop.core.calendar.state import CalendarState
    from peerloop.output.ics import Built

STDOUT = "-"
DEFAULT_EXPORT = "peerloop.ics"
MAX_WEEKS = 520
MAX_ALARM = 7 * 24 * 60


def output_target(store: Store, output: str, flag: str = "--output") -> Path | None:
    """None for stdout; else the file, checked before anything is built: not in the data folder, not a folder."""
    if output == STDOUT:
        return None
    return options.output_path(store, output, flag, f"{DEFAULT_EXPORT}, or '-' for stdout")


def record_and_write(store: Store, built: Built, before: CalendarState, target: Path | None) -> None:
    """The file is prepared first (a full disk stops here, with nothing changed), then the new state is
    committed, then the file put in place: a kill between them only re-sends the same SEQUENCE next time,
    never a lower one."""
    from peerloop.core.calendar import state
    from peerloop.output.destination import Output

    output = Output(target, built.data).stage() if target is not None else None
    try:
        if built.state != before or not store.calendar_path.exists():
            with store.change():
                store.save_calendar_state(state.state_to_toml(built.state))
    except BaseException:
        if output is not None:
            output.discard()
        raise
    if output is not None:
        output.finish()
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(built.data)
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
    from peerloop.core import rotation
    from peerloop.core.calendar import freshness, state
    from peerloop.output import ics

    if alarm is not None and no_alarm:
        raise InputError("--alarm and --no-alarm do not go together")
    store = options.store()
    target = output_target(store, output)
    session = Session(store)
    settings, today = session.settings, session.today
    history = session.history()
    first_week = rotation.first_open_week(settings, history, today)
    if weeks is None:
        weeks = rotation.trial_weeks_left(settings, first_week)
        if weeks == 0:
            raise ConflictError(
                f"the trial ended on {settings.trial_end.isoformat()} (the review date), so there is nothing "
                "to export until it; pass --weeks N to export meetings after it, or start a new trial with "
                "`peerloop init --start DATE`"
            )
    from peerloop.actions.busy import respected

    placed = respected(session, rotation.plan(session.roster, settings, history, today, weeks))
    text.messages(placed.notes)
    slots = placed.slots
    with store.locked():
        before = calendar_state(store)
        reminder = state.remembered_alarm(before, alarm, no_alarm)
        built = ics.build_export(slots, settings, before, session.now, reminder)
        stamped = {
            **built.state.extra,
            freshness.KEY: freshness.record(slots, "export", session.now, settings.trial_end),
        }
        built = built._replace(state=state.with_alarm(built.state._replace(extra=stamped), reminder))
        record_and_write(store, built, before, target)
    meetings = sum(1 for slot in slots if slot.peer is not None)
    where = "stdout" if target is None else str(target)
    kept = f" with a reminder {reminder} minutes before" if reminder is not None else ""
    text.message(
        f"Wrote {text.plural(meetings, 'meeting')}{kept} and the review date ({settings.trial_end.isoformat()}) "
        f"to {safe(where)}. {changes_line(built)}"
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
    from peerloop.actions.calendar import series_of
    from peerloop.core.calendar import series as invites
    from peerloop.core.parse import names
    from peerloop.output import ics

    store = options.store()
    session = Session(store)
    peer = session.require_peer(name)
    by_mail = send or dry_run or eml is not None
    if by_mail and output is not None:
        raise InputError("-o writes the .ics file; with --send, --eml or --dry-run the e-mail carries it")
    target = None if by_mail else output_target(store, output or f"peerloop-{names.slug(peer.name)}.ics")
    eml_path = options.output_path(store, eml, "--eml", "invite.eml") if eml is not None else None
    settings = session.settings
    series = series_of(session, peer)
    if series is None:
        raise ConflictError(
            f"{peer.name} has no meeting planned before the review date ({settings.trial_end.isoformat()}); "
            "see `peerloop plan`"
        )
    first, interval = series.first, series.interval
    every = "every week" if interval == 1 else f"every {interval} weeks"
    until = invites.last_series_date(settings, first.date, interval)
    if by_mail:
        _invite_by_mail(store, session, peer, series, send, eml_path, dry_run)
    else:
        with store.locked():
            before = calendar_state(store)
            built = ics.build_invite(peer, first, interval, settings, before, session.now)
            record_and_write(store, built, before, target)
        where = "stdout" if target is None else str(target)
        text.message(
            f"Wrote the invite for {safe(peer.name)} to {safe(where)}: from {text.day(first.date)} at "
            f"{first.start:%H:%M}, {every} until {settings.trial_end.isoformat()}. {changes_line(built)}"
        )
    planned = [slot.date for slot in series.slots if slot.peer is not None and slot.peer.key == peer.key]
    if invites.irregular_series(planned, first.date, interval, until):
        text.warn(
            f"the plan differs from a meeting {every} (a pause, a skip or a new peer moves it); "
            "send the invite again when it changes (`peerloop plan` has the exact dates)"
        )


def _invite_by_mail(
    store: Store, session: Session, peer: Any, series: Any, send: bool, eml_path: Path | None, dry_run: bool
) -> None:
    """The invitation as an iMIP e-mail: shown (--dry-run), written (--eml), sent (--send); the record of
    what the peer was sent changes only once a server or command accepted it."""
    from peerloop.actions import invite as inviting
    from peerloop.connect import mail
    from peerloop.core.calendar import events, state
    from peerloop.core.calendar import series as invites
    from peerloop.output import ics
    from peerloop.output.destination import Output

    settings, first, interval = session.settings, series.first, series.interval
    found = store.connections()
    if send and not dry_run:
        inviting.how_sent(found)  # says how to connect before anything is built
    every = "every week" if interval == 1 else f"every {interval} weeks"
    until = invites.last_series_date(settings, first.date, interval)
    with store.locked():
        before = calendar_state(store)
        built = ics.build_invite(peer, first, interval, settings, before, session.now)
        sent_before = inviting.sent_records(before).get(peer.key)
        subject = f"{'Updated: ' if sent_before else ''}{events.mode_label(first.mode)}: {settings.name} and {peer.name}, {every}"
        email = inviting.message(built.data, "REQUEST", settings, peer, subject,
                                 inviting.body(settings, peer, first.start, every, until, cancel=False), session.now)  # fmt: skip
        if dry_run:
            text.out(mail.describe(email))
            text.message("Nothing was sent (--dry-run).")
            return
        output = Output(eml_path, mail.eml_bytes(email)).stage() if eml_path is not None else None
        try:
            if send:
                inviting.send(email, found)
        except BaseException:
            if output is not None:
                output.discard()
            raise
        after = built.state
        if send:
            event = invites.series_event(peer, first, interval, settings, before)
            record = inviting.SentRecord(built.uids[0] if built.uids else event.uid, inviting.series_digest(event),
                                         session.now, peer.email or "")  # fmt: skip
            after = inviting.with_sent(after, peer, record)
        with store.change():
            store.save_calendar_state(state.state_to_toml(after))
    if output is not None:
        output.finish()
        text.out(f"Wrote the invitation e-mail for {safe(peer.name)} to {eml_path} (it opens as a draft).")
    if send:
        how = inviting.how_sent(found)
        text.out(f"Sent the invitation to {safe(peer.name)} <{peer.email}> via {how}: {every} from "
                 f"{text.day(first.date)} at {first.start:%H:%M} until {settings.trial_end.isoformat()}.")  # fmt: skip
