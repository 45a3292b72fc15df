"""The parsed copies of big files (`.roster.toml.cache`, `journal/.YYYY.toml.cache`) attacked from outside:
real `python -m peerloop` processes, killed mid-change, copies planted with values TOML cannot hold, copies
left behind, and the same output whether a copy is fresh, stale or missing."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import subprocess
import tomllib
from pathlib import Path

import pytest

from peerloop import tomlcache
from peerloop.journalschema import year_text
from peerloop.models import FollowUp, Gain, JournalYear, Meeting, Mode
from tests.conftest import Invoke
from tests.hardening import check_answer, python_peerloop, subprocess_env

NOW = "2026-06-01T09:00"
SECRET = "the merger nobody may know about"


def set_up(cli: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERLOOP_NOW", NOW)
    result = cli("init", "--name", "Dana Ode", "--timezone", "UTC", "--day", "tue", "--time", "08:30",
                 "--start", "2026-01-06", "--peer", "A", "--peer", "B")  # fmt: skip
    assert result.exit_code == 0, result.output


def write_year(home: Path, year: int, count: int = 400, secret: str | None = None) -> Path:
    """A journal year well over 32 KB (meetings with A and B); with `secret`, one more meeting that holds it."""
    start = dt.date(year, 1, 1)
    found = [
        Meeting(id=f"{start + dt.timedelta(days=n % 140):%Y%m%d}-{n // 140 + 1}",
                date=start + dt.timedelta(days=n % 140), peer="AB"[n % 2], mode=Mode.COFFEE, issue="Hiring",
                gains=(Gain.ADVICE,), note=f"ordinary #{n}", follow_ups=(FollowUp("send the deck", n % 2 == 0, 1),))
        for n in range(count)
    ]  # fmt: skip
    if secret is not None:
        found.append(
            Meeting(id=f"{year}0301-9", date=dt.date(year, 3, 1), peer="B", mode=Mode.CALL, note=secret)
        )
    path = home / "journal" / f"{year}.toml"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_text(year_text(JournalYear(year=year, meetings=tuple(found))), encoding="utf-8")
    path.chmod(0o600)
    assert count < 100 or path.stat().st_size > tomlcache.MIN_BYTES
    return path


def run(home: Path, *args: str, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = subprocess_env(home, {"PEERLOOP_NOW": NOW, **(extra or {})})
    return subprocess.run(python_peerloop(*args), env=env, capture_output=True, text=True, check=False)


def files_holding(home: Path, needle: str) -> list[str]:
    return sorted(
        str(p.relative_to(home)) for p in home.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()
    )


# --- a change killed after its commit ------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "fault"),
    [("forget", "record"), ("forget", "rename"), ("forget", "done"), ("amend", "done")],
)
def test_a_change_killed_after_its_commit_leaves_no_copy_of_the_removed_note(
    home: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch, command: str, fault: str
) -> None:
    """`forget` (or `log --amend`) SIGKILLed after its commit record is written: whoever finishes the change
    (here `doctor --fix`) also removes the year's parsed copy, made from the text before the change, though
    nothing reads that year again (2024)."""
    set_up(cli, monkeypatch)
    path = write_year(home, 2024, secret=SECRET)
    assert run(home, "history", "--since", "2024-01-01").returncode == 0
    assert files_holding(home, SECRET) == ["journal/.2024.toml.cache", "journal/2024.toml"]
    args = ["forget", "20240301-9", "--yes"] if command == "forget" else ["log", "--amend", "20240301-9",
                                                                           "--note", "nothing to see"]  # fmt: skip
    killed = run(home, *args, extra={"_PEERLOOP_FAULT": fault})
    assert killed.returncode == -9, killed.stderr
    steps = [["doctor", "--fix"], ["doctor"]]
    if command == "forget":  # (an amend backdates B's `added`, so `status` reads 2024 and replaces the copy)
        steps += [["status"], ["log", "A", "--date", "2026-05-26"]]
    for after in steps:
        answer = run(home, *after)
        check_answer(after, answer.returncode, answer.stdout, answer.stderr)
    assert SECRET not in path.read_text(encoding="utf-8"), "the change was committed (and finished)"
    assert files_holding(home, SECRET) == [], "the removed note lives on in a parsed copy"


# --- copies planted with values TOML cannot hold ---------------------------------------------------------------


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


PLANTS = {
    "unpaired surrogate in a note": lambda m: m.update(note="\ud800 hi"),
    "unpaired surrogate in a key": lambda m: m.update({"x\udc80": "v"}),
    "time with a UTC offset": lambda m: m.update(at={"\u0000toml": "time", "iso": "08:30:00+05:00"}),
    "offset with seconds": lambda m: m.update(at={"\u0000toml": "datetime", "iso": "2026-03-03T08:30:00+05:30:15"}),
    "nested 40 deep": lambda m: m.update(deep=_nested(40)),
    "nested 400 deep": lambda m: m.update(deep=_nested(400)),
}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("plant", list(PLANTS))
def test_a_planted_copy_holding_what_toml_cannot_hold_never_crashes_a_write_nor_reaches_the_file(
    home: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch, plant: str
) -> None:
    """A copy with the right digest but a value no TOML text can give (a lone surrogate, an offset time, an
    offset with seconds, nesting deeper than the parser's 32) is dropped and the file read: no command
    crashes, and what the next write writes, every command reads again."""
    set_up(cli, monkeypatch)
    path = write_year(home, 2026)
    assert run(home, "history").returncode == 0
    copy = tomlcache.cache_path(path)
    document = json.loads(copy.read_text(encoding="utf-8"))
    PLANTS[plant](document["data"]["meetings"][0])
    copy.write_text(json.dumps(document), encoding="utf-8")
    for args in (
        ["history", "--json"],
        ["peers"],
        ["doctor"],
        ["log", "A", "--date", "2026-05-26", "--note", "x"],
    ):
        answer = run(home, *args)
        check_answer(args, answer.returncode, answer.stdout, answer.stderr)
    tomllib.loads(path.read_text(encoding="utf-8"))  # what peerloop wrote, peerloop can read
    answer = run(home, "history", "--json")
    assert answer.returncode == 0, answer.stderr


def test_a_planted_roster_copy_with_an_unpaired_surrogate_never_crashes_the_next_change(
    home: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same for `.roster.toml.cache`: `add` neither crashes nor writes the planted value."""
    monkeypatch.setenv("PEERLOOP_NOW", NOW)
    names = [f"--peer=Peer {n:03d} of a rather long name" for n in range(900)]
    assert cli("init", "--name", "Dana Ode", "--timezone", "UTC", "--day", "tue", "--time", "08:30",
               *names).exit_code == 0  # fmt: skip
    assert cli("peers", "--json").exit_code == 0
    copy = home / ".roster.toml.cache"
    document = json.loads(copy.read_text(encoding="utf-8"))
    document["data"]["peers"][0]["org"] = "Acme \udfff"
    copy.write_text(json.dumps(document), encoding="utf-8")
    answer = cli("add", "Zed")
    assert "This is a bug" not in answer.output, answer.output
    assert answer.exit_code in (0, 4), answer.output
    tomllib.loads((home / "roster.toml").read_text(encoding="utf-8"))


@pytest.mark.slow
def test_a_planted_copy_with_an_integer_too_long_for_python_is_ignored_and_replaced(
    home: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_up(cli, monkeypatch)
    path = write_year(home, 2026)
    expected = run(home, "history", "--json")
    copy = tomlcache.cache_path(path)
    good = copy.read_bytes()
    planted = good.replace(b'"n":1', b'"n":' + b"9" * 5000, 1)
    assert planted != good
    copy.write_bytes(planted)
    answer = run(home, "history", "--json")
    check_answer("history", answer.returncode, answer.stdout, answer.stderr)
    assert answer.stdout == expected.stdout
    assert copy.read_bytes() == good


# --- strange files the copy sits beside ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "edit",
    [
        ('mode = "coffee"', 'mode = "coffee"\nbig = ' + "9" * 5000),  # an integer of 5000 digits
        ("date = 2026-01-01", 'date = "' + "9" * 5000 + '"'),  # a quoted one where a date belongs
    ],
    ids=["huge integer", "quoted huge integer as a date"],
)
def test_a_journal_with_an_integer_of_thousands_of_digits_is_refused_in_one_line(
    home: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch, edit: tuple[str, str]
) -> None:
    """tomllib raises a plain ValueError for an integer past Python's 4,300-digit limit, not its parse error:
    every command still names the file in one line (exit 4), never "This is a bug"."""
    set_up(cli, monkeypatch)
    path = write_year(home, 2026, count=3)
    text = path.read_text(encoding="utf-8")
    assert edit[0] in text
    path.write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    for args in (["history"], ["doctor"]):
        answer = cli(*args)
        assert "This is a bug" not in answer.output, answer.output
        assert "2026.toml" in answer.output, answer.output
        assert answer.exit_code == 4, answer.output


def test_a_copy_whose_year_was_deleted_is_removed_by_doctor_fix(
    home: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user deletes a year (or moves it to an archive): its hidden copy, now the only copy of what that
    year said, is reported by `doctor` and deleted by `doctor --fix`."""
    set_up(cli, monkeypatch)
    path = write_year(home, 2024, secret=SECRET)
    assert cli("history", "--since", "2024-01-01").exit_code == 0
    assert tomlcache.cache_path(path).exists()
    path.unlink()
    assert "is a parsed copy of" in cli("doctor").output
    assert "deleted" in cli("doctor", "--fix").output
    assert cli("history", "--since", "2024-01-01").exit_code == 0
    assert files_holding(home, SECRET) == []


def test_a_year_that_is_a_link_is_refused_though_a_copy_for_its_text_sits_beside_it(
    home: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    set_up(cli, monkeypatch)
    path = write_year(home, 2026)
    assert cli("history").exit_code == 0
    target = tmp_path / "elsewhere.toml"
    path.rename(target)
    path.symlink_to(target)
    before = target.read_bytes()
    for args in (["history"], ["peers"], ["log", "A", "--date", "2026-05-26"]):
        answer = cli(*args)
        assert answer.exit_code == 4, answer.output
        assert "is a symbolic link" in answer.output
    assert path.is_symlink()
    assert target.read_bytes() == before


# --- what the copy must never change ---------------------------------------------------------------------------


@pytest.mark.slow
def test_every_answer_is_the_same_with_no_copy_a_fresh_copy_and_a_stale_one(
    home: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_up(cli, monkeypatch)
    paths = [write_year(home, 2025), write_year(home, 2026)]
    commands = [["history", "--json", "--since", "2025-01-01"], ["peers", "--json"], ["status", "--json"]]

    def answers() -> list[str]:
        return [run(home, *args).stdout for args in commands]

    def drop_copies() -> None:
        for path in paths:
            tomlcache.forget(path)

    drop_copies()
    without = answers()
    assert all(tomlcache.cache_path(path).exists() for path in paths)
    assert answers() == without  # from the copies
    # A hand edit that keeps the size: the copies are now stale (they name the old text).
    for path in paths:
        text = path.read_text(encoding="utf-8")
        with open(path, "r+", encoding="utf-8") as same_inode:
            same_inode.write(text.replace('"ordinary #7"', '"ORDINARY #7"'))
    stale = answers()
    assert "ORDINARY #7" in stale[0]
    drop_copies()
    assert answers() == stale


def test_copies_are_private_under_an_open_umask(
    home: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch, open_umask: None
) -> None:
    set_up(cli, monkeypatch)
    path = write_year(home, 2026)
    assert run(home, "history").returncode == 0
    copy = tomlcache.cache_path(path)
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert not list(path.parent.glob(".*.tmp"))


def test_doctor_with_or_without_fix_writes_no_copy(
    home: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_up(cli, monkeypatch)
    path = write_year(home, 2026)
    os.chmod(home / "roster.toml", 0o644)  # something for --fix to fix
    assert cli("doctor").exit_code == 4
    assert not tomlcache.cache_path(path).exists()
    assert "chmod 600" in cli("doctor", "--fix").output
    assert not tomlcache.cache_path(path).exists()
