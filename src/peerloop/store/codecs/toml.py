"""TOML text in and out, with errors a person can act on: the file, the line, the key, the text found. Knows
TOML and tables, not peerloop's records (the other codecs) nor where files live (`store.folder`)."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from peerloop.errors import DataFileError
from peerloop.inert import shortened

MAX_DEPTH = 32
"""Tables and lists nested deeper than this are not peerloop's (and would exhaust Python's recursion)."""

T = TypeVar("T")
MISSING = "is missing"


def parse(text: str, path: Path) -> dict[str, Any]:
    """The file's tables; any problem is one DataFileError line naming the file, the line and the text."""
    if not text.strip():
        raise DataFileError(f"{path} is empty; restore it from a backup, or delete it to start afresh")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        marker = re.search(r"^<<<<<<< ", text, re.MULTILINE)
        if marker:  # git merged it as text: say what to do about that, not about TOML
            raise DataFileError(
                f"{path} line {text.count(chr(10), 0, marker.start()) + 1}: git conflict markers; undo the merge, set up peerloop's merge driver "
                "(docs/guide.md, Two devices: `peerloop merge-file`) and merge again, or resolve them by hand"
            ) from None
        raise DataFileError(f"{path}: {_describe_toml_error(error, text)}; fix that line by hand") from None
    except RecursionError:
        raise _too_deep_error(path) from None
    except ValueError:  # not TOML's own error: a number longer than Python converts (4,300 digits)
        long_number = re.search(r"\d{4300}", text)
        line = text.count("\n", 0, long_number.start()) + 1 if long_number else None
        raise DataFileError(
            f"{path}{f' line {line}' if line else ''}: a number thousands of digits long (damaged?); "
            "fix it by hand or restore the file from a backup"
        ) from None
    if _too_deep(data, 0):  # the whole file: every table a codec reads, and writes back, is inside it
        raise _too_deep_error(path)
    return data


def _too_deep_error(path: Path) -> DataFileError:
    return DataFileError(
        f"{path}: tables or lists are nested more than {MAX_DEPTH} deep (damaged?); "
        "restore it from a backup or fix it by hand"
    )


def _too_deep(value: Any, depth: int) -> bool:
    if depth > MAX_DEPTH:
        return True
    if isinstance(value, dict):
        return any(_too_deep(item, depth + 1) for item in value.values())
    if isinstance(value, list):
        return any(_too_deep(item, depth + 1) for item in value)
    return False


def _describe_toml_error(error: tomllib.TOMLDecodeError, text: str) -> str:
    """'line 3, column 5: invalid TOML (Invalid value): `added = 2027-1-6`' from tomllib's message."""
    message = str(error)
    match = re.search(r"^(.*) \(at line (\d+), column (\d+)\)$", message)
    if match:
        number = int(match[2])
        found = text.split("\n")[number - 1].strip() if 0 < number <= text.count("\n") + 1 else ""
        shown = f": `{shortened(found)}`" if found else ""
        return f"line {number}, column {match[3]}: invalid TOML ({match[1]}){shown}"
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
    """Drop None (TOML has no null; an absent key reads back as None), and only None: an unknown key's empty
    list (`tags = []` from a newer peerloop) is written back as it was."""
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


# --- reading tables with errors that point at the line -----------------------------------------------------


class Fields:
    """Typed access to one TOML table; every error names the file, the line and the key."""

    def __init__(
        self,
        data: Any,
        path: Path,
        text: str,
        where: tuple[str, int | None],
        label: str,
        remedy: str = "then run `peerloop doctor`",
    ) -> None:
        self.path, self.text, self.where, self.label, self.remedy = path, text, where, label, remedy
        if not isinstance(data, dict):
            self.fail(None, "must be a table")
        self.data: dict[str, Any] = data
        self.used: set[str] = set()

    def fail(
        self, key: str | None, problem: str, instead: str | None = None, line: int | None = None
    ) -> NoReturn:
        """One line: where (file, line), what (the key and the text found there), and what to write instead."""
        line = line or line_of(self.text, self.where, key)
        at = f" line {line}" if line else ""
        subject = f"{self.label} '{key}'" if key else self.label
        found = self.text.split("\n")[line - 1].strip() if line and key and problem != MISSING else ""
        shown = f" (found `{shortened(found)}`)" if found else ""
        fix = f"fix it: write `{instead}` instead" if instead else "fix it by hand"
        raise DataFileError(f"{self.path}{at}: {subject} {problem}{shown}; {fix}, {self.remedy}")

    def get(self, key: str, kind: type[T], required: bool = False) -> T | None:
        self.used.add(key)
        value = self.data.get(key)
        if value is None:
            if required:
                self.fail(key, MISSING)
            return None
        if (
            not isinstance(value, kind)
            or (kind is int and isinstance(value, bool))
            or (kind is dt.date and isinstance(value, dt.datetime))  # a datetime is a date to isinstance
        ):
            self.fail(key, *_type_problem(key, value, kind))
        return value

    def text_list(self, key: str) -> tuple[str, ...]:
        items = self.get(key, list) or []
        if not all(isinstance(item, str) for item in items):
            self.fail(key, "must be a list of texts in quotes")
        return tuple(items)

    def tables(self, key: str, shape: str) -> list[dict[str, Any]]:
        """`[[...KEY]]` sub-tables, none when absent; anything else fails saying the `shape` they must have."""
        items = self.data.get(key)
        if items is None:
            return []
        self.used.add(key)
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            self.fail(key, shape)
        return items

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
        """The keys peerloop does not know, kept as they are (`parse` checked their depth)."""
        return {key: value for key, value in self.data.items() if key not in self.used}


_TYPE_NAMES: dict[type, str] = {
    str: "text in quotes",
    int: "a whole number",
    bool: "true or false",
    dt.date: "a date like 2026-03-17",
    dt.time: "a time like 08:30:00",
    dt.datetime: "a date and time like 2027-01-05T09:12:33Z",
    list: "a list",
}


def _type_problem(key: str, value: Any, kind: type) -> tuple[str, str | None]:
    """What is wrong with a value of the wrong type, and the line to write instead when it can be told."""
    if kind is dt.date and isinstance(value, dt.datetime):
        return "must be a date without a time", f"{key} = {value.date().isoformat()}"
    if isinstance(value, str) and kind in (dt.date, dt.time, int, bool):
        try:
            parsed = tomllib.loads(f"v = {value.strip()}")["v"]
        except ValueError:  # TOMLDecodeError, or a number too long to convert
            parsed = None
        if isinstance(parsed, kind) and not (kind is int and isinstance(parsed, bool)):
            return f"must be {_TYPE_NAMES[kind]} without quotes", f"{key} = {value.strip()}"
    if kind is str and not isinstance(value, dict | list):
        return "must be text in quotes", None
    return f"must be {_TYPE_NAMES.get(kind, kind.__name__)}", None


def moment(f: Fields, key: str) -> dt.datetime | None:
    """A moment with its offset, as UTC (when peerloop changed a record); one without an offset is refused."""
    value = f.get(key, dt.datetime)
    if value is None:
        return None
    if value.tzinfo is None:
        f.fail(key, "must have its offset", f"{key} = {value.isoformat()}Z")
    return value.astimezone(dt.UTC)


def moments(data: Any, path: Path, table: str) -> dict[str, dt.datetime]:
    """A `[table]` of `name = moment` lines (the ids forgotten, the peers removed), each moment as UTC."""
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(
        isinstance(value, dt.datetime) and value.tzinfo is not None for value in data.values()
    ):
        raise DataFileError(
            f'{path}: [{table}] must hold lines such as `"Ann Lee" = 2027-01-05T09:12:33Z`; fix it by hand'
        )
    return {str(key): value.astimezone(dt.UTC) for key, value in data.items()}


def line_of(text: str, where: tuple[str, int | None], key: str | None) -> int | None:
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


def nested_where(
    text: str, where: tuple[str, int | None], sub: str, sub_index: int
) -> tuple[str, int | None]:
    """The `sub_index`-th `[[TABLE.SUB]]` inside the `[[TABLE]]` at `where`, as `line_of` finds it: by its index
    among every `[[TABLE.SUB]]` of the file (None when it has no header of its own)."""
    table, index = where
    outer = re.compile(r"^\s*\[\[\s*" + re.escape(table) + r"\s*\]\]")
    inner = re.compile(r"^\s*\[\[\s*" + re.escape(f"{table}.{sub}") + r"\s*\]\]")
    seen_outer, seen_inner, before = -1, -1, 0
    for line in text.split("\n"):
        if outer.match(line):
            seen_outer, seen_inner = seen_outer + 1, -1
        elif inner.match(line):
            if seen_outer == (index or 0):
                seen_inner += 1
                if seen_inner == sub_index:
                    return f"{table}.{sub}", before
            before += 1
    return f"{table}.{sub}", None
