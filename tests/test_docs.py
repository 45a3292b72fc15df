"""The docs cannot go stale: every command docs/guide.md shows runs, and every output it shows is real.

How docs/guide.md is read, top to bottom, as one session against a fresh data folder (the default one,
under a temp $HOME, so that paths read `~/.local/share/peerloop`), in a temp working directory:

- ```sh blocks are commands to run. Every line is a `peerloop ...` command (a line ending in `\\` goes on
  with the next), run in order; it must exit 0, unless the line's comment says `# exit N`, which is then
  the code it must exit with. In a pipeline (`peerloop next --json | jq -r .peer`) the `peerloop` part runs
  and must succeed; what it is piped into is not run. Anything else in a sh block fails the test.
- ```console blocks are transcripts: each `$ peerloop ...` line is run like a sh line, and what follows it
  up to the next `$` line must be exactly what it prints (stdout, then stderr).
- A ```json block right after a `<!-- test json: peerloop ... -->` comment documents the output of that
  command: it is run there, and the block must have the same keys at every level and the same kinds of
  values (a `null` or an empty list on either side matches anything; lists match element by element
  against any element of the other side).
- `<!-- test clock: 2027-01-05T10:00 -->` sets the clock (PEERLOOP_NOW) for what follows, so that the
  guide can walk through the weeks of a trial. The comment is invisible when the Markdown is rendered.
- `<!-- test columns: 40 -->` runs the next block at that terminal width ($COLUMNS); other blocks run at 120.
- Every other block (```text, ```bash, ```zsh, ```fish, ```toml, …) is an illustration and never runs:
  crontab lines, shell start-up snippets, commands that need a terminal or another program. bash, zsh and
  fish blocks are checked for syntax by those shells when they are installed.

README.md's ```console sample is checked the same way, against the small set-up `readme_home` makes (its
```sh blocks are the install and test commands, which CI runs).

After an intended change of output, `PEERLOOP_UPDATE_DOCS=1 pytest tests/test_docs.py` rewrites the
console outputs in both files; review the diff.
"""

from __future__ import annotations

import json
import os
import pty
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.core import TyperGroup as Group
from typer.testing import CliRunner

from peerloop.cli import app, app_for
from peerloop.errors import Exit
from tests.calendars import khal_config
from tests.conftest import Invoke
from tests.lived_in import NOW, populate, subprocess_env
from tests.servers import radicale

ROOT = Path(__file__).resolve().parent.parent


GUIDE = ROOT / "docs" / "guide.md"


README = ROOT / "README.md"


UPDATE = "PEERLOOP_UPDATE_DOCS"


CLOCK = re.compile(r"^<!-- test clock: (\S+) -->$")


COLUMNS = re.compile(r"^<!-- test columns: (\d+) -->$")


JSON_OF = re.compile(r"^<!-- test json: (.+) -->$")


EXIT = re.compile(r"#.*\bexit (\d+)\b")


@dataclass
class Block:
    """A fenced block: its language, its lines, where its body starts in the file, and the markers before it."""

    lang: str
    lines: list[str]
    start: int
    clock: str | None = None
    json_of: str | None = None
    columns: str | None = None
    outputs: list[tuple[int, int, str]] = field(default_factory=list)
    """For console blocks: (first line, end line, output) of each command's expected output, in the file."""


def blocks(text: str) -> Iterator[Block]:
    lines = text.split("\n")
    clock: str | None = None
    json_of: str | None = None
    columns: str | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        if match := CLOCK.match(line.strip()):
            clock = match.group(1)
        elif match := JSON_OF.match(line.strip()):
            json_of = match.group(1)
        elif match := COLUMNS.match(line.strip()):
            columns = match.group(1)
        elif line.startswith("```"):
            lang = line[3:].strip()
            end = lines.index("```", index + 1)
            json_of = json_of if lang == "json" else None
            yield Block(lang, lines[index + 1 : end], index + 1, clock, json_of, columns)
            clock, json_of, columns = None, None, None
            index = end
        index += 1


def commands(lines: list[str]) -> Iterator[str]:
    """The commands of a sh block, with `\\` continuations joined."""
    pending = ""
    for line in lines:
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        if full and not full.startswith("#"):
            yield full


class Session:
    """One user at one machine: a temp $HOME with the default data folder, a working directory, a clock."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.user_home = tmp_path / "dana"
        self.work = tmp_path / "work"
        self.work.mkdir()
        self.user_home.mkdir()
        monkeypatch.setenv("HOME", str(self.user_home))
        monkeypatch.delenv("PEERLOOP_HOME", raising=False)
        monkeypatch.delenv("XDG_DATA_HOME", raising=False)
        monkeypatch.setenv("PEERLOOP_PASSPHRASE", "a long passphrase")  # as "Encrypting the journal" says
        monkeypatch.chdir(self.work)
        self.monkeypatch = monkeypatch
        from peerloop.store.home import data_home

        self.data = data_home()
        self.runner = CliRunner()

    def at(self, moment: str) -> None:
        self.monkeypatch.setenv("PEERLOOP_NOW", moment)

    def run(self, line: str) -> tuple[int, str]:
        """Run one documented command line; (exit code, stdout then stderr, with paths as the docs show them)."""
        words = shlex.split(line, comments=True)
        if "|" in words:
            words = words[: words.index("|")]
        assert words[:1] == ["peerloop"], f"not a peerloop command: {line!r}"
        args = [os.path.expanduser(word) if word.startswith("~/") else word for word in words[1:]]
        result = self.runner.invoke(app_for(args), args)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        output = result.stdout + result.stderr
        output = output.replace(str(self.data), "~/.local/share/peerloop").replace(str(self.user_home), "~")
        return result.exit_code, output

    def check(self, line: str) -> str:
        """Run a line that must exit 0, or the code its `# exit N` comment gives."""
        match = EXIT.search(line)
        expected = int(match.group(1)) if match else 0
        code, output = self.run(line)
        assert code == expected, f"`{line}` exited {code}, expected {expected}:\n{output}"
        return output


def shape_matches(doc: Any, real: Any) -> bool:
    """Same keys at every level and the same kinds of values; null and [] match anything."""
    if doc is None or real is None or doc == [] or real == []:
        return True
    if isinstance(doc, dict) and isinstance(real, dict):
        return doc.keys() == real.keys() and all(shape_matches(doc[key], real[key]) for key in doc)
    if isinstance(doc, list) and isinstance(real, list):
        return all(any(shape_matches(d, r) for r in real) for d in doc) and all(
            any(shape_matches(d, r) for d in doc) for r in real
        )
    if isinstance(doc, bool) or isinstance(real, bool):
        return isinstance(doc, bool) and isinstance(real, bool)
    if isinstance(doc, int | float) and isinstance(real, int | float):
        return True
    return type(doc) is type(real)


def play(path: Path, session: Session, before: Callable[[], None] = lambda: None, sh: bool = True) -> None:
    """Run every sh (unless `sh` is false) and console block of `path` in order; check outputs and shapes."""
    text = path.read_text(encoding="utf-8")
    before()
    updates: list[tuple[int, int, str]] = []
    ran = 0
    for block in blocks(text):
        if block.clock:
            session.at(block.clock)
        session.monkeypatch.setenv("COLUMNS", block.columns or "120")
        if block.lang == "sh" and sh:
            for line in commands(block.lines):
                session.check(line)
                ran += 1
        elif block.lang == "console":
            index = 0
            while index < len(block.lines):
                line = block.lines[index]
                assert line.startswith("$ "), f"{path.name}:{block.start + index + 1}: expected a `$ ` line"
                end = index + 1
                while end < len(block.lines) and not block.lines[end].startswith("$ "):
                    end += 1
                output = session.check(line[2:])
                ran += 1
                shown = "\n".join(block.lines[index + 1 : end])
                if os.environ.get(UPDATE):
                    updates.append((block.start + index + 1, block.start + end, output.rstrip("\n")))
                else:
                    assert shown == output.rstrip("\n"), (
                        f"{path.name}:{block.start + index + 1}: `{line}` prints something else "
                        f"(rerun with {UPDATE}=1 to update the docs):\n{output}"
                    )
                index = end
        elif block.json_of is not None:
            code, output = session.run(block.json_of)
            assert code == 0, output
            documented = json.loads("\n".join(block.lines))
            assert shape_matches(documented, json.loads(output)), (
                f"{path.name}:{block.start}: the JSON documented for `{block.json_of}` does not have the "
                f"shape of its real output:\n{output}"
            )
    assert ran, f"no command found in {path.name}"
    if updates:
        lines = text.split("\n")
        for first, end, output in reversed(updates):
            lines[first:end] = output.split("\n") if output else []
        path.write_text("\n".join(lines), encoding="utf-8")


def test_every_command_in_the_guide_runs_and_every_output_is_real(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    play(GUIDE, Session(tmp_path, monkeypatch))


def readme_home(session: Session) -> Callable[[], None]:
    """What the README's sample shows: a leader on the Monday of week 6, five weeks kept but one skipped."""

    def set_up() -> None:
        session.at("2027-01-04T09:00")
        session.check(
            'peerloop init --name "Dana Ode" --timezone Europe/Berlin --day tue --time 08:30 '
            '--start 2027-01-04 --peer "Ann Lee" --peer "Bo Chen" --peer "Cy Dee" --peer "Di Eze"'
        )
        session.check('peerloop edit "Bo Chen" --mode lunch')
        session.check('peerloop edit "Cy Dee" --mode call')
        session.at("2027-01-05T10:00")
        session.check('peerloop log --issue "hiring a VP" --gain advice --follow-up "send Ann the org chart"')
        session.at("2027-01-12T18:00")
        session.check('peerloop log --skip --reason "board week"')
        for day in ("2027-01-19", "2027-01-26", "2027-02-02"):
            session.at(f"{day}T10:00")
            session.check("peerloop log --gain strength")
        session.at("2027-02-08T08:00")

    return set_up


def test_the_readme_sample_is_real_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    session = Session(tmp_path, monkeypatch)
    play(README, session, readme_home(session), sh=False)


SHELLS = {"bash": ["bash", "-n"], "zsh": ["zsh", "-n"], "fish": ["fish", "--no-execute"]}


@pytest.mark.parametrize("lang", sorted(SHELLS))
def test_shell_snippets_in_the_guide_are_valid_syntax(lang: str, tmp_path: Path) -> None:
    snippets = [block for block in blocks(GUIDE.read_text(encoding="utf-8")) if block.lang == lang]
    assert snippets, f"the guide has no {lang} snippet"
    if shutil.which(SHELLS[lang][0]) is None:
        pytest.skip(f"{lang} is not installed")
    for block in snippets:
        script = tmp_path / f"snippet.{lang}"
        script.write_text("\n".join(block.lines) + "\n", encoding="utf-8")
        result = subprocess.run([*SHELLS[lang], str(script)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"guide.md:{block.start}: {lang} says {result.stderr}"


def test_the_guide_covers_every_command() -> None:
    from peerloop.cli import COMMANDS

    ran = {
        shlex.split(line, comments=True)[1]
        for block in blocks(GUIDE.read_text(encoding="utf-8"))
        if block.lang in ("sh", "console")
        for line in (commands(block.lines) if block.lang == "sh" else
                     [line[2:] for line in block.lines if line.startswith("$ ")])
    }  # fmt: skip
    assert set(COMMANDS) - ran == set()


def test_the_guide_links_resolve() -> None:
    for path in (GUIDE, README):
        text = path.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if "://" in target or target.startswith("mailto:"):
                continue
            assert (path.parent / target).exists(), f"{path.name} links to {target}, which does not exist"


def command_paths(group: Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command a user can run, sub-commands of a group (`connect caldav`) included."""
    for name, command in group.commands.items():
        if isinstance(command, Group):
            yield from command_paths(command, (*prefix, name))
        else:
            yield (*prefix, name)


COMMANDS = sorted(" ".join(path) for path in command_paths(typer.main.get_command(app)))  # type: ignore[arg-type]


NEEDS_A_NEW_HOME = {"init"}


"""Commands whose examples are about a data folder that does not exist yet."""


NEEDS_A_SERVER = {"connect caldav", "sync"}


"""Commands whose examples reach a CalDAV server: `test_calendar_examples_run_against_a_local_radicale`."""


BEFORE = {
    "disconnect": "peerloop connect caldav https://cal.example.com/dana/ --user dana --keyring --no-check",
    "merge-file": 'git init -q && for v in base ours theirs; do cp "$PEERLOOP_HOME/roster.toml" $v.toml; done',
    "encrypt": "mkdir -p ~/.config/age && age-keygen -o ~/.config/age/peerloop.txt 2>/dev/null",
    "decrypt": "PEERLOOP_PASSPHRASE='a long passphrase' peerloop encrypt",
}


"""What a user has done before an example makes sense (there must be a connection to remove)."""


FASTMAIL = ("https://caldav.fastmail.com/dav/calendars/user/dana@fastmail.com/Default/", "dana@fastmail.com")


"""The address and login in `connect caldav`'s example, which the Radicale test replaces with its own."""


EXAMPLE_CLOCK = {"review": "2026-09-03T09:00"}


"""The moment an example is meant for, where it is not the lived-in folder's week 7: the review is due."""


ANSWERS = {
    "peerloop init": ["Dana Ode", "", "Berlin", "tue", "8:30am", "", "", "", "Mar 2 2026", "Ann Lee",
                      "Bo Chen", "Cy Dee", "Di Eze", "", "ann@example.com", "lunch", *[""] * 7],
    "peerloop reflect": ["Sparring partners", "Ann Lee", "Bo Chen", "", "", "no time", "", ""],
    "peerloop review": ["partly", "Tuesdays", "", "adjust"],
    "peerloop encrypt": ["a long passphrase", "a long passphrase"],
    "peerloop encrypt --identity ~/.config/age/peerloop.txt": ["a long passphrase"],
    "peerloop decrypt": ["a long passphrase"],
}  # fmt: skip


"""What a person types at the questions of the examples that need answers; the others get Enter (skip, keep,
no) to every question."""


WORK_CALENDAR = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//example//work//EN\r
BEGIN:VEVENT\r
UID:board@example.com\r
DTSTAMP:20260101T000000Z\r
DTSTART:20260421T070000Z\r
DTEND:20260421T090000Z\r
SUMMARY:Board meeting\r
END:VEVENT\r
END:VCALENDAR\r
"""


def help_examples(help_text: str) -> list[str]:
    """The "Examples:" paragraphs as Typer prints them, each joined back into one command line."""
    lines = help_text.splitlines()
    start = next((n + 1 for n, line in enumerate(lines) if line.strip() == "Examples:"), len(lines))
    examples: list[list[str]] = [[]]
    for line in lines[start:]:
        if line and not line.startswith(" "):  # the next section: Arguments, Options
            break
        if line.strip():
            examples[-1].append(line.strip())
        elif examples[-1]:
            examples.append([])
    return [" ".join(example) for example in examples if example]


@pytest.fixture(scope="module")
def lived_in(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lived-in") / "home"
    populate(folder)
    return folder


def user_environment(folder: Path) -> Path:
    """A user's home folder with a Desktop and a khal calendar, for the examples that write there."""
    (folder / "Desktop").mkdir(parents=True)
    khal = folder / ".config" / "khal"
    (khal / "calendar").mkdir(parents=True)
    (khal / "config").write_text(khal_config(khal, khal / "khal.db"), encoding="utf-8")
    (folder / "calendars").mkdir()
    (folder / "calendars" / "work.ics").write_text(WORK_CALENDAR, encoding="utf-8")
    return folder


def at_a_terminal(
    example: str, env: dict[str, str], cwd: Path, answers: list[str]
) -> subprocess.CompletedProcess[str]:
    """Run the example in bash with a terminal for its input, as typed by a person: the answers, then
    end of input (so a question nobody expected ends the run instead of waiting)."""
    main, side = pty.openpty()
    try:
        os.write(main, "".join(f"{answer}\n" for answer in answers).encode() + b"\x04")
        return subprocess.run(
            ["bash", "-o", "pipefail", "-c", example], env=env, cwd=cwd, stdin=side,
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    finally:
        os.close(side)
        os.close(main)


def test_no_help_example_holds_a_date_that_will_pass(cli: Invoke) -> None:
    """An example is valid whenever the help is read: a looking-ahead option never names a fixed date."""
    import re

    for command in COMMANDS:
        for example in help_examples(cli(*command.split(), "--help").stdout):
            assert not re.search(r"--(until|from|start)[ =]\d{4}-", example), example


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS)
def test_every_help_example_runs_as_written(
    command: str, cli: Invoke, lived_in: Path, tmp_path: Path
) -> None:
    if command in NEEDS_A_SERVER:
        pytest.skip("run against Radicale by test_calendar_examples_run_against_a_local_radicale")
    examples = help_examples(cli(*command.split(), "--help").stdout)
    assert examples, f"`peerloop {command} --help` shows no example"
    home = tmp_path / "data"
    if command not in NEEDS_A_NEW_HOME:
        shutil.copytree(lived_in, home)
    env, user = example_environment(home, tmp_path / "user", EXAMPLE_CLOCK.get(command, NOW))
    if command in BEFORE:
        assert at_a_terminal(BEFORE[command], env, user, []).returncode == 0
    failures = failing_examples(examples, env, user)
    assert not failures, f"`peerloop {command} --help` examples that fail:\n" + "\n".join(failures)


@pytest.mark.slow
def test_calendar_examples_run_against_a_local_radicale(cli: Invoke, lived_in: Path, tmp_path: Path) -> None:
    """`connect caldav` with only its address and login changed to a local Radicale's, then `sync` as written."""
    home = tmp_path / "data"
    shutil.copytree(lived_in, home)
    env, user = example_environment(home, tmp_path / "user", NOW)
    with radicale(tmp_path / "radicale") as server:
        url = server.make_calendar("Default")
        env["FASTMAIL_APP_PASSWORD"] = server.password
        connect = help_examples(cli("connect", "caldav", "--help").stdout)
        assert connect
        assert all(FASTMAIL[0] in example for example in connect)
        local = [example.replace(FASTMAIL[0], url).replace(FASTMAIL[1], server.user) for example in connect]
        sync = help_examples(cli("sync", "--help").stdout)
        failures = failing_examples([*local, *sync], env, user)
        assert not failures, "examples that fail against Radicale:\n" + "\n".join(failures)
        assert at_a_terminal("peerloop sync --json | jq -e '.created == 0'", env, user, []).returncode == 0


def example_environment(home: Path, user_folder: Path, now: str) -> tuple[dict[str, str], Path]:
    """The environment an example runs in (the data folder, a pinned clock, a user's home) and that home."""
    user = user_environment(user_folder)
    path = f"{Path(sys.executable).parent}:{subprocess_env(home)['PATH']}"
    env = subprocess_env(home, {"PEERLOOP_NOW": now, "HOME": str(user), "PATH": path})
    env["XDG_CONFIG_HOME"] = str(user / ".config")
    return env, user


def failing_examples(examples: list[str], env: dict[str, str], user: Path) -> list[str]:
    """Each example that exits with an unexpected code or prints an error, with what it printed."""
    failures = []
    for example in examples:  # in order: each one finds the data the ones before it left
        ran = at_a_terminal(example, env, user, ANSWERS.get(example, [""] * 20))
        allowed = {0, Exit.OVERDUE, Exit.REVIEW_DUE} if "--check" in example else {0}
        errors = [line for line in ran.stderr.splitlines() if "error" in line.lower() or "Traceback" in line]
        if ran.returncode not in allowed or errors:
            failures.append(f"{example}\n  exit {ran.returncode}; stderr: {ran.stderr[-600:].strip()}")
    return failures
