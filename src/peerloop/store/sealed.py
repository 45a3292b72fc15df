"""The journal encrypted at rest: the one place that seals and opens age files (pyrage), with one X25519
identity per folder, derived from the passphrase or read from an identity file (docs/storage.md, Encryption).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from peerloop.errors import DataFileError, LockedError
from peerloop.store.agefile import AGE_MAGIC, ARMOR_MAGIC, bech32, dearmored, passphrase_file
from peerloop.store.layout import EARLIER_KEYS_FILE, ENCRYPTION_FILE

if TYPE_CHECKING:  # the folder imports this module: what only an encrypted folder needs comes when it does
    from pyrage import x25519

    from peerloop.core.connections import PasswordSource

PASSPHRASE_ENV = "PEERLOOP_PASSPHRASE"
"""Always accepted, before the source `encryption.toml` names."""
KEYRING_USER = "journal"
"""The keyring entry of the passphrase: service "peerloop", user "journal"."""
WORK_FACTOR = 14
"""log2 of scrypt's N for the derived identity: 16 MiB and about 30 ms, scrypt's figure for interactive use."""
_SALT_LABEL = b"peerloop.encryption.v1/"

EARLIER_HEADER = """\
# peerloop: the keys this folder had before its passphrase changed, newest first (sealed to its key now)
"""
HEADER = """\
# peerloop encryption: roster.toml.age and journal/YYYY.toml.age are age files. No key is kept here: the
# passphrase comes from $PEERLOOP_PASSPHRASE, the source named below (if any) or a prompt (docs/guide.md).
"""


class Encryption(NamedTuple):
    """What `encryption.toml` says."""

    recipient: str
    salt: bytes | None = None
    """With a passphrase: the scrypt salt of the derived identity (None with an identity file)."""
    work_factor: int = WORK_FACTOR
    identity: Path | None = None
    """An age identity file outside the folder, instead of a passphrase."""
    source: PasswordSource | None = None
    """Where the passphrase comes from, besides $PEERLOOP_PASSPHRASE and a prompt."""


PassphraseSource = Callable[[Encryption], str]
"""Gives the passphrase of a folder, or raises LockedError (the command layer asks; the store never does)."""


class Seal:
    """A folder's key: unlocked the first time an age file is read or written, once per process; inside a
    change that encrypts, re-keys or decrypts the folder, that change's new key."""

    def __init__(
        self, home: Path, read: Callable[[Path], str | None], read_raw: Callable[[Path], bytes | None]
    ) -> None:
        self.home, self._read, self._read_raw = home, read, read_raw
        self.passphrase: PassphraseSource | None = None
        """Where the passphrase comes from: None, the environment only; the command layer sets one that asks."""
        self._key: Key | None = None
        self.staged: tuple[Encryption | None, Key | None] | None = None
        """Inside a change that encrypts, re-keys or decrypts the folder: its new encryption and key."""

    def key(self) -> Key:
        if self.staged is not None:
            assert self.staged[1] is not None, "a clear folder has no key"
            return self.staged[1]
        if self._key is None:
            settings = self._read(self.home / ENCRYPTION_FILE)
            kept = self._read_raw(self.home / EARLIER_KEYS_FILE) if settings is None else None
            if kept:
                self._key = self._decrypted_folders_key(kept)
            else:
                encryption = self._encryption(settings)
                self._key = unlock(encryption, self.passphrase or from_environment, self.home)
                self._key.earlier = self._earlier
        return self._key

    def _decrypted_folders_key(self, kept: bytes) -> Key:
        """In a folder `decrypt` made clear: the keys it had (`kept`, opened by its passphrase), for an age file
        another device wrote before the `decrypt` reached it."""
        import pyrage

        path = self.home / EARLIER_KEYS_FILE
        passphrase = (self.passphrase or from_environment)(Encryption(recipient=""))
        try:
            text = bytes(pyrage.passphrase.decrypt(kept, passphrase)).decode()
        except (pyrage.DecryptError, UnicodeDecodeError):
            raise LockedError(
                f"{path} does not open with this passphrase: give the one the folder had before `decrypt`"
            ) from None
        identities = _identities(text)
        if not identities:
            raise DataFileError(f"{path} holds no key; restore it from a backup")
        key = Key(identities[0])
        key.earlier = lambda: identities[1:]
        return key

    def kept_at_decrypt(self) -> bytes | None:
        """Before `decrypt`: `earlier-keys.age` as the clear folder keeps it, the keys in a passphrase file; None
        with an identity file, which stays outside the folder and still opens what it sealed."""
        current = self.key()
        if current.passphrase is None:
            return None
        return passphrase_file(current.passphrase, self._keys_text(current).encode(), WORK_FACTOR)

    def _earlier(self) -> list[x25519.Identity]:
        """The folder's earlier keys (`earlier-keys.age`, opened with the current one), oldest last."""
        return _identities(self._read(self.home / EARLIER_KEYS_FILE) or "")

    def retired(self) -> str | None:
        """Before a change gives the folder a new key: `earlier-keys.age`'s text (the keys it had), so a file
        another device sealed before the new key reached it still opens; None for a clear folder."""
        if self._read(self.home / ENCRYPTION_FILE) is None:
            return None
        return self._keys_text(self.key())

    def _keys_text(self, current: Key) -> str:
        """The text of `earlier-keys.age`: the current key, then the earlier ones, each once."""
        identities = dict.fromkeys([str(current.identity), *(str(i) for i in self._earlier())])
        return EARLIER_HEADER + "".join(f"{identity}\n" for identity in identities)

    def encryption(self) -> Encryption:
        return self._encryption(self._read(self.home / ENCRYPTION_FILE))

    def _encryption(self, text: str | None) -> Encryption:
        """What `encryption.toml` (its `text`) says; a missing one is one line."""
        path = self.home / ENCRYPTION_FILE
        if text is None:
            raise DataFileError(f"{path} is missing; restore it from a backup")
        return encryption_from_toml(text, path)

    def end(self, landed: bool) -> None:
        """After the change: its key is the folder's if it landed, else nothing changed."""
        if self.staged is not None and landed:
            self._key = self.staged[1]
        self.staged = None

    def forget(self) -> None:
        """A change another process left was finished: the folder may have a new key."""
        self._key = None

    def share(self, other: Seal) -> None:
        """Another Store of the same folder (doctor's second look) uses the key already unlocked."""
        other.passphrase, other._key = self.passphrase, self._key


class Key:
    """A folder's identity, unlocked: seals files to its recipient and opens them."""

    def __init__(self, identity: x25519.Identity, passphrase: str | None = None) -> None:
        self.identity = identity
        self.passphrase = passphrase
        """Kept to open a file that `age -p` wrote with the same passphrase."""
        self.earlier: Callable[[], list[x25519.Identity]] | None = None
        """The folder's earlier keys, tried when a file does not open with this one."""

    @property
    def recipient(self) -> str:
        return str(self.identity.to_public())

    def seal(self, data: bytes) -> bytes:
        import pyrage

        return bytes(pyrage.encrypt(data, [self.identity.to_public()]))

    def open(self, raw: bytes, path: Path) -> bytes:
        """The plaintext of an age file: to this identity, or (with a passphrase) an `age -p` file."""
        import pyrage

        if not (raw.startswith(AGE_MAGIC) or raw.lstrip().startswith(ARMOR_MAGIC)):
            raise DataFileError(
                f"{path} is not an age file (damaged?); restore it from a backup, or move it away"
            )
        binary = dearmored(raw) if raw.lstrip().startswith(ARMOR_MAGIC) else raw
        try:
            if binary.startswith(AGE_MAGIC) and b"\n-> scrypt " in binary.partition(b"\n---")[0]:
                if self.passphrase is None:
                    raise DataFileError(
                        f"{path} was encrypted with a passphrase, and this folder uses an identity file: "
                        f"re-encrypt it with `age -r {self.recipient}`"
                    )
                return bytes(pyrage.passphrase.decrypt(raw, self.passphrase))
            return bytes(pyrage.decrypt(raw, [self.identity]))
        except pyrage.DecryptError:
            earlier = self.earlier() if self.earlier and path.name != EARLIER_KEYS_FILE else []
            if earlier:
                with contextlib.suppress(pyrage.DecryptError):
                    return bytes(pyrage.decrypt(raw, earlier))
            raise DataFileError(
                f"{path} cannot be decrypted with this folder's key (damaged, or encrypted to another key); "
                "restore it from a backup"
            ) from None


def derive(passphrase: str, salt: bytes, work_factor: int = WORK_FACTOR) -> Key:
    """The identity a passphrase gives with this salt (the same every time)."""
    import hashlib

    from pyrage import x25519

    secret = hashlib.scrypt(
        passphrase.encode("utf-8"), salt=_SALT_LABEL + salt, n=1 << work_factor, r=8, p=1,
        maxmem=min(2048 << work_factor, 2**31 - 1), dklen=32,
    )  # fmt: skip
    return Key(x25519.Identity.from_str(bech32("age-secret-key-", secret).upper()), passphrase)


def new_passphrase_key(passphrase: str, source: PasswordSource) -> tuple[Key, Encryption]:
    """A new identity for a folder, derived from the passphrase with a new salt."""
    import secrets

    if not passphrase:
        raise LockedError("the passphrase is empty: choose one")
    salt = secrets.token_bytes(16)
    key = derive(passphrase, salt)
    return key, Encryption(key.recipient, salt=salt, source=source)


def _identities(text: str) -> list[x25519.Identity]:
    """The identities in a file of keys, one `AGE-SECRET-KEY-1…` line each (a damaged line opens nothing)."""
    import pyrage
    from pyrage import x25519

    found = []
    for line in text.splitlines():
        if line.startswith("AGE-SECRET-KEY-1"):
            with contextlib.suppress(pyrage.IdentityError):
                found.append(x25519.Identity.from_str(line))
    return found


def key_file(key: Key) -> bytes:
    """`key.age`: the identity in an age file for the passphrase (an scrypt stanza), for `age -d key.age`."""
    assert key.passphrase is not None
    return passphrase_file(
        key.passphrase,
        f"# the age identity of a peerloop data folder\n{key.identity}\n".encode(),
        WORK_FACTOR,
    )


def opens_to(key_file: bytes | None, key: Key) -> bool:
    """Whether `key.age` opens with the key's passphrase to the key's identity."""
    import pyrage

    assert key.passphrase is not None
    try:
        return str(key.identity) in pyrage.passphrase.decrypt(key_file or b"", key.passphrase).decode()
    except (pyrage.DecryptError, UnicodeDecodeError):
        return False


def identity_key(path: Path) -> Key:
    """The first X25519 identity in an age identity file (as `age-keygen` writes it)."""
    import stat

    import pyrage
    from pyrage import x25519

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO named here must not hang the command
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise LockedError(f"the identity file {path} is not a regular file")
            raw = os.read(fd, 1 << 20)
        finally:
            os.close(fd)
    except OSError as error:
        raise LockedError(f"cannot read the identity file {path}: {error.strerror}") from None
    if raw.startswith(AGE_MAGIC) or raw.lstrip().startswith(ARMOR_MAGIC):
        raise LockedError(
            f"the identity file {path} is itself encrypted; peerloop reads a plain one (age-keygen -o FILE)"
        )
    for line in raw.decode("utf-8", "replace").splitlines():
        if line.strip().upper().startswith("AGE-SECRET-KEY-1"):
            try:
                return Key(x25519.Identity.from_str(line.strip().upper()))
            except pyrage.IdentityError:
                break
    raise LockedError(f"{path} holds no age identity (a line AGE-SECRET-KEY-1…); make one with age-keygen")


def unlock(encryption: Encryption, passphrase: PassphraseSource, home: Path) -> Key:
    """The folder's key: from its identity file, or derived from the passphrase and checked against the
    recipient `encryption.toml` names, so that a wrong passphrase is refused before anything is read."""
    if encryption.identity is not None:
        key = identity_key(encryption.identity)
        if key.recipient != encryption.recipient:
            raise LockedError(
                f"the identity file {encryption.identity} is not the one the journal in {home} was encrypted to"
            )
        return key
    assert encryption.salt is not None
    key = derive(passphrase(encryption), encryption.salt, encryption.work_factor)
    if key.recipient != encryption.recipient:
        raise LockedError(
            f"wrong passphrase for the encrypted journal in {home}; nothing was read or changed"
        )
    return key


def from_environment(encryption: Encryption) -> str:
    """The passphrase from $PEERLOOP_PASSPHRASE or the variable the folder names: what a shell prompt and a
    reminder may use (they never ask, nor run a command)."""
    for name in (PASSPHRASE_ENV, encryption.source and encryption.source.env):
        if name and os.environ.get(name):
            return os.environ[name]
    raise LockedError(
        f"the journal is encrypted (locked): set {PASSPHRASE_ENV}, or run on a terminal to be asked"
    )


def encryption_from_toml(text: str, path: Path) -> Encryption:
    import base64

    from peerloop.core.connections import PasswordSource
    from peerloop.store.codecs.schema import check_schema
    from peerloop.store.codecs.toml import Fields, parse

    data = parse(text, path)
    check_schema(data, path)
    f = Fields(data, path, text, ("", None), path.name, "or restore it from a backup")
    recipient = f.required(f.get("recipient", str, required=True))
    salt_text, identity = f.get("salt", str), f.get("identity_file", str)
    if (salt_text is None) == (identity is None):
        f.fail(None, "needs a salt (passphrase) or an identity_file, one of them")
    salt = None
    if salt_text is not None:
        try:
            salt = base64.b64decode(salt_text, validate=True)
        except ValueError:
            f.fail("salt", "is not base64")
    work_factor = f.get("work_factor", int) or WORK_FACTOR
    if not 10 <= work_factor <= 18:
        f.fail("work_factor", "must be between 10 and 18")
    source = PasswordSource(
        command=f.get("passphrase_command", str), env=f.get("passphrase_env", str),
        keyring=bool(f.get("keyring", bool)),
    )  # fmt: skip
    return Encryption(recipient, salt, work_factor, Path(identity) if identity else None, source)


def encryption_text(encryption: Encryption) -> str:
    import base64

    from peerloop.store.codecs.schema import SCHEMA_VERSION
    from peerloop.store.codecs.toml import dump_toml

    table: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "recipient": encryption.recipient}
    if encryption.identity is not None:
        table["identity_file"] = str(encryption.identity)
    else:
        assert encryption.salt is not None
        table |= {"salt": base64.b64encode(encryption.salt).decode(), "work_factor": encryption.work_factor}
    source = encryption.source
    if source is not None:
        table |= {"passphrase_command": source.command, "passphrase_env": source.env}
        table |= {"keyring": True} if source.keyring else {}
    return HEADER + dump_toml({k: v for k, v in table.items() if v is not None})
