"""Every change is one transaction, proven from outside (docs/storage.md).

Each multi-file command is killed (SIGKILL) at every write step of its commit through the fault hook
(`_PEERLOOP_FAULT=STEP#N:SIGNAL`), then a read-only command runs: the data files are then byte for byte
the state before the command or the state after it (before for a kill ahead of the commit record, after
for one at or behind it), nothing is left half-done, and no entry that existed is missing. SIGINT and
SIGTERM during a commit either land the change (exit 0, the command's own words) or land nothing
("Aborted.", exit 1). A bounded loop of random-time kills checks the same for moments the steps miss.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import tomllib
from pathlib import Path

import pytest

from peerloop.errors import DataFileError
from peerloop.store import folder as storage
from peerloop.store import interrupts
from peerloop.store.records import Store
from tests.lived_in import (
    COMMIT,
    NOW,
    data_files,
    populate,
    python_peerloop,
    shell,
    subprocess_env,
)

# (id, argv, the data files it writes)
COMMANDS = [
    ("rename", ["edit", "Ann Lee", "--name", "Ann Smith"], 4),
    ("amend-year", ["log", "--amend", "20260317-dvvbh", "--date", "2025-12-29"], 3),
    ("review-continue", ["review", "--early", "--added-value", "yes", "--decision", "continue",
                         "--report", "{out}/review.md"], 2),
    ("review-adjust", ["review", "--early", "--added-value", "partly", "--decision", "adjust"], 2),
    ("review-stop", ["review", "--early", "--added-value", "no", "--decision", "stop", "--report",
                     "{out}/review.md"], 2),
    ("reflect-add-names", ["reflect", "--name", "Gus Hale", "--name", "Ann Lee", "--add-names"], 2),
    ("log-moves-added", ["log", "Di Eze", "--date", "2026-03-31", "--note", "moved"], 2),
    ("init-existing", ["init", "--day", "wed", "--yes", "--peer", "Hal Ito"], 1),
    ("export", ["export", "--weeks", "30", "-o", "{out}/plan.ics"], 1),
    ("invite", ["invite", "Bo Chen", "-o", "{out}/bo.ics"], 1),
    ("plan-refresh", ["plan", "--refresh"], 1),
]  # fmt: skip


COMMAND_IDS = [name for name, _, _ in COMMANDS]


BUSY_FEED = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//busy//EN\r
BEGIN:VEVENT\r
UID:board@example.com\r
DTSTAMP:20260301T000000Z\r
DTSTART:20260407T060000Z\r
DTEND:20260407T100000Z\r
SUMMARY:Board\r
END:VEVENT\r
END:VCALENDAR\r
"""


counts = {"kills": 0, "states": 0, "lost": 0}


def _steps(files: int) -> list[tuple[str, bool]]:
    """Every fault point of a commit of `files` files, and whether the change must have landed."""
    return [
        ("begin", False),
        *((f"temp#{n}", False) for n in range(1, files + 1)),
        ("record", True),
        *((f"rename#{n}", True) for n in range(1, files + 1)),
        ("done", True),
    ]


def _run(
    home: Path, argv: list[str], fault: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    extra = {"PEERLOOP_NOW": NOW, "PEERLOOP_LOCK_TIMEOUT": "30"}
    if fault:
        extra[interrupts.FAULT_ENV] = fault
    out = str(home.parent / "out")
    return subprocess.run(
        python_peerloop(*(arg.replace("{out}", out) for arg in argv)), env=subprocess_env(home, extra),
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


def _said(home: Path, stdout: str) -> str:
    """What a command said, word for word, with its folders' names taken out (each run has its own, of its own
    length, so the lines wrap at other words)."""
    return " ".join(stdout.replace(str(home.parent / "out"), "OUT").replace(str(home), "HOME").split())


def _data(home: Path) -> dict[str, bytes]:
    """The data files and the busy-time cache as bytes, read raw (no peerloop code that might finish a commit
    on the way)."""
    cache = [home / "busy.toml"] if (home / "busy.toml").is_file() else []
    return {str(path.relative_to(home)): path.read_bytes() for path in [*data_files(home), *cache]}


def _entry_ids(files: dict[str, bytes]) -> set[str]:
    ids = set()
    for name, raw in files.items():
        if name.startswith("journal/"):
            for kind in tomllib.loads(raw.decode()).values():
                ids |= {entry["id"] for entry in kind} if isinstance(kind, list) else set()
    return ids


def _consistent(files: dict[str, bytes]) -> None:
    """Roster, journal and calendar agree: every invite series belongs to a roster peer, and no peer was
    met before the day they were `added` (a log that moves it back moves both or neither)."""
    tables = {name: tomllib.loads(raw.decode()) for name, raw in files.items()}
    peers = {peer["name"].casefold(): peer["added"] for peer in tables["roster.toml"].get("peers", [])}
    for key in tables.get("calendar.toml", {}).get("series", {}):
        assert key in peers, f"calendar series for {key!r}, who is not in the roster"
    for name, table in tables.items():
        for meeting in table.get("meetings", []) if name.startswith("journal/") else []:
            added = peers.get(meeting["peer"].casefold())
            assert added is None or added <= meeting["date"], (name, meeting["id"], added)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lived-in folder with two journal years and an invite series: the rename touches four files."""
    home = tmp_path_factory.mktemp("template") / "home"
    populate(home)
    feed = home.parent / "work.ics"  # a busy-time feed: `plan --refresh` writes its cache, busy.toml
    feed.write_text(BUSY_FEED, encoding="utf-8")
    for argv in (["invite", "Ann Lee", "-o", "/dev/null"], ["log", "Ann Lee", "--date", "2025-12-30"],
                 ["connect", "busy", str(feed)]):  # fmt: skip
        done = _run(home, argv)
        assert done.returncode == 0, done.stderr
    return home


@pytest.fixture(scope="module")
def outcomes(
    template: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[dict[str, bytes], str]]:
    """Each command run without a fault on a copy: the files it leaves and what it says."""
    found = {}
    for name, argv, files in COMMANDS:
        home = _copy(template, tmp_path_factory.mktemp(name))
        done = _run(home, argv)
        assert done.returncode == 0, (name, done.stderr)
        after = _data(home)
        changed = sum(
            1 for path in set(after) | set(_data(template)) if after.get(path) != _data(template).get(path)
        )
        assert changed == files, f"{name} wrote {changed} data files, not {files}"
        found[name] = (after, _said(home, done.stdout))
    return found


def _copy(template: Path, into: Path) -> Path:
    (into / "out").mkdir(parents=True, exist_ok=True)
    return Path(shutil.copytree(template, into / "home", symlinks=True))


def _check_after_next_command(
    home: Path, before: dict[str, bytes], after: dict[str, bytes], landed: bool | None
) -> bool:
    """Run a read-only command, then: no commit record left, every file parses, the files are the whole
    change or none of it (`landed` says which, None: either), no entry missing. Whether it landed."""
    nxt = _run(home, ["peers"])
    assert nxt.returncode == 0, nxt.stderr
    assert not (home / COMMIT).exists(), "a read-only command left the commit unfinished"
    now = _data(home)
    _consistent(now)
    counts["states"] += 1
    assert now in (before, after), "half a change: " + ", ".join(p for p in after if now.get(p) != after[p])
    if landed is not None:
        assert (now == after) is landed, f"expected the change {'in place' if landed else 'absent'}"
    missing = _entry_ids(before) - _entry_ids(now) - (_entry_ids(before) - _entry_ids(after))
    counts["lost"] += len(missing)
    assert not missing, f"entries lost: {missing}"
    return now == after


@pytest.mark.slow
@pytest.mark.parametrize(("name", "argv", "files"), COMMANDS, ids=COMMAND_IDS)
def test_sigkill_at_every_commit_step_leaves_the_whole_change_or_none(
    name: str, argv: list[str], files: int, template: Path, outcomes: dict[str, tuple[dict[str, bytes], str]],
    tmp_path: Path,
) -> None:  # fmt: skip
    before, (after, _) = _data(template), outcomes[name]
    for n, (step, landed) in enumerate(_steps(files)):
        home = _copy(template, tmp_path / f"{n}")
        killed = _run(home, argv, fault=f"{step}:KILL")
        assert killed.returncode == -signal.SIGKILL, (step, killed.stderr)
        counts["kills"] += 1
        _check_after_next_command(home, before, after, landed)
    print(f"\n{name}: {counts}")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["rename", "amend-year", "review-continue"])
def test_a_kill_while_finishing_a_left_commit_is_finished_by_the_next_command(
    name: str, template: Path, outcomes: dict[str, tuple[dict[str, bytes], str]], tmp_path: Path
) -> None:
    argv = next(argv for n, argv, _ in COMMANDS if n == name)
    home = _copy(template, tmp_path)
    assert _run(home, argv, fault="record:KILL").returncode == -signal.SIGKILL
    assert _run(home, ["status"], fault="roll#1:KILL").returncode == -signal.SIGKILL
    counts["kills"] += 2
    assert (home / COMMIT).exists()
    _check_after_next_command(home, _data(template), outcomes[name][0], landed=True)


@pytest.mark.slow
@pytest.mark.parametrize("signame", ["INT", "TERM"])
@pytest.mark.parametrize("name", ["rename", "amend-year", "review-continue", "reflect-add-names"])
def test_ctrl_c_or_sigterm_during_a_commit_lands_it_and_says_so_or_lands_nothing_and_says_aborted(
    name: str, signame: str, template: Path, outcomes: dict[str, tuple[dict[str, bytes], str]],
    tmp_path: Path,
) -> None:  # fmt: skip
    argv, files = next((argv, files) for n, argv, files in COMMANDS if n == name)
    before, (after, said) = _data(template), outcomes[name]
    for n, (step, landed) in enumerate([("begin", False), ("temp#1", True), ("record", True),
                                        (f"rename#{files}", True), ("done", True)]):  # fmt: skip
        home = _copy(template, tmp_path / f"{n}")
        done = _run(home, argv, fault=f"{step}:{signame}")
        if landed:  # held until the commit ended, then dropped: the command finishes and says what it did
            assert (done.returncode, _said(home, done.stdout)) == (0, said), (step, done.stderr)
            assert "Aborted" not in done.stderr
        else:
            assert (done.returncode, done.stderr) == (1, "Aborted.\n"), (step, done.stdout)
        _check_after_next_command(home, before, after, landed)
        assert not list((tmp_path / f"{n}" / "out").iterdir()) or landed, "a report written for nothing"


RANDOM_RUNS, RANDOM_SECONDS = 60, 120


@pytest.mark.slow
def test_sigkill_at_random_moments_of_every_multi_file_command_never_splits_a_change(
    template: Path, outcomes: dict[str, tuple[dict[str, bytes], str]], tmp_path: Path
) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    started = time.monotonic()
    span = 1.2 * max(0.3, _timed(template, tmp_path / "timing"))
    before = _data(template)
    landed = killed = 0
    for n in range(RANDOM_RUNS):
        if time.monotonic() - started > RANDOM_SECONDS:
            break
        name, argv, _ = rng.choice(COMMANDS)
        home = _copy(template, tmp_path / f"r{n}")
        out = str(home.parent / "out")
        process = subprocess.Popen(
            python_peerloop(*(arg.replace("{out}", out) for arg in argv)),
            env=subprocess_env(home, {"PEERLOOP_NOW": NOW}), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(rng.uniform(0, span))
        process.send_signal(signal.SIGKILL)
        _, err = process.communicate(timeout=60)
        killed += process.returncode == -signal.SIGKILL
        assert process.returncode in (0, -signal.SIGKILL), f"seed {seed}, {name}: {err}"
        counts["kills"] += process.returncode == -signal.SIGKILL
        landed += _check_after_next_command(home, before, outcomes[name][0], None)
        shutil.rmtree(tmp_path / f"r{n}")
    print(f"\nrandom SIGKILL (seed {seed}): {n + 1} runs, {killed} killed, {landed} landed; totals {counts}")


def _timed(template: Path, into: Path) -> float:
    home = _copy(template, into)
    started = time.monotonic()
    assert _run(home, COMMANDS[0][1]).returncode == 0
    return time.monotonic() - started


def test_a_commit_record_naming_a_file_outside_the_data_files_is_refused_not_followed(
    home: Path, tmp_path: Path
) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep me", encoding="utf-8")
    home.mkdir(parents=True)
    for line in ("../victim\troster.toml", ".roster.toml.1.tmp\t../victim", ".x.tmp\troster.toml"):
        (home / COMMIT).write_text(f"# peerloop commit record\n{line}\n", encoding="utf-8")
        with pytest.raises(DataFileError, match="is damaged"):
            storage.Folder(home).read(home / storage.ROSTER_FILE)
    assert victim.read_text(encoding="utf-8") == "keep me"


def test_a_read_only_folder_with_a_left_commit_is_read_through_its_temp_files(home: Path) -> None:
    """Where the record cannot be finished (no lock can be taken), reads still see the whole change."""
    home.mkdir(parents=True)
    (home / "roster.toml").write_text("old", encoding="utf-8")
    (home / ".roster.toml.1-2-0.tmp").write_text("new", encoding="utf-8")
    (home / COMMIT).write_text(".roster.toml.1-2-0.tmp\troster.toml\n", encoding="utf-8")
    folder = storage.Folder(home)
    folder.may_write = False
    assert folder.read(home / "roster.toml") == "new"
    assert (home / "roster.toml").read_text(encoding="utf-8") == "old"
    folder.may_write = True
    assert folder.read(home / "roster.toml") == "new"
    assert not (home / COMMIT).exists()
    assert (home / "roster.toml").read_text(encoding="utf-8") == "new"


LOGGED = re.compile(
    r"^Logged (\w+) with (.+) on \w{3} (\d{4}-\d{2}-\d{2}) \((\d{8}-[0-9a-z]+)\)\.", re.MULTILINE
)


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
    done = shell(home, f'"$PY" -m peerloop add "Zoë Łukasz" >/dev/null && {script}; echo "rc=$?" >&2',
                  PY=sys.executable, **env)  # fmt: skip
    *_, code = done.stderr.rstrip("\n").split("\n")
    assert code == "rc=0", (how, done.stderr)
    assert "not changed" not in done.stderr
    assert "Aborted" not in done.stderr
    assert "Traceback" not in done.stderr
    journal = (home / "journal" / "2026.toml").read_text(encoding="utf-8")
    assert "2026-04-14" in journal, how
