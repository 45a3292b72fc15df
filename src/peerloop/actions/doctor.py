"""What `peerloop doctor` checks in a data folder, and the few repairs it may make.

Read-only except `repair`, which only tightens permissions of plain files and folders inside the data
folder (never through a link), finishes an interrupted transaction, and deletes temp files that no commit
record names (those are copies of a change that never happened).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import NamedTuple

from peerloop.core.calendar.state import state_from_toml
from peerloop.core.models import peer_key
from peerloop.errors import DataFileError
from peerloop.output.messages import roster_warning
from peerloop.store.atomic import DIR_MODE, FILE_MODE
from peerloop.store.records import Store


class Finding(NamedTuple):
    level: str
    """"problem" (exit non-zero) or "note" (worth knowing, not wrong)."""
    what: str
    fix: str
    fixable: bool = False


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _plain(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


def _data_paths(store: Store) -> list[Path]:
    fixed = [store.roster_path, store.calendar_path, store.connections_path, store.lock_path]
    fixed += [store.folder.encryption_path, store.folder.key_path, *store.folder.other_copies()]
    return [*fixed, *(store.year_path(year) for year in store.journal_years())]


def check_permissions(store: Store) -> list[Finding]:
    findings = []
    for folder in [store.home] + ([store.journal_dir] if store.journal_dir.is_dir() else []):
        if _mode(folder) & 0o077:
            findings.append(Finding("problem", f"{folder} is readable by others (mode {_mode(folder):o})",
                                    f"chmod 700 '{folder}' (or run `peerloop doctor --fix`)", fixable=True))  # fmt: skip
    for path in _data_paths(store):
        if path.is_symlink():
            findings.append(Finding("problem", f"{path} is a symbolic link; peerloop refuses to read it",
                                    "replace the link with the file it points to (doctor does not follow links)"))  # fmt: skip
        elif _plain(path) and _mode(path) & 0o077:
            findings.append(Finding("problem", f"{path} is readable by others (mode {_mode(path):o})",
                                    f"chmod 600 '{path}' (or run `peerloop doctor --fix`)", fixable=True))  # fmt: skip
    return findings


def check_files(store: Store) -> list[Finding]:
    """Every file parses, and what it says makes sense."""
    findings: list[Finding] = []
    try:
        roster = store.load_roster()
    except DataFileError as error:
        return [Finding("problem", error.message, "fix the file by hand or restore it from a backup")]
    if roster.settings is None:
        findings.append(Finding("note", "no settings yet", "run `peerloop init`"))
    elif roster.settings.email is None:
        findings.append(
            Finding("note", "no email for you: `peerloop invite` needs one", "peerloop init --email ...")
        )
    warning = roster_warning(len(roster.peers))
    if warning and roster.settings is not None:
        findings.append(Finding("note", warning, "peerloop add NAME / peerloop remove NAME"))
    known = {peer.key for peer in roster.peers}
    seen_ids: dict[str, int] = {}
    unknown_peers: set[str] = set()
    for year in store.journal_years():
        try:
            journal_year = store.load_year(year)
        except DataFileError as error:
            findings.append(
                Finding("problem", error.message, "fix the file by hand or restore it from a backup")
            )
            continue
        for entry in journal_year.entries():
            if entry.id in seen_ids:
                findings.append(Finding("problem", f"entry id {entry.id} is used in {seen_ids[entry.id]} and {year}",
                                        f"give one of them a new id in {store.year_path(year)}"))  # fmt: skip
            seen_ids[entry.id] = year
        unknown_peers |= {m.peer for m in journal_year.meetings if peer_key(m.peer) not in known}
    if unknown_peers:
        findings.append(Finding("note", f"the journal names peers no longer in the roster: {', '.join(sorted(unknown_peers))}",
                                "that is fine for removed peers; `peerloop add NAME` brings one back"))  # fmt: skip

    def calendar_records() -> object:
        return state_from_toml(store.load_calendar_state(), new_home_id="doctor0")

    def busy_times() -> object:
        from peerloop.actions.busy import read_cache

        return read_cache(store)

    checked = ((store.calendar_path, calendar_records), (store.connections_path, store.connections),
               (store.busy_path, busy_times))  # fmt: skip
    for path, load in checked:
        try:
            load()
        except DataFileError as error:
            findings.append(
                Finding(
                    "problem", error.message, f"fix it by hand, or move {path.name} away to start it afresh"
                )
            )
        except ValueError as error:
            findings.append(
                Finding(
                    "problem",
                    f"{path}: {error}",
                    f"fix it by hand, or move {path.name} away to start it afresh",
                )
            )
    return findings


def check_transactions(store: Store) -> list[Finding]:
    """An interrupted commit (finished by the next command, or by --fix), temp files, a lock held now."""
    findings = []
    try:
        pending = store.folder.pending()
    except DataFileError as error:
        return [Finding("problem", error.message, "restore the data folder from a backup")]
    waiting = store.folder.sending()
    held = store.folder.pending(store.folder.pending_path) if waiting is not None else None
    named = {temp for temp, _ in [*(pending or []), *(held or [])]}
    if waiting is not None:
        findings.append(Finding("problem", f"a change waited for {waiting} when peerloop stopped: nothing of it was "
                                "recorded, and it may or may not have gone out",
                                "run `peerloop doctor --fix` (or any command that writes) to drop it, then send "
                                "again if needed", fixable=True))  # fmt: skip
    if pending is not None:
        targets = ", ".join(sorted({target.name for _, target in pending}))
        findings.append(Finding("problem", f"a change to {targets} was committed but not finished (a killed process)",
                                "run `peerloop doctor --fix` (or any command that writes) to finish it", fixable=True))  # fmt: skip
    for folder in (store.home, store.journal_dir):
        for leftover in sorted(folder.glob(".*.tmp")) if folder.is_dir() else ():
            if leftover not in named:
                findings.append(Finding("problem", f"{leftover} is left over from an interrupted write",
                                        "delete it (or run `peerloop doctor --fix`): the change it held never happened",
                                        fixable=True))  # fmt: skip
    for copy in store.folder.old_copies():
        findings.append(Finding("problem", f"{copy} is a parsed copy an older peerloop kept: it may still hold what "
                                "its file said before a change", "delete it (or run `peerloop doctor --fix`, or any "
                                "command that writes)", fixable=True))  # fmt: skip
    if _plain(store.lock_path):
        import fcntl

        fd = os.open(
            store.lock_path, os.O_RDONLY | os.O_NOFOLLOW
        )  # read-only: a read-only home is checked too
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
        except BlockingIOError:
            findings.append(Finding("note", "another peerloop process holds the lock right now",
                                    "let it finish; if none runs, the lock is released when that process ends"))  # fmt: skip
        finally:
            os.close(fd)
    return findings


def check_encryption(store: Store) -> list[Finding]:
    """In an encrypted folder: no clear copy of an encrypted file, and `key.age` opens to the folder's key
    (every other file is opened by `check_files`). In a clear one: age files peerloop does not read."""
    if not store.folder.sealed():
        return [Finding("note", f"{path} is an encrypted copy in a folder that is not encrypted: peerloop does "
                        "not read it", "delete it, or `peerloop encrypt` (which replaces it)")
                for path in store.folder.other_copies()]  # fmt: skip
    findings = []
    for path in store.folder.other_copies():
        same = _same_as_sealed(store, path)
        findings.append(Finding("problem", f"{path} is a clear copy of an encrypted file: it holds your notes "
                                "unencrypted" + (" (the same as its encrypted file)" if same else ""),
                                "run `peerloop doctor --fix` to delete it" if same else "check what it holds "
                                "that the encrypted file lacks, then delete it", fixable=same))  # fmt: skip
    key = store.folder.seal.key()
    if key.passphrase is not None:
        from peerloop.store.sealed import opens_to

        if not opens_to(store.folder.read_bytes(store.folder.key_path), key):
            findings.append(Finding("problem", f"{store.folder.key_path} does not hold this folder's key: the "
                                    "`age` tool cannot open the journal with it", "run `peerloop encrypt` to "
                                    "write it anew (with a new passphrase, or the same one)"))  # fmt: skip
    return findings


def _same_as_sealed(store: Store, clear: Path) -> bool:
    """Whether a clear copy says exactly what its encrypted file says (then deleting it loses nothing)."""
    sealed = clear.with_name(clear.name + ".age")
    try:
        return store.folder.read_bytes(clear) == (store.folder.read(sealed) or "").encode()
    except DataFileError:
        return False


def check_all(store: Store) -> list[Finding]:
    """Every check, changing nothing: an unfinished commit is read through its temp files, not finished."""
    store.folder.may_write = False
    try:
        return (check_permissions(store) + check_transactions(store) + check_files(store)
                + check_encryption(store))  # fmt: skip
    finally:
        store.folder.may_write = True


def repair(store: Store) -> list[str]:
    """What --fix does, all inside the data folder and never through a link."""
    done = []
    finished = store.folder.pending()
    waiting = store.folder.sending()
    # Taking the lock finishes an interrupted commit and drops a change that waited for a mail a killed process
    # sent; no other process writes meanwhile.
    with store.locked():
        if waiting is not None:
            done.append(f"dropped the change that waited for {waiting}")
        if finished is not None:
            done.append(
                "finished the interrupted change to " + ", ".join(sorted({t.name for _, t in finished}))
            )
        for folder in (store.home, store.journal_dir):
            if folder.is_dir() and not folder.is_symlink() and _mode(folder) != DIR_MODE:
                os.chmod(folder, DIR_MODE)
                done.append(f"chmod 700 {folder}")
        for folder in (store.home, store.journal_dir):
            for leftover in sorted(folder.glob(".*.tmp")) if folder.is_dir() else ():
                if _plain(leftover):
                    leftover.unlink()
                    done.append(f"deleted {leftover}")
        for copy in store.folder.old_copies():
            copy.unlink()
            done.append(f"deleted {copy}")
        for copy in store.folder.other_copies() if store.folder.sealed() else ():
            if _same_as_sealed(store, copy):
                copy.unlink()
                done.append(f"deleted {copy}, a clear copy of its encrypted file")
        for folder in (store.home, store.journal_dir):
            for path in sorted(folder.iterdir()) if folder.is_dir() and not folder.is_symlink() else ():
                if _plain(path) and _mode(path) & 0o077:
                    os.chmod(path, FILE_MODE)
                    done.append(f"chmod 600 {path}")
    return done
