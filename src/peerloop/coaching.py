"""The coaching thoughts as a conversation: asked one at a time on a terminal, saved as one journal entry.

Used by `reflect` and by `init`'s guided set-up. The questions are the method's own (DESIGN.md, point 4),
plus the network's purpose, which the six-month review reads the evidence against.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from peerloop import clock, journal, prompts, values
from peerloop.errors import PeerloopError
from peerloop.models import Peer, Reflection, Roster, Settings, peer_key
from peerloop.output import text
from peerloop.params import parse_flag
from peerloop.roster import FEWEST_PEERS, add_peer
from peerloop.session import Store, require_settings

PURPOSE_QUESTION = "What do you want this network to give you? (why are you doing this, what do you expect)"

WHY_QUESTION = "Are you having trouble getting past 3 names? Why might this be the case?"
CEO_QUESTION = "If you took that list to your CEO, how might they respond?"
REFLECT_FLAGS = "--purpose, --name (repeat for each person), --why, --excuse (repeat), --ceo and --add-names"


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
    purpose: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.names or self.why or self.excuses or self.ceo or self.purpose)


def names_given(items: list[str], flag: str) -> tuple[str, ...]:
    """Cleaned names, each once whatever its case, in the order given."""
    seen: dict[str, str] = {}
    for item in items:
        if item.strip():
            name = parse_flag(item, flag, values.clean_name)
            seen.setdefault(peer_key(name), name)
    return tuple(seen.values())


def texts_given(items: list[str], flag: str) -> tuple[str, ...]:
    return tuple(text for item in items if (text := journal.check_text(item, flag)))


def not_in_roster(roster: Roster, names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(name for name in names if roster.find(name) is None)


def ask_thoughts(roster: Roster) -> Thoughts:
    """The purpose, then coaching thoughts (a) and (b), one question at a time (only on a terminal)."""
    purpose = prompts.ask_optional(f"{PURPOSE_QUESTION} (Enter to skip)", values.check_utf8)
    text.message(
        "(a) Make a list right now of the people you might contact, in your company or at another one."
    )
    if roster.peers:
        text.message(
            "    Already in your roster: " + ", ".join(text.safe(p.name) for p in roster.peers) + "."
        )
    names = names_given(prompts.ask_list("People you might contact"), "a name")
    why = None
    if len(names) < FEWEST_PEERS:
        why = prompts.ask_optional(f"{WHY_QUESTION} (Enter to skip)", values.check_utf8)
    new = not_in_roster(roster, names)
    add_names = bool(new) and prompts.confirm(
        "Add " + ", ".join(text.safe(name) for name in new) + " to your roster?", "--add-names"
    )
    text.message("\n(b) Make a list of all the excuses that would hold you back.")
    excuses = texts_given(prompts.ask_list("Excuses"), "an excuse")
    ceo = prompts.ask_optional(f"{CEO_QUESTION} (Enter to skip)", values.check_utf8) if excuses else None
    return Thoughts(
        names=names,
        why=journal.check_text(why, "--why"),
        excuses=excuses,
        ceo=journal.check_text(ceo, "--ceo"),
        add_names=add_names,
        purpose=journal.check_text(purpose, "--purpose"),
    )


def six_month_test(settings: Settings) -> str:
    """Coaching thought (c): the trial's time limit."""
    start, end = settings.trial_start, settings.trial_end
    return (
        f"(c) Test the process with a time limit: your {settings.trial_months}-month trial runs from "
        f"{text.day(start)} to {text.day(end)} ({settings.trial_weeks} weeks). From {text.day(end)} on, "
        "peerloop asks for the review: did it add value? Then continue, adjust or stop."
    )


def save_thoughts(
    store: Store, thoughts: Thoughts, today: dt.date
) -> tuple[Reflection, tuple[str, ...], Roster]:
    """Write the reflection (and add the listed names if asked) under the lock: (reflection, added, roster)."""
    with store.change():
        roster = store.load_roster()
        added = not_in_roster(roster, thoughts.names) if thoughts.add_names else ()
        if added:
            for name in added:
                roster = add_peer(roster, Peer(name=name, added=today))
            store.save_roster(roster)
        year = store.load_year(today.year)
        reflection = Reflection(
            id=journal.entry_id(today, (entry.id for entry in year.entries())),
            date=today,
            names=thoughts.names,
            why=thoughts.why,
            excuses=thoughts.excuses,
            ceo=thoughts.ceo,
            purpose=thoughts.purpose,
        )
        store.save_year(year._replace(reflections=(*year.reflections, reflection)))
    return reflection, added, roster


def record_thoughts(store: Store, settings: Settings, thoughts: Thoughts) -> None:
    """Save the reflection and say what was done, then coaching thought (c)."""
    today = clock.today(settings.timezone)
    if thoughts.empty:
        text.message("Nothing answered, so nothing was saved.")
        text.out(six_month_test(settings))
        return
    reflection, added, roster = save_thoughts(store, thoughts, today)
    text.out(f"Saved your coaching thoughts of {text.day(today)} in the journal ({reflection.id}).")
    if added:
        listed = ", ".join(text.safe(name) for name in added)
        text.out(f"Added {listed} to the roster ({len(roster.peers)} peers).")
    text.out(six_month_test(settings))
    if added:
        text.warn_roster(roster)


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
        text.message(
            "The coaching thoughts were not saved (your settings are); run `peerloop reflect` later."
        )
        return
    record_thoughts(store, settings, thoughts)
