"""What every command shares: the --home and --json options, the store, flag parsing and prompting."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

from peerloop.errors import InputError, MissingValueError
from peerloop.options import Opt
from peerloop.paths import data_home
from peerloop.storage import DEFAULT_LOCK_TIMEOUT, Store

T = TypeVar("T")

LOCK_TIMEOUT_ENV = "PEERLOOP_LOCK_TIMEOUT"

HOME_HELP = "Data folder (default: $PEERLOOP_HOME, else your platform's user data folder)."
HomeOption = Annotated[
    Path | None, Opt("--home", help=HOME_HELP, show_default=False, file_okay=False, dir_okay=True)
]
JsonOption = Annotated[bool, Opt("--json", help="Print JSON for scripts instead of text.")]

global_home: list[Path | None] = [None]
opened: list[Store] = []
"""The store this invocation opened, for what runs after the command (the review reminder)."""


def start_invocation(home: Path | None) -> None:
    """Forget the previous invocation's state (tests run many in one process)."""
    global_home[0] = home
    opened.clear()


def open_store(home: Path | None) -> Store:
    """The data folder chosen by --home (on the command, then globally), $PEERLOOP_HOME or platformdirs."""
    timeout = os.environ.get(LOCK_TIMEOUT_ENV)
    try:
        lock_timeout = float(timeout) if timeout else DEFAULT_LOCK_TIMEOUT
    except ValueError:
        raise InputError(f"{LOCK_TIMEOUT_ENV}={timeout!r} is not a number of seconds") from None
    store = Store(data_home(home or global_home[0]), lock_timeout=lock_timeout)
    opened[:] = [store]
    return store


def parse_flag(value: str, flag: str, parse: Callable[[str], T]) -> T:
    """Parse a flag's text, turning the parser's reason into an error that names the flag."""
    try:
        return parse(value)
    except ValueError as error:
        raise InputError(f"{flag}: {error}") from None


def resolve(
    value: str | None,
    flag: str,
    question: str,
    parse: Callable[[str], T],
    default: str | None = None,
) -> T:
    """A required value: from its flag, else asked on a terminal, else its default, else an error."""
    from peerloop import prompts

    if value is not None:
        return parse_flag(value, flag, parse)
    if prompts.interactive():
        return prompts.ask(question, parse, flag, default)
    if default is not None:
        return parse_flag(default, flag, parse)
    raise MissingValueError(f"{flag} is required (no terminal to ask on)")
