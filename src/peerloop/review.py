"""The trial's figures and the six-month review's summary. Pure: no clock, no I/O, no printing.

`today` is always a parameter. A trial is counted in weeks: week 1 is the week of the first slot on or
after `settings.trial_start` (the same slot the rotation starts from), and the trial runs
`settings.trial_weeks` weeks to the review date, `settings.trial_end`. An entry belongs to the trial
when the week it is dated in lies between week 1 and today's week, so a week holding a meeting or a skip
is "done" here exactly when the rotation treats it as done.

The results are NamedTuples: `status` builds them on every run, and defining a NamedTuple class at import
costs a fifth of a frozen dataclass (about 0.15 ms against 0.75 ms here).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any, NamedTuple

from peerloop.models import (
    Decision,
    Gain,
    Journal,
    Meeting,
    Reflection,
    Review,
    Roster,
    Settings,
    Skip,
    peer_key,
)
from peerloop.render import plural, safe
from peerloop.rotation import first_trial_week, week_start

WEEK = dt.timedelta(days=7)


class WeekState(StrEnum):
    KEPT = "kept"
    """At least one meeting was logged in the week."""
    SKIPPED = "skipped"
    """A skip, and no meeting, was logged in the week."""
    MISSED = "missed"
    """A past week with nothing logged."""
    OPEN = "open"
    """This week, nothing logged yet: it can still be kept or skipped."""
    TO_COME = "to_come"
    """A week of the trial still ahead."""


MARKS: Mapping[WeekState, str] = {
    WeekState.KEPT: "●",
    WeekState.SKIPPED: "○",
    WeekState.MISSED: "×",  # noqa: RUF001 (a multiplication sign is the mark meant)
    WeekState.OPEN: "◌",
    WeekState.TO_COME: "·",
}
LEGEND: Mapping[WeekState, str] = {
    WeekState.KEPT: "kept",
    WeekState.SKIPPED: "skipped",
    WeekState.MISSED: "missed",
    WeekState.OPEN: "this week, open",
    WeekState.TO_COME: "to come",
}


# --- the trial's calendar ----------------------------------------------------------------------------------


def trial_week(settings: Settings, today: dt.date) -> int:
    """The trial week today falls in: 0 before week 1; above `trial_weeks` once the trial has ended."""
    return max(0, (week_start(today) - first_trial_week(settings)).days // 7 + 1)


def trial_years(settings: Settings, today: dt.date) -> range:
    """The journal years that can hold the trial's meetings, skips and reviews (oldest first)."""
    last_day_counted = week_start(today) + dt.timedelta(days=6)  # `in_trial` counts all of this week
    return range(first_trial_week(settings).year, last_day_counted.year + 1)


def in_trial(day: dt.date, settings: Settings, today: dt.date) -> bool:
    return first_trial_week(settings) <= week_start(day) <= week_start(today)


def review_for(settings: Settings, reviews: Iterable[Review]) -> Review | None:
    """The review recorded for the current trial (the one that started on `settings.trial_start`), if any."""
    mine = [review for review in reviews if review.trial_start == settings.trial_start]
    return max(mine, key=lambda review: (review.date, review.id)) if mine else None


def review_due(settings: Settings, reviews: Iterable[Review], today: dt.date) -> bool:
    """From the review date on, until a review of this trial is recorded."""
    return today >= settings.trial_end and review_for(settings, reviews) is None


def next_trial(settings: Settings, decision: Decision, today: dt.date) -> Settings:
    """Continue and adjust start a new trial today; stop keeps the settings as they are."""
    if decision is Decision.STOP:
        return settings
    return settings._replace(trial_start=today)


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
    settings: Settings, meetings: Iterable[Meeting], skips: Iterable[Skip], today: dt.date
) -> Progress:
    """The trial's weeks so far, each kept, skipped, missed or (this week) open."""
    mine = sorted((m for m in meetings if in_trial(m.date, settings, today)), key=lambda m: (m.date, m.id))
    skipped = sorted((s for s in skips if in_trial(s.date, settings, today)), key=lambda s: (s.date, s.id))
    kept_weeks = {week_start(meeting.date) for meeting in mine}
    skipped_weeks = {week_start(skip.date) for skip in skipped}
    this_week = week_start(today)
    so_far = []
    monday, number = first_trial_week(settings), 1
    while monday <= this_week:
        if monday in kept_weeks:
            state = WeekState.KEPT
        elif monday in skipped_weeks:
            state = WeekState.SKIPPED
        elif monday == this_week:
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

    @property
    def early(self) -> bool:
        return self.today < self.trial_end

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
    """The figures the review looks at, over the entries of `journal` that belong to the current trial."""
    so_far = progress(settings, journal.meetings, journal.skips, today)
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
    )


# --- JSON and Markdown -------------------------------------------------------------------------------------


def _noted_json(items: Sequence[Noted]) -> list[dict[str, Any]]:
    return [{"date": item.date, "peer": item.peer, "text": item.text} for item in items]


def reflection_json(reflection: Reflection) -> dict[str, Any]:
    return {
        "date": reflection.date,
        "names": list(reflection.names),
        "why": reflection.why,
        "excuses": list(reflection.excuses),
        "ceo": reflection.ceo,
    }


def review_json(review: Review) -> dict[str, Any]:
    return {
        "date": review.date,
        "trial_start": review.trial_start,
        "added_value": review.added_value.value,
        "works": review.works,
        "improve": review.improve,
        "decision": review.decision.value,
        "early": review.early,
    }


def evidence_json(found: Evidence) -> dict[str, Any]:
    """The shape `peerloop review --json` prints (documented in docs/review.md)."""
    so_far = found.progress
    return {
        "trial": {
            "start": found.trial_start,
            "end": found.trial_end,
            "weeks": so_far.weeks,
            "week": so_far.week,
            "today": found.today,
            "early": found.early,
        },
        "weeks": {
            "so_far": so_far.planned,
            "kept": so_far.tally(WeekState.KEPT),
            "skipped": so_far.tally(WeekState.SKIPPED),
            "missed": so_far.tally(WeekState.MISSED),
            "open": so_far.tally(WeekState.OPEN),
            "strip": strip_text(so_far.strip),
        },
        "meetings": found.meetings,
        "skips": found.skips,
        "peers": [
            {"name": p.name, "meetings": p.meetings, "last_met": p.last_met, "in_roster": p.in_roster}
            for p in found.peers
        ],
        "gains": {gain.value: count for gain, count in found.gains},
        "wins": _noted_json(found.wins),
        "follow_ups": _noted_json(found.follow_ups),
        "works": _noted_json(found.works),
        "improve": _noted_json(found.improve),
        "skip_reasons": _noted_json(found.skip_reasons),
        "excuses": list(found.excuses),
        "reflections": [reflection_json(r) for r in found.reflections],
    }


_MARKDOWN_SPECIAL = str.maketrans({ch: "\\" + ch for ch in "\\`*_[]<>#|"})


def md(text: str) -> str:
    """User text as one line of inert Markdown: no headings, links, HTML or table breaks from a note, and
    no escape sequence for a terminal showing the file (`render.safe` writes control characters as escapes)."""

    return safe(" ".join(text.split())).translate(_MARKDOWN_SPECIAL)


def _noted_md(items: Sequence[Noted], empty: str) -> list[str]:
    if not items:
        return [f"_{empty}_"]
    return [f"- {item.date.isoformat()}" + (f", {md(item.peer)}" if item.peer else "") + f": {md(item.text)}"
            for item in items]  # fmt: skip


def report_markdown(found: Evidence, review: Review | None) -> str:
    """The evidence (and the answers, once given) as a Markdown document to keep or reread."""
    so_far = found.progress
    title = (
        f"# Peer network review: trial of {found.trial_start.isoformat()} to {found.trial_end.isoformat()}"
    )
    lines = [title, ""]
    when = f"Reviewed on {found.today.isoformat()}, in week {so_far.week} of a {so_far.weeks}-week trial"
    lines.append(when + (" (an early review, before the review date)." if found.early else "."))
    lines += ["", "## Process", ""]
    lines.append(f"`{strip_text(so_far.strip)}`  ")
    lines.append("  ".join(f"{MARKS[state]} {LEGEND[state]}" for state in WeekState))
    lines += [
        "",
        f"- Weeks so far: {so_far.planned}",
        f"- Kept: {plural(so_far.tally(WeekState.KEPT), 'week')} ({plural(found.meetings, 'meeting')})",
        f"- Skipped: {plural(so_far.tally(WeekState.SKIPPED), 'week')} ({plural(found.skips, 'skip')} logged)",
        f"- Missed: {plural(so_far.tally(WeekState.MISSED), 'week')}",
        "",
        "| Peer | Meetings | Last met |",
        "| --- | ---: | --- |",
    ]
    for peer in found.peers:
        name = md(peer.name) + ("" if peer.in_roster else " (no longer in the roster)")
        lines.append(f"| {name} | {peer.meetings} | {peer.last_met.isoformat() if peer.last_met else '-'} |")
    lines += ["", "## Content", ""]
    lines.append(
        "Gains: "
        + ", ".join(f"{gain.value} {count}" for gain, count in found.gains)
        + f" (in {plural(found.meetings, 'meeting')})"
    )
    lines += ["", "### Wins", "", *_noted_md(found.wins, "No wins noted.")]
    lines += ["", "### Follow-ups still open", "", *_noted_md(found.follow_ups, "None open.")]
    lines += ["", "### What works well (after meetings)", "", *_noted_md(found.works, "Nothing noted.")]
    lines += [
        "",
        "### What can be improved (after meetings)",
        "",
        *_noted_md(found.improve, "Nothing noted."),
    ]
    lines += ["", "## Excuses and skips", "", "Excuses listed at the start:", ""]
    lines += [f"- {md(excuse)}" for excuse in found.excuses] or ["_None listed._"]
    lines += ["", "Reasons given for skipped weeks:", "", *_noted_md(found.skip_reasons, "No skips.")]
    lines += ["", "## Reflections from the start", ""]
    if not found.reflections:
        lines += ["_No reflection recorded (`peerloop reflect`)._", ""]
    for reflection in found.reflections:
        lines += [f"### {reflection.date.isoformat()}", ""]
        lines.append("- People you might contact: " + (", ".join(md(n) for n in reflection.names) or "-"))
        if reflection.why:
            lines.append(f"- Why fewer than 4: {md(reflection.why)}")
        lines.append("- Excuses: " + ("; ".join(md(e) for e in reflection.excuses) or "-"))
        if reflection.ceo:
            lines.append(f"- What your CEO might say: {md(reflection.ceo)}")
        lines.append("")
    if review is not None:
        lines += ["## The review", ""]
        lines.append(f"- Did it add value? {review.added_value.value}")
        lines.append(f"- What works well? {md(review.works) if review.works else '-'}")
        lines.append(f"- What can be improved? {md(review.improve) if review.improve else '-'}")
        lines.append(f"- Decision: {review.decision.value}" + (" (early review)" if review.early else ""))
    return "\n".join(line.rstrip() for line in lines).rstrip() + "\n"
