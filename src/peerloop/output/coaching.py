"""The coaching thoughts as a conversation: the method's questions (DESIGN.md, point 4) asked one at a time on
a terminal, plus the network's purpose, which the six-month review reads the evidence against; and what is
said once they are saved. Used by `reflect` and by `init`'s guided set-up."""

from __future__ import annotations

from peerloop import prompts
from peerloop.core import journal
from peerloop.core.models import Reflection, Roster, Settings, Thoughts, peer_key
from peerloop.core.parse import parse_flag, values
from peerloop.core.roster import FEWEST_PEERS
from peerloop.inert import safe
from peerloop.output import text
from peerloop.output.messages import TROUBLE_QUESTION, warn_roster

PURPOSE_QUESTION = "What do you want this network to give you? (why are you doing this, what do you expect)"
CEO_QUESTION = "If you took that list to your CEO, how might they respond?"
REFLECT_FLAGS = "--purpose, --name (repeat for each person), --why, --excuse (repeat), --ceo and --add-names"


def names_given(items: list[str], flag: str) -> tuple[str, ...]:
    """Cleaned names, each once whatever its case, in the order given."""
    seen: dict[str, str] = {}
    for item in items:
        if item.strip():
            name = parse_flag(item, flag, values.clean_name)
            seen.setdefault(peer_key(name), name)
    return tuple(seen.values())


def texts_given(items: list[str], flag: str) -> tuple[str, ...]:
    return tuple(answer for item in items if (answer := journal.check_text(item, flag)))


def ask_thoughts(roster: Roster) -> Thoughts:
    """The purpose, then coaching thoughts (a) and (b), one question at a time (only on a terminal)."""
    purpose = prompts.ask_optional(f"{PURPOSE_QUESTION} (Enter to skip)", values.check_utf8)
    text.message(
        "(a) Make a list right now of the people you might contact, in your company or at another one."
    )
    if roster.peers:
        text.message("    Already in your roster: " + ", ".join(safe(p.name) for p in roster.peers) + ".")
    names = names_given(prompts.ask_list("People you might contact"), "a name")
    why = None
    if len(names) < FEWEST_PEERS:
        why = prompts.ask_optional(f"{TROUBLE_QUESTION} (Enter to skip)", values.check_utf8)
    new = tuple(name for name in names if roster.find(name) is None)
    add_names = bool(new) and prompts.confirm(
        "Add " + ", ".join(safe(name) for name in new) + " to your roster?", "--add-names"
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
        f"{text.day(start)} to {text.day(settings.counted_until)} ({settings.trial_weeks} weeks). "
        f"From {text.day(end)} on, "
        "peerloop asks for the review: did it add value? Then continue, adjust or stop."
    )


def say_saved(
    reflection: Reflection | None, added: tuple[str, ...], roster: Roster, settings: Settings
) -> None:
    """What was saved (nothing, when nothing was answered), then coaching thought (c)."""
    if reflection is None:
        text.message("Nothing answered, so nothing was saved.")
    else:
        text.out_wrapped(
            f"Saved your coaching thoughts of {text.day(reflection.date)} in the journal ({reflection.id})."
        )
    if added:
        listed = ", ".join(safe(name) for name in added)
        text.out_wrapped(f"Added {listed} to the roster ({len(roster.peers)} peers).")
    text.out_wrapped(six_month_test(settings))
    if added:
        warn_roster(roster)
