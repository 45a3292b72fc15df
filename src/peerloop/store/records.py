"""The Store: peerloop's records in one data folder, read with one TOML reader per file kind (kept per version
of the file, read afresh inside `Store.change()`) and changed as one transaction under one lock."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from peerloop import clock
from peerloop.core.merge.stamps import stamped_roster, stamped_year
from peerloop.core.models import Journal, JournalYear, Roster
from peerloop.errors import ConflictError, InputError, StorageError
from peerloop.store import written
from peerloop.store.codecs import journal as journal_file
from peerloop.store.codecs import roster as roster_file
from peerloop.store.codecs.schema import SCHEMA_VERSION, upgraded
from peerloop.store.codecs.toml import dump_toml, parse
from peerloop.store.copies import is_data
from peerloop.store.files import file_version
from peerloop.store.folder import DEFAULT_LOCK_TIMEOUT, Folder, Sending
from peerloop.store.sealed import Encryption, Key, encryption_text

if TYPE_CHECKING:
    from peerloop.core.connections import Connections

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
        self.home = home
        self.calendar_path = self.folder.calendar_path
        self.connections_path = self.folder.connections_path
        self.busy_path = self.folder.busy_path
        self.journal_dir = self.folder.journal_dir
        self.year_path = self.folder.year_path
        self.journal_years = self.folder.journal_years
        self._cache: dict[tuple[Path, str], tuple[tuple[int, ...], Any]] = {}
        self._written: dict[Path, written.Written | None] = {}
        self.accept_halves = False
        """`doctor --fix`: write even when a file read came without the rest of its change."""
        self._staged: dict[Path, str | bytes] | None = None
        self._deleting: list[Path] = []
        self._sending: Sending | None = None
        self._moment: dt.datetime | None = None
        """Inside a change: the moment its records are stamped with (one per change)."""

    # --- where -----------------------------------------------------------------------------------------

    @property
    def roster_path(self) -> Path:
        return self.folder.roster_path

    # --- reading ---------------------------------------------------------------------------------------

    def _load(self, path: Path, decode: Callable[[dict[str, Any], str], T], empty: T) -> T:
        """A file's records, parsed once per version of the file (taken before the read: a change after it is
        seen by the next load), its `[written]` table kept aside: what the records are, not what they say."""
        version = file_version(path)
        kind = type(empty).__name__
        cached = self._cache.get((path, kind))
        if cached is not None and cached[0] == version and version:
            return cached[1]  # type: ignore[no-any-return]
        text = self.folder.read(path)
        if text is None:
            loaded, self._written[path] = empty, None
        else:
            data = parse(text, path)
            self._written[path] = written.read(data.pop(written.KEY, None))
            loaded = decode(data, text)
        self._cache[(path, kind)] = (version, loaded)
        return loaded

    def load_roster(self, path: Path | None = None) -> Roster:
        """The roster (or the one in `path`, a conflict copy of it), or an empty one when there is none yet."""
        path = path or self.roster_path
        return self._load(path, lambda data, text: roster_file.roster_from_toml(data, text, path), Roster())

    def load_year(self, year: int, path: Path | None = None) -> JournalYear:
        """A journal year (or the one in `path`, a conflict copy of it), empty when there is none yet."""
        path = path or self.year_path(year)

        def read(data: dict[str, Any], text: str) -> JournalYear:
            return journal_file.journal_year_from_toml(data, text, year, path)

        return self._load(path, read, JournalYear(year=year))

    def load_journal(self, years: Iterable[int] | None = None) -> Journal:
        """The given years (default: every year on disk), oldest first."""
        chosen = self.journal_years() if years is None else sorted(set(years))
        return Journal(years=tuple(self.load_year(year) for year in chosen))

    def load_table(self, path: Path) -> dict[str, Any]:
        """A small file's tables as they are (calendar state, connections, busy times), schema checked."""
        return self._load(
            path, lambda data, _: upgraded(data, path, path.stem), {"schema_version": SCHEMA_VERSION}
        )

    def load_calendar_state(self) -> dict[str, Any]:
        return self.load_table(self.calendar_path)

    def connections(self, path: Path | None = None) -> Connections:
        """The connections (calendar, mail, busy-time feeds) as records, every value checked (or those in
        `path`, a conflict copy)."""
        from peerloop.store.codecs import connections as connections_file

        path = path or self.connections_path
        return self._load(
            path,
            lambda data, text: connections_file.connections_from_toml(data, text, path),
            connections_file.NONE,
        )

    def halves(self) -> list[tuple[Path, str]]:
        """The data files read so far that a sync tool copied without the rest of their change, one line each."""
        data = {path: w for path, w in self._written.items() if is_data(str(path.relative_to(self.home)))}
        return written.halves(self.home, data)

    def half_encrypted(self) -> list[tuple[Path, str]]:
        """Data files missing in the folder's form (encrypted or not) while the other form is here: a sync tool
        copied half of an `encrypt` or `decrypt`. Never accepted as they are (doctor --fix neither): what is
        missing would be written anew, empty."""
        state = (
            "encrypted (encryption.toml is here)"
            if self.folder.sealed()
            else "not encrypted (no encryption.toml)"
        )
        return [(missing, f"{missing.relative_to(self.home)} has not arrived yet: the folder is {state} and only "
                          f"{here.relative_to(self.home)} is here") for missing, here in self.folder.half_forms()]  # fmt: skip

    # --- writing ---------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def change(self) -> Iterator[None]:
        """One transaction: the lock is held from the first read inside the block to the commit at its end;
        nothing is written if the block raises. Reads inside see the files as they are now."""
        if self._staged is not None:
            yield
            return
        with self.folder.locked():
            self._cache.clear()
            self._written.clear()
            self._staged, self._sending, self._deleting = {}, None, []
            landed = False
            # as the folder is before the change (`encrypt` stages the other form)
            half = self.half_encrypted()
            try:
                try:
                    yield
                    staged, sending, deleting = self._staged, self._sending, tuple(self._deleting)
                    found = half if staged or deleting else []
                    if staged and not self.accept_halves:
                        found += self.halves()
                    if found:
                        raise StorageError(
                            f"{found[0][1]}: let your sync tool finish, then run this again (nothing was changed)"
                        )
                    staged = self._stamped(staged)
                finally:
                    self._staged, self._sending, self._deleting, self._moment = None, None, [], None
                self.folder.commit(staged, sending, deleting)
                landed = True
            finally:
                self.folder.seal.end(landed)
            self._cache.clear()

    def _stamped(self, staged: dict[Path, str | bytes]) -> dict[Path, str | bytes]:
        """Each data file a change writes, ended with the `[written]` table that names the change."""
        unstamped = self.folder.unstamped
        synced = [path for path in staged if path not in unstamped and isinstance(staged[path], str)]
        if not synced:
            return staged
        at, by = self.moment(), self.folder.device
        names = {path: str(path.relative_to(self.home)) for path in synced}
        stamped = dict(staged)
        for path, name in names.items():
            stamped[path] = (
                f"{staged[path]!s}{written.table(by, at, [n for n in names.values() if n != name])}"
            )
        return stamped

    def send_on_commit(self, sending: Sending) -> None:
        """Inside `change()`: the change happens only once `sending` was accepted (a mail server took the
        message), and together with it; if sending fails or is interrupted, nothing changes."""
        assert self._staged is not None, "send_on_commit belongs inside store.change()"
        self._sending = sending

    def delete_on_commit(self, path: Path) -> None:
        """Inside `change()`: delete this file together with the change (a conflict copy it merged, a data
        file it replaces by its other form)."""
        assert self._staged is not None, "delete_on_commit belongs inside store.change()"
        if path not in self._deleting:
            self._deleting.append(path)

    def reseal(
        self, encryption: Encryption | None, key: Key | None, key_file: bytes | None = None
    ) -> list[Path]:
        """First inside `change()`: every file with notes rewritten under the new encryption (None: in clear),
        with `encryption.toml` and `key.age`, the old forms removed. Returns the files with notes."""
        assert self._staged == {}, "reseal comes first inside store.change()"
        self.moment()  # taken while the roster is still where it is
        years = self.journal_years()
        old = [self.roster_path, *(self.year_path(year) for year in years)]
        texts = [self.folder.read(path) for path in old]  # opened with the current key, if any
        seal = self.folder.seal
        earlier = seal.retired() if encryption is not None else seal.kept_at_decrypt()
        seal.staged = (encryption, key)  # the paths and the key of what the change writes from here on
        new = [self.roster_path, *(self.year_path(year) for year in years)]
        rewritten = []
        for before, after, text in zip(old, new, texts, strict=True):
            if text is None:
                continue
            if after != before and os.path.lexists(after) and self.folder.read_bytes(after) != text.encode():
                fix = (
                    "`peerloop doctor --fix` merges it"
                    if encryption is None
                    else "merge it by hand and delete it"
                )
                raise ConflictError(
                    f"{after} is already here beside {before.name}, and holds something else (another device's "
                    f"copy?): {fix}, then run this again; nothing was changed"
                )
            self._staged[after] = written.without(text)
            rewritten.append(after)
            if after != before:
                self.delete_on_commit(before)
        for path, content in ((self.folder.encryption_path, encryption and encryption_text(encryption)),
                              (self.folder.key_path, key_file), (self.folder.earlier_keys_path, earlier)):  # fmt: skip
            if content:
                self._staged[path] = content
            elif os.path.lexists(path):
                self.delete_on_commit(path)
        return rewritten

    def _save(self, path: Path, text: str | Callable[[], str]) -> None:
        """Stage a file's text (computed inside the transaction when a callable: it compares with the file)."""
        if self._staged is None:
            with self.change():
                self._save(path, text)
            return
        self._staged[path] = text if isinstance(text, str) else text()

    def save_roster(self, roster: Roster, merged: bool = False) -> None:
        """Stage the roster: what changed since the file was read is stamped (`core.merge.stamps`), unless it
        is a merge's result, whose records carry their own moments."""

        def text() -> str:
            saved = roster if merged else stamped_roster(self.load_roster(), roster, self.moment())
            return roster_file.roster_text(saved)

        self._save(self.roster_path, text)

    def save_year(self, journal_year: JournalYear, merged: bool = False) -> None:
        """Stage a journal year, stamped like the roster (`save_roster`)."""

        def text() -> str:
            before = self.load_year(journal_year.year)
            saved = journal_year if merged else stamped_year(before, journal_year, self.moment())
            return journal_file.year_text(saved)

        self._save(self.year_path(journal_year.year), text)

    def moment(self) -> dt.datetime:
        """Now, in UTC to the second, in the leader's zone (PEERLOOP_NOW): when the records a change writes were
        changed. One per change, taken the first time it is needed."""
        if self._moment is not None:
            return self._moment
        settings = self.load_roster().settings
        zone = settings.timezone if settings else clock.local_zone() or "UTC"
        found = clock.now(zone).astimezone(dt.UTC).replace(microsecond=0)
        if self._staged is not None:
            self._moment = found
        return found

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
