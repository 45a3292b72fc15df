"""Read-check-write commands racing each other in real processes: one lock from the first read to the
commit, so two `review`s record one (the other says why, exit 3), two `init`s keep both changes, and
`log`, `done`, `edit` and `pause` at once lose nothing."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from peerloop.errors import Exit
from peerloop.store.records import Store
from tests.conftest import Invoke
from tests.lived_in import LOCK, NOW, check_answer, populate, python_peerloop, subprocess_env

RUNS = 8


counts = {"races": 0, "lost": 0}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("template") / "home"
    populate(home)
    return home


def _race(home: Path, *commands: list[str]) -> list[subprocess.CompletedProcess[str]]:
    """Start every command at once on one folder; their answers, each checked against the rules."""
    env = subprocess_env(home, {"PEERLOOP_NOW": NOW, "PEERLOOP_LOCK_TIMEOUT": "60"})
    started = [
        (argv, subprocess.Popen(python_peerloop(*argv), env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        for argv in commands
    ]  # fmt: skip
    answers = []
    for argv, process in started:
        out, err = process.communicate(timeout=120)
        check_answer(argv, process.returncode, out, err)
        answers.append(subprocess.CompletedProcess(argv, process.returncode, out, err))
    counts["races"] += 1
    return answers


def _tables(home: Path) -> tuple[dict[str, object], dict[str, object]]:
    roster = tomllib.loads((home / "roster.toml").read_text(encoding="utf-8"))
    year = tomllib.loads((home / "journal" / "2026.toml").read_text(encoding="utf-8"))
    return roster, year


@pytest.mark.slow
@pytest.mark.parametrize("decisions", [("stop", "stop"), ("continue", "adjust")])
def test_two_reviews_at_once_record_exactly_one_for_the_trial(
    decisions: tuple[str, str], template: Path, tmp_path: Path
) -> None:
    """Two reviews of one trial: one is recorded, the other exits 3 saying nothing was saved. (After
    `continue`, a review that starts only once the first one is done reviews the new trial: allowed.)"""
    for n in range(RUNS):
        home = Path(shutil.copytree(template, tmp_path / f"{n}"))
        answers = _race(
            home,
            *(["review", "--early", "--added-value", "no", "--decision", choice] for choice in decisions),
        )
        _, year = _tables(home)
        reviews = year.get("reviews", [])
        assert isinstance(reviews, list)
        of_trial = [r for r in reviews if str(r["trial_start"]) == "2026-03-02"]
        counts["lost"] += len(of_trial) != 1
        assert len(of_trial) == 1, reviews
        codes = sorted(answer.returncode for answer in answers)
        if decisions[0] == "stop" or len(reviews) == 1:
            assert codes == [0, Exit.CONFLICT], [a.stderr for a in answers]
            refused = next(a for a in answers if a.returncode)
            assert "nothing was saved" in refused.stderr or "you reviewed this trial" in refused.stderr
        else:
            assert codes == [0, 0]
    print(f"\nraces: {counts}")


@pytest.mark.slow
def test_two_inits_at_once_keep_both_changes(template: Path, tmp_path: Path) -> None:
    for n in range(RUNS):
        home = Path(shutil.copytree(template, tmp_path / f"{n}"))
        answers = _race(home, ["init", "--peer", "Gus Hale", "--duration", "30"],
                        ["init", "--peer", "Hal Ito", "--mode", "call"])  # fmt: skip
        roster, _ = _tables(home)
        names = {peer["name"] for peer in roster["peers"]}  # type: ignore[attr-defined]
        settings = roster["settings"]
        kept = [
            answers[0].returncode != 0 or ("Gus Hale" in names and settings["duration"] == 30),  # type: ignore[index]
            answers[1].returncode != 0 or ("Hal Ito" in names and settings["mode"] == "call"),  # type: ignore[index]
        ]
        counts["lost"] += kept.count(False)
        assert all(kept), (names, settings, [a.stderr for a in answers])
    print(f"\nraces: {counts}")


@pytest.mark.slow
def test_log_done_edit_and_pause_at_once_lose_nothing(template: Path, tmp_path: Path) -> None:
    for n in range(RUNS):
        home = Path(shutil.copytree(template, tmp_path / f"{n}"))
        answers = _race(
            home,
            ["log", "Ann Lee", "--date", "2026-04-14", "--note", f"race {n}"],
            ["log", "--touch", "Bo Chen", "--date", "2026-04-13", "--note", f"touch {n}"],
            ["done", "20260324-cgk6s.1"],
            ["edit", "Bo Chen", "--org", f"Org {n}"],
            ["pause", "Cy Dee", "--until", "2026-06-30"],
        )
        assert [a.returncode for a in answers] == [0] * 5, [a.stderr for a in answers]
        roster, year = _tables(home)
        peers = {peer["name"]: peer for peer in roster["peers"]}  # type: ignore[attr-defined]
        meetings = {m["id"]: m for m in year["meetings"]}  # type: ignore[attr-defined]
        changes = [
            any(m.get("note") == f"race {n}" for m in meetings.values()),
            any(t.get("note") == f"touch {n}" for t in year.get("touches", [])),  # type: ignore[attr-defined]
            meetings["20260324-cgk6s"]["follow_ups"][0]["done"] is True,
            peers["Bo Chen"].get("org") == f"Org {n}",
            str(peers["Cy Dee"].get("paused_until")) == "2026-06-30",
        ]
        counts["lost"] += changes.count(False)
        assert all(changes), changes
    print(f"\nraces: {counts}")


WRITERS = 20


@pytest.mark.slow
def test_twenty_concurrent_adds_all_land_in_the_roster(cli: Invoke, store: Store, home: Path) -> None:
    init = cli("init", "--name", "Dana Ode", "--timezone", "Europe/Berlin", "--day", "tue", "--time", "08:30",
               "--start", "2026-03-02")  # fmt: skip
    assert init.exit_code == 0, init.output
    env = {**os.environ, "PEERLOOP_HOME": str(home), "PEERLOOP_LOCK_TIMEOUT": "60"}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "peerloop", "add", f"Peer {i}"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(WRITERS)
    ]
    outcomes = [(process.communicate(timeout=120), process.returncode) for process in processes]
    for (_, stderr), code in outcomes:
        assert code == 0, stderr
    parsed = tomllib.loads(store.roster_path.read_text(encoding="utf-8"))
    assert sorted(peer["name"] for peer in parsed["peers"]) == sorted(f"Peer {i}" for i in range(WRITERS))
    roster = store.load_roster()
    assert len(roster.peers) == WRITERS
    assert roster.settings is not None
    assert roster.settings.name == "Dana Ode"
    assert sorted(path.name for path in home.iterdir()) == [LOCK, "roster.toml"]


def _parked(home: Path, argv: list[str], step: str = "read") -> subprocess.Popen[str]:
    """A command stopped (SIGSTOP) right after it read its session: its rival runs meanwhile."""
    env = subprocess_env(home, {"PEERLOOP_NOW": NOW, "_PEERLOOP_FAULT": f"{step}:STOP"})
    process = subprocess.Popen(python_peerloop(*argv), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
    for _ in range(500):  # wait until it stopped itself
        with open(f"/proc/{process.pid}/stat", encoding="ascii") as stat:
            if stat.read().split(") ", 1)[1].startswith("T"):
                return process
        time.sleep(0.01)
    process.kill()
    raise AssertionError(f"{argv} never reached {step}")


def _resumed(process: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    os.kill(process.pid, signal.SIGCONT)
    out, err = process.communicate(timeout=60)
    check_answer(process.args, process.returncode, out, err)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def _rival(home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = subprocess_env(home, {"PEERLOOP_NOW": NOW, "PEERLOOP_LOCK_TIMEOUT": "1"})
    done = subprocess.run(python_peerloop(*argv), env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=60, check=False)  # type: ignore[arg-type]  # fmt: skip
    check_answer(argv, done.returncode, done.stdout, done.stderr)
    return done


@pytest.mark.slow
def test_two_bare_logs_at_once_record_the_weeks_meeting_once(template: Path, tmp_path: Path) -> None:
    home = Path(shutil.copytree(template, tmp_path / "home"))
    # its second read: the first is what the calendar showed, read before any change that moves the plan
    parked = _parked(home, ["log"], step="read#2")
    assert _rival(home, "log").returncode == 0
    late = _resumed(parked)
    assert late.returncode == 3
    assert "was logged meanwhile" in late.stderr
    _, year = _tables(home)
    this_week = [m for m in year["meetings"] if str(m["date"]) >= "2026-04-13"]  # type: ignore[index, union-attr]
    assert len(this_week) == 1


@pytest.mark.slow
def test_an_invite_reads_checks_and_records_under_one_lock_against_a_rename(
    template: Path, tmp_path: Path
) -> None:
    home = Path(shutil.copytree(template, tmp_path / "home"))
    parked = _parked(home, ["invite", "Ann Lee", "-o", str(tmp_path / "ann.ics")])
    renamed = _rival(home, "edit", "Ann Lee", "--name", "Ann Lee-Park")
    assert renamed.returncode == Exit.STORAGE  # it waited for the lock the invite holds, then gave up
    assert "another peerloop process has held" in renamed.stderr
    assert _resumed(parked).returncode == 0
    assert _rival(home, "edit", "Ann Lee", "--name", "Ann Lee-Park").returncode == 0
    state = tomllib.loads((home / "calendar.toml").read_text(encoding="utf-8"))
    assert list(state["series"]) == ["ann lee-park"]  # one series, its UID kept through the rename
