"""The only place that reads the clock or guesses the machine's zone.

`PEERLOOP_NOW` (an ISO date or date-time) pins "now" for demos, docs and end-to-end tests.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from pathlib import Path

NOW_ENV = "PEERLOOP_NOW"


def pinned() -> dt.datetime | None:
    """`PEERLOOP_NOW` as a date-time (naive: in the leader's zone), None when unset; one clear error line
    when it is not an ISO date or date-time in 1900..9000. Also checked before every commit, so a bad
    value never stops a command after it wrote."""
    value = os.environ.get(NOW_ENV)
    if not value:
        return None
    from peerloop.core.models import EARLIEST_DAY, LATEST_DAY  # the years peerloop keeps

    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        moment = None
    if moment is None or not EARLIEST_DAY <= moment.date() <= LATEST_DAY:
        from peerloop.errors import InputError

        shown = value if value.isprintable() and len(value) <= 40 else f"{value[:40]!r}"
        raise InputError(
            f"{NOW_ENV}={shown} is not an ISO date or date-time between {EARLIEST_DAY.year} and {LATEST_DAY.year} "
            "(such as 2026-04-15T09:00); unset it to use the real clock"
        )
    return moment


def now(zone: str) -> dt.datetime:
    """The current time in `zone` (an IANA name)."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)
    moment = pinned()
    if moment is not None:
        return moment.astimezone(tz) if moment.tzinfo else moment.replace(tzinfo=tz)
    return dt.datetime.now(tz)


def today(zone: str) -> dt.date:
    return now(zone).date()


def local_zone() -> str | None:
    """The machine's IANA zone name, if it can be told: $TZ, else /etc/localtime's link, else /etc/timezone."""
    from peerloop.core.parse.values import check_zone

    candidates = [os.environ.get("TZ", "").lstrip(":")]
    localtime = Path("/etc/localtime")
    if localtime.is_symlink():
        target = str(localtime.resolve())
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    for candidate in candidates:
        if candidate:
            try:
                return check_zone(candidate)
            except ValueError:
                continue
    return None
