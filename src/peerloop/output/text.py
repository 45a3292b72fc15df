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

    cells, column_texts = _cells(rows, len(headers))
    keep = [n for n in range(len(headers)) if not drop_empty or len(column_texts[n]) >= len(cells) > 0]
    least = [min(_widest_word(column_texts[n]), 12) for n in keep]
    columns = shutil.get_terminal_size().columns
    if sum(least) + 2 * (len(keep) - 1) > columns:  # too narrow for those minimums: rich would cut text
        least = [0] * len(keep)
    if len(cells) > RICH_ROWS:
        kept = cells if len(keep) == len(headers) else [[row[n] for n in keep] for row in cells]
        return _plain_table([headers[n] for n in keep], kept, [column_texts[n] for n in keep], least, columns)
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


def _cells(rows: Sequence[Sequence[object]], count: int) -> tuple[Sequence[Sequence[str]], list[str]]:
    """Every cell as text made inert, line by line, and each column's cells joined by newlines. Printable
    text (the usual table, which `safe` leaves as it is) is checked a column at a time."""
    try:
        texts = ["\n".join(row[n] for row in rows) for n in range(count)]  # type: ignore[misc]
    except TypeError:  # a number or None among them: each cell is converted below
        texts = ["\0"]
    if all(text.replace("\n", "").isprintable() for text in texts):  # no control or format character
        return rows, texts  # type: ignore[return-value]
    cells = [
        ["\n".join(safe(line) for line in str("" if c is None else c).split("\n")) for c in row]
        for row in rows
    ]
    return cells, ["\n".join(row[n] for row in cells) for n in range(count)]


def _widest_word(text: str) -> int:
    return max(map(len if text.isascii() else width, text.split()), default=0)


def _plain_table(
    headers: list[str], rows: Sequence[Sequence[str]], every: list[str], least: list[int], columns: int
) -> str:
    """The same layout as rich's borderless table, in one pass: each column as wide as its widest line; when
    that is wider than the terminal, the widest columns give way (not below `least` while others can), cells wrap
    at spaces and fold long words. An ASCII column (most of any journal) is measured by `len`, an all-ASCII
    table padded by `str.ljust` (in C), and a column whose every cell fits on one line is taken as it is."""
    measures = [len if column.isascii() else width for column in every]
    ascii_only = all(measure is len for measure in measures) and all(header.isascii() for header in headers)
    widest = [
        max(width(header), *map(measure, column.split("\n")))
        for header, column, measure in zip(headers, every, measures, strict=True)
    ]
    widths = list(widest)
    room = columns - 2 * (len(widths) - 1)
    while sum(widths) > room:  # the widest gives way first; below `least` only when nothing else can
        n = max(range(len(widths)), key=lambda n: (widths[n] > least[n], widths[n]))
        if widths[n] <= 1:
            break
        widths[n] -= 1
    wrapping = [  # the columns with a cell of several lines, or one too wide
        n for n, column in enumerate(every) if column.count("\n") >= len(rows) or widest[n] > widths[n]
    ]
    fill = str.ljust if ascii_only else lambda line, size: line.ljust(size - width(line) + len(line))

    def lines_of(n: int, cell: str) -> list[str]:
        lines: list[str] = []
        for line in cell.split("\n"):
            if measures[n](line) <= widths[n]:
                lines.append(line)
            else:
                lines += _wrapped(line, widths[n])
        return lines

    last = len(widths) - 1
    indent = " " * (sum(widths[:last]) + 2 * last)  # where the last column starts

    def layout(row: Sequence[str]) -> list[str]:
        if not any(row):  # the blank row between entries
            return [""]
        if wrapping == [last] and last:  # only the last column wraps (history's details): lines under it
            lines = lines_of(last, row[last])
            first = "  ".join(map(fill, row[:last], widths)) + "  " + lines[0]
            return [first.rstrip(), *[(indent + line).rstrip() for line in lines[1:]]]
        wrapped = {n: lines_of(n, row[n]) for n in wrapping}
        height = max(map(len, wrapped.values()), default=1)
        if height == 1:
            cells = [wrapped[n][0] if n in wrapped else cell for n, cell in enumerate(row)]
            return ["  ".join(map(fill, cells, widths)).rstrip()]
        parts = [wrapped.get(n) or [cell] for n, cell in enumerate(row)]
        parts = [part + [""] * (height - len(part)) for part in parts]
        return ["  ".join(map(fill, line, widths)).rstrip() for line in zip(*parts, strict=True)]

    head = [style(line, "bold") if line else line for line in layout(headers)]
    return "\n".join([*head, *(line for row in rows for line in layout(row))])


def _wrapped(line: str, size: int) -> list[str]:
    """`line`, wider than `size` columns, in lines of at most `size`, as textwrap (and rich) break it: at
    spaces, long words folded. Printable ASCII words with single spaces are filled here, greedily, as textwrap
    would."""
    words = line.split(" ")
    if not (line.isascii() and line.isprintable()) or "" in words or max(map(len, words)) > size:
        import textwrap

        return textwrap.wrap(line, size, break_on_hyphens=False) or [""]
    lines, start = [], 0
    while len(line) - start > size:  # break at the last space that leaves at most `size` columns
        cut = line.rfind(" ", start, start + size + 1)
        lines.append(line[start:cut])
        start = cut + 1
    lines.append(line[start:])
    return lines


def plural(count: int, word: str) -> str:
    """'1 week', '2 weeks'."""
    return f"{count} {word}{'' if count == 1 else 's'}"


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def day(value: dt.date) -> str:
    """How a date reads to a person: 'Tue 2026-03-17' (English, as `%a` is here: strftime costs more)."""
    return f"{_WEEKDAYS[value.weekday()]} {value.isoformat()}"


def warn_roster(roster: Roster) -> None:
    """The method's 4-to-5 nudge, about the roster itself (a deliberate pause is not a roster problem)."""
    from peerloop.roster import roster_warning

    warning = roster_warning(len(roster.peers))
    if warning:
        warn(warning)
