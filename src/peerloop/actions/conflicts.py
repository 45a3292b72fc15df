"""Conflict copies a sync tool left in the data folder, merged into their files (`doctor --fix`), and the same
merge for git (`merge-file`): the rules are `core.merge`'s, this reads and writes the files.

`doctor --fix` merges every copy of a data file into the file it copies, and deletes the copies, in one
transaction (the deletions are in the commit record: a kill at any step leaves all of it or none). Copies of
a device's own files (a lock, a cache) hold nothing to merge and are deleted. After a merge, entries that
name a peer by a name the roster now knows as a former one (another device logged under it before the
rename reached it) are renamed, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from peerloop.core.merge.journal import merge_years, with_current_names
from peerloop.core.merge.roster import merge_rosters
from peerloop.core.merge.tables import merge_calendar, merge_connections
from peerloop.errors import DataFileError
from peerloop.store.copies import Copy, find_copies
from peerloop.store.records import Store

T = TypeVar("T")


class Merge(NamedTuple):
    done: list[str]
    """What was merged, one line per file."""
    notes: list[str]
    """What the user must hear: records both devices changed, and what was kept of each."""


def data_copies(store: Store) -> list[Copy]:
    return [copy for copy in find_copies(store.home) if copy.of_data]


def merge_copies(store: Store) -> Merge:
    """Merge every conflict copy into its file and delete it, in one transaction; delete copies of a device's
    own files. A copy that cannot be read stops the merge with nothing changed (one line: which, and why)."""
    done: list[str] = []
    notes: list[str] = []
    copies = find_copies(store.home)
    with store.change():
        roster = store.load_roster()
        for copy in _of(copies, store.roster_path):
            roster, said = merge_rosters(None, roster, _read(copy, store.load_roster, copy.path))
            notes += said
            done.append(_merged(store, copy))
        if any(copy.original == store.roster_path for copy in copies):
            store.save_roster(roster, merged=True)
        for year in store.journal_years():
            journal_year = merged = store.load_year(year)
            for copy in _of(copies, store.year_path(year)):
                other = _read(copy, store.load_year, year, copy.path)
                merged, said = merge_years(None, merged, other)
                notes += said
                done.append(_merged(store, copy))
            merged, renamed = with_current_names(merged, roster)
            if renamed:
                done.append(f"{_name(store, store.year_path(year))}: entries under {', '.join(renamed)} now name "
                            "the peer as the roster does (renamed on another device)")  # fmt: skip
            if merged != journal_year:
                store.save_year(merged, merged=True)
        for path, merge in (
            (store.calendar_path, merge_calendar),
            (store.connections_path, merge_connections),
        ):
            tables = store.load_table(path)
            for copy in _of(copies, path):
                tables, said = merge(None, tables, _read(copy, store.load_table, copy.path))
                notes += said
                done.append(_merged(store, copy))
            if _of(copies, path):
                _save_tables(store, path, tables)
        for copy in copies:
            if copy.of_data:
                store.delete_on_commit(copy.path)
    for copy in copies:
        if not copy.of_data:
            copy.path.unlink(missing_ok=True)
            done.append(f"deleted {_name(store, copy.path)}, a conflict copy of a device's own file")
    return Merge(done, notes)


def rename_former_names(store: Store) -> list[str]:
    """Entries that name a peer by a former name, renamed as the roster names them now (one transaction)."""
    done = []
    with store.change():
        roster = store.load_roster()
        for year in store.journal_years():
            journal_year, renamed = with_current_names(store.load_year(year), roster)
            if renamed:
                store.save_year(journal_year, merged=True)
                done.append(f"{_name(store, store.year_path(year))}: entries under {', '.join(renamed)} now name "
                            "the peer as the roster does")  # fmt: skip
    return done


def former_names(store: Store) -> list[tuple[int, list[str]]]:
    """(year, names) for each journal year whose entries name a peer by a name the roster knows as former."""
    roster = store.load_roster()
    found = []
    for year in store.journal_years():
        _, renamed = with_current_names(store.load_year(year), roster)
        if renamed:
            found.append((year, renamed))
    return found


def _of(copies: list[Copy], original: Path) -> list[Copy]:
    return [copy for copy in copies if copy.of_data and copy.original == original]


def _read(copy: Copy, load: Callable[..., T], *args: Any) -> T:
    """What a copy holds, read as its file is; a copy that cannot be read is named in the error."""
    try:
        return load(*args)
    except DataFileError as error:
        raise DataFileError(
            f"cannot merge the conflict copy {copy.path.name}: {error.message} (fix the copy by hand, or delete "
            "it if it holds nothing you need); nothing was changed"
        ) from None


def _merged(store: Store, copy: Copy) -> str:
    return f"merged {_name(store, copy.path)} ({copy.tool}) into {_name(store, copy.original)}"


def _name(store: Store, path: Path) -> str:
    return str(path.relative_to(store.home))


def _save_tables(store: Store, path: Path, tables: dict[str, Any]) -> None:
    """calendar.toml or connections.toml as merged, every value checked as a command would read it."""
    from peerloop.core.calendar.state import state_from_toml
    from peerloop.store.codecs import connections as connections_file
    from peerloop.store.codecs.toml import dump_toml

    if path == store.calendar_path:
        try:
            state_from_toml(tables, new_home_id="unused00")
        except ValueError as error:
            raise DataFileError(f"{path} as merged: {error}; nothing was changed") from None
        store.save_calendar_state({key: value for key, value in tables.items() if key != "schema_version"})
        return
    store.save_connections(connections_file.from_toml(dump_toml(tables), path))
