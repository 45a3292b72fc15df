"""The files' schema: the version this peerloop reads and writes, and the steps that bring an older file up to
date as it is read (docs/storage.md, Schema versions)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from peerloop import __version__
from peerloop.errors import DataFileError

SCHEMA_VERSION = 2


def check_schema(data: Mapping[str, Any], path: Path) -> int:
    """The file's schema version (1 when it names none), or one line saying why it cannot be read."""
    version = data.get("schema_version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise DataFileError(
            f"{path}: schema_version must be a whole number such as {SCHEMA_VERSION}; fix it by hand"
        )
    if version > SCHEMA_VERSION:
        raise DataFileError(
            f"{path} was written by a newer peerloop (schema {version}); this is peerloop {__version__}, which "
            f"reads schema {SCHEMA_VERSION} and older: upgrade peerloop on this device (nothing was changed)"
        )
    return version


def upgraded(data: dict[str, Any], path: Path, kind: str) -> dict[str, Any]:
    """The file's tables in the current schema: each step from its version on, in turn. `kind` is the file's
    kind ("roster", "journal", "calendar", "connections", "busy"): a step changes only the kinds it names."""
    version = check_schema(data, path)
    for step in range(version, SCHEMA_VERSION):
        data = STEPS[step](data, kind)
    return data


def _from_1(data: dict[str, Any], kind: str) -> dict[str, Any]:
    """Schema 1 to 2: peerloop 0.1's follow-up lists (`follow_ups` open, `follow_ups_done` done) become tables
    numbered 1, 2, … in that order; everything else schema 2 adds is optional."""
    if kind == "journal" and isinstance(data.get("meetings"), list):
        data = {**data, "meetings": [_tabled(item) for item in data["meetings"]]}
    return {**data, "schema_version": 2}


def _tabled(meeting: Any) -> Any:
    """One meeting with 0.1's follow-up lists as tables; anything else as it was (the reader reports it)."""
    if not isinstance(meeting, dict) or (
        "follow_ups_done" not in meeting and not _texts(meeting.get("follow_ups"))
    ):
        return meeting
    open_, done = meeting.get("follow_ups", []), meeting.get("follow_ups_done", [])
    if not (_texts(open_) or open_ == []) or not (_texts(done) or done == []):
        return meeting
    items = [
        {"n": n, "text": text, "done": n > len(open_)} for n, text in enumerate([*open_, *done], start=1)
    ]
    kept = {key: value for key, value in meeting.items() if key not in ("follow_ups", "follow_ups_done")}
    return {**kept, "follow_ups": items} if items else kept


def _texts(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, str) for item in value)


STEPS: dict[int, Callable[[dict[str, Any], str], dict[str, Any]]] = {1: _from_1}
"""The step from each earlier schema to the next (tests/test_schema.py reads a file of every earlier schema)."""
