"""The meeting log as the leader keeps it: `log` (meetings, skips, touches, amends), `done` and `forget`.

Questions are asked before the lock is taken (a person may take their time); then everything is read,
checked and written under one lock, as one transaction (`logbook` does the work).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from peerloop import options, prompts
from peerloop.actions import log as logbook
from peerloop.actions.log import Amend, Notes
from peerloop.core import journal, rotation
from peerloop.core.journal import FollowUpChanges
from peerloop.core.models import Entry, Gain, Meeting, Mode, Peer, Skip, Touch
from peerloop.core.parse import parse_flag, values
from peerloop.errors import ConflictError, Declined, InputError, MissingValueError
from peerloop.inert import safe
from peerloop.output import text
from peerloop.store.session import Session


def _day(session: Session, date: str | None) -> dt.date:
    if date is None:
        return session.today
    day = options.parse_day(date, "--date", session.today, "past")
    return journal.check_not_future(day, session.today)


def next_line(session: Session) -> str:
    slot = session.next_slot()
    if slot is None:
        return "No meeting is planned: the trial was stopped."
    if slot.peer is None:
        return f"Next: nobody in the week of {text.day(slot.week)} (every peer is paused)."
    return f"Next: {safe(slot.peer.name)}, {text.day(slot.date)}."


def log(
    name: Annotated[
        str | None,
        typer.Argument(
            metavar="NAME",
            help="Who you met (default: the peer whose turn it is this week).",
            show_default=False,
            autocompletion=options.complete_peer_name,
        ),
    ] = None,
    date: Annotated[
        str | None,
        typer.Option(
            "--date", metavar="DATE", help="The day it happened: 2027-01-12, yesterday, tue, 3 days ago."
        ),
    ] = None,
    mode: Annotated[
        Mode | None,
        typer.Option(
            "--mode", help="How you met (default: the peer's, else your usual).", case_sensitive=False
        ),
    ] = None,
    issue: Annotated[
        str | None, typer.Option("--issue", metavar="TEXT", help="The pressing issue you went deep on.")
    ] = None,
    gain: Annotated[
        list[Gain] | None,
        typer.Option("--gain", help="What it gave you (repeat for several).", case_sensitive=False),
    ] = None,
    win: Annotated[str | None, typer.Option("--win", metavar="TEXT", help="A win worth celebrating.")] = None,
    works: Annotated[str | None, typer.Option("--works", metavar="TEXT", help="What works well.")] = None,
    improve: Annotated[
        str | None, typer.Option("--improve", metavar="TEXT", help="What can be improved.")
    ] = None,
    follow_up: Annotated[
        list[str] | None,
        typer.Option(
            "--follow-up", metavar="TEXT", help="Something you owe or are owed (repeat for several)."
        ),
    ] = None,
    note: Annotated[str | None, typer.Option("--note", metavar="TEXT", help="A private note.")] = None,
    skip: Annotated[
        bool, typer.Option("--skip", help="Record that the week's meeting did not happen (with --reason).")
    ] = False,
    reason: Annotated[
        str | None, typer.Option("--reason", metavar="TEXT", help="With --skip: why it did not happen.")
    ] = None,
    touch: Annotated[
        bool,
        typer.Option(
            "--touch", help="A call or message between meetings: kept as evidence, the rotation is unchanged."
        ),
    ] = False,
    amend: Annotated[
        str | None,
        typer.Option("--amend", metavar="ID", help="Change entry ID instead: only the fields given change."),
    ] = None,
    done: Annotated[
        list[int] | None,
        typer.Option("--done", metavar="N", help="With --amend: close follow-up ID.N."),
    ] = None,
    reopen: Annotated[
        list[int] | None,
        typer.Option("--reopen", metavar="N", help="With --amend: reopen follow-up ID.N."),
    ] = None,
    drop: Annotated[
        list[int] | None,
        typer.Option("--drop", metavar="N", help="With --amend: delete follow-up ID.N."),
    ] = None,
) -> None:
    """Record this week's meeting, a skip, or a touch between meetings.

    Without NAME, the meeting is this week's, with the peer whose turn it is (as `peerloop next` shows);
    once this week is done, NAME is needed (on a terminal, peerloop shows who it would be and asks). On a
    terminal, with no reflection flags, it asks the short reflection one question at a time; Enter skips
    any of them. With --skip it records that the week's meeting did not happen, and why: that peer stays
    first in line. With --touch it records a call or message between meetings, which takes no week's slot.
    With --amend ID it changes only the fields given (an empty value clears a text; --follow-up adds one).
    Follow-ups are closed with `peerloop done HANDLE`.

    Examples:

      peerloop log

      peerloop log "Ann Lee" --issue "hiring a VP" --follow-up "send the deck"

      peerloop log ann --date yesterday --gain advice

      peerloop log --skip --date "2 weeks ago" --reason "board week"

      peerloop log bo --touch --note "called about the offer"

      peerloop log --amend 20260303-psve7 --win "the VP said yes"
    """
    given = {"issue": issue, "win": win, "works": works, "improve": improve, "note": note}
    texts = {
        field: journal.check_text(value, f"--{field}") for field, value in given.items() if value is not None
    }
    added = tuple(t for item in follow_up or () if (t := journal.check_text(item, "--follow-up")) is not None)
    follow_ups = FollowUpChanges(tuple(done or ()), tuple(reopen or ()), tuple(drop or ()), added)
    gains = tuple(dict.fromkeys(gain)) if gain is not None else None
    if sum((skip, touch, amend is not None)) > 1:
        raise InputError("--skip, --touch and --amend do not go together: choose one")
    if amend is not None:
        _log_amend(amend, Amend(name, None, mode, texts, gains, _reason(reason) if reason is not None else None,
                                follow_ups), date)  # fmt: skip
        return
    for flag, numbers in (("--done", done), ("--reopen", reopen), ("--drop", drop)):
        if numbers:
            raise InputError(
                f"{flag} N changes a logged meeting: use it with --amend ID, or `peerloop done HANDLE`"
            )
    meeting_flags = (
        [f"--{field}" for field in texts]
        + (["--gain"] if gain else [])
        + (["--follow-up"] if follow_up else [])
    )
    if skip or touch:
        wrong = [
            flag for flag in meeting_flags + (["--mode"] if mode else []) if not (touch and flag == "--note")
        ]
        if wrong:
            raise InputError(
                f"{wrong[0]} is for meetings; --skip takes NAME, --date, --reason; --touch NAME, --date, --note"
            )
    if reason is not None and not skip:
        raise InputError("--reason goes with --skip (a week without a meeting)")
    if skip:
        _log_skip(name, date, reason)
    elif touch:
        _log_touch(name, date, texts.get("note"))
    else:
        notes = Notes(texts.get("issue"), gains or (), texts.get("win"), texts.get("works"), texts.get("improve"),
                      added, texts.get("note"))  # fmt: skip
        _log_meeting(name, date, mode, notes, asked=bool(meeting_flags))


def _reason(value: str) -> str:
    checked = journal.check_text(value, "--reason")
    if checked is None:
        raise InputError("--reason cannot be empty: say why the meeting did not happen")
    return checked


def _chosen_peer(session: Session, name: str | None, day: dt.date) -> Peer:
    """NAME as typed, else this week's peer; a done week is never guessed (asked on a terminal)."""
    if name is not None:
        return session.require_peer(name)
    week = rotation.week_start(day)
    if week not in session.history().done_weeks:
        return logbook.week_peer(session, day)
    upcoming = slot.peer if (slot := session.next_slot(day)) is not None else None
    if not prompts.interactive() or upcoming is None:
        held = journal.entries_in_week(session.log_entries(), day)
        what = ", ".join(journal.describe(entry) for entry in held) or "a meeting or a skip"
        raise MissingValueError(
            f"the week of {week.isoformat()} already holds {what}; to log another meeting, name who you met: "
            "`peerloop log NAME`"
        )
    if prompts.confirm(
        f"This week is done. Log an extra meeting with {safe(upcoming.name)} (next in line)?", "NAME"
    ):
        return upcoming
    raise Declined("Nothing logged. To log an extra meeting with someone else: `peerloop log NAME`.")


def _ask_reflection() -> Notes:
    """The short reflection asked after a meeting, in order; each question is skipped with Enter."""

    def answer(value: str) -> str:
        try:
            return values.check_utf8(value)
        except ValueError:
            raise ValueError(
                "that answer is not valid UTF-8 (a stray byte from the terminal?); retype it"
            ) from None

    def ask(question: str) -> str | None:
        return journal.text_or_none(prompts.ask_optional(f"{question} (Enter to skip)", answer))

    issue = ask("The pressing issue you went deep on")
    gains = prompts.ask_optional(
        "What did it give you? advice, strength, motivation (separate several with commas) (Enter to skip)",
        lambda a: journal.parse_gains([a]),
    )
    win, works, improve = ask("A win worth celebrating"), ask("What works well"), ask("What can be improved")
    listed = prompts.ask_list("Follow-ups you owe or are owed")
    follow_ups = tuple(t for item in listed if (t := journal.check_text(item, "a follow-up")))
    return Notes(issue, gains or (), win, works, improve, follow_ups, ask("A private note"))


def _log_meeting(name: str | None, date: str | None, mode: Mode | None, notes: Notes, asked: bool) -> None:
    store = options.store()
    first = Session(store)
    day = _day(first, date)
    peer = _chosen_peer(first, name, day)
    if not asked and prompts.interactive():
        how = (mode or peer.mode or first.settings.mode).value
        text.message(
            f"Logging {how} with {safe(peer.name)} on {text.day(day)}. A few questions; Enter skips any."
        )
        notes = _ask_reflection()
    week_was_open = rotation.week_start(day) not in first.history().done_weeks
    with store.change():  # read again under the lock: another peerloop may have logged meanwhile
        session = Session(store, first.now)
        current = session.roster.find(peer.name)
        if current is None:
            raise ConflictError(f"{peer.name} left the roster while you answered; nothing was logged")
        for year in journal.week_years(day):
            session.year(year)
        held = journal.entries_in_week(session.log_entries(), day)
        if name is None and week_was_open and held:
            raise ConflictError(
                f"the week of {rotation.week_start(day).isoformat()} was logged meanwhile ({journal.describe(held[0])}); "
                "nothing was logged. To log another meeting, name who you met: `peerloop log NAME`"
            )
        meeting, note = logbook.log_meeting(session, day, current, mode, notes)
    if note:
        text.message(f"note: {safe(note)}")
    text.out(
        f"Logged {meeting.mode.value} with {safe(meeting.peer)} on {text.day(meeting.date)} "
        f"({meeting.id}). {next_line(session)}"
    )


def _log_skip(name: str | None, date: str | None, reason: str | None) -> None:
    store = options.store()
    if reason is None:
        if not prompts.interactive():
            raise MissingValueError(
                "--skip needs --reason TEXT: why this week's meeting did not happen (no terminal to ask on)"
            )
        reason = prompts.ask("Why did this week's meeting not happen?", _reason, "--reason")
    checked = _reason(reason)
    with store.change():
        session = Session(store)
        day = _day(session, date)
        for year in journal.week_years(day):
            session.year(year)
        planned = session.next_slot(day)
        peer = (
            session.require_peer(name) if name is not None else planned.peer if planned is not None else None
        )
        skip = logbook.log_skip(session, day, peer, checked)
    turn = f" ({safe(skip.peer)}'s turn)" if skip.peer else ""
    text.out(
        f"Logged skip {skip.id} for the week of {text.day(rotation.week_start(skip.date))}{turn}. {next_line(session)}"
    )


def _log_touch(name: str | None, date: str | None, note: str | None) -> None:
    if name is None:
        raise MissingValueError("--touch needs NAME: who you were in touch with")
    store = options.store()
    with store.change():
        session = Session(store)
        day = _day(session, date)
        touch = logbook.log_touch(session, day, session.require_peer(name), note)
    text.out(
        f"Logged a touch with {safe(touch.peer)} on {text.day(touch.date)} ({touch.id}); "
        "the rotation is unchanged."
    )


def _log_amend(wanted: str, amend: Amend, date: str | None) -> None:
    store = options.store()
    with store.change():
        session = Session(store)
        if date is not None:
            amend = amend._replace(date=_day(session, date))
        if not amend.anything():
            raise InputError(
                "nothing to change: with --amend ID, pass the fields to change (NAME, --date, --mode, --issue, "
                "--gain, --win, --works, --improve, --follow-up, --note, --reason, --done N)"
            )
        result = logbook.amend_entry(session, wanted, amend)
    before, after = result.before, result.after
    kind = "meeting" if isinstance(before, Meeting) else "skip"
    if not result.changed:
        text.out(f"Nothing to change: {kind} {before.id} already says that.")
        return
    if result.note:
        text.message(f"note: {safe(result.note)}")
    fields = ", ".join(field.replace("_", "-") for field in result.changed)
    if after.id != before.id:
        moved = f", moved to the {after.date.year} file" if after.date.year != before.date.year else ""
        text.out(
            f"Amended {kind} {before.id} ({fields}): its date changed, so its id is now {after.id}{moved}."
        )
    else:
        text.out(f"Amended {kind} {before.id} ({fields}).")


def done(
    handles: Annotated[
        list[str],
        typer.Argument(metavar="HANDLE...", help="Follow-up handles, as `next` and `history` show them."),
    ],
    reopen: Annotated[bool, typer.Option("--reopen", help="Mark them open again instead.")] = False,
) -> None:
    """Close follow-ups (or reopen them with --reopen).

    A follow-up's handle is its meeting's id and its own number, e.g. 20260310-vzrq2.2: it never changes when
    others close.

    Examples:

      peerloop done 20260303-psve7.1

      peerloop done 20260303-psve7.1 20260324-cgk6s.1 --reopen
    """
    parsed = [parse_flag(item, "HANDLE", journal.parse_handle) for item in handles]
    store = options.store()
    with store.change():
        changed = logbook.close_follow_ups(Session(store), parsed, reopen)
    verb = "Reopened" if reopen else "Closed"
    for meeting, item, already in changed:
        what = f"{meeting.id}.{item.n} ({safe(meeting.peer)}): {safe(item.text)}"
        if already:
            text.out(f"Already {'open' if reopen else 'closed'}: {what}")
        else:
            text.out(f"{verb} {what}")


def _summary(entry: Entry) -> str:
    """'meeting 20260310-vzrq2 with Ann Lee on Tue 2026-03-10', for any kind of entry."""
    what = (
        journal.describe(entry)
        if isinstance(entry, Meeting | Skip | Touch)
        else f"{journal.kind_of(entry)} {entry.id}"
    )
    return f"{safe(what)} on {text.day(entry.date)}"


def forget(
    entry_id: Annotated[
        str, typer.Argument(metavar="ID", help="The entry's id, as `peerloop history` shows it.")
    ],
    yes: options.YesOption = False,
) -> None:
    """Delete one journal entry for good.

    A meeting logged by mistake, a skip that was not one: `peerloop history` shows each entry's id.

    Examples:

      peerloop forget 20260310-vzrq2

      peerloop forget 20260310-vzrq2 --yes
    """
    store = options.store()
    _, entry = logbook.locate(store, entry_id)
    if not yes and not prompts.confirm(f"Forget {_summary(entry)}? This cannot be undone."):
        text.message("Nothing forgotten.")
        return
    with store.change():
        journal_year, _ = logbook.locate(store, entry.id)
        updated, removed = journal.remove_entry(journal_year, entry.id)
        store.save_year(updated)
    text.out(f"Forgot {_summary(removed)}.")
