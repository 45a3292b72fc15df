"""Many peerloop processes writing at once: the lock serialises them and no peer is lost."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from peerloop.session import Store
from tests.conftest import Invoke

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
    assert sorted(path.name for path in home.iterdir()) == [".lock", "roster.toml"]
