"""Where each file of a data folder lives: the data files' names, the journal's years, the encrypted forms
(`roster.toml.age` in an encrypted folder), and the copies peerloop never reads. The files that belong to one
device (its lock and records) are `store.folder`'s."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from peerloop.errors import DataFileError

ROSTER_FILE = "roster.toml"
CALENDAR_FILE = "calendar.toml"
CONNECTIONS_FILE = "connections.toml"
BUSY_FILE = "busy.toml"
ENCRYPTION_FILE = "encryption.toml"
KEY_FILE = "key.age"
EARLIER_KEYS_FILE = "earlier-keys.age"
"""The folder's earlier keys, sealed to its current one (docs/storage.md, Encryption)."""
SEALED = ".age"
"""The ending of an encrypted file: `roster.toml.age`, `journal/2027.toml.age`."""
DATA_NAME = "|".join(
    [
        *map(re.escape, (ROSTER_FILE, ROSTER_FILE + SEALED, CALENDAR_FILE, CONNECTIONS_FILE, BUSY_FILE,
                         ENCRYPTION_FILE, KEY_FILE, EARLIER_KEYS_FILE)),
        r"journal/\d{4}\.toml(?:\.age)?",
    ]
)  # fmt: skip
"""The data files, by their path in the folder (a regular expression)."""

_JOURNAL_NAME = re.compile(r"^(\d{4})\.toml(\.age)?$")
_OLD_COPY = re.compile(r"^\..+\.toml\.cache(\.\d+-\d+(-\d+)?\.tmp)?$")


class Layout:
    """The paths of one data folder; `store.folder.Folder` adds the lock, reads and transactions."""

    _overlay: dict[Path, Path]
    """A committed change's targets, read from its temp files (while it cannot be finished)."""
    _gone: set[Path]
    """A committed change's removed files (likewise)."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.calendar_path = home / CALENDAR_FILE
        self.connections_path = home / CONNECTIONS_FILE
        self.busy_path = home / BUSY_FILE
        self.journal_dir = home / "journal"
        self.encryption_path = home / ENCRYPTION_FILE
        self.key_path = home / KEY_FILE
        self.earlier_keys_path = home / EARLIER_KEYS_FILE
        self.unstamped = (self.busy_path, self.encryption_path, self.key_path, self.earlier_keys_path)
        """The files without a `[written]` table: the busy-time cache, and those that say how the rest is read."""

    def sealed(self) -> bool:
        raise NotImplementedError

    @property
    def roster_path(self) -> Path:
        return self.home / (ROSTER_FILE + SEALED if self.sealed() else ROSTER_FILE)

    def year_path(self, year: int) -> Path:
        return self.journal_dir / (f"{year:04d}.toml" + (SEALED if self.sealed() else ""))

    def journal_years(self) -> list[int]:
        """The years that have a journal file, oldest first (a directory listing: no file is read)."""
        sealed = self.sealed()
        return sorted(int(match[1]) for name in self._journal_names() if (match := _JOURNAL_NAME.match(name))
                      and bool(match[2]) == sealed)  # fmt: skip

    def _journal_names(self) -> set[str]:
        try:
            names = set(os.listdir(self.journal_dir))
        except FileNotFoundError:
            names = set()
        except NotADirectoryError:
            raise DataFileError(f"{self.journal_dir} is not a folder; move it away and try again") from None
        names |= {target.name for target in self._overlay if target.parent == self.journal_dir}
        return names - {target.name for target in self._gone if target.parent == self.journal_dir}

    def other_copies(self) -> list[Path]:
        """Data files in the other form than the folder's: a clear `roster.toml` beside `roster.toml.age` in an
        encrypted folder (a copy of notes left unencrypted), or an age file in a clear one. Never read."""
        sealed = self.sealed()
        found = [self.home / (ROSTER_FILE if sealed else ROSTER_FILE + SEALED)]
        found += [self.journal_dir / name for name in sorted(self._journal_names())
                  if (match := _JOURNAL_NAME.match(name)) and bool(match[2]) != sealed]  # fmt: skip
        return [path for path in found if os.path.lexists(path)]

    def half_forms(self) -> list[tuple[Path, Path]]:
        """(missing, here) for each data file whose form in this folder is missing while its other form is here:
        a sync tool copied `encryption.toml` (or its deletion) before the files `encrypt` (or `decrypt`) rewrote."""
        sealed = self.sealed()
        found = []
        for here in self.other_copies():
            missing = here.with_name(here.name + SEALED if sealed else here.name[: -len(SEALED)])
            if not os.path.lexists(missing) and missing not in self._overlay:
                found.append((missing, here))
        return found

    def old_copies(self) -> list[Path]:
        """Parsed copies an older peerloop kept beside big files (`journal/.2026.toml.cache`): never read, as
        they may hold what a file said before a change; each write deletes them, `doctor` reports them."""
        found: list[Path] = []
        for folder in (self.home, self.journal_dir):
            with contextlib.suppress(OSError):
                found += [folder / name for name in sorted(os.listdir(folder)) if _OLD_COPY.match(name)]
        return found

    def contains(self, path: Path) -> bool:
        """Whether `path` lies inside the data folder or is one of its files (a second name counts)."""
        from peerloop.store.home import names_a_data_file

        data = [self.roster_path, self.calendar_path, self.connections_path, self.busy_path]
        data += [self.encryption_path, self.key_path, self.earlier_keys_path]
        return names_a_data_file(
            self.home, path, lambda: data + [self.year_path(y) for y in self.journal_years()]
        )
