"""Output: data on stdout, messages on stderr, JSON for scripts, plain text for people.

Text from the user's files (names, notes) goes through `safe()` so that control characters and escape
sequences are shown, never obeyed. Colour only when stdout is a terminal and NO_COLOR is unset.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
import unicodedata
from collections.abc import Sequence
from typing import Any

_STYLES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}


def colour_enabled(stream: Any = None) -> bool:
    stream = stream or sys.stdout
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def style(text: str, *names: str, stream: Any = None) -> str:
    if not names or not colour_enabled(stream):
        return text
    codes = ";".join(_STYLES[name] for name in names)
    return f"\x1b[{codes}m{text}\x1b[0m"


def safe(text: object) -> str:
    """Make any user text harmless on a terminal: control characters become visible escapes."""
    result = []
    for ch in str(text):
        if ch == "\n":
            result.append(" / ")
        elif unicodedata.category(ch) in ("Cc", "Cf") and ch not in ("\u200d",):
            result.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            result.append(ch)
    return "".join(result)


def out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def message(text: str) -> None:
    """A note for the person (stderr), never part of the data; dropped when stderr is closed (`2>&-`)."""
    if sys.stderr is not None:
        sys.stderr.write(text + "\n")


def warn(text: str) -> None:
    message(style("warning:", "yellow", stream=sys.stderr) + " " + text)


_RAW_IN_JSON = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""What json.dumps leaves raw but a terminal may obey: DEL, C1 controls, line separators, bidi overrides."""


def emit_json(data: Any) -> None:
    """JSON for scripts; read on a terminal it is harmless too (every control character is a \\u escape)."""
    text = json.dumps(data, indent=2, ensure_ascii=False, default=_json_default)
    sys.stdout.write(_RAW_IN_JSON.sub(lambda found: f"\\u{ord(found[0]):04x}", text) + "\n")


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def width(text: str) -> int:
    """Columns a string takes on a terminal (wide East Asian characters and emoji count two)."""
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def truncate(text: str, limit: int) -> str:
    if width(text) <= limit:
        return text
    kept, used = [], 0
    for ch in text:
        w = width(ch)
        if used + w > limit - 1:
            break
        kept.append(ch)
        used += w
    return "".join(kept) + "…"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], max_cell: int = 40) -> str:
    """A plain, aligned table: no borders, so it reads well piped into grep or less."""
    cells = [[truncate(safe("" if cell is None else cell), max_cell) for cell in row] for row in rows]
    widths = [width(h) for h in headers]
    for row in cells:
        widths = [max(w, width(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(items: Sequence[str]) -> str:
        padded = [item + " " * (w - width(item)) for item, w in zip(items, widths, strict=True)]
        return "  ".join(padded).rstrip()

    header = style(line(list(headers)), "bold")
    return "\n".join([header, *(line(row) for row in cells)])


def plural(count: int, word: str) -> str:
    """'1 week', '2 weeks'."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def day(value: dt.date) -> str:
    """How a date reads to a person: 'Tue 2026-03-17'."""
    return f"{value:%a} {value.isoformat()}"
