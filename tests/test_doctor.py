"""`peerloop doctor` finds what is wrong with the data folder and says how to fix it."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

from peerloop.session import Store
from tests.conftest import Invoke


def test_a_healthy_home_exits_zero(cli: Invoke, set_up: Callable[..., None], home: Path) -> None:
    set_up("Ann Lee", "Bo Chen", "Cy Dee", "Di Eze")
    result = cli("doctor")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith("healthy, 1 note")
    assert "no email for you" in result.stdout


def test_a_missing_home_is_a_note_not_a_problem(cli: Invoke, home: Path) -> None:
    result = cli("doctor", "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["healthy"] is True
    assert report["findings"][0]["fix"] == "run `peerloop init`"
    assert not home.exists()


def test_loose_permissions_are_found_and_fixed(
    cli: Invoke, set_up: Callable[..., None], store: Store
) -> None:
    set_up("Ann Lee")
    os.chmod(store.roster_path, 0o644)
    os.chmod(store.home, 0o755)
    result = cli("doctor")
    assert result.exit_code == 4
    assert f"problem: {store.roster_path} is readable by others (mode 644)" in result.stdout
    assert f"chmod 700 '{store.home}'" in result.stdout
    fixed = cli("doctor", "--fix")
    assert fixed.exit_code == 0, fixed.output
    assert stat.S_IMODE(store.roster_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.home.stat().st_mode) == 0o700


def test_leftover_temp_files_are_reported_and_removed(
    cli: Invoke, set_up: Callable[..., None], store: Store
) -> None:
    set_up("Ann Lee")
    leftover = store.home / ".roster.toml.x1y2.tmp"
    leftover.write_text("half a file")
    result = cli("doctor")
    assert result.exit_code == 4
    assert "left over from an interrupted write" in result.stdout
    assert cli("doctor", "--fix").exit_code == 0
    assert not leftover.exists()
    assert store.load_roster().peers[0].name == "Ann Lee"


def test_a_damaged_file_is_named_with_its_line(
    cli: Invoke, set_up: Callable[..., None], store: Store
) -> None:
    set_up("Ann Lee")
    store.journal_dir.mkdir(mode=0o700)
    broken = store.year_path(2026)
    broken.write_text('schema_version = 1\n[[meetings]]\nid = "x"\ndate = 2026-13-01\n')
    os.chmod(broken, 0o600)
    result = cli("doctor", "--json")
    assert result.exit_code == 4
    problems = [f for f in json.loads(result.stdout)["findings"] if f["level"] == "problem"]
    assert len(problems) == 1
    assert problems[0]["what"].startswith(f"{broken}: line 4")
    assert broken.read_text().endswith("2026-13-01\n")


def test_a_connection_that_commands_would_refuse_is_a_problem(
    cli: Invoke, set_up: Callable[..., None], store: Store
) -> None:
    set_up("Ann Lee")
    store.connections_path.write_text("schema_version = 1\n[caldav]\nuser = 5\n")
    os.chmod(store.connections_path, 0o600)
    assert cli("sync").exit_code == 4  # what `doctor` must not call healthy
    result = cli("doctor", "--json")
    assert result.exit_code == 4
    problems = [f for f in json.loads(result.stdout)["findings"] if f["level"] == "problem"]
    assert [p["what"] for p in problems] == [
        f"{store.connections_path}: [caldav] 'url' must be text in quotes; fix it by hand"
    ]


def test_removed_peers_in_the_journal_are_a_note(
    cli: Invoke, set_up: Callable[..., None], store: Store
) -> None:
    from peerloop.models import JournalYear, Meeting, Mode

    set_up("Ann Lee")
    meeting = Meeting(id="20260303-1", date=dt.date(2026, 3, 3), peer="Old Friend", mode=Mode.CALL)
    store.save_year(JournalYear(year=2026, meetings=(meeting,)))
    result = cli("doctor")
    assert result.exit_code == 0
    assert "no longer in the roster: Old Friend" in result.stdout
