"""Text for people: data on stdout, messages on stderr, rich tables that fit the terminal.

Text from the user's files (names, notes) goes through `safe()` so that control characters and escape
sequences are shown, never obeyed. Colour only when stdout is a terminal and NO_COLOR is unset.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from peerloop.models import Roster

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
    if isinstance(text, str) and text.isascii() and text.isprintable():
        return text
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


def width(text: str) -> int:
    """Columns a string takes on a terminal (wide East Asian characters and emoji count two)."""
    if text.isascii():
        return len(text)
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


RICH_ROWS = 100
"""Above this many rows a table is laid out here instead of by rich, which takes about a millisecond per
row: 500 peers or 10,000 journal entries would take seconds. Both give the same text when the table fits."""


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], drop_empty: bool = False) -> str:
    """A borderless table, as wide as the terminal allows: long cells wrap or fold, nothing is cut.

    Plain (no colour) when stdout is not a terminal, or with NO_COLOR or TERM=dumb. rich lays out tables up
    to `RICH_ROWS` rows and is imported here, so that only the commands that print a table pay for it.
    """
    import shutil

    cells = [
        ["\n".join(safe(line) for line in str("" if c is None else c).split("\n")) for c in row]
        for row in rows
    ]
    keep = [n for n in range(len(headers)) if not drop_empty or any(row[n] for row in cells)]
    least = [min(max((width(w) for row in cells for w in row[n].split()), default=0), 12) for n in keep]
    columns = shutil.get_terminal_size().columns
    if sum(least) + 2 * (len(keep) - 1) > columns:  # too narrow for those minimums: rich would cut text
        least = [0] * len(keep)
    if len(cells) > RICH_ROWS:
        return _plain_table(
            [headers[n] for n in keep], [[row[n] for n in keep] for row in cells], least, columns
        )
    from rich.console import Console
    from rich.table import Table

    grid = Table(box=None, show_edge=False, pad_edge=False, padding=(0, 2, 0, 0), header_style="bold")
    for n, fewest in zip(keep, least, strict=True):
        grid.add_column(headers[n], overflow="fold", min_width=fewest)
    for row in cells:
        grid.add_row(*(row[n] for n in keep))
    console = Console(
        color_system="standard" if colour_enabled() else None,
        width=columns,
        highlight=False,
        markup=False,
        emoji=False,
        force_terminal=colour_enabled(),
    )
    with console.capture() as captured:
        console.print(grid)
    return "\n".join(line.rstrip() for line in captured.get().rstrip("\n").split("\n"))


def _plain_table(headers: list[str], rows: list[list[str]], least: list[int], columns: int) -> str:
    """The same layout as rich's borderless table, in one pass: each column as wide as its widest line; when
    that is wider than the terminal, the widest columns give way (not below `least` while others can), cells wrap
    at spaces and fold long words."""
    import textwrap

    widths = [max([width(headers[n])] + [width(line) for row in rows for line in row[n].split("\n")])
              for n in range(len(headers))]  # fmt: skip
    room = columns - 2 * (len(widths) - 1)
    while sum(widths) > room:  # the widest gives way first; below `least` only when nothing else can
        widest = max(range(len(widths)), key=lambda n: (widths[n] > least[n], widths[n]))
        if widths[widest] <= 1:
            break
        widths[widest] -= 1

    def lines_of(cell: str, size: int) -> list[str]:
        wrapped = [
            part
            for line in cell.split("\n")
            for part in (
                [line] if width(line) <= size else textwrap.wrap(line, size, break_on_hyphens=False) or [""]
            )
        ]
        return wrapped or [""]

    def layout(row: Sequence[str], bold: bool = False) -> list[str]:
        parts = [lines_of(cell, size) for cell, size in zip(row, widths, strict=True)]
        height = max(len(part) for part in parts)
        printed = []
        for k in range(height):
            line = "  ".join(
                (part[k] if k < len(part) else "") + " " * (size - width(part[k] if k < len(part) else ""))
                for part, size in zip(parts, widths, strict=True)
            ).rstrip()
            printed.append(style(line, "bold") if bold and line else line)
        return printed

    return "\n".join([*layout(headers, bold=True), *(line for row in rows for line in layout(row))])


def plural(count: int, word: str) -> str:
    """'1 week', '2 weeks'."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def day(value: dt.date) -> str:
    """How a date reads to a person: 'Tue 2026-03-17'."""
    return f"{value:%a} {value.isoformat()}"


def warn_roster(roster: Roster) -> None:
    """The method's 4-to-5 nudge, about the roster itself (a deliberate pause is not a roster problem)."""
    from peerloop.roster import roster_warning

    warning = roster_warning(len(roster.peers))
    if warning:
        warn(warning)
