"""What the hardening tests share: a lived-in data folder, a snapshot of its files, and the rules every
answer of peerloop must follow (a documented exit code, no traceback, one error line)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from peerloop import prompts
from peerloop.cli import app_for
from peerloop.errors import Exit

NOW = "2026-04-15T09:00"
"""A Wednesday in week 7 of a trial that started on 2026-03-02 (the review is due on 2026-08-31)."""
PEERS = ("Ann Lee", "Bo Chen", "Cy Dee", "Di Eze")
IDS = (
    "20260303-psve7",
    "20260310-vzrq2",
    "20260317-dvvbh",
    "20260324-cgk6s",
    "20260415-s98ma",
    "20991231-eyay7",
    "x",
)

DOCUMENTED_CODES = frozenset(
    {Exit.OK, Exit.ABORTED, Exit.USAGE, Exit.CONFLICT, Exit.DATA, Exit.STORAGE, Exit.NOT_SET_UP,
     Exit.REFUSED_LOGIN, Exit.OVERDUE, Exit.REVIEW_DUE}
)  # fmt: skip
"""8 too: `encrypt` and an encrypted folder without a passphrase (no server is reached in these tests)."""
NOT_ERRORS = frozenset({Exit.OK, Exit.OVERDUE, Exit.REVIEW_DUE})
DEVICE = "testbox"
"""This machine's device id in every test (conftest pins $PEERLOOP_DEVICE), so that ids are the same each run."""
LOCK, COMMIT = f".lock-{DEVICE}", f".commit-{DEVICE}"
SCRATCH = frozenset({LOCK, ".status-line", ".missed-week"})
"""Files that are not data: the lock (created empty by every write), the status line's cache, and (by their
`.cache` ending) the parsed copies of big files."""


def populate(home: Path, secret: str = "a private note") -> None:
    """A lived-in data folder: settings, four peers (one paused), meetings, a skip, a reflection, calendar state.

    `secret` goes into every private text field, so that tests can look for it where it must never go.
    """
    steps = [
        ["init", "--name", "Dana Ode", "--email", "dana@example.com", "--timezone", "Europe/Berlin", "--day",
         "tue", "--time", "08:30", "--start", "2026-03-02", *(w for p in PEERS for w in ("--peer", p))],
        ["edit", "Ann Lee", "--email", "ann@example.com", "--org", "Acme", "--note", secret],
        ["edit", "Bo Chen", "--email", "bo@example.com", "--mode", "lunch"],
        ["log", "Ann Lee", "--date", "2026-03-03", "--issue", secret, "--gain", "advice", "--win", secret,
         "--works", secret, "--improve", secret, "--follow-up", secret, "--note", secret],
        ["log", "--skip", "--date", "2026-03-10", "--reason", secret],
        ["log", "Bo Chen", "--date", "2026-03-17", "--mode", "call", "--note", secret],
        ["log", "Cy Dee", "--date", "2026-03-24", "--follow-up", "send the deck"],
        ["reflect", "--name", "Ann Lee", "--name", "Eve Fox", "--why", secret, "--excuse", secret, "--ceo", secret],
        ["pause", "Di Eze", "--until", "2026-05-20"],
        ["export", "-o", os.devnull],
    ]  # fmt: skip
    runner = CliRunner()
    saved = {key: os.environ.get(key) for key in ("PEERLOOP_HOME", "PEERLOOP_NOW")}
    os.environ["PEERLOOP_HOME"], os.environ["PEERLOOP_NOW"] = str(home), NOW
    asking = prompts.interactive
    prompts.interactive = lambda: False  # built from flags alone, even in a test that plays a terminal
    try:
        for step in steps:
            result = runner.invoke(app_for(step), step)
            assert result.exit_code == 0, (step, result.output)
    finally:
        prompts.interactive = asking
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (data, exports, reports), by relative path, except the scratch files."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name not in SCRATCH and not path.name.endswith(".toml.cache"):
            found[str(path.relative_to(folder))] = path.read_bytes()
    return found


def data_files(home: Path) -> list[Path]:
    """The files peerloop keeps in a data folder."""
    return sorted(
        path
        for path in [home / "roster.toml", home / "calendar.toml", *(home / "journal").glob("*.toml")]
        if path.is_file()
    )


def check_result(result: Any, argv: list[str]) -> None:
    """`check_answer` for an in-process run (a CliRunner result)."""
    check_answer(argv, result.exit_code, result.stdout, result.stderr)


def check_answer(argv: object, code: int, stdout: str, stderr: str) -> None:
    """The rules for any answer: a documented code, no traceback, no 'bug' message, errors as one line."""
    said = f"argv={argv!r}\ncode={code}\nstdout={stdout[-500:]!r}\nstderr={stderr[-1500:]!r}"
    assert code in DOCUMENTED_CODES, said
    for sign in ("Traceback", 'File "', "This is a bug"):
        assert sign not in stderr, said
        assert sign not in stdout, said
    errors = [line for line in stderr.splitlines() if "peerloop: error:" in line]
    if code in NOT_ERRORS:
        assert errors == [], said
        return
    if code == Exit.DATA and not errors:  # `doctor` reports what it found on stdout and exits 4
        assert "problem" in stdout, said
        return
    assert len(errors) == 1, said
    assert errors[0].startswith("peerloop: error: "), said
    assert stderr.endswith(errors[0] + "\n"), said


CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def no_raw_control(text: str) -> bool:
    """No control character a terminal would obey (tab and newline aside)."""
    return CONTROL.search(text) is None


def subprocess_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a real `python -m peerloop`, with its data folder in `home`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PEERLOOP_", "_PEERLOOP", "PYTEST_", "COV_")) or key == "PEERLOOP_DEVICE"
    }
    env.update({"PEERLOOP_HOME": str(home), "NO_COLOR": "1", "COLUMNS": "120", "TZ": "UTC"})
    env.update(extra or {})
    return env


def python_peerloop(*args: str | bytes) -> list[str | bytes]:
    return [sys.executable, "-m", "peerloop", *args]


def shell(home: Path, script: str, **env: str) -> subprocess.CompletedProcess[str]:
    """A shell script run against `home`, the clock pinned at NOW."""
    return subprocess.run(["sh", "-c", script], env=subprocess_env(home, {"PEERLOOP_NOW": NOW, **env}),
                          stdin=subprocess.DEVNULL, capture_output=True, encoding="utf-8", errors="replace", timeout=60,
                          check=False)  # fmt: skip
