"""`peerloop status --line`: one short line for shell prompts and tmux, e.g. `peer: Ann Lee · Tue 08:30`.

A prompt runs it at every command, so its budget is 3x a bare Python start. The line is computed by the
same code as `peerloop status` (the rotation rule lives only in rotation.py) and kept in `.status-line` in
the data folder with what it was computed from: the size and mtime of every data file it read, and the
moment it stops being true (the local midnight that makes the meeting overdue, starts a new week, or makes
the review due). While those hold, printing it costs a few `stat` calls and no imports beyond `os` and `time`.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import datetime as dt

    from peerloop.commands.trial import Status

CACHE_FILE = ".status-line"
CACHE_MAGIC = "peerloop-status-line 1"
NOW_ENV = "PEERLOOP_NOW"


def _stamp(path: str) -> str:
    try:
        info = os.stat(path)
    except OSError:
        return f"stamp {path}\t-"
    return f"stamp {path}\t{info.st_mtime_ns} {info.st_size}"


def cached_line(home: str) -> str | None:
    """The cached line if it is still true, else None (then `current_line` recomputes it)."""
    if os.environ.get(NOW_ENV):
        return None
    try:
        with open(os.path.join(home, CACHE_FILE), encoding="utf-8") as cache:
            lines = cache.read().split("\n")
    except (OSError, UnicodeDecodeError):
        return None
    if len(lines) < 3 or lines[0] != CACHE_MAGIC or not lines[1].startswith("valid-until "):
        return None
    try:
        if time.time() >= float(lines[1].split(" ", 1)[1]):
            return None
    except ValueError:
        return None
    for stamp in lines[3:]:
        if stamp and _stamp(stamp[len("stamp ") :].split("\t", 1)[0]) != stamp:
            return None
    return lines[2][len("line ") :] if lines[2].startswith("line ") else None


def current_line(home: str | None) -> str:
    """The line, from the cache when it still holds, else computed and cached."""
    from peerloop.paths import data_home_text

    folder = data_home_text(home)
    line = cached_line(folder)
    return line if line is not None else _recompute(folder)


def _recompute(folder: str) -> str:
    import contextlib
    import datetime as dt
    from pathlib import Path

    from peerloop import clock, render
    from peerloop.commands.common import check_home
    from peerloop.commands.trial import load_status
    from peerloop.errors import NotSetUpError, StorageError
    from peerloop.storage import Store, atomic_write

    store = Store(check_home(Path(folder)))
    if not store.roster_path.exists():
        return ""
    try:
        status = load_status(store)
    except NotSetUpError:
        return ""
    now = clock.now(status.settings.timezone)
    text, until = line_for(status, now)
    text = render.safe(text)
    if not os.environ.get(NOW_ENV):
        oldest = min([status.settings.trial_start.year, *(peer.added.year for peer in status.roster.peers)])
        watched = [store.roster_path, *(store.year_path(year) for year in range(oldest, now.year + 1))]
        until_utc = until.astimezone(dt.UTC).timestamp()
        lines = [
            CACHE_MAGIC,
            f"valid-until {until_utc:.0f}",
            f"line {text}",
            *(_stamp(str(p)) for p in watched),
        ]
        with contextlib.suppress(StorageError):  # a cache: a read-only folder slows the next prompt, no more
            atomic_write(store.home / CACHE_FILE, "\n".join(lines) + "\n")
    return text


def line_for(status: Status, now: dt.datetime) -> tuple[str, dt.datetime]:
    """The line for `status` at `now`, and the local midnight from which it may no longer be true."""
    import datetime as dt

    from peerloop.rotation import WEEK, week_start

    today = now.date()
    this_week = week_start(today)
    changes = [this_week + WEEK]
    settings, slot = status.settings, status.next
    if status.stopped:
        text = ""
    elif status.review_due:
        text = "review due"
    elif slot is None or slot.peer is None:
        text = "" if slot is None else "peers paused"
    elif slot.overdue:
        text = f"overdue: {slot.peer.name} · {slot.date:%a}"
    else:
        when = (
            "today"
            if slot.date == today
            else f"{slot.date:%a}"
            if slot.week == this_week
            else f"{slot.date:%a %d %b}"
        )
        text = f"peer: {slot.peer.name} · {when} {slot.start:%H:%M}"
        changes.append(slot.date if slot.date > today else slot.date + dt.timedelta(days=1))
    if not status.review_due and settings.trial_end > today:
        changes.append(settings.trial_end)
    midnight = min(day for day in changes if day > today)
    return text, dt.datetime.combine(midnight, dt.time(), tzinfo=now.tzinfo)
