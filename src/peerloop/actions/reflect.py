"""Saving the coaching thoughts: one reflection in the journal, and (when asked) the names listed added to
the roster, in one transaction."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from peerloop.core import ids, journal
from peerloop.core.models import Peer, Reflection, Roster, Thoughts
from peerloop.core.roster import add_peer
from peerloop.store.records import Store


class Saved(NamedTuple):
    reflection: Reflection
    added: tuple[str, ...]
    """The names added to the roster."""
    roster: Roster


def save_thoughts(store: Store, thoughts: Thoughts, today: dt.date) -> Saved:
    """Write the reflection (and add the listed names if asked) under the lock."""
    with store.change():
        roster = store.load_roster()
        asked = thoughts.names if thoughts.add_names else ()
        added = tuple(name for name in asked if roster.find(name) is None and name not in thoughts.kept_out)
        if added:
            for name in added:
                roster = add_peer(roster, Peer(name=name, added=today))
            store.save_roster(roster)
        year = store.load_year(today.year)
        reflection = Reflection(
            id=ids.new_id(year, today, store.folder.device),
            date=today,
            names=thoughts.names,
            why=thoughts.why,
            excuses=thoughts.excuses,
            ceo=thoughts.ceo,
            purpose=thoughts.purpose,
        )
        store.save_year(journal.add_entry(year, reflection))
    return Saved(reflection, added, roster)
