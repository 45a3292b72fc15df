"""Every `--json` shape, in one place: what scripts may rely on (documented in docs/guide.md and docs/review.md).

Dates are ISO strings; every control character a terminal could obey is a \\u escape.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections.abc import Sequence
from typing import Any

from peerloop.core.journal import handle
from peerloop.core.models import Entry, Meeting, Peer, Reflection, Review, Skip, Touch
from peerloop.core.rotation import Slot
from peerloop.core.trial import Evidence, Noted, Progress, Status, WeekState, strip_text

_RAW_IN_JSON = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""What json.dumps leaves raw but a terminal may obey: DEL, C1 controls, line separators, bidi overrides."""


def emit_json(data: Any) -> None:
    """JSON for scripts; read on a terminal it is harmless too (every control character is a \\u escape)."""
    text = json.dumps(data, indent=2, ensure_ascii=False, default=_json_default)
    sys.stdout.write(_RAW_IN_JSON.sub(lambda found: f"\\u{ord(found[0]):04x}", text) + "\n")


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def slot_json(slot: Slot) -> dict[str, Any]:
    return {
        "week": slot.week,
        "date": slot.date,
        "start": slot.start.isoformat(),
        "end": slot.end.isoformat(),
        "peer": slot.peer.name if slot.peer else None,
        "email": slot.peer.email if slot.peer else None,
        "mode": slot.mode.value,
        "overdue": slot.overdue,
        "moved_from": slot.moved_from.isoformat() if slot.moved_from else None,
        "note": slot.note,
    }


def peer_json(peer: Peer, today: dt.date) -> dict[str, Any]:
    """A peer as scripts see it; a pause that has ended is no pause (`paused_until` null)."""
    return {
        "name": peer.name,
        "email": peer.email,
        "org": peer.org,
        "mode": peer.mode.value if peer.mode else None,
        "note": peer.note,
        "added": peer.added,
        "paused_until": peer.paused_until if peer.paused_until and peer.paused_until > today else None,
    }


def entry_json(entry: Entry) -> dict[str, Any]:
    """One history entry for scripts: id, kind, date, then every field of its kind, then `replaced`: the
    versions another device wrote at the same time, kept beside the newer one (each with its `changed` and
    the fields in which it differed)."""
    kept = [{"changed": r.changed, "fields": dict(r.fields)} for r in entry.replaced]
    return {**_fields_json(entry), "replaced": kept}


def _fields_json(entry: Entry) -> dict[str, Any]:
    if isinstance(entry, Meeting):
        return {
            "id": entry.id,
            "kind": "meeting",
            "date": entry.date,
            "peer": entry.peer,
            "mode": entry.mode.value,
            "issue": entry.issue,
            "gains": [gain.value for gain in entry.gains],
            "win": entry.win,
            "works": entry.works,
            "improve": entry.improve,
            "follow_ups": [
                {"handle": handle(entry, item), "n": item.n, "text": item.text, "done": item.done}
                for item in entry.follow_ups
            ],
            "note": entry.note,
        }
    if isinstance(entry, Skip):
        return {
            "id": entry.id,
            "kind": "skip",
            "date": entry.date,
            "peer": entry.peer,
            "reason": entry.reason,
        }
    if isinstance(entry, Touch):
        return {"id": entry.id, "kind": "touch", "date": entry.date, "peer": entry.peer, "note": entry.note}
    if isinstance(entry, Reflection):
        return {"id": entry.id, "kind": "reflection", **reflection_json(entry)}
    return {"id": entry.id, "kind": "review", **review_json(entry)}


def _noted_json(items: Sequence[Noted]) -> list[dict[str, Any]]:
    return [{"date": item.date, "peer": item.peer, "text": item.text} for item in items]


def _tallies(so_far: Progress) -> dict[str, int]:
    """How many weeks so far were kept, skipped, missed, paused and open, in that order."""
    return {state.value: so_far.tally(state) for state in WeekState if state is not WeekState.TO_COME}


def reflection_json(reflection: Reflection) -> dict[str, Any]:
    return {
        "date": reflection.date,
        "names": list(reflection.names),
        "why": reflection.why,
        "excuses": list(reflection.excuses),
        "ceo": reflection.ceo,
        "purpose": reflection.purpose,
    }


def review_json(review: Review) -> dict[str, Any]:
    return {
        "date": review.date,
        "trial_start": review.trial_start,
        "added_value": review.added_value.value,
        "works": review.works,
        "improve": review.improve,
        "decision": review.decision.value,
        "early": review.early,
    }


def evidence_json(found: Evidence) -> dict[str, Any]:
    """The shape `peerloop review --json` prints (documented in docs/review.md)."""
    so_far = found.progress
    return {
        "trial": {
            "start": found.trial_start,
            "end": found.trial_end,
            "weeks": so_far.weeks,
            "week": so_far.week,
            "today": found.today,
            "early": found.early,
        },
        "weeks": {
            "so_far": so_far.planned,
            **_tallies(so_far),
            "strip": strip_text(so_far.strip),
        },
        "meetings": found.meetings,
        "skips": found.skips,
        "peers": [
            {"name": p.name, "meetings": p.meetings, "last_met": p.last_met, "in_roster": p.in_roster}
            for p in found.peers
        ],
        "gains": {gain.value: count for gain, count in found.gains},
        "wins": _noted_json(found.wins),
        "follow_ups": _noted_json(found.follow_ups),
        "works": _noted_json(found.works),
        "improve": _noted_json(found.improve),
        "skip_reasons": _noted_json(found.skip_reasons),
        "excuses": list(found.excuses),
        "reflections": [reflection_json(r) for r in found.reflections],
        "touches": [{"name": c.name, "count": c.meetings, "last": c.last_met} for c in found.touches],
        "purpose": found.purpose,
    }


def status_json(status: Status, check: tuple[int, str | None]) -> dict[str, Any]:
    """The shape `peerloop status --json` prints (documented in docs/review.md)."""
    so_far = status.progress
    code, reason = check
    return {
        "today": status.today,
        "trial": {
            "start": status.settings.trial_start,
            "end": status.settings.trial_end,
            "week": so_far.week,
            "weeks": so_far.weeks,
        },
        "strip": strip_text(so_far.strip),
        "weeks": [{"week": w.number, "monday": w.monday, "state": w.state.value} for w in so_far.so_far],
        "planned": so_far.planned,
        **_tallies(so_far),
        "meetings": len(so_far.meetings),
        "skips": [{"date": s.date, "peer": s.peer, "reason": s.reason} for s in so_far.skips],
        "next": slot_json(status.next) if status.next is not None and not status.stopped else None,
        "overdue": status.overdue,
        "review": {
            "date": status.settings.trial_end,
            "due": status.review_due,
            "done": status.reviewed.date if status.reviewed else None,
            "decision": status.reviewed.decision.value if status.reviewed else None,
        },
        "check": {"code": code, "reason": reason},
    }
