"""The one loader: what a command reads (roster, settings, today, the journal years it needs) and how it
writes (one transaction under one lock, from the first read to the commit).

Commands get their data here and nowhere else. Reads are cached for the life of the process, and read
afresh inside `Store.change()`, where the lock makes them the truth the change is checked against.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from peerloop import clock, journal, journalschema, rotation, schema, tomlcache
from peerloop.errors import DataFileError, InputError, NotSetUpError, PeerloopError
from peerloop.models import Journal, JournalYear, Meeting, Peer, Roster, Settings, Skip, peer_key
from peerloop.storage import DEFAULT_LOCK_TIMEOUT, Folder, file_version
from peerloop.tomlfile import SCHEMA_VERSION, check_schema, dump_toml, parse

if TYPE_CHECKING:
    from peerloop.calendar import CalendarState
    from peerloop.connections import Connections
    from peerloop.trial import Evidence, Status

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
        self._staged: dict[Path, str] | None = None

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

    def _load(self, path: Path, parse_text: Any, empty: Any) -> Any:
        """A file's records, parsed once per version of the file (a replaced file has a new inode).

        `parse_text(text, unchanged)`: `unchanged()` tells whether the file is still the one the text was
        read from (its version is taken before the read, so a change at any instant after it is seen)."""
        version = file_version(path)
        cached = self._cache.get(path)
        if cached is not None and cached[0] == version and version:
            return cached[1]
        text = self.folder.read(path)

        def unchanged() -> bool:
            return file_version(path) == version != ()

        loaded = empty if text is None else parse_text(text, unchanged)
        self._cache[path] = (version, loaded)
        return loaded

    def load_roster(self) -> Roster:
        """The roster, or an empty one when the file does not exist yet."""
        path = self.roster_path

        def read(text: str, unchanged: Callable[[], bool]) -> Roster:
            return self._built(
                text, path, lambda tables: schema.roster_from_toml(tables, text, path), unchanged
            )

        return self._load(path, read, Roster())  # type: ignore[no-any-return]

    def load_year(self, year: int) -> JournalYear:
        path = self.year_path(year)

        def read(text: str, unchanged: Callable[[], bool]) -> JournalYear:
            def build(tables: dict[str, Any]) -> JournalYear:
                return journalschema.journal_year_from_toml(tables, text, year, path)

            return self._built(text, path, build, unchanged)

        return self._load(path, read, JournalYear(year=year))  # type: ignore[no-any-return]

    def _built(
        self, text: str, path: Path, build: Callable[[dict[str, Any]], T], unchanged: Callable[[], bool]
    ) -> T:
        """The records of a roster or journal year (from its parsed copy when the file is big)."""
        return tomlcache.load(text, path, build, unchanged if self.folder.may_write else None)

    def load_journal(self, years: Iterable[int] | None = None) -> Journal:
        """The given years (default: every year on disk), oldest first."""
        chosen = self.journal_years() if years is None else sorted(set(years))
        return Journal(years=tuple(self.load_year(year) for year in chosen))

    def _load_table(self, path: Path) -> dict[str, Any]:
        def read(text: str, unchanged: object) -> dict[str, Any]:
            data = parse(text, path)
            check_schema(data, path)
            return data

        return self._load(path, read, {"schema_version": SCHEMA_VERSION})  # type: ignore[no-any-return]

    def load_calendar_state(self) -> dict[str, Any]:
        return self._load_table(self.calendar_path)

    def connections(self) -> Connections:
        """The connections (calendar, mail, busy-time feeds) as records."""
        from peerloop import connections

        return connections.from_toml(self._load_table(self.connections_path), self.connections_path)

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
            self._staged = {}
            try:
                yield
                staged = self._staged
            finally:
                self._staged = None
            self.folder.commit(staged)  # (which also removes the files' parsed copies)
            self._cache.clear()

    def locked(self) -> contextlib.AbstractContextManager[None]:
        return self.folder.locked()

    def _save(self, path: Path, text: str) -> None:
        if self._staged is None:
            with self.change():
                self._save(path, text)
            return
        self._staged[path] = text

    def save_roster(self, roster: Roster) -> None:
        self._save(self.roster_path, schema.roster_text(roster))

    def save_year(self, journal_year: JournalYear) -> None:
        self._save(self.year_path(journal_year.year), journalschema.year_text(journal_year))

    def save_calendar_state(self, state: dict[str, Any]) -> None:
        self._save(
            self.calendar_path, CALENDAR_HEADER + dump_toml({**state, "schema_version": SCHEMA_VERSION})
        )

    def save_cache(self, name: str, text: str) -> None:
        """A cache beside the data (busy times): written like the data, but never the only copy of anything."""
        self._save(self.home / name, text)

    def save_connections(self, data: dict[str, Any]) -> None:
        text = CONNECTIONS_HEADER + dump_toml({**data, "schema_version": SCHEMA_VERSION})
        self._save(self.connections_path, text)


# --- opening a store ---------------------------------------------------------------------------------------


def open_store(home: Path | None) -> Store:
    """The data folder chosen by --home, else $PEERLOOP_HOME, else the platform's; checked before use."""
    from peerloop.paths import check_home, data_home

    timeout = os.environ.get(LOCK_TIMEOUT_ENV)
    try:
        lock_timeout = float(timeout) if timeout else DEFAULT_LOCK_TIMEOUT
    except ValueError:
        lock_timeout = -1.0
    if not 0 <= lock_timeout < float("inf"):  # also NaN, which would make a held lock wait for ever
        raise InputError(f"{LOCK_TIMEOUT_ENV}={timeout!r} is not a number of seconds")
    return Store(check_home(data_home(home)), lock_timeout=lock_timeout)


# --- what commands read ------------------------------------------------------------------------------------


def require_settings(roster: Roster) -> Settings:
    if roster.settings is None:
        raise NotSetUpError("peerloop is not set up yet; run `peerloop init` first")
    return roster.settings


def today_for(roster: Roster) -> dt.date:
    """Today in the leader's zone, or the machine's before the settings exist."""
    zone = roster.settings.timezone if roster.settings else (clock.local_zone() or "UTC")
    return clock.today(zone)


def recent_journal(store: Store, roster: Roster, today: dt.date) -> Journal:
    """The years back from today until every roster peer's last meeting is found.

    A peer's meetings cannot predate the year they were added, so the walk back stops there: usually
    this year alone (and last year in January), whatever the length of the history.
    """
    on_disk = [year for year in store.journal_years() if year <= today.year]
    wanted = {peer.key: peer.added.year for peer in roster.peers}
    oldest_needed = rotation.week_start(today).year
    loaded: list[JournalYear] = []
    for year in reversed(on_disk):
        if year < oldest_needed and all(added > year for added in wanted.values()):
            break
        journal_year = store.load_year(year)
        loaded.append(journal_year)
        for meeting in journal_year.meetings:
            wanted.pop(peer_key(meeting.peer), None)
    return Journal(years=tuple(reversed(loaded)))


class Session:
    """What a weekly command works on: the roster, settings, now and today, and the journal years it read.

    More years load on demand (`year`), so a command that touches an old week reads that year too.
    """

    def __init__(self, store: Store, now: dt.datetime | None = None) -> None:
        self.store = store
        self.roster = store.load_roster()
        self.settings = require_settings(self.roster)
        self.now = now or clock.now(self.settings.timezone)
        self.today = self.now.date()
        self.years: dict[int, JournalYear] = {
            y.year: y for y in recent_journal(store, self.roster, self.today).years
        }

    def year(self, year: int) -> JournalYear:
        if year not in self.years:
            self.years[year] = self.store.load_year(year)
        return self.years[year]

    @property
    def journal(self) -> Journal:
        return Journal(years=tuple(self.years[y] for y in sorted(self.years)))

    def log_entries(self) -> list[Meeting | Skip]:
        found: list[Meeting | Skip] = []
        for journal_year in self.years.values():
            found += [*journal_year.meetings, *journal_year.skips]
        return found

    def history(self) -> rotation.History:
        return rotation.history_from(
            (m for y in self.years.values() for m in y.meetings),
            (s for y in self.years.values() for s in y.skips),
        )

    def next_slot(self, day: dt.date | None = None) -> rotation.Slot:
        return rotation.next_slot(self.roster, self.settings, self.history(), day or self.today)

    def require_peer(self, name: str) -> Peer:
        return require_peer(self.store, self.roster, name)


def require_peer(store: Store, roster: Roster, name: str) -> Peer:
    """The roster's peer as typed (any case, accents, a unique start of the name), or an error that tells a
    removed peer (still in the journal, which it then reads) from a stranger."""
    from peerloop import names

    try:
        found = names.match(name, [peer.name for peer in roster.peers])
    except PeerloopError:
        every = store.load_journal()
        removed = journal.names_in((*every.meetings, *every.skips, *every.touches))
        if any(peer_key(gone) == peer_key(name) for gone in removed):
            raise journal.unknown_peer(roster, name, removed) from None
        raise
    peer = roster.find(found)
    assert peer is not None, "names.match returns a roster name"
    return peer


def trial_journal(store: Store, settings: Settings, today: dt.date, before: int = 0) -> Journal:
    """The journal years the current trial can hold (and `before` years earlier), that exist."""
    from peerloop.trial import trial_years

    years = trial_years(settings, today)
    on_disk = set(store.journal_years())
    return store.load_journal(y for y in range(years.start - before, years.stop) if y in on_disk)


def load_status(store: Store) -> Status:
    """What `status` (and the prompt line) needs: the trial's years and the rotation's recent years."""
    from peerloop.trial import status_of

    roster = store.load_roster()
    settings = require_settings(roster)
    today = clock.today(settings.timezone)
    trial = trial_journal(store, settings, today)
    history = None
    if roster.peers:
        recent = recent_journal(store, roster, today)
        history = rotation.history_from(recent.meetings, recent.skips)
    return status_of(roster, settings, trial, history, today)


def load_evidence(store: Store) -> tuple[Roster, Settings, Journal, Evidence]:
    """The trial's journal (and the year before, for the reflections written at its start) and its figures."""
    from peerloop.trial import evidence

    roster = store.load_roster()
    settings = require_settings(roster)
    today = clock.today(settings.timezone)
    found = trial_journal(store, settings, today, before=1)
    return roster, settings, found, evidence(roster, settings, found, today)


def calendar_state(store: Store) -> CalendarState:
    """calendar.toml's state (a new random home id when there is none yet)."""
    import secrets

    from peerloop import calendar

    try:
        return calendar.state_from_toml(store.load_calendar_state(), new_home_id=secrets.token_hex(8))
    except ValueError as error:
        raise DataFileError(
            f"{store.calendar_path}: {error}; fix it by hand, or move the file away to start afresh "
            "(the next import then adds new events instead of updating the old ones)"
        ) from None


class CalendarFreshness(NamedTuple):
    by: str
    """"sync" or "export": how the calendar was last given the plan."""
    at: dt.datetime
    stale: int
    """How many weeks (and the review) it shows otherwise than the plan now."""

    def advice(self) -> str:
        return (
            "run `peerloop sync`"
            if self.by == "sync"
            else "export again (`peerloop export`) and import the file"
        )


def calendar_freshness(store: Store) -> CalendarFreshness | None:
    """Whether the calendar last given the plan (by sync or export) still shows it; None if never given.

    Cheap enough to run after every change: calendar.toml is read, and the plan walked for the weeks it holds.
    """
    from peerloop import published

    if not store.calendar_path.exists():
        return None
    record = published.read(calendar_state(store).extra)
    if record is None:
        return None
    session = Session(store)
    weeks = sum(1 for key in record.weeks if key != "review")
    slots = rotation.plan(session.roster, session.settings, session.history(), session.today, max(1, weeks))
    stale = published.stale_weeks(record, slots, session.settings.trial_end, session.now)
    return CalendarFreshness(record.by, record.at, len(stale))


class Series(NamedTuple):
    """A peer's recurring meeting as an invitation carries it: from their first planned meeting, every
    `interval` weeks (the number of active peers then), and the plan it was read from."""

    first: rotation.Slot
    interval: int
    slots: list[rotation.Slot]


def series_of(session: Session, peer: Peer) -> Series | None:
    """The peer's series until the review date, or None when the plan gives them no meeting before it."""
    settings, today = session.settings, session.today
    history = session.history()
    weeks = rotation.trial_weeks_left(settings, rotation.first_open_week(settings, history, today))
    slots = rotation.plan(session.roster, settings, history, today, weeks)
    first = next((slot for slot in slots if slot.peer is not None and slot.peer.key == peer.key), None)
    if first is None:
        return None
    return Series(first, len(session.roster.active_on(first.date)), slots)
