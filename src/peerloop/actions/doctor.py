"""What `peerloop doctor` checks in a data folder, and the few repairs `--fix` makes: all inside the data
folder, never through a link, never deleting the only copy of data (docs/storage.md, "`peerloop doctor`").
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from peerloop.core.calendar.state import state_from_toml
from peerloop.core.models import peer_key
from peerloop.errors import DataFileError
from peerloop.output.messages import roster_warning
from peerloop.store import device
from peerloop.store.atomic import DIR_MODE, FILE_MODE
from peerloop.store.device import known_device_id, temp_owner
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
    mine = known_device_id()
    fixed = [store.roster_path, store.calendar_path, store.connections_path]
    fixed += [store.home / f"{device.LOCK_PREFIX}{mine}"] if mine else []
    fixed += [store.folder.encryption_path, store.folder.key_path, store.folder.earlier_keys_path]
    fixed += store.folder.other_copies()
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

    from peerloop.actions.busy import read_cache

    checked: list[tuple[Path, Callable[[], object]]] = [
        (store.calendar_path, lambda: state_from_toml(store.load_calendar_state(), new_home_id="doctor0")),
        (store.connections_path, store.connections),
        (store.busy_path, lambda: read_cache(store)),
    ]
    for path, load in checked:
        try:
            load()
        except (DataFileError, ValueError) as error:
            what = error.message if isinstance(error, DataFileError) else f"{path}: {error}"
            findings.append(
                Finding("problem", what, f"fix it by hand, or move {path.name} away to start it afresh")
            )
    return findings


def _leftovers(store: Store) -> tuple[list[Path], list[Path]]:
    """Temp files peerloop left in the folder: this device's (or an older peerloop's), and other devices'
    (copied here by a sync tool that does not ignore them: never deleted here, their device may need them)."""
    own: list[Path] = []
    theirs: list[Path] = []
    mine = known_device_id()
    for folder in (store.home, store.journal_dir):
        for path in sorted(folder.glob(".*.tmp")) if folder.is_dir() else ():
            ours, tag = temp_owner(path.name)
            if ours:
                (own if tag in (None, mine) else theirs).append(path)
    return own, theirs


def _interrupted(store: Store) -> tuple[list[tuple[Path, Path]], str | None, str | None]:
    """A killed change: the (temp, file) pairs its records name, the files it changes when a record is left
    ("the folder" when it names none), and what a change waited for when it stopped."""
    folder = store.folder
    pending = [pair for record in folder.records() for pair in folder.pending(record) or []]
    unfinished = any(os.path.lexists(record) for record in folder.records())
    targets = ", ".join(sorted({target.name for _, target in pending})) or "the folder"
    return pending, targets if unfinished else None, folder.sending()


def check_transactions(store: Store) -> list[Finding]:
    """An interrupted commit (finished by the next command, or by --fix), temp files, a lock held now, and what
    another device's sync left here."""
    findings = []
    folder = store.folder
    try:
        pending, unfinished, waiting = _interrupted(store)
        left = folder.waiting()
        held = folder.pending(left) if left is not None else None
    except DataFileError as error:
        return [Finding("problem", error.message, "restore the data folder from a backup")]
    named = {temp for temp, _ in [*pending, *(held or [])]}
    if waiting is not None:
        findings.append(Finding("problem", f"a change waited for {waiting} when peerloop stopped: nothing of it was "
                                "recorded, and it may or may not have gone out",
                                "run `peerloop doctor --fix` (or any command that writes) to drop it, then send "
                                "again if needed", fixable=True))  # fmt: skip
    if unfinished:
        findings.append(Finding("problem", f"a change to {unfinished} was committed but not finished (a killed process)",
                                "run `peerloop doctor --fix` (or any command that writes) to finish it", fixable=True))  # fmt: skip
    own, theirs = _leftovers(store)
    for leftover in own:
        if leftover not in named:
            findings.append(Finding("problem", f"{leftover} is left over from an interrupted write",
                                    "delete it (or run `peerloop doctor --fix`): the change it held never happened",
                                    fixable=True))  # fmt: skip
    elsewhere = [*device.foreign(store.home, known_device_id()), *theirs]
    if elsewhere:
        names = ", ".join(p.name for p in elsewhere[:3]) + (
            f" and {len(elsewhere) - 3} more" if len(elsewhere) > 3 else ""
        )
        findings.append(Finding("note", f"{names}: another device's lock, records or "
                                "temp files, copied here by your sync tool (never acted on here)",
                                "have the sync tool ignore them: `peerloop where --ignore TOOL` prints the lines"))  # fmt: skip
    for copy in folder.old_copies():
        findings.append(Finding("problem", f"{copy} is a parsed copy an older peerloop kept: it may still hold what "
                                "its file said before a change", "delete it (or run `peerloop doctor --fix`, or any "
                                "command that writes)", fixable=True))  # fmt: skip
    mine = known_device_id()
    lock = store.home / f"{device.LOCK_PREFIX}{mine}" if mine else None
    if lock is not None and _plain(lock):
        import fcntl

        fd = os.open(lock, os.O_RDONLY | os.O_NOFOLLOW)  # read-only: a read-only home is checked too
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
        except BlockingIOError:
            findings.append(Finding("note", "another peerloop process holds the lock right now",
                                    "let it finish; if none runs, the lock is released when that process ends"))  # fmt: skip
        finally:
            os.close(fd)
    return findings


def check_devices(store: Store) -> list[Finding]:
    """What two devices sharing the folder left to do: conflict copies to merge, entries another device wrote
    under a peer's former name."""
    from peerloop.actions.conflicts import former_names
    from peerloop.store.copies import find_copies

    findings = []
    for copy in find_copies(store.home):
        name, of = copy.path.relative_to(store.home), copy.original.relative_to(store.home)
        if copy.of_data:
            findings.append(Finding("problem", f"{name} is a conflict copy of {of} from another device ({copy.tool})",
                                    f"run `peerloop doctor --fix`: it merges the copy into {of}, keeping every "
                                    "entry, and deletes it", fixable=True))  # fmt: skip
        else:
            findings.append(Finding("note", f"{name} is a conflict copy of {of}, a device's own file ({copy.tool})",
                                    "nothing in it to keep: `peerloop doctor --fix` deletes it", fixable=True))  # fmt: skip
    try:
        renamed = former_names(store)
    except DataFileError:
        return findings  # check_files reports the file
    for journal_year, names in renamed:
        findings.append(Finding("problem", f"{store.year_path(journal_year.year)} names {', '.join(names)}, renamed since "
                                "(on another device, before the rename reached this one)",
                                "run `peerloop doctor --fix` to name them as the roster does", fixable=True))  # fmt: skip
    return findings


def check_halves(store: Store) -> list[Finding]:
    """Files a sync tool copied without the rest of the change that wrote them (after check_files read all)."""
    return [Finding("problem", said, "let your sync tool finish; if the rest will never come (that device is gone), "
                    "`peerloop doctor --fix` accepts the folder as it is", fixable=True)
            for _, said in store.halves()]  # fmt: skip


def check_encryption(store: Store) -> list[Finding]:
    """In an encrypted folder: no clear copy of an encrypted file, and `key.age` opens to the folder's key
    (every other file is opened by `check_files`). In a clear one: age files peerloop does not read. Either way,
    a file whose other form alone is here: half of an `encrypt` or `decrypt` another device made."""
    halves = [Finding("problem", said, "let your sync tool finish: nothing is written until the rest arrives")
              for _, said in store.half_encrypted()]  # fmt: skip
    if not store.folder.sealed():
        kept = store.folder.earlier_keys_path.exists()
        fix = ("run `peerloop doctor --fix` with the passphrase the folder had: it opens it with the keys kept in "
               "earlier-keys.age, merges it, keeping every entry, and deletes it") if kept else (
               "open it with `age -d -i` and the identity from a backup of key.age, merge what it holds by hand, "
               "then delete it")  # fmt: skip
        return halves + [Finding("note", f"{path} is an encrypted copy in a folder that is not encrypted: peerloop does "
                        "not read it (another device may have written it while the folder was decrypted)", fix,
                        fixable=kept) for path in store.folder.other_copies()]  # fmt: skip
    findings = halves
    for path in store.folder.other_copies():
        same = _same_as_sealed(store, path)
        findings.append(Finding("problem", f"{path} is a clear copy of an encrypted file: it holds your notes "
                                "unencrypted" + (" (the same as its encrypted file)" if same else ""),
                                "run `peerloop doctor --fix` to delete it" if same else "run `peerloop doctor "
                                "--fix`: it merges it into the encrypted file, keeping every entry, and deletes it",
                                fixable=True))  # fmt: skip
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
        found = (
            check_permissions(store) + check_transactions(store) + check_devices(store) + check_files(store)
        )
        return found + check_halves(store) + check_encryption(store)
    finally:
        store.folder.may_write = True


def repair(store: Store) -> list[str]:
    """What --fix does, all inside the data folder and never through a link."""
    done = []
    _, unfinished, waiting = _interrupted(store)
    # Taking the lock finishes an interrupted commit and drops a change that waited for a mail a killed process
    # sent; no other process writes meanwhile.
    with store.folder.locked():
        if waiting is not None:
            done.append(f"dropped the change that waited for {waiting}")
        if unfinished:
            done.append(f"finished the interrupted change to {unfinished}")
        for folder in (store.home, store.journal_dir):
            if folder.is_dir() and not folder.is_symlink() and _mode(folder) != DIR_MODE:
                os.chmod(folder, DIR_MODE)
                done.append(f"chmod 700 {folder}")
        for leftover in _leftovers(store)[0]:
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
        done += merge_for_devices(store)
    return done


def merge_for_devices(store: Store) -> list[str]:
    """Conflict copies merged (and what both devices changed), former names made current, and a folder a sync
    tool copied half of accepted as it is (its halves written again, as this device's)."""
    from peerloop.actions.conflicts import merge_copies, other_form_copies, rename_former_names
    from peerloop.store.copies import find_copies

    store.accept_halves = True
    done = []
    if find_copies(store.home) or other_form_copies(store):
        merged = merge_copies(store)
        done += merged.done + merged.notes
    done += rename_former_names(store)
    store.load_journal()
    store.load_roster()
    store.load_calendar_state()
    store.connections()
    halves = {path for path, _ in store.halves()}
    if halves:
        with store.change():
            for path in sorted(halves):
                if path == store.roster_path:
                    store.save_roster(store.load_roster(), merged=True)
                elif path == store.calendar_path:
                    store.save_calendar_state(store.load_calendar_state())
                elif path == store.connections_path:
                    store.save_connections(store.connections())
                else:
                    store.save_year(store.load_year(int(path.name[:4])), merged=True)  # 2027.toml(.age)
        done += [
            f"accepted {path.relative_to(store.home)} as it is, without the rest of its change"
            for path in sorted(halves)
        ]
    return done
