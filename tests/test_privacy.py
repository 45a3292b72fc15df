"""Privacy: the data folder is 0700 and every file in it 0600, after every command that writes (also when
a file was loosened by hand and then atomically replaced); calendar files never carry the journal's notes.

test_storage_atomic.py checks the modes of the roster and the journal as storage writes them, and
test_ics.py greps export and invite files for a secret put in each note field; here the same promises are
checked through every writing command, with a secret that escaping and folding would cut apart.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.conftest import Invoke
from tests.lived_in import NOW, populate

WRITERS = [
    ["init", "--name", "Dana Ode", "--email", "dana@example.com", "--timezone", "Europe/Berlin", "--day", "tue",
     "--time", "08:30", "--start", "2026-03-02", "--peer", "Ann Lee", "--peer", "Bo Chen"],
    ["add", "Cy Dee", "--note", "n"],
    ["edit", "Ann Lee", "--email", "ann@example.com"],
    ["log", "Ann Lee", "--date", "2026-03-03", "--note", "n"],
    ["log", "--skip", "--date", "2026-03-10", "--reason", "r"],
    ["log", "--amend", "20260303-psve7", "--date", "2025-12-30"],
    ["reflect", "--excuse", "e"],
    ["pause", "Bo Chen", "--until", "2026-05-01"],
    ["export", "-o", "out.ics"],
    ["invite", "Ann Lee", "-o", "invite.ics"],
    ["export", "--alarm", "5", "-o", "-"],
    ["forget", "20260310-vzrq2", "--yes"],
    ["status", "--line"],
    ["review", "--early", "--added-value", "yes", "--decision", "continue", "--report", "review.md"],
    ["doctor", "--fix"],
]  # fmt: skip


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _loosen(home: Path) -> None:
    """What a careless hand (or a restore from a backup) does: everything readable by all."""
    for path in [home, *home.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)


@pytest.mark.usefixtures("open_umask")
def test_every_writing_command_leaves_the_folder_0700_and_its_files_0600(
    cli: Invoke, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PEERLOOP_NOW", NOW)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for command in WRITERS:
        if home.exists():
            _loosen(home)
        before = {p: p.stat().st_ino for p in home.rglob("*") if p.is_file()} if home.exists() else {}
        with monkeypatch.context() as patch:
            if command[:2] == ["status", "--line"]:
                patch.delenv("PEERLOOP_NOW")  # the line is cached only on the real clock
            result = cli(*command)
        assert result.exit_code == 0, (command, result.output)
        rewritten = [p for p in home.rglob("*") if p.is_file() and before.get(p) != p.stat().st_ino]
        if command[0] not in ("doctor", "status"):
            assert rewritten, f"{command} wrote nothing?"
        for path in rewritten:
            assert _mode(path) == 0o600, (command, path, oct(_mode(path)))
        if command[0] == "doctor":  # --fix tightens what it finds
            assert all(_mode(p) == 0o600 for p in home.rglob("*") if p.is_file())
            assert all(_mode(p) == 0o700 for p in [home, *home.rglob("*")] if p.is_dir())
        if command[0] != "status":  # the prompt's cache is not data: it takes no lock and tightens nothing
            assert _mode(home) == 0o700, command  # a looser folder is tightened by the first write
            assert ("it is now private to you (mode 700)" in result.stderr) == bool(before), command
    assert (home / ".status-line").is_file()
    assert _mode(work / "out.ics") == 0o600
    assert _mode(work / "invite.ics") == 0o600
    assert _mode(work / "review.md") == 0o600


@pytest.mark.usefixtures("open_umask")
def test_a_new_home_is_0700_with_0600_files_whatever_the_umask(cli: Invoke, home: Path) -> None:
    assert cli(*WRITERS[0]).exit_code == 0
    assert cli("log", "Ann Lee", "--date", "2026-03-03").exit_code == 0
    assert _mode(home) == 0o700
    assert _mode(home / "journal") == 0o700
    for path in home.rglob("*"):
        if path.is_file():
            assert _mode(path) == 0o600, path


# A secret that RFC 5545 escaping (the comma, the semicolon, the backslash) and line folding (longer than
# 75 octets) would cut apart, so a plain grep of the file would miss it if it leaked.
SECRET = "Zq7 TOPSECRET, the board; a\\b " + "x" * 40 + " ünïcödé END"
PIECES = ["Zq7", "TOPSECRET", "ünïcödé", "x" * 20]


@pytest.fixture
def secret_home(cli: Invoke, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The lived-in folder with SECRET in every note-like field, a review included."""
    populate(home, secret=SECRET)
    monkeypatch.setenv("PEERLOOP_NOW", NOW)
    monkeypatch.chdir(tmp_path)
    for command in (
        ["edit", "Bo Chen", "--note", SECRET],
        ["log", "Bo Chen", "--date", "2026-04-14", "--follow-up", SECRET, "--issue", SECRET],
        ["review", "--early", "--added-value", "partly", "--decision", "adjust", "--works", SECRET,
         "--improve", SECRET],
    ):  # fmt: skip
        assert cli(*command).exit_code == 0, command
    journal = (home / "journal" / "2026.toml").read_text(encoding="utf-8")
    for field in ("issue", "win", "works", "improve", "note", "reason", "why", "ceo"):
        assert f'{field} = "Zq7' in journal, field  # the secret really is in each of them
    return home


def _readable_forms(data: bytes) -> list[str]:
    """The bytes as a grep sees them, unfolded, and unescaped: a leak shows in one of them."""
    text = data.decode("utf-8")
    unfolded = text.replace("\r\n ", "").replace("\r\n\t", "")
    unescaped = unfolded.replace("\\,", ",").replace("\\;", ";").replace("\\n", "\n").replace("\\\\", "\\")
    return [text, unfolded, unescaped]


def test_no_note_reaches_any_calendar_output(cli: Invoke, secret_home: Path, tmp_path: Path) -> None:
    outputs: list[bytes] = []
    for command in (
        ["export", "-o", "e.ics"],
        ["export", "--weeks", "30", "--alarm", "15", "-o", "e2.ics"],
        ["invite", "Ann Lee", "-o", "i.ics"],
        ["invite", "bo chen", "-o", "i2.ics"],
        ["export", "-o", "-"],
        ["invite", "Ann Lee", "-o", "-"],
    ):
        result = cli(*command)
        assert result.exit_code == 0, (command, result.output)
        outputs += [result.stdout_bytes, result.stderr.encode()]
    outputs += [(tmp_path / name).read_bytes() for name in ("e.ics", "e2.ics", "i.ics", "i2.ics")]
    outputs.append((secret_home / "calendar.toml").read_bytes())
    assert any(b"BEGIN:VEVENT" in data for data in outputs)
    for data in outputs:
        for form in _readable_forms(data):
            for piece in PIECES:
                assert piece not in form, piece
