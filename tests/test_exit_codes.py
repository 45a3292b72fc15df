"""Fuzzed command lines against a lived-in data folder: every answer is a documented exit code, never a
traceback; every error is one line starting `peerloop: error:`; and after an error every file is as it was.

Each generated command line runs through the Typer app (`CliRunner`), the one path users run, and, for a
bounded number, in a real `python -m peerloop` process given bytes that are not UTF-8.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer.main
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from peerloop.cli import app_for, full_app
from tests.lived_in import IDS, NOW, PEERS, check_answer, populate, python_peerloop, snapshot, subprocess_env

GROUP: Any = typer.main.get_command(full_app())
COMMANDS = list(GROUP.commands)
COMMAND_DECLS = {
    name: sorted({decl for param in command.params for decl in (*param.opts, *param.secondary_opts)
                  if decl.startswith("-")})
    for name, command in GROUP.commands.items()
}  # fmt: skip
ALL_DECLS = sorted({decl for decls in COMMAND_DECLS.values() for decl in decls})

AWKWARD = [
    "", " ", "\t", "-", "--", "x" * 5000, "Ann Lee", "ann lee", "  Bo   Chen ", "Nobody", "Eve Fox",
    "[bold]Eve[/]", "[/]", "\x1b[31mred", "\x1b]0;title\x07", "a\nb", "a\rb", "\u202eevil", "\udcff", "caf\udce9",
    "\udc80", "😀", "İ", "ﬁ", "中文", "a,b;c\"'\\", "0", "1", "-1", "1e9", "99999999999999999999999999",
    "Europe", "Europe/Berlin", "Mars/Olympus", "a" * 300, "UTC", "25:00", "08:30", "8", "tue", "someday",
    "coffee", "tea", "lunch", "call", "advice", "advice,strength", "money", "yes", "partly", "no", "continue",
    "adjust", "stop", "2026-02-30", "2026-4-1", "2026-04-14", "2026-04-15", "2026-04-16", "out.ics",
    "missing/out.ics", "report.md", ".", "..", "nobody@example", "eve@example.com", "-o", "-y",
    *IDS, *PEERS,
]  # fmt: skip
PREFIXES = ["--home", "--home=.", "--home=..", "--version", "--help", "-h", "--bogus", "--json", "-o"]

# What argv can hold: no NUL, and lone surrogates only as U+DC80..U+DCFF (bytes that were not UTF-8);
# no "/" or "~", so that a value used as a path stays in the sandbox.
texts = st.text(
    st.characters(exclude_characters="\x00/~", exclude_categories=["Cs"])
    | st.characters(min_codepoint=0xDC80, max_codepoint=0xDCFF),
    max_size=12,
)
values = st.one_of(
    st.sampled_from(AWKWARD),
    st.dates(dt.date(2025, 1, 1), dt.date(2027, 12, 31)).map(dt.date.isoformat),
    st.dates().map(dt.date.isoformat),
    st.integers(-(2**70), 2**70).map(str),
    texts,
)


def tokens(command: str) -> st.SearchStrategy[str]:
    own = COMMAND_DECLS.get(command) or ["--json"]
    return st.one_of(
        st.sampled_from(own),
        st.sampled_from(own),
        values,
        st.builds(lambda flag, value: f"{flag}={value}", st.sampled_from(own), values),
        st.sampled_from([*ALL_DECLS, "--help", "--bogus", "-Z", "--home"]),
    )


def _words(param: Any) -> st.SearchStrategy[list[str]]:
    """One parameter as a person would type it: a flag, an option and its value, or a positional value."""
    kind = getattr(param.type, "name", "")
    choices = getattr(param.type, "choices", None)
    value = st.integers(-3, 600).map(str) | values if kind == "integer" else values
    if choices:
        value = st.sampled_from([str(choice) for choice in choices]) | values
    if param.param_type_name == "argument":
        return value.map(lambda v: [v])
    flag = st.sampled_from([decl for decl in param.opts if decl.startswith("-")])
    if param.is_flag:
        return flag.map(lambda f: [f])
    return st.one_of(
        st.tuples(flag, value).map(list),
        st.tuples(flag, value).map(lambda pair: [f"{pair[0]}={pair[1]}"]),
    )


def typed_line(command: str) -> st.SearchStrategy[list[str]]:
    """A command line built from the command's own parameters: most of these reach the command itself."""
    params = [param for param in GROUP.commands[command].params if param.name != "help"]
    if not params:
        return st.just([command])
    return st.lists(st.sampled_from(params).flatmap(_words), max_size=5).map(
        lambda parts: [command, *(word for part in parts for word in part)]
    )


chaotic_lines = st.tuples(
    st.one_of(st.just([]), st.just([]), st.just([]), st.lists(st.sampled_from(PREFIXES), max_size=2)),
    st.one_of(st.sampled_from(COMMANDS), st.sampled_from(["nonsense", "", "Next"])),
).flatmap(lambda head: st.lists(tokens(head[1]), max_size=7).map(lambda rest: [*head[0], head[1], *rest]))
command_lines = st.one_of(chaotic_lines, st.sampled_from(COMMANDS).flatmap(typed_line))


class Sandbox:
    """A fresh copy of the lived-in folder per command line, with the working folder two levels inside
    the sandbox (so that `--home ..` and default export files stay in it, and are checked too)."""

    def __init__(self, root: Path, pristine: Path) -> None:
        self.root, self.pristine = root, pristine
        self.cwd = root / "a" / "b"
        self.cwd.mkdir(parents=True)
        self.home = root / "home"

    def reset(self) -> dict[str, bytes]:
        for folder, keep in ((self.root, "a"), (self.root / "a", "b"), (self.cwd, None)):
            for child in folder.iterdir():
                if child.name == keep:
                    continue
                if child.is_dir() and not child.is_symlink():
                    os.chmod(child, 0o700)
                    shutil.rmtree(child)
                else:
                    child.unlink()
        shutil.copytree(self.pristine, self.home)
        os.environ["PEERLOOP_HOME"] = str(self.home)
        return snapshot(self.root)


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    pristine = tmp_path / "pristine"
    populate(pristine)
    monkeypatch.setenv("PEERLOOP_NOW", NOW)
    made = Sandbox(tmp_path / "sandbox", pristine)
    monkeypatch.chdir(made.cwd)
    return made


def check_files(sandbox: Sandbox, argv: object, code: int, before: dict[str, bytes]) -> None:
    if code not in (0, 10, 11):
        after = snapshot(sandbox.root)
        changed = sorted(
            set(before) ^ set(after) | {k for k in before if k in after and before[k] != after[k]}
        )
        assert changed == [], f"argv={argv!r} exited {code} but changed {changed}"


FUZZ = settings(
    max_examples=int(os.environ.get("HARDENING_FUZZ_EXAMPLES", "250")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(argv=command_lines)
@example(argv=["add", "\udcff\udcfeBad"])
@example(argv=["init", "--name", "caf\udce9"])
@example(argv=["init", "--timezone", "Europe"])
@example(argv=["init", "--timezone", "a" * 300])
@example(argv=["add", "Eve", "--note", "\udcff"])
@example(argv=["edit", "Ann Lee", "--org", "\udcff"])
@example(argv=["reflect", "--why", "\udcff", "--name", "Eve"])
@example(argv=["review", "--early", "--added-value", "yes", "--decision", "continue", "--works", "\udcff"])
def test_fuzzed_command_lines(argv: list[str], sandbox: Sandbox) -> None:
    before = sandbox.reset()
    result = CliRunner().invoke(app_for(argv), argv)
    assert result.exception is None or isinstance(result.exception, SystemExit), (argv, result.exception)
    check_answer(argv, result.exit_code, result.stdout, result.stderr)
    check_files(sandbox, argv, result.exit_code, before)


@settings(
    max_examples=int(os.environ.get("HARDENING_FUZZ_PROCESSES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(argv=command_lines)
@example(argv=["add", b"\xff\xfeBad"])
@example(argv=["log", "--note", b"caf\xe9", "--date", "2026-04-14"])
@example(argv=["init", "--name", b"\xc3"])
@example(argv=["reflect", "--excuse", b"\x80"])
def test_fuzzed_command_lines_in_a_real_process(argv: list[str | bytes], sandbox: Sandbox) -> None:
    """The real thing: bytes on the command line (lone surrogates become the bytes a terminal sends)."""
    before = sandbox.reset()
    words = [os.fsencode(word) if isinstance(word, str) else word for word in argv]
    env = subprocess_env(sandbox.home, {"PEERLOOP_NOW": NOW})
    done = subprocess.run(
        python_peerloop(*words), env=env, cwd=sandbox.cwd, capture_output=True, stdin=subprocess.DEVNULL,
        timeout=60, check=False,
    )  # fmt: skip
    stdout = done.stdout.decode("utf-8", "backslashreplace")
    stderr = done.stderr.decode("utf-8", "backslashreplace")
    check_answer(argv, done.returncode, stdout, stderr)
    check_files(sandbox, argv, done.returncode, before)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["add", "\udcff\udcfeBad"], "NAME: the text is not valid UTF-8"),
        (["add", "Eve", "--note", "caf\udce9"], "--note: the text is not valid UTF-8"),
        (["add", "Eve", "--org", "\udcff"], "--org: the text is not valid UTF-8"),
        (["edit", "Ann Lee", "--name", "\udcff"], "--name: the text is not valid UTF-8"),
        (["init", "--name", "\udcff"], "--name: the text is not valid UTF-8"),
        (["init", "--peer", "Eve\udcff"], "--peer: the text is not valid UTF-8"),
        (["reflect", "--name", "\udcff"], "--name: the text is not valid UTF-8"),
        (["reflect", "--why", "\udcff", "--name", "Eve"], "--why: the text is not valid UTF-8"),
        (["reflect", "--excuse", "\udcff"], "--excuse: the text is not valid UTF-8"),
        (["reflect", "--ceo", "\udcff", "--excuse", "busy"], "--ceo: the text is not valid UTF-8"),
        (["review", "--early", "--added-value", "yes", "--decision", "continue", "--works", "\udcff"],
         "--works: the text is not valid UTF-8"),
        (["review", "--early", "--added-value", "no", "--decision", "stop", "--improve", "\udcff"],
         "--improve: the text is not valid UTF-8"),
        (["init", "--timezone", "Europe"], "--timezone: 'Europe' is not a known time zone or city"),
        (["init", "--timezone", "a" * 300], "--timezone: 'aaaa"),
    ],
)  # fmt: skip
def test_text_that_cannot_be_stored_is_a_usage_error_and_nothing_is_written(
    argv: list[str], message: str, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    before = sandbox.reset()
    result = CliRunner().invoke(app_for(argv), argv)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"peerloop: error: {message}"), result.stderr
    assert result.stderr.count("\n") == 1
    assert snapshot(sandbox.root) == before


# --- answers at a prompt that are not UTF-8 --------------------------------------------------------------------

RETYPE = "the text is not valid UTF-8 (a stray byte from the terminal?); retype it"


@pytest.fixture
def lived_in(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    populate(home)
    monkeypatch.setenv("PEERLOOP_NOW", NOW)
    return home


@pytest.mark.usefixtures("terminal")
def test_init_asks_again_for_an_answer_that_is_not_utf8(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERLOOP_NOW", NOW)
    answers = b"\xff\xfeDana\nDana Ode\n\nEurope/Berlin\n\n\n\n\n\n2026-03-02\nAnn Lee\n\n\n\nn\n"
    result = CliRunner().invoke(app_for(["init"]), ["init"], input=answers)
    assert result.exit_code == 0, result.output
    assert f"  {RETYPE}\n" in result.stderr
    assert "Traceback" not in result.output
    roster = (home / "roster.toml").read_text(encoding="utf-8")
    assert 'name = "Dana Ode"' in roster
    assert 'name = "Ann Lee"' in roster


@pytest.mark.usefixtures("terminal")
def test_a_list_answer_that_is_not_utf8_stops_init_before_anything_is_written(home: Path) -> None:
    answers = b"Dana Ode\n\nEurope/Berlin\n\n\n\n\n\n2026-03-02\nAnn Lee\n\xe9Bo\n\n"
    result = CliRunner().invoke(app_for(["init"]), ["init"], input=answers)
    assert result.exit_code == 2, result.output
    assert result.stderr.endswith(f"peerloop: error: a name: {RETYPE}\n")
    assert not home.exists()


@pytest.mark.usefixtures("terminal")
def test_the_reflection_after_a_meeting_asks_again_then_saves(lived_in: Path) -> None:
    answers = b"\xff\nhiring a VP\nadvice\n\xe9t\xe9\ncaf\xc3\xa9\nTuesdays\n\nsend the deck\n\n\n"
    result = CliRunner().invoke(
        app_for(["log", "Cy Dee", "--date", "2026-04-14"]),
        ["log", "Cy Dee", "--date", "2026-04-14"],
        input=answers,
    )
    assert result.exit_code == 0, result.output
    assert (
        result.stderr.count("that answer is not valid UTF-8 (a stray byte from the terminal?); retype it")
        == 2
    )
    journal = (lived_in / "journal" / "2026.toml").read_text(encoding="utf-8")
    for saved in ('issue = "hiring a VP"', 'win = "café"', 'works = "Tuesdays"', '"send the deck"'):
        assert saved in journal


@pytest.mark.usefixtures("terminal")
@pytest.mark.parametrize(
    ("argv", "answers", "message"),
    [
        (["log", "Cy Dee", "--date", "2026-04-14"], b"\n\n\n\n\n\xff\n\n", "a follow-up: "),
        (["reflect"], b"\n\xffAnn\n\n", "a name: "),
        (["reflect"], b"\nAnn Lee\n\nn\n\xfeno time\n\n", "an excuse: "),
    ],
)
def test_a_list_answer_that_is_not_utf8_is_refused_and_nothing_is_written(
    lived_in: Path, argv: list[str], answers: bytes, message: str
) -> None:
    before = snapshot(lived_in)
    result = CliRunner().invoke(app_for(argv), argv, input=answers)
    assert result.exit_code == 2, result.output
    assert result.stderr.endswith(f"peerloop: error: {message}{RETYPE}\n"), result.stderr
    assert snapshot(lived_in) == before


@pytest.mark.usefixtures("terminal")
def test_the_review_asks_again_for_an_answer_that_is_not_utf8(lived_in: Path) -> None:
    answers = b"partly\n\xffgood\nTuesdays\n\xfe\n\nstop\n"
    result = CliRunner().invoke(app_for(["review", "--early"]), ["review", "--early"], input=answers)
    assert result.exit_code == 0, result.output
    assert result.stderr.count(RETYPE) == 2
    journal = (lived_in / "journal" / "2026.toml").read_text(encoding="utf-8")
    assert 'works = "Tuesdays"' in journal


@pytest.mark.usefixtures("terminal")
def test_a_confirmation_that_is_not_utf8_is_never_a_yes_and_is_asked_again(lived_in: Path) -> None:
    before = snapshot(lived_in)
    result = CliRunner().invoke(app_for(["remove", "Ann Lee"]), ["remove", "Ann Lee"], input=b"\xffyes\nn\n")
    assert result.exit_code == 0, result.output
    assert "Please answer y or n." in result.stderr
    assert "Nothing removed." in result.stderr
    assert snapshot(lived_in) == before


# --- the environment -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["soon", "nan", "-1", "inf", "1e999", "--"])
def test_a_lock_timeout_that_is_not_a_number_of_seconds_is_a_usage_error(
    lived_in: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    """NaN would make a held lock wait for ever: every comparison with it is false."""
    monkeypatch.setenv("PEERLOOP_LOCK_TIMEOUT", value)
    before = snapshot(lived_in)
    result = CliRunner().invoke(app_for(["add", "Eve Fox"]), ["add", "Eve Fox"])
    assert result.exit_code == 2
    assert result.stderr == f"peerloop: error: PEERLOOP_LOCK_TIMEOUT={value!r} is not a number of seconds\n"
    assert snapshot(lived_in) == before


@pytest.mark.parametrize("name", ["x" * 300, "a/" * 2100, "link-loop"])
def test_a_home_the_system_cannot_use_is_one_line_for_every_command(
    lived_in: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.chdir(tmp_path)
    if name == "link-loop":
        os.symlink("link-loop", tmp_path / "link-loop")
    for command in COMMANDS:
        for argv in (["--home", name, command],):
            result = CliRunner().invoke(app_for(argv), argv)
            check_answer(argv, result.exit_code, result.stdout, result.stderr)
            if result.exit_code == 2 and "cannot be used" in result.stderr:
                assert name[:20] in result.stderr
    with monkeypatch.context() as patch:
        patch.setenv("PEERLOOP_HOME", str(tmp_path / name))
        result = CliRunner().invoke(app_for(["status", "--line"]), ["status", "--line"])
        assert result.exit_code == 2, result.output
        assert "cannot be used" in result.stderr
