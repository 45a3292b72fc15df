"""The trial in words: the strip of weeks, `status`'s overview and the review's evidence."""

from __future__ import annotations

from peerloop.core.rotation import first_trial_week
from peerloop.core.trial import LEGEND, MARKS, Evidence, Noted, Status, WeekState
from peerloop.inert import safe
from peerloop.output import text
from peerloop.output.messages import NEW_TRIAL
from peerloop.output.tables import EVIDENCE_COLUMNS, layout, slot_time


def day_count(days: int) -> str:
    if days < 14:
        return text.plural(days, "day")
    return f"{round(days / 7)} weeks"


_COLOURS = {
    WeekState.KEPT: "green",
    WeekState.SKIPPED: "yellow",
    WeekState.MISSED: "red",
    WeekState.PAUSED: "dim",
    WeekState.OPEN: "cyan",
    WeekState.TO_COME: "dim",
}


def strip_lines(states: tuple[WeekState, ...], width: int) -> list[str]:
    """The weeks as one character each, and the legend (wrapped between its entries)."""
    strip = "".join(text.style(MARKS[state], _COLOURS[state]) for state in states)
    lines = [f"  {strip}", ""]
    for state in (state for state in WeekState if state in states):
        entry = f"{text.style(MARKS[state], _COLOURS[state])} {LEGEND[state]}"
        if lines[-1] and text.width(lines[-1]) + 2 + text.width(entry) > width:
            lines.append("")
        lines[-1] += f"  {entry}"
    return lines


LABEL = 10
"""The width of the labels `status` writes before its values."""


def labelled(label: str, value: str, width: int) -> list[str]:
    """A `Label     value` line of `status`, wrapped at spaces under its value (a hanging indent)."""
    return text.wrap(f"{label:<{LABEL}}{value}", width, LABEL)


def _headline(status: Status) -> str:
    settings, so_far = status.settings, status.progress
    span = f"{text.day(settings.trial_start)} to {text.day(settings.counted_until)}"
    if so_far.week == 0:
        return f"The trial starts in the week of {text.day(first_trial_week(settings))}: {span}, {so_far.weeks} weeks"
    if status.stopped_on is not None:
        return f"Trial of {span}: stopped at the review of {text.day(status.stopped_on)}"
    if status.today >= settings.trial_end:
        return f"The trial of {span} has ended ({so_far.weeks} weeks; this is week {so_far.week})"
    if so_far.week > so_far.weeks:
        return f"Trial week {so_far.week} ({so_far.weeks}-week trial of {span})"
    return f"Trial week {so_far.week} of {so_far.weeks} ({span})"


def _next_line(status: Status) -> str:
    slot = status.next
    if not status.roster.peers or slot is None:
        return "none yet: add the 4 to 5 peers you will meet with `peerloop add NAME`"
    if slot.peer is None:
        return f"nobody in the week of {text.day(slot.week)}: every peer is paused"
    line = (
        f"{text.day(slot.date)}, {slot_time(slot)} ({status.settings.timezone}): "
        f"{slot.mode.value} with {safe(slot.peer.name)}"
    )
    return line + (text.style(" (overdue)", "red") if slot.overdue else "")


def _review_line(status: Status) -> str:
    end = status.settings.trial_end
    if status.stopped_on is not None:
        return f"done on {text.day(status.stopped_on)}: you decided to stop ({NEW_TRIAL})"
    if status.review_due:
        return text.style(f"due since {text.day(end)}: run `peerloop review`", "yellow")
    return f"{text.day(end)}, in {day_count((end - status.today).days)}"


def status_lines(status: Status, width: int) -> list[str]:
    """`peerloop status` as text, `width` columns wide."""
    so_far = status.progress
    lines = [*text.wrap(text.style(_headline(status), "bold"), width, 2), *strip_lines(so_far.strip, width)]
    kept, meetings = so_far.tally(WeekState.KEPT), len(so_far.meetings)
    if so_far.planned:
        counted = f"{kept} of {text.plural(so_far.planned, 'week')} kept" + (
            "" if status.today >= status.settings.trial_end or status.stopped else " so far"
        )
        if meetings != kept:
            counted += f" ({text.plural(meetings, 'meeting')})"
        counted += f"; {so_far.tally(WeekState.SKIPPED)} skipped, {so_far.tally(WeekState.MISSED)} missed"
        if so_far.tally(WeekState.PAUSED):
            counted += f", {so_far.tally(WeekState.PAUSED)} with everyone paused"
        if so_far.tally(WeekState.OPEN):
            counted += ", this week open"
    else:
        counted = "none yet"
    lines += labelled("Meetings", counted, width)
    for n, skip in enumerate(so_far.skips):
        reason = f"{text.day(skip.date)}: {safe(skip.reason) or '(no reason given)'}"
        lines += labelled("Skips" if n == 0 else "", reason, width)
    ahead = _next_line(status) if not status.stopped else "none: no meeting is planned once you stop"
    lines += labelled("Next", ahead, width)
    lines += labelled("Review", _review_line(status), width)
    return lines


def _noted_lines(items: tuple[Noted, ...], empty: str) -> list[str]:
    if not items:
        return [f"    {empty}"]
    return [
        f"    {text.day(item.date)}" + (f", {safe(item.peer)}" if item.peer else "") + f": {safe(item.text)}"
        for item in items
    ]


def evidence_lines(found: Evidence, months: int, width: int) -> list[str]:
    """The evidence as text, before the review's questions: its table `width` columns wide, its other lines
    for `text.wrap`."""
    so_far = found.progress
    span = f"{text.day(found.trial_start)} to {text.day(found.last_day)}"
    lines = [text.style(f"The review of your {months}-month trial: {span}", "bold")]
    if found.early:
        left = (found.trial_end - found.today).days
        lines.append(text.style(f"An early review: the review date is {day_count(left)} away.", "yellow"))
    purpose = safe(found.purpose) if found.purpose else "not written down (`peerloop reflect --purpose`)"
    lines.append(f"What you wanted the network to give you: {purpose}")
    lines += ["", text.style("Process: did the meetings happen?", "bold"), *strip_lines(so_far.strip, width)]
    kept = so_far.tally(WeekState.KEPT)
    lines.append(
        f"  {kept} of {text.plural(so_far.planned, 'week')} kept ({text.plural(found.meetings, 'meeting')}); "
        f"{so_far.tally(WeekState.SKIPPED)} skipped, {so_far.tally(WeekState.MISSED)} missed"
        + (
            f", {so_far.tally(WeekState.PAUSED)} with everyone paused"
            if so_far.tally(WeekState.PAUSED)
            else ""
        )
    )
    if found.peers:
        rows = [
            (
                p.name + ("" if p.in_roster else " (left the roster)"),
                p.meetings,
                text.day(p.last_met) if p.last_met else "never",
            )
            for p in found.peers
        ]
        laid = layout(EVIDENCE_COLUMNS, rows, width - 2)
        lines += ["", *("  " + line if line else "" for line in laid.lines)]
    lines += ["", text.style("Content: what did they give you?", "bold")]
    gains = ", ".join(f"{gain.value} {count}" for gain, count in found.gains)
    lines.append(f"  Gains: {gains} (in {text.plural(found.meetings, 'meeting')})")
    lines += ["  Wins:", *_noted_lines(found.wins, "none noted")]
    lines += ["  Follow-ups still open:", *_noted_lines(found.follow_ups, "none")]
    lines += ["  What works well, noted after meetings:", *_noted_lines(found.works, "nothing noted")]
    lines += ["  What can be improved, noted after meetings:", *_noted_lines(found.improve, "nothing noted")]
    touches = ", ".join(f"{safe(t.name)} {t.meetings}" for t in found.touches) or "none logged"
    lines.append(f"  In touch between meetings (`log --touch`): {touches}")
    lines += ["", text.style("Excuses and skips", "bold")]
    excuses = "; ".join(safe(excuse) for excuse in found.excuses) or "none listed"
    lines.append(f"  The excuses you listed at the start: {excuses}")
    lines += ["  The reasons you gave for skipped weeks:", *_noted_lines(found.skip_reasons, "no skips")]
    lines += ["", text.style("Your coaching thoughts from the start", "bold")]
    if not found.reflections:
        lines.append("  none recorded (`peerloop reflect`)")
    for reflection in found.reflections:
        lines.append(f"  {text.day(reflection.date)}:")
        lines.append("    People you might contact: " + (", ".join(safe(n) for n in reflection.names) or "-"))
        if reflection.why:
            lines.append(f"    Why fewer than 4: {safe(reflection.why)}")
        lines.append("    Excuses: " + ("; ".join(safe(e) for e in reflection.excuses) or "-"))
        if reflection.ceo:
            lines.append(f"    Your CEO might say: {safe(reflection.ceo)}")
    return lines
