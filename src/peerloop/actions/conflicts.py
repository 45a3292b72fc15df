"""Conflict copies a sync tool left in the data folder, merged into their files (`doctor --fix`) in one
transaction, and the same merge for git (`merge-file`): the rules are `core.merge`'s, this reads and writes
the files (docs/storage.md, "Merging").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from peerloop.core.merge.journal import merge_years, with_current_names
from peerloop.core.merge.roster import merge_rosters
from peerloop.core.merge.tables import merge_calendar, merge_connections
from peerloop.core.models import JournalYear
from peerloop.errors import DataFileError
from peerloop.store.copies import Copy, find_copies
from peerloop.store.layout import SEALED
from peerloop.store.records import Store

T = TypeVar("T")


class Merge(NamedTuple):
    done: list[str]
    """What was merged, one line per file."""
    notes: list[str]
    """What the user must hear: records both devices changed, and what was kept of each."""


def merge_copies(store: Store) -> Merge:
    """Merge every conflict copy into its file and delete it, in one transaction; delete copies of a device's
    own files. A copy that cannot be read stops the merge with nothing changed (one line: which, and why)."""
    done: list[str] = []
    notes: list[str] = []
    copies = find_copies(store.home) + other_form_copies(store)
    with store.change():
        roster = store.load_roster()
        for copy in _of(copies, store.roster_path):
            roster, said = merge_rosters(None, roster, _read(copy, store.load_roster, copy.path))
            notes += said
            done.append(_merged(store, copy))
        if any(copy.original == store.roster_path for copy in copies):
            store.save_roster(roster, merged=True)
        copied = {
            int(c.original.name[:4]) for c in copies if c.of_data and c.original.parent == store.journal_dir
        }
        for year in sorted({*store.journal_years(), *copied}):  # a copy whose file is gone is merged too
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


def other_form_copies(store: Store) -> list[Copy]:
    """A data file in the other form than the folder's: another device changed it before the `encrypt` (or
    `decrypt`) made on this one reached it, or the sync tool brought back what that change deleted. In an
    encrypted folder a clear file beside its encrypted one; in a folder `decrypt` made clear, an encrypted
    file, opened with the keys the folder kept (`earlier-keys.age`). Merged as a conflict copy is, and deleted."""
    if store.folder.sealed():
        found = [(path, path.with_name(path.name + SEALED)) for path in store.folder.other_copies()]
        return [Copy(path, sealed, "a clear copy") for path, sealed in found if sealed.exists()]
    if not store.folder.earlier_keys_path.exists():
        return []
    return [Copy(path, path.with_name(path.name.removesuffix(SEALED)), "an encrypted copy")
            for path in store.folder.other_copies()]  # fmt: skip


def rename_former_names(store: Store) -> list[str]:
    """Entries that name a peer by a former name, renamed as the roster names them now (one transaction)."""
    with store.change():
        found = former_names(store)
        for journal_year, _ in found:
            store.save_year(journal_year, merged=True)
    return [
        f"{_name(store, store.year_path(journal_year.year))}: entries under {', '.join(renamed)} now name "
        "the peer as the roster does"
        for journal_year, renamed in found
    ]


def former_names(store: Store) -> list[tuple[JournalYear, list[str]]]:
    """Each journal year whose entries name a peer by a name the roster knows as former, those entries
    renamed, and the names."""
    roster = store.load_roster()
    found = [with_current_names(store.load_year(year), roster) for year in store.journal_years()]
    return [(journal_year, renamed) for journal_year, renamed in found if renamed]


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


# --- git's merge driver -------------------------------------------------------------------------------------

KINDS = ("roster", "journal", "calendar", "connections", "busy")


def kind_of_file(name: str | None, data: dict[str, Any]) -> tuple[str, int | None]:
    """Which data file a merge is about, and its year for a journal: by its path in the folder when git gives
    it (%P), else by what it holds."""
    import re

    if name:
        base = Path(name).name
        year = re.fullmatch(r"(\d{4})\.toml", base)
        if year and Path(name).parent.name == "journal":
            return "journal", int(year[1])
        if base in {f"{kind}.toml" for kind in KINDS if kind != "journal"}:
            return base.removesuffix(".toml"), None
    if "settings" in data or "peers" in data:
        return "roster", None
    if "home_id" in data or "events" in data:
        return "calendar", None
    if "refreshed_at" in data:
        return "busy", None
    if {"caldav", "smtp", "sendmail", "busy", "free_time"} & data.keys():
        return "connections", None
    return "journal", None


WHICH = ("common", "ours", "theirs")


def merge_texts(base: str | None, ours: str, theirs: str, name: str | None) -> tuple[str, list[str]]:
    """Three versions of one data file (git's %O, %A, %B) merged as `doctor --fix` merges a conflict copy, but
    knowing the common version: the merged text, and what the user must hear. Raises DataFileError (one line)
    when a version cannot be read as peerloop data."""
    from peerloop.core.calendar.state import state_from_toml
    from peerloop.store.codecs import connections as connections_file
    from peerloop.store.codecs import journal as journal_file
    from peerloop.store.codecs import roster as roster_file
    from peerloop.store.codecs.schema import SCHEMA_VERSION, upgraded
    from peerloop.store.codecs.toml import dump_toml, parse
    from peerloop.store.records import CALENDAR_HEADER, CONNECTIONS_HEADER
    from peerloop.store.written import KEY

    shown = name or "the merged file"
    texts = dict(zip(WHICH, (base or "", ours, theirs), strict=True))
    data = {w: parse(text, Path(f"{shown} ({w})")) if text.strip() else None for w, text in texts.items()}
    for version in data.values():
        if version is not None:  # which change wrote it: not part of what it says (the merge is a new change)
            version.pop(KEY, None)
    if data["ours"] is None or data["theirs"] is None:
        raise DataFileError(f"{shown}: one side of the merge is empty; resolve it by hand")
    kind, year = kind_of_file(name, data["ours"])

    def read(decode: Callable[[dict[str, Any], str, Path], T]) -> list[T | None]:
        """Each version as records; an error names the version."""
        return [None if data[w] is None else decode(data[w], texts[w], Path(f"{shown} ({w})")) for w in WHICH]  # type: ignore[arg-type]

    if kind == "roster":
        rosters = read(roster_file.roster_from_toml)
        roster, notes = merge_rosters(rosters[0], rosters[1], rosters[2])  # type: ignore[arg-type]
        return roster_file.roster_text(roster), notes
    if kind == "journal":
        known = year or _year_in([d for d in data.values() if d is not None])
        if known is None:
            raise DataFileError(f"{shown}: cannot tell which year it holds; give git's %P (docs/guide.md)")
        years = read(lambda d, text, path: journal_file.journal_year_from_toml(d, text, known, path))
        merged, notes = merge_years(years[0], years[1], years[2])  # type: ignore[arg-type]
        return journal_file.year_text(merged), notes
    if kind == "busy":  # a cache: this side's is as good as the other's
        return ours, []
    tables = [None if (d := data[w]) is None else upgraded(d, Path(f"{shown} ({w})"), kind) for w in WHICH]
    if kind == "calendar":
        merged_tables, notes = merge_calendar(tables[0], tables[1], tables[2])  # type: ignore[arg-type]
        try:
            state_from_toml(merged_tables, new_home_id="unused00")
        except ValueError as error:
            raise DataFileError(f"{shown} as merged: {error}") from None
        return CALENDAR_HEADER + dump_toml({**merged_tables, "schema_version": SCHEMA_VERSION}), notes
    merged_tables, notes = merge_connections(tables[0], tables[1], tables[2])  # type: ignore[arg-type]
    record = connections_file.from_toml(dump_toml(merged_tables), Path(shown))
    return CONNECTIONS_HEADER + connections_file.to_toml(record), notes


def _year_in(versions: list[dict[str, Any]]) -> int | None:
    """The year a journal file holds, from its entries' dates (or its forgotten ids): git gave no path."""
    from peerloop.core.ids import id_year

    for data in versions:
        for kind in ("meetings", "skips", "reflections", "reviews", "touches"):
            for item in data.get(kind) or []:
                day = item.get("date") if isinstance(item, dict) else None
                if isinstance(day, dt.date):
                    return day.year
        for key in data.get("forgotten") or {}:
            if id_year(str(key)) is not None:
                return id_year(str(key))
    return None
