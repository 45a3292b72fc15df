"""Text for people: data on stdout, messages on stderr, lines that wrap at spaces (tables: `tables.py`).

Text from the user's files (names, notes) goes through `inert.safe()` so that control characters and escape
sequences are shown, never obeyed. Colour only when stdout is a terminal and NO_COLOR is unset.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
import unicodedata
from collections.abc import Sequence
from typing import Any

from peerloop.core.models import WEEKDAY_NAMES

_SGR = re.compile(r"\x1b\[[0-9;]*m")
"""The colour and weight codes `style` writes (text from files is inert: it holds no real escape)."""
_WORD = re.compile(r"(\s*)(\S+)")
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


def out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def out_wrapped(line: str) -> None:
    """A line of text on stdout, wrapped at spaces to the terminal's width, the wrapped parts indented two
    more than the line."""
    plain = _SGR.sub("", line)
    for part in wrap(line, terminal_width(), len(plain) - len(plain.lstrip(" ")) + 2):
        out(part)


def message(text: str) -> None:
    """A note for the person (stderr), never part of the data; dropped when stderr is closed (`2>&-`)."""
    if sys.stderr is not None:
        sys.stderr.write(text + "\n")


def messages(lines: Sequence[str]) -> None:
    """Notes for the person, each on its line; one that starts `warning:` gets the warning's colour."""
    for line in lines:
        if line.startswith("warning: "):
            warn(line.removeprefix("warning: "))
        else:
            message(line)


def warn(text: str) -> None:
    message(style("warning:", "yellow", stream=sys.stderr) + " " + text)


def terminal_width() -> int:
    """The columns output may use: $COLUMNS, else the terminal's width, else 80 (a pipe, a file)."""
    import shutil

    return shutil.get_terminal_size().columns


def width(text: str) -> int:
    """Columns a string takes on a terminal (wide East Asian characters and emoji count two; colour codes
    none)."""
    if "\x1b" in text:
        text = _SGR.sub("", text)
    if text.isascii():
        return len(text)
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def wrap(line: str, columns: int, hang: int) -> list[str]:
    """`line` in lines of at most `columns`, broken only at spaces, each after the first indented by `hang`
    (a hanging indent, less for a word too wide for it); a word wider than a whole line stays whole on a line
    of its own. A colour that spans a break is closed at the end of the line and opened again after the
    indent."""
    if width(line) <= columns:
        return [line]
    lead = line[: len(line) - len(line.lstrip(" "))]
    lines, current, used, colour, empty = [], lead, len(lead), "", True
    for match in _WORD.finditer(line, len(lead)):
        space, word = match.groups()
        wide = width(word)
        if not empty and wide and used + len(space) + wide > columns:
            lines.append(current + ("\x1b[0m" if colour else ""))
            indent = max(0, min(hang, columns - wide))  # a word too wide for the indent takes what it needs
            current, used, space = " " * indent + colour, indent, ""
        current, used, empty = current + space + word, used + len(space) + wide, empty and not wide
        for code in _SGR.findall(word):
            colour = "" if code == "\x1b[0m" else code
    return [*lines, current]


def plural(count: int, word: str) -> str:
    """'1 week', '2 weeks'."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def day(value: dt.date) -> str:
    """How a date reads to a person: 'Tue 2026-03-17' (English whatever the locale, as strftime's %a is not)."""
    return f"{WEEKDAY_NAMES[value.weekday()][:3]} {value.isoformat()}"
