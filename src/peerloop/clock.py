"""The only place that reads the clock or guesses the machine's zone.

`PEERLOOP_NOW` (an ISO date or date-time) pins "now" for demos, docs and end-to-end tests.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from pathlib import Path

NOW_ENV = "PEERLOOP_NOW"


def now(zone: str) -> dt.datetime:
    """The current time in `zone` (an IANA name)."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)
    pinned = os.environ.get(NOW_ENV)
    if pinned:
        try:
            moment = dt.datetime.fromisoformat(pinned)
        except ValueError:
            from peerloop.errors import InputError

            raise InputError(f"{NOW_ENV}={pinned!r} is not an ISO date or date-time; unset it") from None
        return moment.astimezone(tz) if moment.tzinfo else moment.replace(tzinfo=tz)
    return dt.datetime.now(tz)


def today(zone: str) -> dt.date:
    return now(zone).date()


def local_zone() -> str | None:
    """The machine's IANA zone name, if it can be told: $TZ, else /etc/localtime's link, else /etc/timezone."""
    from peerloop.values import check_zone

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
