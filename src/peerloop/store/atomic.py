"""Writing one file so that a crash leaves the old or the new one, private to the user: temp file beside it,
fsync, rename, fsync of the folder. `store.folder` builds its multi-file transactions on these."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import time
from pathlib import Path

from peerloop.errors import StorageError

FILE_MODE = 0o600
DIR_MODE = 0o700


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
    try:
        fsync_dir(path.parent)
    except OSError as error:
        raise StorageError(f"could not make {path} durable: {write_reason(error)}") from None


def write_temp(path: Path, data: bytes, tag: str = "") -> str:
    """A private temp file beside `path` holding `data`, synced to the disk; removed again if that fails.
    `tag` (a device id) goes into its name: `.NAME.TAG-<pid>-<n>.tmp`."""
    try:
        fd, temp_name = _create_temp(path, tag)
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


def _create_temp(path: Path, tag: str = "") -> tuple[int, str]:
    """A new private file `.NAME.[TAG-]<pid>-<n>.tmp` beside `path` (tempfile costs more to import than the
    write)."""
    mark = f"{tag}-" if tag else ""
    for attempt in range(100):
        name = str(path.parent / f".{path.name}.{mark}{os.getpid()}-{time.monotonic_ns()}-{attempt}.tmp")
        try:
            return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE), name
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temp file name", str(path.parent))


def fsync_dir(path: Path) -> None:
    """Make a rename in `path` durable. A file system that cannot sync a folder (EINVAL, ENOTSUP) is no error;
    an I/O error is (an OSError): the rename may not survive a crash, so the caller must not claim it did."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError as error:
        if error.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


_REASONS = {
    errno.ENOSPC: "the disk is full; free some space and try again",
    errno.EDQUOT: "the disk quota is exceeded; free some space and try again",
    errno.EROFS: "the file system is read-only; point --home or PEERLOOP_HOME at a writable folder",
    errno.EACCES: "permission denied; check the folder's owner and permissions",
    errno.EPERM: "permission denied; check the folder's owner and permissions",
    errno.ELOOP: "it is a symbolic link; peerloop writes only plain files in its folder",
}


def write_reason(error: OSError) -> str:
    """Why a write failed, in the user's terms and with what to do."""
    return _REASONS.get(error.errno or 0, error.strerror or str(error))


def write_error(path: Path, error: OSError) -> StorageError:
    return StorageError(f"could not write {path}: {write_reason(error)}. Nothing was changed")
