"""A parsed copy of each big data file (years of a busy journal, a roster of hundreds), so that reading them
does not run the TOML parser over every line on every command: tomllib takes about 0.18 ms a KB, this copy
loads in a tenth of that.

Derived, never the only copy of anything, and safe to find changed: it is JSON (data, never code), keyed by a
digest of the exact text it was parsed from, and the same checks run on what it holds as on a fresh parse.
It lives beside its file (`journal/.2026.toml.cache`, 0600), written atomically without the lock (two
processes write the same bytes). It is removed when peerloop writes that file, and replaced when a command
finds it stale, so a deleted note does not live on in it. Files under `MIN_BYTES` (a year of weekly meetings
is about 20 KB) are parsed directly and keep no copy.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from peerloop.errors import DataFileError, StorageError
from peerloop.tomlfile import parse as parse_toml

T = TypeVar("T")

MIN_BYTES = 32 * 1024
"""Counted in characters of the text: a file this long costs tomllib about 6 ms."""
FORMAT = "peerloop toml cache 2"
_TAG = "\x00toml"  # marks a date or time; TOML text can put a NUL in a key only as an escape (never cached)
_TYPES: dict[str, Any] = {
    "date": dt.date.fromisoformat,
    "time": dt.time.fromisoformat,
    "datetime": dt.datetime.fromisoformat,
}


def cache_path(data_path: Path) -> Path:
    return data_path.with_name(f".{data_path.name}.cache")


def orphans(folder: Path) -> list[Path]:
    """The copies in `folder` whose file was deleted or moved away (they still hold what it said)."""
    if not folder.is_dir():
        return []
    return [
        cache
        for cache in sorted(folder.glob(".*.toml.cache"))
        if cache.is_file() and not cache.is_symlink() and not os.path.lexists(copied_path(cache))
    ]


def copied_path(cache: Path) -> Path:
    """The file a copy was made of (`.2026.toml.cache` -> `2026.toml`)."""
    return cache.with_name(cache.name[1 : -len(".cache")])


def load(
    text: str,
    data_path: Path,
    build: Callable[[dict[str, Any]], T],
    unchanged: Callable[[], bool] | None = None,
) -> T:
    """`build(tables)`, the tables being what tomllib makes of `text` (the file at `data_path`): from its copy
    when the copy was made from this very text, else parsed. A copy whose tables `build` refuses is dropped
    and the text parsed: what an error names is the file, never its copy.

    With `unchanged` (whether the file is still the one `text` was read from), a new copy is written, and
    removed again if the file changed meanwhile: a change commits, then removes the copy, so whichever of
    the two comes second, no copy of the old text outlives it. Without, nothing is written (`doctor`)."""
    cache = cache_path(data_path)
    if len(text) < MIN_BYTES or "\\u0000" in text or "\\U00000000" in text:
        if unchanged is not None:
            forget(data_path)  # a copy of an older, bigger text would keep what the file no longer says
        return build(parse_toml(text, data_path))
    import hashlib  # here: only big files pay for importing it (and json)

    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=32).hexdigest()
    found = _read(cache, digest, limit=8 * len(text) + 4096)
    if found is not None:
        try:
            return build(found)
        except DataFileError:
            forget(data_path)
    data = parse_toml(text, data_path)
    built = build(data)
    if unchanged is not None:
        _write(cache, digest, data)
        if not unchanged():
            forget(data_path)
    return built


def forget(data_path: Path, half_written: bool = False) -> None:
    """Remove the file's copy (when it no longer needs one), and with `half_written` (after peerloop wrote
    the file) the temp files of copies a killed process left: they hold what the file said before."""
    cache = cache_path(data_path)
    with contextlib.suppress(OSError):
        os.unlink(cache)
    if half_written:
        _drop_half_written(cache)


def _drop_half_written(cache: Path) -> None:
    """Temp files of copies that killed processes left (or that another process is writing right now: it
    then fails to rename it, which costs it only its copy)."""
    with contextlib.suppress(OSError):
        for name in os.listdir(cache.parent):
            if name.startswith(f".{cache.name}.") and name.endswith(".tmp"):
                os.unlink(cache.parent / name)


def _read(cache: Path, digest: str, limit: int) -> dict[str, Any] | None:
    """The cached tables, if `cache` is a plain file made from the text with this digest; else None."""
    import json

    try:
        fd = os.open(cache, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        raw = b"".join(chunks)
        if b"\\u" in raw and _foreign_escape(raw):
            return None
        found = json.loads(raw, object_hook=_restore)
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None
    finally:
        os.close(fd)
    if not isinstance(found, dict) or found.get("format") != FORMAT or found.get("digest") != digest:
        return None
    data = found.get("data")
    return data if isinstance(data, dict) else None


def _write(cache: Path, digest: str, data: dict[str, Any]) -> None:
    import json

    from peerloop.atomic import replace_atomically

    _drop_half_written(cache)
    document = {"format": FORMAT, "digest": digest, "data": data}
    text = json.dumps(document, default=_tagged, ensure_ascii=False, separators=(",", ":"))
    with contextlib.suppress(StorageError, OSError):  # a cache: failing to write it only costs time
        replace_atomically(cache, text.encode())


def _foreign_escape(raw: bytes) -> bool:
    """Whether the JSON escapes a character other than a control character, as peerloop's copies never do
    (they are UTF-8): a lone surrogate, which no TOML text holds and no file can be written with, is one."""
    import re

    for escape in re.finditer(rb"\\u(?!00[01])", raw):  # a literal prefix: found fast, then rarely anything
        first = escape.start()
        while first and raw[first - 1] == ord("\\"):
            first -= 1
        if (escape.start() - first) % 2 == 0:  # not itself escaped (`\\u...` is a backslash, then a "u")
            return True
    return False


def _tagged(value: object) -> dict[str, str]:
    """A TOML date, time or date-time as JSON: `{"\\u0000toml": "date", "iso": "2026-03-17"}`."""
    if isinstance(value, dt.datetime):  # first: a datetime is also a date
        return {_TAG: "datetime", "iso": value.isoformat()}
    if isinstance(value, dt.date | dt.time):
        return {_TAG: type(value).__name__, "iso": value.isoformat()}
    raise TypeError(f"{type(value).__name__} is not a TOML value")


def _restore(table: dict[str, Any]) -> Any:
    """A JSON object back as TOML would give it; anything TOML cannot hold (null) makes the cache unusable."""
    kind = table.get(_TAG)
    if kind is not None:
        value = _TYPES[kind](table["iso"])
        offset = value.utcoffset() if kind != "date" else None
        if offset is not None and (kind == "time" or offset % dt.timedelta(minutes=1)):
            raise ValueError("TOML has no time with an offset, nor an offset in seconds")
        return value
    for value in table.values():
        if value is None or type(value) is list:
            _check(value)
    return table


def _check(value: object) -> None:
    if value is None:
        raise ValueError("null is not a TOML value")
    if type(value) is list:
        for item in value:
            _check(item)
