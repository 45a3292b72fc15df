"""`peerloop status --line`: one short line for shell prompts and tmux, e.g. `peer: Ann Lee · Tue 08:30`.

A prompt runs it at every command, so it is answered before Typer loads (`__main__`), from a cache that knows
when it is stale (docs/performance.md). What it prints is made inert: no byte a terminal would obey. In an
encrypted folder the line is "locked" unless the passphrase is in the environment (a prompt never asks, nor
runs a password command), and no cache is kept: the line names a peer.
"""

from __future__ import annotations

import io
import os
import sys
import time
import zlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import datetime as dt

    from peerloop.core.trial import Status

CACHE_FILE = ".status-line"
CACHE_MAGIC = "peerloop-status-line 2"
NOW_ENV = "PEERLOOP_NOW"
ENCRYPTION_FILE = "encryption.toml"
PASSPHRASE_ENV = "PEERLOOP_PASSPHRASE"
"""store.layout's and store.sealed's names, repeated so that a locked folder costs no more imports."""


def _checksum(path: str) -> str:
    try:
        with open(path, "rb") as data:
            return f"{zlib.crc32(data.read()):08x}"
    except OSError:
        return "-"


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
    if not lines[2].startswith("line "):
        return None
    try:
        if time.time() >= float(lines[1].removeprefix("valid-until ")):
            return None
    except ValueError:
        return None
    for stamp in lines[3:]:
        path, _, checksum = stamp[len("file ") :].rpartition("\t")
        if stamp and (not stamp.startswith("file ") or _checksum(path) != checksum):
            return None
    from peerloop.inert import safe  # the cache is a file anyone in the folder could edit

    return safe(lines[2][len("line ") :])


def forget(home: str) -> None:
    """Drop the cache (a folder just encrypted keeps none: the line names a peer)."""
    import contextlib

    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.path.join(home, CACHE_FILE))


def print_line(home: str | None) -> int:
    """`status --line` before Typer: the line (or nothing), exit 0; a problem is one error line, reported by
    the one place every command's failures go through (imported only then: the prompt stays lean)."""
    try:
        line = current_line(home)
        if line and isinstance(sys.stdout, io.TextIOWrapper):  # None when stdout is closed: nothing to show
            sys.stdout.reconfigure(errors="replace")  # any locale, as every command's output
            sys.stdout.write(line + "\n")
            sys.stdout.flush()  # a closed pipe is reported here, not after exit
    except BaseException as failure:  # not swallowed: handed to `exits.guarded`, as every command's
        from peerloop.exits import guarded

        problem = failure

        def again() -> None:
            raise problem

        return guarded(again)
    return 0


def current_line(home: str | None) -> str:
    """The line, from the cache when it still holds, else computed and cached."""
    from peerloop.store.home import data_home_text

    folder = data_home_text(home)
    if _locked(folder):
        return "locked"
    line = cached_line(folder)
    return line if line is not None else _recompute(folder)


def _locked(folder: str) -> bool:
    """An encrypted folder whose key the environment does not give (no passphrase in it, no identity file):
    "locked", known from `encryption.toml` alone. Anything unusual is left to the whole path."""
    path = os.path.join(folder, ENCRYPTION_FILE)
    if os.environ.get(PASSPHRASE_ENV) or not os.path.isfile(path) or os.path.lexists(f"{folder}/.commit"):
        return False
    import tomllib

    try:
        with open(path, "rb") as found:
            said = tomllib.load(found)
    except (OSError, ValueError):
        return False
    variable = said.get("passphrase_env")
    return "identity_file" not in said and not (isinstance(variable, str) and os.environ.get(variable))


def _recompute(folder: str) -> str:
    import contextlib
    import datetime as dt
    from pathlib import Path

    from peerloop import clock
    from peerloop.errors import LockedError, NotSetUpError, StorageError
    from peerloop.inert import safe
    from peerloop.store.atomic import replace_atomically
    from peerloop.store.records import open_store
    from peerloop.store.session import load_status

    store = open_store(Path(folder))
    if not store.roster_path.exists():
        return ""
    try:
        status = load_status(store)
    except NotSetUpError:
        return ""
    except LockedError:
        return "locked"
    now = clock.now(status.settings.timezone)
    line, until = line_for(status, now)
    line = safe(line)
    if not os.environ.get(NOW_ENV) and store.home.is_dir() and not store.folder.sealed():
        oldest = min([status.settings.trial_start.year, *(peer.added.year for peer in status.roster.peers)])
        watched = [store.roster_path, *(store.year_path(year) for year in range(oldest, now.year + 1))]
        lines = [
            CACHE_MAGIC,
            f"valid-until {until.astimezone(dt.UTC).timestamp():.0f}",
            f"line {line}",
            *(f"file {path}\t{_checksum(str(path))}" for path in watched),
        ]
        with contextlib.suppress(StorageError):  # a cache: a read-only folder slows the next prompt, no more
            replace_atomically(store.home / CACHE_FILE, ("\n".join(lines) + "\n").encode("utf-8"))
    return line


def line_for(status: Status, now: dt.datetime) -> tuple[str, dt.datetime]:
    """The line for `status` at `now`, and the local midnight from which it may no longer be true."""
    import datetime as dt

    from peerloop.core.rotation import WEEK, week_start

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
