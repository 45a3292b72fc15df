"""The shape of the code, read from the source with `ast`, so that a change that breaks a rule fails here:
packages by layer, data flowing down (command -> action -> store -> core; output and the outside world
beside them), no cycles, one parser, no private API of a dependency, every declared library in use."""

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
SHARED = {"peerloop", "peerloop.errors", "peerloop.inert"}
"""What every layer may use: the version, the errors, and text made harmless."""


def layer(prefix: str) -> list[str]:
    return sorted(name for name in MODULES if name == prefix or name.startswith(prefix + "."))


def test_the_top_of_the_package_holds_only_entry_points_and_shared_modules() -> None:
    top = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(top) <= 10, top
    packages = sorted(path.name for path in PACKAGE.iterdir() if (path / "__init__.py").exists())
    assert packages == ["actions", "commands", "connect", "core", "output", "store"]


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


@pytest.mark.parametrize("name", layer("peerloop.core"))
def test_the_core_imports_nothing_outside_the_core(name: str) -> None:
    outside = {m for m in GRAPH[name] if not m.startswith("peerloop.core")} - SHARED
    assert outside == set(), f"{name} imports {outside}"


@pytest.mark.parametrize("name", layer("peerloop.store"))
def test_the_store_imports_no_command_no_action_no_output_and_no_connection(name: str) -> None:
    banned = ("peerloop.commands", "peerloop.actions", "peerloop.output", "peerloop.connect", "peerloop.cli")
    assert {m for m in GRAPH[name] if m.startswith(banned)} == set(), name


@pytest.mark.parametrize("name", layer("peerloop.actions"))
def test_actions_never_print_nor_ask_and_never_import_a_command(name: str) -> None:
    banned = {m for m in GRAPH[name] if m.startswith(("peerloop.commands", "peerloop.cli"))}
    banned |= GRAPH[name] & {"peerloop.output.text", "peerloop.prompts", "peerloop.options"}
    assert banned == set(), f"{name} imports {banned}"


@pytest.mark.parametrize("name", layer("peerloop.output") + layer("peerloop.connect"))
def test_output_and_connections_import_no_command_no_action_and_no_session(name: str) -> None:
    banned = ("peerloop.commands", "peerloop.actions", "peerloop.cli", "peerloop.options")
    found = {m for m in GRAPH[name] if m.startswith(banned)}
    found |= GRAPH[name] & {"peerloop.store.session", "peerloop.store.records", "peerloop.store.folder"}
    assert found == set(), f"{name} imports {found}"


def test_no_command_module_imports_another() -> None:
    commands = set(layer("peerloop.commands")) - {"peerloop.commands"}
    for name in commands:
        assert GRAPH[name] & commands == set(), f"{name} imports {GRAPH[name] & commands}"


def test_nothing_below_the_command_layer_imports_a_command() -> None:
    for name, imported in GRAPH.items():
        if name.startswith("peerloop.commands") or name == "peerloop.cli":
            continue
        assert not {m for m in imported if m.startswith("peerloop.commands")}, name


def test_no_two_modules_differ_by_a_suffix() -> None:
    """`invites` / `inviting`, `journal` / `journalschema`: a newcomer cannot tell them apart by name."""
    files = [path for path in MODULES.values() if path.name != "__init__.py"]
    stems = sorted({path.stem for path in files} - {"__main__"})
    for first in stems:
        for second in stems:
            if first != second and second.startswith(first.rstrip("s")) and len(first) >= 4:
                pytest.fail(f"{first} and {second} differ by a suffix")


def test_typer_is_the_only_parser_and_only_the_command_line_imports_it() -> None:
    for name, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\bimport click\b|\bfrom click\b|\bclick\.", text), name
        assert "argparse" not in text, name
        if re.search(r"^\s*(import|from) typer\b", text, re.MULTILINE):
            assert name in ("peerloop.cli", "peerloop.options") or name.startswith("peerloop.commands"), name


def test_no_private_api_of_a_dependency_is_used() -> None:
    """Typer's completion internals, click's exception classes by name, python-caldav's private fields."""
    for name, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        for private in ("typer.completion", "_raw_body", "NoArgsIsHelpError", "._completion"):
            assert private not in text, f"{name} uses {private}"
        assert not re.search(r"type\([^)]*\)\.__name__\s*(==|!=|in\b)", text), (
            f"{name} recognises a class by its name"
        )
        assert not re.search(r"\b(typer|caldav|icalendar|rich|niquests)\.\w*\._", text), name


def test_no_silent_catch_all() -> None:
    """`except Exception` (or bare) only where every failure becomes its one error line: `exits.guarded`."""
    for name, path in MODULES.items():
        for line in path.read_text(encoding="utf-8").splitlines():
            if re.search(r"except( Exception\b|:)", line):
                assert name == "peerloop.exits", f"{name}: {line.strip()}"


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
