"""Entry point for the `peerloop` script and `python -m peerloop`.

`peerloop status --line` runs at every shell prompt, so it is answered here from its cache before Typer is
imported; every other command line goes to the Typer app.
"""

import sys


def main() -> None:
    only_line, home = _line_only(sys.argv[1:])
    if only_line:
        from peerloop import shell_prompt

        sys.exit(shell_prompt.print_line(home))
    from peerloop.cli import main as run

    run()


def _line_only(args: list[str]) -> tuple[bool, str | None]:
    """Whether the line is exactly `status --line` (with an optional `--home DIR` before it), and the home."""
    home: str | None = None
    if len(args) >= 2 and args[0] == "--home":
        home, args = args[1], args[2:]
    elif args and args[0].startswith("--home="):
        home, args = args[0].partition("=")[2], args[1:]
    if args != ["status", "--line"] or home == "" or (home is not None and home.startswith("-")):
        return False, None
    return True, home


if __name__ == "__main__":
    main()
