"""`peerloop history`: the journal, newest first: meetings, skips, touches, coaching thoughts and reviews."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

import typer

from peerloop import options
from peerloop.core import ids, journal
from peerloop.core.models import Entry, Meeting, Reflection, Review, Roster, Skip, Touch, peer_key
from peerloop.errors import ConflictError, InputError
from peerloop.inert import safe
from peerloop.output import text
from peerloop.store.records import Store


class Kind(StrEnum):
    MEETING = "meeting"
    SKIP = "skip"
    TOUCH = "touch"
    REFLECTION = "reflection"
    REVIEW = "review"


def details(entry: Entry) -> list[str]:
    """What an entry says, one line per field, for the history table (text from files made inert), then the
    versions of it another device wrote at the same time, kept beside it by a merge."""
    lines = _fields(entry)
    for other in entry.replaced:
        when = f"changed {other.changed:%Y-%m-%d %H:%M} UTC" if other.changed else "older"
        said = "; ".join(f"{key}: {_shown(value)}" for key, value in other.fields.items())
        lines.append(f"Other version ({when}, another device): {safe(said)}")
    return lines


def _shown(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(_shown(item) for item in value)
    return "none" if value == "" else str(value)


def _fields(entry: Entry) -> list[str]:
    if isinstance(entry, Skip):
        return [f"Reason: {safe(entry.reason)}"]
    if isinstance(entry, Touch):
        return [safe(entry.note)] if entry.note else []
    if isinstance(entry, Reflection):
        lines = [f"Purpose: {safe(entry.purpose)}"] if entry.purpose else []
        if entry.names:
            lines.append("People: " + ", ".join(safe(n) for n in entry.names))
        lines += [f"Why fewer than 4: {safe(entry.why)}"] if entry.why else []
        if entry.excuses:
            lines.append("Excuses: " + "; ".join(safe(e) for e in entry.excuses))
        lines += [f"Your CEO might say: {safe(entry.ceo)}"] if entry.ceo else []
        return lines
    if isinstance(entry, Review):
        lines = [f"Added value: {entry.added_value.value}; decision: {entry.decision.value}"]
        lines += [f"Works well: {safe(entry.works)}"] if entry.works else []
        lines += [f"To improve: {safe(entry.improve)}"] if entry.improve else []
        lines.append(f"`peerloop review --show {entry.id}` shows it again")
        return lines
    labelled = (("Pressing issue", entry.issue), ("It gave", ", ".join(g.value for g in entry.gains) or None),
                ("Win", entry.win), ("Works well", entry.works), ("To improve", entry.improve),
                ("Note", entry.note))  # fmt: skip
    lines = [f"{label}: {safe(value)}" for label, value in labelled if value]
    lines += [
        f"[{'x' if item.done else ' '}] {journal.handle(entry, item)} {safe(item.text)}"
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
            help="Only the entries with this peer, also one removed from the roster (any case, or a unique "
            "start of the name).",
            show_default=False,
            autocompletion=options.complete_any_peer_name,
        ),
    ] = None,
    count: Annotated[
        int | None, typer.Option("-n", metavar="N", min=1, help="Only the N newest entries (of any trial).")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", metavar="DATE", help="Only entries on or after this date: 2026-01-01, 4 weeks ago."
        ),
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="The whole journal, every trial.")] = False,
    kind: Annotated[
        list[Kind] | None, typer.Option("--kind", help="Only entries of this kind (repeat for several).")
    ] = None,
    json: options.JsonOption = False,
) -> None:
    """The journal, newest first: the current trial, unless -n, --since or --all says otherwise.

    Meetings, skipped weeks, touches between meetings, your coaching thoughts and your reviews, each with
    its id. Follow-ups show their handle ([x] marks the done ones): `peerloop done HANDLE` closes one.

    Examples:

      peerloop history

      peerloop history -n 5

      peerloop history "Ann Lee" --since 2026-01-01

      peerloop history --all --kind review --kind reflection

      peerloop history --all --json | jq '.[] | select(.kind == "skip") | .reason'
    """
    from peerloop.core.rotation import first_trial_week
    from peerloop.store.session import today_for

    if every and since is not None:
        raise InputError("--all and --since do not go together: --since already chooses where to start")
    store = options.store()
    roster = store.load_roster()
    today = today_for(roster)
    if since is not None:
        start: dt.date | None = options.parse_day(since, "--since", today, "past")
    elif every or count is not None or roster.settings is None:
        start = None
    else:
        start = first_trial_week(roster.settings)
    whose = _whose(store, roster, name) if name is not None else None
    on_disk = store.journal_years()
    shown: list[Entry] = []
    for year in reversed(on_disk):  # newest first: -n stops as soon as it has its entries
        if (start is not None and year < start.year) or (count is not None and len(shown) >= count):
            break
        found = store.load_year(year).entries()
        shown += sorted((e for e in found if _wanted(e, start, kind, whose)), key=ids.sort_key, reverse=True)
    shown = shown[:count] if count is not None else shown
    if json:
        from peerloop.output.json import emit_json, entry_json

        emit_json([entry_json(entry) for entry in shown])
        return
    older = start is not None and since is None and bool(on_disk) and on_disk[0] <= start.year
    whom = f" with {safe(whose[1])}" if whose else ""
    if not shown:
        if older and start is not None:
            text.message(
                f"Nothing logged{whom} in this trial yet (since {text.day(start)}); `--all` shows the older entries."
            )
        else:
            when = f" since {text.day(start)}" if start and since is not None else ""
            text.message(f"Nothing logged{whom}{when} yet: `peerloop log` records a meeting.")
        return
    rows = [(entry.id, text.day(entry.date), safe(what(entry)), "\n".join(details(entry))) for entry in shown]
    from peerloop.output.tables import HISTORY_COLUMNS, show

    show(HISTORY_COLUMNS, rows, spaced=True)  # several lines each: a blank line tells them apart
    if older and start is not None:
        text.message(
            f"This trial's entries{whom}, since {text.day(start)}; `--all` (or -n N) shows the older ones."
        )


def _wanted(
    entry: Entry, start: dt.date | None, kind: list[Kind] | None, whose: tuple[str, str] | None
) -> bool:
    if start is not None and entry.date < start:
        return False
    if kind and journal.kind_of(entry) not in {k.value for k in kind}:
        return False
    if whose is None:
        return True
    return (
        isinstance(entry, Meeting | Skip | Touch)
        and entry.peer is not None
        and peer_key(entry.peer) == whose[0]
    )


def _whose(store: Store, roster: Roster, typed: str) -> tuple[str, str]:
    """The peer NAME names (key and name as written): in the roster, or a removed peer found the same
    loose way in the journal's names."""
    from peerloop.core.parse import names
    from peerloop.core.roster import find_peer
    from peerloop.store.session import journal_names

    try:
        peer = find_peer(roster, typed)
        return peer.key, peer.name
    except ConflictError as miss:
        gone = [name for name in journal_names(store) if roster.find(name) is None]
        try:
            found = names.match(typed, gone)
        except ConflictError:
            raise miss from None
        return peer_key(found), found
