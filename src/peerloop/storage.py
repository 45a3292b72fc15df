"""The data folder's file mechanics: one lock, atomic multi-file commits, private permissions, safe reads.

Storage knows files and bytes, nothing of TOML records or the terminal (records: `schema.py`; the loader:
`session.py`). Every change is one transaction (docs/storage.md):

1. each new file is written to a private temp file beside its target and fsynced;
2. a commit record (`.commit`) naming every temp file and its target is written atomically: this is the
   instant the change happens;
3. the temp files are renamed over their targets, then the record is removed.

A kill before step 2 leaves the old files (the temp files are leftovers); a kill after it leaves a record
that the next process to take the lock rolls forward, so every command sees all of a change or none of it.
SIGINT and SIGTERM are held from step 1 to the end of step 3.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import stat
import time
from collections.abc import Iterator
from pathlib import Path

from peerloop.errors import DataFileError, StorageError

ROSTER_FILE = "roster.toml"
CALENDAR_FILE = "calendar.toml"
CONNECTIONS_FILE = "connections.toml"
JOURNAL_DIR = "journal"
LOCK_FILE = ".lock"
COMMIT_FILE = ".commit"
FILE_MODE = 0o600
DIR_MODE = 0o700
DEFAULT_LOCK_TIMEOUT = 10.0
MAX_FILE_BYTES = 16 * 1024 * 1024
"""A data file is a few KB a year; anything this big is not one of ours (and would be slow to parse)."""

_JOURNAL_NAME = re.compile(r"^(\d{4})\.toml$")
_HELD_SIGNALS = {signal.SIGINT, signal.SIGTERM}

committed: list[Path] = []
"""The files this process committed (the CLI reads it: after a commit, an error must not say 'nothing changed')."""

fault_hook: list[str] = []
"""Test seam: the name of a commit step at which the process kills itself with SIGKILL (see `_step`)."""


class Folder:
    """One peerloop data folder, as files."""

    def __init__(self, home: Path, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> None:
        self.home = home
        self.lock_timeout = lock_timeout
        self.tightened: list[Path] = []
        """Folders whose looser permissions this process tightened to 0700 (the CLI says so once)."""
        self._locked = False

    @property
    def roster_path(self) -> Path:
        return self.home / ROSTER_FILE

    @property
    def calendar_path(self) -> Path:
        return self.home / CALENDAR_FILE

    @property
    def connections_path(self) -> Path:
        return self.home / CONNECTIONS_FILE

    @property
    def journal_dir(self) -> Path:
        return self.home / JOURNAL_DIR

    @property
    def lock_path(self) -> Path:
        return self.home / LOCK_FILE

    @property
    def commit_path(self) -> Path:
        return self.home / COMMIT_FILE

    def year_path(self, year: int) -> Path:
        return self.journal_dir / f"{year:04d}.toml"

    def journal_years(self) -> list[int]:
        """The years that have a journal file, oldest first (a directory listing: no file is read)."""
        try:
            names = os.listdir(self.journal_dir)
        except FileNotFoundError:
            return []
        except NotADirectoryError:
            raise DataFileError(f"{self.journal_dir} is not a folder; move it away and try again") from None
        return sorted(int(match[1]) for name in names if (match := _JOURNAL_NAME.match(name)))

    def contains(self, path: Path) -> bool:
        """Whether `path` (resolved, links followed) lies inside the data folder."""
        try:
            home = self.home.resolve()
            return path.resolve() == home or home in path.resolve().parents
        except (OSError, RuntimeError):
            return False

    # --- reading ---------------------------------------------------------------------------------------

    def read(self, path: Path) -> str | None:
        """The file's text, or None when it does not exist.

        Only a regular file is read: a link, a FIFO (which would hang), a device or a folder is refused
        with one line, as is a file too big to be ours or one that is not UTF-8.
        """
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except FileNotFoundError:
            return None
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise DataFileError(
                    f"{path} is a symbolic link; peerloop reads only plain files in its folder: "
                    "replace the link with the file itself"
                ) from None
            if error.errno == errno.EISDIR:
                raise DataFileError(f"{path} is a folder, not a file; move it away and try again") from None
            raise DataFileError(f"cannot read {path}: {error.strerror}") from None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                kind = (
                    "a folder, not a file"
                    if stat.S_ISDIR(info.st_mode)
                    else "not a regular file (a pipe or device?)"
                )
                raise DataFileError(f"{path} is {kind}; move it away and try again")
            if info.st_size > MAX_FILE_BYTES:
                raise DataFileError(
                    f"{path} is {info.st_size // (1024 * 1024)} MB, too big to be a peerloop file; "
                    "move it away or restore it from a backup"
                )
            chunks = []
            while chunk := os.read(fd, 1 << 16):
                chunks.append(chunk)
            raw = b"".join(chunks)
        except OSError as error:
            raise DataFileError(f"cannot read {path}: {error.strerror}") from None
        finally:
            os.close(fd)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as error:
            line = raw[: error.start].count(b"\n") + 1
            raise DataFileError(
                f"{path} line {line}: not UTF-8 text (damaged?); restore it from a backup or fix it by hand"
            ) from None

    # --- locking ---------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the folder's exclusive lock; wait at most `lock_timeout` seconds for another process.

        Taking the lock first finishes a transaction that a killed process left committed.
        """
        if self._locked:
            yield
            return
        import fcntl

        ensure_private_dir(self.home, self.tightened)
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, FILE_MODE)
        except OSError as error:
            raise write_error(self.lock_path, error) from None
        try:
            deadline = time.monotonic() + self.lock_timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise StorageError(
                            f"another peerloop process has held {self.lock_path} for over "
                            f"{self.lock_timeout:g} s; let it finish and try again"
                        ) from None
                    time.sleep(0.02)
            self._locked = True
            try:
                self.roll_forward()
                yield
            finally:
                self._locked = False
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    # --- transactions ----------------------------------------------------------------------------------

    def pending(self) -> list[tuple[Path, Path]] | None:
        """The (temp file, target) pairs of a committed transaction not yet finished, or None."""
        text = self.read(self.commit_path)
        if text is None:
            return None
        pairs = []
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            temp, _, target = line.partition("\t")
            if not temp or not target:
                raise DataFileError(f"{self.commit_path} is damaged; run `peerloop doctor`")
            pairs.append((self.home / temp, self.home / target))
        return pairs

    def roll_forward(self) -> list[Path]:
        """Finish an interrupted commit (under the lock): rename what is left, then drop the record."""
        pairs = self.pending()
        if pairs is None:
            return []
        finished = []
        for temp, target in pairs:
            if temp.exists():
                os.replace(temp, target)
                fsync_dir(target.parent)
                finished.append(target)
        os.unlink(self.commit_path)
        fsync_dir(self.home)
        return finished

    def commit(self, files: dict[Path, str]) -> None:
        """Replace every file in `files` as one transaction (call under the lock)."""
        if not files:
            return
        for path in files:
            if not self.contains(path.parent):
                raise StorageError(f"refusing to write {path}: it is outside the data folder {self.home}")
        first = next(iter(files))
        with held_signals():
            prepared: list[tuple[str, Path]] = []
            try:
                for path, text in files.items():
                    ensure_private_dir(path.parent, self.tightened)
                    prepared.append((write_temp(path, text.encode("utf-8")), path))
                    _step("temp")
                record = "".join(
                    f"{os.path.relpath(temp, self.home)}\t{os.path.relpath(path, self.home)}\n"
                    for temp, path in prepared
                )
                try:
                    replace_atomically(self.commit_path, ("# peerloop commit record\n" + record).encode())
                except StorageError as error:  # say which data file could not be written, not the record
                    raise StorageError(error.message.replace(str(self.commit_path), str(first), 1)) from None
            except BaseException:
                for temp_name, _ in prepared:
                    with contextlib.suppress(OSError):
                        os.unlink(temp_name)
                raise
            _step("record")
            committed.extend(files)
            try:
                for temp_name, path in prepared:
                    os.replace(temp_name, path)
                    fsync_dir(path.parent)
                    _step("rename")
                os.unlink(self.commit_path)
                fsync_dir(self.home)
            except OSError as error:
                reason = (
                    write_error(first, error).message.split(": ", 1)[-1].removesuffix(". Nothing was changed")
                )
                raise StorageError(
                    f"could not finish writing {first}: {reason}. The change is saved and the next peerloop "
                    "command finishes it (or run `peerloop doctor --fix`)"
                ) from None


def _step(name: str) -> None:
    if name in fault_hook:
        os.kill(os.getpid(), signal.SIGKILL)


@contextlib.contextmanager
def held_signals() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block ends. If the block raised, one that arrived is delivered then
    (nothing was written: "Aborted." is the truth); if it finished, the change landed and the command goes on
    to say so, so the signal is discarded.

    Outside the main thread signals cannot be blocked here (and are not delivered to it anyway).
    """
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD_SIGNALS)
    except (ValueError, OSError):
        yield
        return
    finished = False
    try:
        yield
        finished = True
    finally:
        pending = signal.sigpending() & _HELD_SIGNALS if finished else set()
        handlers = {number: signal.signal(number, signal.SIG_IGN) for number in pending}
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        for number, handler in handlers.items():
            signal.signal(number, handler)


# --- files -------------------------------------------------------------------------------------------------


def ensure_private_dir(path: Path, tightened: list[Path] | None = None) -> None:
    """Create the folder (and parents) if needed, private to the user; tighten one that is looser."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        if path.parent != path:
            ensure_private_dir(path.parent)  # mkdir(parents=True) would leave new parents to the umask
        try:
            path.mkdir(mode=DIR_MODE, exist_ok=True)
            os.chmod(path, DIR_MODE)
        except OSError as error:
            raise write_error(path, error) from None
        return
    except OSError as error:
        raise write_error(path, error) from None
    if stat.S_ISLNK(info.st_mode) and path.is_dir():
        return  # a data folder reached through a link is the user's choice; its target is checked below
    if not stat.S_ISDIR(info.st_mode):
        raise StorageError(f"could not write in {path}: it is not a folder. Nothing was changed")
    if tightened is not None and stat.S_IMODE(info.st_mode) & 0o077 and info.st_uid == os.getuid():
        try:
            os.chmod(path, DIR_MODE)
        except OSError as error:
            raise write_error(path, error) from None
        tightened.append(path)


def replace_atomically(path: Path, data: bytes) -> None:
    """Replace one file so that a crash leaves the old or the new one: temp file, fsync, rename, fsync."""
    temp = write_temp(path, data)
    try:
        os.replace(temp, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise write_error(path, error) from None
    fsync_dir(path.parent)


def write_temp(path: Path, data: bytes) -> str:
    """A private temp file beside `path` holding `data`, synced to the disk; removed again if that fails."""
    try:
        fd, temp_name = _create_temp(path)
    except OSError as error:
        raise write_error(path, error) from None
    try:
        try:
            os.fchmod(fd, FILE_MODE)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        if isinstance(error, OSError):
            raise write_error(path, error) from None
        raise
    return temp_name


def _create_temp(path: Path) -> tuple[int, str]:
    """A new private file `.NAME.<pid>-<n>.tmp` beside `path` (tempfile costs more to import than the write)."""
    for attempt in range(100):
        name = str(path.parent / f".{path.name}.{os.getpid()}-{time.monotonic_ns()}-{attempt}.tmp")
        try:
            return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE), name
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temp file name", str(path.parent))


def fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_error(path: Path, error: OSError) -> StorageError:
    reasons = {
        errno.ENOSPC: "the disk is full; free some space and try again",
        errno.EDQUOT: "the disk quota is exceeded; free some space and try again",
        errno.EROFS: "the file system is read-only; point --home or PEERLOOP_HOME at a writable folder",
        errno.EACCES: "permission denied; check the folder's owner and permissions",
        errno.EPERM: "permission denied; check the folder's owner and permissions",
        errno.ELOOP: "it is a symbolic link; peerloop writes only plain files in its folder",
    }
    reason = reasons.get(error.errno or 0, error.strerror or str(error))
    return StorageError(f"could not write {path}: {reason}. Nothing was changed")
