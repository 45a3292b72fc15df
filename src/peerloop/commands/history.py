"""`peerloop history`: the journal, newest first: meetings, skips, touches, coaching thoughts and reviews."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from peerloop import journal, params
from peerloop.models import Entry, Meeting, Reflection, Review, Skip, Touch, peer_key
from peerloop.output import text


class Kind(StrEnum):
    MEETING = "meeting"
    SKIP = "skip"
    TOUCH = "touch"
    REFLECTION = "reflection"
    REVIEW = "review"


def details(entry: Entry) -> list[str]:
    """What an entry says, one line per field, for the history table (text from files made inert)."""
    if isinstance(entry, Skip):
        return [f"Reason: {text.safe(entry.reason)}"]
    if isinstance(entry, Touch):
        return [text.safe(entry.note)] if entry.note else []
    if isinstance(entry, Reflection):
        lines = [f"Purpose: {text.safe(entry.purpose)}"] if entry.purpose else []
        if entry.names:
            lines.append("People: " + ", ".join(text.safe(n) for n in entry.names))
        lines += [f"Why fewer than 4: {text.safe(entry.why)}"] if entry.why else []
        if entry.excuses:
            lines.append("Excuses: " + "; ".join(text.safe(e) for e in entry.excuses))
        lines += [f"Your CEO might say: {text.safe(entry.ceo)}"] if entry.ceo else []
        return lines
    if isinstance(entry, Review):
        lines = [f"Added value: {entry.added_value.value}; decision: {entry.decision.value}"]
        lines += [f"Works well: {text.safe(entry.works)}"] if entry.works else []
        lines += [f"To improve: {text.safe(entry.improve)}"] if entry.improve else []
        lines.append(f"`peerloop review --show {entry.id}` shows it again")
        return lines
    labelled = (("Pressing issue", entry.issue), ("It gave", ", ".join(g.value for g in entry.gains) or None),
                ("Win", entry.win), ("Works well", entry.works), ("To improve", entry.improve),
                ("Note", entry.note))  # fmt: skip
    lines = [f"{label}: {text.safe(value)}" for label, value in labelled if value]
    lines += [
        f"[{'x' if item.done else ' '}] {journal.handle(entry, item)} {text.safe(item.text)}"
        for item in entry.follow_ups
    ]
    return lines


def what(entry: Entry) -> str:
    if isinstance(entry, Meeting):
        return f"{entry.mode.value} with {entry.peer}"
    if isinstance(entry, Skip):
        return "skipped" + (f" ({entry.peer}'s turn)" if entry.peer else "")
    if isinstance(entry, Touch):
        return f"touch with {entry.peer}"
    if isinstance(entry, Reflection):
        return "coaching thoughts"
    return "six-month review" + (" (early)" if entry.early else "")


def history(
    name: Annotated[
        str | None,
        typer.Argument(
            metavar="NAME",
            help="Only the entries with this peer (any case, or a unique start of the name).",
            show_default=False,
            autocompletion=params.complete_peer_name,
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", metavar="DATE", help="Only entries on or after this date: 2026-01-01, 4 weeks ago."
        ),
    ] = None,
    kind: Annotated[
        list[Kind] | None, typer.Option("--kind", help="Only entries of this kind (repeat for several).")
    ] = None,
    json: params.JsonOption = False,
) -> None:
    """The journal, newest first.

    Meetings, skipped weeks, touches between meetings, your coaching thoughts and your reviews, each with
    its id. Follow-ups show their handle ([x] marks the done ones): `peerloop done HANDLE` closes one.

    Examples:

      peerloop history

      peerloop history "Ann Lee" --since 2026-01-01

      peerloop history --kind review --kind reflection

      peerloop history --json | jq '.[] | select(.kind == "skip") | .reason'
    """
    from peerloop.session import require_peer, today_for

    store = params.store()
    roster = store.load_roster()
    today = today_for(roster)
    start = params.parse_day(since, "--since", today, "past") if since is not None else None
    years = [y for y in store.journal_years() if start is None or y >= start.year]
    found = store.load_journal(years)
    entries: list[Entry] = [*found.meetings, *found.skips, *found.touches, *found.reflections, *found.reviews]
    if start is not None:
        entries = [e for e in entries if e.date >= start]
    if kind:
        wanted = {k.value for k in kind}
        entries = [e for e in entries if journal.kind_of(e) in wanted]
    shown_name = name
    if name is not None:
        every = store.load_journal() if start is not None else found
        names_logged = journal.names_in((*every.meetings, *every.skips, *every.touches))
        key = peer_key(name)
        if roster.settings is not None and not any(peer_key(n) == key for n in names_logged):
            key = require_peer(store, roster, name).key
        shown_name = next((n for n in names_logged if peer_key(n) == key), name)
        entries = [
            e for e in entries if isinstance(e, Meeting | Skip | Touch) and e.peer and peer_key(e.peer) == key
        ]
    shown = sorted(entries, key=journal.sort_key, reverse=True)
    if json:
        from peerloop.output.json import emit_json, entry_json

        emit_json([entry_json(entry) for entry in shown])
        return
    if not shown:
        whom = f" with {text.safe(shown_name)}" if shown_name else ""
        when = f" since {start.isoformat()}" if start else ""
        text.message(f"Nothing logged{whom}{when} yet: `peerloop log` records a meeting.")
        return
    rows: list[tuple[str, ...]] = []
    for entry in shown:  # a blank row between entries: several lines each, easier to tell apart
        rows += [("", "", "", "")] if rows else []
        rows.append((entry.id, text.day(entry.date), text.safe(what(entry)), "\n".join(details(entry))))
    text.out(text.table(("ID", "Date", "What", "Details"), rows))
