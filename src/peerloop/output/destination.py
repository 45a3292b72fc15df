"""Files the user asked for (`export -o`, `review --report`): written around the data's commit, never
replacing a data file, a pipe or a device."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from peerloop.errors import StorageError
from peerloop.store.atomic import fsync_dir, write_error, write_reason, write_temp


class Output:
    """A file the user asked for (`export -o`, `review --report`), written in two steps around the data's
    commit: `stage` before it (a full disk or a refused folder stops the command before anything changes),
    `finish` after it. A regular file is replaced atomically (private, 0600); a FIFO or a character device
    (/dev/null, a terminal) is written as a stream at `finish`, never replaced; anything else is refused.
    The caller checks that the path is outside the data folder."""

    def __init__(self, path: Path, data: bytes) -> None:
        self.path, self.data = path, data
        self.temp: str | None = None
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            mode = stat.S_IFREG  # a new file
        except OSError as error:
            raise write_error(path, error) from None
        self.stream = not stat.S_ISREG(mode)
        if self.stream and not (stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)):
            raise StorageError(f"could not write {path}: it is not a regular file, a pipe or a device")
        if path.is_symlink():
            self.path = path.resolve()

    def stage(self) -> Output:
        if not self.stream:
            self.temp = write_temp(self.path, self.data)
        return self

    def finish(self) -> None:
        if self.stream:
            try:
                with open(self.path, "wb") as stream:
                    stream.write(self.data)
            except OSError as error:
                raise write_error(self.path, error) from None
            return
        assert self.temp is not None, "staged before"
        try:
            os.replace(self.temp, self.path)
        except OSError as error:
            self.discard()
            raise write_error(self.path, error) from None
        self.temp = None
        try:
            fsync_dir(self.path.parent)
        except OSError as error:
            raise StorageError(f"could not make {self.path} durable: {write_reason(error)}") from None

    def discard(self) -> None:
        if self.temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.temp)
            self.temp = None
