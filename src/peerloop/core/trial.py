"""The trial's figures and the six-month review's summary. Pure: `today` is a parameter, no I/O, no printing.

A trial is counted in whole weeks, from week 1 (the week of its first slot on or after `trial_start`, where
the rotation starts too); a week belongs to one trial, and an entry to the trial whose weeks hold its date, so
a week is "done" here exactly when the rotation treats it as done (docs/review.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import NamedTuple

from peerloop.core.models import (
    Decision,
    Gain,
    Journal,
    Meeting,
    Reflection,
    Review,
    Roster,
    Settings,
    Skip,
    Touch,
    peer_key,
)
from peerloop.core.rotation import WEEK, History, Slot, first_trial_week, next_slot, week_start


class WeekState(StrEnum):
    KEPT = "kept"
    """At least one meeting, and no skip, was logged in the week."""
    SKIPPED = "skipped"
    """A skip was logged in the week: the week's meeting did not happen. A meeting logged in the same week
    (out of turn, after the skip) counts as a meeting with that peer, not as the week kept."""
    MISSED = "missed"
    """A past week with nothing logged."""
    PAUSED = "paused"
    """Every peer was away (paused) on the week's slot day: no meeting was planned, none was missed."""
    OPEN = "open"
    """This week, nothing logged yet: it can still be kept or skipped."""
    TO_COME = "to_come"
    """A week of the trial still ahead."""


MARKS: Mapping[WeekState, str] = {
    WeekState.KEPT: "●",
    WeekState.SKIPPED: "○",
    WeekState.MISSED: "×",  # noqa: RUF001 (a multiplication sign is the mark meant)
    WeekState.PAUSED: "–",  # noqa: RUF001 (an en dash is the mark meant)
    WeekState.OPEN: "◌",
    WeekState.TO_COME: "·",
}
LEGEND: Mapping[WeekState, str] = {
    WeekState.KEPT: "kept",
    WeekState.SKIPPED: "skipped",
    WeekState.MISSED: "missed",
    WeekState.PAUSED: "everyone paused",
    WeekState.OPEN: "this week, open",
    WeekState.TO_COME: "to come",
}


# --- the trial's calendar ----------------------------------------------------------------------------------


def trial_week(settings: Settings, today: dt.date) -> int:
    """The trial week today falls in: 0 before week 1; above `trial_weeks` once the trial has ended."""
    return max(0, (week_start(today) - first_trial_week(settings)).days // 7 + 1)


def trial_years(settings: Settings, today: dt.date) -> range:
    """The journal years that can hold the trial's meetings, skips and reviews (oldest first): to this
    week's end, and never past the trial's last week (so a long-overdue review reads no more years)."""
    last_day_counted = min(week_start(today) + dt.timedelta(days=6), settings.counted_until)
    return range(first_trial_week(settings).year, last_day_counted.year + 1)


def in_trial(day: dt.date, settings: Settings, today: dt.date) -> bool:
    """Whether `day` lies in one of the trial's weeks so far (never past the trial's last week)."""
    return first_trial_week(settings) <= week_start(day) <= week_start(min(today, settings.counted_until))


def closed_before(review_day: dt.date) -> dt.date:
    """The last day a trial reviewed on `review_day` counts: the Sunday before the review's week (the week of
    the review belongs to the next trial)."""
    return week_start(review_day) - dt.timedelta(days=1)


def review_for(settings: Settings, reviews: Iterable[Review]) -> Review | None:
    """The review recorded for the current trial (the one that started on `settings.trial_start`), if any."""
    mine = [review for review in reviews if review.trial_start == settings.trial_start]
    return max(mine, key=lambda review: (review.date, review.id)) if mine else None


def review_due(settings: Settings, reviews: Iterable[Review], today: dt.date) -> bool:
    """From the review date on, until a review of this trial is recorded."""
    return (
        today >= settings.trial_end and settings.stopped_on is None and review_for(settings, reviews) is None
    )


def next_trial(settings: Settings, decision: Decision, today: dt.date) -> Settings:
    """Continue and adjust start a new trial with the review's week (the week the old trial no longer
    counts); stop keeps the trial, marked as stopped on that day."""
    if decision is Decision.STOP:
        return settings._replace(stopped_on=today)
    return settings._replace(trial_start=week_start(today), stopped_on=None)


# --- progress: the weeks so far ----------------------------------------------------------------------------


class Week(NamedTuple):
    number: int
    """1 for the trial's first week."""
    monday: dt.date
    state: WeekState


class Progress(NamedTuple):
    """Where the trial stands on `today`."""

    week: int
    """Today's trial week: 0 before the trial, above `weeks` after its end."""
    weeks: int
    """The trial's length in weeks."""
    so_far: tuple[Week, ...]
    """Week 1 up to this week (empty before the trial)."""
    meetings: tuple[Meeting, ...]
    skips: tuple[Skip, ...]

    def tally(self, state: WeekState) -> int:
        """How many of the weeks so far are in `state`."""
        return sum(1 for week in self.so_far if week.state is state)

    @property
    def planned(self) -> int:
        """One meeting a week: the weeks so far, this week included."""
        return len(self.so_far)

    @property
    def strip(self) -> tuple[WeekState, ...]:
        """Every week so far, then the trial's weeks still to come."""
        ahead = max(0, self.weeks - len(self.so_far))
        return (*(week.state for week in self.so_far), *(WeekState.TO_COME,) * ahead)


def progress(
    settings: Settings,
    meetings: Iterable[Meeting],
    skips: Iterable[Skip],
    today: dt.date,
    roster: Roster | None = None,
    until: dt.date | None = None,
) -> Progress:
    """The trial's weeks so far (never past its last week, nor past `until` when its review closed it), each
    kept, skipped, missed, paused (every peer of `roster` away on that week's slot day, as its pauses say)
    or (this week, while the trial runs) open."""
    counted = min(today, settings.counted_until, until or dt.date.max)
    mine = sorted((m for m in meetings if in_trial(m.date, settings, counted)), key=lambda m: (m.date, m.id))
    skipped = sorted((s for s in skips if in_trial(s.date, settings, counted)), key=lambda s: (s.date, s.id))
    kept_weeks = {week_start(meeting.date) for meeting in mine}
    skipped_weeks = {week_start(skip.date) for skip in skipped}
    this_week = week_start(today)
    so_far = []
    monday, number = first_trial_week(settings), 1
    last_counted = week_start(counted)
    while monday <= last_counted:
        if monday in skipped_weeks:  # the rule: a skip wins over an extra meeting logged in its week
            state = WeekState.SKIPPED
        elif monday in kept_weeks:
            state = WeekState.KEPT
        elif (
            roster is not None
            and roster.peers
            and not roster.active_on(monday + dt.timedelta(days=settings.weekday))
        ):
            state = WeekState.PAUSED
        elif monday == this_week and until is None:
            state = WeekState.OPEN
        else:
            state = WeekState.MISSED
        so_far.append(Week(number, monday, state))
        monday, number = monday + WEEK, number + 1
    return Progress(
        week=trial_week(settings, today),
        weeks=settings.trial_weeks,
        so_far=tuple(so_far),
        meetings=tuple(mine),
        skips=tuple(skipped),
    )


def strip_text(states: Iterable[WeekState]) -> str:
    return "".join(MARKS[state] for state in states)


# --- the review's evidence ---------------------------------------------------------------------------------


class PeerCount(NamedTuple):
    name: str
    meetings: int
    last_met: dt.date | None
    in_roster: bool


class Noted(NamedTuple):
    """A line of text from the journal, with when and with whom it was written."""

    date: dt.date
    peer: str | None
    text: str


class Evidence(NamedTuple):
    """What the journal says about one trial, as of `today`."""

    trial_start: dt.date
    trial_end: dt.date
    today: dt.date
    progress: Progress
    peers: tuple[PeerCount, ...]
    gains: tuple[tuple[Gain, int], ...]
    """Each gain with the number of meetings that gave it, in the order of `Gain`."""
    wins: tuple[Noted, ...]
    follow_ups: tuple[Noted, ...]
    """Follow-ups not yet marked done."""
    works: tuple[Noted, ...]
    improve: tuple[Noted, ...]
    skip_reasons: tuple[Noted, ...]
    excuses: tuple[str, ...]
    """The excuses listed in the trial's reflections, each once."""
    reflections: tuple[Reflection, ...]
    touches: tuple[PeerCount, ...] = ()
    """Calls and messages between meetings, per peer (`meetings` counts the touches here)."""
    purpose: str | None = None
    """What the leader wanted the network to give them: the latest answer in the trial's reflections."""

    @property
    def early(self) -> bool:
        return self.today < self.trial_end

    @property
    def last_day(self) -> dt.date:
        """The last day of the trial's last week (the Sunday before the review date)."""
        return self.trial_end - dt.timedelta(days=1)

    @property
    def meetings(self) -> int:
        return len(self.progress.meetings)

    @property
    def skips(self) -> int:
        return len(self.progress.skips)


def peer_counts(roster: Roster, meetings: Iterable[Meeting]) -> tuple[PeerCount, ...]:
    """Meetings per peer, each peer once whatever the case of the name: the roster first, in its order
    (peers never met count 0), then people met who are no longer in the roster, by name."""
    counts: dict[str, int] = {}
    last: dict[str, Meeting] = {}
    for meeting in meetings:
        key = peer_key(meeting.peer)
        counts[key] = counts.get(key, 0) + 1
        if key not in last or (meeting.date, meeting.id) > (last[key].date, last[key].id):
            last[key] = meeting
    result = [
        PeerCount(peer.name, counts.get(peer.key, 0), last[peer.key].date if peer.key in last else None, True)
        for peer in roster.peers
    ]
    listed = {peer.key for peer in roster.peers}
    for key in sorted(counts.keys() - listed):
        result.append(PeerCount(last[key].peer, counts[key], last[key].date, False))
    return tuple(result)


def gain_counts(meetings: Iterable[Meeting]) -> tuple[tuple[Gain, int], ...]:
    """How many meetings gave each gain (a gain listed twice in one meeting counts once)."""
    listed = [set(meeting.gains) for meeting in meetings]
    return tuple((gain, sum(1 for gains in listed if gain in gains)) for gain in Gain)


def trial_reflections(
    settings: Settings, reflections: Iterable[Reflection], reviews: Iterable[Review], today: dt.date
) -> tuple[Reflection, ...]:
    """The reflections written for this trial: since the review that began it (if any), up to today."""
    began = [
        r.date for r in reviews if r.trial_start != settings.trial_start and r.date <= settings.trial_start
    ]
    since = max(began, default=dt.date.min)
    return tuple(sorted((r for r in reflections if since <= r.date <= today), key=lambda r: (r.date, r.id)))


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for item in items:
        seen.setdefault(" ".join(item.casefold().split()), item)
    return tuple(seen.values())


def evidence(roster: Roster, settings: Settings, journal: Journal, today: dt.date) -> Evidence:
    """The figures a review on `today` looks at: the entries of `journal` in the trial's weeks before the
    review's week (fixed at the review's date: what is logged later never changes them)."""
    so_far = progress(settings, journal.meetings, journal.skips, today, roster, until=closed_before(today))
    meetings = so_far.meetings
    reflections = trial_reflections(settings, journal.reflections, journal.reviews, today)
    return Evidence(
        trial_start=settings.trial_start,
        trial_end=settings.trial_end,
        today=today,
        progress=so_far,
        peers=peer_counts(roster, meetings),
        gains=gain_counts(meetings),
        wins=tuple(Noted(m.date, m.peer, m.win) for m in meetings if m.win),
        follow_ups=tuple(Noted(m.date, m.peer, f.text) for m in meetings for f in m.follow_ups if not f.done),
        works=tuple(Noted(m.date, m.peer, m.works) for m in meetings if m.works),
        improve=tuple(Noted(m.date, m.peer, m.improve) for m in meetings if m.improve),
        skip_reasons=tuple(Noted(s.date, s.peer, s.reason) for s in so_far.skips),
        excuses=_unique(excuse for reflection in reflections for excuse in reflection.excuses),
        reflections=reflections,
        touches=touch_counts(journal.touches, settings, closed_before(today)),
        purpose=next((r.purpose for r in reversed(reflections) if r.purpose), None),
    )


def touch_counts(touches: Iterable[Touch], settings: Settings, today: dt.date) -> tuple[PeerCount, ...]:
    """Touches in the trial, per peer (first spelling kept), most first."""
    counts: dict[str, PeerCount] = {}
    for touch in sorted(touches, key=lambda t: (t.date, t.id)):
        if in_trial(touch.date, settings, today):
            before = counts.get(peer_key(touch.peer), PeerCount(touch.peer, 0, None, True))
            counts[peer_key(touch.peer)] = before._replace(meetings=before.meetings + 1, last_met=touch.date)
    return tuple(sorted(counts.values(), key=lambda count: (-count.meetings, count.name)))


# --- where the trial stands ----------------------------------------------------------------------------------


class Status(NamedTuple):
    """Where the trial stands today."""

    roster: Roster
    settings: Settings
    today: dt.date
    progress: Progress
    """As of today, or as of the review date once the leader decided to stop."""
    next: Slot | None
    """The rotation's next slot; None with no peers in the roster."""
    review_due: bool
    reviewed: Review | None
    """The review recorded for this trial (only a `stop` keeps the trial's start, so only a stop shows)."""

    @property
    def stopped(self) -> bool:
        return self.stopped_on is not None

    @property
    def stopped_on(self) -> dt.date | None:
        return _stopped_on(self.settings, self.reviewed)

    @property
    def overdue(self) -> bool:
        """This week's meeting day has passed with nothing logged (the week is still open)."""
        return not self.stopped and self.next is not None and self.next.peer is not None and self.next.overdue


def _stopped_on(settings: Settings, reviewed: Review | None) -> dt.date | None:
    stopped = reviewed is not None and reviewed.decision is Decision.STOP
    return settings.stopped_on or (reviewed.date if stopped and reviewed else None)


def status_of(
    roster: Roster, settings: Settings, trial: Journal, history: History | None, today: dt.date
) -> Status:
    """The trial's status from its journal years and the rotation's history (None with no peers)."""
    reviewed = review_for(settings, trial.reviews)
    stopped_on = _stopped_on(settings, reviewed)
    until = closed_before(stopped_on) if stopped_on else None
    slot = next_slot(roster, settings, history, today) if history is not None and roster.peers else None
    return Status(
        roster=roster,
        settings=settings,
        today=today,
        progress=progress(settings, trial.meetings, trial.skips, today, roster, until=until),
        next=slot,
        review_due=review_due(settings, trial.reviews, today),
        reviewed=reviewed,
    )
