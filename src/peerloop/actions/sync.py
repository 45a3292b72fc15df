"""`peerloop sync` as a use case: the plan's events, what the server holds, the actions between them, and
the record of what the server accepted. The network is only touched through `connect.caldav`.

The record lives in calendar.toml (table `caldav`: the calendar's URL, when it was last synced, and per
UID the href, ETag and content digest the server accepted), beside the SEQUENCE state the `.ics` export
shares: one set of UIDs whether the leader imports a file or syncs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from peerloop.core.calendar.reconcile import (
    SENDS,
    Action,
    Applied,
    Desired,
    Kind,
    Recorded,
    Refused,
    Remote,
    record_after,
)
from peerloop.core.calendar.state import CalendarState
from peerloop.errors import PeerloopError, UnreachableError

KEY = "caldav"


class Result(NamedTuple):
    actions: list[Action]
    accepted: list[Applied]
    refused: list[Refused]
    stopped: BaseException | None
    """What ended the sync early (a server error, a dropped connection, Ctrl-C), if anything did."""

    @property
    def complete(self) -> bool:
        return self.stopped is None and not self.refused

    def count(self, kind: Kind) -> int:
        return sum(1 for action in self.actions if action.kind is kind)

    @property
    def cancelled(self) -> int:
        return sum(
            1 for a in self.actions if a.kind is Kind.UPDATE and a.ics and b"STATUS:CANCELLED" in a.ics
        )


def recorded_from(state: CalendarState, url: str) -> dict[str, Recorded]:
    """What the last sync to `url` recorded (a sync to another calendar starts afresh)."""
    table = state.extra.get(KEY)
    if (
        not isinstance(table, Mapping)
        or table.get("url") != url
        or not isinstance(table.get("events"), Mapping)
    ):
        return {}
    found = {}
    for uid, item in table["events"].items():
        if isinstance(item, Mapping) and all(
            isinstance(item.get(k), str) for k in ("href", "etag", "digest")
        ):
            found[str(uid)] = Recorded(item["href"], item["etag"], item["digest"])
    return found


def with_record(
    state: CalendarState, url: str, recorded: Mapping[str, Recorded], synced_at: dt.datetime | None
) -> CalendarState:
    previous = state.extra.get(KEY)
    table: dict[str, Any] = {
        "url": url,
        "synced_at": synced_at or (previous.get("synced_at") if isinstance(previous, Mapping) else None),
        "events": {
            uid: {"href": r.href, "etag": r.etag, "digest": r.digest} for uid, r in sorted(recorded.items())
        },
    }
    return state._replace(extra={**state.extra, KEY: {k: v for k, v in table.items() if v is not None}})


def desired_from(documents: Iterable[tuple[str, bytes]], state: CalendarState) -> dict[str, Desired]:
    """Each event document with the content digest the SEQUENCE state keeps for it."""
    return {uid: Desired(data, state.events[uid].digest) for uid, data in documents}


def in_scope(uid: str, desired: Mapping[str, Desired], state: CalendarState, today: dt.date) -> bool:
    """Events peerloop may still change: planned ones, and ones of its own whose date is ahead. A past
    meeting stays in the leader's calendar as it happened, whatever the plan says now."""
    if uid in desired:
        return True
    record = state.events.get(uid)
    return record is not None and record.start >= today


def apply(
    send: Callable[[list[Action]], Iterable[Applied | Refused]],
    actions: list[Action],
    on_step: Callable[[], None],
) -> Result:
    """Send the actions one by one; whatever stops it half-way, the result says exactly what was accepted."""
    accepted: list[Applied] = []
    refused: list[Refused] = []
    stopped: BaseException | None = None
    try:
        for answer in send([action for action in actions if action.kind in SENDS]):
            (accepted if isinstance(answer, Applied) else refused).append(answer)  # type: ignore[arg-type]
            on_step()
    except (PeerloopError, KeyboardInterrupt) as error:
        stopped = error
    except OSError as error:
        stopped = UnreachableError(f"the connection failed: {error.strerror or error}")
    return Result(actions, accepted, refused, stopped)


def recorded_after(recorded: Mapping[str, Recorded], result: Result) -> dict[str, Recorded]:
    return record_after(recorded, result.actions, [*result.accepted, *result.refused])


def plan_scope(
    desired: Mapping[str, Desired],
    recorded: Mapping[str, Recorded],
    remote: Mapping[str, Remote],
    state: CalendarState,
    today: dt.date,
) -> tuple[dict[str, Recorded], dict[str, Remote]]:
    """The recorded and remote views narrowed to the events peerloop may still change."""
    keep = {uid for uid in recorded.keys() | remote.keys() if in_scope(uid, desired, state, today)}
    return ({u: r for u, r in recorded.items() if u in keep}, {u: r for u, r in remote.items() if u in keep})
