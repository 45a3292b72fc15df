"""Where the data lives: --home, then $PEERLOOP_HOME, then the platform's user data folder."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import platformdirs
import pytest

from peerloop.store import home as paths
from tests.conftest import Invoke, SetUp
from tests.lived_in import (
    DEVICE,
    check_result,
)


@pytest.mark.parametrize(
    "env",
    [
        {"HOME": "/home/dana"},
        {"HOME": "/home/dana", "XDG_DATA_HOME": "/data/dana"},
        {"HOME": "/home/dana", "XDG_DATA_HOME": "relative/ignored"},
        {"HOME": "/home/dana", "XDG_DATA_HOME": ""},
        {"HOME": "/home/dana", "XDG_DATA_HOME": " "},
    ],
)
def test_default_folder_is_what_platformdirs_says(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PEERLOOP_HOME")
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    expected = Path(platformdirs.user_data_dir("peerloop", appauthor=False))
    assert paths.data_home() == expected


def test_environment_then_flag_take_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PEERLOOP_HOME", str(tmp_path / "env"))
    assert paths.data_home() == tmp_path / "env"
    assert paths.data_home(tmp_path / "flag") == tmp_path / "flag"


def test_resolving_the_folder_creates_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PEERLOOP_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    assert paths.data_home() == tmp_path / ".local" / "share" / "peerloop"
    assert list(tmp_path.iterdir()) == []


def test_before_init_it_names_the_folder_and_says_it_does_not_exist(cli: Invoke, home: Path) -> None:
    result = cli("where")
    assert result.exit_code == 0
    assert result.stdout == (
        f"Data folder: {home} (from $PEERLOOP_HOME)\n  It does not exist yet: `peerloop init` creates it.\n"
    )
    assert not home.exists(), "where must not create anything"
    data = json.loads(cli("where", "--json").stdout)
    assert data == {
        "home": str(home),
        "source": "environment",
        "exists": False,
        "files": [
            {"name": "roster.toml", "path": str(home / "roster.toml"), "exists": False},
            {"name": "calendar.toml", "path": str(home / "calendar.toml"), "exists": False},
            {"name": "connections.toml", "path": str(home / "connections.toml"), "exists": False},
        ],
        "device": "testbox",
        "ignore": [
            ".lock*",
            ".commit*",
            ".pending*",
            "*.tmp",
            ".status-line",
            ".missed-week",
            "busy.toml",
            "device-id",
        ],
    }


def test_it_lists_the_files_that_exist_and_the_ones_still_to_come(
    cli: Invoke, set_up: Callable[..., None], at: Callable[[str], None], home: Path
) -> None:
    set_up("Ann Lee", "Bo Chen", "Cy Dee", "Di Eze")
    result = cli("where")
    assert result.stdout.splitlines()[1:] == [
        "  roster.toml        your settings and peers",
        "  journal/YYYY.toml  none yet: `peerloop log` writes one per year",
        "  calendar.toml      not yet: the first `peerloop export` writes it",
        "  connections.toml   not yet: `peerloop connect` writes it",
        "Keep the whole folder (its .lock-*, .status-line, .missed-week and busy.toml files need not be kept).",
        "Kept in sync between devices? `peerloop where --ignore TOOL` prints what the sync tool must ignore.",
    ]
    at("2026-03-03T10:00")
    assert cli("log").exit_code == 0
    assert cli("export", "-o", str(home.parent / "out.ics")).exit_code == 0
    at("2027-01-05T10:00")
    assert cli("log", "--skip", "--reason", "flu").exit_code == 0
    result = cli("where")
    assert result.stdout.splitlines()[1:] == [
        "  roster.toml        your settings and peers",
        "  journal/2026.toml  the journal of 2026",
        "  journal/2027.toml  the journal of 2027",
        "  calendar.toml      what the calendar export keeps (UIDs, SEQUENCE)",
        "  connections.toml   not yet: `peerloop connect` writes it",
        "Keep the whole folder (its .lock-*, .status-line, .missed-week and busy.toml files need not be kept).",
        "Kept in sync between devices? `peerloop where --ignore TOOL` prints what the sync tool must ignore.",
    ]
    assert ".lock" not in result.stderr  # the whole answer is on stdout
    data = json.loads(cli("where", "--json").stdout)
    assert [(f["name"], f["exists"]) for f in data["files"]] == [
        ("roster.toml", True), ("journal/2026.toml", True), ("journal/2027.toml", True), ("calendar.toml", True), ("connections.toml", False),
    ]  # fmt: skip
    assert all(Path(f["path"]).is_file() == f["exists"] for f in data["files"])


@pytest.mark.parametrize("where", ["global", "command"])
def test_home_option_is_the_source_when_given(cli: Invoke, tmp_path: Path, where: str) -> None:
    folder = tmp_path / "elsewhere"
    args = (
        ["--home", str(folder), "where", "--json"]
        if where == "global"
        else [f"--home={folder}", "where", "--json"]
    )
    data = json.loads(cli(*args).stdout)
    assert (data["home"], data["source"]) == (str(folder), "option")


def test_the_platform_default_when_nothing_chooses(
    cli: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("PEERLOOP_HOME")
    data = json.loads(cli("where", "--json").stdout)
    assert data["source"] == "default"
    assert data["home"] == str(tmp_path / "user-home" / ".local" / "share" / "peerloop")


def test_damaged_files_do_not_stop_it(cli: Invoke, set_up: Callable[..., None], home: Path) -> None:
    set_up("Ann Lee")
    (home / "roster.toml").write_text("not = [toml", encoding="utf-8")
    result = cli("where")
    assert result.exit_code == 0
    assert "roster.toml        your settings and peers" in result.stdout


def test_an_empty_home_is_a_usage_error(cli: Invoke) -> None:
    result = cli("--home", "", "peers")
    check_result(result, ["--home", "", "peers"])
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


def test_a_twenty_year_home_leaves_no_cache_after_any_command(
    cli: Invoke, set_up: SetUp, home: Path, at: Callable[[str], None]
) -> None:
    """The largest real case is read by one reader and keeps no copy of what any file said."""
    from peerloop.core.ids import entry_id
    from peerloop.core.models import JournalYear, Meeting, Mode
    from peerloop.store.records import Store

    set_up(*(f"Peer {n:02d}" for n in range(50)), start="2006-01-02", now="2006-01-02T09:00")
    store = Store(home)
    for year in range(2006, 2026):
        days = [dt.date(year, 1, 3) + dt.timedelta(weeks=k) for k in range(52)]
        taken: list[str] = []
        meetings = []
        for k, day in enumerate(days):
            meetings.append(
                Meeting(entry_id(day, taken, DEVICE), day, f"Peer {k % 50:02d}", Mode.COFFEE, issue="budget")
            )
            taken.append(meetings[-1].id)
        store.save_year(JournalYear(year=year, meetings=tuple(meetings)))
    at("2026-01-08T09:00")
    commands = [["peers"], ["history"], ["history", "--all"], ["review", "--json", "--early"], ["status"],
                ["next"], ["log", "Peer 07", "--date", "2026-01-06"], ["plan"]]  # fmt: skip
    for argv in commands:
        result = cli(*argv)
        assert result.exit_code in (0, 10, 11), (argv, result.output)
    assert sorted(path.name for path in home.rglob("*cache*")) == []
