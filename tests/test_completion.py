"""Shell completion of peer names: the function itself, then the whole path a shell takes (env vars, bash)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import typer.main

from peerloop.cli import app
from peerloop.options import complete_peer_name

PEERS = ("Ann Lee", "Andy O'Neil", "Bo Chen")


def context(home: Path | None = None) -> Any:
    """What Typer passes: a command's context, whose root (the app's) holds --home when the line gives it."""
    root = SimpleNamespace(params={"home": home})
    return SimpleNamespace(params={}, find_root=lambda: root)


def test_names_from_the_roster_that_start_with_what_is_typed(set_up: Callable[..., None]) -> None:
    set_up(*PEERS)
    assert complete_peer_name(context(), "") == list(PEERS)
    assert complete_peer_name(context(), "An") == ["Ann Lee", "Andy O'Neil"]
    assert complete_peer_name(context(), "ann l") == ["ann lee"]  # any case: the typed text, then the rest
    assert complete_peer_name(context(), "Ann L") == ["Ann Lee"]
    assert complete_peer_name(context(), "Zed") == []


def test_the_home_on_the_command_line_wins_over_the_environment(
    set_up: Callable[..., None], home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_up(*PEERS)
    monkeypatch.setenv("PEERLOOP_HOME", str(tmp_path / "elsewhere"))
    assert complete_peer_name(context(), "") == []
    assert complete_peer_name(context(home=home), "B") == ["Bo Chen"]


@pytest.mark.parametrize(
    "damage",
    [b"schema_version = [[[", b"\xff\xfe not utf-8", b"schema_version = 99\n", b""],
    ids=["not toml", "not utf-8", "newer schema", "empty"],
)
def test_a_damaged_or_missing_roster_gives_no_suggestions_and_no_error(
    damage: bytes, set_up: Callable[..., None], home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert complete_peer_name(context(), "") == []  # nothing set up yet
    set_up(*PEERS)
    (home / "roster.toml").write_bytes(damage)
    assert complete_peer_name(context(), "") == []
    (home / "roster.toml").unlink()
    (home / "roster.toml").mkdir()
    assert complete_peer_name(context(), "") == []
    assert capsys.readouterr() == ("", "")


def test_every_existing_peer_name_argument_completes_and_add_does_not() -> None:
    completing = set()
    group: Any = typer.main.get_command(app)
    for name, command in group.commands.items():
        for param in command.params:
            completer = getattr(param, "_custom_shell_complete", None)
            if completer is not None and param.param_type_name == "argument":
                assert param.metavar == "NAME"
                completing.add(name)
    assert completing == {"edit", "remove", "pause", "resume", "log", "history", "invite"}


def complete(env: dict[str, str], home: Path) -> subprocess.CompletedProcess[str]:
    """Run peerloop as a shell's completion function does: the protocol is all in environment variables."""
    return subprocess.run(
        [sys.executable, "-m", "peerloop"],
        env={**os.environ, "PEERLOOP_HOME": str(home), **env},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_bash_zsh_and_fish_protocols_end_to_end(set_up: Callable[..., None], home: Path) -> None:
    set_up(*PEERS)
    bash = complete(
        {"_PEERLOOP_COMPLETE": "complete_bash", "COMP_WORDS": "peerloop edit A", "COMP_CWORD": "2"}, home
    )
    assert (bash.returncode, bash.stdout, bash.stderr) == (0, "Ann\\ Lee\nAndy\\ O\\'Neil\n", "")
    commands = complete(
        {"_PEERLOOP_COMPLETE": "complete_bash", "COMP_WORDS": "peerloop re", "COMP_CWORD": "1"}, home
    )
    assert commands.stdout.split() == ["remove", "resume", "reflect", "review"]
    zsh = complete({"_PEERLOOP_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "peerloop pause B"}, home)
    assert zsh.stdout == "_arguments '*: :((\"Bo Chen\"))'\n"
    fish = complete({"_PEERLOOP_COMPLETE": "complete_fish", "_TYPER_COMPLETE_FISH_ACTION": "get-args",
                     "_TYPER_COMPLETE_ARGS": "peerloop --home " + str(home) + " log "}, home.parent)  # fmt: skip
    assert fish.stdout == "Ann Lee\nAndy O'Neil\nBo Chen\n"
    nothing = complete(
        {"_PEERLOOP_COMPLETE": "complete_bash", "COMP_WORDS": "peerloop add A", "COMP_CWORD": "2"}, home
    )
    assert (nothing.returncode, nothing.stdout.strip()) == (0, "")


def test_bash_and_fish_insert_the_name_as_the_roster_spells_it_and_zsh_keeps_the_typed_start(
    set_up: Callable[..., None], home: Path
) -> None:
    set_up("Eve Fox", "Zoë Ode")
    bash = complete(
        {"_PEERLOOP_COMPLETE": "complete_bash", "COMP_WORDS": "peerloop edit eve", "COMP_CWORD": "2"}, home
    )
    assert bash.stdout == "Eve\\ Fox\n"
    by_a_later_word = complete(
        {"_PEERLOOP_COMPLETE": "complete_bash", "COMP_WORDS": "peerloop log ode", "COMP_CWORD": "2"}, home
    )
    assert by_a_later_word.stdout == "Zoë\\ Ode\n"
    fish = complete({"_PEERLOOP_COMPLETE": "complete_fish", "_TYPER_COMPLETE_FISH_ACTION": "get-args",
                     "_TYPER_COMPLETE_ARGS": "peerloop pause zoe"}, home)  # fmt: skip
    assert fish.stdout == "Zoë Ode\n"
    zsh = complete({"_PEERLOOP_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "peerloop pause eve"}, home)
    assert zsh.stdout == "_arguments '*: :((\"eve Fox\"))'\n"


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_the_bash_script_from_show_completion_fills_compreply(
    set_up: Callable[..., None], home: Path, tmp_path: Path
) -> None:
    """What bash does on Tab: source the script `peerloop --show-completion bash` prints, call its function."""
    set_up(*PEERS)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "peerloop"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m peerloop "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    script = """
        eval "$(peerloop --show-completion bash)"
        COMP_WORDS=(peerloop invite 'ann'); COMP_CWORD=2
        _peerloop_completion peerloop
        printf '<%s>\\n' "${COMPREPLY[@]}"
    """
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PEERLOOP_HOME": str(home)}
    result = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], env=env, capture_output=True,
                            text=True, stdin=subprocess.DEVNULL, check=False)  # fmt: skip
    assert (result.returncode, result.stdout) == (0, "<Ann\\ Lee>\n"), result.stderr


@pytest.mark.parametrize("parent", ["/bin/bash", "/usr/bin/zsh", ""])
def test_each_shells_script_is_printed_whatever_the_parent(
    parent: str, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guide's line for another shell than the one running: Typer's `source_SHELL` instruction."""
    env = {key: value for key, value in os.environ.items() if key != "SHELL"}
    if parent:
        env["SHELL"] = parent
    for shell, first_line in (("zsh", "#compdef peerloop"), ("bash", "_peerloop_completion() {"),
                              ("fish", "complete --command peerloop")):  # fmt: skip
        result = subprocess.run([sys.executable, "-m", "peerloop"], env={**env, "_PEERLOOP_COMPLETE": f"source_{shell}"},
                                capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert result.stdout.lstrip("\n").startswith(first_line), (shell, result.stdout[:80])


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_show_completion_prints_the_script_of_the_shell_it_runs_in(tmp_path: Path) -> None:
    """The guide's line, as written: `peerloop --show-completion` from bash prints bash's script."""
    # Not the last command of the script: bash would exec it in its own place, and typer, which looks at the
    # parent process for the shell, would find whatever ran bash (pytest's worker: "Shell not supported").
    script = f'"{sys.executable}" -m peerloop --show-completion; exit $?'
    result = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("_peerloop_completion() {"), result.stdout[:80]
