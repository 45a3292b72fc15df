"""The pure rules of the meeting log: ids, adding and moving entries, week checks, follow-ups, peers' figures."""

from __future__ import annotations

import datetime as dt

import pytest

from peerloop import journal, rotation
from peerloop import roster as roster_rules
from peerloop.errors import ConflictError, InputError
from peerloop.models import (
    FollowUp,
    Gain,
    JournalYear,
    Meeting,
    Mode,
    Peer,
    Reflection,
    Roster,
    Settings,
    Skip,
)
from peerloop.output.json import entry_json

D = dt.date


def meeting(id_: str, day: dt.date, peer: str = "Ann Lee", **fields: object) -> Meeting:
    return Meeting(id=id_, date=day, peer=peer, mode=Mode.COFFEE, **fields)  # type: ignore[arg-type]


def skip(id_: str, day: dt.date, peer: str | None = "Ann Lee") -> Skip:
    return Skip(id=id_, date=day, reason="travel", peer=peer)


SETTINGS = Settings(
    name="Dana", timezone="Europe/Berlin", weekday=1, time=dt.time(8, 30), duration=45, mode=Mode.COFFEE,
    trial_start=D(2026, 3, 2),
)  # fmt: skip


ADDED = D(2026, 3, 2)


def roster(*names: str) -> Roster:
    return Roster(settings=SETTINGS, peers=tuple(Peer(name=n, added=ADDED) for n in names))


# --- ids ---------------------------------------------------------------------------------------------------


def test_an_id_names_its_year_and_ids_are_unique_across_kinds() -> None:
    assert journal.id_year("20261117-3") == 2026
    assert journal.id_year("notes") is None
    year = JournalYear(
        year=2026,
        meetings=(meeting("20260310-1", D(2026, 3, 10)),),
        reflections=(Reflection(id="20260310-2", date=D(2026, 3, 10)),),
    )
    assert journal.new_id(year, D(2026, 3, 10)) == "20260310-3"
    assert journal.new_id(year, D(2026, 3, 11)) == "20260311-1"
    with pytest.raises(ValueError, match="does not belong in the 2026 file"):
        journal.new_id(year, D(2025, 3, 11))


def test_newest_first_orders_by_date_then_the_ids_number() -> None:
    logged = [meeting(f"20260310-{n}", D(2026, 3, 10)) for n in (2, 10, 9, 1)] + [
        skip("20260303-1", D(2026, 3, 3))
    ]
    assert [e.id for e in journal.newest_first(logged)] == [
        "20260310-10", "20260310-9", "20260310-2", "20260310-1", "20260303-1"
    ]  # fmt: skip


# --- adding, replacing, removing, moving -------------------------------------------------------------------


def test_add_replace_remove_keep_each_kind_in_its_place() -> None:
    year = JournalYear(year=2026)
    first = meeting("20260310-1", D(2026, 3, 10))
    year = journal.add_entry(year, first)
    year = journal.add_entry(year, skip("20260317-1", D(2026, 3, 17)))
    assert [m.id for m in year.meetings] == ["20260310-1"]
    assert [s.id for s in year.skips] == ["20260317-1"]
    with pytest.raises(ValueError, match="already taken"):
        journal.add_entry(year, first)
    with pytest.raises(ValueError, match="does not belong"):
        journal.add_entry(year, meeting("20250310-1", D(2025, 3, 10)))
    changed = meeting("20260311-1", D(2026, 3, 11), issue="hiring")
    year = journal.replace_entry(year, "20260310-1", changed)
    assert year.meetings == (changed,)
    year, removed = journal.remove_entry(year, "20260317-1")
    assert removed.id == "20260317-1"
    assert year.skips == ()
    with pytest.raises(ConflictError, match="no journal entry with id 'nope'; `peerloop history`"):
        journal.remove_entry(year, "nope")


def test_moving_an_entry_to_another_year_changes_both_files() -> None:
    old = meeting("20260105-1", D(2026, 1, 5))
    source = JournalYear(year=2026, meetings=(old,))
    target = JournalYear(year=2025)
    moved = meeting("20251229-1", D(2025, 12, 29))
    new_source, new_target = journal.move_entry(source, target, old.id, moved)
    assert new_source.meetings == ()
    assert new_target.meetings == (moved,)
    (same,) = journal.move_entry(source, source, old.id, meeting("20260106-1", D(2026, 1, 6)))
    assert [m.id for m in same.meetings] == ["20260106-1"]


# --- checks ------------------------------------------------------------------------------------------------


def test_a_future_date_is_refused_naming_the_flag() -> None:
    assert journal.check_not_future(D(2026, 3, 10), D(2026, 3, 10)) == D(2026, 3, 10)
    with pytest.raises(InputError, match=r"^--date 2026-03-11 is in the future \(today is 2026-03-10\)"):
        journal.check_not_future(D(2026, 3, 11), D(2026, 3, 10))


def test_weeks_around_new_year_span_two_files() -> None:
    assert journal.week_years(D(2026, 1, 1)) == {2025, 2026}
    assert journal.week_years(D(2026, 3, 10)) == {2026}
    logged = [meeting("20251229-1", D(2025, 12, 29)), skip("20260105-1", D(2026, 1, 5))]
    assert [e.id for e in journal.entries_in_week(logged, D(2026, 1, 2))] == ["20251229-1"]
    assert journal.entries_in_week(logged, D(2026, 1, 2), ignore="20251229-1") == []


def test_a_skip_in_a_done_week_names_the_entry_and_forget() -> None:
    logged = [meeting("20260310-1", D(2026, 3, 10))]
    journal.check_skip_week(logged, D(2026, 3, 17))
    with pytest.raises(ConflictError) as caught:
        journal.check_skip_week(logged, D(2026, 3, 12))
    assert caught.value.message == (
        "the week of 2026-03-09 is already done: it holds meeting 20260310-1 with Ann Lee; "
        "to record a skip instead, run `peerloop forget 20260310-1` first"
    )
    journal.check_skip_week(logged, D(2026, 3, 12), ignore="20260310-1")


def test_an_extra_meeting_is_explained_not_refused() -> None:
    assert journal.extra_meeting_note([], D(2026, 3, 10)) is None
    note = journal.extra_meeting_note([meeting("20260310-1", D(2026, 3, 10))], D(2026, 3, 12))
    assert note == (
        "the week of 2026-03-09 already holds meeting 20260310-1 with Ann Lee: this meeting counts as an "
        "extra, not as next week's"
    )
    after_skip = journal.extra_meeting_note([skip("20260310-1", D(2026, 3, 10))], D(2026, 3, 12))
    assert after_skip is not None
    assert after_skip.endswith("if the meeting did happen, `peerloop forget 20260310-1`")


def test_an_unknown_name_is_told_apart_from_a_removed_peer() -> None:
    current = roster("Bo Chen")
    removed = journal.unknown_peer(current, "ann lee", ["Ann Lee"])
    assert removed.message == (
        "Ann Lee is no longer in the roster (removed; the journal keeps their entries); "
        'add them back with `peerloop add "Ann Lee"` to log with them'
    )
    stranger = journal.unknown_peer(current, "Zed", ["Ann Lee"])
    assert stranger.message == "no peer named 'Zed' in the roster (peers: Bo Chen); see `peerloop peers`"


def test_a_meeting_before_a_peer_was_added_moves_added_back() -> None:
    current = roster("Ann Lee", "Bo Chen")
    earlier = journal.with_added_back(current, "ann lee", D(2025, 12, 16))
    assert [p.added for p in earlier.peers] == [D(2025, 12, 16), D(2026, 3, 2)]
    assert journal.with_added_back(current, "Ann Lee", D(2026, 3, 10)) is current
    assert journal.with_added_back(current, "Gone", D(2020, 1, 1)) is current


# --- values and follow-ups ---------------------------------------------------------------------------------


def test_gains_accept_commas_spaces_and_repeats() -> None:
    assert journal.parse_gains(["advice, Strength", "advice", "motivation"]) == (
        Gain.ADVICE, Gain.STRENGTH, Gain.MOTIVATION
    )  # fmt: skip
    assert journal.parse_gains([""]) == ()
    with pytest.raises(ValueError, match="'luck' is not a gain; use one of advice, strength, motivation"):
        journal.parse_gains(["luck"])


def test_text_is_kept_exactly_and_blank_means_none() -> None:
    assert journal.text_or_none("  two\nlines ") == "  two\nlines "
    assert journal.text_or_none(" \t") is None
    assert journal.text_or_none(None) is None
    assert journal.check_text("\x00\x1b😀", "--note") == "\x00\x1b😀"


def test_text_that_is_not_utf8_is_refused_naming_the_flag() -> None:
    """Bytes that are not UTF-8 reach Python's argv as lone surrogates, which cannot be written to a file."""
    with pytest.raises(InputError, match=r"^--note: the text is not valid UTF-8 \(a stray byte"):
        journal.check_text("caf\udce9", "--note")


def test_follow_ups_keep_their_numbers_and_a_new_one_takes_the_next_free() -> None:
    items = (FollowUp("a", n=1), FollowUp("b", n=2), FollowUp("c", n=3), FollowUp("d", done=True, n=4))
    original = meeting("20260310-1", D(2026, 3, 10), follow_ups=items)
    changes = journal.FollowUpChanges(done=(1,), reopen=(4,), drop=(3,), add=("e", " "))
    assert journal.change_follow_ups(original, changes) == (
        FollowUp("a", True, 1), FollowUp("b", False, 2), FollowUp("d", False, 4), FollowUp("e", False, 5)
    )  # fmt: skip
    with pytest.raises(
        ConflictError, match=r"^--done: meeting 20260310-1 has no follow-up 20260310-1.5 \(it has"
    ):
        journal.change_follow_ups(original, journal.FollowUpChanges(done=(5,)))
    with pytest.raises(ConflictError, match=r"\(it has: none\)"):
        journal.change_follow_ups(meeting("20260310-2", D(2026, 3, 10)), journal.FollowUpChanges(drop=(1,)))
    with pytest.raises(InputError, match=r"follow-up 20260310-1.2 cannot be both done and reopened"):
        journal.change_follow_ups(original, journal.FollowUpChanges(done=(2,), reopen=(2,)))


def test_a_handle_names_its_meeting_and_its_number() -> None:
    assert journal.parse_handle(" 20260310-1.2 ") == ("20260310-1", 2)
    assert journal.handle(meeting("20260310-1", D(2026, 3, 10)), FollowUp("x", n=3)) == "20260310-1.3"
    for bad in ("20260310-1", "20260310-1.0", "send the deck", "20260310-1.x"):
        with pytest.raises(ValueError, match="is not a follow-up handle"):
            journal.parse_handle(bad)


def test_open_follow_ups_come_from_every_meeting_with_the_peer_oldest_first() -> None:
    older = meeting(
        "20260303-1", D(2026, 3, 3), follow_ups=(FollowUp("deck", n=1), FollowUp("done", True, 2))
    )
    newer = meeting("20260310-1", D(2026, 3, 10), follow_ups=(FollowUp("venue", n=1),))
    other = meeting("20260317-1", D(2026, 3, 17), peer="Bo Chen", follow_ups=(FollowUp("bo's", n=1),))
    found = journal.open_follow_ups([newer, other, older], "ann lee")
    assert [(m.id, item.text) for m, item in found] == [("20260303-1", "deck"), ("20260310-1", "venue")]


def test_changed_fields_name_what_an_amend_changed() -> None:
    before = meeting("20260310-1", D(2026, 3, 10))
    after = meeting("20260311-1", D(2026, 3, 11), issue="x")
    assert journal.changed_fields(before, after) == ["date", "issue"]
    assert journal.changed_fields(before, before) == []


# --- what `peers` shows ------------------------------------------------------------------------------------


def test_meeting_stats_count_per_peer_whatever_the_case() -> None:
    logged = [
        meeting("20260310-1", D(2026, 3, 10)),
        meeting("20260303-1", D(2026, 3, 3), peer="ANN LEE"),
        meeting("20260317-1", D(2026, 3, 17), peer="Bo Chen"),
    ]
    assert roster_rules.meeting_stats(logged) == {
        "ann lee": (D(2026, 3, 10), 2),
        "bo chen": (D(2026, 3, 17), 1),
    }


def test_next_turns_follow_the_plan_and_wait_for_a_pause_to_end() -> None:
    current = roster("Ann Lee", "Bo Chen", "Cy Dee")
    paused = Peer(name="Di Eng", added=D(2026, 3, 2), paused_until=D(2026, 5, 1))
    current = Roster(settings=SETTINGS, peers=(*current.peers, paused))
    history = rotation.history_from([meeting("20260303-1", D(2026, 3, 3))], [])
    turns = roster_rules.next_turns(current, SETTINGS, history, D(2026, 3, 4))
    assert turns == {
        "bo chen": D(2026, 3, 10),
        "cy dee": D(2026, 3, 17),
        "ann lee": D(2026, 3, 24),
        "di eng": D(2026, 5, 5),
    }
    assert roster_rules.next_turns(Roster(settings=SETTINGS), SETTINGS, history, D(2026, 3, 4)) == {}


def test_entry_json_carries_id_kind_date_peer_and_every_field() -> None:
    full = meeting(
        "20260310-1", D(2026, 3, 10), issue="i", gains=(Gain.ADVICE,), win="w", works="ww", improve="im",
        follow_ups=(FollowUp("a", n=1), FollowUp("b", done=True, n=2)), note="n",
    )  # fmt: skip
    assert entry_json(full) == {
        "id": "20260310-1", "kind": "meeting", "date": D(2026, 3, 10), "peer": "Ann Lee", "mode": "coffee",
        "issue": "i", "gains": ["advice"], "win": "w", "works": "ww", "improve": "im",
        "follow_ups": [{"handle": "20260310-1.1", "n": 1, "text": "a", "done": False},
                       {"handle": "20260310-1.2", "n": 2, "text": "b", "done": True}],
        "note": "n",
    }  # fmt: skip
    assert entry_json(skip("20260317-1", D(2026, 3, 17), peer=None)) == {
        "id": "20260317-1", "kind": "skip", "date": D(2026, 3, 17), "peer": None, "reason": "travel"
    }  # fmt: skip


def test_renaming_a_peer_rewrites_their_meetings_and_skips_only() -> None:
    from peerloop.journal import renamed_peer
    from peerloop.models import JournalYear, Meeting, Mode, Skip

    day = dt.date(2026, 3, 3)
    year = JournalYear(
        year=2026,
        meetings=(Meeting("a", day, "ann lee", Mode.COFFEE), Meeting("b", day, "Bo", Mode.CALL)),
        skips=(Skip("c", day, "travel", "ANN LEE"), Skip("d", day, "sick", None)),
    )
    renamed = renamed_peer(year, "Ann Lee", "Ann Li")
    assert [m.peer for m in renamed.meetings] == ["Ann Li", "Bo"]
    assert [s.peer for s in renamed.skips] == ["Ann Li", None]
    assert renamed_peer(year, "Nobody", "X") == year
