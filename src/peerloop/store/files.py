"""Reading one file of the data folder safely: a regular file only (never a link, a FIFO that would hang, a
device or a folder), not too big to be ours, and UTF-8. `store.folder` builds its consistent reads on it."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from peerloop.errors import DataFileError

MAX_FILE_BYTES = 16 * 1024 * 1024
"""A data file is a few KB a year; anything this big is not one of ours (and would be slow to parse)."""


def read_bytes(source: Path, shown: Path | None = None) -> bytes | None:
    """The file's bytes, or None when it does not exist; any other problem is one line naming `shown` (the
    file as the user knows it, when `source` stands in for it)."""
    path = shown or source
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise DataFileError(
                f"{path} is a symbolic link; peerloop reads only plain files in its folder: "
                "replace the link with the file itself"
            ) from None
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
    return raw


def decode(raw: bytes, path: Path) -> str:
    """The bytes as text; a file that is not UTF-8 is one line naming where it stops being text."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise DataFileError(
            f"{path} line {line}: not UTF-8 text (damaged?); restore it from a backup or fix it by hand"
        ) from None


def file_version(path: Path) -> tuple[int, ...]:
    """What changes whenever the file does: a replaced file has a new inode, an edit a new ctime."""
    try:
        info = os.lstat(path)
    except OSError:
        return ()
    return (info.st_ino, info.st_mtime_ns, info.st_ctime_ns, info.st_size)
