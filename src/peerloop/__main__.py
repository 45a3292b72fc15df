"""Entry point for the `peerloop` script and `python -m peerloop`: the lean path first, Typer when needed."""

import sys


def main() -> None:
    from peerloop import lean

    code = lean.run(sys.argv[1:])
    if code is None:
        from peerloop.cli import run

        code = run()
    sys.exit(code)


if __name__ == "__main__":
    main()
