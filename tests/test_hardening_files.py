"""Damaged and hand-edited journal and calendar files (test_storage_errors.py covers the roster): one clear
line naming the file (and the line, where TOML can tell), saying what to do, exit 4, and nothing overwritten,
also when the command meant to write."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from peerloop.session import Store
from tests.conftest import Invoke
from tests.hardening import NOW, populate, snapshot

WHAT_TO_DO = ("fix", "restore", "move it away", "move the file away", "delete it", "upgrade peerloop")

JOURNAL_READERS = [
    ["next"],
    ["plan", "--weeks", "2"],
    ["peers"],
    ["history"],
    ["history", "Ann Lee", "--json"],
    ["status"],
    ["status", "--check"],
    ["status", "--line"],
    ["review", "--json", "--early"],
    ["export", "-o", "out.ics"],
    ["invite", "Ann Lee", "-o", "invite.ics"],
]
JOURNAL_WRITERS = [
    ["log", "Cy Dee", "--date", "2026-04-14"],
    ["log", "--skip", "--reason", "board week", "--date", "2026-04-14"],
    ["log", "--amend", "20260303-1", "--win", "a deal"],
    ["forget", "20260303-1", "--yes"],
    ["reflect", "--excuse", "no time"],
    ["edit", "Ann Lee", "--name", "Ann Li"],
    ["review", "--early", "--added-value", "yes", "--decision", "continue"],
]
CALENDAR_COMMANDS = [
    ["export", "-o", "out.ics"],
    ["export", "-o", "-"],
    ["export", "--weeks", "3", "-o", "out.ics"],
    ["invite", "Ann Lee", "-o", "invite.ics"],
    ["invite", "Bo Chen", "-o", "-"],
]


@pytest.fixture
def lived_in(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """The lived-in data folder, with the clock pinned and the working folder in tmp_path."""
    populate(home)
    monkeypatch.setenv("PEERLOOP_NOW", NOW)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return Store(home)


def edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def line_of(text: str, fragment: str) -> int:
    """The 1-based line at whose start `fragment` is found in `text`."""
    lines = text.split("\n")
    for n in range(len(lines)):
        if "\n".join(lines[n:]).startswith(fragment):
            return n + 1
    raise AssertionError(f"{fragment!r} is not in the text")


Damage = Callable[[str], "str | bytes | None"]
"""From the file's text to what is written instead: text, bytes, or None for a folder in its place."""


def damage(name: str, change: Damage, says: str, at: str | None = None, toml_line: bool = False) -> Any:
    """A case: how the file is damaged, what the message says, and the line it names (if it can tell).

    `at` is the fragment whose line the message must name; `toml_line` asks for any line TOML reports.
    """
    return pytest.param(change, says, at, toml_line, id=name)


def _with_review(verdict: str) -> Damage:
    return lambda text: (
        text
        + (
            f'\n[[reviews]]\nid = "20260401-1"\ndate = 2026-04-01\ntrial_start = 2026-03-02\n'
            f'added_value = "{verdict}"\ndecision = "continue"\n'
        )
    )


def _cut_inside_a_character(text: str) -> bytes:
    """The file as a crash in the middle of writing 'café' would leave it: cut after the first byte of 'é'."""
    raw = text.replace('issue = "a private note"', 'issue = "café"', 1).encode("utf-8")
    return raw[: raw.index("é".encode()) + 1]


JOURNAL_DAMAGE = [
    damage("peer-is-a-number", lambda t: edit(t, 'peer = "Bo Chen"\nmode = "call"', 'peer = 7\nmode = "call"'),
           "meeting #2 'peer' must be text in quotes", "peer = 7"),
    damage("date-as-text", lambda t: edit(t, "date = 2026-03-17", 'date = "2026-03-17"'),
           "meeting #2 'date' must be a date like 2026-03-17 without quotes (found `date = \"2026-03-17\"`); "
           "fix it: write `date = 2026-03-17` instead", 'date = "2026-03-17"'),
    damage("date-with-time", lambda t: edit(t, "date = 2026-03-17", "date = 2026-03-17T10:00:00"),
           "meeting #2 'date' must be a date without a time", "date = 2026-03-17T10:00:00"),
    damage("follow-up-number", lambda t: edit(t, 'text = "send the deck"', "text = 42"),
           "meeting #3 'follow_ups' must each have a number n (1, 2, …) and a text in quotes",
           "[[meetings.follow_ups]]\nn = 1\ntext = 42"),
    damage("gains-table", lambda t: edit(t, 'gains = [\n    "advice",\n]', "gains = { advice = true }"),
           "meeting #1 'gains' must be a list", "gains = { advice = true }"),
    damage("missing-mode", lambda t: edit(t, 'peer = "Bo Chen"\nmode = "call"\n', 'peer = "Bo Chen"\n'),
           "meeting #2 'mode' is missing", '[[meetings]]\nid = "20260317-1"'),
    damage("missing-id", lambda t: edit(t, 'id = "20260310-1"\n', ""),
           "skip #1 'id' is missing", "[[skips]]"),
    damage("missing-date", lambda t: edit(t, "date = 2026-04-15\n", ""),
           "reflection #1 'date' is missing", "[[reflections]]"),
    damage("unknown-mode", lambda t: edit(t, 'mode = "call"', 'mode = "walk"'),
           "meeting #2 'mode' is wrong: 'walk' is not a meeting mode; use one of coffee, lunch, call",
           'mode = "walk"'),
    damage("unknown-gain", lambda t: edit(t, '"advice",', '"money",'),
           "meeting #1 'gains' is wrong: 'money' is not a gain", 'gains = [\n    "money",'),
    damage("unknown-verdict", _with_review("maybe"), "review #1 'added_value' is wrong: 'maybe' is not a verdict",
           'added_value = "maybe"'),
    damage("reason-number", lambda t: edit(t, 'reason = "a private note"', "reason = 3"),
           "skip #1 'reason' must be text in quotes", "reason = 3"),
    damage("names-not-a-list", lambda t: edit(t, 'names = [\n    "Ann Lee",\n    "Eve Fox",\n]', 'names = "Ann"'),
           "reflection #1 'names' must be a list", 'names = "Ann"'),
    damage("duplicate-id", lambda t: edit(t, 'id = "20260317-1"', 'id = "20260303-1"'),
           "meeting #2 'id' '20260303-1' is used twice in this file", 'id = "20260303-1"\ndate = 2026-03-17'),
    damage("entry-in-the-wrong-year", lambda t: edit(t, "date = 2026-03-24", "date = 2025-03-25"),
           "meeting #3 'date' is in 2025, but this file holds 2026; move the entry", "date = 2025-03-25"),
    damage("skips-as-text", lambda t: 'schema_version = 1\nskips = "none"\n',
           "'skips' must be written as [[skips]] tables"),
    damage("meeting-not-a-table", lambda t: "schema_version = 1\nmeetings = [1, 2]\n",
           "meeting #1 must be a table"),
    damage("newer-schema", lambda t: edit(t, "schema_version = 1", "schema_version = 3"),
           "was written by a newer peerloop (schema 3; this one reads up to 1); upgrade peerloop"),
    damage("schema-as-text", lambda t: edit(t, "schema_version = 1", 'schema_version = "one"'),
           "schema_version must be a whole number"),
    damage("truncated-in-a-string", lambda t: t[: t.index('issue = "') + 12], "invalid TOML", toml_line=True),
    damage("truncated-in-a-header", lambda t: t[: t.index("[[skips]]") + 4], "invalid TOML", toml_line=True),
    damage("truncated-in-a-list", lambda t: t[: t.index('"Eve Fox"')], "invalid TOML", toml_line=True),
    damage("truncated-mid-entry", lambda t: t[: t.index("date = 2026-03-17")],
           "meeting #2 'date' is missing", '[[meetings]]\nid = "20260317-1"'),
    damage("truncated-in-a-character", lambda t: _cut_inside_a_character(t), "not UTF-8 text", 'issue = "caf'),
    damage("binary-garbage", lambda t: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\x00", "not UTF-8 text", "\ufffdPNG"),
    damage("control-garbage", lambda t: "\x00\x01\x02\x03 peerloop \x7f", "invalid TOML", toml_line=True),
    damage("zeroed-by-a-crash", lambda t: b"\x00" * 512, "invalid TOML", toml_line=True),
    damage("empty", lambda t: "", "is empty; restore it from a backup, or delete it to start afresh"),
    damage("blank", lambda t: "\n   \n", "is empty"),
    damage("a-folder", lambda t: None, "is a folder, not a file; move it away and try again"),
]  # fmt: skip


def _apply(path: Path, change: Damage) -> tuple[str, bytes | None]:
    """Damage the file; returns the text it had (for line numbers) and what is on disk now (None: a folder)."""
    text = path.read_text(encoding="utf-8")
    damaged = change(text)
    if damaged is None:
        path.unlink()
        path.mkdir()
        (path / "keep.txt").write_text("mine")
        return text, None
    raw = damaged.encode("utf-8", "surrogatepass") if isinstance(damaged, str) else damaged
    path.write_bytes(raw)
    return raw.decode("utf-8", "replace"), raw


def _check_error(result: Any, path: Path, says: str, line: int | None, toml_line: bool) -> None:
    said = f"{result.exit_code}\n{result.stdout}\n{result.stderr}"
    assert result.exit_code == 4, said
    assert result.stderr.count("\n") == 1, said
    assert result.stderr.startswith(f"peerloop: error: {path}"), said
    assert says in result.stderr, said
    assert any(hint in result.stderr for hint in WHAT_TO_DO), said
    named = re.match(rf"peerloop: error: {re.escape(str(path))}:? line (\d+)\b", result.stderr)
    if line is not None:
        assert named, f"no line number in {result.stderr!r}"
        assert int(named[1]) == line, said
    if toml_line:
        assert re.search(r"line \d+, column \d+|at the end of the file", result.stderr), said


@pytest.mark.parametrize(("change", "says", "at", "toml_line"), JOURNAL_DAMAGE)
def test_a_damaged_journal_is_one_clear_line_and_is_never_overwritten(
    cli: Invoke, lived_in: Store, tmp_path: Path, change: Damage, says: str, at: str | None, toml_line: bool
) -> None:
    path = lived_in.year_path(2026)
    text, raw = _apply(path, change)
    line = line_of(text, at) if at is not None else None
    before = snapshot(tmp_path)
    for command in JOURNAL_READERS + JOURNAL_WRITERS:
        result = cli(*command)
        _check_error(result, path, says, line, toml_line)
        assert result.stdout == "", command
        assert snapshot(tmp_path) == before, command
    if raw is not None:
        assert path.read_bytes() == raw
    else:
        assert [p.name for p in path.iterdir()] == ["keep.txt"]
    assert sorted(p.name for p in path.parent.iterdir()) == ["2026.toml"], "no temp file left behind"
    doctor = cli("doctor")
    assert doctor.exit_code == 4, doctor.output
    assert f"problem: {path}" in doctor.stdout
    assert snapshot(tmp_path) == before


def test_the_journal_cases_damage_a_file_that_was_valid(cli: Invoke, lived_in: Store) -> None:
    """Guards the cases above: each fails because of its own damage, not because of the lived-in folder."""
    for command in JOURNAL_READERS:
        assert cli(*command).exit_code in (0, 10), command  # 10: `status --check` finds this week overdue


def _calendar_state(text: str) -> str:
    home_id = re.search(r'^home_id = "(\w+)"$', text, re.MULTILINE)
    assert home_id
    return home_id[1]


CALENDAR_DAMAGE = [
    damage("home-id-number", lambda t: re.sub(r'home_id = "\w+"', "home_id = 5", t),
           "'home_id' must be 6 to 40 lowercase letters or digits"),
    damage("home-id-with-spaces", lambda t: re.sub(r'home_id = "\w+"', 'home_id = "not an id"', t),
           "'home_id' must be 6 to 40 lowercase letters or digits"),
    damage("events-as-list", lambda t: 'schema_version = 1\nhome_id = "abcdef12"\nevents = [1, 2]\n',
           "'events' must be a table of [events.UID] tables"),
    damage("event-not-a-table", lambda t: 'schema_version = 1\nhome_id = "abcdef12"\nevents = { x = 1 }\n',
           "[events.x] must be a table"),
    damage("unknown-kind", lambda t: edit(t, 'kind = "slot"', 'kind = "party"'), "'kind' must be one of"),
    damage("missing-kind", lambda t: edit(t, 'kind = "slot"\n', ""), "'kind' must be one of"),
    damage("start-as-text", lambda t: edit(t, "start = 2026-04-14", 'start = "2026-04-14"'),
           "'start' must be a date like 2026-03-17"),
    damage("missing-digest", lambda t: re.sub(r'digest = "\w+"\n', "", t, count=1), "'digest' must be text"),
    damage("sequence-as-text", lambda t: edit(t, "sequence = 0", 'sequence = "0"'),
           "'sequence' must be a whole number, 0 or more"),
    damage("sequence-negative", lambda t: edit(t, "sequence = 0", "sequence = -1"),
           "'sequence' must be a whole number, 0 or more"),
    damage("sequence-bool", lambda t: edit(t, "sequence = 0", "sequence = true"),
           "'sequence' must be a whole number, 0 or more"),
    damage("table-twice", lambda t: t + "\n" + t[t.index("[events."):t.index("sequence = 0") + 12] + "\n",
           "invalid TOML", toml_line=True),
    damage("newer-schema", lambda t: edit(t, "schema_version = 1", "schema_version = 2"),
           "was written by a newer peerloop (schema 2; this one reads up to 1); upgrade peerloop"),
    damage("truncated", lambda t: t[: t.index("digest = ") + 14], "invalid TOML", toml_line=True),
    damage("binary-garbage", lambda t: bytes(range(256)) * 2, "not UTF-8 text", "\x0b\x0c"),
    damage("empty", lambda t: "", "is empty"),
    damage("a-folder", lambda t: None, "is a folder, not a file; move it away and try again"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "says", "at", "toml_line"), CALENDAR_DAMAGE)
def test_a_damaged_calendar_state_stops_export_and_invite_and_is_kept(
    cli: Invoke, lived_in: Store, tmp_path: Path, change: Damage, says: str, at: str | None, toml_line: bool
) -> None:
    path = lived_in.calendar_path
    _calendar_state(path.read_text(encoding="utf-8"))
    text, raw = _apply(path, change)
    line = line_of(text, at) if at is not None else None
    before = snapshot(tmp_path)
    for command in CALENDAR_COMMANDS:
        result = cli(*command)
        _check_error(result, path, says, line, toml_line)
        assert result.stdout == "", command
        assert snapshot(tmp_path) == before, command
    assert not (tmp_path / "work" / "out.ics").exists()
    if raw is not None:
        assert path.read_bytes() == raw
    doctor = cli("doctor", "--json")
    assert doctor.exit_code == 4, doctor.output
    assert f"{path}" in doctor.stdout
    for command in (["next"], ["log", "Cy Dee", "--date", "2026-04-14"]):  # nothing else needs the file
        assert cli(*command).exit_code == 0, command
    if raw is not None:
        assert path.read_bytes() == raw
