"""Reading just the journal years a command needs, so weekly commands cost the same after ten years."""

from __future__ import annotations

import datetime as dt

from peerloop import rotation
from peerloop.models import Journal, JournalYear, Roster, peer_key
from peerloop.storage import Store


def recent_journal(store: Store, roster: Roster, today: dt.date) -> Journal:
    """The years back from today until every roster peer's last meeting is found.

    A peer's meetings cannot predate the year they were added, so the walk back stops there: usually
    this year alone (and last year in January), whatever the length of the history.
    """
    on_disk = [year for year in store.journal_years() if year <= today.year]
    wanted = {peer.key: peer.added.year for peer in roster.peers}
    oldest_needed = rotation.week_start(today).year
    loaded: list[JournalYear] = []
    for year in reversed(on_disk):
        if year < oldest_needed and all(added > year for added in wanted.values()):
            break
        journal_year = store.load_year(year)
        loaded.append(journal_year)
        for meeting in journal_year.meetings:
            wanted.pop(peer_key(meeting.peer), None)
    return Journal(years=tuple(reversed(loaded)))
