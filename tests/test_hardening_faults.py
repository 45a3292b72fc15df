"""Faults while writing: a full disk, a read-only or forbidden folder, a lock held elsewhere. Each is one
clear line (exit 5), and every file is as it was before the command, also for commands that write several
files (a rename rewrites the journal and the roster; a review writes the roster, the journal and a report).

We run as root here, so a `chmod 500` folder would not stop us: the faults are injected with their real
errno at the system calls peerloop makes (creating a temp file, writing it, opening the lock).
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from peerloop import atomic
from tests.conftest import Invoke
from tests.hardening import NOW, populate, snapshot

WRITES = [
    ["init", "--time", "09:00"],
    ["add", "Eve Fox", "--org", "Acme"],
    ["edit", "Ann Lee", "--org", "Beta"],
    ["edit", "Bo Chen", "--name", "Bo Chan"],  # the journal's entries follow the new name
    ["remove", "Cy Dee", "--yes"],
    ["pause", "Ann Lee", "--until", "2026-06-01"],
    ["resume", "Di Eze"],
    ["log", "Cy Dee", "--date", "2026-04-14", "--note", "n"],
    ["log", "Di Eze", "--date", "2026-04-07"],  # before Di was added: the roster's date moves back too
    ["log", "--skip", "--reason", "ill", "--date", "2026-04-14"],
    ["log", "--amend", "20260303-1", "--win", "a deal"],
    ["log", "--amend", "20260303-1", "--date", "2025-12-30"],  # moves the entry to the 2025 file
    ["forget", "20260324-1", "--yes"],
    ["reflect", "--name", "Gil Ho", "--add-names", "--excuse", "busy"],  # the roster and the journal
    ["review", "--early", "--added-value", "partly", "--decision", "adjust", "--report", "review.md"],
    ["export", "-o", "out.ics"],
    ["export", "--alarm", "10", "-o", "-"],  # an alarm changes every event: new SEQUENCE numbers to record
    ["invite", "Ann Lee", "-o", "ann.ics"],
]
IDS = [" ".join(command) for command in WRITES]

REASONS = {
    errno.ENOSPC: "the disk is full; free some space and try again",
    errno.EDQUOT: "the disk quota is exceeded; free some space and try again",
    errno.EROFS: "the file system is read-only; point --home or PEERLOOP_HOME at a writable folder",
    errno.EACCES: "permission denied; check the folder's owner and permissions",
}


class Lab:
    """The lived-in folder (and the working folder for exports and reports), restored before each try."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pristine = root.parent / "pristine"
        self.home = root / "home"
        self.work = root / "work"
        populate(self.pristine)

    def reset(self) -> dict[str, bytes]:
        """The lived-in home again, and an empty working folder (the same folder: it is the cwd)."""
        shutil.rmtree(self.home, ignore_errors=True)
        shutil.copytree(self.pristine, self.home)
        self.work.mkdir(exist_ok=True)
        for child in self.work.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        return snapshot(self.root)

    def temp_files(self) -> list[Path]:
        return sorted(self.root.rglob(".*.tmp"))


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lab:
    made = Lab(tmp_path / "lab")
    made.root.mkdir()
    made.reset()
    monkeypatch.setenv("PEERLOOP_HOME", str(made.home))
    monkeypatch.setenv("PEERLOOP_NOW", NOW)
    monkeypatch.chdir(made.work)
    return made


def _count_files_written(cli: Invoke, lab: Lab, command: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    """How many files the command writes when all goes well (each is one temp file, then a rename)."""
    made = [0]
    real = atomic._create_temp

    def counting(path: Path) -> tuple[int, str]:
        made[0] += 1
        return real(path)

    lab.reset()
    with monkeypatch.context() as patch:
        patch.setattr(atomic, "_create_temp", counting)
        result = cli(*command)
    assert result.exit_code == 0, (command, result.output)
    return made[0]


def _fail_temp_number(k: int, error_number: int) -> Callable[[Callable[[Path], tuple[int, str]]], object]:
    """The k-th temp file cannot be created (EROFS, EACCES: the folder refuses new files; ENOSPC)."""

    def wrap(real: Callable[[Path], tuple[int, str]]) -> object:
        made = [0]

        def create(path: Path) -> tuple[int, str]:
            made[0] += 1
            if made[0] == k:
                raise OSError(error_number, os.strerror(error_number), str(path))
            return real(path)

        return create

    return wrap


@pytest.mark.parametrize("command", WRITES, ids=IDS)
@pytest.mark.parametrize("error_number", [errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EDQUOT])
def test_a_fault_at_any_file_of_a_command_leaves_every_file_as_it_was(
    cli: Invoke, lab: Lab, monkeypatch: pytest.MonkeyPatch, command: list[str], error_number: int
) -> None:
    files = _count_files_written(cli, lab, command, monkeypatch)
    assert files >= 1
    for k in range(1, files + 1):
        before = lab.reset()
        with monkeypatch.context() as patch:
            patch.setattr(atomic, "_create_temp", _fail_temp_number(k, error_number)(atomic._create_temp))
            result = cli(*command)
        said = f"{command} fault at file {k} of {files}: {result.exit_code} {result.output!r}"
        assert result.exit_code == 5, said
        assert result.stderr.count("\n") == 1, said
        assert result.stderr.startswith("peerloop: error: could not write "), said
        assert f": {REASONS[error_number]}. Nothing was changed\n" in result.stderr, said
        assert snapshot(lab.root) == before, said
        assert lab.temp_files() == [], said
    # The lock was let go: the same command now works.
    lab.reset()
    assert cli(*command).exit_code == 0


def _short_write_then(error_number: int, after: int) -> Callable[[int, object], int]:
    """Like a disk filling up: the first `after` writes go through (a few bytes each), then they fail."""
    real = os.write
    calls = [0]

    def write(fd: int, data: object) -> int:
        calls[0] += 1
        if calls[0] > after:
            raise OSError(error_number, os.strerror(error_number))
        return real(fd, bytes(memoryview(data)[:5]))  # type: ignore[arg-type]

    return write


@pytest.mark.parametrize("command", WRITES, ids=IDS)
def test_a_disk_that_fills_up_part_way_leaves_every_file_as_it_was(
    cli: Invoke, lab: Lab, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    for after in (0, 3, 40, 200):
        before = lab.reset()
        with monkeypatch.context() as patch:
            patch.setattr(os, "write", _short_write_then(errno.ENOSPC, after))
            result = cli(*command)
        if result.exit_code == 0:  # every file fitted in the writes allowed
            continue
        said = f"{command} after {after} writes: {result.exit_code} {result.output!r}"
        assert result.exit_code == 5, said
        assert result.stderr.count("\n") == 1, said
        assert "the disk is full; free some space and try again. Nothing was changed" in result.stderr, said
        assert snapshot(lab.root) == before, said
        assert lab.temp_files() == [], said


READS = [
    ["next"], ["next", "--json"], ["plan", "--weeks", "3"], ["peers"], ["history"], ["history", "Ann Lee"],
    ["status"], ["status", "--json"], ["status", "--line"], ["review", "--json", "--early"], ["doctor"],
]  # fmt: skip


@pytest.mark.usefixtures("lab")
def test_a_read_only_home_still_reads_and_every_write_says_why(
    cli: Invoke, lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = lab.reset()
    with monkeypatch.context() as patch:
        patch.delenv("PEERLOOP_NOW")  # the real clock, so that `status --line` tries to keep its cache
        real_open = os.open

        def open_read_only(path: object, flags: int, mode: int = 0o777, **kwargs: object) -> int:
            if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
            return real_open(path, flags, mode, **kwargs)  # type: ignore[arg-type]

        patch.setattr(os, "open", open_read_only)
        for command in READS:
            result = cli(*command)
            assert result.exit_code in (0, 10, 11), (command, result.output)
            assert "error" not in result.stderr, (command, result.stderr)
        patch.setenv("PEERLOOP_NOW", NOW)
        for command in WRITES:
            result = cli(*command)
            assert result.exit_code == 5, (command, result.output)
            assert result.stderr.count("\n") == 1, (command, result.stderr)
            assert REASONS[errno.EROFS] in result.stderr, (command, result.stderr)
    assert snapshot(lab.root) == before


@pytest.mark.parametrize("command", WRITES, ids=IDS)
def test_every_write_waits_for_a_lock_held_elsewhere_then_says_so(
    cli: Invoke, lab: Lab, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    """test_storage_atomic.py waits for a real process holding the lock with `add`; here every writer."""
    before = lab.reset()
    lock = lab.home / ".lock"
    monkeypatch.setenv("PEERLOOP_LOCK_TIMEOUT", "0.1")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)  # another open file description: as another process
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        started = time.monotonic()
        result = cli(*command)
        waited = time.monotonic() - started
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    assert result.exit_code == 5, result.output
    assert result.stderr == (
        f"peerloop: error: another peerloop process has held {lock} for over 0.1 s; let it finish and try again\n"
    )
    assert waited >= 0.1
    assert snapshot(lab.root) == before
    assert cli(*command).exit_code == 0
