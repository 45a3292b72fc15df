"""Entry ids, pure: `20270105-k3xq7`, the date the entry is filed under and five characters hashed from this
device's id, the date and a counter, so that two devices never need to agree on one (docs/journal.md, "Ids").
Ids written by peerloop before 0.2, `20260310-1` (the first free number of the day), keep working.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterable

from peerloop.core.models import Entry, JournalYear

LETTERS = "abcdefghjkmnpqrstvwxyz"
DIGITS = "0123456789abcdefghjkmnpqrstvwxyz"
SIZE = len(LETTERS) * len(DIGITS) ** 4
"""How many ids one day has: 23,068,672."""

_ID = re.compile(r"^(\d{4})(\d{2})(\d{2})-(?:(\d+)|([a-z][0-9a-z]{4}))$")


def id_year(text: str) -> int | None:
    """The year an id is filed under (its first four digits), or None for an id of neither form."""
    match = _ID.match(normal(text))
    return int(match[1]) if match else None


def normal(text: str) -> str:
    """An id as typed, as peerloop writes it: without spaces around it, in lower case."""
    return text.strip().lower()


def taken_ids(journal_year: JournalYear) -> set[str]:
    """Every id in the year file, whatever the entry's kind (ids are unique across kinds), and every id
    forgotten there: a forgotten id is never given again, so a device that still has its entry cannot
    mistake a new one for it."""
    return {entry.id for entry in journal_year.entries()} | set(journal_year.forgotten)


def entry_id(day: dt.date, taken: Iterable[str], device: str) -> str:
    """The first id for `day` that is not `taken`, from this device's sequence for that day."""
    import hashlib  # only a command that logs makes an id: the weekly reads skip its 3 ms

    used = set(taken)
    for counter in itertools.count(1):
        digest = hashlib.sha256(f"{device}/{day.isoformat()}/{counter}".encode()).digest()
        number = int.from_bytes(digest[:8], "big") % SIZE
        number, first = divmod(number, len(LETTERS))
        rest = ""
        for _ in range(4):
            number, digit = divmod(number, len(DIGITS))
            rest += DIGITS[digit]
        candidate = f"{day:%Y%m%d}-{LETTERS[first]}{rest}"
        if candidate not in used:
            return candidate
    raise AssertionError("unreachable: itertools.count never ends")


def new_id(journal_year: JournalYear, day: dt.date, device: str) -> str:
    if day.year != journal_year.year:
        raise ValueError(f"an entry dated {day} does not belong in the {journal_year.year} file")
    return entry_id(day, taken_ids(journal_year), device)


def sort_key(entry: Entry) -> tuple[dt.date, int, str]:
    """Date, then an old id's number (20260310-10 after 20260310-9; newer ids, which carry no order, after
    those), then the id itself."""
    match = _ID.match(entry.id)
    number = int(match[4]) if match and match[4] else 1 << 62
    return entry.date, number, entry.id
