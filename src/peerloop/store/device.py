"""This device among the devices that share one data folder: its id (kept outside the folder) and the files
that belong to it alone (docs/storage.md, Two devices)."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from peerloop.errors import InputError, StorageError
from peerloop.store.home import APP_NAME
from peerloop.store.layout import BUSY_FILE

DEVICE_ENV = "PEERLOOP_DEVICE"
DEVICE_FILE = "device-id"
_DEVICE = re.compile(r"^[a-z0-9]{4,32}$")
ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
"""Crockford's base 32 in lower case: no i, l, o or u to misread."""

_known: dict[str, str] = {}
"""The id read (or made) by this process, per state folder: read once."""


def state_dir() -> str:
    """Where this device keeps what is its own (never inside a synced folder, unless the user put it there):
    $XDG_STATE_HOME/peerloop, else ~/.local/state/peerloop (Linux); platformdirs' answer elsewhere."""
    xdg = os.environ.get("XDG_STATE_HOME", "")
    home = os.environ.get("HOME", "")
    if sys.platform == "linux" and os.path.isabs(xdg):
        return os.path.join(xdg, APP_NAME)
    if sys.platform == "linux" and os.path.isabs(home):
        return os.path.join(home, ".local", "state", APP_NAME)
    import platformdirs

    return platformdirs.user_state_dir(APP_NAME, appauthor=False)


def device_id() -> str:
    """This device's id: $PEERLOOP_DEVICE, else the one kept in the state folder (made there on first need: a
    command about to write)."""
    found = known_device_id()
    if found is None:
        folder = state_dir()
        found = _known[folder] = _make(folder, os.path.join(folder, DEVICE_FILE))
    return found


def known_device_id() -> str | None:
    """This device's id, or None when it has none yet (then nothing of this device can exist in a folder)."""
    chosen = os.environ.get(DEVICE_ENV)
    if chosen:
        if not _DEVICE.match(chosen):
            raise InputError(f"{DEVICE_ENV}={chosen!r}: a device id is 4 to 32 lowercase letters or digits")
        return chosen
    folder = state_dir()
    if folder in _known:
        return _known[folder]
    path = os.path.join(folder, DEVICE_FILE)
    try:
        with open(path, encoding="utf-8") as kept:
            found = kept.read().strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise StorageError(
            f"cannot read this device's id in {path} ({error}); delete the file and a new one is made"
        ) from None
    if not _DEVICE.match(found):
        raise StorageError(
            f"{path} does not hold a device id (4 to 32 lowercase letters or digits); delete it"
        )
    _known[folder] = found
    return found


def _make(folder: str, path: str) -> str:
    """A new random id, written once (a second process making one at the same instant keeps the first)."""
    import secrets

    from peerloop.store.atomic import ensure_private_dir, write_error

    made = "".join(secrets.choice(ALPHABET) for _ in range(8))
    ensure_private_dir(Path(folder))
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        with open(path, encoding="utf-8") as kept:
            return kept.read().strip()
    except OSError as error:
        raise write_error(Path(path), error) from None
    try:
        os.write(fd, f"{made}\n".encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return made


# --- the files of one device -----------------------------------------------------------------------------

LOCK_PREFIX = ".lock-"
COMMIT_PREFIX = ".commit-"
PENDING_PREFIX = ".pending-"
SCRATCH = (".status-line", ".missed-week")
"""Per-device caches in the folder: the prompt line's and the week `next` last said was missed."""
CACHE_FILES = (BUSY_FILE,)
"""The busy-time cache: each device refreshes its own."""

_OWN = re.compile(r"^\.(?:lock|commit|pending)-([a-z0-9]{4,32})$")
_TEMP_TAG = re.compile(r"\.([a-z0-9]{4,32})-\d+-\d+-\d+\.tmp$")


def owner(name: str) -> str | None:
    """The device a lock, commit record or pending record belongs to, by its file name (else None)."""
    match = _OWN.match(name)
    return match[1] if match else None


def temp_owner(name: str) -> tuple[bool, str | None]:
    """Whether `name` is a temp file as peerloop names them, and the device it names (None: an older
    peerloop's, which named none). Another tool's temp files (`.syncthing.roster.toml.tmp`) are not ours."""
    if not (name.startswith(".") and name.endswith(".tmp")) or name.startswith(".syncthing."):
        return False, None
    tagged = _TEMP_TAG.search(name)
    return True, tagged[1] if tagged else None


def foreign(home: Path, own: str | None) -> list[Path]:
    """Locks and records of other devices that a sync tool copied into the folder: never acted on here."""
    try:
        names = sorted(os.listdir(home))
    except OSError:
        return []
    return [home / name for name in names if owner(name) not in (None, own)]


def ignore_patterns() -> list[str]:
    """What a sync tool must leave alone: every device's lock and records, temp files, caches."""
    return [f"{LOCK_PREFIX[:-1]}*", f"{COMMIT_PREFIX[:-1]}*", f"{PENDING_PREFIX[:-1]}*", "*.tmp",
            *SCRATCH, *CACHE_FILES, DEVICE_FILE]  # fmt: skip


TOOLS = ("syncthing", "git", "nextcloud", "dropbox")


def ignore_lines(tool: str, home: str, device: str) -> list[str]:
    """The lines to give `tool` so that it leaves this device's files alone (docs/guide.md, Two devices)."""
    patterns = ignore_patterns()
    if tool == "syncthing":
        return ["// peerloop: files that belong to one device (peerloop where --ignore syncthing)", *patterns]
    if tool in ("git", "nextcloud"):
        return [f"# peerloop: files that belong to one device (peerloop where --ignore {tool})", *patterns]
    import shlex

    # Dropbox has no patterns, and marks a file, not a name: only the lock stays the same file (every other
    # file is replaced whole when it changes, and loses its mark). The records and temp files carry the
    # device's id and are never acted on elsewhere; the caches hold nothing another device needs.
    lock = shlex.quote(os.path.join(home, f"{LOCK_PREFIX}{device}"))
    mark = (
        "xattr -w com.dropbox.ignored 1" if sys.platform == "darwin" else "attr -s com.dropbox.ignored -V 1"
    )
    return [
        "# peerloop: run once on each device (peerloop where --ignore dropbox)",
        f"touch {lock} && {mark} {lock}",
    ]
