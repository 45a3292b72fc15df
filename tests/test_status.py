"""`peerloop status`: week k of N at a glance, in text and JSON, and `--check` for cron."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from peerloop import shell_prompt as statusline
from peerloop.core.models import Decision, JournalYear, Meeting, Mode, Review, Skip, Verdict
from peerloop.store import session
from peerloop.store.records import Store
from tests.conftest import Invoke, SetUp
from tests.lived_in import (
    no_raw_control,
)

PEERS = ("Ann Lee", "Bo Chen", "Cy Dee", "Di Eze")


LEGEND = "  ● kept  ○ skipped  × missed  ◌ this week, open  · to come"  # noqa: RUF001


REMINDER = (
    "peerloop: your 6-month trial ended on Sun 2026-08-30: run `peerloop review` to decide whether to "
    "continue, adjust or stop.\n"
)


def write(store: Store, *entries: Meeting | Skip | Review) -> None:
    """Journal entries written straight to the files (the log command is tested elsewhere)."""
    for year in sorted({e.date.year for e in entries}):
        current = store.load_year(year)
        store.save_year(
            JournalYear(
                year=year,
                meetings=(
                    *current.meetings,
                    *(e for e in entries if isinstance(e, Meeting) and e.date.year == year),
                ),
                skips=(*current.skips, *(e for e in entries if isinstance(e, Skip) and e.date.year == year)),
                reviews=(
                    *current.reviews,
                    *(e for e in entries if isinstance(e, Review) and e.date.year == year),
                ),
            )
        )


def met(day: str, peer: str) -> Meeting:
    return Meeting(
        id=f"{day.replace('-', '')}-1", date=dt.date.fromisoformat(day), peer=peer, mode=Mode.COFFEE
    )


def skipped(day: str, reason: str, peer: str | None = None) -> Skip:
    return Skip(id=f"{day.replace('-', '')}-2", date=dt.date.fromisoformat(day), reason=reason, peer=peer)


def test_status_before_init_points_to_init(cli: Invoke) -> None:
    for args in (["status"], ["status", "--json"], ["status", "--check"]):
        result = cli(*args)
        assert result.exit_code == 6
        assert result.stderr == "peerloop: error: peerloop is not set up yet; run `peerloop init` first\n"


def test_status_shows_the_week_the_strip_the_counts_the_skips_and_the_next_meeting(
    cli: Invoke, set_up: Callable[..., None], store: Store, at: Callable[[str], None]
) -> None:
    set_up(*PEERS)
    write(
        store,
        met("2026-03-03", "Ann Lee"),
        skipped("2026-03-10", "board week", "Bo Chen"),
        met("2026-03-17", "Bo Chen"),
    )
    at("2026-03-31T12:00")
    result = cli("status")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Trial week 5 of 26 (Mon 2026-03-02 to Sun 2026-08-30)",
        "  ●○●×◌" + "·" * 21,  # noqa: RUF001
        LEGEND,
        "Meetings  2 of 5 weeks kept so far; 1 skipped, 1 missed, this week open",
        "Skips     Tue 2026-03-10: board week",
        "Next      Tue 2026-03-31, 08:30-09:15 (Europe/Berlin): coffee with Cy Dee",
        "Review    Mon 2026-08-31, in 22 weeks",
        "Calendar  not given the plan yet: `peerloop export`, or `peerloop connect caldav` and `peerloop sync`",
    ]
    assert result.stderr == ""


def test_status_marks_this_weeks_meeting_overdue_once_its_day_has_passed(
    cli: Invoke, set_up: Callable[..., None], at: Callable[[str], None]
) -> None:
    set_up(*PEERS)
    at("2026-03-04T12:00")
    assert "coffee with Ann Lee (overdue)" in cli("status").stdout


def test_status_before_the_trial_starts(cli: Invoke, set_up: Callable[..., None]) -> None:
    set_up(*PEERS, start="2026-03-11", now="2026-03-02T09:00")
    lines = cli("status").stdout.splitlines()
    assert (
        lines[0]
        == "The trial starts in the week of Mon 2026-03-16: Wed 2026-03-11 to Sun 2026-09-13, 26 weeks"
    )
    assert lines[1] == "  " + "·" * 26
    assert lines[3] == "Meetings  none yet"
    data = json.loads(cli("status", "--json").stdout)
    assert data["trial"]["week"] == 0
    assert data["weeks"] == []
    assert data["next"]["date"] == "2026-03-17"


def test_status_with_no_peers_says_how_to_add_them(cli: Invoke, set_up: Callable[..., None]) -> None:
    set_up()
    result = cli("status")
    assert result.exit_code == 0
    assert "Next      none yet: add the 4 to 5 peers you will meet with `peerloop add NAME`" in result.stdout
    assert json.loads(cli("status", "--json").stdout)["next"] is None
    assert cli("status", "--check").exit_code == 0


def test_status_json_shape(
    cli: Invoke, set_up: Callable[..., None], store: Store, at: Callable[[str], None]
) -> None:
    set_up(*PEERS)
    write(store, met("2026-03-03", "Ann Lee"), skipped("2026-03-10", "board week", "Bo Chen"))
    at("2026-03-18T12:00")
    data = json.loads(cli("status", "--json").stdout)
    assert set(data) == {
        "today", "trial", "strip", "weeks", "planned", "kept", "skipped", "missed", "open", "meetings", "skips",
        "next", "overdue", "review", "check", "calendar", "invitations", "paused",
    }  # fmt: skip
    assert data["today"] == "2026-03-18"
    assert data["trial"] == {"start": "2026-03-02", "end": "2026-08-31", "week": 3, "weeks": 26}
    assert data["strip"] == "●○◌" + "·" * 23
    assert data["weeks"] == [
        {"week": 1, "monday": "2026-03-02", "state": "kept"},
        {"week": 2, "monday": "2026-03-09", "state": "skipped"},
        {"week": 3, "monday": "2026-03-16", "state": "open"},
    ]
    assert (data["planned"], data["kept"], data["skipped"], data["missed"], data["open"]) == (3, 1, 1, 0, 1)
    assert data["meetings"] == 1
    assert data["skips"] == [{"date": "2026-03-10", "peer": "Bo Chen", "reason": "board week"}]
    assert data["next"]["peer"] == "Bo Chen"
    assert data["next"]["date"] == "2026-03-17"
    assert data["overdue"] is True
    assert data["review"] == {"date": "2026-08-31", "due": False, "done": None, "decision": None}
    assert data["check"]["code"] == 10


def test_check_is_silent_and_zero_when_on_track(cli: Invoke, set_up: Callable[..., None]) -> None:
    set_up(*PEERS)
    result = cli("status", "--check")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


def test_check_exits_10_when_this_weeks_meeting_is_overdue(
    cli: Invoke, set_up: Callable[..., None], store: Store, at: Callable[[str], None]
) -> None:
    set_up(*PEERS)
    at("2026-03-04T12:00")
    result = cli("status", "--check")
    assert result.exit_code == 10
    assert result.stdout == ""
    assert result.stderr == (
        "peerloop: this week's coffee with Ann Lee (Tue 2026-03-03) is overdue: log it with `peerloop log`, "
        "or `peerloop log --skip --reason TEXT`\n"
    )
    write(store, skipped("2026-03-04", "ill"))
    assert cli("status", "--check").exit_code == 0


def test_check_exits_11_when_the_review_is_due(
    cli: Invoke, set_up: Callable[..., None], store: Store, at: Callable[[str], None]
) -> None:
    set_up(*PEERS)
    write(store, met("2026-08-25", "Ann Lee"))  # week 26, the trial's last, kept
    at("2026-08-30T20:00")  # the last day of the last week: the review is not due yet
    assert cli("status", "--check").exit_code == 0
    at("2026-08-31T07:00")  # the review date, the Monday after: due; Tuesday's meeting is still ahead
    result = cli("status", "--check")
    assert result.exit_code == 11
    assert result.stderr == (
        "peerloop: the trial ended on Sun 2026-08-30 and the review is due: run `peerloop review`\n"
    )
    at(
        "2026-09-02T12:00"
    )  # Tuesday's meeting (the rotation goes on until the review) is overdue too: code 10
    result = cli("status", "--check")
    assert result.exit_code == 10
    assert result.stderr.count("\n") == 1
    assert "overdue" in result.stderr
    assert "the trial ended on Sun 2026-08-30 and the review is due: run `peerloop review`" in result.stderr


def test_status_says_the_review_is_due_and_reminds_on_stderr(
    cli: Invoke, set_up: Callable[..., None], at: Callable[[str], None]
) -> None:
    set_up(*PEERS)
    at("2026-09-07T12:00")
    result = cli("status")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "The trial of Mon 2026-03-02 to Sun 2026-08-30 has ended (26 weeks; this is week 28)"
    assert lines[-2] == "Review    due since Mon 2026-08-31: run `peerloop review`"
    assert result.stderr == REMINDER
    as_json = cli("status", "--json")
    assert json.loads(as_json.stdout)["review"]["due"] is True
    assert as_json.stderr == REMINDER


def test_status_after_a_stop_shows_the_trial_as_it_was_and_checks_nothing(
    cli: Invoke, set_up: Callable[..., None], store: Store, at: Callable[[str], None]
) -> None:
    set_up(*PEERS)
    stop = Review(
        id="20260907-xnx37", date=dt.date(2026, 9, 7), trial_start=dt.date(2026, 3, 2), added_value=Verdict.NO,
        decision=Decision.STOP,
    )  # fmt: skip
    write(store, stop)
    at("2026-10-20T12:00")
    result = cli("status")
    assert result.stdout.splitlines()[0] == (
        "Trial of Mon 2026-03-02 to Sun 2026-08-30: stopped at the review of Mon 2026-09-07"
    )
    assert len(result.stdout.splitlines()[1].strip()) == 26  # the trial's 26 weeks, not to today
    assert "Next      none: no meeting is planned once you stop" in result.stdout.splitlines()
    assert result.stdout.splitlines()[-2].startswith("Review    done on Mon 2026-09-07: you decided to stop")
    assert result.stderr == ""
    assert cli("status", "--check").exit_code == 0
    data = json.loads(cli("status", "--json").stdout)
    assert data["review"] == {"date": "2026-08-31", "due": False, "done": "2026-09-07", "decision": "stop"}
    assert data["next"] is None


def test_status_reads_only_the_trials_years(
    cli: Invoke, set_up: Callable[..., None], store: Store, at: Callable[[str], None]
) -> None:
    set_up(*PEERS, start="2036-03-03", now="2036-03-03T09:00")
    store.journal_dir.mkdir(parents=True, exist_ok=True)
    (store.journal_dir / "2030.toml").write_text("this is not TOML", encoding="utf-8")
    at("2036-03-20T12:00")
    result = cli("status")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Trial week 3 of 26")


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


def json_line(cli: Invoke) -> str:
    """What the line must say, from `status --json` (computed afresh, never from the line's cache)."""
    found = json.loads(cli("status", "--json").stdout)["next"]
    day = dt.date.fromisoformat(found["date"])
    return f"peer: {found['peer']} · {day:%a %d %b} {found['start'][11:16]}"


def test_a_write_makes_the_cache_stale(cli: Invoke, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _real_set_up(cli, monkeypatch)
    before = line(cli)
    assert cli("log", "--skip", "--reason", "travel").exit_code == 0
    assert statusline.cached_line(str(home)) is None
    after = line(cli)
    assert after != before  # this week is done: the line names next week's meeting
    assert after.strip() == json_line(cli)


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


@pytest.mark.parametrize(
    ("how", "redirect", "env", "code", "shown"),
    [
        ("stdout closed", ">&-", {}, 0, None),
        ("broken pipe", "| head -c0", {}, 1, None),
        ("ascii terminal", "", {"PYTHONIOENCODING": "ascii"}, 0, "peer: Ann Lee ? Tue"),
    ],
)  # fmt: skip
def test_the_line_on_a_closed_stdout_a_broken_pipe_or_an_ascii_terminal_is_no_traceback(
    cli: Invoke, set_up: SetUp, home: Path, how: str, redirect: str, env: dict[str, str], code: int,
    shown: str | None,
) -> None:  # fmt: skip
    set_up(*PEERS, now="2026-03-02T09:00")
    done = subprocess.run(f'"$PY" -m peerloop status --line {redirect}; echo "rc=${{PIPESTATUS[0]}}" >&2',
                          shell=True, executable="/bin/bash", capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, check=False,
                          env={**os.environ, "PY": sys.executable, "PEERLOOP_HOME": str(home),
                               "PEERLOOP_NOW": "2026-03-02T09:00", **env})  # fmt: skip
    assert done.stderr == f"rc={code}\n", how
    if shown is not None:
        assert done.stdout.startswith(shown)


def test_a_warm_line_imports_almost_nothing(cli: Invoke, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _real_set_up(cli, monkeypatch)
    line(cli)
    env = {**os.environ, "PEERLOOP_HOME": str(home)}
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "peerloop", "status", "--line"], env=env,
                            capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)  # fmt: skip
    assert result.returncode == 0
    imported = {row.split("|")[-1].strip() for row in result.stderr.splitlines() if "|" in row}
    for heavy in ("typer", "rich", "tomllib", "dataclasses", "zoneinfo", "pathlib", "peerloop.store.folder"):
        assert heavy not in imported


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
