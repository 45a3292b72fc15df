"""The tables people read: the one layout (rich renders it), and the tables built from the core's records.

A table fits its width by choosing columns, never by cutting a word (docs/guide.md, "On a narrow terminal"):
the optional columns leave first, then free text wraps at spaces, then each row becomes a stacked block.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from peerloop.core.models import Settings
from peerloop.core.rotation import Slot
from peerloop.inert import safe
from peerloop.output import text

GAP = 2
"""Spaces between two columns."""
LABELS = 12
"""Stacked blocks align their values after labels up to this wide; a longer label runs into its value."""


class Column(NamedTuple):
    header: str
    leaves: int = 0
    """0: always shown; else when the width is short, 1 leaves first, then 2, and so on."""
    wraps: bool = False
    """Free text, wrapped at spaces to fit (the other columns keep their lines while optional ones leave)."""


class Laid(NamedTuple):
    lines: list[str]
    left_out: list[str]
    """The headers of the optional columns that did not fit."""


def show(
    columns: Sequence[Column],
    rows: Sequence[Sequence[object]],
    wide: bool = False,
    wide_command: str = "",
    spaced: bool = False,
) -> None:
    """Print a table on stdout at the terminal's width and, when columns were left out, say so on stderr
    (`wide_command`: the command whose --wide shows them, when it is not the one that ran)."""
    width = text.terminal_width()
    laid = layout(columns, rows, width, wide=wide, spaced=spaced)
    for line in laid.lines:
        text.out(line)
    if laid.left_out:
        command = f"`{wide_command} --wide`" if wide_command else "`--wide`"
        note = (
            f"Left out to fit {width} columns: {', '.join(laid.left_out)} "
            f"({command} shows every column, `--json` everything)."
        )
        text.messages(text.wrap(note, width, 2))


def layout(
    columns: Sequence[Column],
    rows: Sequence[Sequence[object]],
    width: int,
    wide: bool = False,
    spaced: bool = False,
) -> Laid:
    """The lines of a table no wider than `width` (a word wider than a whole line aside): every column that
    fits, the optional ones leaving first; stacked blocks when the others do not fit side by side. `wide`
    keeps every column; `spaced` puts a blank line between rows. A column empty in every row is not shown
    (nor left out). Cells are made inert."""
    from rich.cells import cell_len

    cells = [[[safe(line) for line in str("" if c is None else c).split("\n")] for c in row] for row in rows]
    shown = [n for n in range(len(columns)) if any(row[n] != [""] for row in cells)]
    words, lines = {}, {}
    for n in shown:
        texts = [columns[n].header, *(line for row in cells for line in row[n])]
        words[n] = max(cell_len(word) for line in texts for word in [*line.split(), ""])
        lines[n] = max(cell_len(line) for line in texts)
    left_out: list[int] = []
    while True:  # the optional columns leave until the others fit with only free text wrapped
        kept = [n for n in shown if n not in left_out]
        least = [words[n] if columns[n].wraps else lines[n] for n in kept]
        widths = _fit(least, [lines[n] for n in kept], width)
        optional = [n for n in kept if columns[n].leaves and not wide]
        if widths is not None or not optional:
            break
        left_out.append(min(optional, key=lambda n: columns[n].leaves))
    if widths is None:  # the columns always shown, every one wrapped at spaces if need be
        widths = _fit([words[n] for n in kept], [lines[n] for n in kept], width)
    headers = [columns[n].header for n in kept]
    body = [[row[n] for n in kept] for row in cells]
    laid = _stacked(headers, body, width) if widths is None else _render(headers, body, widths, spaced)
    return Laid(laid, [columns[n].header for n in left_out])


def _fit(least: list[int], lines: list[int], width: int) -> list[int] | None:
    """Column widths from `least` up within `width`, or None: the room left is shared evenly among the
    columns still short of their longest line, until each holds it or the room is gone."""
    room = width - GAP * (len(least) - 1) - sum(least)
    if room < 0:
        return None
    widths = list(least)
    while wanting := [n for n in range(len(widths)) if widths[n] < lines[n]][:room]:
        share = room // len(wanting)
        for n in wanting:
            more = min(share, lines[n] - widths[n])
            widths[n] += more
            room -= more
    return widths


def _render(headers: list[str], body: list[list[list[str]]], widths: list[int], spaced: bool) -> list[str]:
    """A borderless rich table with these column widths (rich wraps each cell at spaces; imported here, so
    that only the commands that print a table pay for it)."""
    from rich.console import Console
    from rich.table import Table

    grid = Table(box=None, show_edge=False, pad_edge=False, padding=(0, GAP, 0, 0), header_style="bold")
    for header, wide in zip(headers, widths, strict=True):
        grid.add_column(header, width=wide, overflow="fold")
    for n, row in enumerate(body):
        if spaced and n:
            grid.add_row()
        grid.add_row(*("\n".join(cell) for cell in row))
    console = Console(
        color_system="standard" if text.colour_enabled() else None,
        width=sum(widths) + GAP * (len(widths) - 1),
        highlight=False,
        markup=False,
        emoji=False,
        force_terminal=text.colour_enabled(),
    )
    with console.capture() as captured:
        console.print(grid)
    return [line.rstrip() for line in captured.get().rstrip("\n").split("\n")]


def _stacked(headers: list[str], body: list[list[list[str]]], width: int) -> list[str]:
    """Each row as a block of `Label: value` lines, blocks apart by a blank line: values aligned after the
    labels, wrapped at spaces with a hanging indent (a value of several lines indents its wrapped parts
    further). A value with a word too wide to sit beside its label starts on the next line."""
    align = max((text.width(h) + 2 for h in headers if text.width(h) <= LABELS), default=0)
    lines: list[str] = []
    for row in body:
        lines += [""] if lines else []
        for header, cell in zip(headers, row, strict=True):
            if cell == [""]:
                continue
            label, indent = text.style(f"{header}:", "bold"), max(align, text.width(header) + 2)
            more = 2 if len(cell) > 1 else 0
            longest = max(text.width(word) for line in cell for word in [*line.split(), ""])
            if longest > width - indent - more:
                lines.append(label)
                lines += [part for line in cell for part in text.wrap("  " + line, width, 2 + more)]
                continue
            for n, line in enumerate(cell):
                start = label + " " * (indent - text.width(header) - 1) if n == 0 else " " * indent
                lines += text.wrap(start + line, width, indent + more)
    return lines


PEERS_COLUMNS = (
    Column("Name"),
    Column("Org", leaves=2, wraps=True),
    Column("Mode", leaves=3),
    Column("Email", leaves=1),
    Column("Status", wraps=True),
    Column("Last met"),
    Column("Meetings"),
    Column("Last touch", leaves=4),
    Column("Next turn"),
)
"""`peers`: on a short width the e-mail leaves first, then the organisation, the mode, the last touch."""


HISTORY_COLUMNS = (Column("ID"), Column("Date"), Column("What", wraps=True), Column("Details", wraps=True))
CONNECTIONS_COLUMNS = (Column("Kind"), Column("Where"), Column("How", wraps=True))
EVIDENCE_COLUMNS = (Column("Peer"), Column("Meetings"), Column("Last met"))


def slot_time(slot: Slot) -> str:
    """'08:30-09:15': the start and end as the leader's clock shows them."""
    return f"{slot.start:%H:%M}-{slot.end:%H:%M}"


def plan_table(slots: list[Slot], settings: Settings, wide: bool = False, wide_command: str = "") -> None:
    """The weeks ahead, one row each (the mode leaves first when the width is short)."""
    rows = [
        (
            text.day(slot.date),
            slot_time(slot),
            slot.peer.name if slot.peer else "(nobody: every peer is paused)",
            slot.mode.value if slot.peer else "",
            "\n".join(note for note in ("overdue" if slot.overdue else "", slot.note or "") if note),
        )
        for slot in slots
    ]
    columns = (
        Column("Date"),
        Column(f"Time ({settings.timezone})"),
        Column("Peer"),
        Column("Mode", leaves=1),
        Column("Note", wraps=True),
    )
    show(columns, rows, wide=wide, wide_command=wide_command)
