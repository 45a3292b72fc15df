"""`peerloop reflect`: the coaching thoughts, asked and saved."""

from __future__ import annotations

from typing import Annotated

import typer

from peerloop import clock, options, prompts
from peerloop.actions.reflect import save_thoughts
from peerloop.core import journal
from peerloop.core.models import Roster, Thoughts
from peerloop.errors import MissingValueError
from peerloop.output.coaching import REFLECT_FLAGS, ask_thoughts, names_given, say_saved, texts_given
from peerloop.store.session import require_settings


def reflect(
    name: Annotated[
        list[str] | None,
        typer.Option("--name", metavar="NAME", help="A person you might contact (repeat for each)."),
    ] = None,
    why: Annotated[
        str | None,
        typer.Option("--why", metavar="TEXT", help="Why the list has fewer than 4 names, if it has."),
    ] = None,
    excuse: Annotated[
        list[str] | None,
        typer.Option(
            "--excuse", metavar="TEXT", help="An excuse that would hold you back (repeat for each)."
        ),
    ] = None,
    ceo: Annotated[
        str | None,
        typer.Option("--ceo", metavar="TEXT", help="How your CEO might respond to that list of excuses."),
    ] = None,
    add_names: Annotated[
        bool,
        typer.Option(
            "--add-names", help="Add the listed names that are not in the roster yet, without asking."
        ),
    ] = False,
    purpose: Annotated[
        str | None,
        typer.Option(
            "--purpose", metavar="TEXT", help="What you want the network to give you (the review reads it)."
        ),
    ] = None,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes", "-y", help="With --add-names, add even a name that looks like a peer in the roster."
        ),
    ] = False,
) -> None:
    """The coaching thoughts, asked and saved.

    What you want the network to give you, who you might contact, what would hold you back, the
    six-month test. On a terminal it asks one
    question at a time; in a script the flags answer them (any answer flag means nothing is asked).
    The answers are saved, dated, in the journal; the review shows them again at the end of the trial.

    Examples:

      peerloop reflect

      peerloop reflect --name "Ann Lee" --name "Bo Chen" --why "I know few people"

      peerloop reflect --excuse "no time" --excuse "awkward" --ceo "Make time."

      peerloop reflect --purpose "Sparring partners for the reorg"
    """
    store = options.store()
    roster = store.load_roster()
    settings = require_settings(roster)
    if any(value for value in (name, why, excuse, ceo, purpose)):
        thoughts = Thoughts(
            names=names_given(name or [], "--name"),
            why=journal.check_text(why, "--why"),
            excuses=texts_given(excuse or [], "--excuse"),
            ceo=journal.check_text(ceo, "--ceo"),
            add_names=add_names,
            purpose=journal.check_text(purpose, "--purpose"),
        )
    elif prompts.interactive():
        thoughts = ask_thoughts(roster)
    else:
        raise MissingValueError(
            f"reflect asks its questions on a terminal; in a script, answer with {REFLECT_FLAGS}"
        )
    if thoughts.empty:
        say_saved(None, (), roster, settings)
        return
    if thoughts.add_names:
        thoughts = thoughts._replace(kept_out=_look_alikes_declined(roster, thoughts.names, yes))
    saved = save_thoughts(store, thoughts, clock.today(settings.timezone))
    say_saved(saved.reflection, saved.added, saved.roster, settings)


def _look_alikes_declined(roster: Roster, names: tuple[str, ...], yes: bool) -> tuple[str, ...]:
    """The new names that look like a peer already in the roster ('ann' beside Ann Lee) and were not
    confirmed: the reflection keeps them, the roster does not get them."""
    from peerloop.core.roster import resembling

    declined = []
    for name in names:
        like = resembling(roster, name)
        if like is not None and not prompts.new_name_confirmed(name, like.name, yes):
            declined.append(name)
    return tuple(declined)
