"""`peerloop status --line`: one line for shell prompts, served from a cache that knows when it is stale."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from peerloop import session, statusline
from tests.conftest import Invoke

PEERS = ("Ann Lee", "Bo Chen", "Cy Dee", "Di Eze")


def line(cli: Invoke, *extra: str) -> str:
    result = cli("status", "--line", *extra)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return result.stdout


def test_line_names_this_weeks_peer_day_and_time(cli: Invoke, set_up: Callable[..., None]) -> None:
    set_up(*PEERS, now="2026-03-02T09:00")
    assert line(cli) == "peer: Ann Lee · Tue 08:30\n"


def test_line_says_today_on_the_day(
    cli: Invoke, set_up: Callable[..., None], at: Callable[[str], None]
) -> None:
    set_up(*PEERS, now="2026-03-02T09:00")
    at("2026-03-03T07:00")
    assert line(cli) == "peer: Ann Lee · today 08:30\n"


def test_line_marks_a_passed_day_overdue(
    cli: Invoke, set_up: Callable[..., None], at: Callable[[str], None]
) -> None:
    set_up(*PEERS, now="2026-03-02T09:00")
    at("2026-03-05T07:00")
    assert line(cli) == "overdue: Ann Lee · Tue\n"


def test_line_shows_next_weeks_date_once_this_week_is_done(
    cli: Invoke, set_up: Callable[..., None], at: Callable[[str], None]
) -> None:
    set_up(*PEERS, now="2026-03-02T09:00")
    at("2026-03-03T10:00")
    assert cli("log", "Ann Lee").exit_code == 0
    assert line(cli) == "peer: Bo Chen · Tue 10 Mar 08:30\n"


def test_line_says_review_due_after_the_trial(
    cli: Invoke, set_up: Callable[..., None], at: Callable[[str], None]
) -> None:
    set_up(*PEERS, now="2026-03-02T09:00")
    at("2026-09-03T09:00")
    assert line(cli) == "review due\n"


def test_line_is_empty_without_data(cli: Invoke, home: Path, set_up: Callable[..., None]) -> None:
    assert line(cli) == ""
    assert not home.exists()
    set_up()
    assert line(cli) == ""


def test_line_is_empty_for_peers_added_before_init(cli: Invoke) -> None:
    assert cli("add", "Ann Lee").exit_code == 0
    assert line(cli) == ""


def test_line_cannot_mix_with_check_or_json(cli: Invoke, set_up: Callable[..., None]) -> None:
    set_up(*PEERS)
    result = cli("status", "--line", "--json")
    assert result.exit_code == 2
    assert "--line cannot be combined" in result.stderr


def _real_set_up(cli: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    """A trial that started last week by the real clock (the cache is only kept for the real clock)."""
    start = (dt.date.today() - dt.timedelta(days=7)).isoformat()
    monkeypatch.delenv("PEERLOOP_NOW", raising=False)
    args = [
        "init",
        "--name",
        "Dana",
        "--timezone",
        "UTC",
        "--day",
        "mon",
        "--time",
        "08:30",
        "--start",
        start,
    ]
    assert cli(*args, *(a for p in PEERS for a in ("--peer", p))).exit_code == 0


def test_cached_line_is_used_while_nothing_changed(
    cli: Invoke, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _real_set_up(cli, monkeypatch)
    first = line(cli)
    assert (home / statusline.CACHE_FILE).exists()

    def must_not_recompute(*args: object) -> None:
        raise AssertionError("the cache should have answered")

    monkeypatch.setattr(session, "load_status", must_not_recompute)
    assert line(cli) == first


def test_a_write_makes_the_cache_stale(cli: Invoke, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _real_set_up(cli, monkeypatch)
    before = line(cli)
    assert cli("log", "--skip", "--reason", "travel").exit_code == 0
    assert statusline.cached_line(str(home)) is None
    after = line(cli)
    assert before != after or "overdue" not in after


def test_the_cache_expires_at_the_midnight_that_changes_the_line(
    cli: Invoke, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _real_set_up(cli, monkeypatch)
    line(cli)
    assert statusline.cached_line(str(home)) is not None
    monkeypatch.setattr(time, "time", lambda: 10.0**11)
    assert statusline.cached_line(str(home)) is None


def test_a_damaged_cache_is_simply_recomputed(
    cli: Invoke, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _real_set_up(cli, monkeypatch)
    expected = line(cli)
    (home / statusline.CACHE_FILE).write_bytes(b"\xff\xfe garbage")
    assert line(cli) == expected


def test_the_prompt_path_and_typer_agree_on_the_line(
    cli: Invoke, set_up: Callable[..., None], home: Path
) -> None:
    """`status --line` answered before Typer (as the shell runs it) says what the Typer app says."""
    set_up(*PEERS, now="2026-03-02T09:00")
    env = {**os.environ, "PEERLOOP_HOME": str(home.parent / "elsewhere"), "PEERLOOP_NOW": "2026-03-02T09:00"}
    for argv in (["--home", str(home), "status", "--line"], [f"--home={home}", "status", "--line"]):
        fast = subprocess.run([sys.executable, "-m", "peerloop", *argv], env=env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, check=False)  # fmt: skip
        assert (fast.returncode, fast.stdout, fast.stderr) == (0, cli(*argv).stdout, "")
        assert fast.stdout.startswith("peer: ")


def test_a_warm_line_imports_almost_nothing(cli: Invoke, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _real_set_up(cli, monkeypatch)
    line(cli)
    env = {**os.environ, "PEERLOOP_HOME": str(home)}
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "peerloop", "status", "--line"], env=env,
                            capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)  # fmt: skip
    assert result.returncode == 0
    imported = {row.split("|")[-1].strip() for row in result.stderr.splitlines() if "|" in row}
    for heavy in ("typer", "rich", "tomllib", "dataclasses", "zoneinfo", "pathlib", "peerloop.storage"):
        assert heavy not in imported
