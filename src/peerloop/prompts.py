"""The one place that asks the user anything. Off a terminal it never waits: it names the missing flag."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

from peerloop.errors import MissingValueError, PeerloopError
from peerloop.inert import safe

T = TypeVar("T")


class EndOfInput(PeerloopError):
    """The input ended (Ctrl-D, a closed pipe) before a question was answered: nothing was changed."""


def interactive() -> bool:
    """Questions are asked only when a person is at a terminal."""
    return sys.stdin.isatty()


def _read_line(question: str) -> str:
    from peerloop.output.text import terminal_width, wrap

    lines = wrap(question.rstrip(" "), terminal_width() - 1, 2)  # at spaces, never a word cut by the terminal
    sys.stderr.write("\n".join(lines) + question[len(question.rstrip(" ")) :])
    sys.stderr.flush()
    stdin = sys.stdin
    if getattr(stdin, "errors", None) == "strict" and hasattr(stdin, "reconfigure"):
        # Bytes that are not UTF-8 (a terminal in another encoding) then reach the parsers as lone
        # surrogates, which refuse them and ask again, instead of failing to decode the line.
        stdin.reconfigure(errors="surrogateescape")
    line = stdin.readline()
    if not line:
        sys.stderr.write("\n")
        raise EndOfInput("no answer (end of input); nothing was changed")
    return line.rstrip("\r\n")


def ask(question: str, parse: Callable[[str], T], flag: str, default: str | None = None) -> T:
    """Ask until the answer parses; Enter takes the default."""
    if not interactive():
        raise MissingValueError(f"{flag} is required (no terminal to ask on)")
    while (answer := ask_optional(question, parse, default)) is None:
        sys.stderr.write("  Please answer (or press Ctrl-C to stop).\n")
    return answer


def ask_secret(question: str) -> str:
    """A passphrase, read like every answer (from the terminal on stdin) but not echoed; only called on a
    terminal. (getpass would read /dev/tty, which need not be the terminal the command was given.)"""
    try:
        import termios

        fd = sys.stdin.fileno()
        before = termios.tcgetattr(fd)
    except (ImportError, OSError, ValueError):  # not a real terminal (a test playing one): nothing to hide
        return _read_line(f"{question}: ")
    quiet = [*before[:3], before[3] & ~termios.ECHO, *before[4:]]
    termios.tcsetattr(fd, termios.TCSANOW, quiet)
    try:
        return _read_line(f"{question}: ")
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, before)
        sys.stderr.write("\n")


def ask_optional(question: str, parse: Callable[[str], T], default: str | None = None) -> T | None:
    """Ask a question that Enter skips; only called on a terminal."""
    shown = f" [{safe(default)}]" if default else ""
    while True:
        answer = _read_line(f"{question}{shown}: ").strip() or (default or "")
        if not answer:
            return None
        try:
            return parse(answer)
        except ValueError as error:
            sys.stderr.write(f"  {error}\n")


def ask_list(question: str) -> list[str]:
    """Several answers, one per line, ended by an empty line; only called on a terminal."""
    sys.stderr.write(f"{question} (one per line, empty line to finish)\n")
    answers = []
    while answer := _read_line("  > ").strip():
        answers.append(answer)
    return answers


def new_name_confirmed(name: str, like: str, yes: bool) -> bool:
    """A new peer whose name looks like one in the roster ('ann' beside Ann Lee): asked on a terminal,
    `--yes` off one (a one-line error naming both)."""
    if yes:
        return True
    seen = f"{safe(name)!r} looks like {safe(like)} already in the roster"
    if not interactive():
        raise MissingValueError(f"{seen}; pass --yes to add {safe(name)!r} as another peer")
    return confirm(f"{seen}. Add {safe(name)!r} as another peer?")


def confirm(question: str, flag: str = "--yes") -> bool:
    """Yes or no, default no. Off a terminal the caller must have been given `flag`."""
    if not interactive():
        raise MissingValueError(f"pass {flag} to confirm (no terminal to ask on)")
    while (answer := _read_line(f"{question} [y/N]: ").strip().lower()) not in ("y", "yes", "n", "no", ""):
        sys.stderr.write("Please answer y or n.\n")  # "no time" typed by mistake is not a no
    return answer in ("y", "yes")
