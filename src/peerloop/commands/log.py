"""The meeting log as the leader keeps it: `log` (meetings, skips, amends), `history` and `forget`.

Each write is one read-modify-write under the store's lock. Questions are asked before the lock is taken
(a person may take their time), and everything is read and checked again once it is held.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Annotated, Any, NamedTuple

from peerloop import clock, entries, prompts, render, rotation, values
from peerloop.commands.common import HomeOption, JsonOption, complete_peer_name, open_store, parse_flag
from peerloop.commands.roster import require_settings
from peerloop.entries import FollowUpChanges, LogEntry
from peerloop.errors import ConflictError, InputError, MissingValueError
from peerloop.journal import recent_journal
from peerloop.models import (
    Entry,
    FollowUp,
    Gain,
    JournalYear,
    Meeting,
    Mode,
    Peer,
    Roster,
    Settings,
    Skip,
)
from peerloop.options import Arg, Opt
from peerloop.rotation import History, Slot
from peerloop.storage import Store

NameArgument = Annotated[
    str | None,
    Arg(
        metavar="NAME",
        help="Who you met (default: the peer whose turn it is).",
        show_default=False,
        autocompletion=complete_peer_name,
    ),
]
DateOption = Annotated[
    str | None, Opt("--date", metavar="DATE", help="The day it happened, YYYY-MM-DD (default: today).")
]

QUESTIONS = {
    "issue": "The pressing issue you went deep on",
    "gains": "What did it give you? advice, strength, motivation (separate several with commas)",
    "win": "A win worth celebrating",
    "works": "What works well",
    "improve": "What can be improved",
    "follow_ups": "Follow-ups you owe or are owed",
    "note": "A private note",
}
"""The short reflection asked after a meeting, in order; each one is skipped with Enter."""


class Notes(NamedTuple):
    """The optional reflection fields of a meeting, as given on the command line or answered."""

    issue: str | None = None
    gains: tuple[Gain, ...] = ()
    win: str | None = None
    works: str | None = None
    improve: str | None = None
    follow_ups: tuple[str, ...] = ()
    note: str | None = None


class Loaded(NamedTuple):
    """What a log command reads: the roster, today, and the journal years it needs, by year."""

    store: Store
    roster: Roster
    settings: Settings
    today: dt.date
    years: dict[int, JournalYear]

    def year(self, year: int) -> JournalYear:
        if year not in self.years:
            self.years[year] = self.store.load_year(year)
        return self.years[year]

    def log_entries(self) -> list[LogEntry]:
        found: list[LogEntry] = []
        for journal_year in self.years.values():
            found += [*journal_year.meetings, *journal_year.skips]
        return found

    def history(self) -> History:
        return rotation.history_from(
            (m for y in self.years.values() for m in y.meetings),
            (s for y in self.years.values() for s in y.skips),
        )

    def next_slot(self, day: dt.date) -> Slot:
        return rotation.next_slot(self.roster, self.settings, self.history(), day)

    def require_peer(self, name: str) -> Peer:
        """The roster's peer, or an error that tells a removed peer from a stranger (reads every year)."""
        peer = self.roster.find(name)
        if peer is None:
            every = self.store.load_journal()
            raise entries.unknown_peer(self.roster, name, entries.names_in((*every.meetings, *every.skips)))
        return peer


def load(store: Store, date: str | None, default: dt.date | None = None) -> tuple[Loaded, dt.date]:
    """The roster, the recent journal (as `next` reads it) plus the years of the week of the day, and the day.

    The day is `--date` (never in the future), else `default`, else today in the leader's zone.
    """
    roster = store.load_roster()
    settings = require_settings(roster)
    today = clock.today(settings.timezone)
    if date is not None:
        day = entries.check_not_future(parse_flag(date, "--date", values.parse_date), today)
    else:
        day = default or today
    journal = recent_journal(store, roster, today)
    loaded = Loaded(store, roster, settings, today, {y.year: y for y in journal.years})
    for year in sorted(entries.week_years(day)):
        loaded.year(year)
    return loaded, day


def save(store: Store, years: Iterable[JournalYear], roster: Roster | None = None) -> None:
    """Write the year files that changed (and the roster, when given), as one change; call under the lock."""
    with store.together():
        for journal_year in years:
            store.save_year(journal_year)
        if roster is not None:
            store.save_roster(roster)


def next_line(loaded: Loaded) -> str:
    slot = loaded.next_slot(loaded.today)
    if slot.peer is None:
        return f"Next: nobody in the week of {render.day(slot.week)} (every peer is paused)."
    return f"Next: {render.safe(slot.peer.name)}, {render.day(slot.date)}."


# --- log: a meeting ----------------------------------------------------------------------------------------


class MeetingPlan(NamedTuple):
    meeting: Meeting
    year: JournalYear
    roster: Roster | None
    note: str | None


def plan_meeting(
    loaded: Loaded, day: dt.date, name: str | None, mode: Mode | None, reflection: Notes
) -> MeetingPlan:
    if name is not None:
        peer = loaded.require_peer(name)
    else:
        slot = loaded.next_slot(day)
        if slot.peer is None:
            raise ConflictError(
                f"nobody's turn in the week of {slot.week.isoformat()}: every peer is paused; "
                "name who you met: `peerloop log NAME`"
            )
        peer = slot.peer
    target = loaded.year(day.year)
    meeting = Meeting(
        id=entries.new_id(target, day),
        date=day,
        peer=peer.name,
        mode=mode or peer.mode or loaded.settings.mode,
        issue=reflection.issue,
        gains=reflection.gains,
        win=reflection.win,
        works=reflection.works,
        improve=reflection.improve,
        follow_ups=tuple(FollowUp(text) for text in reflection.follow_ups),
        note=reflection.note,
    )
    roster = entries.with_added_back(loaded.roster, peer.name, day)
    return MeetingPlan(
        meeting=meeting,
        year=entries.add_entry(target, meeting),
        roster=roster if roster != loaded.roster else None,
        note=entries.extra_meeting_note(loaded.log_entries(), day),
    )


def ask_reflection() -> Notes:
    """The short reflection, one question at a time; Enter skips any of them."""

    def answer(text: str) -> str:
        try:
            return entries.check_text(text, "that answer") or ""
        except InputError:
            raise ValueError(
                "that answer is not valid UTF-8 (a stray byte from the terminal?); retype it"
            ) from None

    def text(question: str) -> str | None:
        return prompts.ask_optional(f"{question} (Enter to skip)", answer)

    issue = text(QUESTIONS["issue"])
    gains = prompts.ask_optional(f"{QUESTIONS['gains']} (Enter to skip)", lambda a: entries.parse_gains([a]))
    win = text(QUESTIONS["win"])
    works = text(QUESTIONS["works"])
    improve = text(QUESTIONS["improve"])
    follow_ups = [
        entries.check_text(item, "a follow-up") or "" for item in prompts.ask_list(QUESTIONS["follow_ups"])
    ]
    note = text(QUESTIONS["note"])
    return Notes(issue, gains or (), win, works, improve, tuple(follow_ups), note)


def log_meeting(
    store: Store, name: str | None, date: str | None, mode: Mode | None, reflection: Notes, given: bool
) -> None:
    if not given and prompts.interactive():
        loaded, day = load(store, date)
        first = plan_meeting(loaded, day, name, mode, reflection)
        render.message(
            f"Logging {first.meeting.mode.value} with {render.safe(first.meeting.peer)} on "
            f"{render.day(day)}. A few questions; Enter skips any."
        )
        reflection = ask_reflection()
    with store.locked():
        loaded, day = load(store, date)
        plan = plan_meeting(loaded, day, name, mode, reflection)
        save(store, [plan.year], plan.roster)
    loaded.years[plan.year.year] = plan.year
    loaded = loaded._replace(roster=plan.roster or loaded.roster)
    if plan.note:
        render.message(f"note: {render.safe(plan.note)}")
    meeting = plan.meeting
    render.out(
        f"Logged {meeting.mode.value} with {render.safe(meeting.peer)} on {render.day(meeting.date)} "
        f"({meeting.id}). {next_line(loaded)}"
    )


# --- log --skip --------------------------------------------------------------------------------------------


def plan_skip(loaded: Loaded, day: dt.date, name: str | None, reason: str) -> tuple[Skip, JournalYear]:
    entries.check_skip_week(loaded.log_entries(), day)
    peer = loaded.require_peer(name) if name is not None else loaded.next_slot(day).peer
    target = loaded.year(day.year)
    skip = Skip(id=entries.new_id(target, day), date=day, reason=reason, peer=peer.name if peer else None)
    return skip, entries.add_entry(target, skip)


def check_reason(reason: str) -> str:
    checked = entries.check_text(reason, "--reason")
    if checked is None:
        raise InputError("--reason cannot be empty: say why the meeting did not happen")
    return checked


def log_skip(store: Store, name: str | None, date: str | None, reason: str | None) -> None:
    if reason is None:
        if not prompts.interactive():
            raise MissingValueError(
                "--skip needs --reason TEXT: why this week's meeting did not happen (no terminal to ask on)"
            )
        loaded, day = load(store, date)
        plan_skip(loaded, day, name, "-")
        reason = prompts.ask("Why did this week's meeting not happen?", check_reason, "--reason")
    check_reason(reason)
    with store.locked():
        loaded, day = load(store, date)
        skip, year = plan_skip(loaded, day, name, reason)
        save(store, [year])
    loaded.years[year.year] = year
    turn = f" ({render.safe(skip.peer)}'s turn)" if skip.peer else ""
    render.out(
        f"Logged skip {skip.id} for the week of {render.day(rotation.week_start(day))}{turn}. {next_line(loaded)}"
    )


# --- log --amend -------------------------------------------------------------------------------------------


def locate(store: Store, wanted: str) -> tuple[JournalYear, Entry]:
    """The entry with id `wanted` and its year file: the year the id names, else (hand-made ids) any year."""
    year = entries.id_year(wanted)
    if year is not None and year in store.journal_years():
        journal_year = store.load_year(year)
        entry = entries.find_entry([journal_year], wanted)
        if entry is not None:
            return journal_year, entry
    for other in store.journal_years():
        if other != year:
            journal_year = store.load_year(other)
            entry = entries.find_entry([journal_year], wanted)
            if entry is not None:
                return journal_year, entry
    raise entries.unknown_id(wanted)


class Amend(NamedTuple):
    """What `log --amend ID` was asked to change: None means leave as is, '' clears a text field."""

    name: str | None
    date: str | None
    mode: Mode | None
    issue: str | None
    gains: list[str] | None
    win: str | None
    works: str | None
    improve: str | None
    note: str | None
    reason: str | None
    follow_ups: FollowUpChanges

    def meeting_flags(self) -> list[str]:
        given = {"--mode": self.mode, "--issue": self.issue, "--gain": self.gains, "--win": self.win,
                 "--works": self.works, "--improve": self.improve, "--note": self.note}  # fmt: skip
        flags = [flag for flag, value in given.items() if value is not None]
        for flag, items in (("--follow-up", self.follow_ups.add), ("--done", self.follow_ups.done),
                            ("--reopen", self.follow_ups.reopen), ("--drop", self.follow_ups.drop)):  # fmt: skip
            if items:
                flags.append(flag)
        return flags

    def anything(self) -> bool:
        return bool(self.meeting_flags()) or any(v is not None for v in (self.name, self.date, self.reason))


def amended(loaded: Loaded, entry: Meeting | Skip, amend: Amend, day: dt.date) -> Meeting | Skip:
    changes: dict[str, Any] = {}
    if amend.name is not None:
        changes["peer"] = loaded.require_peer(amend.name).name
    if day != entry.date:
        changes["date"] = day
    if isinstance(entry, Skip):
        wrong = amend.meeting_flags()
        if wrong:
            raise InputError(
                f"{wrong[0]} is for meetings; {entry.id} is a skip (it takes NAME, --date, --reason)"
            )
        if amend.reason is not None:
            changes["reason"] = check_reason(amend.reason)
        return entry._replace(**changes)
    if amend.reason is not None:
        raise InputError(f"--reason is for skips; {entry.id} is a meeting")
    if amend.mode is not None:
        changes["mode"] = amend.mode
    for field in ("issue", "win", "works", "improve", "note"):
        value = getattr(amend, field)
        if value is not None:
            changes[field] = entries.check_text(value, f"--{field}")
    if amend.gains is not None:
        changes["gains"] = parse_flag_list(amend.gains, "--gain", entries.parse_gains)
    if amend.follow_ups:
        changes["follow_ups"] = entries.change_follow_ups(entry, amend.follow_ups)
    return entry._replace(**changes)


class AmendPlan(NamedTuple):
    before: Meeting | Skip
    after: Meeting | Skip
    years: tuple[JournalYear, ...]
    roster: Roster | None
    note: str | None


def plan_amend(store: Store, wanted: str, amend: Amend) -> AmendPlan:
    source, entry = locate(store, wanted)
    if not isinstance(entry, Meeting | Skip):
        raise ConflictError(
            f"{entry.id} is a {entries.kind_of(entry)}; `peerloop log --amend` changes meetings and skips only"
        )
    loaded, day = load(store, amend.date, default=entry.date)
    loaded.years[source.year] = source
    after = amended(loaded, entry, amend, day)
    note = None
    if after.date != entry.date:
        target = loaded.year(after.date.year)
        after = after._replace(id=entries.new_id(target, after.date))
        if isinstance(after, Skip):
            entries.check_skip_week(loaded.log_entries(), after.date, ignore=entry.id)
        else:
            note = entries.extra_meeting_note(loaded.log_entries(), after.date, ignore=entry.id)
    years = entries.move_entry(source, loaded.year(after.date.year), entry.id, after)
    roster = loaded.roster
    if isinstance(after, Meeting):
        roster = entries.with_added_back(roster, after.peer, after.date)
    return AmendPlan(entry, after, years, roster if roster != loaded.roster else None, note)


def log_amend(store: Store, wanted: str, amend: Amend) -> None:
    if not amend.anything():
        raise InputError(
            "nothing to change: with --amend ID, pass the fields to change (NAME, --date, --mode, "
            "--issue, --gain, --win, --works, --improve, --follow-up, --note, --reason, --done N)"
        )
    with store.locked():
        plan = plan_amend(store, wanted, amend)
        changed = entries.changed_fields(plan.before, plan.after)
        if changed:
            save(store, plan.years, plan.roster)
    before, after = plan.before, plan.after
    kind = "meeting" if isinstance(before, Meeting) else "skip"
    if not changed:
        render.out(f"Nothing changed: {kind} {before.id} already says that.")
        return
    if plan.note:
        render.message(f"note: {render.safe(plan.note)}")
    fields = ", ".join(name.replace("_", "-") for name in changed)
    if after.id != before.id:
        moved = f", moved to the {after.date.year} file" if after.date.year != before.date.year else ""
        render.out(
            f"Amended {kind} {before.id} ({fields}): its date changed, so its id is now {after.id}{moved}."
        )
    else:
        render.out(f"Amended {kind} {before.id} ({fields}).")


def follow_up_texts(items: list[str] | None) -> tuple[str, ...]:
    checked = (entries.check_text(item, "--follow-up") for item in items or ())
    return tuple(text for text in checked if text is not None)


def follow_up_numbers(items: list[str] | None, flag: str) -> tuple[int, ...]:
    """Follow-up numbers as `history` shows them: whole numbers from 1."""
    parsed = []
    for item in items or ():
        if not item.strip().isdigit() or int(item) < 1:
            raise InputError(
                f"{flag} {item}: give a follow-up's number, as `peerloop history` shows it (1, 2…)"
            )
        parsed.append(int(item))
    return tuple(parsed)


def parse_flag_list(items: list[str], flag: str, parse: Callable[[list[str]], Any]) -> Any:
    try:
        return parse(items)
    except ValueError as error:
        raise InputError(f"{flag}: {error}") from None


# --- the command -------------------------------------------------------------------------------------------


def log(
    name: NameArgument = None,
    date: DateOption = None,
    mode: Annotated[
        str | None,
        Opt(
            "--mode",
            metavar="MODE",
            help="coffee, lunch or call (default: the peer's, else your usual).",
            show_default=False,
        ),
    ] = None,
    issue: Annotated[
        str | None, Opt("--issue", metavar="TEXT", help="The pressing issue you went deep on.")
    ] = None,
    gain: Annotated[
        list[str] | None,
        Opt(
            "--gain",
            metavar="GAIN",
            help="What it gave you: advice, strength or motivation (repeat for several).",
        ),
    ] = None,
    win: Annotated[str | None, Opt("--win", metavar="TEXT", help="A win worth celebrating.")] = None,
    works: Annotated[str | None, Opt("--works", metavar="TEXT", help="What works well.")] = None,
    improve: Annotated[str | None, Opt("--improve", metavar="TEXT", help="What can be improved.")] = None,
    follow_up: Annotated[
        list[str] | None,
        Opt("--follow-up", metavar="TEXT", help="Something you owe or are owed (repeat for several)."),
    ] = None,
    note: Annotated[str | None, Opt("--note", metavar="TEXT", help="A private note.")] = None,
    skip: Annotated[
        bool, Opt("--skip", help="Record that the week's meeting did not happen (with --reason).")
    ] = False,
    reason: Annotated[
        str | None, Opt("--reason", metavar="TEXT", help="With --skip: why it did not happen.")
    ] = None,
    amend: Annotated[
        str | None,
        Opt("--amend", metavar="ID", help="Change entry ID instead: only the fields given change."),
    ] = None,
    done: Annotated[
        list[str] | None,
        Opt("--done", metavar="N", help="With --amend: mark follow-up N done (as `history` numbers it)."),
    ] = None,
    reopen: Annotated[
        list[str] | None,
        Opt("--reopen", metavar="N", help="With --amend: mark follow-up N open again."),
    ] = None,
    drop: Annotated[
        list[str] | None, Opt("--drop", metavar="N", help="With --amend: delete follow-up N.")
    ] = None,
    home: HomeOption = None,
) -> None:
    """Record this week's meeting, or a skip.

    Without NAME, the meeting is with the peer whose turn it is (as `peerloop next` shows). On a
    terminal, with no reflection flags, it asks the short reflection one question at a time; Enter
    skips any of them. With --skip it records that the week's meeting did not happen, and why: that
    peer stays first in line. With --amend ID it changes only the fields given (an empty value clears
    a text; --follow-up adds one; --done N closes follow-up N as `peerloop history` numbers it).

    Examples:

      peerloop log

      peerloop log "Ann Lee" --issue "hiring a VP" --follow-up "send the deck"

      peerloop log --skip --reason "board week"

      peerloop log --amend 20260310-1 --done 1
    """
    store = open_store(home)
    parsed_mode = parse_flag(mode, "--mode", values.parse_mode) if mode is not None else None
    follow_ups = FollowUpChanges(
        done=follow_up_numbers(done, "--done"),
        reopen=follow_up_numbers(reopen, "--reopen"),
        drop=follow_up_numbers(drop, "--drop"),
        add=follow_up_texts(follow_up),
    )
    if amend is not None:
        if skip:
            raise InputError(
                "--skip and --amend do not go together: to turn an entry into a skip, "
                "`peerloop forget ID`, then `peerloop log --skip`"
            )
        changes = Amend(name, date, parsed_mode, issue, gain, win, works, improve, note, reason, follow_ups)
        log_amend(store, amend, changes)
        return
    for flag, numbers in (("--done", done), ("--reopen", reopen), ("--drop", drop)):
        if numbers:
            raise InputError(f"{flag} N changes a logged meeting: use it with --amend ID")
    texts = {"--issue": issue, "--gain": gain, "--win": win, "--works": works, "--improve": improve,
             "--follow-up": follow_up, "--note": note}  # fmt: skip
    given = [flag for flag, value in texts.items() if value is not None]
    if skip:
        extra = given + (["--mode"] if mode is not None else [])
        if extra:
            raise InputError(f"{extra[0]} is for meetings; a skip takes NAME, --date and --reason")
        log_skip(store, name, date, reason)
        return
    if reason is not None:
        raise InputError("--reason goes with --skip (a week without a meeting)")
    reflection = Notes(
        issue=entries.check_text(issue, "--issue"),
        gains=parse_flag_list(gain or [], "--gain", entries.parse_gains),
        win=entries.check_text(win, "--win"),
        works=entries.check_text(works, "--works"),
        improve=entries.check_text(improve, "--improve"),
        follow_ups=follow_up_texts(follow_up),
        note=entries.check_text(note, "--note"),
    )
    log_meeting(store, name, date, parsed_mode, reflection, given=bool(given))


# --- history -----------------------------------------------------------------------------------------------


def entry_lines(entry: LogEntry) -> list[str]:
    head = f"{entry.id}  {render.day(entry.date)}  "
    if isinstance(entry, Skip):
        turn = f" ({render.safe(entry.peer)}'s turn)" if entry.peer else ""
        return [head + f"skipped{turn}", f"    Reason: {render.safe(entry.reason)}"]
    lines = [head + f"{entry.mode.value} with {render.safe(entry.peer)}"]
    labelled = (("Pressing issue", entry.issue), ("It gave", ", ".join(g.value for g in entry.gains) or None),
                ("Win", entry.win), ("Works well", entry.works), ("To improve", entry.improve))  # fmt: skip
    lines += [f"    {label}: {render.safe(value)}" for label, value in labelled if value]
    if entry.follow_ups:
        lines.append("    Follow-ups:")
        lines += [
            f"      {n}. [{'x' if item.done else ' '}] {render.safe(item.text)}"
            for n, item in enumerate(entry.follow_ups, start=1)
        ]
    if entry.note:
        lines.append(f"    Note: {render.safe(entry.note)}")
    return lines


def history(
    name: Annotated[
        str | None,
        Arg(
            metavar="NAME",
            help="Only the entries with this peer (any case).",
            show_default=False,
            autocompletion=complete_peer_name,
        ),
    ] = None,
    since: Annotated[
        str | None, Opt("--since", metavar="DATE", help="Only entries on or after this date, YYYY-MM-DD.")
    ] = None,
    json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """The log, newest first.

    Meetings and skipped weeks, each with its id. Follow-ups are numbered for
    `peerloop log --amend ID --done N`; [x] marks the done ones.

    Examples:

      peerloop history

      peerloop history "Ann Lee" --since 2026-01-01

      peerloop history --json | jq '.[] | select(.kind == "skip") | .reason'
    """
    store = open_store(home)
    start = parse_flag(since, "--since", values.parse_date) if since is not None else None
    years = [y for y in store.journal_years() if start is None or y >= start.year]
    journal = store.load_journal(years)
    logged: list[LogEntry] = [*journal.meetings, *journal.skips]
    if start is not None:
        logged = [e for e in logged if e.date >= start]
    if name is not None:
        roster = store.load_roster()
        peer = roster.find(name)
        if peer is None:  # a removed peer's entries are still theirs to read
            every = journal if start is None else store.load_journal()
            if not entries.for_peer((*every.meetings, *every.skips), name):
                raise entries.unknown_peer(roster, name, ())
        logged = entries.for_peer(logged, peer or name)
    shown = entries.newest_first(logged)
    if json:
        render.emit_json([entries.entry_json(entry) for entry in shown])
        return
    if not shown:
        whom = f" with {render.safe(name)}" if name else ""
        when = f" since {start.isoformat()}" if start else ""
        render.message(f"Nothing logged{whom}{when} yet: `peerloop log` records a meeting.")
        return
    render.out("\n\n".join("\n".join(entry_lines(entry)) for entry in shown))


# --- forget ------------------------------------------------------------------------------------------------


def summary(entry: Entry) -> str:
    """'meeting 20260310-1 with Ann Lee on Tue 2026-03-10', for any kind of entry."""
    if isinstance(entry, Meeting | Skip):
        what = entries.describe(entry)
    else:
        what = f"{entries.kind_of(entry)} {entry.id}"
    return f"{render.safe(what)} on {render.day(entry.date)}"


def forget(
    entry_id: Annotated[str, Arg(metavar="ID", help="The entry's id, as `peerloop history` shows it.")],
    yes: Annotated[bool, Opt("--yes", "-y", help="Do not ask for confirmation.")] = False,
    home: HomeOption = None,
) -> None:
    """Delete one journal entry for good.

    A meeting logged by mistake, a skip that was not one: `peerloop history` shows each entry's id.

    Examples:

      peerloop forget 20260310-1

      peerloop forget 20260310-1 --yes
    """
    store = open_store(home)
    _, entry = locate(store, entry_id)
    if not yes and not prompts.confirm(f"Forget {summary(entry)}? This cannot be undone."):
        render.message("Nothing forgotten.")
        return
    with store.locked():
        journal_year, _ = locate(store, entry.id)
        updated, removed = entries.remove_entry(journal_year, entry.id)
        store.save_year(updated)
    render.out(f"Forgot {summary(removed)}.")
