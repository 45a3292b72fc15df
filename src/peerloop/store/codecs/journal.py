"""A journal year as TOML tables and back (meetings, skips, reflections, reviews, touches); errors name the
file and the line. Pure: `store.records` reads and writes the files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from peerloop.core.models import (
    Entry,
    FollowUp,
    JournalYear,
    Meeting,
    Reflection,
    Replaced,
    Review,
    Skip,
    Touch,
)
from peerloop.core.parse import values
from peerloop.errors import DataFileError
from peerloop.store.codecs.roster import day_field
from peerloop.store.codecs.schema import SCHEMA_VERSION, upgraded
from peerloop.store.codecs.toml import Fields, dump_toml, line_of, moment, moments, nested_where

T = TypeVar("T")

JOURNAL_HEADER = """\
# peerloop journal: confidential. Meetings, skips, touches, reflections and reviews dated in this year.
"""


def year_text(journal_year: JournalYear) -> str:
    return JOURNAL_HEADER + dump_toml(journal_year_to_toml(journal_year))


# --- entries -----------------------------------------------------------------------------------------------


def _meeting_from_toml(f: Fields) -> Meeting:
    return Meeting(
        id=f.required(f.get("id", str, required=True)),
        date=f.required(day_field(f, "date", required=True)),
        peer=f.required(f.get("peer", str, required=True)),
        mode=f.required(f.parsed("mode", values.parse_mode, required=True)),
        issue=f.get("issue", str),
        gains=tuple(_parse_each(f, "gains", values.parse_gain)),
        win=f.get("win", str),
        works=f.get("works", str),
        improve=f.get("improve", str),
        follow_ups=_follow_ups(f),
        note=f.get("note", str),
        **_versions_from(f),
    )


def _line(f: Fields, k: int) -> int | None:
    """The header line of the meeting's k-th follow-up, looked for only to name a damaged one."""
    return line_of(f.text, nested_where(f.text, f.where, "follow_ups", k), None)


def _follow_ups(f: Fields) -> tuple[FollowUp, ...]:
    """`[[meetings.follow_ups]]` tables (n, text, done); peerloop 0.1's lists were converted on reading
    (`codecs.schema`)."""
    items = []
    for k, item in enumerate(
        f.tables("follow_ups", "must be [[meetings.follow_ups]] tables with n, text and done")
    ):
        n, text, done = item.get("n"), item.get("text"), item.get("done", False)
        if not isinstance(n, int) or isinstance(n, bool) or n < 1 or not isinstance(text, str):
            f.fail("follow_ups", "must each have a number n (1, 2, …) and a text in quotes", line=_line(f, k))
        if not isinstance(done, bool):
            f.fail("follow_ups", "'done' must be true or false", line=_line(f, k))
        items.append(FollowUp(text, done, n))
    if len({item.n for item in items}) != len(items):
        f.fail("follow_ups", "use a number n twice in one meeting; give each follow-up its own")
    return tuple(items)


def _replaced(f: Fields) -> tuple[Replaced, ...]:
    """`[[KIND.replaced]]` tables: the versions another device wrote at the same time, each with its `changed`."""
    found = []
    for k, item in enumerate(f.tables("replaced", "must be [[...replaced]] tables, one per version kept")):
        where = nested_where(f.text, f.where, "replaced", k)
        when = moment(Fields(item, f.path, f.text, where, f"{f.label} replaced #{k + 1}"), "changed")
        found.append(Replaced(when, {key: value for key, value in item.items() if key != "changed"}))
    return tuple(found)


def _versions_from(f: Fields) -> dict[str, Any]:
    """`_versions` read back; last, as the keys left are the entry's unknown ones."""
    return {"changed": moment(f, "changed"), "replaced": _replaced(f), "extra": f.extra()}


def _versions(entry: Entry) -> dict[str, Any]:
    """When the entry was last changed, the versions of it that lost a merge, and the keys a newer peerloop wrote
    (kept as they were)."""
    return {
        "changed": entry.changed,
        "replaced": [{"changed": r.changed, **r.fields} for r in entry.replaced] or None,
        **entry.extra,
    }


def _parse_each(f: Fields, key: str, parse: Callable[[str], T]) -> list[T]:
    parsed = []
    for item in f.text_list(key):
        try:
            parsed.append(parse(item))
        except ValueError as error:
            f.fail(key, f"is wrong: {error}")
    return parsed


def _meeting_to_toml(meeting: Meeting) -> dict[str, Any]:
    return {
        "id": meeting.id,
        "date": meeting.date,
        "peer": meeting.peer,
        "mode": meeting.mode.value,
        "issue": meeting.issue,
        "gains": [gain.value for gain in meeting.gains] or None,
        "win": meeting.win,
        "works": meeting.works,
        "improve": meeting.improve,
        "follow_ups": [{"n": i.n, "text": i.text, "done": i.done} for i in _numbered(meeting.follow_ups)]
        or None,
        "note": meeting.note,
        **_versions(meeting),
    }


def _numbered(items: tuple[FollowUp, ...]) -> list[FollowUp]:
    """Follow-ups with their numbers; one made without a number (n = 0) gets the next free one."""
    following = max((item.n for item in items), default=0) + 1
    numbered = []
    for item in items:
        if item.n < 1:
            item, following = item._replace(n=following), following + 1
        numbered.append(item)
    return numbered


def _skip_from_toml(f: Fields) -> Skip:
    return Skip(
        id=f.required(f.get("id", str, required=True)),
        date=f.required(day_field(f, "date", required=True)),
        reason=f.get("reason", str) or "",
        peer=f.get("peer", str),
        **_versions_from(f),
    )


def _skip_to_toml(skip: Skip) -> dict[str, Any]:
    return {
        "id": skip.id,
        "date": skip.date,
        "peer": skip.peer,
        "reason": skip.reason,
        **_versions(skip),
    }


def _reflection_from_toml(f: Fields) -> Reflection:
    return Reflection(
        id=f.required(f.get("id", str, required=True)),
        date=f.required(day_field(f, "date", required=True)),
        names=f.text_list("names"),
        why=f.get("why", str),
        excuses=f.text_list("excuses"),
        ceo=f.get("ceo", str),
        purpose=f.get("purpose", str),
        **_versions_from(f),
    )


def _reflection_to_toml(reflection: Reflection) -> dict[str, Any]:
    return {
        "id": reflection.id,
        "date": reflection.date,
        "names": list(reflection.names) or None,
        "why": reflection.why,
        "excuses": list(reflection.excuses) or None,
        "ceo": reflection.ceo,
        "purpose": reflection.purpose,
        **_versions(reflection),
    }


def _touch_from_toml(f: Fields) -> Touch:
    return Touch(
        id=f.required(f.get("id", str, required=True)),
        date=f.required(day_field(f, "date", required=True)),
        peer=f.required(f.get("peer", str, required=True)),
        note=f.get("note", str),
        **_versions_from(f),
    )


def _touch_to_toml(touch: Touch) -> dict[str, Any]:
    return {
        "id": touch.id,
        "date": touch.date,
        "peer": touch.peer,
        "note": touch.note,
        **_versions(touch),
    }


def _review_from_toml(f: Fields) -> Review:
    return Review(
        id=f.required(f.get("id", str, required=True)),
        date=f.required(day_field(f, "date", required=True)),
        trial_start=f.required(day_field(f, "trial_start", required=True)),
        added_value=f.required(f.parsed("added_value", values.parse_verdict, required=True)),
        decision=f.required(f.parsed("decision", values.parse_decision, required=True)),
        works=f.get("works", str),
        improve=f.get("improve", str),
        early=bool(f.get("early", bool)),
        **_versions_from(f),
    )


def _review_to_toml(review: Review) -> dict[str, Any]:
    return {
        "id": review.id,
        "date": review.date,
        "trial_start": review.trial_start,
        "added_value": review.added_value.value,
        "decision": review.decision.value,
        "works": review.works,
        "improve": review.improve,
        "early": review.early or None,
        **_versions(review),
    }


_CODECS: dict[str, tuple[str, Callable[[Fields], Entry], Callable[[Any], dict[str, Any]]]] = {
    "meetings": ("meeting", _meeting_from_toml, _meeting_to_toml),
    "skips": ("skip", _skip_from_toml, _skip_to_toml),
    "reflections": ("reflection", _reflection_from_toml, _reflection_to_toml),
    "reviews": ("review", _review_from_toml, _review_to_toml),
    "touches": ("touch", _touch_from_toml, _touch_to_toml),
}
"""Each kind of entry, in the order a year file holds them: one entry's name in errors, its reader and writer."""


def journal_year_from_toml(data: dict[str, Any], text: str, year: int, path: Path) -> JournalYear:
    data = upgraded(data, path, "journal")
    parsed: dict[str, Any] = {}
    seen_ids: set[str] = set()
    for kind, (one, read, _) in _CODECS.items():
        items = data.get(kind, [])
        if not isinstance(items, list):
            raise DataFileError(f"{path}: '{kind}' must be written as [[{kind}]] tables; fix it by hand")
        parsed[kind] = []
        for n, item in enumerate(items):
            f = Fields(item, path, text, (kind, n), f"{one} #{n + 1}")
            entry = read(f)
            if entry.date.year != year:
                f.fail("date", f"is in {entry.date.year}, but this file holds {year}; move the entry")
            if entry.id in seen_ids:
                f.fail("id", f"{entry.id!r} is used twice in this file; give one a new id")
            seen_ids.add(entry.id)
            parsed[kind].append(entry)
    extra = {
        key: value for key, value in data.items() if key not in {"schema_version", "forgotten", *_CODECS}
    }
    return JournalYear(
        year=year,
        **{kind: tuple(entries) for kind, entries in parsed.items()},
        forgotten=moments(data.get("forgotten"), path, "forgotten"),
        extra=extra,
    )


def journal_year_to_toml(journal_year: JournalYear) -> dict[str, Any]:
    entries = {
        kind: [write(entry) for entry in sorted(getattr(journal_year, kind), key=lambda e: (e.date, e.id))]
        for kind, (_, _, write) in _CODECS.items()
    }
    return {
        "schema_version": SCHEMA_VERSION,
        **journal_year.extra,
        **{kind: written or None for kind, written in entries.items()},
        "forgotten": dict(sorted(journal_year.forgotten.items())) or None,
    }
