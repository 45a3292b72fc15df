"""Signals around a commit: SIGINT and SIGTERM held while a change lands, and the test seam that sends them
at a named step (`_PEERLOOP_FAULT`)."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator

_HELD_SIGNALS = {signal.SIGINT, signal.SIGTERM}

FAULT_ENV = "_PEERLOOP_FAULT"
STEPS = ("begin", "temp", "record", "rename", "delete", "done", "roll", "sending", "sent", "put", "read")
"""Where a commit can be interrupted, in this order: before anything is written; after each temp file, the
record, each rename, each deletion, the record's removal, each step of a roll-forward; before and after a mail
is handed over; after a CalDAV server accepted a change; after a command read its session (for `STOP`)."""


held_interrupt = False
"""A Ctrl-C or SIGTERM arrived during a commit and was held until it landed: a command made of many small
commits (`sync`) stops after the one it interrupted."""


_FAULT_SIGNALS = {signal.SIGKILL, signal.SIGINT, signal.SIGTERM, signal.SIGSTOP}


def _fault() -> tuple[str, int, signal.Signals] | None:
    """The test seam: `_PEERLOOP_FAULT=STEP[#N][:SIGNAL]` sends this process SIGNAL (KILL, INT, TERM or STOP;
    KILL by default) the Nth time (1 by default) it passes STEP (one of `STEPS`). Read once per process."""
    value = os.environ.get(FAULT_ENV, "")
    if not value:
        return None
    spec, _, name = value.partition(":")
    step, _, nth = spec.partition("#")
    number = getattr(signal, f"SIG{name or 'KILL'}", None)
    if step not in STEPS or not (nth or "1").isdigit() or number not in _FAULT_SIGNALS:
        raise ValueError(f"{FAULT_ENV}={value!r}: want STEP[#N][:KILL|INT|TERM|STOP], STEP one of {STEPS}")
    return step, int(nth or "1"), signal.Signals(number)


_ACTIVE = _fault()
_seen: dict[str, int] = {}


def step(name: str) -> None:
    if _ACTIVE is None or _ACTIVE[0] != name:
        return
    _seen[name] = _seen.get(name, 0) + 1
    if _seen[name] == _ACTIVE[1]:
        os.kill(os.getpid(), _ACTIVE[2])


def interrupt_waiting() -> bool:
    """Whether a Ctrl-C or SIGTERM arrived while held (inside `held_signals`): checked before a mail goes out,
    the last moment it can still be stopped."""
    try:
        return bool(signal.sigpending() & _HELD_SIGNALS)
    except (ValueError, OSError):
        return False


@contextlib.contextmanager
def held_signals() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block ends: delivered then if it raised (nothing was written), else
    discarded (the change landed and the command says so). Outside the main thread nothing is held."""
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD_SIGNALS)
    except (ValueError, OSError):
        yield
        return
    finished = False
    try:
        yield
        finished = True
    finally:
        pending = signal.sigpending() & _HELD_SIGNALS if finished else set()
        if pending:
            global held_interrupt
            held_interrupt = True
        handlers = {number: signal.signal(number, signal.SIG_IGN) for number in pending}
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        for number, handler in handlers.items():
            signal.signal(number, handler)
