"""The shortcuts that keep years of history fast give exactly what the plain way gives: a meeting read without
`Fields`, a long table laid out a column at a time, a line wrapped without textwrap."""

from __future__ import annotations

import datetime as dt
import textwrap
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from peerloop import journalschema
from peerloop.errors import DataFileError
from peerloop.models import NO_EXTRA, Gain, Meeting, Mode
from peerloop.output import text
from peerloop.tomlfile import Fields

PATH = Path("journal/2026.toml")

# --- a meeting read without Fields --------------------------------------------------------------------------

texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
follow_up = st.fixed_dictionaries(
    {"n": st.integers(-1, 2) | st.just(True), "text": texts | st.integers(), "done": st.booleans() | st.just("no")},
    optional={"extra": st.just(1)},
)  # fmt: skip
values = st.one_of(
    texts, st.integers(), st.booleans(), st.dates(dt.date(1800, 1, 1), dt.date(9999, 12, 31)),
    st.datetimes(dt.datetime(2026, 1, 1), dt.datetime(2026, 12, 31)), st.lists(texts, max_size=2),
    st.sampled_from(["coffee", "Lunch", " call", "advice", "clarity"]), st.lists(follow_up, max_size=3),
    st.lists(st.sampled_from([g.value for g in Gain] + ["Advice", "nope"]), max_size=3),
)  # fmt: skip
near_misses = {  # per key: what peerloop writes, and what a hand edit or an old version might leave instead
    "date": st.sampled_from(
        [dt.date(1899, 12, 31), dt.date(1900, 1, 1), dt.date(9000, 12, 31), dt.date(9001, 1, 1)]
    )
    | st.dates(dt.date(1800, 1, 1), dt.date(9999, 12, 31))
    | st.datetimes(dt.datetime(2026, 1, 1)),
    "mode": st.sampled_from([m.value for m in Mode] + ["Coffee", " lunch", "tea"]),
    "gains": st.lists(
        st.sampled_from([g.value for g in Gain] + ["Advice", "nope"]) | st.integers(), max_size=3
    ),
    "follow_ups": st.lists(follow_up, max_size=3)
    | st.lists(texts, max_size=2)
    | st.lists(
        st.fixed_dictionaries({"n": st.integers(1, 2), "text": texts, "done": st.booleans()}), max_size=3
    ),
    "follow_ups_done": st.lists(texts, max_size=2),
}
keys = ["id", "date", "peer", "mode", "issue", "gains", "win", "works", "improve", "follow_ups", "note",
        "follow_ups_done", "mood"]  # fmt: skip
changes = st.lists(st.sampled_from(keys), unique=True, max_size=3).flatmap(
    lambda chosen: st.fixed_dictionaries({key: near_misses.get(key, values) | values for key in chosen})
)
likely = st.fixed_dictionaries(
    {"id": st.just("20260317-1"), "date": st.dates(dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
     "peer": texts, "mode": st.sampled_from([m.value for m in Mode])},
)  # fmt: skip


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(likely, changes, st.sets(st.sampled_from(["id", "date", "peer", "mode"]), max_size=1))
def test_a_meeting_read_the_quick_way_is_the_meeting_fields_reads(
    base: dict[str, Any], changes: dict[str, Any], missing: set[str]
) -> None:
    table = {key: value for key, value in (base | changes).items() if key not in missing}
    quick = journalschema.plain_meeting(table)
    try:
        slow: Meeting | None = journalschema._meeting_from_toml(
            Fields(table, PATH, "", ("meetings", 0), "meeting #1")
        )
    except DataFileError:
        slow = None
    assert quick is None or quick == slow


def fu(
    n: object = 1, text: object = "send the deck", done: object = False, **more: object
) -> dict[str, object]:
    return {"n": n, "text": text, "done": done, **more}


NEAR_MISSES = {
    "a date before 1900": {"date": dt.date(1899, 12, 31)}, "a date after 9000": {"date": dt.date(9001, 1, 1)},
    "a date with a time": {"date": dt.datetime(2026, 3, 17, 8, 30)}, "a mode in capitals": {"mode": "Coffee"},
    "an unknown mode": {"mode": "tea"}, "a gain in capitals": {"gains": ["Advice"]}, "a gain that is a number": {"gains": [5]},
    "no id": {"id": None}, "no peer": {"peer": None}, "no mode": {"mode": None}, "no date": {"date": None},
    "an unknown key": {"mood": "good"}, "a number for a text": {"note": 5},
    "follow-ups numbered twice": {"follow_ups": [fu(1), fu(1, "call back")]}, "a follow-up numbered 0": {"follow_ups": [fu(0)]},
    "a follow-up numbered true": {"follow_ups": [fu(True)]}, "a follow-up done 'no'": {"follow_ups": [fu(done="no")]},
    "a follow-up text that is a number": {"follow_ups": [fu(text=5)]}, "a follow-up without done": {"follow_ups": [{"n": 1, "text": "x"}]},
    "a follow-up with more keys": {"follow_ups": [fu(due="friday")]}, "follow-ups as 0.1 wrote them": {"follow_ups": ["a", "b"]},
    "done follow-ups as 0.1 wrote them": {"follow_ups_done": ["c"]}, "a follow-up that is a text": {"follow_ups": [fu(), "b"]},
}  # fmt: skip


@pytest.mark.parametrize("change", NEAR_MISSES.values(), ids=NEAR_MISSES.keys())
def test_a_near_miss_is_read_the_long_way_or_the_same(change: dict[str, Any]) -> None:
    base = {"id": "20260317-1", "date": dt.date(2026, 3, 17), "peer": "Ann Lee", "mode": "coffee",
            "follow_ups": [fu(1), fu(2, "call back", True)]}  # fmt: skip
    assert journalschema.plain_meeting(base) is not None, "without the change, the quick way reads it"
    table = {key: value for key, value in (base | change).items() if value is not None}
    try:
        slow: Meeting | None = journalschema._meeting_from_toml(
            Fields(table, PATH, "", ("meetings", 0), "meeting #1")
        )
    except DataFileError:
        slow = None
    quick = journalschema.plain_meeting(table)
    assert quick is None or quick == slow


meetings = st.builds(
    Meeting, id=st.just("20260317-2"), date=st.dates(dt.date(1900, 1, 1), dt.date(9000, 12, 31)), peer=texts,
    mode=st.sampled_from(Mode), issue=st.none() | texts, gains=st.lists(st.sampled_from(Gain), max_size=3).map(tuple),
    win=st.none() | texts, works=st.none() | texts, improve=st.none() | texts, note=st.none() | texts,
    follow_ups=st.lists(st.tuples(texts, st.booleans()), max_size=3).map(
        lambda items: tuple(journalschema.FollowUp(t, d, n + 1) for n, (t, d) in enumerate(items))
    ),
    extra=st.just(NO_EXTRA),
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(meetings)
def test_every_meeting_peerloop_writes_is_read_the_quick_way(meeting: Meeting) -> None:
    table = {
        key: value for key, value in journalschema._meeting_to_toml(meeting).items() if value is not None
    }
    written = tomllib.loads(tomli_w.dumps({"meetings": [table]}))["meetings"][0]
    assert journalschema.plain_meeting(written) == meeting


# --- a long table --------------------------------------------------------------------------------------------


def reference_table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], columns: int, drop_empty: bool
) -> str:
    """The obvious layout, one cell and one line at a time (peerloop's before the shortcuts)."""
    cells = [["\n".join(text.safe(line) for line in str("" if c is None else c).split("\n")) for c in row]
             for row in rows]  # fmt: skip
    keep = [n for n in range(len(headers)) if not drop_empty or any(row[n] for row in cells)]
    least = [min(max((text.width(w) for row in cells for w in row[n].split()), default=0), 12) for n in keep]
    if sum(least) + 2 * (len(keep) - 1) > columns:
        least = [0] * len(keep)
    heads, body = [headers[n] for n in keep], [[row[n] for n in keep] for row in cells]
    widths = [max([text.width(heads[n])] + [text.width(line) for row in body for line in row[n].split("\n")])
              for n in range(len(heads))]  # fmt: skip
    room = columns - 2 * (len(widths) - 1)
    while sum(widths) > room:
        widest = max(range(len(widths)), key=lambda n: (widths[n] > least[n], widths[n]))
        if widths[widest] <= 1:
            break
        widths[widest] -= 1

    def lines_of(cell: str, size: int) -> list[str]:
        return [part for line in cell.split("\n") for part in (
            [line] if text.width(line) <= size else textwrap.wrap(line, size, break_on_hyphens=False) or [""]
        )] or [""]  # fmt: skip

    def layout(row: Sequence[str]) -> list[str]:
        parts = [lines_of(cell, size) for cell, size in zip(row, widths, strict=True)]
        return [
            "  ".join((part[k] if k < len(part) else "") + " " * (size - text.width(part[k] if k < len(part) else ""))
                      for part, size in zip(parts, widths, strict=True)).rstrip()
            for k in range(max(len(part) for part in parts))
        ]  # fmt: skip

    return "\n".join([*layout(heads), *(line for row in body for line in layout(row))])


words = st.sampled_from(["a", "to", "deck", "Pressing", "issue:", "hiring", "Zoë", "漢字", "🎉", "x" * 15, "",
                         "tab\there", "\x1b[31m", "ok."])  # fmt: skip
cells = st.one_of(
    st.lists(words, max_size=8).map(" ".join),
    st.lists(st.lists(words, max_size=5).map(" ".join), min_size=2, max_size=3).map("\n".join),
    st.none(), st.integers(0, 10_000), st.just(""),
)  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(1, 5).flatmap(lambda n: st.tuples(
    st.lists(st.sampled_from(["ID", "Date", "What", "Details", "Über"]), min_size=n, max_size=n),
    st.lists(st.lists(cells, min_size=n, max_size=n), min_size=1, max_size=8),
)), st.integers(8, 160), st.booleans())  # fmt: skip
def test_a_long_table_is_laid_out_as_the_obvious_way_lays_it_out(
    monkeypatch: pytest.MonkeyPatch,
    table: tuple[list[str], list[list[object]]],
    columns: int,
    drop_empty: bool,
) -> None:
    headers, rows = table
    assume(not drop_empty or any(row[n] not in ("", None) for row in rows for n in range(len(headers))))
    monkeypatch.setattr(text, "RICH_ROWS", 0)
    monkeypatch.setenv("COLUMNS", str(columns))
    assert text.table(headers, rows, drop_empty=drop_empty) == reference_table(
        headers, rows, columns, drop_empty
    )


def test_history_like_rows_are_laid_out_as_the_obvious_way_lays_them_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only the last column wraps: its lines go under it (the shortcut history takes)."""
    rows = [(f"2026{n:04d}-1", "Tue 2026-03-03", f"coffee with Peer {n}",
             "Pressing issue: hiring a head of sales for the new region\nWin: shipped the beta\nNote: private")
            for n in range(300)] + [("", "", "", "")]  # fmt: skip
    monkeypatch.setenv("COLUMNS", "80")
    headers = ("ID", "Date", "What", "Details")
    assert text.table(headers, rows) == reference_table(headers, rows, 80, False)
    assert text.table(headers, rows).count("\n") > 4 * 300


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["a", "bb", "deck", "Pressing", "x" * 9, "", " ", "é"]), max_size=12).map(" ".join),
       st.integers(1, 30))  # fmt: skip
def test_a_line_is_wrapped_as_textwrap_wraps_it(line: str, size: int) -> None:
    if text.width(line) > size:
        assert text._wrapped(line, size) == (textwrap.wrap(line, size, break_on_hyphens=False) or [""])
