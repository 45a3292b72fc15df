"""Hand-edited data files that peerloop cannot read: one clear line naming the file and the line, exit 4,
and the file left exactly as the user wrote it, also when the command meant to write."""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path
from typing import Any

import pytest

from peerloop.errors import DataFileError
from peerloop.session import Store
from tests.conftest import Invoke

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
         "was written by a newer peerloop (schema 99; this one reads up to 1); upgrade peerloop to use it", None),
    case("schema-as-text", edited("schema_version = 1", 'schema_version = "1"'),
         "schema_version must be a whole number such as 1", None),
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
    assert sorted(p.name for p in roster_path.parent.iterdir()) in (["roster.toml"], [".lock", "roster.toml"])


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


# --- the journal -------------------------------------------------------------------------------------------

YEAR = """\
schema_version = 1

[[meetings]]
id = "20260303-1"
date = 2026-03-03
peer = "Ann Lee"
mode = "coffee"
gains = ["advice"]

[[meetings]]
id = "20260310-1"
date = 2026-03-10
peer = "Bo Chen"
mode = "call"

[[skips]]
id = "20260317-1"
date = 2026-03-17
reason = "ill"
"""

JOURNAL_CASES = [
    pytest.param(edited("date = 2026-03-10", "date = 2025-12-30", YEAR), "date = 2025-12-30",
                 "meeting #2 'date' is in 2025, but this file holds 2026; move the entry", id="wrong-year"),
    pytest.param(edited('id = "20260317-1"', 'id = "20260303-1"', YEAR), 'id = "20260303-1"\ndate = 2026-03-17',
                 "skip #1 'id' '20260303-1' is used twice in this file", id="duplicate-id"),
    pytest.param(edited('["advice"]', '["advice", "money"]', YEAR), 'gains = ["advice", "money"]',
                 "meeting #1 'gains' is wrong: 'money' is not a gain; use one of advice, strength, motivation",
                 id="bad-gain"),
    pytest.param(edited('mode = "call"', 'mode = "walk"', YEAR), 'mode = "walk"',
                 "meeting #2 'mode' is wrong: 'walk' is not a meeting mode", id="bad-mode"),
    pytest.param(edited('reason = "ill"', "reason = 3", YEAR), "reason = 3",
                 "skip #1 'reason' must be text in quotes", id="reason-number"),
    pytest.param(edited('id = "20260310-1"\n', "", YEAR), '[[meetings]]\ndate = 2026-03-10',
                 "meeting #2 'id' is missing", id="missing-id"),
    pytest.param(edited('["advice"]', '"advice"', YEAR), 'gains = "advice"',
                 "meeting #1 'gains' must be a list", id="gains-not-a-list"),
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
