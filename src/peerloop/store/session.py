"""What a command reads, as one Session: the roster, the settings, now and today, and only the journal years
the rotation needs, so the weekly commands' cost does not grow with history."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from peerloop import clock
from peerloop.core import journal, rotation
from peerloop.core.models import Journal, JournalYear, Meeting, Peer, Roster, Settings, Skip, peer_key
from peerloop.core.roster import find_peer
from peerloop.errors import DataFileError, NotSetUpError
from peerloop.store import interrupts
from peerloop.store.records import Store

if TYPE_CHECKING:
    from peerloop.core.calendar.state import CalendarState
    from peerloop.core.trial import Evidence, Status


def require_settings(roster: Roster) -> Settings:
    if roster.settings is None:
        raise NotSetUpError("peerloop is not set up yet; run `peerloop init` first")
    return roster.settings


def today_for(roster: Roster) -> dt.date:
    """Today in the leader's zone, or the machine's before the settings exist."""
    zone = roster.settings.timezone if roster.settings else (clock.local_zone() or "UTC")
    return clock.today(zone)


def recent_journal(store: Store, roster: Roster, today: dt.date) -> Journal:
    """The years back from today until every roster peer's last meeting is found, or the year they were added:
    usually this year alone, whatever the length of the history."""
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
    """What a weekly command works on: the roster, settings, now and today, and the journal years it read
    (more load on demand: `year`)."""

    def __init__(self, store: Store, now: dt.datetime | None = None) -> None:
        self.store = store
        self.roster = store.load_roster()
        self.settings = require_settings(self.roster)
        self.now = now or clock.now(self.settings.timezone)
        self.today = self.now.date()
        self.years: dict[int, JournalYear] = {
            y.year: y for y in recent_journal(store, self.roster, self.today).years
        }
        interrupts.step("read")

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

    def next_slot(self, day: dt.date | None = None) -> rotation.Slot | None:
        return rotation.next_slot(self.roster, self.settings, self.history(), day or self.today)

    def require_peer(self, name: str) -> Peer:
        return require_peer(self.store, self.roster, name)


def require_peer(store: Store, roster: Roster, name: str) -> Peer:
    """The roster's peer as typed; a removed peer (still named in the journal) gets its own error."""
    return find_peer(roster, name, lambda: journal_names(store))


def journal_names(store: Store) -> list[str]:
    """Every peer name the whole journal mentions (each peer once): removed peers are found among them."""
    every = store.load_journal()
    return journal.names_in((*every.meetings, *every.skips, *every.touches))


def trial_journal(store: Store, settings: Settings, today: dt.date, before: int = 0) -> Journal:
    """The journal years the current trial can hold (and `before` years earlier), that exist."""
    from peerloop.core.trial import trial_years

    years = trial_years(settings, today)
    on_disk = set(store.journal_years())
    return store.load_journal(y for y in range(years.start - before, years.stop) if y in on_disk)


def load_status(store: Store) -> Status:
    """What `status` (and the prompt line) needs: the trial's years and the rotation's recent years."""
    from peerloop.core.trial import status_of

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
    from peerloop.core.trial import evidence

    roster = store.load_roster()
    settings = require_settings(roster)
    today = clock.today(settings.timezone)
    found = trial_journal(store, settings, today, before=1)
    return roster, settings, found, evidence(roster, settings, found, today)


def calendar_state(store: Store) -> CalendarState:
    """calendar.toml's state (a new random home id when there is none yet)."""
    import secrets

    from peerloop.core.calendar.state import state_from_toml

    try:
        return state_from_toml(store.load_calendar_state(), new_home_id=secrets.token_hex(8))
    except ValueError as error:
        raise DataFileError(
            f"{store.calendar_path}: {error}; fix it by hand, or move the file away to start afresh "
            "(the next import then adds new events instead of updating the old ones)"
        ) from None
