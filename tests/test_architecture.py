"""The shape of the code, as issue 12 asks for it: one parser, data flowing down, no cycles, every declared
library in use. Read from the source with `ast`, so a change that breaks a rule fails here."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "peerloop"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str) -> set[str]:
    """The peerloop modules `name` imports, anywhere in the file (inside functions too)."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            if node.level:
                base = ".".join([*name.split(".")[: -node.level], node.module])
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return {module for module in found if module in MODULES and module != name}


GRAPH = {name: imports_of(name) for name in MODULES}

CORE = {"peerloop.rotation", "peerloop.journal", "peerloop.trial", "peerloop.roster", "peerloop.calendar",
        "peerloop.freetime", "peerloop.syncplan", "peerloop.dates", "peerloop.names"}  # fmt: skip
"""Pure functions over plain data: no storage, no output, no clock."""


def test_there_is_no_import_cycle() -> None:
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            cycle = [*path[path.index(name) :], name]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if name in done:
            return
        for imported in sorted(GRAPH[name]):
            visit(imported, [*path, name])
        done.add(name)

    for name in sorted(MODULES):
        visit(name, [])


def test_no_command_module_imports_another() -> None:
    commands = {name for name in MODULES if name.startswith("peerloop.commands.")}
    for name in commands:
        assert GRAPH[name] & commands == set(), f"{name} imports {GRAPH[name] & commands}"


def test_nothing_below_the_command_layer_imports_a_command() -> None:
    for name, imported in GRAPH.items():
        if name.startswith("peerloop.commands") or name == "peerloop.cli":
            continue
        assert not {m for m in imported if m.startswith("peerloop.commands")}, name


@pytest.mark.parametrize("name", sorted(CORE))
def test_the_pure_core_imports_neither_storage_nor_output_nor_the_clock(name: str) -> None:
    banned = {m for m in GRAPH[name] if m.startswith(("peerloop.output", "peerloop.commands"))}
    banned |= GRAPH[name] & {"peerloop.storage", "peerloop.session", "peerloop.schema", "peerloop.clock",
                             "peerloop.prompts", "peerloop.cli", "peerloop.params"}  # fmt: skip
    assert banned == set(), f"{name} imports {banned}"


def test_typer_is_the_only_parser_and_no_private_module_is_imported() -> None:
    for name, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\btyper\._|\bimport click\b|\bfrom click\b|\bclick\.", text), name
        assert "argparse" not in text, name
    for gone in ("lean", "options", "_help"):
        assert f"peerloop.{gone}" not in MODULES


def test_every_runtime_dependency_is_imported_by_the_program() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    names = {re.split(r"[<>=!~\[ ]", requirement)[0].lower() for requirement in declared}
    modules = {name.replace("-", "_") for name in names}
    source = "\n".join(path.read_text(encoding="utf-8") for path in MODULES.values())
    for module in modules:
        assert re.search(rf"^\s*(import|from) {module}\b", source, re.MULTILINE), (
            f"{module} is declared, never imported"
        )


def test_modules_stay_small_enough_to_read() -> None:
    for name, path in MODULES.items():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        assert lines <= 420, f"{name} has {lines} lines"
