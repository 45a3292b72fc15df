"""The command line: the Typer app, `--home`, and every command registered in the order `--help` lists them."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from peerloop import __version__, params, storage
from peerloop.errors import EXIT_USAGE
from peerloop.failures import fail, guarded
from peerloop.output import text


class PeerloopGroup(TyperGroup):
    """Runs every command and turns every failure into one line on stderr and a documented exit code."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if "_PEERLOOP_COMPLETE" in os.environ:  # a shell asks for completions (Typer's protocol)
            from typer import completion

            completion.get_completion_inspect_parameters()  # registers Typer's completion classes

        def invoke() -> Any:
            try:
                return super(PeerloopGroup, self).main(
                    args=args, prog_name=prog_name or "peerloop", complete_var=complete_var,
                    standalone_mode=False, **extra,
                )  # fmt: skip
            except typer.Abort:
                raise KeyboardInterrupt from None
            except typer.TyperException as error:  # click's usage errors, as Typer exports them
                return _usage_error(error)

        sys.exit(guarded(invoke))

    def invoke(self, ctx: Any) -> Any:
        result = super().invoke(ctx)
        if params.opened:
            for folder in params.opened[0].folder.tightened:
                text.message(
                    f"peerloop: {folder} was readable by others; it is now private to you (mode 700)."
                )
        if ctx.invoked_subcommand is not None:
            from peerloop import reminder

            if storage.committed and ctx.invoked_subcommand not in QUIET_ABOUT_THE_CALENDAR:
                _say_if_the_calendar_is_stale()
            reminder.remind(ctx.invoked_subcommand)
        return result


QUIET_ABOUT_THE_CALENDAR = frozenset({"export", "sync", "invite", "connect", "disconnect", "doctor"})
"""Commands that bring the calendar up to date themselves, or change nothing in the plan."""


def _say_if_the_calendar_is_stale() -> None:
    """After a change, one line when the calendar last given the plan no longer shows it. Never fails."""
    from peerloop.errors import PeerloopError
    from peerloop.session import calendar_freshness

    try:
        fresh = calendar_freshness(params.opened[0]) if params.opened else None
    except (PeerloopError, OSError, ValueError):
        return
    if fresh is not None and fresh.stale:
        weeks = "week" if fresh.stale == 1 else "weeks"
        text.message(
            f"peerloop: your calendar shows {fresh.stale} {weeks} otherwise than the plan now: {fresh.advice()}."
        )


def _usage_error(error: typer.TyperException) -> int:
    if type(error).__name__ == "NoArgsIsHelpError":
        text.out(error.format_message())
        return 0
    ctx = getattr(error, "ctx", None)
    hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    return fail(error.format_message().replace("\n", " ") + hint, getattr(error, "exit_code", EXIT_USAGE))


_APP_SETTINGS: dict[str, Any] = {
    "name": "peerloop",
    "cls": PeerloopGroup,
    "help": "Meet one peer a week, keep what it gave you, and decide after six months whether it added value.",
    "rich_markup_mode": None,
    "pretty_exceptions_enable": False,
    "add_completion": False,  # our own --show-completion SHELL: the named shell's script, whatever the parent
    "no_args_is_help": True,
    "context_settings": {"help_option_names": ["-h", "--help"]},
}


def _version(value: bool) -> None:
    if value:
        text.out(f"peerloop {__version__}")
        raise typer.Exit()


class Shell(StrEnum):
    BASH = "bash"
    ZSH = "zsh"
    FISH = "fish"
    POWERSHELL = "powershell"
    PWSH = "pwsh"


def _show_completion(ctx: typer.Context, param: typer.CallbackParam, value: Shell | None) -> None:
    """The completion script of the shell named, whatever shell runs peerloop (or none at all)."""
    if value is not None:
        from typer import completion

        completion.show_callback(ctx, param, value.value)


def _install_completion(ctx: typer.Context, param: typer.CallbackParam, value: Shell | None) -> None:
    if value is not None:
        from typer import completion

        completion.install_callback(ctx, param, value.value)


def _main(
    home: Annotated[
        str | None,
        typer.Option(
            "--home",
            metavar="DIR",
            help="Data folder (default: $PEERLOOP_HOME, else your platform's user data folder).",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool | None, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = None,
    show_completion: Annotated[
        Shell | None,
        typer.Option(
            "--show-completion",
            callback=_show_completion,
            is_eager=True,
            help="Print the completion script for SHELL, to copy it or customize the installation.",
            metavar="SHELL",
            show_default=False,
        ),
    ] = None,
    install_completion: Annotated[
        Shell | None,
        typer.Option(
            "--install-completion",
            callback=_install_completion,
            is_eager=True,
            help="Install completion for SHELL (bash, zsh, fish, powershell).",
            metavar="SHELL",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Meet one peer a week, keep what it gave you, and decide after six months whether it added value."""
    if home is not None and not home.strip():
        from peerloop.errors import InputError

        raise InputError("--home cannot be empty; give the data folder, or leave --home out for the default")
    params.start(Path(home) if home is not None else None)


COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("setup", "init"),
    "add": ("roster", "add"),
    "peers": ("roster", "peers"),
    "edit": ("roster", "edit"),
    "remove": ("roster", "remove"),
    "pause": ("roster", "pause"),
    "resume": ("roster", "resume"),
    "next": ("week", "next_"),
    "plan": ("week", "plan"),
    "log": ("log", "log"),
    "done": ("log", "done"),
    "forget": ("log", "forget"),
    "history": ("history", "history"),
    "status": ("status", "status"),
    "reflect": ("reflect", "reflect"),
    "review": ("review", "review"),
    "export": ("calendar", "export"),
    "invite": ("calendar", "invite"),
    "sync": ("sync", "sync"),
    "connect": ("connect", "app"),
    "disconnect": ("connect", "disconnect"),
    "where": ("data", "where"),
    "doctor": ("data", "doctor"),
}
"""Every command, in the order `peerloop --help` lists them: name -> (module in peerloop.commands, function)."""

_OPTIONS_WITH_A_VALUE = ("--home", "--show-completion", "--install-completion")


def _build(names: Sequence[str]) -> typer.Typer:
    """A Typer app with the callback and the commands named (imported only now)."""
    import importlib

    built = typer.Typer(**_APP_SETTINGS)
    built.callback()(_main)
    for name in names:
        module, function = COMMANDS[name]
        target = getattr(importlib.import_module(f"peerloop.commands.{module}"), function)
        if isinstance(target, typer.Typer):
            built.add_typer(target)
        else:
            built.command(name)(target)
    return built


def command_in(args: Sequence[str]) -> str | None:
    """The command a command line runs (after the app's own options), if it names one."""
    rest = list(args)
    while rest and rest[0].startswith("-"):
        rest = rest[2:] if rest[0] in _OPTIONS_WITH_A_VALUE else rest[1:]
    return rest[0] if rest and rest[0] in COMMANDS else None


def app_for(args: Sequence[str]) -> typer.Typer:
    """The Typer app for a command line: only its command's parameters are read (building all of them
    costs a weekly command about twice Python's start-up); the whole app for the top-level help, shell
    completion, or a command line that names no command (Typer then says what is wrong)."""
    name = command_in(args)
    if name is None or "_PEERLOOP_COMPLETE" in os.environ:
        return full_app()
    return _build([name])


def full_app() -> typer.Typer:
    return _build(list(COMMANDS))


def __getattr__(name: str) -> typer.Typer:
    if name == "app":  # `from peerloop.cli import app`: the whole app, built when asked for
        return full_app()
    raise AttributeError(name)


def main() -> None:
    args = sys.argv[1:]
    app_for(args)(args=args, prog_name="peerloop")
