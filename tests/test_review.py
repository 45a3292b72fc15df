"""The trial's figures (peerloop.review), pure: properties over generated journals, and the edge cases."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from peerloop.models import (
    Decision,
    FollowUp,
    Gain,
    Journal,
    JournalYear,
    Meeting,
    Mode,
    Peer,
    Reflection,
    Review,
    Roster,
    Settings,
    Skip,
    Verdict,
    peer_key,
)
from peerloop.output import json as json_output
from peerloop.output.json import evidence_json
from peerloop.output.report import md, report_markdown
from peerloop.rotation import first_trial_week, week_start
from peerloop.trial import (
    WeekState,
    evidence,
    gain_counts,
    in_trial,
    next_trial,
    peer_counts,
    progress,
    review_due,
    review_for,
    strip_text,
    trial_reflections,
    trial_week,
    trial_years,
)

START = dt.date(2026, 3, 2)  # a Monday
NAMES = ("Ann Lee", "Bo Chen", "Cy Dee", "Di Eze", "Old Friend")


def make_settings(start: dt.date = START, weekday: int = 1, months: int = 6) -> Settings:
    return Settings(
        name="Dana", timezone="Europe/Berlin", weekday=weekday, time=dt.time(8, 30), duration=45,
        mode=Mode.COFFEE, trial_start=start, trial_months=months,
    )  # fmt: skip


ROSTER = Roster(peers=tuple(Peer(name=name, added=dt.date(2026, 1, 1)) for name in NAMES[:4]))


def meeting(day: dt.date, peer: str = "Ann Lee", n: int = 1, **fields: object) -> Meeting:
    return Meeting(id=f"{day:%Y%m%d}-{n}", date=day, peer=peer, mode=Mode.COFFEE, **fields)  # type: ignore[arg-type]


def skip(day: dt.date, reason: str = "travel", n: int = 1) -> Skip:
    return Skip(id=f"{day:%Y%m%d}-s{n}", date=day, reason=reason)


def journal_of(*entries: Meeting | Skip | Reflection | Review) -> Journal:
    years = sorted({entry.date.year for entry in entries})
    return Journal(
        years=tuple(
            JournalYear(
                year=year,
                meetings=tuple(e for e in entries if isinstance(e, Meeting) and e.date.year == year),
                skips=tuple(e for e in entries if isinstance(e, Skip) and e.date.year == year),
                reflections=tuple(e for e in entries if isinstance(e, Reflection) and e.date.year == year),
                reviews=tuple(e for e in entries if isinstance(e, Review) and e.date.year == year),
            )
            for year in years
        )
    )


# --- generated journals ------------------------------------------------------------------------------------


@st.composite
def trials(draw: st.DrawFn) -> tuple[Settings, list[Meeting], list[Skip], dt.date]:
    """A trial with any start and weekday, a day within or after it, and entries around it (some outside)."""
    start = START + dt.timedelta(days=draw(st.integers(0, 400)))
    config = make_settings(start, weekday=draw(st.integers(0, 6)), months=draw(st.integers(1, 12)))
    today = start + dt.timedelta(days=draw(st.integers(-20, 420)))
    days = st.integers(-40, 440).map(lambda n: start + dt.timedelta(days=n))
    spellings = st.sampled_from([*NAMES, "ann lee", "BO CHEN", " Cy  Dee"])
    gains = st.lists(st.sampled_from(Gain), max_size=4).map(tuple)
    meetings = [
        meeting(day, peer, n, gains=gain)
        for n, (day, peer, gain) in enumerate(draw(st.lists(st.tuples(days, spellings, gains), max_size=40)))
    ]
    skips = [skip(day, f"reason {n}", n) for n, day in enumerate(draw(st.lists(days, max_size=15)))]
    return config, meetings, skips, today


@settings(max_examples=300, deadline=None)
@given(trials())
def test_the_weeks_so_far_are_each_kept_skipped_missed_or_open(
    trial: tuple[Settings, list[Meeting], list[Skip], dt.date],
) -> None:
    config, meetings, skips, today = trial
    so_far = progress(config, meetings, skips, today)
    counts = {state: so_far.tally(state) for state in WeekState}
    assert so_far.planned == len(so_far.so_far) == min(so_far.week, trial_week(config, config.counted_until))
    assert counts[WeekState.TO_COME] == 0
    assert sum(counts.values()) == so_far.planned
    assert [week.number for week in so_far.so_far] == list(range(1, so_far.planned + 1))
    assert all(week.monday.weekday() == 0 for week in so_far.so_far)
    assert counts[WeekState.OPEN] <= 1
    if counts[WeekState.OPEN]:
        assert so_far.so_far[-1].state is WeekState.OPEN
        assert so_far.so_far[-1].monday == week_start(today)
    assert len(so_far.strip) == max(so_far.planned, config.trial_weeks)


@settings(max_examples=300, deadline=None)
@given(trials())
def test_skips_and_meetings_partition_the_weeks_logged(
    trial: tuple[Settings, list[Meeting], list[Skip], dt.date],
) -> None:
    config, meetings, skips, today = trial
    so_far = progress(config, meetings, skips, today)
    kept = {w.monday for w in so_far.so_far if w.state is WeekState.KEPT}
    skipped = {w.monday for w in so_far.so_far if w.state is WeekState.SKIPPED}
    logged = {week_start(e.date) for e in [*meetings, *skips] if in_trial(e.date, config, today)}
    assert not kept & skipped
    assert kept | skipped == logged
    assert skipped == {
        week_start(s.date) for s in so_far.skips
    }  # the rule: a skip wins over an extra meeting
    assert kept == {week_start(m.date) for m in so_far.meetings} - skipped
    # exactly the entries dated in the trial's weeks so far are counted, each once
    assert sorted(m.id for m in so_far.meetings) == sorted(
        m.id for m in meetings if in_trial(m.date, config, today)
    )
    assert len(so_far.skips) == sum(1 for s in skips if in_trial(s.date, config, today))
    assert all(first_trial_week(config) <= week_start(m.date) <= week_start(today) for m in so_far.meetings)
    assert len(so_far.so_far) == so_far.tally(WeekState.KEPT) + so_far.tally(
        WeekState.SKIPPED
    ) + so_far.tally(WeekState.MISSED) + so_far.tally(WeekState.OPEN)  # the numbers on screen add up


@settings(max_examples=300, deadline=None)
@given(trials())
def test_per_peer_counts_add_up_and_no_peer_is_counted_twice(
    trial: tuple[Settings, list[Meeting], list[Skip], dt.date],
) -> None:
    config, meetings, skips, today = trial
    found = evidence(ROSTER, config, journal_of(*meetings, *skips), today)
    keys = [peer_key(p.name) for p in found.peers]
    assert len(keys) == len(set(keys))
    assert sum(p.meetings for p in found.peers) == found.meetings == len(found.progress.meetings)
    assert [p.name for p in found.peers[: len(ROSTER.peers)]] == [p.name for p in ROSTER.peers]
    for peer in found.peers:
        theirs = [m.date for m in found.progress.meetings if peer_key(m.peer) == peer_key(peer.name)]
        assert peer.meetings == len(theirs)
        assert peer.last_met == (max(theirs) if theirs else None)
        assert peer.in_roster == (ROSTER.find(peer.name) is not None)
    for gain, count in found.gains:
        assert count == sum(1 for m in found.progress.meetings if gain in m.gains) <= found.meetings
    assert [reason.text for reason in found.skip_reasons] == [s.reason for s in found.progress.skips]
    json.dumps(evidence_json(found), default=json_output._json_default)


@settings(max_examples=100, deadline=None)
@given(trials())
def test_the_trial_years_hold_every_entry_the_trial_counts(
    trial: tuple[Settings, list[Meeting], list[Skip], dt.date],
) -> None:
    config, meetings, skips, today = trial
    years = trial_years(config, today)
    for entry in [*meetings, *skips]:
        if in_trial(entry.date, config, today):
            assert entry.date.year in years


# --- the trial's calendar ----------------------------------------------------------------------------------


def test_week_one_is_the_week_of_the_first_slot_on_or_after_the_start() -> None:
    assert first_trial_week(make_settings(dt.date(2026, 3, 2), weekday=1)) == dt.date(2026, 3, 2)
    assert first_trial_week(make_settings(dt.date(2026, 3, 3), weekday=1)) == dt.date(2026, 3, 2)
    # started on Wednesday: this week's Tuesday slot is before the start, so week 1 is next week
    assert first_trial_week(make_settings(dt.date(2026, 3, 4), weekday=1)) == dt.date(2026, 3, 9)


def test_trial_week_counts_from_one_and_is_zero_before_the_trial() -> None:
    config = make_settings()
    assert trial_week(config, dt.date(2026, 2, 27)) == 0
    assert trial_week(config, dt.date(2026, 3, 2)) == 1
    assert trial_week(config, dt.date(2026, 3, 8)) == 1
    assert trial_week(config, dt.date(2026, 3, 9)) == 2
    assert config.trial_weeks == 26
    assert trial_week(config, config.trial_end) == 27


def test_a_week_is_open_until_it_ends_then_missed() -> None:
    config = make_settings()
    assert progress(config, [], [], dt.date(2026, 3, 8)).so_far[-1].state is WeekState.OPEN
    assert progress(config, [], [], dt.date(2026, 3, 9)).so_far[0].state is WeekState.MISSED


def test_a_skipped_week_with_an_extra_meeting_counts_as_skipped() -> None:
    """One written rule, everywhere: the week's meeting did not happen; the extra one counts as a meeting."""
    config = make_settings()
    so_far = progress(
        config, [meeting(dt.date(2026, 3, 5))], [skip(dt.date(2026, 3, 3))], dt.date(2026, 3, 20)
    )
    assert strip_text(so_far.strip)[:3] == "○×◌"  # noqa: RUF001
    assert (so_far.tally(WeekState.SKIPPED), so_far.tally(WeekState.KEPT), len(so_far.meetings)) == (1, 0, 1)
    assert len(so_far.skips) == so_far.tally(WeekState.SKIPPED)


def test_the_strip_reads_at_a_glance() -> None:
    config = make_settings()
    so_far = progress(
        config,
        [meeting(dt.date(2026, 3, 3)), meeting(dt.date(2026, 3, 17))],
        [skip(dt.date(2026, 3, 10))],
        dt.date(2026, 3, 31),
    )
    assert strip_text(so_far.strip) == "●○●×◌" + "·" * 21  # noqa: RUF001


# --- the review's rules ------------------------------------------------------------------------------------


def a_review(day: dt.date, trial_start: dt.date, decision: Decision = Decision.CONTINUE) -> Review:
    return Review(
        id=f"{day:%Y%m%d}-r", date=day, trial_start=trial_start, added_value=Verdict.YES, decision=decision
    )


def test_the_review_is_due_from_the_review_date_until_one_is_recorded() -> None:
    config = make_settings()
    end = config.trial_end
    assert end == dt.date(2026, 9, 2)
    assert not review_due(config, [], end - dt.timedelta(days=1))
    assert review_due(config, [], end)
    assert review_due(config, [a_review(dt.date(2025, 9, 1), dt.date(2025, 3, 1))], end)  # an older trial's
    assert not review_due(config, [a_review(end, START)], end + dt.timedelta(days=30))
    assert review_for(config, [a_review(end, START)]) == a_review(end, START)


def test_continue_and_adjust_start_a_new_trial_stop_does_not() -> None:
    config = make_settings()
    today = dt.date(2026, 9, 7)
    assert next_trial(config, Decision.CONTINUE, today).trial_start == today
    assert next_trial(config, Decision.ADJUST, today).trial_start == today
    assert next_trial(config, Decision.STOP, today) == config._replace(stopped_on=today)


def test_the_reflections_from_the_start_are_those_since_the_review_that_began_the_trial() -> None:
    first = Reflection(id="a", date=dt.date(2026, 2, 20), excuses=("no time",))
    second = Reflection(id="b", date=dt.date(2026, 9, 8), excuses=("travel",))
    review = a_review(dt.date(2026, 9, 7), START)
    assert trial_reflections(make_settings(), [first, second], [], dt.date(2026, 9, 7)) == (first,)
    new_trial = make_settings(dt.date(2026, 9, 7))
    assert trial_reflections(new_trial, [first, second], [review], dt.date(2027, 3, 8)) == (second,)


def test_peer_counts_merge_spellings_and_keep_people_no_longer_in_the_roster() -> None:
    counted = peer_counts(
        ROSTER,
        [meeting(dt.date(2026, 3, 3), "ann lee"), meeting(dt.date(2026, 3, 10), "ANN LEE", 2),
         meeting(dt.date(2026, 3, 17), "Old Friend")],
    )  # fmt: skip
    assert [(p.name, p.meetings, p.in_roster) for p in counted] == [
        ("Ann Lee", 2, True), ("Bo Chen", 0, True), ("Cy Dee", 0, True), ("Di Eze", 0, True),
        ("Old Friend", 1, False),
    ]  # fmt: skip
    assert counted[0].last_met == dt.date(2026, 3, 10)


def test_a_gain_listed_twice_in_one_meeting_counts_once() -> None:
    counts = dict(gain_counts([meeting(START, gains=(Gain.ADVICE, Gain.ADVICE, Gain.STRENGTH))]))
    assert counts == {Gain.ADVICE: 1, Gain.STRENGTH: 1, Gain.MOTIVATION: 0}


def test_evidence_gathers_wins_open_follow_ups_and_excuses() -> None:
    config = make_settings()
    journal = journal_of(
        meeting(
            dt.date(2026, 3, 3), win="a hire", follow_ups=(FollowUp("deck"), FollowUp("intro", done=True))
        ),
        meeting(dt.date(2026, 3, 10), "Bo Chen", works="coffee", improve="shorter"),
        skip(dt.date(2026, 3, 17), "board week"),
        Reflection(
            id="r1", date=dt.date(2026, 3, 1), names=("Ann Lee",), excuses=("no time", "No  time", "travel")
        ),
        meeting(dt.date(2025, 12, 1), "Bo Chen", win="before the trial"),
    )
    found = evidence(ROSTER, config, journal, dt.date(2026, 3, 25))
    assert found.early
    assert [w.text for w in found.wins] == ["a hire"]
    assert [(f.peer, f.text) for f in found.follow_ups] == [("Ann Lee", "deck")]
    assert [w.text for w in found.works] == ["coffee"]
    assert [w.text for w in found.improve] == ["shorter"]
    assert found.excuses == ("no time", "travel")
    assert [s.text for s in found.skip_reasons] == ["board week"]
    data = evidence_json(found)
    assert data["weeks"] == {
        "so_far": 4,
        "kept": 2,
        "skipped": 1,
        "missed": 0,
        "paused": 0,
        "open": 1,
        "strip": "●●○◌" + "·" * 22,
    }
    assert data["meetings"] == 2
    assert data["gains"] == {"advice": 0, "strength": 0, "motivation": 0}


def test_markdown_keeps_user_text_inert() -> None:
    assert md("# Big\n[link](http://x) <b>|`x`*") == r"\# Big \[link\](http://x) \<b\>\|\`x\`\*"


def test_the_report_holds_the_evidence_and_the_answers() -> None:
    config = make_settings()
    journal = journal_of(meeting(dt.date(2026, 3, 3), win="# not a heading\nsecond line"))
    found = evidence(ROSTER, config, journal, dt.date(2026, 9, 7))
    review = Review(
        id="x", date=found.today, trial_start=START, added_value=Verdict.PARTLY, decision=Decision.ADJUST,
        works="the slot", improve=None,
    )  # fmt: skip
    text = report_markdown(found, review)
    assert text.startswith("# Peer network review: trial of 2026-03-02 to 2026-09-02\n")
    assert "- 2026-03-03, Ann Lee: \\# not a heading second line" in text
    assert "- Did it add value? partly" in text
    assert "- Decision: adjust" in text
    assert "| Bo Chen | 0 | - |" in text
    assert "\n\n\n" not in text
    assert "## The review" not in report_markdown(found, None)


def test_the_trial_years_reach_into_next_year_when_this_week_does() -> None:
    config = make_settings(dt.date(2026, 9, 29), weekday=0)
    assert 2027 in trial_years(config, dt.date(2026, 12, 28))


def test_a_trial_whose_review_date_falls_mid_week_still_has_26_weeks() -> None:
    """Mon 2027-03-01 + six months is Wed 2027-09-01: that week is not a 27th trial week."""
    config = make_settings(dt.date(2027, 3, 1))
    assert config.trial_weeks == 26
    late = progress(config, [], [], dt.date(2027, 8, 31))
    assert (len(late.so_far), len(late.strip)) == (26, 26)
    assert late.so_far[-1].monday == dt.date(2027, 8, 23)
    assert trial_years(config, dt.date(2027, 12, 1)) == range(2027, 2028)


def test_a_week_with_every_peer_paused_counts_as_paused_not_missed() -> None:
    config = make_settings()
    away = Roster(peers=tuple(p._replace(paused_until=dt.date(2026, 3, 23)) for p in ROSTER.peers))
    so_far = progress(config, [meeting(dt.date(2026, 3, 3))], [], dt.date(2026, 3, 26), away)
    assert [w.state for w in so_far.so_far] == [
        WeekState.KEPT,
        WeekState.PAUSED,
        WeekState.PAUSED,
        WeekState.OPEN,
    ]
    assert so_far.tally(WeekState.MISSED) == 0
    assert strip_text(so_far.strip)[:4] == "●––◌"  # noqa: RUF001


def test_the_report_shows_the_purpose_and_the_touches() -> None:
    from peerloop.models import Touch

    config = make_settings()
    found = evidence(
        ROSTER, config,
        journal_of(Reflection(id="20260302-1", date=dt.date(2026, 3, 2), purpose="allies outside my team")),
        dt.date(2026, 9, 7),
    )._replace(touches=())  # fmt: skip
    text = report_markdown(found, None)
    assert "What you wanted the network to give you: allies outside my team" in text
    assert "In touch between meetings (calls, messages): none logged" in text
    with_touch = evidence(ROSTER, config, Journal(years=(JournalYear(year=2026, touches=(
        Touch("20260310-1", dt.date(2026, 3, 10), "Bo Chen"),)),)), dt.date(2026, 9, 7))  # fmt: skip
    assert "In touch between meetings (calls, messages): Bo Chen 1" in report_markdown(with_touch, None)
