"""The sentences peerloop says in more than one place, said once here (a message used in one place stays
beside the code that says it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from peerloop.core.models import Roster, Settings

NO_PEERS = "No peers yet: add the 4 to 5 people you want to meet with `peerloop add NAME`."
TROUBLE_QUESTION = "Are you having trouble getting past 3 names? Why might this be the case?"
NEW_TRIAL = "`peerloop init --start DATE` starts a new trial"


def stopped(settings: Settings) -> str:
    """What `next`, `plan`, `status` and a bare `log` say once a review decided to stop."""
    from peerloop.output.text import day

    when = f" on {day(settings.stopped_on)}" if settings.stopped_on else ""
    return f"You stopped the trial{when}: no meeting is planned. {NEW_TRIAL}."


def cancellation_sent(name: str, what: str, how: str) -> str:
    """After `remove`, `pause` or `review` e-mailed a peer the cancellation of what they were sent."""
    from peerloop.inert import safe

    return f"Sent {safe(name)} a cancellation of {what} via {how}."


def roster_warning(count: int, ask: bool = False) -> str | None:
    """The method's nudge when the roster is outside 4 to 5 peers (counted whether paused or not). The
    coaching question about a short list is asked once, by the setup (`ask`), not after every `add`."""
    from peerloop.core.roster import FEWEST_PEERS, MOST_PEERS

    if count == 0:
        return NO_PEERS
    if count < FEWEST_PEERS:
        said = f"{count} peer{'s' if count > 1 else ''} in the roster"
        return f"{said}. {TROUBLE_QUESTION}" if ask else f"{said}; the method suggests 4 to 5."
    if count > MOST_PEERS:
        return (
            f"{count} peers: each is seen every {count} weeks, less often than every {MOST_PEERS}. "
            "The method suggests 4 to 5."
        )
    return None


def reminder_line(settings: Settings) -> str:
    """The review raised by the tool, after any command once it is due (and by `status`)."""
    from peerloop.output.text import day

    return (
        f"peerloop: your {settings.trial_months}-month trial ended on {day(settings.counted_until)}: "
        "run `peerloop review` to decide whether to continue, adjust or stop."
    )


def warn_roster(roster: Roster, ask: bool = False) -> None:
    """The method's 4-to-5 nudge, about the roster itself (a deliberate pause is not a roster problem)."""
    from peerloop.output.text import warn

    warning = roster_warning(len(roster.peers), ask)
    if warning:
        warn(warning)
