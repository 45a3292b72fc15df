"""Text for people: data on stdout, messages on stderr, rich tables that fit the terminal.

Text from the user's files (names, notes) goes through `inert.safe()` so that control characters and escape
sequences are shown, never obeyed. Colour only when stdout is a terminal and NO_COLOR is unset.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import unicodedata
from collections.abc import Sequence
from typing import Any

from peerloop.core.models import WEEKDAY_NAMES
from peerloop.inert import safe

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


def width(text: str) -> int:
    """Columns a string takes on a terminal (wide East Asian characters and emoji count two)."""
    if text.isascii():
        return len(text)
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], drop_empty: bool = False) -> str:
    """A borderless table, as wide as the terminal allows (rich lays it out; imported here, so that only the
    commands that print a table pay for it). Cells are made inert; plain text without a terminal."""
    import shutil

    from rich.console import Console
    from rich.table import Table

    cells = [
        ["\n".join(safe(line) for line in str("" if c is None else c).split("\n")) for c in row]
        for row in rows
    ]
    keep = [n for n in range(len(headers)) if not drop_empty or any(row[n] for row in cells)]
    grid = Table(box=None, show_edge=False, pad_edge=False, padding=(0, 2, 0, 0), header_style="bold")
    for n in keep:
        grid.add_column(headers[n], overflow="fold")
    for row in cells:
        grid.add_row(*(row[n] for n in keep))
    console = Console(
        color_system="standard" if colour_enabled() else None,
        width=shutil.get_terminal_size().columns,
        highlight=False,
        markup=False,
        emoji=False,
        force_terminal=colour_enabled(),
    )
    with console.capture() as captured:
        console.print(grid)
    return "\n".join(line.rstrip() for line in captured.get().rstrip("\n").split("\n"))


def plural(count: int, word: str) -> str:
    """'1 week', '2 weeks'."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def day(value: dt.date) -> str:
    """How a date reads to a person: 'Tue 2026-03-17' (English whatever the locale, as strftime's %a is not)."""
    return f"{WEEKDAY_NAMES[value.weekday()][:3]} {value.isoformat()}"
