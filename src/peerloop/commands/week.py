"""The weekly rotation as the leader sees it: `next` and `plan`."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Annotated

import typer

from peerloop import options
from peerloop.core import ids, journal, rotation
from peerloop.core.models import Journal, peer_key
from peerloop.core.trial import trial_years
from peerloop.errors import InputError, PeerloopError
from peerloop.inert import safe
from peerloop.output import messages, text
from peerloop.output.messages import NO_PEERS
from peerloop.output.tables import slot_time
from peerloop.store.session import Session


def _with_trial_years(session: Session) -> Journal:
    """The rotation's years plus the trial's, so that every open follow-up of the trial is seen."""
    on_disk = set(session.store.journal_years())
    for year in trial_years(session.settings, session.today):
        if year in on_disk:
            session.year(year)
    return session.journal


RefreshOption = Annotated[
    bool, typer.Option("--refresh", help="Fetch busy times from your connected calendars first (network).")
]


def next_(json: options.JsonOption = False, refresh: RefreshOption = False) -> None:
    """Who to meet this week, when and how.

    With what you brought and promised: the pressing issue of your last meeting with them and every
    follow-up still open with them, each with its handle (close one with `peerloop done HANDLE`). When this
    week's meeting or skip is logged, it shows next week's. A slot whose day has passed with nothing logged
    stays here, marked overdue, until the week ends; then the week counts as missed (`status` shows it), and
    `next` says so once, with how to record it.

    Examples:

      peerloop next

      peerloop next --json | jq -r .peer
    """
    from peerloop.actions.busy import respected

    session = Session(options.store())
    roster, settings, today = session.roster, session.settings, session.today
    planned = session.next_slot()
    if planned is None:  # a review decided to stop: nothing is planned
        if json:
            from peerloop.output.json import emit_json

            emit_json(None)
        else:
            text.out(messages.stopped(settings))
        return
    placed = respected(session, [planned], refresh)
    text.messages(placed.notes)
    slot = placed.slots[0]
    found = _with_trial_years(session)
    theirs = [meeting for meeting in found.meetings if slot.peer and peer_key(meeting.peer) == slot.peer.key]
    last = max(theirs, key=ids.sort_key, default=None)
    still_open = journal.open_follow_ups(found.meetings, slot.peer) if slot.peer else []
    missed = _missed_last_week(session)
    if json:
        from peerloop.output.json import emit_json, slot_json

        emit_json(
            {
                **slot_json(slot),
                "last_met": last.date if last else None,
                "last_issue": last.issue if last else None,
                "follow_ups": [
                    {"handle": journal.handle(meeting, item), "text": item.text, "since": meeting.date}
                    for meeting, item in still_open
                ],
                "missed_last_week": missed,
            }
        )
        return
    if not roster.peers:
        text.message(NO_PEERS)
        return
    if missed is not None and _first_mention(session, missed):
        slot_day = missed + dt.timedelta(days=settings.weekday)
        text.messages([  # short lines: a note on stderr is never wrapped
            f"Last week (of {text.day(missed)}) ended with nothing logged, so it counts as missed.",
            f"  If you met: `peerloop log NAME --date {slot_day.isoformat()}`",
            f"  If not, say why: `peerloop log --skip --date {slot_day.isoformat()} --reason TEXT`",
        ])  # fmt: skip
    if slot.peer is None:
        back = min((p.paused_until for p in roster.peers if p.paused_until), default=None)
        when = f" until {text.day(back)}" if back else ""
        text.out(f"No meeting in the week of {text.day(slot.week)}: every peer is paused{when}.")
        text.message("To meet someone sooner: `peerloop resume NAME`, or `peerloop add NAME`.")
        return
    weeks_ahead = (slot.week - rotation.week_start(today)).days // 7
    when = {0: "This week", 1: "Next week"}.get(weeks_ahead, f"Week of {text.day(slot.week)}")
    text.out_wrapped(text.style(f"{when}: {slot.mode.value} with {safe(slot.peer.name)}", "bold"))
    text.out_wrapped(f"  {text.day(slot.date)}, {slot_time(slot)} ({settings.timezone})")
    if slot.note:
        text.out_wrapped(
            text.style(f"  {slot.note[0].upper()}{slot.note[1:]}", "yellow") + " (busy in your calendar)"
        )
    if slot.overdue:
        text.out_wrapped(
            text.style("  Overdue:", "red")
            + " the day has passed; until Sunday, log it with `peerloop log`, or "
            "`peerloop log --skip --reason TEXT`."
        )
    if last is not None:
        text.out_wrapped(
            f"  Last met {text.day(last.date)}" + (f": {safe(last.issue)}" if last.issue else "")
        )
    else:
        text.out_wrapped("  First meeting: start with a short life and work update, then one pressing issue.")
    if still_open:
        text.out_wrapped("  Open follow-ups (`peerloop done HANDLE` closes one):")
        for meeting, item in still_open:
            text.out_wrapped(
                f"    {journal.handle(meeting, item)}  {safe(item.text)} (since {meeting.date.isoformat()})"
            )


NOTICED_FILE = ".missed-week"
"""Scratch, like the status-line cache: the Monday of the missed week `next` has already mentioned."""


def _first_mention(session: Session, monday: dt.date) -> bool:
    """`next` mentions a missed week once: true the first time for this week (best effort, never fails)."""
    import contextlib

    from peerloop.store.atomic import replace_atomically

    path = session.store.home / NOTICED_FILE
    with contextlib.suppress(OSError, UnicodeDecodeError):
        if path.read_text(encoding="utf-8").strip() == monday.isoformat():
            return False
    with contextlib.suppress(PeerloopError, OSError):
        if session.store.home.is_dir():
            replace_atomically(path, monday.isoformat().encode())
    return True


def _missed_last_week(session: Session) -> dt.date | None:
    """Monday of last week when it was a trial week that ended with nothing logged, else None."""
    last_week = rotation.week_start(session.today) - rotation.WEEK
    settings = session.settings
    if last_week < rotation.first_trial_week(settings) or session.today >= settings.trial_end + rotation.WEEK:
        return None
    if last_week in session.history().done_weeks:
        return None
    if not session.roster.active_on(last_week + dt.timedelta(days=settings.weekday)):
        return None  # every peer was paused: nothing was missed
    return last_week


def plan(
    weeks: Annotated[
        int | None,
        typer.Option(
            "--weeks",
            metavar="N",
            min=1,
            max=520,
            help="How many weeks to show (default: the rest of the six-month trial).",
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="DATE",
            help="Start at the week of this date: 2027-01-04, next mon, +2w (default: now).",
        ),
    ] = None,
    json: options.JsonOption = False,
    refresh: RefreshOption = False,
    wide: options.WideOption = False,
) -> None:
    """The rotation for the coming weeks.

    One peer a week, each in turn. Paused peers drop out for the weeks they are away and come back
    after. The plan assumes each planned meeting happens; a skip keeps that peer first in line. On a
    narrow terminal the mode leaves first (--wide keeps it).

    Examples:

      peerloop plan

      peerloop plan --weeks 5 --from "next mon"
    """
    session = Session(options.store())
    today = session.today
    if session.settings.stopped_on is not None:  # a review decided to stop: nothing is planned
        if json:
            from peerloop.output.json import emit_json

            emit_json([])
        else:
            text.message(messages.stopped(session.settings))
        return
    upcoming: Iterator[rotation.Slot] = rotation.iter_plan(
        session.roster, session.settings, session.history(), today
    )
    if start is not None:
        wanted = rotation.week_start(options.parse_day(start, "--from", today, "future"))
        if wanted < rotation.week_start(today):
            raise InputError(
                f"--from {start}: plan shows the coming weeks; past weeks are in `peerloop history`"
            )
        upcoming = itertools.dropwhile(lambda slot: slot.week < wanted, upcoming)
    first = next(upcoming, None)
    if first is None:
        raise InputError(f"--from {start}: that is beyond the years peerloop plans in")
    from peerloop.actions.busy import respected

    left = rotation.trial_weeks_left(session.settings, first.week)
    count = weeks or left or max(1, len(session.roster.active_on(today)))  # after the trial: one round
    placed = respected(session, [first, *itertools.islice(upcoming, count - 1)], refresh)
    text.messages(placed.notes)
    slots = placed.slots
    if json:
        from peerloop.output.json import emit_json, slot_json

        emit_json([slot_json(slot) for slot in slots])
    elif not session.roster.peers:
        text.message(NO_PEERS)
    else:
        from peerloop.output.tables import plan_table

        plan_table(slots, session.settings, wide=wide)
