"""Names and notes that hold markup, terminal escape sequences or control characters are shown literally
and harmlessly in every table and message, and stay intact in JSON and valid in calendar files."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar

from tests.calendars import check_file
from tests.conftest import Invoke, SetUp
from tests.lived_in import (
    NOW,
    check_result,
    no_raw_control,
    populate,
)

# A terminal obeys these: colour (CSI), a window title (OSC ... BEL), backspace, delete, a C1 CSI, a bell,
# carriage return; and the bidi override that reverses what follows. Rich-style markup must stay text.
EVIL = "[bold]loud[/] [red]x[/red] \x1b[31mred\x1b[0m \x1b]0;owned\x07 a\x08b \x7f \x9b2J \x07 one\rtwo \u202eevil\u202c"


# Names cannot hold control characters (they are refused), but markup and format characters they can.
NAME = "[bold]Eve[/] \u202eFox\u202c"


ORG = f"Acme {EVIL}"


OBEYED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


"""What must never reach the terminal raw (tab and newline aside)."""


@pytest.fixture
def evil(cli: Invoke, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The lived-in folder plus a peer whose name, organisation, note and whole log are hostile text."""
    populate(home)
    monkeypatch.setenv("PEERLOOP_NOW", NOW)
    monkeypatch.chdir(tmp_path)
    steps = [
        ["add", NAME, "--org", ORG, "--note", EVIL, "--email", "eve@example.com"],
        ["log", NAME, "--date", "2026-04-14", "--issue", EVIL, "--gain", "advice", "--win", EVIL, "--works", EVIL,
         "--improve", EVIL, "--follow-up", EVIL, "--note", EVIL],
        ["log", "--skip", "--date", "2026-04-07", "--reason", EVIL],
        ["reflect", "--name", NAME, "--why", EVIL, "--excuse", EVIL, "--ceo", EVIL],
    ]  # fmt: skip
    for step in steps:
        result = cli(*step)
        assert result.exit_code == 0, (step, result.output)
        assert not OBEYED.search(result.stdout + result.stderr), (step, result.output)
    return home


SHOWN = [
    ["peers"], ["next"], ["plan", "--weeks", "6"], ["history"], ["history", NAME], ["status"],
    ["review", "--early", "--added-value", "yes", "--decision", "continue", "--works", EVIL, "--improve", EVIL,
     "--report", "review.md"],
    ["doctor"], ["export", "-o", "out.ics"], ["invite", NAME, "-o", "invite.ics"],
    ["edit", NAME, "--org", EVIL], ["pause", NAME, "--until", "2026-12-01"], ["resume", NAME],
]  # fmt: skip


@pytest.mark.usefixtures("evil")
@pytest.mark.parametrize("argv", SHOWN, ids=lambda argv: argv[0])
def test_hostile_text_is_shown_literally_and_harmlessly(
    cli: Invoke, argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # wide enough that a table keeps the text on one line, to find it
    result = cli(*argv)
    assert result.exit_code in (0, 3, 10), result.output  # 3: `resume` says the peer is not paused
    shown = result.stdout + result.stderr
    assert not OBEYED.search(shown), shown
    if argv[0] in ("peers", "history", "review"):
        assert "[bold]Eve[/]" in shown  # markup is text, never styling
        assert "\\u202eFox" in shown  # the override is shown as what it is
    if argv[0] in ("history", "review"):
        assert "[bold]loud[/] [red]x[/red] \\x1b[31mred\\x1b[0m \\x1b]0;owned\\x07" in shown


@pytest.mark.usefixtures("evil")
def test_the_review_report_holds_no_control_character(cli: Invoke, tmp_path: Path) -> None:
    args = [
        "review",
        "--early",
        "--added-value",
        "yes",
        "--decision",
        "stop",
        "--works",
        EVIL,
        "--report",
        "r.md",
    ]
    result = cli(*args)
    assert result.exit_code == 0, result.output
    report = (tmp_path / "r.md").read_text(encoding="utf-8")
    assert not OBEYED.search(report), report
    assert "loud" in report


@pytest.mark.usefixtures("evil")
@pytest.mark.parametrize(
    "argv",
    [
        ["log", "\u202eNobody[/]"],
        ["history", "[bold]Nobody\u202e"],
        ["invite", "\u202eNobody"],
        ["edit", NAME, "--email", "\x1b[31m@x.y"],
        ["add", NAME],
        ["add", "a\x1b[2Jb"],
        ["add", "Zed", "--mode", "\x1b]0;owned\x07"],
        ["log", "--date", "\x1b[31m2026"],
        ["log", "--amend", "\x9b2J", "--win", "x"],
        ["forget", "\x1b[2J", "--yes"],
        ["plan", "--weeks", "\x1b[2J"],
        ["plan", "--from", "\x07"],
        ["review", "--added-value", "\x1b[31m", "--decision", "stop"],
        ["status", "--\x1b[31m"],
        ["\x1b]0;owned\x07"],
        ["--home", "\x1b[31m", "add"],
    ],
    ids=lambda argv: " ".join(argv).encode("unicode_escape").decode(),
)
def test_hostile_text_in_an_error_message_is_one_harmless_line(
    cli: Invoke, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    result = cli(*argv)
    assert result.exit_code in (2, 3), result.output
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("peerloop: error: "), result.stderr
    assert not OBEYED.search(result.stderr), result.stderr


def _all_strings(data: Any) -> list[str]:
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [text for value in data.values() for text in _all_strings(value)]
    if isinstance(data, list):
        return [text for value in data for text in _all_strings(value)]
    return []


@pytest.mark.usefixtures("evil")
@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["peers", "--json"], [NAME, ORG, EVIL]),
        (["history", "--json"], [NAME, EVIL]),
        (["history", NAME, "--json"], [NAME, EVIL]),
        (["status", "--json"], [EVIL]),
        (["plan", "--weeks", "6", "--json"], [NAME]),
        (["review", "--json", "--early"], [NAME, EVIL]),
    ],
    ids=lambda value: value[0] if isinstance(value, list) and isinstance(value[0], str) else "",
)
def test_hostile_text_comes_back_exactly_from_json(cli: Invoke, argv: list[str], expected: list[str]) -> None:
    result = cli(*argv)
    assert result.exit_code == 0, result.output
    assert not OBEYED.search(result.stdout), "JSON escapes control characters"
    strings = _all_strings(json.loads(result.stdout))
    for text in expected:
        assert text in strings, (text, argv)


@pytest.mark.usefixtures("evil")
def test_hostile_names_make_calendar_files_that_parse_back(cli: Invoke, tmp_path: Path) -> None:
    for argv in (["export", "-o", "out.ics"], ["invite", NAME, "-o", "invite.ics"]):
        assert cli(*argv).exit_code == 0, argv
    stdout = cli("export", "--weeks", "8", "-o", "-").stdout_bytes
    for data in ((tmp_path / "out.ics").read_bytes(), (tmp_path / "invite.ics").read_bytes(), stdout):
        assert not re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", data)
        events = check_file(data)
        summaries = [str(event.get("SUMMARY")) for event in Calendar.from_ical(data).walk("VEVENT")]
        assert len(summaries) == len(events)
        assert any("[bold]Eve[/]" in summary for summary in summaries), summaries
        for summary in summaries:
            assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", summary), (
                summary
            )  # the name's own text stays


def test_an_entry_id_holding_terminal_escapes_is_printed_inertly(
    cli: Invoke, set_up: SetUp, home: Path
) -> None:
    set_up("Ann Lee", now="2026-04-15T09:00")
    assert cli("log", "Ann Lee", "--date", "2026-04-14").exit_code == 0
    year = home / "journal" / "2026.toml"
    year.write_text(year.read_text(encoding="utf-8").replace('"20260414-mdh3w"', '"\\u001b]0;pwned\\u0007x"'))
    result = cli("history")
    check_result(result, ["history"])
    assert no_raw_control(result.stdout + result.stderr), repr(result.stdout)
