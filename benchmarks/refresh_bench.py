"""Refreshing busy time from a feed as big as a Google export and from feeds repeating every minute or second
(issue 23): `peerloop plan --refresh` as its own process, with budgets in seconds and MB rather than ratios.
Run through `bench.py --feeds`; the rows are printed, and copied by hand into docs/performance.md.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import peak_memory  # wait4's peak would count the benchmark's own copy
from google_feed import LEADER, TODAY

ROUNDS = 5
BUDGETS = {
    "a Google export: 20,000 events in 40 series, 7.4 MB": (5.0, 150.0),
    "an event every minute, no end, since two years": (10.0, 150.0),
    "an event every second, no end, since two years": (10.0, 150.0),
}
"""Each feed with its budget: wall seconds and peak MB of the refresh."""


def peerloop_command() -> list[str]:
    script = Path(sys.executable).with_name("peerloop")
    return [str(script)] if script.exists() else [sys.executable, "-m", "peerloop"]


def endless(rule: str) -> bytes:
    """One event repeating with `rule` (MINUTELY, SECONDLY) without an end, from two years before TODAY."""
    first = dt.datetime.combine(TODAY, dt.time(9)) - dt.timedelta(days=730)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//peerloop bench//EN", "BEGIN:VEVENT", "UID:tick",
             "DTSTAMP:20260101T000000Z", f"DTSTART;TZID=Europe/Berlin:{first:%Y%m%dT%H%M%S}", "DURATION:PT1S",
             f"RRULE:FREQ={rule}", "SUMMARY:Tick", "END:VEVENT", "END:VCALENDAR"]  # fmt: skip
    return "".join(f"{line}\r\n" for line in lines).encode()


def feed_homes(folder: Path, env: dict[str, str]) -> dict[str, Path]:
    """A new home per feed (the leader is the feed's owner, so what they declined is free), the feed connected
    with `connect busy`. google_feed.py writes the big feed in its own process: on Linux a child's peak RSS
    starts at its parent's."""
    google = folder / "feed-0.ics"
    subprocess.run([sys.executable, str(Path(__file__).with_name("google_feed.py")), str(google)], check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    (folder / "feed-1.ics").write_bytes(endless("MINUTELY"))
    (folder / "feed-2.ics").write_bytes(endless("SECONDLY"))
    homes = {}
    for n, label in enumerate(BUDGETS):
        home = folder / f"home-{n}"
        for argv in (
            ["init", "--name", "Dana Ode", "--email", LEADER, "--timezone", "Europe/Berlin", "--day", "tue",
             "--time", "08:30", "--start", "mon", *(arg for n in range(5) for arg in ("--peer", f"Peer {n}"))],
            ["connect", "busy", str(folder / f"feed-{n}.ics")],
        ):  # fmt: skip
            subprocess.run([*peerloop_command(), *argv], check=True, env=env | {"PEERLOOP_HOME": str(home)},
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)  # fmt: skip
        homes[label] = home
    return homes


def refresh_rows(rounds: int = ROUNDS) -> str:
    """`peerloop plan --refresh` on each feed: median wall and CPU seconds, peak RSS, what it said on stderr."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PEERLOOP_HOME")}
    env |= {"NO_COLOR": "1", "COLUMNS": "120", "PEERLOOP_NOW": f"{TODAY.isoformat()}T09:00"}
    lines = [
        f"`peerloop plan --refresh`, clock pinned to {TODAY}, median of {rounds} runs:",
        "",
        "| feed | wall s | CPU s | peak MB | said | budget | met |",
        "| --- | ---: | ---: | ---: | --- | --- | --- |",
    ]
    with tempfile.TemporaryDirectory(prefix="peerloop-bench-feeds-") as tmp:
        for label, home in feed_homes(Path(tmp), env).items():
            walls, cpus, said = [], [], ""
            for _ in range(rounds):
                with tempfile.TemporaryFile() as stderr:
                    started = time.perf_counter()
                    process = subprocess.Popen([*peerloop_command(), "plan", "--refresh"], stdin=subprocess.DEVNULL,
                                               stdout=subprocess.DEVNULL, stderr=stderr,
                                               env=env | {"PEERLOOP_HOME": str(home)})  # fmt: skip
                    _, status, usage = os.wait4(process.pid, 0)
                    walls.append(time.perf_counter() - started)
                    cpus.append(usage.ru_utime + usage.ru_stime)
                    stderr.seek(0)
                    said = " ".join(stderr.read().decode().replace(f"{tmp}/", "").split())
                    said += f" (exit {os.waitstatus_to_exitcode(status)})"
            peak = peak_memory([*peerloop_command(), "plan", "--refresh"], env | {"PEERLOOP_HOME": str(home)})
            seconds, megabytes = BUDGETS[label]
            met = statistics.median(walls) < seconds and peak < megabytes
            lines.append(f"| {label} | {statistics.median(walls):.2f} | {statistics.median(cpus):.2f} | {peak:.0f} "
                         f"| {said} | < {seconds:g} s, < {megabytes:g} MB | {'yes' if met else 'NO'} |")  # fmt: skip
    return "\n".join(lines)


if __name__ == "__main__":
    print(refresh_rows())
