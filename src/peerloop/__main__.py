"""Entry point for the `peerloop` script and `python -m peerloop`."""

import sys


def main() -> None:
    from peerloop.cli import run

    sys.exit(run())


if __name__ == "__main__":
    main()
