"""The merge rules, pure (core/merge): two devices' versions of a file become one with nothing lost. Every entry
of either side is kept; the same entry changed on both keeps the newer version and the other beside it; a
forgotten entry or a removed peer stays gone unless changed after; a rename on one side and a log on the other
meet as one peer; calendar events by UID with the higher SEQUENCE; connections by connection."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from peerloop.core.merge.journal import merge_years, with_current_names
from peerloop.core.merge.roster import merge_rosters
from peerloop.core.merge.stamps import stamped_roster, stamped_year
from peerloop.core.merge.tables import merge_calendar, merge_connections
from peerloop.core.models import (
    FollowUp,
    JournalYear,
    Meeting,
    Mode,
    Peer,
    Reflection,
    Replaced,
    Roster,
    Settings,
    Skip,
)

D = dt.date


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2027, 1, 5, hour, minute, tzinfo=dt.UTC)


def meeting(entry_id: str, day: int = 5, **fields: Any) -> Meeting:
    return Meeting(
        id=entry_id, date=D(2027, 1, day), peer=fields.pop("peer", "Ann Lee"), mode=Mode.COFFEE, **fields
    )


def year(*entries: Any, **fields: Any) -> JournalYear:
    return JournalYear(
        year=2027,
        meetings=tuple(e for e in entries if isinstance(e, Meeting)),
        skips=tuple(e for e in entries if isinstance(e, Skip)),
        reflections=tuple(e for e in entries if isinstance(e, Reflection)),
        **fields,
    )


def ids(journal_year: JournalYear) -> set[str]:
    return {entry.id for entry in journal_year.entries()}


# --- the journal ---------------------------------------------------------------------------------------------


def test_entries_logged_on_either_device_are_all_kept() -> None:
    laptop = year(
        meeting("20270105-aaaaa", changed=at(9)), Skip(id="20270112-bbbbb", date=D(2027, 1, 12), reason="flu")
    )
    desktop = year(
        meeting("20270105-ccccc", peer="Bo Chen", changed=at(10)),
        Reflection(id="20270106-ddddd", date=D(2027, 1, 6)),
    )
    merged, notes = merge_years(None, laptop, desktop)
    assert ids(merged) == ids(laptop) | ids(desktop)
    assert notes == []
    assert merge_years(None, desktop, laptop).year == merged


def test_the_same_entry_changed_on_both_keeps_the_newer_and_the_other_beside_it() -> None:
    older = meeting("20270105-aaaaa", win="got the intro", note="same", changed=at(9))
    newer = meeting("20270105-aaaaa", win="closed the deal", note="same", changed=at(18))
    for ours, theirs in ((older, newer), (newer, older)):
        merged, notes = merge_years(None, year(ours), year(theirs))
        (kept,) = merged.meetings
        assert kept.win == "closed the deal"
        assert kept.changed == at(18)
        assert kept.replaced == (Replaced(at(9), {"win": "got the intro"}),)
        assert notes == ["meeting 20270105-aaaaa was changed on both devices: kept the newer version, the other's "
                         "win beside it (`peerloop history` shows it)"]  # fmt: skip


def test_with_the_common_version_each_side_keeps_the_fields_it_changed() -> None:
    base = meeting("20270105-aaaaa", changed=at(8))
    ours = base._replace(win="closed the deal", changed=at(9))
    theirs = base._replace(note="ask about Q3", changed=at(10))
    merged, notes = merge_years(year(base), year(ours), year(theirs))
    (kept,) = merged.meetings
    assert (kept.win, kept.note, kept.replaced, notes) == ("closed the deal", "ask about Q3", (), [])


def test_a_forgotten_entry_stays_forgotten_unless_changed_after() -> None:
    entry = meeting("20270105-aaaaa", changed=at(9))
    forgotten = year(forgotten={"20270105-aaaaa": at(12)})
    assert ids(merge_years(None, year(entry), forgotten).year) == set()
    assert merge_years(None, forgotten, year(entry)).year.forgotten == {"20270105-aaaaa": at(12)}
    changed_later = entry._replace(win="after all", changed=at(13))
    merged = merge_years(None, forgotten, year(changed_later)).year
    assert ids(merged) == {"20270105-aaaaa"}
    assert merged.forgotten == {}


def test_with_the_common_version_an_entry_deleted_on_one_side_is_deleted() -> None:
    entry = meeting("20270105-aaaaa", changed=at(9))
    other = meeting("20270106-bbbbb", day=6, changed=at(9))
    merged = merge_years(year(entry, other), year(entry, other), year(other)).year
    assert ids(merged) == {"20270106-bbbbb"}


def test_follow_ups_closed_on_one_side_and_added_on_the_other_are_all_there() -> None:
    base = meeting("20270105-aaaaa", follow_ups=(FollowUp("deck", False, 1),), changed=at(8))
    ours = base._replace(follow_ups=(FollowUp("deck", True, 1),), changed=at(9))
    theirs = base._replace(
        follow_ups=(FollowUp("deck", False, 1), FollowUp("venue", False, 2)), changed=at(10)
    )
    (kept,) = merge_years(year(base), year(ours), year(theirs)).year.meetings
    assert kept.follow_ups == (FollowUp("deck", True, 1), FollowUp("venue", False, 2))


def test_a_follow_up_added_on_both_devices_under_one_number_keeps_both() -> None:
    base = meeting("20270105-aaaaa", follow_ups=(FollowUp("deck", False, 1),), changed=at(8))
    ours = base._replace(follow_ups=(*base.follow_ups, FollowUp("venue", False, 2)), changed=at(9))
    theirs = base._replace(follow_ups=(*base.follow_ups, FollowUp("budget", False, 2)), changed=at(10))
    merged, notes = merge_years(None, year(ours), year(theirs))
    (kept,) = merged.meetings
    assert kept.follow_ups == (
        FollowUp("deck", False, 1),
        FollowUp("budget", False, 2),
        FollowUp("venue", False, 3),
    )
    assert notes == ["20270105-aaaaa.2 from the other version is now 20270105-aaaaa.3"]


def test_two_entries_of_different_kinds_under_one_id_are_both_kept() -> None:
    skip = Skip(id="20270105-aaaaa", date=D(2027, 1, 5), reason="flu", changed=at(9))
    merged, notes = merge_years(None, year(meeting("20270105-aaaaa", changed=at(10))), year(skip))
    (kept,) = merged.meetings
    assert kept.replaced[0].fields == {"kind": "skip", "date": D(2027, 1, 5), "reason": "flu"}
    assert "the skip with the same id is kept beside it" in notes[0]


entries = st.builds(
    lambda n, day, hour, win: meeting(f"202701{day:02d}-{n:05d}", day=day, win=win, changed=at(hour)),
    st.integers(0, 30), st.integers(1, 28), st.integers(0, 23), st.sampled_from([None, "a", "b"]),
)  # fmt: skip


@settings(max_examples=80, deadline=None)
@given(st.lists(entries, max_size=8), st.lists(entries, max_size=8))
def test_no_entry_of_either_side_is_lost_and_both_devices_merge_alike(
    ours: list[Meeting], theirs: list[Meeting]
) -> None:
    left = year(*{m.id: m for m in ours}.values())
    right = year(*{m.id: m for m in theirs}.values())
    merged = merge_years(None, left, right).year
    assert ids(merged) == ids(left) | ids(right)
    assert sorted(merged.meetings) == sorted(merge_years(None, right, left).year.meetings)
    for kept in merged.meetings:
        versions = {m.win for m in (*left.meetings, *right.meetings) if m.id == kept.id}
        assert versions <= {kept.win, *(r.fields.get("win") or None for r in kept.replaced)}


# --- what a save records ------------------------------------------------------------------------------------


def test_a_save_stamps_what_it_changed_and_forgets_what_it_removed() -> None:
    kept = meeting("20270105-aaaaa", changed=at(8))
    amended = meeting("20270106-bbbbb", day=6, changed=at(8))
    gone = meeting("20270107-ccccc", day=7, changed=at(8))
    before = year(kept, amended, gone)
    after = year(kept, amended._replace(win="yes"), meeting("20270108-ddddd", day=8))
    saved = stamped_year(before, after, at(12))
    assert {m.id: m.changed for m in saved.meetings} == {
        "20270105-aaaaa": at(8), "20270106-bbbbb": at(12), "20270108-ddddd": at(12)
    }  # fmt: skip
    assert saved.forgotten == {"20270107-ccccc": at(12)}


def test_a_rename_is_not_a_removal_and_a_peer_added_back_is_no_longer_removed() -> None:
    ann, bo = Peer("Ann Lee", D(2027, 1, 1), changed=at(8)), Peer("Bo Chen", D(2027, 1, 1), changed=at(8))
    renamed = ann._replace(name="Ann Smith", formerly=("Ann Lee",))
    saved = stamped_roster(Roster(peers=(ann, bo)), Roster(peers=(renamed,)), at(12))
    assert saved.removed == {"Bo Chen": at(12)}
    assert saved.peers[0].changed == at(12)
    back = stamped_roster(saved, saved._replace(peers=(*saved.peers, Peer("Bo Chen", D(2027, 2, 1)))), at(13))
    assert back.removed == {}


# --- the roster ---------------------------------------------------------------------------------------------


SETTINGS = Settings(name="Dana Ode", timezone="Europe/Berlin", weekday=1, time=dt.time(8, 30), duration=45,
                    mode=Mode.COFFEE, trial_start=D(2027, 1, 4), changed=at(8))  # fmt: skip


def test_a_rename_on_one_device_and_a_log_on_the_other_meet_as_one_peer() -> None:
    ann = Peer("Ann Lee", D(2027, 1, 4), changed=at(8))
    renamed = Roster(SETTINGS, (ann._replace(name="Ann Smith", formerly=("Ann Lee",), changed=at(9)),))
    logged = Roster(
        SETTINGS, (ann._replace(added=D(2026, 12, 20), changed=at(10)),)
    )  # a meeting moved `added`
    for ours, theirs in ((renamed, logged), (logged, renamed)):
        merged, notes = merge_rosters(None, ours, theirs)
        (peer,) = merged.peers
        assert (peer.name, peer.formerly, peer.added) == ("Ann Smith", ("Ann Lee",), D(2026, 12, 20))
        assert notes == []
    journal_year = year(
        meeting("20270105-aaaaa", peer="Ann Lee"), meeting("20270106-bbbbb", day=6, peer="Bo Chen")
    )
    named, changed = with_current_names(journal_year, merged)
    assert [m.peer for m in named.meetings] == ["Ann Smith", "Bo Chen"]
    assert changed == ["Ann Lee"]


def test_a_pause_on_one_device_and_a_note_on_the_other_are_both_kept() -> None:
    ann = Peer("Ann Lee", D(2027, 1, 4), changed=at(8))
    base = Roster(SETTINGS, (ann,))
    paused = Roster(SETTINGS, (ann._replace(paused_until=D(2027, 3, 1), changed=at(9)),))
    noted = Roster(SETTINGS, (ann._replace(note="new job", changed=at(10)),))
    (peer,) = merge_rosters(base, paused, noted).roster.peers
    assert (peer.paused_until, peer.note) == (D(2027, 3, 1), "new job")
    (newest,) = merge_rosters(None, paused, noted).roster.peers  # no common version: the newer wins
    assert (newest.paused_until, newest.note) == (None, "new job")


def test_a_peer_removed_on_one_device_stays_removed_unless_changed_after() -> None:
    ann, bo = Peer("Ann Lee", D(2027, 1, 4), changed=at(8)), Peer("Bo Chen", D(2027, 1, 4), changed=at(8))
    removed = Roster(SETTINGS, (bo,), removed={"Ann Lee": at(12)})
    kept = Roster(SETTINGS, (ann, bo))
    assert [p.name for p in merge_rosters(None, kept, removed).roster.peers] == ["Bo Chen"]
    edited = Roster(SETTINGS, (ann._replace(note="back", changed=at(13)), bo))
    merged = merge_rosters(None, removed, edited).roster
    assert [p.name for p in merged.peers] == ["Bo Chen", "Ann Lee"]
    assert merged.removed == {}


def test_peers_added_on_each_device_are_all_kept_and_settings_keep_the_newer() -> None:
    laptop = Roster(SETTINGS._replace(weekday=2, changed=at(9)), (Peer("Ann Lee", D(2027, 1, 4)),))
    desktop = Roster(SETTINGS._replace(time=dt.time(9), changed=at(10)), (Peer("Bo Chen", D(2027, 1, 4)),))
    merged, notes = merge_rosters(None, laptop, desktop)
    assert [p.name for p in merged.peers] == ["Ann Lee", "Bo Chen"]
    assert merged.settings is not None
    assert (merged.settings.weekday, merged.settings.time) == (1, dt.time(9))
    assert notes == ["settings changed on both devices: kept the newer weekday, time; the other said weekday 2, "
                     "time 08:30:00"]  # fmt: skip


# --- calendar.toml and connections.toml -----------------------------------------------------------------------


def event(sequence: int, digest: str = "d") -> dict[str, Any]:
    return {"kind": "slot", "start": D(2027, 1, 12), "digest": digest, "sequence": sequence}


def test_calendar_events_merge_by_uid_with_the_higher_sequence() -> None:
    ours = {"home_id": "abcdef12", "events": {"u1": event(3, "a"), "u2": event(0)},
            "caldav": {"url": "https://dav/", "synced_at": at(9), "events": {"u1": {"etag": "1"}}}}  # fmt: skip
    theirs = {"home_id": "abcdef12", "events": {"u1": event(4, "b"), "u3": event(1)},
              "caldav": {"url": "https://dav/", "synced_at": at(10), "events": {"u1": {"etag": "2"}, "u3": {"etag": "3"}}}}  # fmt: skip
    merged, notes = merge_calendar(None, ours, theirs)
    assert merged["events"] == {"u1": event(4, "b"), "u2": event(0), "u3": event(1)}
    assert merged["caldav"]["events"] == {"u1": {"etag": "2"}, "u3": {"etag": "3"}}
    assert notes == []
    assert (
        "calendar id 'ffffff00' was not kept"
        in merge_calendar(None, ours, {**theirs, "home_id": "ffffff00"}).notes[0]
    )


def test_connections_made_on_either_device_are_kept_and_a_clash_keeps_this_devices() -> None:
    ours = {"caldav": {"url": "https://a/", "user": "dana"}, "busy": [{"source": "work.ics"}]}
    theirs = {"caldav": {"url": "https://b/", "user": "dana"}, "smtp": {"host": "mail", "port": 587},
              "busy": [{"source": "home.ics"}, {"source": "work.ics"}]}  # fmt: skip
    merged, notes = merge_connections(None, ours, theirs)
    assert merged == {"caldav": ours["caldav"], "busy": [{"source": "work.ics"}, {"source": "home.ics"}],
                      "smtp": theirs["smtp"]}  # fmt: skip
    assert notes == ["connections.toml: both devices connected [caldav] differently; kept this device's "
                     "(`peerloop disconnect` and `peerloop connect` change it)"]  # fmt: skip
    base = {"caldav": theirs["caldav"]}
    assert merge_connections(base, {}, base).tables == {}  # disconnected here, untouched there
