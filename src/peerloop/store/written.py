"""Which change wrote a file (its `[written]` table), so that a folder a sync tool has copied only half of is
noticed (docs/storage.md, Two devices)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

KEY = "written"
_DEVICE = re.compile(r"^[a-z0-9]{4,32}$")


class Written(NamedTuple):
    by: str
    at: dt.datetime
    together: tuple[str, ...]
    """The other files the change wrote, by their path in the folder (`with` in the file)."""


def read(table: Any) -> Written | None:
    """A file's `[written]` table, or None when it has none (an older peerloop's, a merge's) or a broken one."""
    if not isinstance(table, Mapping):
        return None
    by, at, together = table.get("by"), table.get("at"), table.get("with", [])
    if (
        not isinstance(by, str)
        or not _DEVICE.match(by)
        or not isinstance(at, dt.datetime)
        or at.tzinfo is None
    ):
        return None
    if not isinstance(together, list) or not all(isinstance(name, str) for name in together):
        return None
    return Written(by, at.astimezone(dt.UTC), tuple(together))


def table(by: str, at: dt.datetime, together: list[str]) -> str:
    """The `[written]` table a change ends each file it writes with."""
    from peerloop.store.codecs.toml import dump_toml

    return "\n" + dump_toml({KEY: {"by": by, "at": at, "with": together}})


def without(text: str) -> str:
    """A file's text without its `[written]` table (the last table, as `table` wrote it), to be written by a
    new change that names itself (`encrypt` rewrites files as they are)."""
    at = text.rfind(f"\n[{KEY}]\n")
    if at < 0 or any(line.startswith("[") for line in text[at + 1 :].splitlines()[1:]):
        return text
    return text[:at].rstrip("\n") + "\n"


def halves(home: Path, seen: Mapping[Path, Written | None]) -> list[tuple[Path, str]]:
    """Each file read that came with a change whose other files have not all arrived, with one line saying so."""
    found = []
    for path, written in seen.items():
        if written is None:
            continue
        for name in written.together:
            other = home / name
            if other in seen:
                theirs = seen[other]
                behind = theirs is not None and theirs.by == written.by and theirs.at < written.at
            else:
                behind = not other.exists()
            if behind:
                found.append((path, f"{name} has not arrived yet from the change on {written.by} that wrote "
                                    f"{path.relative_to(home)} ({written.at:%Y-%m-%d %H:%M} UTC)"))  # fmt: skip
    return found
