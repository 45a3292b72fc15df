"""TOML files in and out: validation with line numbers, atomic writes, one lock, private permissions.

Storage knows files and TOML, nothing of the terminal. Every read-modify-write runs inside `Store.locked()`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import re
import time
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from peerloop import values
from peerloop.errors import DataFileError, StorageError
from peerloop.models import (
    WEEKDAYS,
    Entry,
    FollowUp,
    Journal,
    JournalYear,
    Meeting,
    Mode,
    Peer,
    Reflection,
    Review,
    Roster,
    Settings,
    Skip,
)

SCHEMA_VERSION = 1
ROSTER_FILE = "roster.toml"
CALENDAR_FILE = "calendar.toml"
JOURNAL_DIR = "journal"
LOCK_FILE = ".lock"
FILE_MODE = 0o600
DIR_MODE = 0o700
DEFAULT_LOCK_TIMEOUT = 10.0

_JOURNAL_NAME = re.compile(r"^(\d{4})\.toml$")

ROSTER_HEADER = """\
# peerloop roster: your settings and the peers you meet, one a week.
# Hand edits are fine (run `peerloop doctor` after); peerloop rewrites this file, so comments are not kept.
"""
JOURNAL_HEADER = """\
# peerloop journal: confidential. Meetings, skips, reflections and reviews dated in this year.
"""
CALENDAR_HEADER = """\
# peerloop calendar state: the UIDs and sequence numbers of exported events, so re-imports update.
"""

T = TypeVar("T")


class Store:
    """One peerloop data folder."""

    def __init__(self, home: Path, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> None:
        self.home = home
        self.lock_timeout = lock_timeout
        self._staged: dict[Path, str] | None = None

    @property
    def roster_path(self) -> Path:
        return self.home / ROSTER_FILE

    @property
    def calendar_path(self) -> Path:
        return self.home / CALENDAR_FILE

    @property
    def journal_dir(self) -> Path:
        return self.home / JOURNAL_DIR

    @property
    def lock_path(self) -> Path:
        return self.home / LOCK_FILE

    def year_path(self, year: int) -> Path:
        return self.journal_dir / f"{year:04d}.toml"

    # --- locking -------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the folder's exclusive lock; wait at most `lock_timeout` seconds for another process."""
        import fcntl

        ensure_private_dir(self.home)
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        except OSError as error:
            raise _write_error(self.lock_path, error) from None
        try:
            deadline = time.monotonic() + self.lock_timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise StorageError(
                            f"another peerloop process has held {self.lock_path} for over "
                            f"{self.lock_timeout:g} s; let it finish and try again"
                        ) from None
                    time.sleep(0.02)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    # --- writing several files as one change ----------------------------------------------------------------

    @contextlib.contextmanager
    def together(self) -> Iterator[None]:
        """Write the files saved inside the block as one change, when the block ends (use it under the lock).

        Every file is written to its temp file before the first one replaces its file (see `atomic_write_all`):
        a full disk or a read-only folder then leaves every file as it was, never some old and some new
        (a rename that rewrote the journal but not the roster). Nothing is written if the block raises.
        """
        if self._staged is not None:  # inside another block: that one writes
            yield
            return
        self._staged = {}
        try:
            yield
            staged = self._staged
        finally:
            self._staged = None
        atomic_write_all(staged.items())

    def write(self, path: Path, text: str) -> None:
        """Replace the file atomically: now, or at the end of the `together()` block running."""
        if self._staged is not None:
            self._staged[path] = text
        else:
            atomic_write(path, text)

    # --- roster --------------------------------------------------------------------------------------------

    def load_roster(self) -> Roster:
        """The roster, or an empty one when the file does not exist yet."""
        loaded = read_toml(self.roster_path)
        if loaded is None:
            return Roster()
        return roster_from_toml(*loaded, path=self.roster_path)

    def save_roster(self, roster: Roster) -> None:
        self.write(self.roster_path, ROSTER_HEADER + dump_toml(roster_to_toml(roster)))

    def update_roster(self, change: Callable[[Roster], Roster]) -> Roster:
        """Read, change and write the roster under the lock; returns the roster as written."""
        with self.locked():
            roster = change(self.load_roster())
            self.save_roster(roster)
            return roster

    # --- journal -------------------------------------------------------------------------------------------

    def journal_years(self) -> list[int]:
        """The years that have a journal file, oldest first (a directory listing: no file is read)."""
        try:
            names = os.listdir(self.journal_dir)
        except FileNotFoundError:
            return []
        except NotADirectoryError:
            raise DataFileError(f"{self.journal_dir} is not a folder; move it away and try again") from None
        return sorted(int(match[1]) for name in names if (match := _JOURNAL_NAME.match(name)))

    def load_year(self, year: int) -> JournalYear:
        loaded = read_toml(self.year_path(year))
        if loaded is None:
            return JournalYear(year=year)
        return journal_year_from_toml(*loaded, year=year, path=self.year_path(year))

    def load_journal(self, years: Iterable[int] | None = None) -> Journal:
        """The given years (default: every year on disk), oldest first."""
        chosen = self.journal_years() if years is None else sorted(set(years))
        return Journal(years=tuple(self.load_year(year) for year in chosen))

    def save_year(self, journal_year: JournalYear) -> None:
        ensure_private_dir(self.journal_dir)
        path = self.year_path(journal_year.year)
        self.write(path, JOURNAL_HEADER + dump_toml(journal_year_to_toml(journal_year)))

    # --- calendar state ------------------------------------------------------------------------------------

    def load_calendar_state(self) -> dict[str, Any]:
        loaded = read_toml(self.calendar_path)
        if loaded is None:
            return {"schema_version": SCHEMA_VERSION}
        data, _ = loaded
        check_schema(data, self.calendar_path)
        return data

    def save_calendar_state(self, state: Mapping[str, Any]) -> None:
        self.write(
            self.calendar_path, CALENDAR_HEADER + dump_toml({**state, "schema_version": SCHEMA_VERSION})
        )


# --- files -------------------------------------------------------------------------------------------------


def ensure_private_dir(path: Path) -> None:
    """Create the folder (and parents) if needed; a folder peerloop creates is private to the user."""
    if path.is_dir():
        return
    if path.parent != path:
        ensure_private_dir(path.parent)  # mkdir(parents=True) would leave new parents to the umask
    try:
        path.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(path, DIR_MODE)
    except OSError as error:
        raise _write_error(path, error) from None


def atomic_write(path: Path, text: str) -> None:
    """Replace `path` with `text` so that a crash at any point leaves either the old or the new file.

    The temp file lives in the same folder (so the rename is atomic), is private from its creation,
    is flushed and fsynced before `os.replace`, and is removed if anything fails.
    """
    atomic_write_all([(path, text)])


def atomic_write_all(files: Iterable[tuple[Path, str]]) -> None:
    """`atomic_write` for several files at once: every temp file is written and fsynced before the first
    `os.replace`, so a fault while writing (a full disk, a read-only or forbidden folder) leaves every
    file as it was. The renames follow in the order given.
    """
    prepared: list[tuple[str, Path]] = []
    try:
        for path, text in files:
            ensure_private_dir(path.parent)
            prepared.append((_write_temp(path, text.encode("utf-8")), path))
        while prepared:
            temp_name, path = prepared[0]
            try:
                os.replace(temp_name, path)
            except OSError as error:
                raise _write_error(path, error) from None
            prepared.pop(0)
            _fsync_dir(path.parent)
    finally:
        for temp_name, _ in prepared:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)


def _write_temp(path: Path, data: bytes) -> str:
    """A private temp file beside `path` holding `data`, synced to the disk; removed again if that fails."""
    try:
        fd, temp_name = _create_temp(path)
    except OSError as error:
        raise _write_error(path, error) from None
    try:
        try:
            os.fchmod(fd, FILE_MODE)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        if isinstance(error, OSError):
            raise _write_error(path, error) from None
        raise
    return temp_name


def _create_temp(path: Path) -> tuple[int, str]:
    """A new private file `.NAME.<pid>-<n>.tmp` beside `path` (importing tempfile costs more than the write; docs/performance.md)."""
    for attempt in range(100):
        name = str(path.parent / f".{path.name}.{os.getpid()}-{time.monotonic_ns()}-{attempt}.tmp")
        try:
            return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE), name
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temp file name", str(path.parent))


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_error(path: Path, error: OSError) -> StorageError:
    reasons = {
        errno.ENOSPC: "the disk is full; free some space and try again",
        errno.EDQUOT: "the disk quota is exceeded; free some space and try again",
        errno.EROFS: "the file system is read-only; point --home or PEERLOOP_HOME at a writable folder",
        errno.EACCES: "permission denied; check the folder's owner and permissions",
        errno.EPERM: "permission denied; check the folder's owner and permissions",
    }
    reason = reasons.get(error.errno or 0, error.strerror or str(error))
    return StorageError(f"could not write {path}: {reason}. Nothing was changed")


def read_toml(path: Path) -> tuple[dict[str, Any], str] | None:
    """The parsed file and its text, or None when it does not exist. Any other problem is a DataFileError."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise DataFileError(f"{path} is a folder, not a file; move it away and try again") from None
    except OSError as error:
        raise DataFileError(f"cannot read {path}: {error.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise DataFileError(
            f"{path} line {line}: not UTF-8 text (damaged?); restore it from a backup or fix it by hand"
        ) from None
    if not text.strip():
        raise DataFileError(f"{path} is empty; restore it from a backup, or delete it to start afresh")
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as error:
        raise DataFileError(f"{path}: {_describe_toml_error(error)}; fix that line by hand") from None


def _describe_toml_error(error: tomllib.TOMLDecodeError) -> str:
    """'line 3: Invalid value' from tomllib's 'Invalid value (at line 3, column 5)'."""
    message = str(error)
    match = re.search(r"^(.*) \(at line (\d+), column (\d+)\)$", message)
    if match:
        return f"line {match[2]}, column {match[3]}: invalid TOML ({match[1]})"
    match = re.search(r"^(.*) \(at end of document\)$", message)
    if match:
        return f"at the end of the file: invalid TOML ({match[1]})"
    return f"invalid TOML ({message})"


def dump_toml(data: Mapping[str, Any]) -> str:
    """TOML with every table under its own header (`[settings]`, `[[peers]]`), as a person would write it."""
    return _dump_table((), _without_empty(data)).lstrip("\n")


def _dump_table(path: tuple[str, ...], table: Mapping[str, Any]) -> str:
    import tomli_w

    def is_aot(value: Any) -> bool:
        return isinstance(value, list) and bool(value) and all(isinstance(item, Mapping) for item in value)

    plain = {k: v for k, v in table.items() if not isinstance(v, Mapping) and not is_aot(v)}
    parts = [tomli_w.dumps(plain)]
    for key, value in table.items():
        if isinstance(value, Mapping):
            parts.append(f"\n[{_dotted((*path, key))}]\n" + _dump_table((*path, key), value))
        elif is_aot(value):
            for item in value:
                parts.append(f"\n[[{_dotted((*path, key))}]]\n" + _dump_table((*path, key), item))
    return "".join(parts)


def _dotted(path: tuple[str, ...]) -> str:
    import json

    # JSON escapes every control character TOML forbids in a basic string except DEL.
    return ".".join(
        k
        if re.fullmatch(r"[A-Za-z0-9_-]+", k)
        else json.dumps(k, ensure_ascii=False).replace("\x7f", "\\u007f")
        for k in path
    )


def _without_empty(data: Mapping[str, Any]) -> dict[str, Any]:
    """Drop unset values: TOML has no null, and an absent key reads back as None.

    Only None is dropped: the `*_to_toml` functions give None for a known list that is empty, while an
    unknown key's empty list (`tags = []` from a newer peerloop) must be written back as it was.
    """
    cleaned: dict[str, Any] = {}
    for key, value in data.items():
        if value is None:
            continue
        if isinstance(value, Mapping):
            cleaned[key] = _without_empty(value)
        elif isinstance(value, list | tuple):
            cleaned[key] = [_without_empty(item) if isinstance(item, Mapping) else item for item in value]
        else:
            cleaned[key] = value
    return cleaned


def check_schema(data: Mapping[str, Any], path: Path) -> None:
    version = data.get("schema_version", SCHEMA_VERSION)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise DataFileError(
            f"{path}: schema_version must be a whole number such as {SCHEMA_VERSION}; fix it by hand"
        )
    if version > SCHEMA_VERSION:
        raise DataFileError(
            f"{path} was written by a newer peerloop (schema {version}; this one reads up to "
            f"{SCHEMA_VERSION}); upgrade peerloop to use it"
        )


# --- reading tables with errors that point at the line -----------------------------------------------------


class _Fields:
    """Typed access to one TOML table; every error names the file, the line and the key."""

    def __init__(self, data: Any, path: Path, text: str, where: tuple[str, int | None], label: str) -> None:
        self.path, self.text, self.where, self.label = path, text, where, label
        if not isinstance(data, dict):
            self.fail(None, "must be a table")
        self.data: dict[str, Any] = data
        self.used: set[str] = set()

    def fail(self, key: str | None, problem: str) -> NoReturn:
        line = _line_of(self.text, self.where, key)
        at = f" line {line}" if line else ""
        subject = f"{self.label} '{key}'" if key else self.label
        raise DataFileError(
            f"{self.path}{at}: {subject} {problem}; fix it by hand, then run `peerloop doctor`"
        )

    def get(self, key: str, kind: type[T], required: bool = False) -> T | None:
        self.used.add(key)
        value = self.data.get(key)
        if value is None:
            if required:
                self.fail(key, "is missing")
            return None
        if (
            not isinstance(value, kind)
            or (kind is int and isinstance(value, bool))
            or (kind is dt.date and isinstance(value, dt.datetime))  # a datetime is a date to isinstance
        ):
            type_names = {str: "text in quotes", int: "a whole number", bool: "true or false",
                          dt.date: "a date like 2026-03-17", dt.time: "a time like 08:30:00",
                          list: "a list"}  # fmt: skip
            if kind is dt.date and isinstance(value, dt.datetime):
                self.fail(key, "must be a date without a time, like 2026-03-17")
            self.fail(key, f"must be {type_names.get(kind, kind.__name__)}")
        return value

    def text_list(self, key: str) -> tuple[str, ...]:
        items = self.get(key, list) or []
        if not all(isinstance(item, str) for item in items):
            self.fail(key, "must be a list of texts in quotes")
        return tuple(items)

    def parsed(self, key: str, parse: Callable[[str], T], required: bool = False) -> T | None:
        raw = self.get(key, str, required)
        if raw is None:
            return None
        try:
            return parse(raw)
        except ValueError as error:
            self.fail(key, f"is wrong: {error}")

    def required(self, value: T | None) -> T:
        assert value is not None, "a required key was checked by get()"
        return value

    def extra(self) -> dict[str, Any]:
        return {key: value for key, value in self.data.items() if key not in self.used}


def _line_of(text: str, where: tuple[str, int | None], key: str | None) -> int | None:
    """The line of `key` inside table `where` (name, index for arrays of tables), or the table's header."""
    table, index = where
    lines = text.split("\n")  # as TOML counts lines: splitlines() also breaks at U+2028, U+0085 and more
    if table:
        pattern = re.compile(r"^\s*\[\[\s*" + re.escape(table) + r"\s*\]\]" if index is not None
                             else r"^\s*\[\s*" + re.escape(table) + r"\s*\]")  # fmt: skip
        headers = [n for n, line in enumerate(lines) if pattern.match(line)]
        position = index or 0
        if position >= len(headers):
            return None
        start = headers[position]
    else:
        start = -1
    if key is not None:
        key_pattern = re.compile(r"^\s*[\"']?" + re.escape(key) + r"[\"']?\s*=")
        for n in range(start + 1, len(lines)):
            if lines[n].lstrip().startswith("["):
                break
            if key_pattern.match(lines[n]):
                return n + 1
    return start + 1 if start >= 0 else None


def _settings_from_toml(data: Any, path: Path, text: str) -> Settings:
    f = _Fields(data, path, text, ("settings", None), "setting")
    name = f.parsed("name", values.clean_name, required=True)
    timezone = f.parsed("timezone", values.check_zone, required=True)
    weekday = f.parsed("weekday", values.parse_weekday, required=True)
    start = f.get("time", dt.time, required=True)
    duration = f.get("duration", int)
    duration = 45 if duration is None else duration
    if not 5 <= duration <= 24 * 60:
        f.fail("duration", "must be between 5 and 1440 minutes")
    mode = f.parsed("mode", values.parse_mode) or Mode.COFFEE
    trial_start = f.get("trial_start", dt.date, required=True)
    trial_months = f.get("trial_months", int)
    trial_months = 6 if trial_months is None else trial_months
    if not 1 <= trial_months <= 24:
        f.fail("trial_months", "must be between 1 and 24")
    email = f.parsed("email", values.check_email)
    return Settings(
        name=f.required(name),
        timezone=f.required(timezone),
        weekday=f.required(weekday),
        time=f.required(start).replace(second=0, microsecond=0, tzinfo=None),
        duration=duration,
        mode=mode,
        trial_start=f.required(trial_start),
        trial_months=trial_months,
        email=email,
        extra=f.extra(),
    )


def _settings_to_toml(settings: Settings) -> dict[str, Any]:
    return {
        "name": settings.name,
        "email": settings.email,
        "timezone": settings.timezone,
        "weekday": WEEKDAYS[settings.weekday],
        "time": settings.time,
        "duration": settings.duration,
        "mode": settings.mode.value,
        "trial_start": settings.trial_start,
        "trial_months": settings.trial_months,
        **settings.extra,
    }


def _peer_from_toml(data: Any, index: int, path: Path, text: str) -> Peer:
    f = _Fields(data, path, text, ("peers", index), f"peer #{index + 1}")
    name = f.required(f.parsed("name", values.clean_name, required=True))
    f.label = f"peer {name!r}"
    return Peer(
        name=name,
        added=f.required(f.get("added", dt.date, required=True)),
        email=f.parsed("email", values.check_email),
        org=f.get("org", str),
        mode=f.parsed("mode", values.parse_mode),
        note=f.get("note", str),
        paused_until=f.get("paused_until", dt.date),
        extra=f.extra(),
    )


def _peer_to_toml(peer: Peer) -> dict[str, Any]:
    return {
        "name": peer.name,
        "email": peer.email,
        "org": peer.org,
        "mode": peer.mode.value if peer.mode else None,
        "note": peer.note,
        "added": peer.added,
        "paused_until": peer.paused_until,
        **peer.extra,
    }


def roster_from_toml(data: dict[str, Any], text: str, path: Path) -> Roster:
    check_schema(data, path)
    settings = _settings_from_toml(data["settings"], path, text) if "settings" in data else None
    raw_peers = data.get("peers", [])
    if not isinstance(raw_peers, list):
        raise DataFileError(f"{path}: 'peers' must be written as [[peers]] tables; fix it by hand")
    peers = tuple(_peer_from_toml(item, n, path, text) for n, item in enumerate(raw_peers))
    seen: dict[str, int] = {}
    for n, peer in enumerate(peers):
        if peer.key in seen:
            line = _line_of(text, ("peers", n), "name")
            raise DataFileError(
                f"{path} line {line}: peer {peer.name!r} is listed twice (names are unique whatever their case); "
                "remove or rename one by hand"
            )
        seen[peer.key] = n
    extra = {key: value for key, value in data.items() if key not in {"schema_version", "settings", "peers"}}
    return Roster(settings=settings, peers=peers, extra=extra)


def roster_to_toml(roster: Roster) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        **roster.extra,
        "settings": _settings_to_toml(roster.settings) if roster.settings else None,
        "peers": [_peer_to_toml(peer) for peer in roster.peers] or None,
    }


# --- journal entries ---------------------------------------------------------------------------------------


def _meeting_from_toml(f: _Fields) -> Meeting:
    follow_ups = tuple(FollowUp(text) for text in f.text_list("follow_ups")) + tuple(
        FollowUp(text, done=True) for text in f.text_list("follow_ups_done")
    )
    return Meeting(
        id=f.required(f.get("id", str, required=True)),
        date=f.required(f.get("date", dt.date, required=True)),
        peer=f.required(f.get("peer", str, required=True)),
        mode=f.required(f.parsed("mode", values.parse_mode, required=True)),
        issue=f.get("issue", str),
        gains=tuple(_parse_each(f, "gains", values.parse_gain)),
        win=f.get("win", str),
        works=f.get("works", str),
        improve=f.get("improve", str),
        follow_ups=tuple(follow_ups),
        note=f.get("note", str),
        extra=f.extra(),
    )


def _parse_each(f: _Fields, key: str, parse: Callable[[str], T]) -> list[T]:
    parsed = []
    for item in f.text_list(key):
        try:
            parsed.append(parse(item))
        except ValueError as error:
            f.fail(key, f"is wrong: {error}")
    return parsed


def _meeting_to_toml(meeting: Meeting) -> dict[str, Any]:
    return {
        "id": meeting.id,
        "date": meeting.date,
        "peer": meeting.peer,
        "mode": meeting.mode.value,
        "issue": meeting.issue,
        "gains": [gain.value for gain in meeting.gains] or None,
        "win": meeting.win,
        "works": meeting.works,
        "improve": meeting.improve,
        "follow_ups": [item.text for item in meeting.follow_ups if not item.done] or None,
        "follow_ups_done": [item.text for item in meeting.follow_ups if item.done] or None,
        "note": meeting.note,
        **meeting.extra,
    }


def _skip_from_toml(f: _Fields) -> Skip:
    return Skip(
        id=f.required(f.get("id", str, required=True)),
        date=f.required(f.get("date", dt.date, required=True)),
        reason=f.get("reason", str) or "",
        peer=f.get("peer", str),
        extra=f.extra(),
    )


def _skip_to_toml(skip: Skip) -> dict[str, Any]:
    return {"id": skip.id, "date": skip.date, "peer": skip.peer, "reason": skip.reason, **skip.extra}


def _reflection_from_toml(f: _Fields) -> Reflection:
    return Reflection(
        id=f.required(f.get("id", str, required=True)),
        date=f.required(f.get("date", dt.date, required=True)),
        names=f.text_list("names"),
        why=f.get("why", str),
        excuses=f.text_list("excuses"),
        ceo=f.get("ceo", str),
        extra=f.extra(),
    )


def _reflection_to_toml(reflection: Reflection) -> dict[str, Any]:
    return {
        "id": reflection.id,
        "date": reflection.date,
        "names": list(reflection.names) or None,
        "why": reflection.why,
        "excuses": list(reflection.excuses) or None,
        "ceo": reflection.ceo,
        **reflection.extra,
    }


def _review_from_toml(f: _Fields) -> Review:
    return Review(
        id=f.required(f.get("id", str, required=True)),
        date=f.required(f.get("date", dt.date, required=True)),
        trial_start=f.required(f.get("trial_start", dt.date, required=True)),
        added_value=f.required(f.parsed("added_value", values.parse_verdict, required=True)),
        decision=f.required(f.parsed("decision", values.parse_decision, required=True)),
        works=f.get("works", str),
        improve=f.get("improve", str),
        early=bool(f.get("early", bool)),
        extra=f.extra(),
    )


def _review_to_toml(review: Review) -> dict[str, Any]:
    return {
        "id": review.id,
        "date": review.date,
        "trial_start": review.trial_start,
        "added_value": review.added_value.value,
        "decision": review.decision.value,
        "works": review.works,
        "improve": review.improve,
        "early": review.early or None,
        **review.extra,
    }


_KINDS = ("meetings", "skips", "reflections", "reviews")


def journal_year_from_toml(data: dict[str, Any], text: str, year: int, path: Path) -> JournalYear:
    check_schema(data, path)
    readers: dict[str, Callable[[_Fields], Entry]] = {
        "meetings": _meeting_from_toml,
        "skips": _skip_from_toml,
        "reflections": _reflection_from_toml,
        "reviews": _review_from_toml,
    }
    parsed: dict[str, list[Any]] = {}
    seen_ids: set[str] = set()
    for kind, read in readers.items():
        items = data.get(kind, [])
        if not isinstance(items, list):
            raise DataFileError(f"{path}: '{kind}' must be written as [[{kind}]] tables; fix it by hand")
        parsed[kind] = []
        for n, item in enumerate(items):
            fields = _Fields(item, path, text, (kind, n), f"{kind[:-1]} #{n + 1}")
            entry = read(fields)
            if entry.date.year != year:
                fields.fail("date", f"is in {entry.date.year}, but this file holds {year}; move the entry")
            if entry.id in seen_ids:
                fields.fail("id", f"{entry.id!r} is used twice in this file; give one a new id")
            seen_ids.add(entry.id)
            parsed[kind].append(entry)
    extra = {key: value for key, value in data.items() if key not in {"schema_version", *_KINDS}}
    return JournalYear(
        year=year,
        meetings=tuple(parsed["meetings"]),
        skips=tuple(parsed["skips"]),
        reflections=tuple(parsed["reflections"]),
        reviews=tuple(parsed["reviews"]),
        extra=extra,
    )


def journal_year_to_toml(journal_year: JournalYear) -> dict[str, Any]:
    by_date: Callable[[Any], Any] = lambda entry: (entry.date, entry.id)  # noqa: E731
    return {
        "schema_version": SCHEMA_VERSION,
        **journal_year.extra,
        "meetings": [_meeting_to_toml(m) for m in sorted(journal_year.meetings, key=by_date)] or None,
        "skips": [_skip_to_toml(s) for s in sorted(journal_year.skips, key=by_date)] or None,
        "reflections": [_reflection_to_toml(r) for r in sorted(journal_year.reflections, key=by_date)]
        or None,
        "reviews": [_review_to_toml(r) for r in sorted(journal_year.reviews, key=by_date)] or None,
    }


def entry_id(day: dt.date, taken: Iterable[str]) -> str:
    """A short id that says when the entry is dated: YYYYMMDD-N, the first N not yet taken."""
    prefix = f"{day:%Y%m%d}-"
    used = set(taken)
    n = 1
    while f"{prefix}{n}" in used:
        n += 1
    return f"{prefix}{n}"
