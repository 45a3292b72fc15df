"""The Store: peerloop's records in one data folder, read with one TOML reader per file kind and changed as
one transaction under one lock.

Reads are cached for the life of the process (per version of the file: a replaced file has a new inode) and
read afresh inside `Store.change()`, where the lock makes them the truth the change is checked against.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from peerloop.core.models import Journal, JournalYear, Roster
from peerloop.errors import InputError
from peerloop.store.codecs import journal as journal_file
from peerloop.store.codecs import roster as roster_file
from peerloop.store.codecs.toml import SCHEMA_VERSION, check_schema, dump_toml, parse
from peerloop.store.folder import DEFAULT_LOCK_TIMEOUT, Folder, Sending, file_version

if TYPE_CHECKING:
    from peerloop.core.connections import Connections
    from peerloop.store.sealed import Encryption, Key

T = TypeVar("T")
LOCK_TIMEOUT_ENV = "PEERLOOP_LOCK_TIMEOUT"

CALENDAR_HEADER = """\
# peerloop calendar state: the UIDs and sequence numbers of exported events, so re-imports update.
"""
CONNECTIONS_HEADER = """\
# peerloop connections: servers and feeds you connected. No passwords: those come from a command,
# an environment variable or your keyring.
"""


class Store:
    """peerloop's records in one data folder: read (cached), and changed as one transaction."""

    def __init__(self, home: Path, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> None:
        self.folder = Folder(home, lock_timeout)
        self._cache: dict[Path, tuple[tuple[int, ...], Any]] = {}
        self._staged: dict[Path, str | bytes] | None = None
        self._removed: set[Path] = set()
        self._sending: Sending | None = None

    # --- where -----------------------------------------------------------------------------------------

    @property
    def home(self) -> Path:
        return self.folder.home

    @property
    def roster_path(self) -> Path:
        return self.folder.roster_path

    @property
    def calendar_path(self) -> Path:
        return self.folder.calendar_path

    @property
    def connections_path(self) -> Path:
        return self.folder.connections_path

    @property
    def busy_path(self) -> Path:
        return self.folder.busy_path

    @property
    def journal_dir(self) -> Path:
        return self.folder.journal_dir

    @property
    def lock_path(self) -> Path:
        return self.folder.lock_path

    def year_path(self, year: int) -> Path:
        return self.folder.year_path(year)

    def journal_years(self) -> list[int]:
        return self.folder.journal_years()

    # --- reading ---------------------------------------------------------------------------------------

    def _load(self, path: Path, parse_text: Callable[[str], T], empty: T) -> T:
        """A file's records, parsed once per version of the file (its version is taken before the read, so
        a change at any instant after it is seen by the next load)."""
        version = file_version(path)
        cached = self._cache.get(path)
        if cached is not None and cached[0] == version and version:
            return cached[1]  # type: ignore[no-any-return]
        text = self.folder.read(path)
        loaded = empty if text is None else parse_text(text)
        self._cache[path] = (version, loaded)
        return loaded

    def load_roster(self) -> Roster:
        """The roster, or an empty one when the file does not exist yet."""
        path = self.roster_path
        return self._load(
            path, lambda text: roster_file.roster_from_toml(parse(text, path), text, path), Roster()
        )

    def load_year(self, year: int) -> JournalYear:
        path = self.year_path(year)

        def read(text: str) -> JournalYear:
            return journal_file.journal_year_from_toml(parse(text, path), text, year, path)

        return self._load(path, read, JournalYear(year=year))

    def load_journal(self, years: Iterable[int] | None = None) -> Journal:
        """The given years (default: every year on disk), oldest first."""
        chosen = self.journal_years() if years is None else sorted(set(years))
        return Journal(years=tuple(self.load_year(year) for year in chosen))

    def load_table(self, path: Path) -> dict[str, Any]:
        """A small file's tables as they are (calendar state, connections, busy times), schema checked."""

        def read(text: str) -> dict[str, Any]:
            data = parse(text, path)
            check_schema(data, path)
            return data

        return self._load(path, read, {"schema_version": SCHEMA_VERSION})

    def load_calendar_state(self) -> dict[str, Any]:
        return self.load_table(self.calendar_path)

    def connections(self) -> Connections:
        """The connections (calendar, mail, busy-time feeds) as records, every value checked."""
        from peerloop.store.codecs import connections as connections_file

        path = self.connections_path
        return self._load(path, lambda text: connections_file.from_toml(text, path), connections_file.NONE)

    # --- writing ---------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def change(self) -> Iterator[None]:
        """One transaction: the lock is held from the first read inside the block to the commit at its end.

        Every file saved inside is written together (all or nothing, also after a kill); nothing is written
        if the block raises. Reads inside see the files as they are now, not as cached before.
        """
        if self._staged is not None:
            yield
            return
        with self.folder.locked():
            self._cache.clear()
            self._staged, self._removed, self._sending = {}, set(), None
            landed = False
            try:
                try:
                    yield
                    staged, removed, sending = self._staged, self._removed, self._sending
                finally:
                    self._staged, self._removed, self._sending = None, set(), None
                self.folder.commit(staged, sending, frozenset(removed))
                landed = True
            finally:
                self.folder.seal.end(landed)
            self._cache.clear()

    def send_on_commit(self, sending: Sending) -> None:
        """Inside `change()`: the change happens only once `sending` was accepted (a mail server took the
        message), and together with it; if sending fails or is interrupted, nothing changes."""
        assert self._staged is not None, "send_on_commit belongs inside store.change()"
        self._sending = sending

    def locked(self) -> contextlib.AbstractContextManager[None]:
        return self.folder.locked()

    def reseal(
        self, encryption: Encryption | None, key: Key | None, key_file: bytes | None = None
    ) -> list[Path]:
        """Inside `change()`, before anything is saved: every file with notes rewritten under the new
        encryption (None: in clear) with `encryption.toml` and `key.age`, the old forms removed, as one
        transaction. Later saves in the same change are written the new way. Returns the files with notes."""
        assert self._staged == {}, "reseal comes first inside store.change()"
        years = self.journal_years()
        old = [self.roster_path, *(self.year_path(year) for year in years)]
        texts = [self.folder.read(path) for path in old]  # opened with the current key, if any
        self.folder.seal.stage(encryption, key)
        new = [self.roster_path, *(self.year_path(year) for year in years)]
        written = []
        for before, after, text in zip(old, new, texts, strict=True):
            if text is None:
                continue
            self._staged[after] = text
            written.append(after)
            if after != before:
                self._removed.add(before)
        from peerloop.store.sealed import encryption_text

        for path, content in ((self.folder.encryption_path, encryption and encryption_text(encryption)),
                              (self.folder.key_path, key_file)):  # fmt: skip
            if content:
                self._staged[path] = content
            elif os.path.lexists(path):
                self._removed.add(path)
        return written

    def _save(self, path: Path, text: str) -> None:
        if self._staged is None:
            with self.change():
                self._save(path, text)
            return
        self._staged[path] = text

    def save_roster(self, roster: Roster) -> None:
        self._save(self.roster_path, roster_file.roster_text(roster))

    def save_year(self, journal_year: JournalYear) -> None:
        self._save(self.year_path(journal_year.year), journal_file.year_text(journal_year))

    def save_calendar_state(self, state: dict[str, Any]) -> None:
        self._save(
            self.calendar_path, CALENDAR_HEADER + dump_toml({**state, "schema_version": SCHEMA_VERSION})
        )

    def save_busy(self, text: str) -> None:
        """The busy-time cache: written like the data, but never the only copy of anything."""
        self._save(self.busy_path, text)

    def save_connections(self, connections: Connections) -> None:
        from peerloop.store.codecs import connections as connections_file

        self._save(self.connections_path, CONNECTIONS_HEADER + connections_file.to_toml(connections))


def open_store(home: Path | None) -> Store:
    """The data folder chosen by --home, else $PEERLOOP_HOME, else the platform's; checked before use."""
    from peerloop.store.home import check_home, data_home

    timeout = os.environ.get(LOCK_TIMEOUT_ENV)
    try:
        lock_timeout = float(timeout) if timeout else DEFAULT_LOCK_TIMEOUT
    except ValueError:
        lock_timeout = -1.0
    if not 0 <= lock_timeout < float("inf"):  # also NaN, which would make a held lock wait for ever
        raise InputError(f"{LOCK_TIMEOUT_ENV}={timeout!r} is not a number of seconds")
    return Store(check_home(data_home(home)), lock_timeout=lock_timeout)
