"""The sync plan, case by case: what the plan wants x what was recorded x what the server holds."""

from __future__ import annotations

import pytest

from peerloop.syncplan import (
    Action,
    Applied,
    Desired,
    Kind,
    Recorded,
    Refused,
    Remote,
    counts,
    plan,
    record_after,
)

UID = "peerloop-abc-2026W10"
ICS, ICS2 = b"BEGIN:VCALENDAR\r\n...v1", b"BEGIN:VCALENDAR\r\n...v2"
HREF = "/alice/peers/peerloop-abc-2026W10.ics"

WANT = Desired(ICS, "d1")
WANT_CHANGED = Desired(ICS2, "d2")
WAS = Recorded(HREF, '"e1"', "d1")
NOW_SAME = Remote(HREF, '"e1"')
NOW_EDITED = Remote(HREF, '"e-leader"')
NOW_MOVED = Remote("/alice/peers/renamed.ics", '"e1"')

# (case, desired, recorded, remote, overwrite) -> expected action, or None for "nothing at all"
CASES = [
    ("new event is created", WANT, None, None, False,
     Action(Kind.CREATE, UID, "new", ics=ICS, digest="d1")),
    ("same content and etag is unchanged", WANT, WAS, NOW_SAME, False,
     Action(Kind.UNCHANGED, UID, "unchanged", HREF, '"e1"', digest="d1")),
    ("unchanged follows the server's href", WANT, WAS, NOW_MOVED, False,
     Action(Kind.UNCHANGED, UID, "unchanged", NOW_MOVED.href, '"e1"', digest="d1")),
    ("changed content is updated with if-match of the recorded etag", WANT_CHANGED, WAS, NOW_SAME, False,
     Action(Kind.UPDATE, UID, "changed", HREF, '"e1"', ICS2, "d2")),
    ("leader's edit of a planned event is a conflict", WANT_CHANGED, WAS, NOW_EDITED, False,
     Action(Kind.CONFLICT, UID, "changed on the server", HREF, '"e-leader"')),
    ("leader's edit stays a conflict even when our content did not change", WANT, WAS, NOW_EDITED, False,
     Action(Kind.CONFLICT, UID, "changed on the server", HREF, '"e-leader"')),
    ("overwrite replaces the leader's edit, if-match its current etag", WANT, WAS, NOW_EDITED, True,
     Action(Kind.UPDATE, UID, "changed on the server, overwritten", HREF, '"e-leader"', ICS, "d1")),
    ("planned event deleted on the server is reported missing", WANT, WAS, None, False,
     Action(Kind.MISSING, UID, "deleted on the server", HREF, '"e1"')),
    ("overwrite puts a deleted event back", WANT, WAS, None, True,
     Action(Kind.CREATE, UID, "deleted on the server, put back", ics=ICS, digest="d1")),
    ("unrecorded event of ours on the server is adopted by an update", WANT, None, NOW_EDITED, False,
     Action(Kind.UPDATE, UID, "on the server but not recorded", HREF, '"e-leader"', ICS, "d1")),
    ("event that left the plan is deleted", None, WAS, NOW_SAME, False,
     Action(Kind.DELETE, UID, "left the plan", HREF, '"e1"')),
    ("event that left the plan but was edited is a conflict", None, WAS, NOW_EDITED, False,
     Action(Kind.CONFLICT, UID, "left the plan but was changed on the server", HREF, '"e-leader"')),
    ("overwrite deletes an edited event that left the plan", None, WAS, NOW_EDITED, True,
     Action(Kind.DELETE, UID, "left the plan", HREF, '"e-leader"')),
    ("event that left the plan and is gone is only forgotten", None, WAS, None, False,
     Action(Kind.FORGET, UID, "already gone from the server")),
    ("leftover of an interrupted sync is deleted", None, None, NOW_SAME, False,
     Action(Kind.DELETE, UID, "left over from an interrupted sync", HREF, '"e1"')),
]  # fmt: skip


@pytest.mark.parametrize(("desired", "recorded", "remote", "overwrite", "expected"),
                         [pytest.param(*case[1:], id=case[0]) for case in CASES])  # fmt: skip
def test_each_combination_gets_exactly_its_action(
    desired: Desired | None,
    recorded: Recorded | None,
    remote: Remote | None,
    overwrite: bool,
    expected: Action,
) -> None:
    actions = plan(
        {UID: desired} if desired else {},
        {UID: recorded} if recorded else {},
        {UID: remote} if remote else {},
        overwrite=overwrite,
    )
    assert actions == [expected]


def test_uid_known_nowhere_needs_nothing() -> None:
    assert plan({}, {}, {}) == []


def test_actions_come_in_uid_order_whatever_side_knows_them() -> None:
    desired = {"peerloop-x-3": WANT, "peerloop-x-1": WANT}
    remote = {"peerloop-x-2": NOW_SAME}
    assert [a.uid for a in plan(desired, {}, remote)] == ["peerloop-x-1", "peerloop-x-2", "peerloop-x-3"]


def test_second_sync_after_everything_was_accepted_changes_nothing() -> None:
    desired = {f"peerloop-x-{n}": Desired(f"ics{n}".encode(), f"d{n}") for n in range(5)}
    first = plan(desired, {}, {})
    results = [Applied(a.uid, f"/cal/{a.uid}.ics", f'"e{a.uid}"') for a in first]
    record = record_after({}, first, results)
    remote = {uid: Remote(r.href, r.etag) for uid, r in record.items()}
    second = plan(desired, record, remote)
    assert {a.kind for a in second} == {Kind.UNCHANGED}
    assert record_after(record, second, []) == record


def test_sync_stopped_half_way_records_exactly_what_the_server_accepted() -> None:
    desired = {f"peerloop-x-{n}": Desired(f"ics{n}".encode(), f"d{n}") for n in range(4)}
    actions = plan(desired, {}, {})
    accepted = [Applied(a.uid, f"/cal/{a.uid}.ics", '"e"') for a in actions[:2]]
    record = record_after({}, actions, accepted)
    assert sorted(record) == ["peerloop-x-0", "peerloop-x-1"]
    remote = {uid: Remote(r.href, r.etag) for uid, r in record.items()}
    rest = plan(desired, record, remote)
    assert [(a.kind, a.uid) for a in rest if a.kind is not Kind.UNCHANGED] == [
        (Kind.CREATE, "peerloop-x-2"),
        (Kind.CREATE, "peerloop-x-3"),
    ]


def test_accepted_update_records_new_etag_and_digest() -> None:
    actions = plan({UID: WANT_CHANGED}, {UID: WAS}, {UID: NOW_SAME})
    record = record_after({UID: WAS}, actions, [Applied(UID, HREF, '"e2"')])
    assert record == {UID: Recorded(HREF, '"e2"', "d2")}


def test_update_refused_during_the_sync_keeps_the_old_record() -> None:
    actions = plan({UID: WANT_CHANGED}, {UID: WAS}, {UID: NOW_SAME})
    record = record_after({UID: WAS}, actions, [Refused(UID, "changed on the server during the sync")])
    assert record == {UID: WAS}


def test_accepted_delete_and_forget_drop_the_record() -> None:
    other = "peerloop-abc-2026W11"
    recorded = {UID: WAS, other: Recorded("/o.ics", '"o"', "do")}
    actions = plan({}, recorded, {UID: NOW_SAME})
    assert [a.kind for a in actions] == [Kind.DELETE, Kind.FORGET]
    assert record_after(recorded, actions, [Applied(UID, None, None)]) == {}


def test_conflicts_and_missing_events_keep_their_record_so_they_stay_reported() -> None:
    other = "peerloop-abc-2026W11"
    recorded = {UID: WAS, other: Recorded("/o.ics", '"o"', "d1")}
    actions = plan({UID: WANT, other: WANT}, recorded, {UID: NOW_EDITED})
    assert [a.kind for a in actions] == [Kind.CONFLICT, Kind.MISSING]
    record = record_after(recorded, actions, [])
    assert record == recorded
    assert [a.kind for a in plan({UID: WANT, other: WANT}, record, {UID: NOW_EDITED})] == [
        Kind.CONFLICT,
        Kind.MISSING,
    ]


def test_counts_name_every_kind_for_the_summary_line() -> None:
    actions = plan({"peerloop-x-1": WANT, UID: WANT}, {UID: WAS}, {UID: NOW_SAME})
    tally = counts(actions)
    assert tally[Kind.CREATE] == 1
    assert tally[Kind.UNCHANGED] == 1
    assert sum(tally.values()) == 2
    assert set(tally) == set(Kind)
