"""Busy time from the leader's own calendars, cached in the data folder (`busy.toml`), and the plan's slots
moved around it. Fetching is explicit (`sync`, `plan --refresh`, `next --refresh`); every other command reads
the cache, so the weekly commands stay instant and work offline (docs/calendar.md). Nothing of a busy event is
ever exported or sent to a peer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

from peerloop.errors import DataFileError, PeerloopError

if TYPE_CHECKING:  # `next` and `plan` import this module on every run: the rest only when busy time is cached
    from peerloop.core.connections import Connections
    from peerloop.core.freetime import Busy
    from peerloop.core.rotation import Slot
    from peerloop.store.records import Store
    from peerloop.store.session import Session

WINDOW = dt.timedelta(weeks=27)
OLD = dt.timedelta(days=1)


class Cache(NamedTuple):
    refreshed_at: dt.datetime
    busy: list[Busy]


def read_cache(store: Store) -> Cache | None:
    """The cached busy time, or None when nothing was fetched yet."""
    from peerloop.core import freetime
    from peerloop.store.codecs.toml import parse

    path = store.busy_path
    text = store.folder.read(path)
    if text is None:
        return None
    data = parse(text, path)
    refreshed = data.get("refreshed_at")
    try:
        if not isinstance(refreshed, dt.datetime) or refreshed.tzinfo is None:
            raise ValueError("'refreshed_at' must be a date-time with its offset")
        return Cache(refreshed, freetime.busy_from_toml(data.get("busy", [])))
    except ValueError as error:
        raise DataFileError(
            f"{path}: {error}; delete it, `peerloop plan --refresh` fetches the busy times again"
        ) from None


def placed(
    session: Session, slots: Iterable[Slot], connections: Connections, cache: Cache | None
) -> list[Slot]:
    """The slots, each moved to free time of the same length in its week when busy time covers it."""
    from zoneinfo import ZoneInfo

    from peerloop.core import freetime

    if cache is None or not cache.busy:
        return list(slots)
    zone = ZoneInfo(session.settings.timezone)
    hours = connections.free_time
    result = []
    for slot in slots:
        if slot.peer is None or slot.start <= session.now:  # a slot already past stays where it was
            result.append(slot)
            continue
        where = freetime.place(slot.start, slot.end, cache.busy, hours, zone, not_before=session.now)
        if where.moved_from is not None:
            result.append(slot._replace(start=where.start, end=where.end, moved_from=where.moved_from,
                                        note=where.reason))  # fmt: skip
        elif where.no_free_time:
            result.append(slot._replace(note=where.reason))
        else:
            result.append(slot)
    return result


def refresh(store: Store, session: Session, connections: Connections) -> tuple[int, list[str], list[str]]:
    """Fetch busy time from the connected calendar and every feed, and cache it (one transaction).

    A source that fails is one line in the first returned list, and the last good cache is kept whole; what
    a source left out (a series repeating too often, busy times past the cap) is one line in the second.
    """
    from zoneinfo import ZoneInfo

    from peerloop.connect import feeds, redacted
    from peerloop.core import freetime
    from peerloop.store.codecs.toml import dump_toml

    zone = ZoneInfo(session.settings.timezone)
    start = dt.datetime.combine(session.today - dt.timedelta(days=session.today.weekday()), dt.time(), zone)
    end = start + WINDOW
    keep = connections.free_time.keep_summaries
    found: list[freetime.Busy] = []
    failures: list[str] = []
    notes: list[str] = []
    for feed in connections.busy:
        try:
            data = feeds.load_feed(feed.source, feed.ca_file)
            found += feeds.from_ics(data, start, end, zone, session.settings.email, keep,
                                   source=redacted(feed.source), notes=notes)  # fmt: skip
        except PeerloopError as error:
            failures.append(error.message)
    if connections.caldav is not None:  # the connected calendar failing is the command's own error
        from peerloop.connect.caldav import open_connected

        connected: list[freetime.Busy] = []
        with open_connected(connections.caldav) as calendar:
            for data in calendar.events_between(start, end, exclude_uid_prefix="peerloop-"):
                connected += feeds.from_ics(data, start, end, zone, session.settings.email, keep,
                                           source="the connected calendar", notes=notes)  # fmt: skip
        found += feeds.capped(connected, zone, "the connected calendar", notes)
    if failures:
        return 0, failures, []
    text = "# peerloop busy-time cache: start and end of busy events (refetched by `peerloop sync`).\n"
    table = {"refreshed_at": session.now, "busy": freetime.busy_to_toml(found) or None}
    with store.change():
        store.save_busy(text + dump_toml(table))
    return len(found), [], notes


class Respected(NamedTuple):
    slots: list[Slot]
    notes: list[str]
    """What the person is told on stderr: what was fetched, a source that failed, a cache grown old."""


def respected(session: Session, slots: list[Slot], refresh_first: bool = False) -> Respected:
    """The slots as the leader's busy time leaves them: cached busy time (fetched first when asked), or the
    slots as they are when there is none, with a note when the cache is more than a day old."""
    store = session.store
    if not refresh_first and not store.busy_path.exists():
        return Respected(slots, [])
    found = store.connections()
    notes = []
    if refresh_first:
        if not found.busy and found.caldav is None:
            raise PeerloopError(
                "nothing to refresh: `peerloop connect busy FILE-OR-URL` or `connect caldav` first"
            )
        count, failures, left_out = refresh(store, session, found)
        notes += [f"warning: {failure} (the last busy times are kept)" for failure in failures]
        notes += [f"warning: {line}" for line in left_out]
        if not failures:
            notes.append(f"Fetched {count} busy time{'s' if count != 1 else ''} from your calendars.")
    try:
        cache = read_cache(store)
    except DataFileError as damaged:  # a weekly command plans on without it; `doctor` reports it
        notes.append(f"warning: {damaged.message} (planned without busy times this time)")
        return Respected(slots, notes)
    if cache is not None and session.now - cache.refreshed_at >= OLD:
        days = (session.now - cache.refreshed_at).days
        notes.append(f"peerloop: busy times are {days} day{'s' if days != 1 else ''} old; `peerloop sync` or "
                     "`peerloop plan --refresh` fetches them again")  # fmt: skip
    return Respected(placed(session, slots, found, cache), notes)
