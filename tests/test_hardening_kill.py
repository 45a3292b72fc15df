"""Processes killed while they write, and processes writing at the same time.

A `peerloop log` killed with SIGKILL at any moment leaves every file parseable, and every entry whose
command said "Logged ... (ID)" is there. Four processes logging 50 entries each into one folder at once
leave 200 entries: none lost, none twice.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import time
import tomllib
from pathlib import Path

import pytest

from peerloop.session import Store
from tests.hardening import NOW, data_files, populate, python_peerloop, subprocess_env

LOGGED = re.compile(r"^Logged (\w+) with (.+) on \w{3} (\d{4}-\d{2}-\d{2}) \((\d{8}-\d+)\)\.", re.MULTILINE)
KILLS = 200
WRITERS, EACH = 4, 50


def _every_file_parses(home: Path) -> dict[str, dict[str, str | None]]:
    """Every data file is TOML that peerloop reads back; the journal's meetings by id."""
    for path in data_files(home):
        tomllib.loads(path.read_text(encoding="utf-8"))
    store = Store(home)
    store.load_roster()
    store.load_calendar_state()
    journal = store.load_journal()
    meetings = {m.id: {"peer": m.peer, "date": m.date.isoformat(), "note": m.note} for m in journal.meetings}
    assert len(meetings) == len(journal.meetings), "an id is used twice"
    return meetings


@pytest.mark.slow
def test_log_killed_at_random_moments_loses_nothing_it_reported(tmp_path: Path) -> None:
    home = tmp_path / "home"
    populate(home)
    env = subprocess_env(home, {"PEERLOOP_NOW": NOW})
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    first = dt.date(2026, 1, 5)  # before the peers were added: some logs rewrite the roster too

    def start(n: int) -> subprocess.Popen[str]:
        peer = rng.choice(["Ann Lee", "Bo Chen", "Cy Dee", "ann lee"])
        day = first + dt.timedelta(days=rng.randrange((dt.date(2026, 4, 15) - first).days + 1))
        return subprocess.Popen(
            python_peerloop("log", peer, "--date", day.isoformat(), "--note", f"kill-{n}"),
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    started = time.monotonic()
    for n in range(3):  # how long one log takes here, to spread the kills over its whole run
        out, err = start(-1 - n).communicate(timeout=60)
        assert LOGGED.search(out), err
    span = (time.monotonic() - started) / 3 * 1.2

    reported: dict[str, tuple[str, str, str]] = {}
    killed = finished = 0
    budget = time.monotonic() + 150
    for n in range(KILLS):
        process = start(n)
        time.sleep(rng.uniform(0, span))
        process.send_signal(signal.SIGKILL)
        out, err = process.communicate(timeout=60)
        if process.returncode == -signal.SIGKILL:
            killed += 1
        else:
            assert process.returncode == 0, f"seed {seed}, run {n}: {err}"
            finished += 1
        for _, peer, day, entry_id in LOGGED.findall(out):
            reported[entry_id] = (peer, day, f"kill-{n}")
        _every_file_parses(home)
        assert time.monotonic() < budget, f"seed {seed}: the loop is too slow ({n} runs)"

    meetings = _every_file_parses(home)
    lost = [entry_id for entry_id in reported if entry_id not in meetings]
    assert lost == [], f"seed {seed}: reported but lost: {lost}"
    for entry_id, (peer, day, note) in reported.items():
        assert meetings[entry_id] == {"peer": peer, "date": day, "note": note}, (seed, entry_id)
    written = sum(1 for m in meetings.values() if str(m["note"]).startswith("kill-"))
    assert written >= len(reported)
    print(
        f"\nSIGKILL (seed {seed}): {KILLS} runs, {killed} killed while running, {finished} finished; "
        f"{len(reported)} reported, {written} written, 0 lost"
    )
    # What a kill leaves behind is only temp files, which doctor finds and removes.
    leftovers = sorted(p.name for p in home.rglob(".*.tmp"))
    doctor = subprocess.run(python_peerloop("doctor", "--fix"), env=env, capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=60, check=False)  # fmt: skip
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert sorted(p.name for p in home.rglob(".*.tmp")) == []
    assert doctor.stdout.count("fixed: deleted") == len(leftovers)


DRIVER = textwrap.dedent(
    """
    import subprocess, sys
    peer, first = sys.argv[1], int(sys.argv[2])
    for n in range(first, first + int(sys.argv[3])):
        day = f"2026-{1 + n % 3:02d}-{1 + n % 28:02d}"
        done = subprocess.run([sys.executable, "-m", "peerloop", "log", peer, "--date", day, "--note", f"w{n}"],
                              capture_output=True, text=True, stdin=subprocess.DEVNULL)
        said = done.stderr.strip().replace("\\n", " | ")  # a note and the calendar's staleness: one line here
        sys.stdout.write(f"{done.returncode}\\t{n}\\t{done.stdout.strip()}\\t{said}\\n")
    """
)


@pytest.mark.slow
def test_four_processes_logging_at_once_lose_nothing_and_duplicate_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    populate(home)
    env = subprocess_env(home, {"PEERLOOP_NOW": NOW, "PEERLOOP_LOCK_TIMEOUT": "120"})
    before = _every_file_parses(home)
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER, encoding="utf-8")
    peers = ["Ann Lee", "Bo Chen", "Cy Dee", "Di Eze"]
    processes = [
        subprocess.Popen([sys.executable, str(driver), peer, str(i * EACH), str(EACH)], env=env,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i, peer in enumerate(peers)
    ]  # fmt: skip
    reported: dict[str, str] = {}
    for process in processes:
        out, err = process.communicate(timeout=170)
        assert process.returncode == 0, err
        lines = out.splitlines()
        assert len(lines) == EACH
        for line in lines:
            code, n, said, complaint = line.split("\t")
            assert code == "0", complaint
            found = LOGGED.search(said)
            assert found, said
            assert found[4] not in reported, f"id {found[4]} reported twice"
            reported[found[4]] = f"w{n}"
    meetings = _every_file_parses(home)
    new = {entry_id: m for entry_id, m in meetings.items() if entry_id not in before}
    assert len(reported) == WRITERS * EACH
    assert sorted(new) == sorted(reported), "lost or extra entries"
    assert sorted(str(m["note"]) for m in new.values()) == sorted(f"w{n}" for n in range(WRITERS * EACH))
    for entry_id, note in reported.items():
        assert new[entry_id]["note"] == note
    assert sorted(p.name for p in home.rglob(".*.tmp")) == []
    print(
        f"\nconcurrency: {WRITERS} processes x {EACH} logs: {len(new)} entries written, 0 lost, 0 duplicated"
    )
    assert os.listdir(home / "journal") == ["2026.toml"]
