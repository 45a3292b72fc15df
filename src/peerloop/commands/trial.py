"""The trial as a whole: the coaching thoughts (`reflect`), where it stands (`status`), the six-month `review`.

The figures come from `peerloop.review` (pure); this module reads the files, asks, renders and writes.
`status` keeps its logic in plain functions (`load_status`, `status_json`, `status_lines`, `check_result`)
so that a faster start-up path, or a one-line `--line` form, can reuse them without the Typer signature.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple

from peerloop import clock, entries, prompts, render, values
from peerloop.commands.common import HomeOption, JsonOption, open_store, parse_flag
from peerloop.commands.roster import require_settings, show_warning
from peerloop.errors import (
    EXIT_OK,
    EXIT_OVERDUE,
    EXIT_REVIEW_DUE,
    ConflictError,
    InputError,
    MissingValueError,
    PeerloopError,
)
from peerloop.models import (
    Decision,
    Journal,
    JournalYear,
    Peer,
    Reflection,
    Review,
    Roster,
    Settings,
    Verdict,
    peer_key,
)
from peerloop.options import Opt
from peerloop.render import plural
from peerloop.review import (
    LEGEND,
    MARKS,
    Evidence,
    Noted,
    Progress,
    WeekState,
    evidence,
    evidence_json,
    next_trial,
    progress,
    report_markdown,
    review_due,
    review_for,
    trial_years,
)
from peerloop.roster import FEWEST_PEERS
from peerloop.rotation import first_trial_week
from peerloop.storage import Store, entry_id

if TYPE_CHECKING:
    from peerloop.rotation import Slot

WHY_QUESTION = "Are you having trouble getting past 3 names? Why might this be the case?"
CEO_QUESTION = "If you took that list to your CEO, how might they respond?"
REFLECT_FLAGS = "--name (repeat for each person), --why, --excuse (repeat), --ceo and --add-names"


def _day_count(days: int) -> str:
    if days < 14:
        return f"{days} day{'s' if days != 1 else ''}"
    return f"{round(days / 7)} weeks"


# --- reflect -----------------------------------------------------------------------------------------------


class Thoughts(NamedTuple):
    """The answers to the coaching thoughts, from flags or prompts."""

    names: tuple[str, ...] = ()
    why: str | None = None
    excuses: tuple[str, ...] = ()
    ceo: str | None = None
    add_names: bool = False

    @property
    def empty(self) -> bool:
        return not (self.names or self.why or self.excuses or self.ceo)


def _names(items: list[str], flag: str) -> tuple[str, ...]:
    """Cleaned names, each once whatever its case, in the order given."""
    seen: dict[str, str] = {}
    for item in items:
        if item.strip():
            name = parse_flag(item, flag, values.clean_name)
            seen.setdefault(peer_key(name), name)
    return tuple(seen.values())


def _texts(items: list[str], flag: str) -> tuple[str, ...]:
    return tuple(text for item in items if (text := entries.check_text(item, flag)))


def not_in_roster(roster: Roster, names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(name for name in names if roster.find(name) is None)


def ask_thoughts(roster: Roster) -> Thoughts:
    """The coaching thoughts (a) and (b), one question at a time (only on a terminal)."""
    render.message(
        "(a) Make a list right now of the people you might contact, in your company or at another one."
    )
    if roster.peers:
        render.message(
            "    Already in your roster: " + ", ".join(render.safe(p.name) for p in roster.peers) + "."
        )
    names = _names(prompts.ask_list("People you might contact"), "a name")
    why = None
    if len(names) < FEWEST_PEERS:
        why = prompts.ask_optional(f"{WHY_QUESTION} (Enter to skip)", values.check_utf8)
    new = not_in_roster(roster, names)
    add_names = bool(new) and prompts.confirm(
        "Add " + ", ".join(render.safe(name) for name in new) + " to your roster?", "--add-names"
    )
    render.message("\n(b) Make a list of all the excuses that would hold you back.")
    excuses = _texts(prompts.ask_list("Excuses"), "an excuse")
    ceo = prompts.ask_optional(f"{CEO_QUESTION} (Enter to skip)", values.check_utf8) if excuses else None
    return Thoughts(
        names=names,
        why=entries.check_text(why, "--why"),
        excuses=excuses,
        ceo=entries.check_text(ceo, "--ceo"),
        add_names=add_names,
    )


def six_month_test(settings: Settings) -> str:
    """Coaching thought (c): the trial's time limit."""
    start, end = settings.trial_start, settings.trial_end
    return (
        f"(c) Test the process with a time limit: your {settings.trial_months}-month trial runs from "
        f"{render.day(start)} to {render.day(end)} ({settings.trial_weeks} weeks). From {render.day(end)} on, "
        "peerloop asks for the review: did it add value? Then continue, adjust or stop."
    )


def save_thoughts(
    store: Store, thoughts: Thoughts, today: dt.date
) -> tuple[Reflection, tuple[str, ...], Roster]:
    """Write the reflection (and add the listed names if asked) under the lock: (reflection, added, roster)."""
    with store.locked(), store.together():
        roster = store.load_roster()
        added = not_in_roster(roster, thoughts.names) if thoughts.add_names else ()
        if added:
            from peerloop.roster import add_peer

            for name in added:
                roster = add_peer(roster, Peer(name=name, added=today))
            store.save_roster(roster)
        year = store.load_year(today.year)
        reflection = Reflection(
            id=entry_id(today, (entry.id for entry in year.entries())),
            date=today,
            names=thoughts.names,
            why=thoughts.why,
            excuses=thoughts.excuses,
            ceo=thoughts.ceo,
        )
        store.save_year(year._replace(reflections=(*year.reflections, reflection)))
    return reflection, added, roster


def record_thoughts(store: Store, settings: Settings, thoughts: Thoughts) -> None:
    """Save the reflection and say what was done, then coaching thought (c)."""
    today = clock.today(settings.timezone)
    if thoughts.empty:
        render.message("Nothing answered, so nothing was saved.")
        render.out(six_month_test(settings))
        return
    reflection, added, roster = save_thoughts(store, thoughts, today)
    render.out(f"Saved your coaching thoughts of {render.day(today)} in the journal ({reflection.id}).")
    if added:
        listed = ", ".join(render.safe(name) for name in added)
        render.out(f"Added {listed} to the roster ({len(roster.peers)} peers).")
    render.out(six_month_test(settings))
    if added:
        show_warning(roster, today)


def offer_thoughts(store: Store) -> None:
    """Part of `init`'s guided set-up on a terminal: the coaching thoughts, if the leader wants them now."""
    question = "Take five minutes for the coaching thoughts now? (`peerloop reflect` asks them any time)"
    try:
        wanted = prompts.confirm("\n" + question)
    except PeerloopError:  # end of input at this optional question: the set-up is done, so skip it
        return
    if not wanted:
        return
    roster = store.load_roster()
    settings = require_settings(roster)
    try:
        thoughts = ask_thoughts(roster)
    except PeerloopError as error:
        if type(error) is not PeerloopError:  # prompts end on end of input with a plain PeerloopError
            raise
        render.message(
            "The coaching thoughts were not saved (your settings are); run `peerloop reflect` later."
        )
        return
    record_thoughts(store, settings, thoughts)


def reflect(
    name: Annotated[
        list[str] | None, Opt("--name", metavar="NAME", help="A person you might contact (repeat for each).")
    ] = None,
    why: Annotated[
        str | None, Opt("--why", metavar="TEXT", help="Why the list has fewer than 4 names, if it has.")
    ] = None,
    excuse: Annotated[
        list[str] | None,
        Opt("--excuse", metavar="TEXT", help="An excuse that would hold you back (repeat for each)."),
    ] = None,
    ceo: Annotated[
        str | None, Opt("--ceo", metavar="TEXT", help="How your CEO might respond to that list of excuses.")
    ] = None,
    add_names: Annotated[
        bool, Opt("--add-names", help="Add the listed names that are not in the roster yet, without asking.")
    ] = False,
    home: HomeOption = None,
) -> None:
    """The coaching thoughts, asked and saved.

    Who you might contact, what would hold you back, the six-month test. On a terminal it asks one
    question at a time; in a script the flags answer them (any answer flag means nothing is asked).
    The answers are saved, dated, in the journal; the review shows them again at the end of the trial.

    Examples:

      peerloop reflect

      peerloop reflect --name "Ann Lee" --name "Bo Chen" --why "I know few people"

      peerloop reflect --excuse "no time" --excuse "awkward" --ceo "Make time."
    """
    store = open_store(home)
    roster = store.load_roster()
    settings = require_settings(roster)
    if any(value for value in (name, why, excuse, ceo)):
        thoughts = Thoughts(
            names=_names(name or [], "--name"),
            why=entries.check_text(why, "--why"),
            excuses=_texts(excuse or [], "--excuse"),
            ceo=entries.check_text(ceo, "--ceo"),
            add_names=add_names,
        )
    elif prompts.interactive():
        thoughts = ask_thoughts(roster)
    else:
        raise MissingValueError(
            f"reflect asks its questions on a terminal; in a script, answer with {REFLECT_FLAGS}"
        )
    record_thoughts(store, settings, thoughts)


# --- status ------------------------------------------------------------------------------------------------


class _ReadOnce(Store):
    """The same store, reading each journal year at most once (status needs the trial's years and the
    rotation's recent years, which are usually the same file)."""

    def __init__(self, store: Store) -> None:
        super().__init__(store.home, store.lock_timeout)
        self._years: dict[int, JournalYear] = {}
        self._listing: list[int] | None = None

    def journal_years(self) -> list[int]:
        if self._listing is None:
            self._listing = super().journal_years()
        return list(self._listing)

    def load_year(self, year: int) -> JournalYear:
        if year not in self._years:
            self._years[year] = super().load_year(year)
        return self._years[year]


class Status(NamedTuple):
    """Where the trial stands today."""

    roster: Roster
    settings: Settings
    today: dt.date
    progress: Progress
    """As of today, or as of the review date once the leader decided to stop."""
    next: Slot | None
    """The rotation's next slot; None with no peers in the roster."""
    review_due: bool
    reviewed: Review | None
    """The review recorded for this trial (only a `stop` keeps the trial's start, so only a stop shows)."""

    @property
    def stopped(self) -> bool:
        return self.reviewed is not None and self.reviewed.decision is Decision.STOP

    @property
    def overdue(self) -> bool:
        """This week's meeting day has passed with nothing logged."""
        return not self.stopped and self.next is not None and self.next.peer is not None and self.next.overdue


def load_status(store: Store) -> Status:
    """Read what `status` needs: the roster, the trial's journal years and the rotation's recent years."""
    from peerloop import rotation
    from peerloop.journal import recent_journal

    roster = store.load_roster()
    settings = require_settings(roster)
    today = clock.today(settings.timezone)
    cached = _ReadOnce(store)
    on_disk = set(cached.journal_years())
    trial = cached.load_journal(year for year in trial_years(settings, today) if year in on_disk)
    reviewed = review_for(settings, trial.reviews)
    stopped = reviewed is not None and reviewed.decision is Decision.STOP
    as_of = min(today, reviewed.date) if reviewed is not None and stopped else today
    slot = None
    if roster.peers:
        recent = recent_journal(cached, roster, today)
        history = rotation.history_from(recent.meetings, recent.skips)
        slot = rotation.next_slot(roster, settings, history, today)
    return Status(
        roster=roster,
        settings=settings,
        today=today,
        progress=progress(settings, trial.meetings, trial.skips, as_of),
        next=slot,
        review_due=review_due(settings, trial.reviews, today),
        reviewed=reviewed,
    )


def check_result(status: Status) -> tuple[int, str | None]:
    """`status --check`: 0 on track; EXIT_OVERDUE or EXIT_REVIEW_DUE with a one-line reason."""
    problems = []
    slot = status.next
    peer = slot.peer if slot is not None else None
    if status.overdue and slot is not None and peer is not None:
        problems.append(
            f"this week's {slot.mode.value} with {render.safe(peer.name)} ({render.day(slot.date)}) is "
            "overdue: log it with `peerloop log`, or `peerloop log --skip --reason TEXT`"
        )
    if status.review_due:
        problems.append(
            f"the trial ended on {render.day(status.settings.trial_end)} and the review is due: run `peerloop review`"
        )
    if not problems:
        return EXIT_OK, None
    return (EXIT_OVERDUE if status.overdue else EXIT_REVIEW_DUE), "peerloop: " + "; ".join(problems)


def status_json(status: Status) -> dict[str, Any]:
    """The shape `peerloop status --json` prints (documented in docs/review.md)."""
    from peerloop.commands.week import slot_json
    from peerloop.review import strip_text

    so_far = status.progress
    code, reason = check_result(status)
    return {
        "today": status.today,
        "trial": {
            "start": status.settings.trial_start,
            "end": status.settings.trial_end,
            "week": so_far.week,
            "weeks": so_far.weeks,
        },
        "strip": strip_text(so_far.strip),
        "weeks": [{"week": w.number, "monday": w.monday, "state": w.state.value} for w in so_far.so_far],
        "planned": so_far.planned,
        "kept": so_far.tally(WeekState.KEPT),
        "skipped": so_far.tally(WeekState.SKIPPED),
        "missed": so_far.tally(WeekState.MISSED),
        "open": so_far.tally(WeekState.OPEN),
        "meetings": len(so_far.meetings),
        "skips": [{"date": s.date, "peer": s.peer, "reason": s.reason} for s in so_far.skips],
        "next": slot_json(status.next) if status.next is not None and not status.stopped else None,
        "overdue": status.overdue,
        "review": {
            "date": status.settings.trial_end,
            "due": status.review_due,
            "done": status.reviewed.date if status.reviewed else None,
            "decision": status.reviewed.decision.value if status.reviewed else None,
        },
        "check": {"code": code, "reason": reason},
    }


_COLOURS = {
    WeekState.KEPT: "green",
    WeekState.SKIPPED: "yellow",
    WeekState.MISSED: "red",
    WeekState.OPEN: "cyan",
    WeekState.TO_COME: "dim",
}


def strip_lines(states: tuple[WeekState, ...]) -> list[str]:
    """The weeks as one character each, and the legend."""
    strip = "".join(render.style(MARKS[state], _COLOURS[state]) for state in states)
    legend = "  ".join(
        f"{render.style(MARKS[state], _COLOURS[state])} {LEGEND[state]}" for state in WeekState
    )
    return [f"  {strip}", f"  {legend}"]


def _headline(status: Status) -> str:
    settings, so_far = status.settings, status.progress
    span = f"{render.day(settings.trial_start)} to {render.day(settings.trial_end)}"
    if so_far.week == 0:
        return f"The trial starts in the week of {render.day(first_trial_week(settings))}: {span}, {so_far.weeks} weeks"
    if status.stopped and status.reviewed is not None:
        return f"Trial of {span}: stopped at the review of {render.day(status.reviewed.date)}"
    if status.today >= settings.trial_end:
        return f"The trial of {span} has ended ({so_far.weeks} weeks; this is week {so_far.week})"
    if so_far.week > so_far.weeks:
        return f"Trial week {so_far.week} ({so_far.weeks}-week trial of {span})"
    return f"Trial week {so_far.week} of {so_far.weeks} ({span})"


def _next_line(status: Status) -> str:
    from peerloop.commands.week import slot_time

    slot = status.next
    if not status.roster.peers or slot is None:
        return "none yet: add the 4 to 5 peers you will meet with `peerloop add NAME`"
    if slot.peer is None:
        return f"nobody in the week of {render.day(slot.week)}: every peer is paused then"
    line = (
        f"{render.day(slot.date)}, {slot_time(slot)} ({status.settings.timezone}): "
        f"{slot.mode.value} with {render.safe(slot.peer.name)}"
    )
    return line + (render.style(" (overdue)", "red") if slot.overdue else "")


def _review_line(status: Status) -> str:
    end = status.settings.trial_end
    if status.stopped and status.reviewed is not None:
        return (
            f"done on {render.day(status.reviewed.date)}: you decided to stop "
            "(`peerloop init --start YYYY-MM-DD` starts a new trial)"
        )
    if status.review_due:
        return render.style(f"due since {render.day(end)}: run `peerloop review`", "yellow")
    return f"{render.day(end)}, in {_day_count((end - status.today).days)}"


def status_lines(status: Status) -> list[str]:
    """`peerloop status` as text."""
    so_far = status.progress
    lines = [render.style(_headline(status), "bold"), *strip_lines(so_far.strip)]
    kept, meetings = so_far.tally(WeekState.KEPT), len(so_far.meetings)
    if so_far.planned:
        counted = f"{kept} of {plural(so_far.planned, 'week')} kept so far"
        if meetings != kept:
            counted += f" ({meetings} meetings)"
        counted += f"; {so_far.tally(WeekState.SKIPPED)} skipped, {so_far.tally(WeekState.MISSED)} missed"
    else:
        counted = "none yet"
    lines.append(f"Meetings  {counted}")
    for n, skip in enumerate(so_far.skips):
        label = "Skips" if n == 0 else ""
        lines.append(f"{label:<10}{render.day(skip.date)}: {render.safe(skip.reason) or '(no reason given)'}")
    if not status.stopped:
        lines.append(f"Next      {_next_line(status)}")
    lines.append(f"Review    {_review_line(status)}")
    return lines


def status(
    check: Annotated[
        bool,
        Opt(
            "--check",
            help="Print nothing when on track; exit 10 when this week's meeting is overdue, 11 when the review "
            "is due, with a one-line reason on stderr (for cron).",
        ),
    ] = False,
    line: Annotated[
        bool,
        Opt(
            "--line",
            help="One short line for shell prompts and tmux status bars; empty when there is nothing to show.",
        ),
    ] = False,
    json: JsonOption = False,
    home: HomeOption = None,
) -> int:
    """Where the trial stands, week by week.

    Week k of N as a strip, the meetings kept, the skips, the next meeting and the review. Each week
    of the trial is one character (kept, skipped, missed, this week still open, to come), with a
    legend under the strip.

    Examples:

      peerloop status

      peerloop status --json | jq .strip

      peerloop status --check    # in a crontab: silent when on track

      peerloop status --line     # in a shell prompt: "peer: Ann Lee · Tue 08:30"
    """
    from peerloop.reminder import reminder_line

    if check and json:
        raise InputError(
            "--check answers with its exit code and prints nothing; it cannot be combined with --json"
        )
    if line:
        if check or json:
            raise InputError("--line cannot be combined with --check or --json")
        from peerloop.statusline import current_line

        summary = current_line(str(open_store(home).home))
        if summary:
            render.out(summary)
        return EXIT_OK

    current = load_status(open_store(home))
    if check:
        code, reason = check_result(current)
        if reason is not None:
            render.message(reason)
        return code
    if json:
        render.emit_json(status_json(current))
    else:
        for row in status_lines(current):
            render.out(row)
    if current.review_due:
        render.message(reminder_line(current.settings))
    return EXIT_OK


# --- review ------------------------------------------------------------------------------------------------


def load_evidence(store: Store) -> tuple[Roster, Settings, Journal, Evidence]:
    """The trial's journal (and the year before, for the reflections written at its start) and its figures."""
    roster = store.load_roster()
    settings = require_settings(roster)
    today = clock.today(settings.timezone)
    on_disk = set(store.journal_years())
    first = trial_years(settings, today).start
    journal = store.load_journal(year for year in range(first - 1, today.year + 1) if year in on_disk)
    return roster, settings, journal, evidence(roster, settings, journal, today)


def _noted_lines(items: tuple[Noted, ...], empty: str) -> list[str]:
    if not items:
        return [f"    {empty}"]
    return [
        f"    {render.day(item.date)}"
        + (f", {render.safe(item.peer)}" if item.peer else "")
        + f": {render.safe(item.text)}"
        for item in items
    ]


def evidence_lines(found: Evidence, months: int) -> list[str]:
    """The evidence as text, before the review's questions."""
    so_far = found.progress
    span = f"{render.day(found.trial_start)} to {render.day(found.trial_end)}"
    lines = [render.style(f"The review of your {months}-month trial: {span}", "bold")]
    if found.early:
        left = (found.trial_end - found.today).days
        lines.append(render.style(f"An early review: the review date is {_day_count(left)} away.", "yellow"))
    lines += ["", render.style("Process: did the meetings happen?", "bold"), *strip_lines(so_far.strip)]
    kept = so_far.tally(WeekState.KEPT)
    lines.append(
        f"  {kept} of {plural(so_far.planned, 'week')} kept ({plural(found.meetings, 'meeting')}); "
        f"{so_far.tally(WeekState.SKIPPED)} skipped, {so_far.tally(WeekState.MISSED)} missed"
    )
    if found.peers:
        rows = [
            (
                p.name + ("" if p.in_roster else " (left the roster)"),
                p.meetings,
                render.day(p.last_met) if p.last_met else "never",
            )
            for p in found.peers
        ]
        lines += [
            "",
            *("  " + line for line in render.table(("Peer", "Meetings", "Last met"), rows).splitlines()),
        ]
    lines += ["", render.style("Content: what did they give you?", "bold")]
    gains = ", ".join(f"{gain.value} {count}" for gain, count in found.gains)
    lines.append(f"  Gains: {gains} (in {plural(found.meetings, 'meeting')})")
    lines += ["  Wins:", *_noted_lines(found.wins, "none noted")]
    lines += ["  Follow-ups still open:", *_noted_lines(found.follow_ups, "none")]
    lines += ["  What works well, noted after meetings:", *_noted_lines(found.works, "nothing noted")]
    lines += ["  What can be improved, noted after meetings:", *_noted_lines(found.improve, "nothing noted")]
    lines += ["", render.style("Excuses and skips", "bold")]
    excuses = "; ".join(render.safe(excuse) for excuse in found.excuses) or "none listed"
    lines.append(f"  The excuses you listed at the start: {excuses}")
    lines += ["  The reasons you gave for skipped weeks:", *_noted_lines(found.skip_reasons, "no skips")]
    lines += ["", render.style("Your coaching thoughts from the start", "bold")]
    if not found.reflections:
        lines.append("  none recorded (`peerloop reflect`)")
    for reflection in found.reflections:
        lines.append(f"  {render.day(reflection.date)}:")
        lines.append(
            "    People you might contact: " + (", ".join(render.safe(n) for n in reflection.names) or "-")
        )
        if reflection.why:
            lines.append(f"    Why fewer than 4: {render.safe(reflection.why)}")
        lines.append("    Excuses: " + ("; ".join(render.safe(e) for e in reflection.excuses) or "-"))
        if reflection.ceo:
            lines.append(f"    Your CEO might say: {render.safe(reflection.ceo)}")
    return lines


ADDED_VALUE_QUESTION = "Did the peer meetings add value? (yes, partly, no)"
DECISION_QUESTION = (
    "Your decision: continue (a new trial starts today), adjust (a new trial, after changing the roster "
    "or the slot), or stop? (continue, adjust, stop)"
)
ADJUST_HELP = (
    "To adjust: `peerloop add NAME`, `peerloop remove NAME` and `peerloop pause NAME --until DATE` change "
    "the roster; `peerloop init --day DAY --time HH:MM --duration MIN --mode MODE` changes the slot; "
    "`peerloop plan` shows the weeks ahead."
)


def save_review(
    store: Store, review: Review, today: dt.date, report: tuple[Path, str] | None = None
) -> Settings:
    """Write the review and, for continue or adjust, move the trial's start to today: the new settings.

    The report (a file and its Markdown), when asked for, is written in the same change.
    """
    from peerloop.roster import with_settings

    with store.locked(), store.together():
        roster = store.load_roster()
        settings = require_settings(roster)
        updated = next_trial(settings, review.decision, today)
        if updated != settings:
            store.save_roster(with_settings(roster, updated))
        year = store.load_year(today.year)
        saved = review._replace(id=entry_id(today, (entry.id for entry in year.entries())))
        store.save_year(year._replace(reviews=(*year.reviews, saved)))
        if report is not None:  # private to the user like the journal it comes from (mode 0600)
            store.write(report[0].expanduser(), report[1])
    return updated


def review(
    added_value: Annotated[
        str | None, Opt("--added-value", metavar="ANSWER", help="Did this add value? yes, partly or no.")
    ] = None,
    works: Annotated[str | None, Opt("--works", metavar="TEXT", help="What works well.")] = None,
    improve: Annotated[str | None, Opt("--improve", metavar="TEXT", help="What can be improved.")] = None,
    decision: Annotated[
        str | None,
        Opt("--decision", metavar="DECISION", help="continue, adjust (both start a new trial) or stop."),
    ] = None,
    early: Annotated[bool, Opt("--early", help="Review now, before the trial's review date.")] = False,
    report: Annotated[
        Path | None,
        Opt(
            "--report",
            metavar="FILE.md",
            dir_okay=False,
            help="Also write the evidence and your answers to this Markdown file (private, mode 0600).",
        ),
    ] = None,
    json: Annotated[
        bool,
        Opt(
            "--json",
            help="Print the evidence as JSON (with the review, when the answers are given as flags).",
        ),
    ] = False,
    home: HomeOption = None,
) -> None:
    """The six-month review: did it add value?

    First the evidence (meetings kept and skipped, per peer, the gains, wins, open follow-ups,
    your skip reasons beside the excuses you listed at the start). Then the feedback model: what
    works well? what can be improved? Then the decision: continue or adjust (a new trial starts
    today) or stop. `--json` alone prints the evidence and records nothing.

    Examples:

      peerloop review

      peerloop review --added-value partly --works "Tuesdays" --decision adjust

      peerloop review --early --added-value no --decision stop --report review.md

      peerloop review --json
    """
    verdict = (
        parse_flag(added_value, "--added-value", values.parse_verdict) if added_value is not None else None
    )
    choice = parse_flag(decision, "--decision", values.parse_decision) if decision is not None else None
    for flag, text in (("--works", works), ("--improve", improve)):
        entries.check_text(text, flag)  # refused before the evidence is shown, not after
    answering = (
        any(value is not None for value in (added_value, works, improve, decision)) or report is not None
    )
    store = open_store(home)
    _, settings, journal, found = load_evidence(store)
    if json and not answering:
        render.emit_json({**evidence_json(found), "review": None})
        return
    done = review_for(settings, journal.reviews)
    if done is not None:
        raise ConflictError(
            f"you reviewed this trial on {done.date.isoformat()} and decided to {done.decision.value}; "
            "`peerloop init --start YYYY-MM-DD` starts a new trial"
        )
    if found.early and not early:
        raise InputError(
            f"the trial runs until {found.trial_end.isoformat()}, "
            f"{_day_count((found.trial_end - found.today).days)} from now; to review it now, pass --early"
        )
    asking = prompts.interactive() and not json
    if not asking and (verdict is None or choice is None):
        raise MissingValueError(
            "the review needs --added-value (yes, partly, no) and --decision (continue, adjust, stop) "
            "when there is no terminal to ask on (--works and --improve are optional)"
        )
    if not json:
        for line in evidence_lines(found, settings.trial_months):
            render.out(line)
        render.out()
    if asking:
        render.message(
            render.style("The review: what works well? what can be improved?", "bold", stream=None)
        )
    if verdict is None:
        verdict = prompts.ask(ADDED_VALUE_QUESTION, values.parse_verdict, "--added-value")
    if works is None and asking:
        works = prompts.ask_optional("What works well? (Enter to skip)", values.check_utf8)
    if improve is None and asking:
        improve = prompts.ask_optional("What can be improved? (Enter to skip)", values.check_utf8)
    if choice is None:
        choice = prompts.ask(DECISION_QUESTION, values.parse_decision, "--decision")
    recorded = Review(
        id="",
        date=found.today,
        trial_start=settings.trial_start,
        added_value=verdict,
        decision=choice,
        works=entries.check_text(works, "--works"),
        improve=entries.check_text(improve, "--improve"),
        early=found.early,
    )
    written = (report, report_markdown(found, recorded)) if report is not None else None
    updated = save_review(store, recorded, found.today, written)
    say = render.message if json else render.out
    if json:
        from peerloop.review import review_json

        render.emit_json({**evidence_json(found), "review": review_json(recorded)})
    verdict_text = {
        Verdict.YES: "it added value",
        Verdict.PARTLY: "it partly added value",
        Verdict.NO: "it did not add value",
    }
    say(f"Saved your review of {render.day(found.today)}: {verdict_text[verdict]}; decision: {choice.value}.")
    if report is not None:
        say(f"Wrote the evidence and your answers to {report} (readable only by you).")
    if choice is Decision.STOP:
        say(
            f"The loop stops here. Your journal stays in {store.home}; "
            "`peerloop init --start YYYY-MM-DD` starts a new trial if you come back to it."
        )
        return
    say(
        f"A new {updated.trial_months}-month trial starts today: {render.day(updated.trial_start)} to "
        f"{render.day(updated.trial_end)} ({updated.trial_weeks} weeks). `peerloop status` shows where it stands."
    )
    if choice is Decision.ADJUST:
        say(ADJUST_HELP)
