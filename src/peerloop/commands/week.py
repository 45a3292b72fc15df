"""The weekly rotation as the leader sees it: `next` and `plan`."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Annotated, Any

from peerloop import clock, render, rotation, values
from peerloop.commands.common import HomeOption, JsonOption, open_store, parse_flag
from peerloop.commands.roster import require_settings, show_warning
from peerloop.errors import InputError
from peerloop.journal import recent_journal
from peerloop.models import Journal, Meeting, Roster, Settings, peer_key
from peerloop.options import Opt
from peerloop.rotation import History, Slot
from peerloop.storage import Store


def load_week(store: Store) -> tuple[Roster, Settings, Journal, History, dt.date]:
    """Everything a weekly command reads: the roster, the recent journal, the rotation's history, today."""
    roster = store.load_roster()
    settings = require_settings(roster)
    today = clock.today(settings.timezone)
    journal = recent_journal(store, roster, today)
    return roster, settings, journal, rotation.history_from(journal.meetings, journal.skips), today


def last_meeting_with(journal: Journal, name: str) -> Meeting | None:
    key = peer_key(name)
    meetings = [m for m in journal.meetings if peer_key(m.peer) == key]
    return max(meetings, key=lambda m: (m.date, m.id)) if meetings else None


def slot_json(slot: Slot) -> dict[str, Any]:
    return {
        "week": slot.week,
        "date": slot.date,
        "start": slot.start.isoformat(),
        "end": slot.end.isoformat(),
        "peer": slot.peer.name if slot.peer else None,
        "email": slot.peer.email if slot.peer else None,
        "mode": slot.mode.value,
        "overdue": slot.overdue,
    }


def slot_time(slot: Slot) -> str:
    return f"{slot.start:%H:%M}-{slot.end:%H:%M}"


def next_(json: JsonOption = False, home: HomeOption = None) -> None:
    """Who to meet this week, when and how.

    With what you brought and promised last time: the pressing issue and the open follow-ups of your
    last meeting with them. When this week's meeting or skip is logged, it shows next week's. A slot
    whose day has passed with nothing logged stays here, marked overdue, until you log it.

    Examples:

      peerloop next

      peerloop next --json | jq -r .peer
    """
    roster, settings, journal, history, today = load_week(open_store(home))
    slot = rotation.next_slot(roster, settings, history, today)
    last = last_meeting_with(journal, slot.peer.name) if slot.peer else None
    open_follow_ups = [item.text for item in last.follow_ups if not item.done] if last else []
    if json:
        render.emit_json(
            {
                **slot_json(slot),
                "last_met": last.date if last else None,
                "last_issue": last.issue if last else None,
                "follow_ups": open_follow_ups,
            }
        )
        show_warning(roster, today)
        return
    if not roster.peers:
        render.message("No peers yet: add the 4 to 5 people you want to meet with `peerloop add NAME`.")
        return
    if slot.peer is None:
        render.out(f"Nobody to meet in the week of {render.day(slot.week)}: every peer is paused then.")
        render.message("Resume someone with `peerloop resume NAME`, or add a peer with `peerloop add NAME`.")
        show_warning(roster, today)
        return
    weeks_ahead = (slot.week - rotation.week_start(today)).days // 7
    when = {0: "This week", 1: "Next week"}.get(weeks_ahead, f"Week of {render.day(slot.week)}")
    render.out(render.style(f"{when}: {slot.mode.value} with {render.safe(slot.peer.name)}", "bold"))
    render.out(f"  {render.day(slot.date)}, {slot_time(slot)} ({settings.timezone})")
    if slot.overdue:
        render.out(
            render.style("  Overdue:", "red")
            + " the day has passed. Log it with `peerloop log`, or `peerloop log --skip --reason TEXT`."
        )
    if last is not None:
        render.out(
            f"  Last met {render.day(last.date)}" + (f": {render.safe(last.issue)}" if last.issue else "")
        )
    else:
        render.out("  First meeting: start with a short life and work update, then one pressing issue.")
    if open_follow_ups:
        render.out("  Open follow-ups:")
        for text in open_follow_ups:
            render.out(f"    - {render.safe(text)}")
    show_warning(roster, today)


def print_plan(slots: list[Slot], settings: Settings) -> None:
    rows = [
        (
            render.day(slot.date),
            slot_time(slot),
            slot.peer.name if slot.peer else "(everyone paused)",
            slot.mode.value,
            "overdue" if slot.overdue else "",
        )
        for slot in slots
    ]
    render.out(render.table(("Date", f"Time ({settings.timezone})", "Peer", "Mode", ""), rows))


def default_weeks(roster: Roster, settings: Settings, first_week: dt.date, today: dt.date) -> int:
    """The rest of the trial; once it is over, one full round of the active peers."""
    return rotation.trial_weeks_left(settings, first_week) or max(1, len(roster.active_on(today)))


def plan(
    weeks: Annotated[
        int | None,
        Opt(
            "--weeks",
            metavar="N",
            min=1,
            max=520,
            help="How many weeks to show (default: the rest of the six-month trial).",
        ),
    ] = None,
    start: Annotated[
        str | None,
        Opt("--from", metavar="DATE", help="Start at the week of this date, YYYY-MM-DD (default: now)."),
    ] = None,
    json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """The rotation for the coming weeks.

    One peer a week, each in turn. Paused peers drop out for the weeks they are away and come back
    after. The plan assumes each planned meeting happens; a skip keeps that peer first in line.

    Examples:

      peerloop plan

      peerloop plan --weeks 5 --from 2027-01-04
    """
    roster, settings, _, history, today = load_week(open_store(home))
    upcoming: Iterator[Slot] = rotation.iter_plan(roster, settings, history, today)
    if start is not None:
        wanted = rotation.week_start(parse_flag(start, "--from", values.parse_date))
        if wanted < rotation.week_start(today):
            raise InputError(
                f"--from {start}: plan shows the coming weeks; past weeks are in `peerloop history`"
            )
        upcoming = itertools.dropwhile(lambda slot: slot.week < wanted, upcoming)
    first = next(upcoming)
    count = weeks or default_weeks(roster, settings, first.week, today)
    slots = [first, *itertools.islice(upcoming, count - 1)]
    if json:
        render.emit_json([slot_json(slot) for slot in slots])
    elif not roster.peers:
        render.message(
            "Nothing to plan yet: add the 4 to 5 people you want to meet with `peerloop add NAME`."
        )
    else:
        print_plan(slots, settings)
    show_warning(roster, today)
