"""The tables people read, built from the core's records (rich renders them: `text.table`)."""

from __future__ import annotations

from peerloop.core.models import Settings
from peerloop.core.rotation import Slot
from peerloop.output import text


def slot_time(slot: Slot) -> str:
    """'08:30-09:15': the start and end as the leader's clock shows them."""
    return f"{slot.start:%H:%M}-{slot.end:%H:%M}"


def plan_table(slots: list[Slot], settings: Settings) -> str:
    rows = [
        (
            text.day(slot.date),
            slot_time(slot),
            slot.peer.name if slot.peer else "(nobody: every peer is paused)",
            slot.mode.value if slot.peer else "",
            "\n".join(note for note in ("overdue" if slot.overdue else "", slot.note or "") if note),
        )
        for slot in slots
    ]
    return text.table(("Date", f"Time ({settings.timezone})", "Peer", "Mode", ""), rows)
