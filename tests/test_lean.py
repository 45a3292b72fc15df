"""The lean start-up path (no Typer) must behave exactly like Typer for everything it accepts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from peerloop import _help, lean, options
from peerloop.cli import app
from peerloop.reference import cli_markdown, help_texts
from tests.conftest import Invoke

ROOT = Path(__file__).resolve().parent.parent
PEERS = ("Ann Lee", "Bo Chen", "Cy Dee", "Di Eze")


def both_paths(
    argv: list[str], home: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[object, object] | None:
    """(exit, stdout, stderr, files) from the lean path and from Typer, each on its own copy of `home`."""
    lean_home, typer_home = home.parent / "lean-home", home.parent / "typer-home"
    for copy in (lean_home, typer_home):
        shutil.rmtree(copy, ignore_errors=True)
        if home.exists():
            shutil.copytree(home, copy)

    def files(folder: Path) -> dict[str, bytes]:
        return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.toml"))}

    os.environ["PEERLOOP_HOME"] = str(lean_home)
    capsys.readouterr()
    code = lean.run(argv)
    lean_out, lean_err = capsys.readouterr()
    if code is None:
        return None
    os.environ["PEERLOOP_HOME"] = str(typer_home)
    result = CliRunner().invoke(app, argv)
    os.environ["PEERLOOP_HOME"] = str(home)

    def same(text: str, folder: Path) -> str:
        """Comparable text: the copy's folder named alike, and CRLF as LF (as Click's Result shows it)."""
        return text.replace(str(folder), "HOME").replace("\r\n", "\n")

    lean_side = (
        code,
        same(lean_out, lean_home),
        same(lean_err, lean_home),
        files(lean_home) if lean_home.exists() else {},
    )
    typer_side = (result.exit_code, same(result.stdout, typer_home), same(result.stderr, typer_home),
                  files(typer_home) if typer_home.exists() else {})  # fmt: skip
    return lean_side, typer_side


CORPUS = [
    ["next"],
    ["next", "--json"],
    ["plan"],
    ["plan", "--weeks", "3"],
    ["plan", "--weeks=2", "--json"],
    ["plan", "--from", "2026-03-20", "--weeks", "2"],
    ["plan", "--from", "2001-01-01"],
    ["plan", "--from", "someday"],
    ["peers"],
    ["peers", "--json"],
    ["add", "Eve Fox", "--org", "Acme", "--mode", "lunch"],
    ["add", "ann lee"],
    ["add", "Eve", "--email", "nope"],
    ["add", "--", "-dash"],
    ["edit", "Ann Lee", "--name", "Ann Li", "--org", ""],
    ["edit", "Nobody", "--org", "X"],
    ["pause", "Bo Chen", "--until", "2026-04-01"],
    ["resume", "Bo Chen"],
    ["remove", "Cy Dee", "--yes"],
    ["remove", "Cy Dee"],
    ["init", "--time", "09:00"],
    ["init", "--timezone", "Mars/Base"],
    ["log", "--issue", "Hiring", "--gain", "advice", "--gain", "motivation", "--follow-up", "send deck"],
    ["log", "Bo Chen", "--date", "2026-03-03", "--mode", "call", "--win", "a deal"],
    ["log", "--skip", "--reason", "board week"],
    ["log", "--skip"],
    ["log", "Nobody"],
    ["log", "--date", "2099-01-01"],
    ["history"],
    ["history", "--json"],
    ["history", "Ann Lee", "--since", "2026-01-01"],
    ["forget", "20990101-1", "--yes"],
    ["status"],
    ["status", "--json"],
    ["status", "--check"],
    ["status", "--line"],
    ["reflect", "--name", "Ann Lee", "--why", "few people", "--excuse", "no time", "--ceo", "make time"],
    ["review", "--json", "--early"],
    ["review", "--added-value", "yes", "--decision", "continue"],
    ["export", "-o", "-"],
    ["export", "--weeks", "3", "--alarm", "15", "-o", "-"],
    ["invite", "Ann Lee", "-o", "-"],
    ["doctor"],
    ["doctor", "--json"],
    ["where"],
    ["where", "--json"],
]


@pytest.mark.parametrize("argv", CORPUS, ids=[" ".join(a) for a in CORPUS])
def test_lean_path_matches_typer(
    argv: list[str], cli: Invoke, set_up: Callable[..., None], home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    set_up(*PEERS)
    if argv[0] in ("export", "invite"):
        cli(
            "export", "-o", os.devnull
        )  # the calendar's random home id, made once, is then shared by both copies
    compared = both_paths(argv, home, capsys)
    assert compared is not None, "the lean path should handle this command line"
    lean_side, typer_side = compared
    assert lean_side == typer_side


@pytest.mark.parametrize(
    "argv",
    [["plan", "--weeks", "0"], ["plan", "--bogus"], ["pause", "Ann"], ["add"], ["add", "A", "B"], ["next", "--json=1"],
     ["plan", "--weeks", "-1"], ["--version"], [], ["nonsense"], ["add", "Ann", "--org"]],
)  # fmt: skip
def test_lean_path_leaves_what_typer_must_judge_to_typer(argv: list[str]) -> None:
    assert lean.run(argv) is None


WORDS = st.sampled_from(
    ["next", "plan", "peers", "add", "edit", "pause", "resume", "remove", "--json", "--weeks", "--from", "--org",
     "--mode", "--name", "--until", "--yes", "--", "-y", "2", "0", "lunch", "tea", "2026-04-01", "Ann Lee", "Zoë",
     "", "--weeks=3", "--email", "a@b.co", "x"]
)  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=st.lists(WORDS, min_size=1, max_size=6))
def test_generated_command_lines_agree_on_both_paths(
    argv: list[str], set_up: Callable[..., None], home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not home.exists():
        set_up(*PEERS)
    compared = both_paths(argv, home, capsys)
    if compared is not None:
        assert compared[0] == compared[1]


def test_every_command_declares_its_parameters_for_both_paths() -> None:
    for name, target in lean.COMMANDS.items():
        for param in options.params(lean.load(target)):
            assert param.marker.kwargs.get("help"), f"peerloop {name}: {param.name} has no help text"


def test_every_command_has_a_summary_that_shows_whole_and_examples_that_run() -> None:
    """`peerloop --help` lists each command's first sentence, cut with "..." past 45 characters (Click's
    default; at 80 columns there is more room). Each `--help` ends with examples, each on one line at 80
    columns, each naming only options and arguments the command has (checked by Click's own parser)."""
    import shlex

    import typer
    from typer.core import TyperGroup

    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    for name in lean.COMMANDS:
        command = group.commands[name]
        assert command.help, f"peerloop {name} has no help text"
        summary = command.get_short_help_str(limit=45)
        assert not summary.endswith("..."), f"peerloop {name}: the summary is cut: {summary!r}"
        text = _help.HELP[name]
        assert "\n  Examples:\n" in text, f"peerloop {name} --help has no examples"
        examples = text.split("\n  Examples:\n", 1)[1].split("\nArguments:\n")[0].split("\nOptions:\n")[0]
        paragraphs = [p.strip() for p in examples.strip().split("\n\n")]
        assert paragraphs, f"peerloop {name} --help has no examples"
        for example in paragraphs:
            assert "\n" not in example, f"peerloop {name}: an example wraps at 80 columns: {example!r}"
            words = shlex.split(example, comments=True)
            words = words[: words.index("|")] if "|" in words else words
            assert words[:2] == ["peerloop", name], example
            command.make_context(name, words[2:])  # raises a UsageError when an option does not exist


def test_help_snapshot_and_cli_reference_are_up_to_date() -> None:
    texts = help_texts()
    assert texts == _help.HELP, "run `python scripts/generate.py` to refresh src/peerloop/_help.py"
    reference = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert reference == cli_markdown(texts), "run `python scripts/generate.py` to refresh docs/cli.md"


def test_help_is_served_without_typer_on_a_wide_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    os.environ["COLUMNS"] = "120"
    assert lean.run(["plan", "--help"]) == 0
    assert capsys.readouterr().out == _help.HELP["plan"]
    os.environ["COLUMNS"] = "60"
    assert lean.run(["plan", "--help"]) is None


FORBIDDEN = ("typer", "click", "rich", "pydantic", "icalendar", "platformdirs")


@pytest.mark.parametrize("argv", [["next"], ["next", "--json"], ["plan"], ["peers"], ["--help"]])
def test_weekly_commands_do_not_import_heavy_modules(
    argv: list[str], set_up: Callable[..., None], home: Path
) -> None:
    set_up(*PEERS)
    env = {**os.environ, "PEERLOOP_HOME": str(home), "COLUMNS": "100"}
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "peerloop", *argv], env=env,
                            capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    imported = {
        line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines() if "|" in line
    }
    assert imported & set(FORBIDDEN) == set()


def test_a_command_that_ran_is_never_run_again_by_typer(set_up: Callable[..., None], home: Path) -> None:
    """With stderr closed, the note after an extra meeting cannot be written; the meeting is logged once."""
    set_up(*PEERS, now="2026-03-03T10:00")
    env = {**os.environ, "PEERLOOP_HOME": str(home), "PEERLOOP_NOW": "2026-03-03T10:00"}
    for name in ("Ann Lee", "Bo Chen"):
        command = f"{sys.executable} -m peerloop log '{name}' --issue extra 2>&-"
        subprocess.run(["bash", "-c", command], env=env, stdout=subprocess.DEVNULL, check=False)
    history = subprocess.run([sys.executable, "-m", "peerloop", "history", "--json"], env=env,
                             capture_output=True, text=True, check=True)  # fmt: skip
    assert history.stdout.count('"kind": "meeting"') == 2
