"""Regenerate what is derived from the program: src/peerloop/_help.py and docs/cli.md."""

from pathlib import Path

from peerloop.reference import HELP_MODULE, cli_markdown, help_module_source, help_texts

ROOT = Path(__file__).resolve().parent.parent

texts = help_texts()
HELP_MODULE.write_text(help_module_source(texts), encoding="utf-8")
(ROOT / "docs" / "cli.md").write_text(cli_markdown(texts), encoding="utf-8")
print(f"wrote {HELP_MODULE.relative_to(ROOT)} and docs/cli.md ({len(texts) - 1} commands)")
