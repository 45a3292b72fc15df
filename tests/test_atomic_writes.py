"""Crash safety: a write that fails at any step leaves the previous file whole, private and alone."""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import os
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from peerloop.core.models import JournalYear, Meeting, Mode, Peer, Roster
from peerloop.errors import Exit, StorageError
from peerloop.store import atomic
from peerloop.store.atomic import replace_atomically
from peerloop.store.records import Store
from tests.conftest import Invoke
from tests.lived_in import LOCK, NOW, populate, snapshot

INIT = ["init", "--name", "Dana Ode", "--timezone", "Europe/Berlin", "--day", "tue", "--time", "08:30",
        "--start", "2026-03-02", "--peer", "Ann Lee"]  # fmt: skip


def _fails(error_number: int) -> Callable[..., Any]:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise OSError(error_number, os.strerror(error_number))

    return fail


def _short_write_then_fail(error_number: int) -> Callable[[int, Any], int]:
    """Like a disk filling up: the first write takes a few bytes, the next one fails."""
    real_write = os.write
    calls = [0]

    def write(fd: int, data: Any) -> int:
        calls[0] += 1
        if calls[0] == 1:
            return real_write(fd, bytes(data[:7]))
        raise OSError(error_number, os.strerror(error_number))

    return write


# (what to break, how it fails, the reason the user reads)
FAILURES = [
    pytest.param("write", _fails(errno.ENOSPC), "the disk is full", id="write-ENOSPC"),
    pytest.param("write", _short_write_then_fail(errno.ENOSPC), "the disk is full", id="short-write-ENOSPC"),
    pytest.param("write", _fails(errno.EIO), "Input/output error", id="write-EIO"),
    pytest.param("fsync", _fails(errno.EIO), "Input/output error", id="fsync-EIO"),
    pytest.param("fsync", _fails(errno.ENOSPC), "the disk is full", id="fsync-ENOSPC"),
    pytest.param("replace", _fails(errno.EROFS), "the file system is read-only", id="replace-EROFS"),
    pytest.param("replace", _fails(errno.EIO), "Input/output error", id="replace-EIO"),
    pytest.param("fchmod", _fails(errno.EPERM), "permission denied", id="fchmod-EPERM"),
]


def _temp_files(folder: Path) -> list[Path]:
    return sorted(folder.glob(".*.tmp"))


@pytest.fixture
def saved(cli: Invoke, store: Store) -> bytes:
    """A real roster written by `init`; returns its bytes."""
    assert cli(*INIT).exit_code == 0
    return store.roster_path.read_bytes()


@pytest.mark.parametrize(("step", "failure", "reason"), FAILURES)
def test_failed_write_step_leaves_previous_roster_intact(
    store: Store,
    saved: bytes,
    monkeypatch: pytest.MonkeyPatch,
    step: str,
    failure: Callable[..., Any],
    reason: str,
) -> None:
    roster = store.load_roster()
    bigger = Roster(roster.settings, (*roster.peers, Peer("Bo Chen", dt.date(2026, 3, 3))), roster.extra)
    with monkeypatch.context() as patch:
        patch.setattr(os, step, failure)
        with pytest.raises(StorageError) as raised:
            store.save_roster(bigger)
    message = str(raised.value)
    assert message.startswith(f"could not write {store.roster_path}: {reason}")
    assert message.endswith(". Nothing was changed")
    assert "\n" not in message
    assert raised.value.exit_code == Exit.STORAGE
    assert store.roster_path.read_bytes() == saved
    assert _temp_files(store.home) == []
    assert [p.name for p in store.load_roster().peers] == ["Ann Lee"]


@pytest.mark.parametrize(("step", "failure", "reason"), FAILURES)
def test_failed_write_through_the_cli_exits_5_with_one_line(
    cli: Invoke,
    store: Store,
    saved: bytes,
    monkeypatch: pytest.MonkeyPatch,
    step: str,
    failure: Callable[..., Any],
    reason: str,
) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(os, step, failure)
        result = cli("add", "Bo Chen")
    assert result.exit_code == 5
    assert result.stderr.startswith(f"peerloop: error: could not write {store.roster_path}: {reason}")
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""
    assert store.roster_path.read_bytes() == saved
    assert _temp_files(store.home) == []
    # The lock was released: the next command works.
    assert cli("add", "Bo Chen").exit_code == 0
    assert [p.name for p in store.load_roster().peers] == ["Ann Lee", "Bo Chen"]


def test_failed_first_write_creates_no_roster(
    cli: Invoke, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "fsync", _fails(errno.ENOSPC))
    result = cli(*INIT)
    assert result.exit_code == 5
    assert "the disk is full" in result.stderr
    assert not store.roster_path.exists()
    assert _temp_files(store.home) == []


def test_temp_file_cannot_be_created_is_a_storage_error(
    store: Store, saved: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = os.open

    def open_fails_for_temp_files(name: str, flags: int, mode: int = 0o777) -> int:
        if str(name).endswith(".tmp"):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        return real_open(name, flags, mode)

    monkeypatch.setattr(os, "open", open_fails_for_temp_files)
    with pytest.raises(StorageError, match=r"read-only; point --home or PEERLOOP_HOME at a writable folder"):
        store.save_roster(store.load_roster())
    assert store.roster_path.read_bytes() == saved


def test_interrupt_during_write_removes_the_temp_file_and_propagates(
    store: Store, saved: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(os, "fsync", interrupted)
        with pytest.raises(KeyboardInterrupt):
            store.save_roster(Roster())
    assert store.roster_path.read_bytes() == saved
    assert _temp_files(store.home) == []


def test_folder_fsync_refused_by_the_file_system_does_not_fail_the_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Some file systems refuse fsync on a folder (EINVAL); the file itself was already synced and renamed."""
    target = tmp_path / "data.toml"
    real_fsync = os.fsync
    synced: list[bool] = []

    def fsync(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            synced.append(True)
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    replace_atomically(target, b"a = 1\n")
    assert target.read_text() == "a = 1\n"
    assert synced == [True]


def test_successful_write_syncs_the_file_before_renaming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "data.toml"
    target.write_text("old = 1\n")
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append("fsync-folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync-file")
        real_fsync(fd)

    def replace(source: Any, destination: Any) -> None:
        events.append("replace")
        assert Path(source).read_text() == "new = 2\n"
        assert target.read_text() == "old = 1\n"
        real_replace(source, destination)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    replace_atomically(target, b"new = 2\n")
    assert events == ["fsync-file", "replace", "fsync-folder"]
    assert target.read_text() == "new = 2\n"
    assert _temp_files(tmp_path) == []


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("open_umask")
def test_roster_is_0600_and_folder_0700_also_after_a_replace(cli: Invoke, store: Store) -> None:
    assert cli(*INIT).exit_code == 0
    assert _mode(store.home) == 0o700
    assert _mode(store.roster_path) == 0o600
    assert _mode(store.folder.lock_path) == 0o600
    os.chmod(store.roster_path, 0o644)
    inode = store.roster_path.stat().st_ino
    assert cli("add", "Bo Chen").exit_code == 0
    assert store.roster_path.stat().st_ino != inode, "the file was replaced, not rewritten in place"
    assert _mode(store.roster_path) == 0o600
    assert _mode(store.home) == 0o700


@pytest.mark.usefixtures("open_umask")
def test_journal_folder_and_year_file_are_private(store: Store) -> None:
    meeting = Meeting(id="20260303-psve7", date=dt.date(2026, 3, 3), peer="Ann Lee", mode=Mode.COFFEE)
    store.save_year(JournalYear(year=2026, meetings=(meeting,)))
    assert _mode(store.home) == 0o700
    assert _mode(store.journal_dir) == 0o700
    assert _mode(store.year_path(2026)) == 0o600
    os.chmod(store.year_path(2026), 0o664)
    later = meeting._replace(id="20260310-vzrq2", date=dt.date(2026, 3, 10))
    store.save_year(JournalYear(year=2026, meetings=(meeting, later)))
    assert _mode(store.year_path(2026)) == 0o600
    assert len(store.load_year(2026).meetings) == 2
    assert _temp_files(store.journal_dir) == []


@pytest.mark.usefixtures("open_umask")
def test_every_folder_peerloop_creates_for_a_nested_home_is_private(tmp_path: Path) -> None:
    store = Store(tmp_path / "a" / "b" / "home")
    store.save_year(JournalYear(year=2026))
    for folder in (tmp_path / "a", tmp_path / "a" / "b", store.home, store.journal_dir):
        assert _mode(folder) == 0o700, folder


@pytest.fixture
def held_lock(store: Store, saved: bytes) -> Iterator[Path]:
    """The data folder's lock, held by someone else (a separate open file description, as another process)."""
    fd = os.open(store.folder.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        yield store.folder.lock_path
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def test_lock_held_elsewhere_makes_a_write_wait_then_fail_naming_the_lock(
    cli: Invoke, store: Store, saved: bytes, held_lock: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PEERLOOP_LOCK_TIMEOUT", "0.3")
    started = time.monotonic()
    result = cli("add", "Bo Chen")
    waited = time.monotonic() - started
    assert result.exit_code == 5
    assert result.stderr == (
        f"peerloop: error: another peerloop process has held {held_lock} for over 0.3 s; "
        "let it finish and try again\n"
    )
    assert 0.3 <= waited < 2.0
    assert store.roster_path.read_bytes() == saved
    assert _temp_files(store.home) == []


def test_reading_does_not_need_the_lock(
    cli: Invoke, held_lock: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PEERLOOP_LOCK_TIMEOUT", "0.3")
    result = cli("peers", "--json")
    assert result.exit_code == 0
    assert "Ann Lee" in result.stdout


def test_lock_held_by_another_process_is_waited_for_until_released(
    cli: Invoke, store: Store, saved: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess
    import sys

    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl, os, sys, time\n"
         "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)\n"
         "fcntl.flock(fd, fcntl.LOCK_EX)\n"
         "print('locked', flush=True)\n"
         "time.sleep(0.4)\n",
         str(store.folder.lock_path)],
        stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        monkeypatch.setenv("PEERLOOP_LOCK_TIMEOUT", "10")
        started = time.monotonic()
        result = cli("add", "Bo Chen")
        waited = time.monotonic() - started
    finally:
        holder.wait(timeout=10)
        assert holder.stdout is not None
        holder.stdout.close()
    assert result.exit_code == 0, result.output
    assert waited >= 0.2
    assert [p.name for p in store.load_roster().peers] == ["Ann Lee", "Bo Chen"]


def test_a_bad_lock_timeout_setting_is_a_usage_error(
    cli: Invoke, saved: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PEERLOOP_LOCK_TIMEOUT", "soon")
    result = cli("add", "Bo Chen")
    assert result.exit_code == 2
    assert result.stderr == "peerloop: error: PEERLOOP_LOCK_TIMEOUT='soon' is not a number of seconds\n"


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
    ["log", "--amend", "20260303-psve7", "--win", "a deal"],
    ["log", "--amend", "20260303-psve7", "--date", "2025-12-30"],  # moves the entry to the 2025 file
    ["forget", "20260324-cgk6s", "--yes"],
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

    def counting(path: Path, tag: str = "") -> tuple[int, str]:
        made[0] += 1
        return real(path, tag)

    lab.reset()
    with monkeypatch.context() as patch:
        patch.setattr(atomic, "_create_temp", counting)
        result = cli(*command)
    assert result.exit_code == 0, (command, result.output)
    return made[0]


def _fail_temp_number(
    k: int, error_number: int
) -> Callable[[Callable[[Path, str], tuple[int, str]]], object]:
    """The k-th temp file cannot be created (EROFS, EACCES: the folder refuses new files; ENOSPC)."""

    def wrap(real: Callable[[Path, str], tuple[int, str]]) -> object:
        made = [0]

        def create(path: Path, tag: str = "") -> tuple[int, str]:
            made[0] += 1
            if made[0] == k:
                raise OSError(error_number, os.strerror(error_number), str(path))
            return real(path, tag)

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
    lock = lab.home / LOCK
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
