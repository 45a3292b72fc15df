"""Where a connection's password comes from: never from peerloop's own files.

Three sources, as the leader configured them: a password command (run without a shell; its first line of
output is the password, like vdirsyncer's `fetch = ["command", ...]` and `pass show NAME`), an environment
variable, or the system keyring when the optional `keyring` package is installed and has a working backend.
Errors name the source, never what it printed.
"""

from __future__ import annotations

import importlib
import os
import shlex
import subprocess

from peerloop.core.connections import PasswordSource
from peerloop.errors import LoginRefusedError

COMMAND_TIMEOUT = 120  # seconds: long enough to type a GPG passphrase into pinentry


KEYRING_SERVICE = "peerloop"


def password(source: PasswordSource, user: str) -> str:
    """The password of `user` from where the connection says it comes from: a command, an environment
    variable, or the keyring (under the service "peerloop")."""
    if source.command is not None:
        return _from_command(source.command)
    if source.env is not None:
        value = os.environ.get(source.env, "")
        if not value:
            raise LoginRefusedError(
                f"the environment variable {source.env} is not set or empty: export it with the password"
            )
        return value
    if source.keyring:
        return _from_keyring(user, KEYRING_SERVICE)
    raise LoginRefusedError(
        "no password source: give a password command, an environment variable or the keyring"
    )


def _from_command(command: str) -> str:
    try:
        args = [os.path.expanduser(arg) if arg.startswith("~") else arg for arg in shlex.split(command)]
    except ValueError:
        raise LoginRefusedError(f"the password command `{command}` has unbalanced quotes: fix it") from None
    if not args:
        raise LoginRefusedError("the password command is empty: give one such as 'pass show caldav'")
    try:
        # stdin and stderr stay the terminal's, so that pinentry or an agent can ask and explain.
        done = subprocess.run(args, stdout=subprocess.PIPE, timeout=COMMAND_TIMEOUT, check=False)
    except FileNotFoundError:
        raise LoginRefusedError(f"the password command `{command}` failed: {args[0]} was not found") from None
    except PermissionError:
        raise LoginRefusedError(f"the password command `{command}` failed: {args[0]} cannot be run") from None
    except subprocess.TimeoutExpired:
        raise LoginRefusedError(
            f"the password command `{command}` did not finish in {COMMAND_TIMEOUT} s"
        ) from None
    if done.returncode != 0:
        raise LoginRefusedError(f"the password command `{command}` failed (exit status {done.returncode})")
    try:
        lines = done.stdout.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise LoginRefusedError(
            f"the password command `{command}` printed something that is not UTF-8"
        ) from None
    if not lines or not lines[0]:
        raise LoginRefusedError(f"the password command `{command}` printed no password on its first line")
    return lines[0]


def _from_keyring(user: str, service: str) -> str:
    try:
        keyring = importlib.import_module("keyring")  # optional: not a dependency of peerloop
    except ImportError:
        raise LoginRefusedError(
            "the system keyring is not available (install the Python 'keyring' package), "
            "or use a password command or an environment variable"
        ) from None
    errors = importlib.import_module("keyring.errors")
    if getattr(keyring.get_keyring(), "priority", 0) <= 0:
        raise LoginRefusedError(
            "the keyring package found no usable system keyring: use a password command or an environment variable"
        )
    try:
        value = keyring.get_password(service, user)
    except errors.KeyringError:
        raise LoginRefusedError(
            f"the system keyring refused to give the password of {user!r} for {service!r}"
        ) from None
    if not value:
        raise LoginRefusedError(
            f"the system keyring has no password of {user!r} for {service!r}: store it with `keyring set {service} {user}`"
        )
    return str(value)
