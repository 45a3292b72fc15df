"""The six-month review as a Markdown document, to keep or reread (`review --report`)."""

from __future__ import annotations

from collections.abc import Sequence

from peerloop.core.models import Review
from peerloop.core.trial import LEGEND, MARKS, Evidence, Noted, WeekState, strip_text
from peerloop.inert import safe
from peerloop.output.text import plural

_MARKDOWN_SPECIAL = str.maketrans({ch: "\\" + ch for ch in "\\`*_[]<>#|"})


def md(text: str) -> str:
    """User text as one line of inert Markdown: no headings, links, HTML or table breaks from a note, and
    no escape sequence for a terminal showing the file (`inert.safe` writes control characters as escapes)."""
    return safe(" ".join(text.split())).translate(_MARKDOWN_SPECIAL)


def _noted_md(items: Sequence[Noted], empty: str) -> list[str]:
    if not items:
        return [f"_{empty}_"]
    return [f"- {item.date.isoformat()}" + (f", {md(item.peer)}" if item.peer else "") + f": {md(item.text)}"
            for item in items]  # fmt: skip


def report_markdown(found: Evidence, review: Review | None) -> str:
    """The evidence (and the answers, once given) as a Markdown document to keep or reread."""
    so_far = found.progress
    title = f"# Peer network review: trial of {found.trial_start.isoformat()} to {found.last_day.isoformat()}"
    lines = [title, ""]
    when = f"Reviewed on {found.today.isoformat()}, in week {so_far.week} of a {so_far.weeks}-week trial"
    lines.append(when + (" (an early review, before the review date)." if found.early else "."))
    purpose = md(found.purpose) if found.purpose else "not written down (`peerloop reflect --purpose`)"
    lines += ["", f"What you wanted the network to give you: {purpose}"]
    lines += ["", "## Process", ""]
    lines.append(f"`{strip_text(so_far.strip)}`  ")
    lines.append("  ".join(f"{MARKS[state]} {LEGEND[state]}" for state in WeekState if state in so_far.strip))
    lines += [
        "",
        f"- Weeks {'so far' if found.early else 'counted'}: {so_far.planned}",
        f"- Kept: {plural(so_far.tally(WeekState.KEPT), 'week')} ({plural(found.meetings, 'meeting')})",
        f"- Skipped: {plural(so_far.tally(WeekState.SKIPPED), 'week')} ({plural(found.skips, 'skip')} logged)",
        f"- Missed: {plural(so_far.tally(WeekState.MISSED), 'week')}",
        f"- Everyone paused: {plural(so_far.tally(WeekState.PAUSED), 'week')}",
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
    touches = ", ".join(f"{md(t.name)} {t.meetings}" for t in found.touches) or "none logged"
    lines += ["", f"In touch between meetings (calls, messages): {touches}"]
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
        if reflection.purpose:
            lines.append(f"- What you want the network to give you: {md(reflection.purpose)}")
        lines.append("")
    if review is not None:
        lines += ["## The review", ""]
        lines.append(f"- Did it add value? {review.added_value.value}")
        lines.append(f"- What works well? {md(review.works) if review.works else '-'}")
        lines.append(f"- What can be improved? {md(review.improve) if review.improve else '-'}")
        lines.append(f"- Decision: {review.decision.value}" + (" (early review)" if review.early else ""))
    return "\n".join(line.rstrip() for line in lines).rstrip() + "\n"
