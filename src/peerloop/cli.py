"""The command line: the Typer app, `--home`, and every command registered in the order `--help` lists them."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from peerloop import __version__, params
from peerloop.commands import calendar, data, history, log, reflect, review, roster, setup, status, week
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

            reminder.remind(ctx.invoked_subcommand)
        return result


def _usage_error(error: typer.TyperException) -> int:
    if type(error).__name__ == "NoArgsIsHelpError":
        text.out(error.format_message())
        return 0
    ctx = getattr(error, "ctx", None)
    hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    return fail(error.format_message().replace("\n", " ") + hint, getattr(error, "exit_code", EXIT_USAGE))


app = typer.Typer(
    name="peerloop",
    cls=PeerloopGroup,
    help="Meet one peer a week, keep what it gave you, and decide after six months whether it added value.",
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        text.out(f"peerloop {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    home: Annotated[
        Path | None,
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
    params.start(home)


for module, names in (
    (setup, ["init"]),
    (roster, ["add", "peers", "edit", "remove", "pause", "resume"]),
    (week, ["next", "plan"]),
    (log, ["log", "done", "forget"]),
    (history, ["history"]),
    (status, ["status"]),
    (reflect, ["reflect"]),
    (review, ["review"]),
    (calendar, ["export", "invite"]),
    (data, ["where", "doctor"]),
):
    for name in names:
        app.command(name)(getattr(module, name.replace("-", "_") + ("_" if name == "next" else "")))


def main() -> None:
    app(prog_name="peerloop")
