"""The command line: parse, call, render. The one place that turns errors into messages and exit codes."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from peerloop import __version__, reminder, render
from peerloop.commands import calendar, common, log, roster, trial, week
from peerloop.errors import EXIT_ABORTED, EXIT_USAGE, PeerloopError

DEBUG_ENV = "PEERLOOP_DEBUG"


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
        try:
            result = super().main(
                args=args, prog_name=prog_name or "peerloop", complete_var=complete_var,
                standalone_mode=False, **extra,
            )  # fmt: skip
        except PeerloopError as error:
            _fail(error.message, error.exit_code)
        except typer.TyperException as error:
            _fail_usage(error)
        except (typer.Abort, KeyboardInterrupt, EOFError):
            render.message("Aborted.")
            sys.exit(EXIT_ABORTED)
        except BrokenPipeError:
            sys.stderr.close()
            sys.exit(EXIT_ABORTED)
        except Exception as error:
            if os.environ.get(DEBUG_ENV):
                raise
            _fail(
                f"unexpected {type(error).__name__}: {error}. This is a bug; please report it "
                f"(set {DEBUG_ENV}=1 to see the details). Your data files were not changed",
                EXIT_ABORTED,
            )
        sys.exit(result if isinstance(result, int) else 0)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name, command, rest = super().resolve_command(ctx, args)
        ctx.meta["peerloop.command"] = (name, command, list(rest))  # a copy: parsing consumes `rest`
        return name, command, rest

    def invoke(self, ctx: Any) -> Any:
        result = super().invoke(ctx)
        _remind(ctx)
        return result


def _remind(ctx: Any) -> None:
    """The review reminder, once the command has run (not after --help, --version or a failure)."""
    name, command, args = ctx.meta.get("peerloop.command", (None, None, []))
    if command is None or name in reminder.SILENT:
        return
    home = command.make_context(name, args, parent=ctx, resilient_parsing=True).params.get("home")
    reminder.remind(name, Path(home) if home else None)


def _fail(text: str, code: int) -> None:
    render.message(f"peerloop: error: {render.safe(text)}")
    sys.exit(code)


def _fail_usage(error: typer.TyperException) -> None:
    if type(error).__name__ == "NoArgsIsHelpError":
        render.out(error.format_message())
        sys.exit(0)
    ctx = getattr(error, "ctx", None)
    hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    _fail(error.format_message().replace("\n", " ") + hint, getattr(error, "exit_code", EXIT_USAGE))


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
        render.out(f"peerloop {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    home: common.HomeOption = None,
    version: Annotated[
        bool | None, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = None,
) -> None:
    """Meet one peer a week, keep what it gave you, and decide after six months whether it added value."""
    common.global_home[0] = home


for module in (roster, week, calendar, trial, log):
    module.register(app)


def run(argv: Sequence[str] | None = None) -> int:
    app(args=argv, prog_name="peerloop")
    return 0
