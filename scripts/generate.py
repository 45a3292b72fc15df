"""Regenerate what is derived from the program: docs/cli.md."""

from pathlib import Path

from peerloop.cli import cli_markdown, help_texts

ROOT = Path(__file__).resolve().parent.parent

texts = help_texts()
(ROOT / "docs" / "cli.md").write_text(cli_markdown(texts), encoding="utf-8")
print(f"wrote docs/cli.md ({len(texts) - 1} commands)")
