"""The one place where failures become a message and an exit code (docs/exit-codes.md).

Kept apart from `cli.py` so that the prompt's fast path (`status --line`) reports errors the same way
without importing Typer. Exit codes: `errors.Exit`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from peerloop.errors import Declined, Exit, Interrupted, PeerloopError
from peerloop.inert import safe
from peerloop.output import text
from peerloop.store import folder, interrupts

DEBUG_ENV = "PEERLOOP_DEBUG"


def fail(message: str, code: int) -> int:
    text.message(f"peerloop: error: {safe(message)}{_saved_note()}")
    return code


def _saved_note() -> str:
    """After a commit, an error must not let anyone think nothing changed."""
    if not folder.committed:
        return ""
    names = ", ".join(sorted({path.name for path in folder.committed}))
    return f" (your change was saved before this happened: {names})"


def guarded(call: Callable[[], Any]) -> int:
    """Run a command; turn every failure into one line on stderr and its documented exit code.

    A change that was committed stands: Ctrl-C or a closed pipe after it is not reported as "Aborted".
    """
    folder.committed.clear()
    folder.unsent.clear()
    interrupts.held_interrupt = False
    _prepare_streams()
    previous = _catch_interrupts()
    try:
        result = call()
    except Declined as answered:
        text.message(answered.message)
        return answered.exit_code
    except PeerloopError as error:
        return fail(error.message, error.exit_code)
    except (KeyboardInterrupt, Interrupted, EOFError):
        if folder.committed:
            text.message(f"peerloop: interrupted{_saved_note()}.")
            return 0
        sys.stderr.write("Aborted.\n")
        return Exit.ABORTED
    except BrokenPipeError:
        _silence_broken_pipe()
        return 0 if folder.committed else Exit.ABORTED
    except Exception as error:
        if os.environ.get(DEBUG_ENV):
            raise
        unchanged = "" if folder.committed else ". Your data files were not changed"
        return fail(
            f"unexpected {type(error).__name__}: {error}. This is a bug; please report it "
            f"(set {DEBUG_ENV}=1 to see the details){unchanged}",
            Exit.ABORTED,
        )
    finally:
        for what in folder.unsent:
            text.message(
                f"peerloop: an earlier peerloop stopped while sending {what}: nothing of it was recorded, and it "
                "may or may not have gone out; run that command again to be sure"
            )
        if interrupts.held_interrupt and folder.committed:
            text.message("peerloop: Ctrl-C came while a change was being saved: the change finished first.")
        _flush_quietly()
        for number, handler in (previous or {}).items():
            signal.signal(number, handler)
    return result if isinstance(result, int) else 0


def _interrupted(number: int, frame: object) -> None:
    raise Interrupted


def _catch_interrupts() -> dict[int, Any] | None:
    """SIGINT and SIGTERM raise `Interrupted` (held during a commit, see `store.interrupts.held_signals`). The
    previous handlers, or None off the main thread, where handlers cannot be set."""
    try:
        return {number: signal.signal(number, _interrupted) for number in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:
        return None


def _prepare_streams() -> None:
    """Output works in any locale (characters the terminal cannot show are replaced) and with a closed stdout."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 (lives as long as we do)
        elif hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")


def _flush_quietly() -> None:
    try:
        sys.stdout.flush()
    except (BrokenPipeError, OSError, ValueError):
        _silence_broken_pipe()


def _silence_broken_pipe() -> None:
    """The reader went away (e.g. `| head`): stop quietly instead of failing again at exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    with contextlib.suppress(OSError, ValueError):
        os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
