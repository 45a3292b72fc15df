"""The data folder's file mechanics: one lock, atomic multi-file commits, private permissions, safe reads.

It knows files and bytes, not TOML records (`store.records`). The commit protocol, rolling forward, a change
that waits for a mail, device ids in file names, encryption and the fault hook: docs/storage.md.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

from peerloop import clock
from peerloop.errors import DataFileError, Interrupted, StorageError
from peerloop.store.atomic import (
    FILE_MODE,
    ensure_private_dir,
    fsync_dir,
    replace_atomically,
    write_error,
    write_reason,
    write_temp,
)
from peerloop.store.copies import copy_of, is_data
from peerloop.store.device import COMMIT_PREFIX, LOCK_PREFIX, PENDING_PREFIX, device_id, known_device_id
from peerloop.store.files import decode, read_bytes
from peerloop.store.interrupts import held_signals, interrupt_waiting
from peerloop.store.interrupts import step as _step
from peerloop.store.layout import DATA_NAME, SEALED, Layout
from peerloop.store.layout import ROSTER_FILE as ROSTER_FILE  # the names tests and tools know the folder by
from peerloop.store.sealed import Seal

LEGACY_COMMIT = ".commit"
LEGACY_PENDING = ".pending"
"""The records an older peerloop (one device per folder) wrote: still finished, or dropped, here."""
DEFAULT_LOCK_TIMEOUT = 10.0
DELETE = "delete"
"""A record line `delete<TAB>PATH`: a data file or a conflict copy the change removes, after the renames."""

_RECORD_LINE = re.compile(rf"^(?:journal/)?\.[^/\t]+\.tmp\t(?:{DATA_NAME})$")
"""A record line: a temp file beside its target, and the target one of the data files (nothing else)."""

unsent: list[str] = []
"""What a killed process was sending when it stopped, whose change this process dropped (the CLI says so)."""

committed: list[Path] = []
"""The files this process committed (the CLI reads it: after a commit, an error must not say 'nothing changed')."""


class Folder(Layout):
    """One peerloop data folder, as files."""

    def __init__(self, home: Path, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> None:
        super().__init__(home)
        self.lock_timeout = lock_timeout
        self.tightened: list[Path] = []
        """Folders whose looser permissions this process tightened to 0700 (the CLI says so once)."""
        self._locked = False
        self._device: str | None = None
        self.may_write = True
        """False for `doctor` without --fix: nothing is written; reads see a committed change through its temp files."""
        self._overlay: dict[Path, Path] = {}
        self._gone: set[Path] = set()
        self.seal = Seal(home, self.read, self.read_bytes)
        """The folder's key (store.sealed)."""

    def sealed(self) -> bool:
        """Whether the files with notes are age files: `encryption.toml` exists (once a change a killed
        process left is finished, or read through, so the answer is that of the whole change or none)."""
        if self.seal.staged is not None:
            return self.seal.staged[0] is not None
        self._settle_left_change()
        path = self.encryption_path
        return path in self._overlay or (path not in self._gone and os.path.lexists(path))

    @property
    def device(self) -> str:
        """This device's id (made on first need: only a command that writes needs one)."""
        if self._device is None:
            self._device = device_id()
        return self._device

    @property
    def lock_path(self) -> Path:
        return self.home / f"{LOCK_PREFIX}{self.device}"

    @property
    def commit_path(self) -> Path:
        return self.home / f"{COMMIT_PREFIX}{self.device}"

    @property
    def pending_path(self) -> Path:
        return self.home / f"{PENDING_PREFIX}{self.device}"

    def records(self) -> list[Path]:
        """The commit records this device finishes: an older peerloop's, then its own (none before it has an
        id: nothing of it can be here)."""
        own = self._device or known_device_id()
        return [self.home / LEGACY_COMMIT] + ([self.home / f"{COMMIT_PREFIX}{own}"] if own else [])

    # --- reading ---------------------------------------------------------------------------------------

    def read(self, path: Path) -> str | None:
        """The file's text, or None when it does not exist (`store.files` checks it), after a change a killed
        process left is finished: the whole change or none of it. An age file is opened with the key."""
        raw = self.read_bytes(path)
        if raw is None:
            return None
        if path.name.endswith(SEALED) and path != self.key_path:
            raw = self.seal.key().open(raw, path)
        return decode(raw, path)

    def read_bytes(self, path: Path) -> bytes | None:
        """The file's bytes as they are on disk (an age file stays sealed), with `read`'s checks."""
        if path not in self.records():
            self._settle_left_change()
        if path in self._gone:
            return None
        return read_bytes(self._overlay.get(path, path), path)

    def _settle_left_change(self) -> None:
        """Before a read outside the lock: a commit record this device left is finished (or read through)."""
        if not self._locked and any(os.path.lexists(record) for record in self.records()):
            self._settle()

    def _settle(self) -> None:
        """Finish a left commit under the lock; where that cannot be done (a read-only folder, `doctor`),
        read its targets from its temp files instead."""
        if self.may_write:
            try:
                with self.locked():
                    return
            except StorageError:
                pass
        found = [self.read_record(record) for record in self.records()]
        self._overlay = {
            target: temp for pairs, _ in filter(None, found) for temp, target in pairs if temp.exists()
        }
        self._gone = {path for _, deleted in filter(None, found) for path in deleted}

    # --- locking ---------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the folder's exclusive lock (waiting at most `lock_timeout` seconds for another process), first
        finishing a change a killed process left committed."""
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
                self.drop_unsent()
                yield
            finally:
                self._locked = False
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    # --- transactions ----------------------------------------------------------------------------------

    def pending(self, record: Path) -> list[tuple[Path, Path]] | None:
        """The (temp file, target) pairs of a change `record` names that is not finished yet, or None."""
        found = self.read_record(record)
        return None if found is None else found[0]

    def read_record(self, record: Path) -> tuple[list[tuple[Path, Path]], list[Path]] | None:
        """A record's renames (temp file, target) and the files it deletes, or None when there is none; a line
        naming anything else than our files is a damaged record, and nothing of it is done."""
        text = self.read(record)
        if text is None:
            return None
        pairs, doomed = [], []
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            temp, _, target = line.partition("\t")
            if temp == DELETE and (is_data(target) or _copy_of_data(target)):
                doomed.append(self.home / target)
                continue
            if not _RECORD_LINE.match(f"{temp}\t{target}") or not temp.startswith(
                os.path.join(os.path.dirname(target), f".{os.path.basename(target)}.")
            ):
                raise DataFileError(
                    f"{record} is damaged (it names {line[:80]!r}); "
                    "restore the data folder from a backup, or delete it to drop the unfinished change"
                )
            pairs.append((self.home / temp, self.home / target))
        return pairs, doomed

    def waiting(self) -> Path | None:
        """The record of a change left waiting for the outside world on this device (its own, or an older
        peerloop's `.pending`), or None."""
        own = self._device or known_device_id()
        names = [LEGACY_PENDING] + ([f"{PENDING_PREFIX}{own}"] if own else [])
        return next((self.home / name for name in names if os.path.lexists(self.home / name)), None)

    def sending(self) -> str | None:
        """What a change waiting for the outside world was sending (the pending record's `# sending:` line)."""
        waiting = self.waiting()
        text = None if waiting is None else self.read(waiting)
        if text is None:
            return None
        said = [line[len("# sending: ") :] for line in text.splitlines() if line.startswith("# sending: ")]
        return said[0] if said else "an e-mail"

    def drop_unsent(self) -> None:
        """Drop a change whose mail a killed process never saw accepted (under the lock): its temp files and
        its record go, its targets never changed; `unsent` says what it was sending."""
        what, waiting = self.sending(), self.waiting()
        if what is None or waiting is None:
            return
        for temp, _ in self.pending(waiting) or []:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
        try:
            os.unlink(waiting)
            fsync_dir(self.home)
        except OSError as error:
            raise StorageError(f"could not drop {waiting}: {write_reason(error)}") from None
        unsent.append(what)

    def roll_forward(self) -> None:
        """Finish an interrupted commit of this device (under the lock): rename what is left, delete what it
        deletes, then drop the record."""
        finished = False
        for record in self.records():
            found = self.read_record(record)
            if found is None:
                continue
            pairs, doomed = found
            steps: list[tuple[Path, Path | None]] = [*pairs, *((path, None) for path in doomed)]
            try:
                for path, target in steps:  # a temp file renamed (its target is beside it), or a delete
                    if os.path.lexists(path):
                        if target is None:
                            os.unlink(path)
                        else:
                            os.replace(path, target)
                        fsync_dir(path.parent)
                        finished = True
                        _step("roll")
                os.unlink(record)
                fsync_dir(self.home)
            except OSError as error:
                raise StorageError(
                    f"could not finish the interrupted change recorded in {record}: {write_reason(error)}"
                ) from None
        self._overlay, self._gone = {}, set()
        if finished:
            self.seal.forget()  # the change finished may have encrypted or re-keyed the folder

    def commit(
        self, files: dict[Path, str | bytes], sending: Sending | None = None, deleting: tuple[Path, ...] = ()
    ) -> None:
        """Replace every file in `files` and delete every file in `deleting` as one transaction (under the
        lock); an age file's text is sealed before anything is written. With `sending`, the change happens only
        once the mail was accepted (docs/storage.md)."""
        if not files and not deleting:
            if sending is not None:
                sending.send()
            return
        for path in (*files, *deleting):
            if not self.contains(path.parent):
                raise StorageError(f"refusing to write {path}: it is outside the data folder {self.home}")
        first = next(iter(files), self.home)
        clock.pinned()  # a bad PEERLOOP_NOW is refused here at the latest, never after the change
        data = {path: self._bytes(path, content) for path, content in files.items()}
        _step("begin")
        prepared: list[tuple[str, Path]] = []
        # Signals are held through a mail's sending too: once a server accepted it, the change must land,
        # so a Ctrl-C then waits for the commit (at most the mail's timeout) and is said after it.
        with held_signals():
            try:
                for path, raw in data.items():
                    ensure_private_dir(path.parent, self.tightened)
                    prepared.append((write_temp(path, raw, self.device), path))
                    _step("temp")
                record = "".join(
                    f"{os.path.relpath(temp, self.home)}\t{os.path.relpath(path, self.home)}\n"
                    for temp, path in prepared
                ) + "".join(f"{DELETE}\t{os.path.relpath(copy, self.home)}\n" for copy in deleting)
                header = "# peerloop commit record\n"
                if sending is not None:
                    header += f"# sending: {sending.what}\n"
                target = self.commit_path if sending is None else self.pending_path
                try:
                    replace_atomically(target, (header + record).encode())
                except StorageError as error:  # say which data file could not be written, not the record
                    raise StorageError(error.message.replace(str(target), str(first), 1)) from None
                if sending is not None:
                    _step("sending")
                    if interrupt_waiting():  # a Ctrl-C before the mail went out stops it: nothing changes
                        raise Interrupted
                    sending.send()
                    _step("sent")
                    os.replace(self.pending_path, self.commit_path)
            except BaseException:
                for temp_name, _ in prepared:
                    with contextlib.suppress(OSError):
                        os.unlink(temp_name)
                with contextlib.suppress(OSError):
                    os.unlink(self.pending_path)
                raise
        with held_signals():
            _step("record")
            committed.extend([*files, *deleting])
            try:
                for temp_name, path in prepared:
                    os.replace(temp_name, path)
                    fsync_dir(path.parent)
                    _step("rename")
                for path in deleting:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(path)
                    fsync_dir(path.parent)
                    _step("delete")
                os.unlink(self.commit_path)
                fsync_dir(self.home)
                _step("done")
                for copy in self.old_copies():
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(copy)
            except OSError as error:
                raise StorageError(
                    f"could not finish writing {first}: {write_reason(error)}. The change is saved and the next peerloop "
                    "command finishes it (or run `peerloop doctor --fix`)"
                ) from None

    def _bytes(self, path: Path, content: str | bytes) -> bytes:
        """What is written to `path`: an age file's text sealed with the folder's key (or the new one)."""
        if isinstance(content, bytes):
            return content
        raw = content.encode("utf-8")
        return self.seal.key().seal(raw) if path.name.endswith(SEALED) else raw


def _copy_of_data(path: str) -> bool:
    """Whether `path` (in the folder) is a sync tool's conflict copy of a data file."""
    named = copy_of(os.path.basename(path))
    return named is not None and is_data(os.path.join(os.path.dirname(path), named.original))


class Sending(NamedTuple):
    """What a change waits for: `send()` hands a message to the outside world and returns once accepted."""

    what: str
    """In words, for the record and for the next command if this one is killed: "the invitation to Ann Lee"."""
    send: Callable[[], None]
