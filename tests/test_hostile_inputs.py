"""Hostile and extreme inputs, as a user would hit them: dates at the ends of the calendar, data files that
are pipes, folders or links, output paths onto data or special files, a loose data folder, escapes in
files; and failures after a commit (closed stdout, a broken pipe, a Latin-1 terminal) that must not claim
that nothing changed."""

from __future__ import annotations

import os
import stat
import subprocess
import threading
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from peerloop import statusline
from tests.conftest import Invoke
from tests.hardening import (
    NOW,
    check_answer,
    no_raw_control,
    populate,
    python_peerloop,
    snapshot,
    subprocess_env,
)

SetUp = Callable[..., None]
EXTREMES = ["0001-01-01", "0001-01-02", "9999-12-30", "9999-12-31"]
DATE_OPTIONS = [
    ["log", "Ann Lee", "--date"],
    ["pause", "Bo Chen", "--until"],
    ["plan", "--from"],
    ["history", "--since"],
    ["init", "--yes", "--start"],
]


def _answer(result: object, argv: list[str]) -> None:
    check_answer(argv, result.exit_code, result.stdout, result.stderr)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("option", "day"),
    [
        pytest.param(option, day, id=f"{option[-1]}-{day}")
        for option in DATE_OPTIONS
        for day in EXTREMES
    ],
)  # fmt: skip
def test_dates_at_the_ends_of_the_calendar_are_answered_and_never_saved_into_a_broken_state(
    cli: Invoke, set_up: SetUp, option: list[str], day: str
) -> None:
    set_up("Ann Lee", "Bo Chen", now="2026-04-15T09:00")
    argv = [*option, day]
    _answer(cli(*argv), argv)
    for after in (["peers"], ["status"], ["plan"], ["history"]):
        _answer(result := cli(*after), after)
        assert result.exit_code in (0, 10, 11), (argv, after, result.stderr)


@pytest.mark.parametrize(
    "now", ["0001-01-01", "9999-12-31T23:59", "1899-12-31", "9001-01-01", "soon", "2026-13-01"]
)
def test_a_pinned_clock_out_of_range_is_refused_in_one_line_before_any_write(
    cli: Invoke, set_up: SetUp, home: Path, monkeypatch: pytest.MonkeyPatch, now: str
) -> None:
    set_up("Ann Lee", "Bo Chen", "Cy Dee")
    before = snapshot(home)
    monkeypatch.setenv("PEERLOOP_NOW", now)
    for argv in (["remove", "Cy Dee", "--yes"], ["log", "Ann Lee", "--date", "2026-03-03"], ["peers"]):
        result = cli(*argv)
        _answer(result, argv)
        assert result.exit_code == 2, (argv, result.stderr)
        assert "PEERLOOP_NOW" in result.stderr
        assert "1900 and 9000" in result.stderr
    assert snapshot(home) == before


def test_a_deeply_nested_table_in_the_roster_is_a_damaged_file_and_nothing_is_written(
    cli: Invoke, set_up: SetUp, home: Path
) -> None:
    set_up("Ann Lee")
    roster = home / "roster.toml"
    roster.write_text(roster.read_text(encoding="utf-8") + "deep = " + "[" * 2000 + "]" * 2000 + "\n")
    before = snapshot(home)
    for argv in (["add", "Bo Chen"], ["peers"], ["doctor"]):
        result = cli(*argv)
        _answer(result, argv)
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


@pytest.mark.parametrize("flag", ["export -o", "review --report"])
def test_an_output_path_onto_a_data_file_or_a_folder_is_refused(
    cli: Invoke, set_up: SetUp, home: Path, tmp_path: Path, flag: str
) -> None:
    set_up("Ann Lee", "Bo Chen")
    cli("log", "Ann Lee", "--date", "2026-03-03")
    before = snapshot(home)
    command, option = flag.split()
    extra = ["--early", "--added-value", "yes", "--decision", "stop"] if command == "review" else []
    for target in (home / "roster.toml", home / "journal" / "2026.toml", home / ".lock", tmp_path):
        argv = [command, *extra, option, str(target)]
        result = cli(*argv)
        _answer(result, argv)
        assert result.exit_code == 2, (argv, result.stdout)
    assert snapshot(home) == before


def test_an_output_path_onto_a_fifo_is_streamed_and_the_node_kept(
    cli: Invoke, set_up: SetUp, tmp_path: Path
) -> None:
    set_up("Ann Lee", "Bo Chen")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    read: list[bytes] = []
    reader = threading.Thread(target=lambda: read.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = cli("export", "-o", str(fifo))
    reader.join(timeout=20)
    assert result.exit_code == 0, result.stderr
    assert read, "nothing came through the pipe"
    assert read[0].startswith(b"BEGIN:VCALENDAR")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_an_empty_home_is_a_usage_error(cli: Invoke) -> None:
    result = cli("--home", "", "peers")
    _answer(result, ["--home", "", "peers"])
    assert result.exit_code == 2, result.stdout


def test_a_data_folder_made_0755_before_is_tightened_and_said_once(
    cli: Invoke, home: Path, set_up: SetUp
) -> None:
    home.mkdir(mode=0o755)
    os.chmod(home, 0o755)
    set_up("Ann Lee")
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    result = cli("add", "Bo Chen")
    assert "private" not in result.stderr, "said again"
    os.chmod(home, 0o755)
    result = cli("add", "Cy Dee")
    assert result.stderr.count("now private to you") == 1, result.stderr
    assert stat.S_IMODE(home.stat().st_mode) == 0o700


def test_an_entry_id_holding_terminal_escapes_is_printed_inertly(
    cli: Invoke, set_up: SetUp, home: Path
) -> None:
    set_up("Ann Lee", now="2026-04-15T09:00")
    assert cli("log", "Ann Lee", "--date", "2026-04-14").exit_code == 0
    year = home / "journal" / "2026.toml"
    year.write_text(year.read_text(encoding="utf-8").replace('"20260414-1"', '"\\u001b]0;pwned\\u0007x"'))
    result = cli("history")
    _answer(result, ["history"])
    assert no_raw_control(result.stdout + result.stderr), repr(result.stdout)


def test_the_status_line_cache_prints_its_line_inertly(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home.mkdir(parents=True)
    (home / statusline.CACHE_FILE).write_text(
        f"{statusline.CACHE_MAGIC}\nvalid-until 99999999999\nline \x1b[2J\x07evil\x9b\n", encoding="utf-8"
    )
    line = statusline.cached_line(str(home))
    assert line is not None
    assert "evil" in line
    assert no_raw_control(line)


def test_a_data_file_replaced_with_the_same_size_and_mtime_makes_the_cached_line_stale(
    cli: Invoke, set_up: SetUp, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_up("Ann Lee", "Bo Chen")
    monkeypatch.delenv("PEERLOOP_NOW")
    statusline.current_line(str(home))
    roster = home / "roster.toml"
    first = statusline.cached_line(str(home))
    assert first is not None
    info = roster.stat()
    swapped = roster.read_bytes().replace(b"Ann Lee", b"Ann Lea").replace(b"Bo Chen", b"Bo Chan")
    assert len(swapped) == info.st_size
    assert zlib.crc32(swapped) != zlib.crc32(roster.read_bytes())
    roster.write_bytes(swapped)
    os.utime(roster, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert statusline.cached_line(str(home)) is None


# --- failures after the commit -----------------------------------------------------------------------


def _shell(home: Path, script: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", "-c", script], env=subprocess_env(home, {"PEERLOOP_NOW": NOW, **env}),
                          stdin=subprocess.DEVNULL, capture_output=True, encoding="utf-8", errors="replace", timeout=60,
                          check=False)  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(
    ("how", "script", "env"),
    [
        ("stdout closed", '"$PY" -m peerloop log "Bo Chen" --date 2026-04-14 >&-', {}),
        ("broken pipe", '"$PY" -m peerloop log "Bo Chen" --date 2026-04-14 | head -c0', {}),
        ("latin-1 terminal", '"$PY" -m peerloop log "Zoë Łukasz" --date 2026-04-14 --note "Zoë Łukasz"',
         {"LC_ALL": "C.ISO-8859-1", "PYTHONIOENCODING": "latin-1"}),
    ],
)  # fmt: skip
def test_a_failure_after_the_commit_keeps_the_change_and_never_says_nothing_changed(
    tmp_path: Path, how: str, script: str, env: dict[str, str]
) -> None:
    import sys

    home = tmp_path / "home"
    populate(home)
    done = _shell(home, f'"$PY" -m peerloop add "Zoë Łukasz" >/dev/null && {script}; echo "rc=$?" >&2',
                  PY=sys.executable, **env)  # fmt: skip
    *_, code = done.stderr.rstrip("\n").split("\n")
    assert code == "rc=0", (how, done.stderr)
    assert "not changed" not in done.stderr
    assert "Aborted" not in done.stderr
    assert "Traceback" not in done.stderr
    journal = (home / "journal" / "2026.toml").read_text(encoding="utf-8")
    assert "2026-04-14" in journal, how
