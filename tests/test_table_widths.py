"""Tables and the lines around them never cut a word: at 40, 60, 80 and 120 columns every token of a command's
`--json` (dates, time ranges, handles, e-mails, the words of names and notes, modes) appears whole in its
text, and no line is wider than the terminal. Optional columns leave in the documented order and a last line
says so; `--wide` keeps them; below the width of the others a row is a stacked block; `status` wraps with a
hanging indent."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from peerloop import prompts
from peerloop.cli import app_for
from peerloop.output import text
from peerloop.output.tables import Column, layout
from tests.conftest import Invoke
from tests.lived_in import DEVICE

WIDTHS = (40, 60, 80, 120)
NOW = "2027-01-20T09:00"
"""Wednesday of week 4: this week's meeting (Tuesday) is overdue."""
ZONE = "America/Argentina/Buenos_Aires"
LONG = "Bartholomew Montgomery-Featherstone"
HYPHENS = "Anne-Marie de la Fontaine-Beaumont"
ZOE = "Zoë Müller-Łukasz"
PEERS = (LONG, HYPHENS, ZOE, "Cy Dee")
EMAIL = "b.montgomery-featherstone@example.com"
"""37 characters: a word that fits a 40-column line only on a line of its own."""
ORG = "Consolidated Widgets and Sprockets International"
ISSUE = "how to hire a head of engineering without losing the team's trust in the process"
STEPS: list[list[str]] = [
    ["init", "--name", "Dana Ode", "--email", "dana@example.com", "--timezone", ZONE, "--day", "tue",
     "--time", "08:30", "--start", "2026-12-28", *(word for name in PEERS for word in ("--peer", name))],
    ["edit", LONG, "--email", EMAIL, "--org", ORG, "--mode", "lunch"],
    ["edit", HYPHENS, "--email", "anne-marie.fontaine@hopital.example.fr", "--org", "Hôpital Saint-Louis"],
    ["edit", ZOE, "--email", "zoe@example.com", "--mode", "call"],
    ["log", LONG, "--date", "2026-12-29", "--issue", ISSUE, "--gain", "advice", "--win",
     "closed the series A round with the board's blessing", "--works", "meeting away from the office",
     "--improve", "bring one concrete question", "--note", "asked about 2027-03-14 (a Sunday)",
     "--follow-up", "send the deck to Bartholomew before the quarterly planning offsite",
     "--follow-up", "intro to Cy"],
    ["log", "--skip", "--date", "2027-01-05", "--reason", "travelling to the conference in Lisbon all week"],
    ["log", HYPHENS, "--date", "2027-01-12", "--mode", "call", "--issue", "a board member who never reads "
     "the papers", "--follow-up", "find a mentor for the new head of sales"],
    ["log", ZOE, "--touch", "--date", "2027-01-15", "--note", "called about the reorganisation in Kraków"],
    ["reflect", "--purpose", "advice from people who have run a company through a downturn", "--name",
     "Eve Fox", "--name", "Gil Ho-Nakamura", "--why", "everyone I know is busy", "--excuse",
     "no time this quarter", "--ceo", "She would say it is part of the job"],
    ["pause", "Cy Dee", "--until", "2027-03-01"],
    ["connect", "caldav", "https://dav.example.com/dana/peers/", "--user", "dana@example.com",
     "--password-env", "CALDAV_PASSWORD", "--no-check"],
    ["connect", "sendmail", "/usr/sbin/sendmail -t -i"],
]  # fmt: skip
REVIEW = ["review", "--early", "--added-value", "partly", "--works", "the Tuesday lunches with Anne-Marie",
          "--improve", "fewer cancellations in conference season", "--decision", "continue", "--json"]  # fmt: skip


def run(home: Path, args: list[str], columns: int = 120) -> Result:
    """One command against `home`, `columns` wide, the clock at NOW, no terminal to ask on."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PEERLOOP_HOME", str(home))
        patch.setenv("PEERLOOP_NOW", NOW)
        patch.setenv("PEERLOOP_DEVICE", DEVICE)
        patch.setenv("COLUMNS", str(columns))
        patch.setenv("CALDAV_PASSWORD", "not-used")
        patch.setattr(prompts, "interactive", lambda: False)
        result = CliRunner().invoke(app_for(args), args)
    assert result.exit_code in (0, 10), (args, result.output)
    return result


@pytest.fixture(scope="module")
def lived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, str]]:
    """A home with long names, e-mails and organisations and a month of entries; a copy of it that was
    reviewed (for `review --show`); and the review's id."""
    home = tmp_path_factory.mktemp("tables") / "home"
    for step in STEPS:
        run(home, step)
    reviewed = Path(shutil.copytree(home, home.with_name("reviewed")))
    run(reviewed, REVIEW)
    review_id = json.loads(run(reviewed, ["history", "--kind", "review", "--json"]).stdout)[0]["id"]
    return home, reviewed, review_id


def words(*values: object) -> set[str]:
    """The tokens of JSON values: each string's words (lists and objects, recursively), dates and numbers."""
    found: set[str] = set()
    for value in values:
        if isinstance(value, str):
            found.update(value.split())
        elif isinstance(value, list):
            found |= words(*value)
        elif isinstance(value, dict):
            found |= words(*value.values())
        elif isinstance(value, int) and not isinstance(value, bool):
            found.add(str(value))
    return found


def assert_whole(tokens: set[str], shown: str, columns: int) -> None:
    """Every token is inside one word of the text (none cut across lines), and no line is too wide."""
    assert tokens
    said = shown.split()
    cut = sorted(token for token in tokens if not any(token in word for word in said))
    assert not cut, f"cut or missing at {columns} columns: {cut}\n{shown}"
    wide = [line for line in shown.splitlines() if text.width(line) > columns]
    assert not wide, f"wider than {columns} columns: {wide}"


def left_out(stderr: str) -> list[str]:
    """The columns the last line says were left out."""
    found = re.search(r"Left out to fit \d+ columns: (.+?) \(", " ".join(stderr.split()))
    return found.group(1).split(", ") if found else []


PEER_FIELDS = {"Email": "email", "Org": "org", "Mode": "mode", "Last touch": "last_touch"}


@pytest.mark.parametrize("columns", WIDTHS)
@pytest.mark.parametrize("wide", [False, True], ids=["fitted", "wide"])
def test_peers_never_cut_a_name_an_email_or_a_date(lived: Any, columns: int, wide: bool) -> None:
    home = lived[0]
    result = run(home, ["peers", *(["--wide"] if wide else [])], columns)
    gone = left_out(result.stderr)
    assert not (wide and gone)
    kept = {"name", "email", "org", "mode", "last_met", "last_touch", "next_turn", "paused_until"}
    kept -= {PEER_FIELDS[header] for header in gone}
    rows = json.loads(run(home, ["peers", "--json"]).stdout)
    assert_whole(
        words(*({k: v for k, v in row.items() if k in kept} for row in rows)), result.stdout, columns
    )


@pytest.mark.parametrize("columns", WIDTHS)
@pytest.mark.parametrize("wide", [False, True], ids=["fitted", "wide"])
def test_plan_never_cuts_a_date_a_time_range_or_a_name(lived: Any, columns: int, wide: bool) -> None:
    home = lived[0]
    result = run(home, ["plan", "--weeks", "6", *(["--wide"] if wide else [])], columns)
    gone = left_out(result.stderr)
    assert gone in ([], ["Mode"])
    assert not (wide and gone)
    slots = json.loads(run(home, ["plan", "--weeks", "6", "--json"]).stdout)
    tokens = words(*({key: slot[key] for key in ("date", "peer", "note")} for slot in slots))
    tokens |= {f"{slot['start'][11:16]}-{slot['end'][11:16]}" for slot in slots} | {f"({ZONE})"}
    tokens |= set() if gone else {slot["mode"] for slot in slots}
    assert_whole(tokens, result.stdout, columns)


@pytest.mark.parametrize("columns", WIDTHS)
def test_history_never_cuts_a_handle_or_a_word_of_the_journal(lived: Any, columns: int) -> None:
    home = lived[0]
    result = run(home, ["history", "--all"], columns)
    assert not left_out(result.stderr)
    entries = json.loads(run(home, ["history", "--all", "--json"]).stdout)
    shown = [{k: v for k, v in entry.items() if k not in ("kind", "trial_start")} for entry in entries]
    tokens = words(*shown)
    assert "20261229-d9km0.1" in tokens
    assert EMAIL not in tokens
    assert_whole(tokens, result.stdout, columns)


@pytest.mark.parametrize("columns", WIDTHS)
def test_the_review_and_its_table_never_cut_a_word(lived: Any, columns: int) -> None:
    _, reviewed, review_id = lived
    result = run(reviewed, ["review", "--show", review_id], columns)
    found = json.loads(run(reviewed, ["review", "--show", review_id, "--json"]).stdout)
    listed = ("wins", "follow_ups", "works", "improve", "skip_reasons", "excuses", "purpose", "peers")
    tokens = words(*(found[key] for key in listed), found["review"]["works"], found["review"]["improve"])
    assert_whole(tokens, result.stdout, columns)


@pytest.mark.parametrize("columns", WIDTHS)
def test_status_and_next_never_cut_a_word(lived: Any, columns: int) -> None:
    home = lived[0]
    status = json.loads(run(home, ["status", "--json"]).stdout)
    tokens = words(
        status["strip"],
        status["review"]["date"],
        *({k: skip[k] for k in ("date", "reason")} for skip in status["skips"]),
    )
    slot = status["next"]
    tokens |= words(slot["date"], slot["peer"], slot["mode"], f"{slot['start'][11:16]}-{slot['end'][11:16]}")
    assert_whole(tokens, run(home, ["status"], columns).stdout, columns)
    coming = json.loads(run(home, ["next", "--json"]).stdout)
    tokens = words(coming["date"], coming["peer"], coming["last_issue"], coming["follow_ups"])
    assert_whole(tokens, run(home, ["next"], columns).stdout, columns)


@pytest.mark.parametrize("columns", WIDTHS)
def test_connections_never_cut_an_address(lived: Any, columns: int) -> None:
    home = lived[0]
    rows = json.loads(run(home, ["connect", "--json"]).stdout)
    assert_whole(words(rows), run(home, ["connect"], columns).stdout, columns)


@pytest.mark.parametrize("columns", WIDTHS)
def test_the_first_weeks_init_shows_never_cut_a_word(
    cli: Invoke, at: Any, monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    at("2026-12-28T09:00")
    monkeypatch.setenv("COLUMNS", str(columns))
    result = cli(*STEPS[0])
    assert result.exit_code == 0, result.output
    slots = json.loads(cli("plan", "--weeks", "5", "--json").stdout)
    tokens = words(*({"date": slot["date"], "peer": slot["peer"]} for slot in slots))
    shown = result.stdout.split("The coming weeks")[1]
    assert_whole(tokens | {f"({ZONE})"}, shown, columns)
    if left_out(result.stderr):
        assert "`peerloop plan --wide` shows every column" in " ".join(result.stderr.split())


def test_optional_columns_leave_in_the_documented_order_and_a_last_line_says_so(lived: Any) -> None:
    home = lived[0]
    at = {columns: run(home, ["peers"], columns) for columns in (200, 120, 110, 100, 80)}
    assert [left_out(result.stderr) for result in at.values()] == [
        [],
        ["Email"],
        ["Email", "Org"],
        ["Email", "Org", "Mode"],
        ["Email", "Org", "Mode", "Last touch"],
    ]
    assert at[80].stderr == (
        "Left out to fit 80 columns: Email, Org, Mode, Last touch (`--wide` shows every\n"
        "  column, `--json` everything).\n"
    )
    assert at[110].stdout.splitlines()[0].split() == ["Name", "Mode", "Status", "Last", "met", "Meetings",
                                                      "Last", "touch", "Next", "turn"]  # fmt: skip
    assert at[200].stdout.splitlines()[0].split()[:4] == ["Name", "Org", "Mode", "Email"]


def test_wide_keeps_every_column_and_says_nothing_was_left_out(lived: Any) -> None:
    home = lived[0]
    result = run(home, ["peers", "--wide"], 120)
    assert result.stderr == ""
    assert "Email:" in result.stdout
    assert f"Email:      {EMAIL}\n" in result.stdout
    narrow = run(home, ["peers", "--wide"], 40)
    assert narrow.stderr == ""
    assert f"Email:\n  {EMAIL}\n" in narrow.stdout
    assert ORG in run(home, ["peers", "--wide"], 220).stdout


def test_below_the_width_of_the_columns_a_row_is_a_stacked_block(lived: Any) -> None:
    result = run(lived[0], ["peers"], 40)
    blocks = result.stdout.split("\n\n")
    assert len(blocks) == len(PEERS)
    assert blocks[0] == (
        "Name:      Bartholomew\n"
        "           Montgomery-Featherstone\n"
        "Status:    active\n"
        "Last met:  2026-12-29\n"
        "Meetings:  1\n"
        "Next turn: 2027-01-19"
    )
    assert blocks[3].splitlines()[1] == "Status:    paused until 2027-03-01"


def test_a_stacked_value_of_several_lines_wraps_under_itself() -> None:
    laid = layout(
        [Column("Peer"), Column("Details", wraps=True)],
        [(HYPHENS, "Pressing issue: hiring\n[ ] 20270105-1.1 send the deck")],
        30,
    )
    assert laid.lines == [
        "Peer:    Anne-Marie de la",
        "         Fontaine-Beaumont",
        "Details: Pressing issue:",
        "           hiring",
        "         [ ] 20270105-1.1 send",
        "           the deck",
    ]


def test_a_table_wraps_free_text_before_it_leaves_out_a_column() -> None:
    columns = [Column("Name"), Column("Mode", leaves=1), Column("Note", wraps=True)]
    rows = [("Ann Lee", "coffee", "a long note that wraps at spaces, never inside a word")]
    laid = layout(columns, rows, 40)
    assert laid.left_out == []
    assert laid.lines == [
        "Name     Mode    Note",
        "Ann Lee  coffee  a long note that wraps",
        "                 at spaces, never inside",
        "                 a word",
    ]
    assert layout(columns, rows, 22).left_out == ["Mode"]


def test_status_lines_wrap_at_spaces_under_their_value(lived: Any) -> None:
    lines = run(lived[0], ["status"], 40).stdout.splitlines()
    skips = lines.index(next(line for line in lines if line.startswith("Skips")))
    assert lines[skips : skips + 3] == [
        "Skips     Tue 2027-01-05: travelling to",
        "          the conference in Lisbon all",
        "          week",
    ]
    assert lines[0:2] == ["Trial week 4 of 26 (Mon 2026-12-28 to", "  Sun 2027-06-27)"]
    assert "  ● kept  ○ skipped  ◌ this week, open" in lines
    assert "  · to come" in lines


def test_a_wrapped_colour_is_closed_at_the_end_of_a_line_and_opened_after_the_indent() -> None:
    line = "Next      " + "\x1b[33mdue since Mon 2027-06-28: run `peerloop review`\x1b[0m"
    assert text.wrap(line, 30, 10) == [
        "Next      \x1b[33mdue since Mon\x1b[0m",
        "          \x1b[33m2027-06-28: run\x1b[0m",
        "          \x1b[33m`peerloop review`\x1b[0m",
    ]


def test_a_word_wider_than_the_line_stays_whole_on_a_line_of_its_own() -> None:
    assert text.wrap(f"Email: {EMAIL} (work)", 20, 2) == ["Email:", EMAIL, "  (work)"]
