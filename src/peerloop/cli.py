"""The command line: the Typer app, `--home`, every command registered in the order `--help` lists them, and
what runs after each command (the review reminder, a stale calendar, a folder made private)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from peerloop import __version__, options
from peerloop.errors import Exit, InputError
from peerloop.exits import fail, guarded
from peerloop.output import text
from peerloop.store import folder

if TYPE_CHECKING:
    from peerloop.actions.calendar import CalendarFreshness


class PeerloopGroup(TyperGroup):
    """Runs every command and turns every failure into one line on stderr and a documented exit code."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        def invoke() -> Any:
            try:
                return super(PeerloopGroup, self).main(
                    args=args, prog_name=prog_name or "peerloop", standalone_mode=False, **extra
                )
            except typer.Abort:
                raise KeyboardInterrupt from None
            except typer.TyperException as error:  # click's usage errors, as Typer exports them
                ctx = getattr(error, "ctx", None)
                hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
                return fail(
                    error.format_message().replace("\n", " ") + hint, getattr(error, "exit_code", Exit.USAGE)
                )

        sys.exit(guarded(invoke))

    def invoke(self, ctx: Any) -> Any:
        result = super().invoke(ctx)
        command = ctx.invoked_subcommand
        store = options.current.store
        if store is not None:
            for tightened in store.folder.tightened:
                text.message(
                    f"peerloop: {tightened} was readable by others; it is now private to you (mode 700)."
                )
        if command is not None and store is not None:
            store.folder.seal.passphrase = None  # what runs after a command never asks for the passphrase
            _after(command, store, options.current.stale_before)
            if not folder.committed:
                for _, said in (store.half_encrypted() + store.halves())[:1]:
                    text.message(f"peerloop: {said}: what this shows may miss it; let your sync tool finish")
        return result


MOVES_THE_PLAN = frozenset(
    {"init", "add", "edit", "remove", "pause", "resume", "log", "forget", "reflect", "review"}
)
"""Commands whose change can move a planned meeting: the stale-calendar line is said after them, when the
change moved one (not after `done`, a touch or a reflection that adds no one)."""
QUIET_ABOUT_THE_REVIEW = frozenset({"review", "status"})
"""`review` is the answer to the reminder; `status` reports it itself."""


def _freshness(store: Any) -> CalendarFreshness | None:
    """How the calendar shows the plan (None: never given the plan). Never fails: the command itself reports
    a damaged file."""
    from peerloop.actions.calendar import calendar_freshness
    from peerloop.errors import PeerloopError

    try:
        return calendar_freshness(store)
    except (PeerloopError, OSError, ValueError):
        return None


def _after(command: str, store: Any, before: tuple[str, ...] | None) -> None:
    """One line each, on stderr, when the change just made left the calendar behind the plan, or the review
    is due."""
    from peerloop.actions.reminder import due_review
    from peerloop.output.messages import reminder_line

    fresh = _freshness(store) if folder.committed and command in MOVES_THE_PLAN else None
    if fresh is not None and fresh.stale not in ((), before):
        text.message(f"peerloop: {fresh.stale_line()}.")
    if command not in QUIET_ABOUT_THE_REVIEW:
        due = due_review(store)
        if due is not None:
            text.message(reminder_line(due))


QUIET_ABOUT_COPIES = frozenset({"doctor", "merge-file"})
"""`doctor` lists the conflict copies itself; `merge-file` runs inside git, on files outside the folder."""


def _notice_copies(home: Path | None) -> None:
    """One line on stderr when a sync tool left conflict copies in the folder (a listing of two folders)."""
    from peerloop.store.copies import find_copies
    from peerloop.store.home import data_home

    copies = [copy for copy in find_copies(data_home(home)) if copy.of_data]
    if copies:
        text.message(
            f"peerloop: {len(copies)} conflict {'copy' if len(copies) == 1 else 'copies'} from another device: "
            "`peerloop doctor --fix` merges them"
        )


def _version(value: bool) -> None:
    if value:
        text.out(f"peerloop {__version__}")
        raise typer.Exit()


def _main(
    ctx: typer.Context,
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
) -> None:
    """Meet one peer a week, keep what it gave you, and decide after six months whether it added value."""
    if ctx.invoked_subcommand is None:  # `peerloop` alone: the help, as a success
        text.out(ctx.get_help())
        raise typer.Exit()
    if home is not None and not home.strip():
        raise InputError("--home cannot be empty; give the data folder, or leave --home out for the default")
    options.start(Path(home) if home is not None else None)
    if ctx.invoked_subcommand not in QUIET_ABOUT_COPIES:
        _notice_copies(options.current.home)
    if ctx.invoked_subcommand in MOVES_THE_PLAN:  # to tell, after it, whether the change moved an event
        fresh = _freshness(options.store())
        options.current.stale_before = fresh.stale if fresh is not None else None


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
    "connect": ("connections", "app"),
    "disconnect": ("connections", "disconnect"),
    "where": ("data", "where"),
    "doctor": ("data", "doctor"),
    "merge-file": ("data", "merge_file"),
    "encrypt": ("encryption", "encrypt"),
    "decrypt": ("encryption", "decrypt"),
}
"""Every command, in the order `peerloop --help` lists them: name -> (module in peerloop.commands, function)."""


def _build(names: Sequence[str]) -> typer.Typer:
    """A Typer app with the callback and the commands named (imported only now)."""
    import importlib

    built = typer.Typer(
        name="peerloop",
        cls=PeerloopGroup,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        invoke_without_command=True,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    built.callback()(_main)
    for name in names:
        module, function = COMMANDS[name]
        target = getattr(importlib.import_module(f"peerloop.commands.{module}"), function)
        if isinstance(target, typer.Typer):
            built.add_typer(target)
        else:
            built.command(name)(target)
    return built


def app_for(args: Sequence[str]) -> typer.Typer:
    """The Typer app for a command line: only its command's parameters are read (building all of them
    costs a weekly command about twice Python's start-up); the whole app for the top-level help, shell
    completion, or a command line that names no command (Typer then says what is wrong)."""
    import os

    rest = list(args)
    while rest and rest[0].startswith("-"):  # the app's own options: --home DIR is the one with a value
        rest = rest[2:] if rest[0] == "--home" else rest[1:]
    if not rest or rest[0] not in COMMANDS or "_PEERLOOP_COMPLETE" in os.environ:
        return full_app()
    return _build([rest[0]])


def full_app() -> typer.Typer:
    return _build(list(COMMANDS))


def main() -> None:
    args = sys.argv[1:]
    app_for(args)(args=args, prog_name="peerloop")


# --- the reference: docs/cli.md is every command's --help ---------------------------------------------------

HELP_COLUMNS = 80
"""Click wraps help at min(terminal width, 80) - 2 columns: any terminal this wide sees the same text."""


def help_texts() -> dict[str, str]:
    """`peerloop --help` (key "") and `peerloop COMMAND --help` for every command, as Typer prints them."""
    from typer.testing import CliRunner

    env = {"COLUMNS": str(HELP_COLUMNS), "NO_COLOR": "1", "TERM": "dumb"}  # CliRunner restores os.environ
    texts = {}
    for name in ("", *COMMANDS):
        args = [name, "--help"] if name else ["--help"]
        result = CliRunner().invoke(full_app(), args, env=env, prog_name="peerloop")
        if result.exit_code != 0:
            raise RuntimeError(f"peerloop {' '.join(args)} failed: {result.output}")
        texts[name] = result.stdout
    return texts


def cli_markdown(texts: dict[str, str]) -> str:
    """docs/cli.md: every command's --help, in the order `peerloop --help` lists them
    (`python scripts/generate.py` rewrites it; tests/test_docs.py fails when it is stale)."""
    parts = [
        "# CLI reference",
        "",
        "Generated from the program by `python scripts/generate.py`; a test fails when it is out of date.",
    ]
    for name, help_text in texts.items():  # `peerloop --help` first, as help_texts gives it
        command = f"peerloop {name}".rstrip()
        heading = [f"## {command}", ""] if name else []
        parts += ["", *heading, "```text", f"$ {command} --help", help_text.rstrip(), "```"]
    return "\n".join(parts) + "\n"


def __getattr__(name: str) -> typer.Typer:
    if name == "app":  # `from peerloop.cli import app`: the whole app, built when asked for
        return full_app()
    raise AttributeError(name)
