"""The review raised by the tool: a one-line reminder, shown on stderr after any command once it is due.

Cheap by design, because it runs after every command: the roster is read, and the journal only when the
trial's end date has passed, and then only the years from the end date's year on (the years before are
read only in the rare case where no review is found there, for an early review that decided to stop).
Its own read errors are swallowed: the command itself reports a damaged file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from peerloop.errors import PeerloopError

if TYPE_CHECKING:
    from peerloop.models import Review, Settings
    from peerloop.storage import Store

SILENT = frozenset({"review", "status"})
"""Commands that do not get the reminder: `review` is the answer to it, `status` reports it itself."""


def reminder_line(settings: Settings) -> str:
    end = settings.trial_end
    return (
        f"peerloop: your {settings.trial_months}-month trial ended on {end:%a} {end.isoformat()}: "
        "run `peerloop review` to decide whether to continue, adjust or stop."
    )


def remind(command: str) -> None:
    """After a command ran: print the reminder on stderr when the review is due. Never fails."""
    from peerloop.commands.common import opened

    if command in SILENT or not opened:
        return
    line = review_reminder(opened[0])
    if line is not None:
        from peerloop import render

        render.message(line)


def review_reminder(store: Store) -> str | None:
    """The reminder line when the review is due (end date passed, no review of this trial), else None."""
    try:
        return _due(store)
    except (PeerloopError, OSError, ValueError):
        return None


def _due(store: Store) -> str | None:
    from peerloop import clock
    from peerloop.review import review_due

    settings = store.load_roster().settings
    if settings is None:
        return None
    today = clock.today(settings.timezone)
    if today < settings.trial_end:
        return None
    on_disk = store.journal_years()

    def reviews(years: list[int]) -> list[Review]:
        return [review for year in years for review in store.load_year(year).reviews]

    if not review_due(settings, reviews([y for y in on_disk if y >= settings.trial_end.year]), today):
        return None
    earlier = [y for y in on_disk if settings.trial_start.year <= y < settings.trial_end.year]
    if earlier and not review_due(settings, reviews(earlier), today):
        return None
    return reminder_line(settings)
