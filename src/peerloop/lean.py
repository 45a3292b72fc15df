"""Start-up without Typer for the invocations people type every week.

Importing Typer costs about 5x a bare Python start, most of the performance budget. Commands declare their
parameters with `options.Opt`/`options.Arg`, so this module can parse a plain command line from the same
declarations and call the same function Typer would. Anything it does not fully understand (help, shell
completion, an unknown or malformed option, a missing value) it leaves to Typer, which gives the usual
messages. tests/test_lean.py checks that both paths give the same output and exit code.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from peerloop.errors import EXIT_ABORTED, PeerloopError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

COMMANDS: dict[str, str] = {
    "init": "peerloop.commands.roster:init",
    "add": "peerloop.commands.roster:add",
    "peers": "peerloop.commands.roster:peers",
    "edit": "peerloop.commands.roster:edit",
    "remove": "peerloop.commands.roster:remove",
    "pause": "peerloop.commands.roster:pause",
    "resume": "peerloop.commands.roster:resume",
    "next": "peerloop.commands.week:next_",
    "plan": "peerloop.commands.week:plan",
    "log": "peerloop.commands.log:log",
    "history": "peerloop.commands.log:history",
    "forget": "peerloop.commands.log:forget",
    "status": "peerloop.commands.trial:status",
    "reflect": "peerloop.commands.trial:reflect",
    "review": "peerloop.commands.trial:review",
    "export": "peerloop.commands.calendar:export",
    "invite": "peerloop.commands.calendar:invite",
    "where": "peerloop.commands.where:where",
    "doctor": "peerloop.commands.doctor:doctor",
}
"""Every command, in the order `peerloop --help` lists them: name -> module:function."""

DEBUG_ENV = "PEERLOOP_DEBUG"


def load(target: str) -> Callable[..., Any]:
    import importlib

    module, _, function = target.partition(":")
    command: Callable[..., Any] = getattr(importlib.import_module(module), function)
    return command


def fail(text: str, code: int) -> int:
    from peerloop import render

    render.message(f"peerloop: error: {render.safe(text)}")
    return code


def guarded(call: Callable[[], Any], command: str | None = None) -> int:
    """Run a command; turn every failure into one line on stderr and its documented exit code.

    After a command that succeeded, the review reminder (if due) follows on stderr.
    """
    try:
        result = call()
        if command is not None:
            from peerloop import reminder

            reminder.remind(command)
    except PeerloopError as error:
        return fail(error.message, error.exit_code)
    except (KeyboardInterrupt, EOFError):
        sys.stderr.write("Aborted.\n")
        return EXIT_ABORTED
    except BrokenPipeError:
        _silence_broken_pipe()
        return EXIT_ABORTED
    except Exception as error:
        if os.environ.get(DEBUG_ENV):
            raise
        return fail(
            f"unexpected {type(error).__name__}: {error}. This is a bug; please report it "
            f"(set {DEBUG_ENV}=1 to see the details). Your data files were not changed",
            EXIT_ABORTED,
        )
    return result if isinstance(result, int) else 0


def _silence_broken_pipe() -> None:
    """The reader went away (e.g. `| head`): stop quietly instead of failing again at exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def run(argv: Sequence[str]) -> int | None:
    """Run the command line without Typer, or return None to let Typer handle it.

    Only reading the command line may hand over to Typer: once the command has started, its result
    (or its error) is final, so that a command never runs twice.
    """
    try:
        prepared = _prepare(argv)
    except Exception:
        if os.environ.get(DEBUG_ENV):
            raise
        return None
    if prepared is None or isinstance(prepared, int):
        return prepared
    call, command = prepared
    return guarded(call, command)


def _prepare(argv: Sequence[str]) -> tuple[Callable[[], Any], str | None] | int | None:
    """What to run for `argv` (and the command's name, for the reminder), an exit code when help was
    printed, or None for Typer."""
    if any(key.startswith("_PEERLOOP_COMPLETE") for key in os.environ):
        return None
    args = list(argv)
    if args and args[-1] in ("--help", "-h") and len(args) <= 2:
        return _help(args[0] if len(args) == 2 else "")
    home: str | None = None
    while args and args[0].startswith("-"):
        if args[0] == "--home" and len(args) > 1 and not args[1].startswith("-"):
            home, args = args[1], args[2:]
        elif args[0].startswith("--home="):
            home, args = args[0].partition("=")[2], args[1:]
        else:
            return None
    if not args or args[0] not in COMMANDS:
        return None
    if args[0] == "status" and "--line" in args:
        only_line, line_home = _line_home(args[1:], home)
        if only_line:
            return (lambda: _print_status_line(line_home)), None
    from peerloop import options

    command = load(COMMANDS[args[0]])
    kwargs = parse(options.params(command), args[1:])
    if kwargs is None:
        return None
    if home is not None and not _is_folder_or_absent(home):
        return None
    from pathlib import Path

    from peerloop.commands import common

    common.start_invocation(Path(home) if home is not None else None)
    return (lambda: command(**kwargs)), args[0]


def _line_home(rest: list[str], home: str | None) -> tuple[bool, str | None]:
    """For `status --line [--home DIR]`: whether that is all the command line says, and the home to use."""
    others = [word for word in rest if word != "--line"]
    if len(others) == len(rest) - 1:
        if not others:
            return True, home
        if len(others) == 2 and others[0] == "--home" and not others[1].startswith("-"):
            return True, others[1]
        if len(others) == 1 and others[0].startswith("--home=") and others[0] != "--home=":
            return True, others[0].partition("=")[2]
    return False, None


def _print_status_line(home: str | None) -> None:
    """The shell-prompt line: the fastest path there is, reading a cache when it still holds."""
    from peerloop import statusline

    text = statusline.current_line(home)
    if text:
        sys.stdout.write(text + "\n")


def _help(command: str) -> int | None:
    """Typer's own help text, from the snapshot taken at its width, when the terminal is at least as wide."""
    from peerloop import _help

    if command not in _help.HELP or _terminal_columns() < _help.COLUMNS:
        return None
    sys.stdout.write(_help.HELP[command])
    return 0


def _terminal_columns() -> int:
    """As shutil.get_terminal_size() tells it (which Click uses), without importing shutil."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    if sys.__stdout__ is None:
        return 80
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80
    except (ValueError, OSError):
        return 80


def _is_folder_or_absent(value: str) -> bool:
    return bool(value) and (os.path.isdir(value) or not os.path.exists(value))


def parse(params: Sequence[Any], args: Sequence[str]) -> dict[str, Any] | None:
    """The keyword arguments Typer would pass for `args`, or None when Typer should decide."""
    by_flag = {decl: param for param in params for decl in param.decls}
    positional = [param for param in params if not param.decls]
    values: dict[str, Any] = {param.name: param.default for param in params}
    given: set[str] = set()
    words: list[str] = []
    index, only_words = 0, False
    while index < len(args):
        token = args[index]
        index += 1
        if only_words or token == "-" or not token.startswith("-"):
            words.append(token)
            continue
        if token == "--":
            only_words = True
            continue
        flag, has_value, value = token.partition("=") if token.startswith("--") else (token, "", "")
        param = by_flag.get(flag)
        if param is None:
            return None
        if param.kind == "flag":
            if has_value:
                return None
            values[param.name] = True
            continue
        if not has_value:
            if index >= len(args) or (args[index].startswith("-") and args[index] != "-"):
                return None
            value = args[index]
            index += 1
        converted = _convert(param, value)
        if converted is None:
            return None
        if param.kind == "multi":
            values[param.name] = [*(values[param.name] if param.name in given else []), converted]
        else:
            values[param.name] = converted
        given.add(param.name)
    if len(words) > len(positional):
        return None
    for param, word in zip(positional, words, strict=False):
        values[param.name] = word
        given.add(param.name)
    if any(param.required and param.name not in given for param in params):
        return None
    return values


def _convert(param: Any, value: str) -> Any:
    """The value as Typer would convert it, or None where Typer would complain."""
    if param.kind == "int":
        try:
            number = int(value)
        except ValueError:
            return None
        low, high = param.marker.kwargs.get("min"), param.marker.kwargs.get("max")
        if (low is not None and number < low) or (high is not None and number > high):
            return None
        return number
    if param.kind == "path":
        from pathlib import Path

        path = Path(value)
        if not value or (path.is_file() and param.marker.kwargs.get("file_okay") is False):
            return None
        if path.is_dir() and param.marker.kwargs.get("dir_okay") is False:
            return None
        return path
    return value
