"""What every command shares: the --home and --json options, the store, flag parsing and prompting."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

from peerloop.errors import InputError, MissingValueError
from peerloop.options import Arg, Opt
from peerloop.paths import data_home
from peerloop.storage import DEFAULT_LOCK_TIMEOUT, Store

T = TypeVar("T")

LOCK_TIMEOUT_ENV = "PEERLOOP_LOCK_TIMEOUT"

HOME_HELP = "Data folder (default: $PEERLOOP_HOME, else your platform's user data folder)."
HomeOption = Annotated[
    Path | None,
    Opt("--home", metavar="DIR", help=HOME_HELP, show_default=False, file_okay=False, dir_okay=True),
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
        lock_timeout = -1.0
    if not 0 <= lock_timeout < float("inf"):  # also NaN, which would make a held lock wait for ever
        raise InputError(f"{LOCK_TIMEOUT_ENV}={timeout!r} is not a number of seconds")
    store = Store(check_home(data_home(home or global_home[0])), lock_timeout=lock_timeout)
    opened[:] = [store]
    return store


def check_home(home: Path) -> Path:
    """The data folder, when it is one or does not exist yet; else one line saying why it cannot be used.

    Said here, once, rather than as a failure at the first file read or written: a path too long for the
    system, a loop of links, a file where the folder should be.
    """
    import stat

    try:
        mode = os.stat(home).st_mode
    except FileNotFoundError:
        return home
    except OSError as error:
        reason = error.strerror or str(error)
    else:
        if stat.S_ISDIR(mode):
            return home
        reason = "it is a file, not a folder"
    raise InputError(
        f"the data folder {home} cannot be used ({reason}); point --home or PEERLOOP_HOME at a folder"
    )


def complete_peer_name(ctx: Any, incomplete: str) -> list[str]:
    """Shell completion for a peer's NAME: the roster's names that start with what is typed.

    Runs at every Tab, so it reads only `roster.toml` (of the folder `--home` names on the command line,
    else $PEERLOOP_HOME, else the default), and it never fails: a missing or damaged roster, or anything
    else going wrong, means no suggestions. Typer passes `ctx` (a click Context, parsed leniently) and the
    word being completed; `ctx` is typed Any so that this module imports without Typer.
    """
    try:
        home = None
        context = ctx
        while context is not None and home is None:
            home = context.params.get("home")
            context = context.parent
        roster = Store(data_home(Path(home) if home else None)).load_roster()
        return [peer.name for peer in roster.peers if peer.name.startswith(incomplete)]
    except Exception:
        return []


PeerArgument = Annotated[
    str,
    Arg(
        metavar="NAME",
        help="The peer's name (any case).",
        show_default=False,
        autocompletion=complete_peer_name,
    ),
]
"""A peer in the roster, as NAME; the shell completes it from the roster's names."""


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
