"""The review raised by the tool: a one-line reminder, shown on stderr after any command once it is due.

Cheap by design, because it runs after every command: the roster is read (a review that decided to stop
is marked there), and the journal only when the trial's end date has passed, and then only the trial's
own years, however long the review is overdue. Its own read errors are swallowed: the command itself
reports a damaged file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from peerloop.errors import PeerloopError

if TYPE_CHECKING:
    from peerloop.models import Settings
    from peerloop.session import Store

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
    from peerloop.params import opened

    if command in SILENT or not opened:
        return
    line = review_reminder(opened[0])
    if line is not None:
        from peerloop.output import text

        text.message(line)


def review_reminder(store: Store) -> str | None:
    """The reminder line when the review is due (end date passed, no review of this trial), else None."""
    try:
        return _due(store)
    except (PeerloopError, OSError, ValueError):
        return None


def _due(store: Store) -> str | None:
    from peerloop import clock
    from peerloop.session import trial_journal
    from peerloop.trial import review_due

    settings = store.load_roster().settings
    if settings is None or settings.stopped_on is not None:
        return None
    today = clock.today(settings.timezone)
    if today < settings.trial_end:
        return None
    due = review_due(settings, trial_journal(store, settings, today).reviews, today)
    return reminder_line(settings) if due else None
