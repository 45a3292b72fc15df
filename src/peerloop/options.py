"""What every command shares on the command line: the parameter types (Annotated, Enums for choices), the
invocation's data folder, and turning a flag's text into a value or a one-line error naming the flag."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, TypeVar

import typer

from peerloop.core.models import WEEKDAYS
from peerloop.core.parse import parse_flag
from peerloop.errors import InputError, PeerloopError
from peerloop.store.records import Store, open_store

if TYPE_CHECKING:
    from peerloop.actions.encryption import NewKey
    from peerloop.store.sealed import Encryption

T = TypeVar("T")


class Invocation:
    """What one run of peerloop chose on its command line (tests run many runs in one process)."""

    def __init__(self, home: Path | None = None) -> None:
        self.home = home
        self.store: Store | None = None
        """The data folder, once a command opened it (what runs after the command reads it too)."""
        self.stale_before: tuple[str, ...] | None = None
        """The weeks the calendar showed otherwise than the plan before a change (see `cli`)."""


current = Invocation()


def start(home: Path | None) -> None:
    """The app's callback: a new invocation, with its `--home`."""
    global current
    current = Invocation(home)


def store() -> Store:
    """The invocation's data folder (one Store per invocation, so reads are cached across the command)."""
    if current.store is None:
        current.store = opened(current.home)
    return current.store


def opened(home: Path | None) -> Store:
    """A data folder whose key, if it is encrypted, is unlocked with `passphrase` when first needed."""
    found = open_store(home)
    found.folder.seal.passphrase = passphrase
    return found


def passphrase(encryption: Encryption) -> str:
    """The passphrase of an encrypted folder, when a command first needs its key: $PEERLOOP_PASSPHRASE, else
    the source the folder names (a command, a variable, the keyring), else asked on a terminal."""
    from peerloop import prompts
    from peerloop.errors import LockedError
    from peerloop.store.sealed import KEYRING_USER, PASSPHRASE_ENV

    if os.environ.get(PASSPHRASE_ENV):
        return os.environ[PASSPHRASE_ENV]
    if encryption.source is not None and encryption.source.given:
        from peerloop.connect.secrets import password

        return password(encryption.source, KEYRING_USER)
    if prompts.interactive():
        return prompts.ask_secret("Passphrase of your peerloop journal")
    raise LockedError(
        f"the journal is encrypted and no passphrase was given: set {PASSPHRASE_ENV}, or run on a terminal "
        "to be asked"
    )


PassphraseCommand = Annotated[
    str | None,
    typer.Option(
        "--passphrase-command",
        metavar="CMD",
        help='A command that prints the journal\'s passphrase, e.g. "pass show peerloop".',
    ),
]
PassphraseEnv = Annotated[
    str | None,
    typer.Option(
        "--passphrase-env",
        metavar="VAR",
        help="An environment variable holding the passphrase (PEERLOOP_PASSPHRASE always works).",
    ),
]
PassphraseKeyring = Annotated[
    bool,
    typer.Option(
        "--keyring", help="Take the passphrase from the system keyring (service peerloop, user journal)."
    ),
]
IdentityFile = Annotated[
    Path | None,
    typer.Option(
        "--identity",
        metavar="FILE",
        help="Encrypt to an age identity file (age-keygen -o FILE) instead of a passphrase; keep it outside "
        "the data folder.",
    ),
]


def one_source(
    sources: Mapping[str, object], what: str, env_flag: str, env: str | None, example: str
) -> list[str]:
    """The flags given of a secret's sources, checked: at most one, and a variable's name that can be one."""
    from peerloop.core.connections import is_variable_name

    given = [flag for flag, value in sources.items() if value]
    if len(given) > 1:
        raise InputError(f"{given[0]} and {given[1]} do not go together: give one {what}")
    if env is not None and not is_variable_name(env):
        raise InputError(f"{env_flag} {env!r}: give the name of an environment variable, e.g. {example}")
    return given


def new_key(
    store: Store, command: str | None, env: str | None, keyring: bool, identity: Path | None
) -> NewKey:
    """The key a folder is encrypted with from now on, from the flags, the environment or two prompts; checked
    before anything is written."""
    from peerloop import prompts
    from peerloop.actions import encryption
    from peerloop.core.connections import PasswordSource
    from peerloop.errors import LockedError
    from peerloop.store.sealed import KEYRING_USER, PASSPHRASE_ENV

    sources = {
        "--passphrase-command": command,
        "--passphrase-env": env,
        "--keyring": keyring,
        "--identity": identity,
    }
    one_source(sources, "source of the key", "--passphrase-env", env, "JOURNAL_KEY")
    if identity is not None:
        path = identity.expanduser().absolute()
        if store.folder.contains(path):
            raise InputError(
                f"--identity {identity}: the key must not live in the data folder; keep it elsewhere"
            )
        return encryption.identity_file_key(path)
    if store.folder.sealed():
        store.folder.seal.key()  # the current key first: a wrong passphrase stops before a new one is asked
    source = PasswordSource(command=command, env=env, keyring=keyring)
    variable = "PEERLOOP_NEW_PASSPHRASE" if store.folder.sealed() else PASSPHRASE_ENV
    if source.given:
        from peerloop.connect.secrets import password

        chosen = password(source, KEYRING_USER)
    elif os.environ.get(variable):
        chosen = os.environ[variable]
    elif prompts.interactive():
        chosen = prompts.ask_secret("New passphrase for your peerloop journal")
        if chosen and prompts.ask_secret("The same passphrase again") != chosen:
            raise InputError("the two passphrases differ; nothing was changed")
    else:
        raise LockedError(
            f"give the new passphrase: set {variable}, give --passphrase-command CMD, or run on a terminal"
        )
    if not source.given and store.folder.sealed():  # a new passphrase, from where the old one came
        source = store.folder.seal.encryption().source or source
    return encryption.passphrase_key(chosen, source)


Weekday = StrEnum("Weekday", {day.upper(): day for day in WEEKDAYS})  # type: ignore[misc]
"""A weekday as flags take it: mon … sun."""


def complete_peer_name(ctx: typer.Context, incomplete: str) -> list[str]:
    """Shell completion for a roster peer's NAME."""
    return _complete(ctx, incomplete, removed_too=False)


def complete_any_peer_name(ctx: typer.Context, incomplete: str) -> list[str]:
    """Shell completion for a NAME that may also be a peer removed from the roster (`history`)."""
    return _complete(ctx, incomplete, removed_too=True)


def _complete(ctx: typer.Context, incomplete: str, removed_too: bool) -> list[str]:
    """The roster's names that match what is typed (any case, accents optional, the start of any word).

    Runs at every Tab, so it reads only `roster.toml` (and, for removed peers, the journal), and it never
    fails. bash and fish replace the typed word with the name as the roster spells it (`eve` -> `Eve\\ Fox`;
    bash inserts it as printed, so it comes escaped as bash reads it); zsh keeps only completions that start
    with the typed text, so there a name typed in another case comes back as the typed text and the rest
    (`eve` -> `eve Fox`), which every command matches. The shell asking is named in `_PEERLOOP_COMPLETE`
    (Typer's completion protocol).
    """
    from peerloop.core.parse import names

    try:
        home = ctx.find_root().params.get("home")
        store = open_store(Path(home) if home else None)
        roster = store.load_roster()
        known = [peer.name for peer in roster.peers]
        if removed_too:
            from peerloop.store.session import journal_names

            known += [name for name in journal_names(store) if roster.find(name) is None]
    except (PeerloopError, OSError):
        return []
    shell = os.environ.get("_PEERLOOP_COMPLETE", "").removeprefix("complete_")
    offered: list[str] = []
    for name in names.complete(incomplete, known):
        if shell == "bash":
            offered.append(_RosterSpelling(re.sub(r"([^\w@%+=:,./-])", r"\\\1", name)))
        elif shell == "fish":
            offered.append(_RosterSpelling(name))
        elif name.startswith(incomplete):
            offered.append(name)
        elif names.fold(name[: len(incomplete)]) == names.fold(incomplete):
            offered.append(incomplete + name[len(incomplete) :])
    return offered


class _RosterSpelling(str):
    """A completion that differs from the typed text in case or accents (`eve` -> `Eve\\ Fox`). Typer keeps
    only completions whose `startswith(typed)` holds, in every shell; bash and fish replace the typed word,
    so for them this one is kept as the roster spells it."""

    __slots__ = ()

    def startswith(self, *_: object) -> bool:
        return True


PeerArgument = Annotated[
    str,
    typer.Argument(
        metavar="NAME",
        help="The peer's name: any case, accents optional, or a unique start of it (ann).",
        show_default=False,
        autocompletion=complete_peer_name,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of text.")]
WideOption = Annotated[
    bool,
    typer.Option(
        "--wide", help="Every column, however narrow the terminal (as stacked blocks when they do not fit)."
    ),
]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]


def parse_day(value: str, flag: str, today: dt.date, looking: Literal["past", "future"]) -> dt.date:
    """A date as people type it (2027-01-12, yesterday, tue, last tue, 3 days ago, +2w), for `flag`."""
    from peerloop.core.models import EARLIEST_DAY, LATEST_DAY
    from peerloop.core.parse import dates

    day = parse_flag(value, flag, lambda text: dates.parse_day(text, today, looking))
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise InputError(
            f"{flag} {day.isoformat()} is outside the years peerloop keeps ({EARLIEST_DAY.year} to {LATEST_DAY.year})"
        )
    return day


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
    if default is not None and not prompts.interactive():
        return parse_flag(default, flag, parse)
    return prompts.ask(question, parse, flag, default)  # off a terminal: MissingValueError


def output_path(store: Store, value: str, flag: str, example: str) -> Path:
    """A file the user asked peerloop to write, checked before anything is written: not in the data folder
    (it would replace a data file), not a folder, in a folder that exists, a name the system accepts."""
    if not value.strip():
        raise InputError(f"{flag}: give a file name, such as {example}")
    path = Path(value).expanduser()
    try:
        if store.folder.contains(path):
            raise InputError(f"{flag} {value}: that is inside the data folder; write it somewhere else")
        if path.is_dir():
            raise InputError(f"{flag} {value} is a folder; give a file name, such as {example}")
        if not path.parent.is_dir():
            raise InputError(f"{flag}: the folder {path.parent} does not exist; create it first")
    except OSError as error:
        raise InputError(
            f"{flag}: {value[:60]}… cannot be used ({error.strerror}); give another file name"
        ) from None
    return path
