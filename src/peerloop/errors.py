"""Errors that carry their own user message and exit code; only the CLI turns them into output."""

from enum import IntEnum, unique
from typing import ClassVar


@unique
class Exit(IntEnum):
    """Every exit code peerloop uses (docs/exit-codes.md). Typer/click own 1 (aborted) and 2 (usage)."""

    OK = 0
    ABORTED = 1
    USAGE = 2
    CONFLICT = 3
    DATA = 4
    STORAGE = 5
    NOT_SET_UP = 6
    # The outside world (CalDAV, SMTP, sendmail, calendar feeds) and the journal's key.
    UNREACHABLE = 7
    REFUSED_LOGIN = 8
    REMOTE_REFUSED = 9
    # Not errors: what `peerloop status --check` reports to cron when the trial is not on track.
    OVERDUE = 10
    REVIEW_DUE = 11
    INTERRUPTED = 130
    """Ctrl-C (or SIGTERM) stopped a command before it finished (as a shell reports it)."""


class PeerloopError(Exception):
    """A failure the user can act on: `str(error)` is the one line they see."""

    exit_code: ClassVar[Exit] = Exit.ABORTED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputError(PeerloopError):
    """A value given on the command line (or at a prompt) is malformed: fix what you typed."""

    exit_code = Exit.USAGE


class ConflictError(PeerloopError):
    """The request does not fit the data: unknown peer, duplicate name, nothing to log."""

    exit_code = Exit.CONFLICT


class DataFileError(PeerloopError):
    """A data file cannot be read as peerloop data: damaged, hand-edited wrongly, or from a newer version."""

    exit_code = Exit.DATA


class StorageError(PeerloopError):
    """The data could not be written (disk full, read-only folder, lock held too long); nothing was changed."""

    exit_code = Exit.STORAGE


class NotSetUpError(PeerloopError):
    """There is no roster yet: `peerloop init` creates it."""

    exit_code = Exit.NOT_SET_UP


class MissingValueError(InputError):
    """A required value was not given and there is no terminal to ask on."""


class UnreachableError(PeerloopError):
    """A server could not be reached: wrong host or port, no network, a timeout, a TLS failure."""

    exit_code = Exit.UNREACHABLE


class LoginRefusedError(PeerloopError):
    """A server refused the credentials (or the password could not be obtained)."""

    exit_code = Exit.REFUSED_LOGIN


class LockedError(PeerloopError):
    """The encrypted journal stays locked: no passphrase (none set, no terminal to ask on), a wrong one, or an
    identity file that cannot be read. Nothing was read or written."""

    exit_code = Exit.REFUSED_LOGIN


class RemoteRefusedError(PeerloopError):
    """A server was reached and logged into, but refused the request: no such calendar, a rejected
    recipient, an event changed on the server, a mail command that failed."""

    exit_code = Exit.REMOTE_REFUSED


class Declined(PeerloopError):
    """The person answered no at a question: nothing was changed, and that is not an error."""

    exit_code = Exit.OK


class Interrupted(BaseException):
    """Ctrl-C or SIGTERM, as peerloop's own exception (raised by the handler `exits.guarded` installs): Typer
    would turn a KeyboardInterrupt into a silent exit 130, and every command must end on "Aborted." or on
    what it saved. Not a PeerloopError: nothing may catch it by accident."""


class Stopped(PeerloopError):
    """A command that talks to the outside world was interrupted (Ctrl-C) after part of its work reached it:
    the message says exactly what did, and the next run finishes the rest."""

    exit_code = Exit.INTERRUPTED
