"""Whole-process timings of peerloop's commands, as ratios to a bare `python -c pass`, side by side in one run.

Run it with the Python of a fresh, non-editable install (compiled .pyc, as users get it):

    python3.11 -m venv /tmp/pl && /tmp/pl/bin/pip install .
    python3.11 -m venv /tmp/jrnl && /tmp/jrnl/bin/pip install jrnl     # optional: the `jrnl -n 1` yardstick
    /tmp/pl/bin/python benchmarks/bench.py --jrnl /tmp/jrnl/bin/jrnl  # writes docs/performance.md's table
    /tmp/pl/bin/python benchmarks/bench.py --quick                    # fewer rounds, prints only
    /tmp/pl/bin/python benchmarks/bench.py --feeds                    # only refreshing big and dense feeds

It builds synthetic homes in a temp folder: a new one (5 peers, 3 weeks of entries), ten years of weekly
history, the same two with the six-month review long overdue, a new home with a year of cached busy time,
and the largest real case: twenty years of the method with 50 peers (about 1,300 entries). Each command runs
as its own process, many rounds, interleaved with the floor so that machine noise hits both alike. Timing
lives here, never in the test suite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

from peerloop.core.freetime import Busy, busy_to_toml
from peerloop.core.ids import entry_id
from peerloop.core.models import JournalYear, Meeting, Mode, Peer, Roster, Settings, Skip, Touch
from peerloop.store.codecs.toml import dump_toml
from peerloop.store.records import Store

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "performance.md"
MARK_BEGIN = "<!-- bench:begin -->"
MARK_END = "<!-- bench:end -->"

# (command, argv, home, budget as a multiple of the floor)
Case = tuple[str, list[str], str, float]
LARGEST = "20 years, 50 peers"
"""The largest real case (DESIGN.md): its rows are held to the table budget and to LARGEST_MB of memory."""
LARGEST_MB = 50.0
GROWTH = 1.15
"""A weekly command on ten years of history costs at most this much more than on a new home."""
JRNL_SHARE = 0.6
"""`peerloop next` costs at most this share of `jrnl -n 1`."""


def build_home(folder: Path, peers: int, years: int, overdue: bool = False, touches: bool = False) -> Path:
    """A home whose journal holds `years` years of weekly meetings and skips up to today (3 weeks for 0),
    and with `touches` a touch between meetings every fourth week (about 65 entries a year in all).

    The trial started 3 weeks ago; with `overdue`, two years ago and never reviewed."""
    store = Store(folder)
    today = dt.date.today()
    start = today - dt.timedelta(weeks=52 * years) if years else today - dt.timedelta(weeks=3)
    trial_start = today - dt.timedelta(weeks=104 if overdue else 3)
    settings = Settings(
        name="Dana Ode", timezone="Europe/Berlin", weekday=1, time=dt.time(8, 30), duration=45,
        mode=Mode.COFFEE, trial_start=trial_start, email="dana@example.com",
    )  # fmt: skip
    roster = Roster(
        settings=settings,
        peers=tuple(
            Peer(name=f"Peer {n:03d}", added=start, email=f"peer{n}@example.com", org="Acme")
            for n in range(peers)
        ),
    )
    store.save_roster(roster)
    by_year: dict[int, JournalYear] = {}
    day = start - dt.timedelta(days=start.weekday()) + dt.timedelta(days=1)
    n = 0
    while day < today - dt.timedelta(days=7):
        year = by_year.setdefault(day.year, JournalYear(year=day.year))
        peer = roster.peers[n % peers].name
        taken = [entry.id for entry in year.entries()]
        if n % 9 == 8:
            year = year._replace(
                skips=(*year.skips, Skip(entry_id(day, taken, "bench"), day, "travel", peer))
            )
        else:
            meeting = Meeting(entry_id(day, taken, "bench"), day, peer, Mode.COFFEE, issue="Hiring a head of sales",
                              win="Shipped the beta", note="private")  # fmt: skip
            year = year._replace(meetings=(*year.meetings, meeting))
        if touches and n % 4 == 3:
            touch_day = day + dt.timedelta(days=2)
            touch = Touch(
                entry_id(touch_day, [e.id for e in year.entries()], "bench"), touch_day, peer, "called"
            )
            year = year._replace(touches=(*year.touches, touch)) if touch_day.year == day.year else year
        by_year[day.year] = year
        n += 1
        day += dt.timedelta(days=7)
    for year in by_year.values():
        store.save_year(year)
    return folder


def add_busy_year(folder: Path) -> Path:
    """A year of cached busy time, as `sync` leaves it: six meetings every weekday, one of them on the weekly
    slot (Tuesday 08:30 in Berlin), so that `next` and `plan` move every meeting."""
    zone = ZoneInfo("Europe/Berlin")
    monday = dt.date.today() - dt.timedelta(days=dt.date.today().weekday())
    busy = [
        Busy(start, start + dt.timedelta(minutes=50), "Team sync")
        for day in (monday + dt.timedelta(days=n) for n in range(365) if (monday.weekday() + n) % 7 < 5)
        for hour in (8, 10, 11, 13, 15, 16)
        for start in [dt.datetime.combine(day, dt.time(hour, 15), zone)]
    ]
    table = {"refreshed_at": dt.datetime.now(dt.UTC), "busy": busy_to_toml(busy)}
    store = Store(folder)
    with store.change():
        store.save_busy(dump_toml(table))
    return folder


PASSPHRASE = "correct horse battery staple"
ENCRYPTED = ("new, encrypted", "10 years, encrypted", "new, encrypted, password command")
"""Encrypted homes: the passphrase from $PEERLOOP_PASSPHRASE, or from a password command (`cat FILE`)."""


def encrypt_home(folder: Path, command: str | None = None) -> Path:
    """The home encrypted with PASSPHRASE, as `peerloop encrypt` leaves it (with `command` as its source)."""
    from peerloop.actions.encryption import encrypt, passphrase_key
    from peerloop.core.connections import PasswordSource

    encrypt(Store(folder), passphrase_key(PASSPHRASE, PasswordSource(command=command)))
    return folder


def cases() -> list[Case]:
    """Every command with its budget, on the homes it is judged on (issue 12, item 9; DESIGN.md)."""
    weekly = [
        ("next", ["next"], 10.0),
        ("log (a meeting)", ["log", "Peer 001", "--issue", "Budget", "--gain", "advice"], 10.0),
        ("status --check", ["status", "--check"], 10.0),
        ("status --line", ["status", "--line"], 2.5),
        ("status", ["status"], 14.0),
    ]
    tables = [
        ("peers", ["peers"], 14.0),
        ("plan", ["plan"], 14.0),
        ("history", ["history"], 14.0),
        ("--help", ["--help"], 14.0),
        ("export (26 weeks)", ["export", "--weeks", "26", "-o", os.devnull], 14.0),
    ]
    result: list[Case] = []
    for label, argv, budget in weekly:
        for home in ("new", "10 years", "new, review overdue", "10 years, review overdue"):
            result.append((label, argv, home, budget))
    result += [(label, argv, "new", budget) for label, argv, budget in tables]
    result += [
        ("next", ["next"], "new, a year of busy time", 10.0),
        ("plan", ["plan"], "new, a year of busy time", 14.0),
    ]
    result += [(label, argv, home, budget) for home in ENCRYPTED for label, argv, budget in weekly[:2]]
    result += [(label, argv, "new, encrypted", budget) for label, argv, budget in (weekly[2], weekly[4])]
    # An encrypted folder keeps no cache of the prompt line (it names a peer): with the passphrase in the
    # environment the line is computed like a weekly command; without it, the line is "locked".
    result += [("status --line", ["status", "--line"], "new, encrypted", 10.0),
               ("status --line", ["status", "--line"], "new, encrypted, locked", 2.5)]  # fmt: skip
    result += [(label, argv, LARGEST, 14.0) for label, argv in
               (("peers", ["peers"]), ("history", ["history"]), ("history --all", ["history", "--all"]),
                ("review --json", ["review", "--json", "--early"]), ("status", ["status"]))]  # fmt: skip
    return result


def peerloop_command() -> list[str]:
    """The installed console script next to this interpreter, as a user runs it."""
    script = Path(sys.executable).with_name("peerloop")
    return [str(script)] if script.exists() else [sys.executable, "-m", "peerloop"]


def time_once(argv: Sequence[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall time and exit code of one process."""
    started = time.perf_counter()
    process = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, check=False)  # fmt: skip
    return time.perf_counter() - started, process.returncode


def peak_memory(argv: Sequence[str], env: dict[str, str]) -> float:
    """The process's own peak memory (MB). Not from this process's `wait4`: a child forked from the benchmark
    starts as a copy of it, and Linux counts that copy in the child's peak (every row read 49 MB, the
    benchmark's own size). GNU time forks it instead, and is small."""
    with tempfile.NamedTemporaryFile("r") as out:
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out.name, *argv], env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)  # fmt: skip
        return int(out.read().split()[-1]) / 1024


def jrnl_home(folder: Path) -> dict[str, str]:
    """jrnl's config and a small journal, so that `jrnl -n 1` reads an entry instead of asking questions."""
    (folder / "jrnl").mkdir(parents=True)
    journal = folder / "journal.txt"
    journal.write_text(
        "".join(f"[2026-01-{d:02d} 09:00:00 AM] Coffee with Ann.\nNotes.\n\n" for d in range(1, 29))
    )
    (folder / "jrnl" / "jrnl.yaml").write_text(
        "colors: {body: none, date: none, tags: none, title: none}\ndefault_hour: 9\ndefault_minute: 0\n"
        "editor: ''\nencrypt: false\nhighlight: false\nindent_character: '|'\n"
        f"journals:\n  default:\n    journal: {journal}\nlinewrap: 79\ntagsymbols: '#@'\n"
        "template: false\ntimeformat: '%F %r'\nversion: v4.6\n"
    )
    return {"XDG_CONFIG_HOME": str(folder), "XDG_DATA_HOME": str(folder)}


class Row(NamedTuple):
    command: str
    home: str
    ms: float
    ratio: float
    budget: float
    exit: int
    memory_mb: float


def run(rounds: int, jrnl: str | None) -> tuple[list[Row], float, float | None]:
    base_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PEERLOOP_HOME")}
    base_env |= {
        "NO_COLOR": "1",
        "COLUMNS": "120",
        "PEERLOOP_DEVICE": "bench",
    }  # no device id in your state folder
    with tempfile.TemporaryDirectory(prefix="peerloop-bench-") as tmp:
        folder = Path(tmp)
        homes = {
            "new": build_home(folder / "new", peers=5, years=0),
            "10 years": build_home(folder / "ten", peers=5, years=10),
            "new, review overdue": build_home(folder / "new-overdue", peers=5, years=0, overdue=True),
            "10 years, review overdue": build_home(folder / "ten-overdue", peers=5, years=10, overdue=True),
            "new, a year of busy time": add_busy_year(build_home(folder / "busy", peers=5, years=0)),
            LARGEST: build_home(folder / "largest", peers=50, years=20, touches=True),
        }
        (folder / "passphrase").write_text(PASSPHRASE + "\n")
        homes["new, encrypted"] = encrypt_home(build_home(folder / "new-sealed", peers=5, years=0))
        homes["10 years, encrypted"] = encrypt_home(build_home(folder / "ten-sealed", peers=5, years=10))
        homes["new, encrypted, password command"] = encrypt_home(
            build_home(folder / "new-command", peers=5, years=0), f"cat {folder / 'passphrase'}"
        )
        homes["new, encrypted, locked"] = homes["new, encrypted"]
        keyed = {"PEERLOOP_PASSPHRASE": PASSPHRASE}
        home_env = {"new, encrypted": keyed, "10 years, encrypted": keyed}
        command = peerloop_command()
        all_cases = cases()
        # `log` writes: it gets its own copies, so that it does not make the other commands' caches stale.
        for n, (_, argv, home, _) in enumerate(all_cases):
            if argv[0] == "log":
                homes[f"{home}#{n}"] = Path(shutil.copytree(homes[home], folder / f"log-{n}"))
        jrnl_env = base_env | jrnl_home(folder / "jrnl-home") if jrnl else {}
        runs: list[tuple[list[str], dict[str, str]]] = [([sys.executable, "-c", "pass"], base_env)]
        runs += [([jrnl, "-n", "1"], jrnl_env)] if jrnl else []
        for n, (_, argv, home, _) in enumerate(all_cases):
            where = homes.get(f"{home}#{n}", homes[home])
            runs.append(
                ([*command, *argv], base_env | {"PEERLOOP_HOME": str(where)} | home_env.get(home, {}))
            )
        for argv, env in runs:  # warm-up: bytecode caches, page cache, the status line's cache
            time_once(argv, env)
        memory = [peak_memory(argv, env) for argv, env in runs]
        timings: list[list[float]] = [[] for _ in runs]
        codes = [0] * len(runs)
        for _ in range(rounds):
            for n, (argv, env) in enumerate(runs):
                elapsed, codes[n] = time_once(argv, env)
                timings[n].append(elapsed)
        medians = [statistics.median(t) for t in timings]
        floor = medians[0]
        jrnl_ms = medians[1] * 1000 if jrnl else None
        first = 2 if jrnl else 1
        rows = [
            Row(label, home, medians[first + n] * 1000, medians[first + n] / floor, budget, codes[first + n],
                memory[first + n])
            for n, (label, _, home, budget) in enumerate(all_cases)
        ]  # fmt: skip
    return rows, floor, jrnl_ms


def verdict(row: Row, rows: list[Row], jrnl_ms: float | None) -> tuple[str, bool]:
    """The budget a row is held to, in words, and whether it was met."""
    shown, met = f"{row.budget:g}x", row.ratio <= row.budget
    if row.home == LARGEST:
        shown += f", < {LARGEST_MB:g} MB"
        met = met and row.memory_mb < LARGEST_MB
    if row.home.startswith("10 years"):
        new_home = row.home.replace("10 years", "new")
        growth = row.ms / next(r.ms for r in rows if r.command == row.command and r.home == new_home)
        shown += f"; {growth:.2f}x {new_home} (<= {GROWTH:g}x)"
        met = met and growth <= GROWTH
    if row.command == "next" and row.home == "new" and jrnl_ms is not None:
        share = row.ms / jrnl_ms
        shown += f"; {share:.2f}x `jrnl -n 1` (<= {JRNL_SHARE:g}x)"
        met = met and share <= JRNL_SHARE
    return shown, met


def table(rows: list[Row], floor: float, jrnl_ms: float | None) -> str:
    jrnl = (
        f" `jrnl -n 1` (v4.6, 28 entries): {jrnl_ms:.1f} ms, {jrnl_ms / floor / 1000:.2f}x."
        if jrnl_ms is not None else " `jrnl -n 1`: not measured (no --jrnl)."
    )  # fmt: skip
    lines = [
        f"Floor (`python -c pass`): {floor * 1000:.1f} ms.{jrnl} Ratios are medians over whole processes.",
        "",
        "| command | home | median ms | x floor | peak MB | budget | met |",
        "| --- | --- | ---: | ---: | ---: | --- | --- |",
    ]
    for row in rows:
        shown, met = verdict(row, rows, jrnl_ms)
        said = ("yes" if met else "NO") + ("" if row.exit in (0, 10, 11) else f" (exit {row.exit})")
        lines.append(
            f"| `peerloop {row.command}` | {row.home} | {row.ms:.1f} | {row.ratio:.2f} | {row.memory_mb:.0f} "
            f"| {shown} | {said} |"
        )
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def write_docs(text: str) -> None:
    current = DOCS.read_text(encoding="utf-8")
    begin, end = current.index(MARK_BEGIN) + len(MARK_BEGIN), current.index(MARK_END)
    DOCS.write_text(current[:begin] + "\n" + text + "\n" + current[end:], encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21, help="runs per command (default 21)")
    parser.add_argument("--quick", action="store_true", help="7 rounds, print only, do not write the docs")
    parser.add_argument("--jrnl", metavar="PATH", help="a jrnl executable, timed as a yardstick for `next`")
    parser.add_argument(
        "--feeds", action="store_true", help="only the busy-time refresh rows (refresh_bench.py)"
    )
    options = parser.parse_args()
    if options.feeds:  # seconds and MB for `plan --refresh` of big and dense feeds, printed only
        from refresh_bench import refresh_rows

        print(refresh_rows())
        return
    rounds = 7 if options.quick else options.rounds
    rows, floor, jrnl_ms = run(rounds, options.jrnl)
    import peerloop

    editable = Path(peerloop.__file__).resolve().is_relative_to(ROOT / "src")
    installed = "from the source tree (editable)" if editable else "installed (non-editable)"
    text = (
        f"Measured {dt.date.today().isoformat()} on {machine()}, {rounds} rounds, peerloop {installed}.\n\n"
        + table(rows, floor, jrnl_ms)
    )
    print(text)
    if not options.quick:
        write_docs(text)
        print(f"\nWrote {DOCS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
