"""`peerloop where`: the data folder, how it was chosen, and which of its files exist."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Invoke


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
        "Keep the whole folder (its .lock, .status-line, .missed-week and .*.cache files need not be kept).",
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
        "Keep the whole folder (its .lock, .status-line, .missed-week and .*.cache files need not be kept).",
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
