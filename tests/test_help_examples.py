"""Every example in every command's `--help` runs as written, in a real shell, in order, against a lived-in
data folder with a pinned clock: a user who copies one from the help must not meet an error."""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.main
from typer.core import TyperGroup as Group

from peerloop.cli import app
from peerloop.errors import EXIT_OVERDUE, EXIT_REVIEW_DUE
from tests.conftest import Invoke
from tests.hardening import NOW, populate, subprocess_env
from tests.servers import radicale


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
    "disconnect": "peerloop connect caldav https://cal.example.com/dana/ --user dana --keyring --no-check"
}
"""What a user has done before an example makes sense (there must be a connection to remove)."""
FASTMAIL = ("https://caldav.fastmail.com/dav/calendars/user/dana@fastmail.com/Default/", "dana@fastmail.com")
"""The address and login in `connect caldav`'s example, which the Radicale test replaces with its own."""
CLOCK = {"review": "2026-09-03T09:00"}
"""The moment an example is meant for, where it is not the lived-in folder's week 7: the review is due."""
ANSWERS = {
    "peerloop init": ["Dana Ode", "", "Europe/Berlin", "tue", "08:30", "", "", "", "2026-03-02", "Ann Lee",
                      "Bo Chen", "Cy Dee", "Di Eze", ""],
    "peerloop reflect": ["Sparring partners", "Ann Lee", "Bo Chen", "", "", "no time", "", ""],
    "peerloop review": ["partly", "Tuesdays", "", "adjust"],
}  # fmt: skip
"""What a person types at the questions of the examples that need answers; the others get Enter (skip, keep,
no) to every question."""
KHAL_CONFIG = """[calendars]
[[peers]]
path = {folder}/calendar
type = calendar

[locale]
timeformat = %H:%M
dateformat = %Y-%m-%d
longdateformat = %Y-%m-%d
datetimeformat = %Y-%m-%d %H:%M
longdatetimeformat = %Y-%m-%d %H:%M

[sqlite]
path = {folder}/khal.db
"""

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
    (khal / "config").write_text(KHAL_CONFIG.format(folder=khal), encoding="utf-8")
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
    env, user = example_environment(home, tmp_path / "user", CLOCK.get(command, NOW))
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
        allowed = {0, EXIT_OVERDUE, EXIT_REVIEW_DUE} if "--check" in example else {0}
        errors = [line for line in ran.stderr.splitlines() if "error" in line.lower() or "Traceback" in line]
        if ran.returncode not in allowed or errors:
            failures.append(f"{example}\n  exit {ran.returncode}; stderr: {ran.stderr[-600:].strip()}")
    return failures
