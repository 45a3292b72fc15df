"""The trial's figures (peerloop.review), pure: properties over generated journals, and the edge cases."""

from __future__ import annotations

import datetime as dt
import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peerloop import prompts
from peerloop.actions.reminder import due_review
from peerloop.core.models import (
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
from peerloop.core.rotation import first_trial_week, week_start
from peerloop.core.trial import (
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
from peerloop.output import json as json_output
from peerloop.output.json import evidence_json
from peerloop.output.messages import reminder_line
from peerloop.output.report import md, report_markdown
from peerloop.store.records import Store
from tests.conftest import NEW_YEAR, ZOE, Invoke, as_json

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


def a_review(day: dt.date, trial_start: dt.date, decision: Decision = Decision.CONTINUE) -> Review:
    return Review(
        id=f"{day:%Y%m%d}-r", date=day, trial_start=trial_start, added_value=Verdict.YES, decision=decision
    )


def test_the_review_is_due_from_the_review_date_until_one_is_recorded() -> None:
    config = make_settings()
    end = config.trial_end
    assert end == dt.date(2026, 8, 31)  # the Monday after week 26 (a Tuesday slot from Mon 2026-03-02)
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


def test_an_early_review_midweek_starts_the_next_trial_with_its_own_week() -> None:
    wednesday = dt.date(2026, 3, 25)
    new_trial = next_trial(make_settings(), Decision.CONTINUE, wednesday)
    assert new_trial.trial_start == dt.date(2026, 3, 23)  # this week's Tuesday meeting is the new trial's
    assert first_trial_week(new_trial) == dt.date(2026, 3, 23)


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
        "so_far": 3,  # the weeks before the review's week: its own belongs to the next trial
        "kept": 2,
        "skipped": 1,
        "missed": 0,
        "paused": 0,
        "open": 0,
        "strip": "●●○" + "·" * 23,
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
    assert text.startswith("# Peer network review: trial of 2026-03-02 to 2026-08-30\n")
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
    from peerloop.core.models import Touch

    config = make_settings()
    found = evidence(
        ROSTER, config,
        journal_of(Reflection(id="20260302-ge5bm", date=dt.date(2026, 3, 2), purpose="allies outside my team")),
        dt.date(2026, 9, 7),
    )._replace(touches=())  # fmt: skip
    text = report_markdown(found, None)
    assert "What you wanted the network to give you: allies outside my team" in text
    assert "In touch between meetings (calls, messages): none logged" in text
    with_touch = evidence(ROSTER, config, Journal(years=(JournalYear(year=2026, touches=(
        Touch("20260310-vzrq2", dt.date(2026, 3, 10), "Bo Chen"),)),)), dt.date(2026, 9, 7))  # fmt: skip
    assert "In touch between meetings (calls, messages): Bo Chen 1" in report_markdown(with_touch, None)


PEERS = ("Ann Lee", "Bo Chen", "Cy Dee", "Di Eze")


REMINDER = (
    "peerloop: your 6-month trial ended on Sun 2026-08-30: run `peerloop review` to decide whether to "
    "continue, adjust or stop.\n"
)


ANSWERS = ("--added-value", "partly", "--works", "the Tuesday slot", "--improve", "fewer calls")


def write(store: Store, *entries: Meeting | Skip | Reflection | Review) -> None:
    for year in sorted({e.date.year for e in entries}):
        current = store.load_year(year)
        mine = [e for e in entries if e.date.year == year]
        store.save_year(
            JournalYear(
                year=year,
                meetings=(*current.meetings, *(e for e in mine if isinstance(e, Meeting))),
                skips=(*current.skips, *(e for e in mine if isinstance(e, Skip))),
                reflections=(*current.reflections, *(e for e in mine if isinstance(e, Reflection))),
                reviews=(*current.reviews, *(e for e in mine if isinstance(e, Review))),
            )
        )


def a_trial(store: Store) -> None:
    """Three weeks of a trial: two meetings, one skip, and the coaching thoughts at the start."""
    write(
        store,
        Reflection(id="20260302-mf6wh", date=dt.date(2026, 3, 2), names=("Ann Lee", "Bo Chen"), why="new job",
                   excuses=("no time", "it feels awkward"), ceo="Make time."),
        Meeting(id="20260303-psve7", date=dt.date(2026, 3, 3), peer="Ann Lee", mode=Mode.COFFEE,
                gains=(Gain.ADVICE, Gain.STRENGTH), win="hired a VP", follow_ups=(FollowUp("send the deck"),)),
        Skip(id="20260310-vzrq2", date=dt.date(2026, 3, 10), reason="no time", peer="Bo Chen"),
        Meeting(id="20260317-dvvbh", date=dt.date(2026, 3, 17), peer="Bo Chen", mode=Mode.LUNCH,
                gains=(Gain.MOTIVATION,), works="lunch is better", improve="start on time"),
    )  # fmt: skip


@pytest.fixture
def due(set_up: Callable[..., None], store: Store, at: Callable[[str], None]) -> None:
    """A trial from 2026-03-02 whose review date (2026-08-31) has passed."""
    set_up(*PEERS)
    a_trial(store)
    at("2026-09-07T12:00")


def test_the_reminder_appears_from_the_review_date_on_and_only_on_stderr(
    cli: Invoke, set_up: Callable[..., None], at: Callable[[str], None]
) -> None:
    set_up(*PEERS)
    at("2026-08-30T23:00")
    assert cli("peers").stderr == ""
    at("2026-08-31T00:30")
    result = cli("peers")
    assert result.exit_code == 0
    assert result.stderr == REMINDER
    assert "peerloop review" not in result.stdout


@pytest.mark.usefixtures("due")
@pytest.mark.parametrize(
    "args",
    [["next", "--json"], ["plan", "--json"], ["peers", "--json"], ["review", "--json"],
     ["status", "--json"]],
)  # fmt: skip
def test_json_stays_valid_while_the_reminder_shows(cli: Invoke, args: list[str]) -> None:
    result = cli(*args)
    assert result.exit_code == 0, result.output
    json.loads(result.stdout)
    if args[0] != "review":
        assert result.stderr.endswith(REMINDER)


@pytest.mark.usefixtures("due")
def test_the_reminder_is_printed_once_and_not_for_help_version_errors_or_review(cli: Invoke) -> None:
    assert cli("next").stderr.count("peerloop review") == 1
    assert cli("--version").stderr == ""
    assert cli("next", "--help").stderr == ""
    assert cli("--help").stderr == ""
    assert cli("add", "ann lee").stderr.count("peerloop review") == 0  # a failure reports only itself
    assert "peerloop: your" not in cli("review", "--json").stderr
    assert cli("status", "--check").stderr.count("peerloop review") == 1  # its own reason, not both


@pytest.mark.usefixtures("due")
def test_the_reminder_follows_the_home_the_command_used(cli: Invoke, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    assert cli("--home", str(elsewhere), "next").stderr.count("peerloop review") == 0


@pytest.mark.usefixtures("due")
def test_the_reminder_disappears_after_the_review(cli: Invoke, store: Store) -> None:
    due = due_review(store)
    assert due is not None
    assert reminder_line(due) == REMINDER.rstrip("\n")
    assert cli("review", *ANSWERS, "--decision", "continue").exit_code == 0
    assert due_review(store) is None
    assert cli("peers").stderr == ""


def test_a_review_of_an_earlier_trial_does_not_silence_the_reminder(
    cli: Invoke, set_up: Callable[..., None], store: Store, at: Callable[[str], None]
) -> None:
    set_up(*PEERS)
    write(store, Review(id="20260302-wwj1w", date=dt.date(2026, 3, 2), trial_start=dt.date(2025, 9, 1),
                        added_value=Verdict.YES, decision=Decision.CONTINUE))  # fmt: skip
    at("2026-09-03T12:00")
    assert cli("peers").stderr == REMINDER


def test_an_early_stop_silences_the_reminder_even_from_an_earlier_year(
    cli: Invoke, set_up: Callable[..., None], store: Store, at: Callable[[str], None]
) -> None:
    set_up(*PEERS, start="2025-10-06", now="2025-10-06T09:00")
    at("2025-12-15T12:00")
    assert cli("review", "--early", "--added-value", "no", "--decision", "stop").exit_code == 0
    at("2026-04-07T12:00")
    assert store.load_roster().settings.trial_end == dt.date(2026, 4, 6)  # type: ignore[union-attr]
    assert cli("peers").stderr == ""


@pytest.mark.usefixtures("due")
def test_a_damaged_journal_does_not_break_the_reminder(cli: Invoke, store: Store) -> None:
    store.year_path(2026).write_text("schema_version = [", encoding="utf-8")
    assert due_review(store) is None
    result = cli("add", "Eve Fox")
    assert result.exit_code == 0
    assert result.stderr == ""


@pytest.mark.usefixtures("due")
def test_review_shows_the_evidence_then_records_the_answers(cli: Invoke, store: Store) -> None:
    result = cli("review", *ANSWERS, "--decision", "continue")
    assert result.exit_code == 0, result.output
    out = result.stdout
    evidence = [
        "The review of your 6-month trial: Mon 2026-03-02 to Sun 2026-08-30",
        "Process: did the meetings happen?",
        "  ●○●" + "×" * 23,  # noqa: RUF001 (the trial's 26 weeks)
        "  2 of 26 weeks kept (2 meetings); 1 skipped, 23 missed",
        "Content: what did they give you?",
        "  Gains: advice 1, strength 1, motivation 1 (in 2 meetings)",
        "    Tue 2026-03-03, Ann Lee: hired a VP",
        "    Tue 2026-03-03, Ann Lee: send the deck",
        "    Tue 2026-03-17, Bo Chen: lunch is better",
        "    Tue 2026-03-17, Bo Chen: start on time",
        "  The excuses you listed at the start: no time; it feels awkward",
        "    Tue 2026-03-10, Bo Chen: no time",
        "    Your CEO might say: Make time.",
        "Saved your review of Mon 2026-09-07 (20260907-xnx37): it partly added value; decision: continue.",
        "A new 6-month trial starts today: Mon 2026-09-07 to Sun 2027-03-07 (26 weeks). "
        "`peerloop status` shows where it stands.",
    ]
    lines = out.splitlines()
    positions = [lines.index(line) for line in evidence]
    assert positions == sorted(positions)
    assert "An early review" not in out
    [review] = store.load_journal().reviews
    assert review._replace(changed=None) == Review(
        id="20260907-xnx37", date=dt.date(2026, 9, 7), trial_start=dt.date(2026, 3, 2), added_value=Verdict.PARTLY,
        decision=Decision.CONTINUE, works="the Tuesday slot", improve="fewer calls",
    )  # fmt: skip
    settings = store.load_roster().settings
    assert settings is not None
    assert settings.trial_start == dt.date(2026, 9, 7)


@pytest.mark.usefixtures("due")
def test_adjust_starts_a_new_trial_and_says_which_commands_adjust(cli: Invoke, store: Store) -> None:
    result = cli("review", "--added-value", "yes", "--decision", "adjust")
    assert result.exit_code == 0, result.output
    assert (
        "`peerloop add NAME`, `peerloop remove NAME` and `peerloop pause NAME --until DATE`" in result.stdout
    )
    assert (
        "`peerloop init --day DAY --time HH:MM --duration MIN --mode MODE` changes the slot" in result.stdout
    )
    assert store.load_roster().settings.trial_start == dt.date(2026, 9, 7)  # type: ignore[union-attr]


@pytest.mark.usefixtures("due")
def test_what_the_review_says_after_the_answers_wraps_at_spaces_to_the_terminal(
    cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    result = cli("review", "--added-value", "no", "--decision", "stop")
    assert result.exit_code == 0, result.output
    closing = result.stdout[result.stdout.index("Saved your review") :]
    assert all(len(line) <= 60 or " " not in line.strip() for line in closing.splitlines()), closing  # a path
    assert "`peerloop export` or `peerloop sync` cancels those in your calendar" in " ".join(closing.split())


@pytest.mark.usefixtures("due")
def test_stop_keeps_the_settings_and_a_second_review_is_refused(cli: Invoke, store: Store) -> None:
    before = store.load_roster().settings
    result = cli("review", "--added-value", "no", "--decision", "stop")
    assert result.exit_code == 0, result.output
    assert "The loop stops here: no meeting is planned any more" in result.stdout
    assert before is not None
    after = store.load_roster().settings
    assert after is not None
    assert after._replace(changed=None) == before._replace(stopped_on=dt.date(2026, 9, 7), changed=None)
    again = cli("review", "--added-value", "yes", "--decision", "continue")
    assert again.exit_code == 3
    assert again.stderr == (
        "peerloop: error: you reviewed this trial on 2026-09-07 and decided to stop; "
        "`peerloop init --start DATE` starts a new trial\n"
    )


def test_an_early_review_needs_early_and_names_the_review_date_as_such(
    cli: Invoke, set_up: Callable[..., None], store: Store, at: Callable[[str], None]
) -> None:
    set_up(*PEERS)
    a_trial(store)
    at("2026-06-01T12:00")
    refused = cli("review", "--added-value", "yes", "--decision", "continue")
    assert refused.exit_code == 2
    assert refused.stderr == (
        "peerloop: error: the review is due on 2026-08-31, 13 weeks from now (the trial runs until 2026-08-30); "
        "to review it now, pass --early\n"
    )
    assert store.load_journal().reviews == ()
    result = cli("review", "--early", "--added-value", "yes", "--decision", "continue")
    assert result.exit_code == 0, result.output
    assert "An early review: the review date is 13 weeks away." in result.stdout
    [review] = store.load_journal().reviews
    assert review.early
    assert store.load_roster().settings.trial_start == dt.date(2026, 6, 1)  # type: ignore[union-attr]


@pytest.mark.usefixtures("due")
def test_off_a_terminal_the_review_names_its_flags(cli: Invoke, store: Store) -> None:
    for args in ([], ["--added-value", "yes"], ["--decision", "stop"], ["--json", "--works", "x"]):
        result = cli("review", *args)
        assert result.exit_code == 2, args
        assert result.stderr == (
            "peerloop: error: the review needs --added-value (yes, partly, no) and --decision (continue, adjust, "
            "stop) when there is no terminal to ask on (--works and --improve are optional)\n"
        )
    assert cli("review", "--added-value", "maybe", "--decision", "stop").stderr == (
        "peerloop: error: Invalid value for '--added-value': 'maybe' is not one of 'yes', 'partly', 'no'. "
        "(see 'peerloop review --help')\n"
    )
    assert store.load_journal().reviews == ()


@pytest.mark.usefixtures("due")
def test_review_json_alone_prints_the_evidence_and_records_nothing(cli: Invoke, store: Store) -> None:
    result = cli("review", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {
        "trial", "weeks", "meetings", "skips", "peers", "gains", "wins", "follow_ups", "works", "improve",
        "skip_reasons", "excuses", "reflections", "touches", "purpose", "review",
    }  # fmt: skip
    assert data["trial"] == {
        "start": "2026-03-02", "end": "2026-08-31", "weeks": 26, "week": 28, "today": "2026-09-07", "early": False,
    }  # fmt: skip
    assert data["weeks"]["kept"] == 2
    assert data["meetings"] == 2
    assert data["skips"] == 1
    assert data["peers"][0] == {"name": "Ann Lee", "meetings": 1, "last_met": "2026-03-03", "in_roster": True}
    assert data["gains"] == {"advice": 1, "strength": 1, "motivation": 1}
    assert data["wins"] == [{"date": "2026-03-03", "peer": "Ann Lee", "text": "hired a VP"}]
    assert data["follow_ups"] == [{"date": "2026-03-03", "peer": "Ann Lee", "text": "send the deck"}]
    assert data["skip_reasons"] == [{"date": "2026-03-10", "peer": "Bo Chen", "text": "no time"}]
    assert data["excuses"] == ["no time", "it feels awkward"]
    assert data["reflections"][0]["ceo"] == "Make time."
    assert data["review"] is None
    assert store.load_journal().reviews == ()


@pytest.mark.usefixtures("due")
def test_review_json_with_answers_records_and_keeps_stdout_json(cli: Invoke, store: Store) -> None:
    result = cli("review", "--json", *ANSWERS, "--decision", "stop")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["review"] == {
        "date": "2026-09-07", "trial_start": "2026-03-02", "added_value": "partly", "works": "the Tuesday slot",
        "improve": "fewer calls", "decision": "stop", "early": False,
    }  # fmt: skip
    assert "Saved your review" in result.stderr
    assert len(store.load_journal().reviews) == 1


@pytest.mark.usefixtures("due")
def test_review_report_writes_a_private_markdown_file(cli: Invoke, tmp_path: Path) -> None:
    report = tmp_path / "review-2026.md"
    result = cli("review", *ANSWERS, "--decision", "adjust", "--report", str(report))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    text = report.read_text(encoding="utf-8")
    assert text.startswith("# Peer network review: trial of 2026-03-02 to 2026-08-30\n")
    for expected in ("## Process", "| Ann Lee | 1 | 2026-03-03 |", "- 2026-03-03, Ann Lee: hired a VP",
                     "- it feels awkward", "- 2026-03-10, Bo Chen: no time", "- Did it add value? partly",
                     "- What works well? the Tuesday slot", "- Decision: adjust"):  # fmt: skip
        assert expected in text
    assert f"Wrote the evidence and your answers to {report}" in " ".join(result.stdout.split())  # wrapped


@pytest.mark.usefixtures("due")
def test_a_report_that_cannot_be_written_records_nothing(cli: Invoke, store: Store, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    result = cli("review", *ANSWERS, "--decision", "stop", "--report", str(blocker / "review.md"))
    assert result.exit_code == 2  # checked before anything is written: its folder is a file
    assert "--report: the folder" in result.stderr
    assert store.load_journal().reviews == ()


@pytest.mark.usefixtures("due")
def test_review_on_a_terminal_asks_after_the_evidence(
    cli: Invoke, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prompts, "interactive", lambda: True)
    result = cli("review", input="maybe\nyes\nthe cadence\n\nkeep going\ncontinue\n")
    assert result.exit_code == 0, result.output
    assert "Did the peer meetings add value? (yes, partly, no)" in result.stderr
    assert "'maybe' is not a verdict" in result.stderr
    assert "'keep going' is not a decision" in result.stderr
    [review] = store.load_journal().reviews
    assert (review.added_value, review.works, review.improve, review.decision) == (
        Verdict.YES, "the cadence", None, Decision.CONTINUE,
    )  # fmt: skip
    assert result.stdout.index("The review of your 6-month trial") < result.stdout.index("Saved your review")


@pytest.mark.usefixtures("due")
def test_the_questions_wrap_at_spaces_to_a_narrow_terminal(
    cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prompts, "interactive", lambda: True)
    monkeypatch.setenv("COLUMNS", "50")
    result = cli("review", input="yes\n\n\nstop\n")
    assert result.exit_code == 0, result.output
    asked = result.stderr[result.stderr.index("Your decision") :]
    assert all(len(line) < 50 for line in asked.splitlines()), asked
    assert "Your decision: continue (a new trial starts today), adjust" in " ".join(asked.split())


def test_a_touch_leaves_the_rotation_and_counts_in_peers_history_and_review(
    cli: Invoke, roster: Callable[[str], None], at: Callable[[str], None]
) -> None:
    roster(NEW_YEAR)
    plan_before = as_json(cli, "plan", "--weeks", "10")
    next_before = as_json(cli, "next")
    for args in (("bob", "--touch", "--date", "yesterday", "--note", "called about the offer"),
                 ("bob", "--touch"), ("zoe", "--touch", "--date", "tue")):  # fmt: skip
        result = cli("log", *args)
        assert result.exit_code == 0, result.output
        assert result.stdout.endswith("; the rotation is unchanged.\n")
    assert as_json(cli, "plan", "--weeks", "10") == plan_before
    assert as_json(cli, "next") == next_before
    peers = {peer["name"]: peer for peer in as_json(cli, "peers")}
    assert (peers["Bob Ray"]["last_touch"], peers["Bob Ray"]["meetings"], peers["Bob Ray"]["last_met"]) == (
        "2027-01-01", 0, None
    )  # fmt: skip
    assert peers[ZOE]["last_touch"] == "2026-12-29"
    assert peers["Ann Lee"]["last_touch"] is None
    table = cli("peers").stdout.splitlines()
    assert "Last touch" in table[0]
    assert "2027-01-01" in next(line for line in table if line.startswith("Bob Ray"))
    history = as_json(cli, "history")
    assert [(entry["kind"], entry["peer"]) for entry in history] == [
        ("touch", "Bob Ray"), ("touch", "Bob Ray"), ("touch", ZOE)
    ]  # fmt: skip
    assert history[1]["note"] == "called about the offer"
    assert as_json(cli, "review")["touches"] == []  # the review's own week belongs to the next trial
    at("2027-01-04T09:00")
    evidence = as_json(cli, "review")
    assert evidence["touches"] == [
        {"name": "Bob Ray", "count": 2, "last": "2027-01-01"},
        {"name": ZOE, "count": 1, "last": "2026-12-29"},
    ]
    assert evidence["meetings"] == 0
    shown = cli("review", "--early", "--added-value", "partly", "--decision", "continue").stdout
    assert f"In touch between meetings (`log --touch`): Bob Ray 2, {ZOE} 1" in shown


def test_the_purpose_given_at_the_start_is_shown_in_the_review(
    cli: Invoke, roster: Callable[[str], None], at: Callable[[str], None]
) -> None:
    roster(NEW_YEAR)
    result = cli("reflect", "--purpose", "a second view on hard calls", "--excuse", "no time")
    assert result.exit_code == 0, result.output
    at("2027-06-29T09:00")  # the day after the review date
    assert as_json(cli, "review")["purpose"] == "a second view on hard calls"
    shown = cli("review", "--added-value", "yes", "--decision", "stop").stdout.splitlines()
    assert shown[1] == "What you wanted the network to give you: a second view on hard calls"
