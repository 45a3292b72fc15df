"""Hand-edited data files that peerloop cannot read: one clear line naming the file and the line, exit 4,
and the file left exactly as the user wrote it, also when the command meant to write."""

from __future__ import annotations

import errno
import os
import re
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from peerloop.errors import DataFileError
from peerloop.store.records import Store
from tests.conftest import Invoke, SetUp
from tests.lived_in import (
    LOCK,
    NOW,
    check_answer,
    check_result,
    populate,
    python_peerloop,
    snapshot,
    subprocess_env,
)

ROSTER = """\
# my roster, edited by hand
schema_version = 1

[settings]
name = "Dana Ode"
timezone = "Europe/Berlin"
weekday = "tue"
time = 08:30:00
duration = 45
mode = "coffee"
trial_start = 2026-03-02
trial_months = 6

[[peers]]
name = "Ann Lee"
added = 2026-03-02

[[peers]]
name = "Bo Chen"
added = 2026-03-02
mode = "lunch"
"""


WRITE_COMMANDS = [
    ["add", "Cy Dee"],
    ["edit", "Ann Lee", "--org", "Acme"],
    ["remove", "Ann Lee", "--yes"],
    ["pause", "Ann Lee", "--until", "2099-01-01"],
    ["resume", "Ann Lee"],
    ["init", "--time", "09:00"],
]


def edited(old: str, new: str, text: str = ROSTER) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def line_of(text: str, fragment: str) -> int:
    """The 1-based line where the whole lines of `fragment` start in `text`."""
    lines, wanted = text.split("\n"), fragment.split("\n")
    for n in range(len(lines)):
        if lines[n : n + len(wanted)] == wanted:
            return n + 1
    raise AssertionError(f"{fragment!r} is not in the text")


def case(name: str, text: str, says: str, line_text: str | None) -> Any:
    """The file text, what the message must say, and the line it must name (None where none can be told)."""
    return pytest.param(text, says, line_of(text, line_text) if line_text is not None else None, id=name)


CASES = [
    case("unterminated-string", edited('name = "Dana Ode"', 'name = "Dana Ode'), "invalid TOML",
         'name = "Dana Ode'),
    case("bare-word", edited('weekday = "tue"', "weekday = tue"), "invalid TOML", "weekday = tue"),
    case("table-twice", edited("[[peers]]\nname = \"Bo", "[settings]\nname = \"Bo"), "invalid TOML",
         '[settings]\nname = "Bo Chen"'),
    case("duration-text", edited("duration = 45", 'duration = "long"'),
         "setting 'duration' must be a whole number", 'duration = "long"'),
    case("duration-float", edited("duration = 45", "duration = 45.5"),
         "setting 'duration' must be a whole number", "duration = 45.5"),
    case("duration-zero", edited("duration = 45", "duration = 0"),
         "setting 'duration' must be between 5 and 1440 minutes", "duration = 0"),
    case("trial-months-zero", edited("trial_months = 6", "trial_months = 0"),
         "setting 'trial_months' must be between 1 and 24", "trial_months = 0"),
    case("trial-months-bool", edited("trial_months = 6", "trial_months = true"),
         "setting 'trial_months' must be a whole number", "trial_months = true"),
    case("time-as-text", edited("time = 08:30:00", 'time = "8:30"'),
         "setting 'time' must be a time like 08:30:00", 'time = "8:30"'),
    case("missing-timezone", edited('timezone = "Europe/Berlin"\n', ""),
         "setting 'timezone' is missing", "[settings]"),
    case("missing-peer-added", edited('name = "Bo Chen"\nadded = 2026-03-02\n', 'name = "Bo Chen"\n'),
         "peer 'Bo Chen' 'added' is missing", '[[peers]]\nname = "Bo Chen"'),
    case("duplicate-peer", edited('name = "Bo Chen"', 'name = "ann LEE"'),
         "peer 'ann LEE' is listed twice (names are unique whatever their case)", 'name = "ann LEE"'),
    case("duplicate-peer-spacing", edited('name = "Bo Chen"', 'name = "  Ann   Lee "'),
         "peer 'Ann Lee' is listed twice", 'name = "  Ann   Lee "'),
    case("unknown-mode", edited('mode = "coffee"', 'mode = "tea"'),
         "setting 'mode' is wrong: 'tea' is not a meeting mode; use one of coffee, lunch, call", 'mode = "tea"'),
    case("unknown-mode-second-peer", edited('mode = "lunch"', 'mode = "tea"'),
         "peer 'Bo Chen' 'mode' is wrong: 'tea' is not a meeting mode", 'mode = "tea"'),
    case("invalid-zone", edited('"Europe/Berlin"', '"Mars/Olympus"'),
         "setting 'timezone' is wrong: 'Mars/Olympus' is not a known IANA time zone", 'timezone = "Mars/Olympus"'),
    case("bad-weekday", edited('weekday = "tue"', 'weekday = "someday"'),
         "setting 'weekday' is wrong: 'someday' is not a weekday", 'weekday = "someday"'),
    case("date-with-time", edited("trial_start = 2026-03-02", "trial_start = 2026-03-02T09:00:00"),
         "setting 'trial_start' must be a date without a time (found `trial_start = 2026-03-02T09:00:00`); fix it: write `trial_start = 2026-03-02` instead",
         "trial_start = 2026-03-02T09:00:00"),
    case("peer-date-with-time", edited('Bo Chen"\nadded = 2026-03-02', 'Bo Chen"\nadded = 2026-03-02 10:00:00Z'),
         "peer 'Bo Chen' 'added' must be a date without a time", "added = 2026-03-02 10:00:00Z"),
    case("pause-as-text", edited('mode = "lunch"', 'mode = "lunch"\npaused_until = "2026-05-01"'),
         "peer 'Bo Chen' 'paused_until' must be a date like 2026-03-17", 'paused_until = "2026-05-01"'),
    case("empty-peer-name", edited('name = "Bo Chen"', 'name = "   "'),
         "peer #2 'name' is wrong: a name cannot be empty", 'name = "   "'),
    case("peer-name-number", edited('name = "Bo Chen"', "name = 7"),
         "peer #2 'name' must be text in quotes", "name = 7"),
    case("bad-peer-email", edited('mode = "lunch"', 'email = "bo at example"'),
         "peer 'Bo Chen' 'email' is wrong: 'bo at example' is not an email address", 'email = "bo at example"'),
    case("settings-as-array", edited("[settings]", "[[settings]]"), "setting must be a table", None),
    case("peers-as-text", edited("schema_version = 1", 'schema_version = 1\npeers = "Ann, Bo"').split("\n[[peers]]")[0],
         "'peers' must be written as [[peers]] tables", None),
    case("newer-schema", edited("schema_version = 1", "schema_version = 99"),
         "was written by a newer peerloop (schema 99); this is peerloop", None),
    case("schema-as-text", edited("schema_version = 1", 'schema_version = "1"'),
         "schema_version must be a whole number such as 2", None),
    case("nul-character", edited('name = "Bo Chen"', 'name = "Bo\x00Chen"'), "invalid TOML", 'name = "Bo\x00Chen"'),
    # peerloop writes U+2028 and U+0085 in notes as they are; they must not throw the line count off.
    case("line-after-unicode-separators",
         edited('name = "Ann Lee"', 'name = "Ann Lee"\nnote = "one\u2028two\x85three"', edited('mode = "lunch"', 'mode = "tea"')),
         "peer 'Bo Chen' 'mode' is wrong", 'mode = "tea"'),
    case("empty-file", "", "is empty; restore it from a backup, or delete it to start afresh", None),
    case("blank-file", "\n  \n\t\n", "is empty", None),
]  # fmt: skip


@pytest.fixture
def roster_path(store: Store) -> Path:
    store.home.mkdir(mode=0o700, parents=True)
    return store.roster_path


def _assert_one_error_line(stderr: str, path: Path, says: str, line: int | None) -> None:
    assert stderr.count("\n") == 1, stderr
    assert stderr.startswith(f"peerloop: error: {path}"), stderr
    assert says in stderr
    if line is not None:
        named = re.match(rf"peerloop: error: {re.escape(str(path))}:? line (\d+)\b", stderr)
        assert named, f"no line number in {stderr!r}"
        assert int(named[1]) == line, stderr


@pytest.mark.parametrize(("text", "says", "line"), CASES)
def test_hand_edit_error_is_one_line_naming_file_and_line_and_keeps_the_file(
    cli: Invoke, roster_path: Path, text: str, says: str, line: int | None
) -> None:
    raw = text.encode("utf-8")
    roster_path.write_bytes(raw)
    result = cli("peers")
    assert result.exit_code == 4, result.output
    assert result.stdout == ""
    _assert_one_error_line(result.stderr, roster_path, says, line)
    for command in WRITE_COMMANDS:
        result = cli(*command)
        assert result.exit_code == 4, (command, result.output)
        _assert_one_error_line(result.stderr, roster_path, says, line)
        assert roster_path.read_bytes() == raw, command
    assert sorted(p.name for p in roster_path.parent.iterdir()) in (["roster.toml"], [LOCK, "roster.toml"])


def test_the_valid_template_is_really_valid(cli: Invoke, roster_path: Path) -> None:
    """Guards the cases above: each fails because of its own edit, not the template."""
    roster_path.write_text(ROSTER, encoding="utf-8")
    result = cli("peers", "--json")
    assert result.exit_code == 0, result.output
    assert "Bo Chen" in result.stdout


def test_binary_garbage_is_a_damaged_file_error(cli: Invoke, roster_path: Path) -> None:
    raw = b'schema_version = 1\n\n[settings]\nname = "\x89PNG\r\n\x1a\n\x00\xff\xfe garbage'
    roster_path.write_bytes(raw)
    for command in (["peers"], *WRITE_COMMANDS):
        result = cli(*command)
        assert result.exit_code == 4
        assert result.stderr == (
            f"peerloop: error: {roster_path} line 4: not UTF-8 text (damaged?); "
            "restore it from a backup or fix it by hand\n"
        )
        assert roster_path.read_bytes() == raw


def test_roster_that_is_a_folder_is_refused_and_left_alone(cli: Invoke, roster_path: Path) -> None:
    roster_path.mkdir()
    (roster_path / "keep.txt").write_text("mine")
    for command in (["peers"], *WRITE_COMMANDS):
        result = cli(*command)
        assert result.exit_code == 4
        assert result.stderr == (
            f"peerloop: error: {roster_path} is a folder, not a file; move it away and try again\n"
        )
    assert [p.name for p in roster_path.iterdir()] == ["keep.txt"]


def test_unreadable_roster_is_a_data_error(
    cli: Invoke, roster_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    roster_path.write_text(ROSTER, encoding="utf-8")
    real_open = os.open

    def refusing_open(path: object, flags: int, *args: object, **kwargs: object) -> int:
        if str(path) == str(roster_path):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", refusing_open)
    for command in (["peers"], *WRITE_COMMANDS):
        result = cli(*command)
        assert result.exit_code == 4
        assert result.stderr == f"peerloop: error: cannot read {roster_path}: Permission denied\n"
    assert roster_path.read_bytes() == ROSTER.encode()


YEAR = """\
schema_version = 1

[[meetings]]
id = "20260303-psve7"
date = 2026-03-03
peer = "Ann Lee"
mode = "coffee"
gains = ["advice"]

[[meetings]]
id = "20260310-vzrq2"
date = 2026-03-10
peer = "Bo Chen"
mode = "call"

[[skips]]
id = "20260317-dvvbh"
date = 2026-03-17
reason = "ill"
"""


JOURNAL_CASES = [
    pytest.param(edited("date = 2026-03-10", "date = 2025-12-30", YEAR), "date = 2025-12-30",
                 "meeting #2 'date' is in 2025, but this file holds 2026; move the entry", id="wrong-year"),
    pytest.param(edited('id = "20260317-dvvbh"', 'id = "20260303-psve7"', YEAR), 'id = "20260303-psve7"\ndate = 2026-03-17',
                 "skip #1 'id' '20260303-psve7' is used twice in this file", id="duplicate-id"),
    pytest.param(edited('["advice"]', '["advice", "money"]', YEAR), 'gains = ["advice", "money"]',
                 "meeting #1 'gains' is wrong: 'money' is not a gain; use one of advice, strength, motivation",
                 id="bad-gain"),
    pytest.param(edited('mode = "call"', 'mode = "walk"', YEAR), 'mode = "walk"',
                 "meeting #2 'mode' is wrong: 'walk' is not a meeting mode", id="bad-mode"),
    pytest.param(edited('reason = "ill"', "reason = 3", YEAR), "reason = 3",
                 "skip #1 'reason' must be text in quotes", id="reason-number"),
    pytest.param(edited('id = "20260310-vzrq2"\n', "", YEAR), '[[meetings]]\ndate = 2026-03-10',
                 "meeting #2 'id' is missing", id="missing-id"),
    pytest.param(edited('["advice"]', '"advice"', YEAR), 'gains = "advice"',
                 "meeting #1 'gains' must be a list", id="gains-not-a-list"),
    pytest.param(YEAR + '\n[[touches]]\nid = "20260305-tchx1"\ndate = 2026-03-05\npeer = 7\n', "peer = 7",
                 "touch #1 'peer' must be text in quotes", id="touch-peer-a-number"),
    pytest.param(edited('gains = ["advice"]\n', 'gains = ["advice"]\n\n[[meetings.replaced]]\nchanged = 2026-03-03T09:00:00Z\n'
                        '\n[[meetings.replaced]]\nchanged = 2026-03-03T09:30:00\n', YEAR),
                 "changed = 2026-03-03T09:30:00", "meeting #1 replaced #2 'changed' must have its offset",
                 id="replaced-without-offset"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "at", "says"), JOURNAL_CASES)
def test_journal_error_names_file_line_and_entry(store: Store, text: str, at: str, says: str) -> None:
    store.journal_dir.mkdir(parents=True)
    store.year_path(2026).write_text(text, encoding="utf-8")
    with pytest.raises(DataFileError) as raised:
        store.load_year(2026)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{store.year_path(2026)} line {line_of(text, at)}: "), message
    assert says in message


def test_a_bad_journal_stops_a_rename_before_anything_is_written(
    cli: Invoke, store: Store, roster_path: Path
) -> None:
    roster_path.write_text(ROSTER, encoding="utf-8")
    store.journal_dir.mkdir()
    broken = edited("[[skips]]", "[[skips]", YEAR)
    store.year_path(2026).write_text(broken, encoding="utf-8")
    result = cli("edit", "Ann Lee", "--name", "Ann Lee-Smith")
    assert result.exit_code == 4
    assert result.stderr.startswith(
        f"peerloop: error: {store.year_path(2026)}: line 16, column 8: invalid TOML"
    )
    assert result.stderr.count("\n") == 1
    assert roster_path.read_text(encoding="utf-8") == ROSTER
    assert store.year_path(2026).read_text(encoding="utf-8") == broken


def test_journal_path_that_is_a_file_is_a_data_error(cli: Invoke, store: Store, roster_path: Path) -> None:
    roster_path.write_text(ROSTER, encoding="utf-8")
    store.journal_dir.write_text("not a folder")
    result = cli("edit", "Ann Lee", "--name", "Ann Lee-Smith")
    assert result.exit_code == 4
    assert result.stderr == (
        f"peerloop: error: {store.journal_dir} is not a folder; move it away and try again\n"
    )
    assert roster_path.read_text(encoding="utf-8") == ROSTER


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
    ["log", "--amend", "20260303-psve7", "--win", "a deal"],
    ["forget", "20260303-psve7", "--yes"],
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


def line_holding(text: str, fragment: str) -> int:
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
            f'\n[[reviews]]\nid = "20260401-q7y5y"\ndate = 2026-04-01\ntrial_start = 2026-03-02\n'
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
           "meeting #2 'mode' is missing", '[[meetings]]\nid = "20260317-dvvbh"'),
    damage("missing-id", lambda t: edit(t, 'id = "20260310-vzrq2"\n', ""),
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
    damage("duplicate-id", lambda t: edit(t, 'id = "20260317-dvvbh"', 'id = "20260303-psve7"'),
           "meeting #2 'id' '20260303-psve7' is used twice in this file", 'id = "20260303-psve7"\ndate = 2026-03-17'),
    damage("entry-in-the-wrong-year", lambda t: edit(t, "date = 2026-03-24", "date = 2025-03-25"),
           "meeting #3 'date' is in 2025, but this file holds 2026; move the entry", "date = 2025-03-25"),
    damage("skips-as-text", lambda t: 'schema_version = 1\nskips = "none"\n',
           "'skips' must be written as [[skips]] tables"),
    damage("meeting-not-a-table", lambda t: "schema_version = 1\nmeetings = [1, 2]\n",
           "meeting #1 must be a table"),
    damage("newer-schema", lambda t: edit(t, "schema_version = 2", "schema_version = 3"),
           "was written by a newer peerloop (schema 3); this is peerloop"),
    damage("schema-as-text", lambda t: edit(t, "schema_version = 2", 'schema_version = "one"'),
           "schema_version must be a whole number"),
    damage("truncated-in-a-string", lambda t: t[: t.index('issue = "') + 12], "invalid TOML", toml_line=True),
    damage("truncated-in-a-header", lambda t: t[: t.index("[[skips]]") + 4], "invalid TOML", toml_line=True),
    damage("truncated-in-a-list", lambda t: t[: t.index('"Eve Fox"')], "invalid TOML", toml_line=True),
    damage("truncated-mid-entry", lambda t: t[: t.index("date = 2026-03-17")],
           "meeting #2 'date' is missing", '[[meetings]]\nid = "20260317-dvvbh"'),
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
    line = line_holding(text, at) if at is not None else None
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
    damage("newer-schema", lambda t: edit(t, "schema_version = 2", "schema_version = 3"),
           "was written by a newer peerloop (schema 3); this is peerloop"),
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
    line = line_holding(text, at) if at is not None else None
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


def test_a_deeply_nested_table_in_the_roster_is_a_damaged_file_and_nothing_is_written(
    cli: Invoke, set_up: SetUp, home: Path
) -> None:
    set_up("Ann Lee")
    roster = home / "roster.toml"
    roster.write_text(roster.read_text(encoding="utf-8") + "deep = " + "[" * 2000 + "]" * 2000 + "\n")
    before = snapshot(home)
    for argv in (["add", "Bo Chen"], ["peers"], ["doctor"]):
        result = cli(*argv)
        check_result(result, argv)
        assert result.exit_code == 4, (argv, result.stderr)
    assert snapshot(home) == before


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["fifo", "folder", "link"])
def test_a_data_file_that_is_a_pipe_a_folder_or_a_link_is_refused_without_hanging(
    tmp_path: Path, kind: str
) -> None:
    home = tmp_path / "home"
    populate(home)
    year = home / "journal" / "2026.toml"
    outside = tmp_path / "outside.toml"
    original = year.read_bytes()
    outside.write_bytes(original)
    os.chmod(outside, 0o644)
    year.unlink()
    {"fifo": lambda: os.mkfifo(year), "folder": year.mkdir, "link": lambda: year.symlink_to(outside)}[kind]()
    env = subprocess_env(home, {"PEERLOOP_NOW": NOW})
    for argv in (["status"], ["log", "Bo Chen", "--date", "2026-04-14"], ["history"], ["doctor", "--fix"]):
        done = subprocess.run(python_peerloop(*argv), env=env, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=30, check=False)  # fmt: skip
        check_answer(argv, done.returncode, done.stdout, done.stderr)
        assert done.returncode == 4, (argv, done.stdout, done.stderr)
        assert str(year) in done.stdout + done.stderr
    assert stat.S_IMODE(outside.stat().st_mode) == 0o644, "doctor --fix changed a file outside the folder"
    assert outside.read_bytes() == original, "a file outside the folder was changed"
