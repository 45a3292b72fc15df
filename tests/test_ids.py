"""Entry ids made without asking any other device (docs/journal.md, "Ids"): short, unique across devices and
kinds, never given again once forgotten, naming their year file; the ids older versions wrote keep working."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest

from peerloop.core import ids, journal
from peerloop.core.models import JournalYear, Meeting, Mode, Reflection, Skip
from peerloop.store.records import Store
from tests.conftest import Invoke
from tests.lived_in import DEVICE

D = dt.date
NEW_ID = re.compile(r"^\d{8}-[abcdefghjkmnpqrstvwxyz][0-9abcdefghjkmnpqrstvwxyz]{4}$")


def meeting(entry_id: str, day: dt.date) -> Meeting:
    return Meeting(id=entry_id, date=day, peer="Ann Lee", mode=Mode.COFFEE)


def test_a_new_id_is_the_date_and_five_characters_that_cannot_be_misread() -> None:
    made = ids.entry_id(D(2027, 1, 5), (), "laptop")
    assert NEW_ID.match(made), made
    assert made.startswith("20270105-")
    assert ids.id_year(made) == 2027
    assert ids.SIZE == 22 * 32**4 == 23_068_672


def test_two_devices_logging_the_same_day_make_different_ids() -> None:
    """A thousand days, three entries a day on each of two devices: no id in common (odds 1 in 23 million
    per pair)."""
    start = D(2027, 1, 1)
    for offset in range(1000):
        day = start + dt.timedelta(days=offset)
        made: dict[str, list[str]] = {"laptop": [], "desktop": []}
        for device, taken in made.items():
            for _ in range(3):
                taken.append(ids.entry_id(day, taken, device))
        assert not set(made["laptop"]) & set(made["desktop"]), day


def test_ids_are_unique_across_kinds_and_a_forgotten_id_is_never_given_again() -> None:
    day = D(2026, 3, 10)
    first = ids.entry_id(day, (), DEVICE)
    second = ids.entry_id(day, (first,), DEVICE)
    year = JournalYear(
        year=2026, meetings=(meeting(first, day),), reflections=(Reflection(id=second, date=day),)
    )
    third = ids.new_id(year, day, DEVICE)
    assert len({first, second, third}) == 3
    forgetting = year._replace(meetings=(), forgotten={first: dt.datetime(2026, 3, 11, tzinfo=dt.UTC)})
    assert ids.new_id(forgetting, day, DEVICE) not in (first, second)
    with pytest.raises(ValueError, match="does not belong in the 2026 file"):
        ids.new_id(year, D(2025, 3, 11), DEVICE)


def test_the_ids_older_versions_wrote_keep_their_year_and_their_order() -> None:
    assert ids.id_year("20261117-3") == 2026
    assert ids.id_year(" 20261117-P7FAP ") == 2026
    assert ids.id_year("notes") is None
    day = D(2026, 3, 10)
    entries = [Skip(id=f"20260310-{n}", date=day, reason="x") for n in (10, 9, 1)]
    entries.append(Skip(id=ids.entry_id(day, (), DEVICE), date=day, reason="x"))
    ordered = [entry.id for entry in sorted(entries, key=ids.sort_key)]
    assert ordered[:3] == ["20260310-1", "20260310-9", "20260310-10"]
    assert NEW_ID.match(ordered[3])


def test_an_id_is_found_as_typed_in_any_case() -> None:
    made = ids.entry_id(D(2026, 3, 10), (), DEVICE)
    year = JournalYear(
        year=2026, meetings=(meeting(made, D(2026, 3, 10)), meeting("20260310-1", D(2026, 3, 10)))
    )
    assert journal.find_entry([year], f" {made.upper()} ").id == made  # type: ignore[union-attr]
    assert journal.find_entry([year], "20260310-1").id == "20260310-1"  # type: ignore[union-attr]


def test_old_ids_in_a_journal_are_amended_closed_and_forgotten_as_before(
    cli: Invoke, set_up: Callable[..., None], at: Callable[[str], None], store: Store
) -> None:
    set_up("Ann Lee", "Bo Chen")
    old = Meeting(id="20260303-1", date=D(2026, 3, 3), peer="Ann Lee", mode=Mode.COFFEE)
    store.save_year(JournalYear(year=2026, meetings=(old,)), merged=True)
    at("2026-03-04T09:00")
    assert cli("log", "--amend", "20260303-1", "--follow-up", "send the deck").exit_code == 0
    assert cli("done", "20260303-1.1").exit_code == 0
    assert store.load_year(2026).meetings[0].follow_ups[0].done
    assert cli("log", "Bo Chen", "--date", "2026-03-03").exit_code == 0
    made = [m.id for m in store.load_year(2026).meetings]
    assert "20260303-1" in made
    assert any(NEW_ID.match(m) for m in made)
    assert cli("forget", "20260303-1", "--yes").exit_code == 0
    assert "20260303-1" in store.load_year(2026).forgotten
