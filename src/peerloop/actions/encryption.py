"""Encrypting the journal at rest, giving it a new key, and decrypting it: each one transaction over every
file it rewrites, so a kill at any instant leaves the folder wholly in one form or the other (docs/storage.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from peerloop.core.connections import PasswordSource
from peerloop.errors import ConflictError, NotSetUpError
from peerloop.store import sealed
from peerloop.store.records import Store


class NewKey(NamedTuple):
    """What a folder is encrypted with from now on."""

    encryption: sealed.Encryption
    key: sealed.Key
    key_file: bytes | None
    """`key.age` (with a passphrase), for the `age` tool."""


def passphrase_key(passphrase: str, source: PasswordSource) -> NewKey:
    """A new identity derived from the passphrase; `key.age` costs age's default scrypt (about a second)."""
    key, encryption = sealed.new_passphrase_key(passphrase, source)
    return NewKey(encryption, key, sealed.key_file(key))


def identity_file_key(path: Path) -> NewKey:
    """Every file encrypted to the recipient of an age identity file the leader keeps outside the folder."""
    key = sealed.identity_key(path)
    return NewKey(sealed.Encryption(key.recipient, identity=path), key, None)


def encrypt(store: Store, new: NewKey) -> list[Path]:
    """Seal every file with notes with the new key (the first time, or a new passphrase): the files written."""
    with store.change():
        if store.load_roster().settings is None:
            raise NotSetUpError("peerloop is not set up yet; run `peerloop init --encrypt` first")
        return store.reseal(new.encryption, new.key, new.key_file)


def decrypt(store: Store) -> list[Path]:
    """Write every file with notes in clear again: the files written."""
    with store.change():
        if not store.folder.sealed():
            raise ConflictError("the journal is not encrypted; nothing was changed")
        return store.reseal(None, None)
