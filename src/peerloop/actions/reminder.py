"""The review raised by the tool: whether it is due, asked after every command (the CLI says it on stderr).

Cheap by design, because it runs after every command: the roster is read (a review that decided to stop
is marked there), and the journal only when the trial's end date has passed, and then only the trial's
own years, however long the review is overdue. Its own read errors count as "not due": the command itself
reports a damaged file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from peerloop.errors import PeerloopError

if TYPE_CHECKING:
    from peerloop.core.models import Settings
    from peerloop.store.records import Store


def due_review(store: Store) -> Settings | None:
    """The settings of the trial whose review is due (end date passed, no review of it), else None."""
    from peerloop import clock
    from peerloop.core.trial import review_due
    from peerloop.store.session import trial_journal

    try:
        settings = store.load_roster().settings
        if settings is None or settings.stopped_on is not None:
            return None
        today = clock.today(settings.timezone)
        if today < settings.trial_end:
            return None
        return (
            settings if review_due(settings, trial_journal(store, settings, today).reviews, today) else None
        )
    except (PeerloopError, OSError, ValueError):
        return None
