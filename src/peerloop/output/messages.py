"""The sentences peerloop says in more than one place, said once here (a message used in one place stays
beside the code that says it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from peerloop.core.models import Settings

NO_PEERS = "No peers yet: add the 4 to 5 people you want to meet with `peerloop add NAME`."
TROUBLE_QUESTION = "Are you having trouble getting past 3 names? Why might this be the case?"
NEW_TRIAL = "`peerloop init --start DATE` starts a new trial"


def reminder_line(settings: Settings) -> str:
    """The review raised by the tool, after any command once it is due (and by `status`)."""
    from peerloop.output.text import day

    return (
        f"peerloop: your {settings.trial_months}-month trial ended on {day(settings.trial_end)}: "
        "run `peerloop review` to decide whether to continue, adjust or stop."
    )
