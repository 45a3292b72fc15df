"""Calendar files: export (the leader's plan and review date) and invite (one peer's recurring meeting).

The builders in `peerloop.ics` are pure; this module reads the roster, the journal and calendar.toml,
and writes the file. `peerloop.ics` and everything it needs is imported inside the commands, so that
no other command pays for it at start-up.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from peerloop import render
from peerloop.commands.common import HomeOption, PeerArgument, open_store
from peerloop.errors import ConflictError, DataFileError, InputError
from peerloop.options import Opt

if TYPE_CHECKING:
    from peerloop.ics import Built, CalendarState
    from peerloop.models import Roster, Settings
    from peerloop.rotation import History, Slot
    from peerloop.storage import Store

STDOUT = "-"
DEFAULT_EXPORT = "peerloop.ics"
MAX_WEEKS = 520
MAX_ALARM = 7 * 24 * 60


def export(
    output: Annotated[
        str, Opt("--output", "-o", metavar="FILE", help="File to write; '-' writes to stdout.")
    ] = DEFAULT_EXPORT,
    weeks: Annotated[
        int | None,
        Opt(
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
        Opt(
            "--alarm",
            metavar="MINUTES",
            min=0,
            max=MAX_ALARM,
            help="Add a reminder this many minutes before each meeting.",
            show_default=False,
        ),
    ] = None,
    home: HomeOption = None,
) -> None:
    """Write your calendar file (.ics).

    One event per planned meeting, and one on the review date. Import it into your calendar; after the
    rotation changes, export and import again: the same events are updated (same UIDs, higher
    SEQUENCE), never duplicated. No notes from your journal go into it. Writing to stdout ('-o -')
    records the new SEQUENCE numbers just like writing a file.

    Examples:

      peerloop export

      peerloop export --alarm 15 -o ~/peer-meetings.ics

      peerloop export --weeks 8 -o - | khal import --batch
    """
    from peerloop import ics, rotation
    from peerloop.commands.roster import require_settings

    target = _target(output)
    store = open_store(home)
    roster = store.load_roster()
    settings = require_settings(roster)
    now = _now(settings)
    today = now.date()
    history = _history(store, roster, today)
    first_week = rotation.first_open_week(settings, history, today)
    if weeks is None:
        weeks = rotation.trial_weeks_left(settings, first_week)
        if weeks == 0:
            raise ConflictError(
                f"the trial ended on {settings.trial_end.isoformat()} (the review date), so there is nothing "
                "to export until it; pass --weeks N to export meetings after it, or start a new trial with "
                "`peerloop init --start DATE`"
            )
    slots = rotation.plan(roster, settings, history, today, weeks)
    with store.locked():
        state = load_state(store)
        built = ics.build_export(slots, settings, state, now, alarm)
        _save_and_write(store, state, built, target)
    meetings = sum(1 for slot in slots if slot.peer is not None)
    where = "stdout" if target is None else str(target)
    render.message(
        f"Wrote {meetings} meeting{'s' if meetings != 1 else ''} and the review date "
        f"({settings.trial_end.isoformat()}) to {render.safe(where)}. {_changes(built)}"
    )
    if meetings == 0:
        render.warn("no peer to meet in these weeks: add peers with `peerloop add NAME`")


def invite(
    name: PeerArgument,
    output: Annotated[
        str | None,
        Opt(
            "--output",
            "-o",
            metavar="FILE",
            help="File to write (default: peerloop-NAME.ics); '-' writes to stdout.",
            show_default=False,
        ),
    ] = None,
    home: HomeOption = None,
) -> None:
    """Write one peer's calendar invite (.ics).

    Your recurring meeting with them, until the review date. Send the file to them (attach it to an
    email); it needs your email (`peerloop init --email`) and theirs (`peerloop edit NAME --email`).
    Send it again after the roster changes: it updates the same series. The default file name comes
    from the peer's name, e.g. peerloop-ann-lee.ics.

    Examples:

      peerloop invite "Ann Lee"

      peerloop invite "ann lee" -o ~/Desktop/ann.ics
    """
    from peerloop import ics, rotation
    from peerloop.commands.roster import require_settings
    from peerloop.roster import require_peer

    store = open_store(home)
    roster = store.load_roster()
    settings = require_settings(roster)
    peer = require_peer(roster, name)
    target = _target(output if output is not None else invite_file_name(peer.name))
    now = _now(settings)
    today = now.date()
    history = _history(store, roster, today)
    first_week = rotation.first_open_week(settings, history, today)
    slots = rotation.plan(roster, settings, history, today, rotation.trial_weeks_left(settings, first_week))
    first = next((slot for slot in slots if slot.peer is not None and slot.peer.key == peer.key), None)
    if first is None:
        raise ConflictError(
            f"{peer.name} has no meeting planned before the review date ({settings.trial_end.isoformat()}); "
            "see `peerloop plan`"
        )
    interval = len(roster.active_on(first.date))
    with store.locked():
        state = load_state(store)
        built = ics.build_invite(peer, first, interval, settings, state, now)
        _save_and_write(store, state, built, target)
    where = "stdout" if target is None else str(target)
    render.message(
        f"Wrote the invite for {render.safe(peer.name)} to {render.safe(where)}: from "
        f"{render.day(first.date)} at {first.start:%H:%M}, {_every(interval)} until "
        f"{settings.trial_end.isoformat()}. {_changes(built)}"
    )
    _warn_irregular(settings, slots, peer.key, first, interval)


# --- helpers -------------------------------------------------------------------------------------------------


def invite_file_name(name: str) -> str:
    """peerloop-ann-lee.ics: letters and digits of the name (accents dropped), the rest as single dashes."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    slug = re.sub(r"[\W_]+", "-", letters).strip("-")[:60].strip("-")
    return f"peerloop-{slug or 'peer'}.ics"


def _target(output: str) -> Path | None:
    """None for stdout; else the file, checked before anything is built."""
    if output == STDOUT:
        return None
    if not output.strip():
        raise InputError("--output: give a file name, or '-' for stdout")
    path = Path(output).expanduser()
    if path.is_dir():
        raise InputError(f"--output: {output} is a folder; give a file name such as {DEFAULT_EXPORT}")
    if not path.parent.is_dir():
        raise InputError(f"--output: the folder {path.parent} does not exist; create it first")
    return path


def _now(settings: Settings) -> dt.datetime:
    from peerloop import clock

    return clock.now(settings.timezone)


def _history(store: Store, roster: Roster, today: dt.date) -> History:
    from peerloop import rotation
    from peerloop.journal import recent_journal

    journal = recent_journal(store, roster, today)
    return rotation.history_from(journal.meetings, journal.skips)


def load_state(store: Store) -> CalendarState:
    """calendar.toml's state (a new random home id when there is none yet)."""
    import secrets

    from peerloop import ics

    data = store.load_calendar_state()
    try:
        return ics.state_from_toml(data, new_home_id=secrets.token_hex(8))
    except ValueError as error:
        raise DataFileError(
            f"{store.calendar_path}: {error}; fix it by hand, or move the file away to start afresh "
            "(the next import then adds new events instead of updating the old ones)"
        ) from None


def _save_state(store: Store, before: CalendarState, built: Built) -> None:
    """Record the new SEQUENCE numbers before the file goes out: a number used twice would be ignored."""
    from peerloop import ics

    if built.state != before or not store.calendar_path.exists():
        store.save_calendar_state(ics.state_to_toml(built.state))


def _save_and_write(store: Store, before: CalendarState, built: Built, target: Path | None) -> None:
    """The new state and the file, as one change (a full disk leaves both as they were); call under the lock.

    To stdout, the state is recorded first, like any file: the calendar reading it may use it at once.
    """
    with store.together():
        _save_state(store, before, built)
        if target is not None:
            store.write(target, built.data.decode("utf-8"))
    if target is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(built.data)
        sys.stdout.buffer.flush()


def _every(interval: int) -> str:
    return "every week" if interval == 1 else f"every {interval} weeks"


def _changes(built: Built) -> str:
    if not built.added and not built.changed and not built.cancelled:
        return "Nothing changed since the last export."
    parts = [
        f"{len(items)} {label}"
        for items, label in ((built.added, "new"), (built.changed, "updated"), (built.cancelled, "cancelled"))
        if items
    ]
    return f"Events: {', '.join(parts)}."


def _warn_irregular(settings: Settings, slots: list[Slot], key: str, first: Slot, interval: int) -> None:
    """The invite is a regular series; say so when a pause makes the plan differ from it."""
    planned = [slot.date for slot in slots if slot.peer is not None and slot.peer.key == key]
    regular = []
    day = first.date
    while day < settings.trial_end:
        regular.append(day)
        day += dt.timedelta(weeks=interval)
    if planned != regular:
        render.warn(
            f"a pause in the roster makes the plan differ from a meeting {_every(interval)}; "
            "send the invite again when it ends (`peerloop plan` has the exact dates)"
        )
