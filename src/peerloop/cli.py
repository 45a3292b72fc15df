"""The command line: parse, call, render. The one place that turns errors into messages and exit codes."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

import typer
from typer._click.shell_completion import CompletionItem, add_completion_class
from typer._completion_classes import BashComplete
from typer.core import TyperGroup

from peerloop import __version__, lean, render
from peerloop.commands import common
from peerloop.errors import EXIT_USAGE
from peerloop.options import typer_ready

CommandFunction = TypeVar("CommandFunction", bound=Callable[..., Any])


class QuotingBashComplete(BashComplete):
    """Typer's bash completion, with each value escaped as the shell reads it (like `printf %q`).

    Bash inserts a completion exactly as printed: "Ann Lee" would become two words. Escaped, it is
    inserted as `Ann\\ Lee`, one word. zsh and fish quote completions themselves.
    """

    def format_completion(self, item: CompletionItem) -> str:
        return re.sub(r"([^\w@%+=:,./-])", r"\\\1", item.value)


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
        add_completion_class(QuotingBashComplete, "bash")  # Typer registers its own each time it builds

        def invoke() -> Any:
            try:
                return super(PeerloopGroup, self).main(
                    args=args, prog_name=prog_name or "peerloop", complete_var=complete_var,
                    standalone_mode=False, **extra,
                )  # fmt: skip
            except typer.TyperException as error:
                return _usage_error(error)
            except typer.Abort:
                raise KeyboardInterrupt from None

        sys.exit(lean.guarded(invoke))

    def invoke(self, ctx: Any) -> Any:
        result = super().invoke(ctx)
        if ctx.invoked_subcommand is not None:
            from peerloop import reminder

            reminder.remind(ctx.invoked_subcommand)
        return result


def _usage_error(error: typer.TyperException) -> int:
    if type(error).__name__ == "NoArgsIsHelpError":
        render.out(error.format_message())
        return 0
    ctx = getattr(error, "ctx", None)
    hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    return lean.fail(
        error.format_message().replace("\n", " ") + hint, getattr(error, "exit_code", EXIT_USAGE)
    )


class PeerloopTyper(typer.Typer):
    """A Typer that understands peerloop's Opt/Arg parameter declarations (see options.py)."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[CommandFunction], CommandFunction]:
        return _reading_markers(super().command(*args, **kwargs))

    def callback(self, *args: Any, **kwargs: Any) -> Callable[[CommandFunction], CommandFunction]:
        return _reading_markers(super().callback(*args, **kwargs))


def _reading_markers(decorate: Callable[[Any], Any]) -> Callable[[CommandFunction], CommandFunction]:
    """Typer's decorator, given a copy of the function whose Opt/Arg markers are Typer's own parameters."""

    def register(function: CommandFunction) -> CommandFunction:
        decorate(typer_ready(function))
        return function

    return register


app = PeerloopTyper(
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
    common.start_invocation(home)


for name, target in lean.COMMANDS.items():
    app.command(name)(lean.load(target))


def run(argv: Sequence[str] | None = None) -> int:
    app(args=argv, prog_name="peerloop")
    return 0
