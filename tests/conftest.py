"""Every test runs against its own temp data folder, a fixed terminal, and no way to prompt by accident."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from peerloop import prompts
from peerloop.cli import app_for
from peerloop.store.records import Store
from tests.calendars import (
    HOME_ID,
    NOW,
    TRICKY_PEERS,
)
from tests.lived_in import DEVICE

Invoke = Callable[..., Result]


SetUp = Callable[..., None]


os.environ["PEERLOOP_DEVICE"] = DEVICE
"""Also for fixtures wider than a test (a module's lived-in folder): never a device id in the real home."""


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh PEERLOOP_HOME per test; the real home directory is never touched."""
    folder = tmp_path / "peerloop-home"
    monkeypatch.setenv("PEERLOOP_HOME", str(folder))
    monkeypatch.setenv("PEERLOOP_DEVICE", DEVICE)
    monkeypatch.setenv("HOME", str(tmp_path / "user-home"))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.delenv("PEERLOOP_NOW", raising=False)
    monkeypatch.delenv("PEERLOOP_DEBUG", raising=False)
    monkeypatch.setattr(prompts, "interactive", lambda: False)
    return folder


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that would leave new files world-readable: peerloop's modes must not depend on it."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend a person is at a terminal, so that prompts are asked (answer them with `input=`)."""
    monkeypatch.setattr(prompts, "interactive", lambda: True)


@pytest.fixture
def store(home: Path) -> Store:
    return Store(home)


@pytest.fixture
def cli() -> Invoke:
    """Run peerloop in-process, as `peerloop` runs it (the app `cli.app_for` builds for the command line):
    cli("add", "Ann", input=...) -> Result with .stdout, .stderr, .exit_code."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app_for(args), list(args), input=input)

    return invoke


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Pin peerloop's clock: at("2026-03-17T09:00")."""

    def pin(moment: str) -> None:
        dt.datetime.fromisoformat(moment)
        monkeypatch.setenv("PEERLOOP_NOW", moment)

    return pin


@pytest.fixture
def set_up(cli: Invoke, at: Callable[[str], None]) -> Callable[..., None]:
    """A leader in Europe/Berlin meeting Tuesdays 08:30, trial from 2026-03-02, with the given peers."""

    def make(*names: str, start: str = "2026-03-02", now: str = "2026-03-02T09:00") -> None:
        at(now)
        args = ["init", "--name", "Dana Ode", "--timezone", "Europe/Berlin", "--day", "tue", "--time", "08:30",
                "--start", start]  # fmt: skip
        for name in names:
            args += ["--peer", name]
        result = cli(*args)
        assert result.exit_code == 0, result.output

    return make


NEW_YEAR = "2027-01-01T10:00"


"""A Friday in week 1 of a trial that started on Monday 2026-12-28: every date form crosses the year."""


DST_MONDAY = "2027-03-29T00:30"


"""Half an hour into the first Monday of summer time in Europe/Berlin (the clocks went forward on Sunday)."""


TYPED_ROSTER = ("Ann Lee", "Anna Ek", "Bo Chen", "Bob Ray", "Zoë Müller-Łukasz")


ZOE = "Zoë Müller-Łukasz"


@pytest.fixture
def roster(cli: Invoke, at: Callable[[str], None]) -> Callable[[str], None]:
    """Dana in Europe/Berlin, Tuesdays 08:30 and lunch at 12:30; Bo Chen lunches; the clock pinned at `now`."""

    def make(now: str = NEW_YEAR) -> None:
        at(now)
        args = ["init", "--name", "Dana Ode", "--email", "dana@example.com", "--timezone", "Europe/Berlin",
                "--day", "tue", "--time", "08:30", "--lunch-time", "12:30", "--start", "2026-12-28"]  # fmt: skip
        for name in TYPED_ROSTER:
            args += ["--peer", name]
        assert cli(*args).exit_code == 0
        for name, email in (("Bo Chen", "bo@example.com"), (ZOE, "zoe@example.com")):
            assert cli("edit", name, "--email", email).exit_code == 0
        assert cli("edit", "Bo Chen", "--mode", "lunch").exit_code == 0

    return make


def as_json(cli: Invoke, *args: str) -> Any:
    result = cli(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


LEADER = ["--name", "Dana Ode", "--email", "dana@example.com", "--timezone", "Europe/Berlin", "--day", "tue",
          "--time", "08:30", "--start", "2026-03-02"]  # fmt: skip


@pytest.fixture
def tricky(cli: Invoke, at: Callable[[str], None], store: Any) -> None:
    """The golden roster, set up through the commands."""
    at(NOW)
    assert cli("init", *LEADER).exit_code == 0
    for name, email, mode in TRICKY_PEERS:
        args = (
            ["add", name] + (["--email", email] if email else []) + (["--mode", mode.value] if mode else [])
        )
        result = cli(*args)
        assert result.exit_code == 0, result.output
    store.save_calendar_state({"home_id": HOME_ID})
