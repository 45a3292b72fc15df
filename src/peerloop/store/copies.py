"""Conflict copies: the files a sync tool makes when two devices changed one file before they synced, told by
their names: `roster.sync-conflict-20270105-101010-ABCDEF7.toml` (Syncthing), `roster (Dana's conflicted copy
2027-01-05).toml` (Dropbox, Nextcloud), `roster_conflict-20270105-101010.toml` (older Nextcloud),
`roster 2.toml` (iCloud Drive)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import NamedTuple

from peerloop.store.device import owner
from peerloop.store.layout import DATA_NAME

_DATA = re.compile(rf"^(?:{DATA_NAME})$")

_PATTERNS = (
    ("Syncthing", re.compile(r"^(?P<stem>.*?)\.sync-conflict-\d{8}-\d{6}-[A-Z2-7]{7}(?P<ext>\.[^.]*)?$")),
    ("Dropbox or Nextcloud",
     re.compile(r"^(?P<stem>.+?) \([^()]*conflicted copy[^()]*\)(?: \(\d+\))?(?P<ext>\.[^.() ]+)?$")),
    ("Nextcloud", re.compile(r"^(?P<stem>.+?)_conflict-\d{8}-\d{6}(?P<ext>\.[^.]+)?$")),
    ("iCloud", re.compile(r"^(?P<stem>[^ ]+) [1-9]\d*(?P<ext>\.toml|\.age)$")),
)  # fmt: skip


class Named(NamedTuple):
    original: str
    """The name of the file it is a copy of, in the same folder."""
    tool: str
    """Which sync tool names copies this way, in words."""


def copy_of(name: str) -> Named | None:
    """The file `name` is a conflict copy of, and the tool that made it; None for any other name."""
    for tool, pattern in _PATTERNS:
        match = pattern.match(name)
        if match:
            return Named(match["stem"] + (match["ext"] or ""), tool)
    return None


def is_data(name: str) -> bool:
    """Whether `name` (a path inside the data folder) is one of the data files."""
    return bool(_DATA.match(name))


class Copy(NamedTuple):
    path: Path
    original: Path
    """The file it is a copy of."""
    tool: str

    @property
    def of_data(self) -> bool:
        """A copy of a data file (merged by `doctor --fix`), not of a device's own scratch file (deleted)."""
        return self.original.name.endswith((".toml", ".age")) and not self.original.name.startswith(".")


def find_copies(home: Path) -> list[Copy]:
    """Every conflict copy a sync tool left in the data folder, of a data file or of a device's own files
    (a lock, a record, a cache), by name (no file is read)."""
    found = []
    for folder, prefix in ((home, ""), (home / "journal", "journal/")):
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        for name in names:
            named = copy_of(name)
            if named is None:
                continue
            original = named.original
            if is_data(prefix + original) or (not prefix and (owner(original) or original.startswith("."))):
                found.append(Copy(folder / name, folder / original, named.tool))
    return found
