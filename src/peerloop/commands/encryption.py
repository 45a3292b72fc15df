"""`encrypt` and `decrypt`: the journal encrypted at rest in the age format, or in clear again."""

from __future__ import annotations

from typing import TYPE_CHECKING

from peerloop import options, shell_prompt
from peerloop.inert import safe
from peerloop.output import text

if TYPE_CHECKING:
    from pathlib import Path

    from peerloop.store.records import Store


def encrypt(
    passphrase_command: options.PassphraseCommand = None,
    passphrase_env: options.PassphraseEnv = None,
    keyring: options.PassphraseKeyring = False,
    identity: options.IdentityFile = None,
) -> None:
    """Encrypt the journal and the roster (age files); on an encrypted folder, change the key.

    Every file that holds notes becomes an age file (roster.toml.age, journal/2027.toml.age), in one
    change. The passphrase comes from PEERLOOP_PASSPHRASE, the source you give here (kept in
    encryption.toml; the passphrase itself never is), or a prompt; --identity encrypts to an age
    identity file instead. The `age` tool opens every file: `age -d key.age > key.txt`, then
    `age -d -i key.txt journal/2027.toml.age`. On an encrypted folder it asks for the current passphrase,
    then the new one (or PEERLOOP_NEW_PASSPHRASE), and encrypts every file anew.

    Examples:

      peerloop encrypt

      peerloop encrypt --identity ~/.config/age/peerloop.txt
    """
    from peerloop.actions.encryption import encrypt as encrypt_files

    store = options.store()
    again = store.folder.sealed()
    new = options.new_key(store, passphrase_command, passphrase_env, keyring, identity)
    written = encrypt_files(store, new)
    shell_prompt.forget(str(store.home))
    text.out(("Encrypted anew: " if again else "Encrypted: ") + _names(store, written))
    if new.key_file is not None:
        text.out(
            f"The key for the `age` tool is in {safe(str(store.folder.key_path))} (opened by your passphrase)."
        )


def decrypt() -> None:
    """Write the journal and the roster in clear again (plain TOML), in one change.

    With a passphrase, the folder keeps its keys in earlier-keys.age, which only that passphrase opens: if
    another device wrote an encrypted year before the change reached it, `peerloop doctor --fix` merges it.

    Examples:

      peerloop decrypt
    """
    from peerloop.actions.encryption import decrypt as decrypt_files

    store = options.store()
    written = decrypt_files(store)
    text.out("Decrypted: " + _names(store, written))


def _names(store: Store, paths: list[Path]) -> str:
    return ", ".join(safe(str(path.relative_to(store.home))) for path in paths) or "nothing yet"
