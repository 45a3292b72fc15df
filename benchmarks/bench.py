"""Whole-process timings of peerloop's commands, as ratios to a bare `python -c pass` run side by side.

Run it from the repository (after installing peerloop in the venv you run it with):

    .venv/bin/python benchmarks/bench.py            # writes docs/performance.md's table
    .venv/bin/python benchmarks/bench.py --quick    # fewer rounds, prints only

It builds three synthetic homes in a temp folder: a new one (this week, 5 peers, a few entries), ten years
of weekly history (about 520 entries), and a stress case of 500 peers and 10,000 entries. Each command
runs as its own process, many rounds, interleaved with the floor so machine noise hits both alike.
Timing lives here, never in the test suite.
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

from peerloop.journal import entry_id
from peerloop.models import Meeting, Mode, Peer, Roster, Settings, Skip
from peerloop.session import Store

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "performance.md"
MARK_BEGIN = "<!-- bench:begin -->"
MARK_END = "<!-- bench:end -->"

# (label, argv, home, budget as a multiple of the floor; 0 for the stress home, judged on time and memory)
Case = tuple[str, list[str], str, float]


def build_home(folder: Path, peers: int, years: int, entries_per_week: int = 1) -> Path:
    """A home whose journal holds `years` years of weekly meetings and skips up to today."""
    store = Store(folder)
    today = dt.date.today()
    start = today - dt.timedelta(weeks=52 * years) if years else today - dt.timedelta(weeks=3)
    settings = Settings(
        name="Dana Ode", timezone="Europe/Berlin", weekday=1, time=dt.time(8, 30), duration=45,
        mode=Mode.COFFEE, trial_start=today - dt.timedelta(weeks=3), email="dana@example.com",
    )  # fmt: skip
    roster = Roster(
        settings=settings,
        peers=tuple(
            Peer(name=f"Peer {n:03d}", added=start, email=f"peer{n}@example.com", org="Acme")
            for n in range(peers)
        ),
    )
    store.save_roster(roster)
    by_year: dict[int, tuple[list[Meeting], list[Skip]]] = {}
    day = start - dt.timedelta(days=start.weekday()) + dt.timedelta(days=1)
    n = 0
    while day < today - dt.timedelta(days=7):
        for k in range(entries_per_week):
            entry_day = day + dt.timedelta(days=k % 5)
            if entry_day >= today:
                break
            meetings, skips = by_year.setdefault(entry_day.year, ([], []))
            peer = roster.peers[n % peers].name
            taken = [m.id for m in meetings] + [s.id for s in skips]
            if n % 9 == 8:
                skips.append(Skip(id=entry_id(entry_day, taken), date=entry_day, reason="travel", peer=peer))
            else:
                meetings.append(
                    Meeting(
                        id=entry_id(entry_day, taken),
                        date=entry_day,
                        peer=peer,
                        mode=Mode.COFFEE,
                        issue="Hiring a head of sales",
                        win="Shipped the beta",
                        note="private",
                    )
                )
            n += 1
        day += dt.timedelta(days=7)
    from peerloop.models import JournalYear

    for year, (meetings, skips) in by_year.items():
        store.save_year(JournalYear(year=year, meetings=tuple(meetings), skips=tuple(skips)))
    return folder


def cases() -> list[Case]:
    weekly = [
        ("next", ["next"], 6.0),
        ("status", ["status"], 6.0),
        ("status --line", ["status", "--line"], 3.0),
        ("log (a meeting)", ["log", "Peer 001", "--issue", "Budget", "--gain", "advice"], 6.0),
    ]
    reads = [
        ("--help", ["--help"], 6.0),
        ("next --json", ["next", "--json"], 6.0),
        ("peers", ["peers"], 6.0),
        ("plan", ["plan"], 6.0),
        ("history", ["history"], 6.0),
        ("export (26 weeks)", ["export", "--weeks", "26", "-o", os.devnull], 9.0),
    ]
    result: list[Case] = []
    for label, argv, budget in weekly:
        for home in ("new", "10 years"):
            result.append((label, argv, f"{home} (for log)" if argv[0] == "log" else home, budget))
    result += [(label, argv, "new", budget) for label, argv, budget in reads]
    result += [
        ("history", ["history"], "stress", 0.0),
        ("review --json", ["review", "--json", "--early"], "stress", 0.0),
    ]
    return result


def peerloop_command() -> list[str]:
    """The installed console script next to this interpreter, as a user runs it."""
    script = Path(sys.executable).with_name("peerloop")
    return [str(script)] if script.exists() else [sys.executable, "-m", "peerloop"]


def time_once(argv: Sequence[str], env: dict[str, str]) -> tuple[float, int]:
    started = time.perf_counter()
    completed = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, check=False)  # fmt: skip
    return time.perf_counter() - started, completed.returncode


def peak_memory_mb(argv: Sequence[str], env: dict[str, str]) -> float:
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=False)  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(before, after) / 1024


class Row(NamedTuple):
    command: str
    home: str
    ms: float
    ratio: float
    budget: float
    exit: int
    memory_mb: float | None


def run(rounds: int) -> tuple[list[Row], float]:
    base_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PEERLOOP_HOME")}
    base_env |= {"NO_COLOR": "1"}
    with tempfile.TemporaryDirectory(prefix="peerloop-bench-") as tmp:
        folder = Path(tmp)
        homes = {
            "new": build_home(folder / "new", peers=5, years=0),
            "10 years": build_home(folder / "ten", peers=5, years=10),
            "stress": build_home(folder / "stress", peers=500, years=10, entries_per_week=20),
        }
        # `log` writes: it gets copies, so that it does not make the other commands' caches stale every round.
        for name in ("new", "10 years"):
            homes[f"{name} (for log)"] = Path(shutil.copytree(homes[name], folder / f"{name} (for log)"))
        command = peerloop_command()
        floor_argv = [sys.executable, "-c", "pass"]
        all_cases = cases()

        def env_for(home: str) -> dict[str, str]:
            return base_env | {"PEERLOOP_HOME": str(homes[home])}

        for _, argv, home, _ in all_cases:  # warm-up: bytecode caches, page cache, the status line's cache
            time_once([*command, *argv], env_for(home))
        floor: list[float] = []
        timings: dict[int, list[float]] = {n: [] for n in range(len(all_cases))}
        codes: dict[int, int] = {}
        for _ in range(rounds):
            for n, (_, argv, home, _) in enumerate(all_cases):
                floor.append(time_once(floor_argv, base_env)[0])
                elapsed, codes[n] = time_once([*command, *argv], env_for(home))
                timings[n].append(elapsed)
        floor_median = statistics.median(floor)
        rows = []
        for n, (label, argv, home, budget) in enumerate(all_cases):
            median = statistics.median(timings[n])
            memory = peak_memory_mb([*command, *argv], env_for(home)) if home == "stress" else None
            rows.append(Row(label, home, median * 1000, median / floor_median, budget, codes[n], memory))
    return rows, floor_median


def table(rows: list[Row], floor: float) -> str:
    lines = [
        f"Floor (`python -c pass`): {floor * 1000:.1f} ms. Ratios are medians over whole processes.",
        "",
        "| command | home | median ms | x floor | budget | met |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    new_ms = {row.command: row.ms for row in rows if row.home.startswith("new")}
    for row in rows:
        if row.memory_mb is not None:
            met = row.ms < 1000 and row.memory_mb < 100
            shown = f"< 1 s, < 100 MB (peak {row.memory_mb:.0f} MB)"
        elif row.home.startswith("10 years"):
            growth = row.ms / new_ms[row.command]
            met = row.ratio <= row.budget and growth <= 1.2
            shown = f"{row.budget:g}x; {growth:.2f}x the new home (<= 1.2x)"
        else:
            met = row.ratio <= row.budget
            shown = f"{row.budget:g}x"
        verdict = ("yes" if met else "NO") + ("" if row.exit == 0 else f" (exit {row.exit})")
        lines.append(
            f"| `peerloop {row.command}` | {row.home} | {row.ms:.1f} | {row.ratio:.2f} | {shown} | {verdict} |"
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
    options = parser.parse_args()
    rounds = 7 if options.quick else options.rounds
    rows, floor = run(rounds)
    text = f"Measured {dt.date.today().isoformat()} on {machine()}, {rounds} rounds.\n\n" + table(rows, floor)
    print(text)
    if not options.quick:
        write_docs(text)
        print(f"\nWrote {DOCS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
