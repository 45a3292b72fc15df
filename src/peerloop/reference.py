"""The CLI reference, generated from the Typer app itself: docs/cli.md.

`python scripts/generate.py` rewrites it; tests/test_docs.py fails when it is stale.
"""

from __future__ import annotations

HELP_COLUMNS = 80
"""Click wraps help at min(terminal width, 80) - 2 columns: any terminal this wide sees the same text."""


def help_texts() -> dict[str, str]:
    """`peerloop --help` (key "") and `peerloop COMMAND --help` for every command, as Typer prints them."""
    import os

    from typer.testing import CliRunner

    from peerloop.cli import app

    runner = CliRunner()
    env = {"COLUMNS": str(HELP_COLUMNS), "NO_COLOR": "1", "TERM": "dumb"}
    texts = {}
    saved = {key: os.environ.get(key) for key in env}
    try:
        for name in ("", *command_names()):
            args = [name, "--help"] if name else ["--help"]
            result = runner.invoke(app, args, env=env, prog_name="peerloop")
            if result.exit_code != 0:
                raise RuntimeError(f"peerloop {' '.join(args)} failed: {result.output}")
            texts[name] = result.stdout
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return texts


def command_names() -> list[str]:
    """Every command, in the order `peerloop --help` lists them."""
    from peerloop.cli import COMMANDS

    return list(COMMANDS)


def cli_markdown(texts: dict[str, str]) -> str:
    """docs/cli.md: every command's --help, in the order `peerloop --help` lists them."""
    parts = [
        "# CLI reference",
        "",
        "Generated from the program by `python scripts/generate.py`; a test fails when it is out of date.",
        "",
        "```text",
        "$ peerloop --help",
        texts[""].rstrip(),
        "```",
    ]
    for name, text in texts.items():
        if name:
            parts += [
                "",
                f"## peerloop {name}",
                "",
                "```text",
                f"$ peerloop {name} --help",
                text.rstrip(),
                "```",
            ]
    return "\n".join(parts) + "\n"
