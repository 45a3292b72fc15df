"""`peerloop doctor` finds what is wrong with the data folder and says how to fix it."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import re
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from peerloop.store.records import Store
from tests.conftest import Invoke
from tests.lived_in import LOCK, NOW, data_files, populate


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
        f"{store.connections_path} line 2: [caldav] 'url' is missing; fix it by hand, "
        "or forget it with `peerloop disconnect caldav`"
    ]


def test_removed_peers_in_the_journal_are_a_note(
    cli: Invoke, set_up: Callable[..., None], store: Store
) -> None:
    from peerloop.core.models import JournalYear, Meeting, Mode

    set_up("Ann Lee")
    meeting = Meeting(id="20260303-psve7", date=dt.date(2026, 3, 3), peer="Old Friend", mode=Mode.CALL)
    store.save_year(JournalYear(year=2026, meetings=(meeting,)))
    result = cli("doctor")
    assert result.exit_code == 0
    assert "no longer in the roster: Old Friend" in result.stdout


@pytest.fixture
def lived_in(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    populate(home)
    monkeypatch.setenv("PEERLOOP_NOW", NOW)
    return home


def _edit(path: Path, old: str, new: str) -> bytes:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    raw = text.replace(old, new, 1).encode("utf-8")
    path.write_bytes(raw)
    return raw


ROSTER_EDITS = [
    pytest.param('timezone = "Europe/Berlin"', 'timezone = "Mars/Olympus"',
                 "setting 'timezone' is wrong: 'Mars/Olympus' is not a known IANA time zone", id="unknown-zone"),
    pytest.param('timezone = "Europe/Berlin"', 'timezone = "Europe"',
                 "setting 'timezone' is wrong: 'Europe' is not a known IANA time zone", id="zone-is-a-folder"),
    pytest.param('timezone = "Europe/Berlin"', f'timezone = "{"Europe/" * 60}Berlin"',
                 "is not a known IANA time zone", id="zone-too-long"),
    pytest.param('timezone = "Europe/Berlin"', 'timezone = "../../../etc/passwd"',
                 "is not a known IANA time zone", id="zone-outside-the-database"),
    pytest.param("duration = 45", "duration = 0", "setting 'duration' must be between 5 and 1440 minutes",
                 id="zero-minutes"),
    pytest.param("duration = 45", "duration = 100000", "setting 'duration' must be between 5 and 1440 minutes",
                 id="days-long-meeting"),
    pytest.param("trial_months = 6", "trial_months = 600", "setting 'trial_months' must be between 1 and 24",
                 id="fifty-year-trial"),
    pytest.param('weekday = "tue"', 'weekday = "funday"', "setting 'weekday' is wrong: 'funday' is not a weekday",
                 id="no-such-weekday"),
    pytest.param('email = "dana@example.com"', 'email = "dana"', "setting 'email' is wrong: 'dana' is not an email",
                 id="bad-email"),
    pytest.param("time = 08:30:00", "time = 2026-03-02", "setting 'time' must be a time like 08:30:00",
                 id="time-is-a-date"),
    pytest.param('name = "Cy Dee"', 'name = "ann lee"', "peer 'ann lee' is listed twice", id="duplicate-peer"),
    pytest.param('name = "Cy Dee"', 'name = "Cy\\u0007Dee"', "a name cannot hold control characters",
                 id="bell-in-a-name"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "says"), ROSTER_EDITS)
def test_doctor_names_a_senseless_setting_with_its_line_and_fix_leaves_it(
    cli: Invoke, lived_in: Path, old: str, new: str, says: str
) -> None:
    roster = lived_in / "roster.toml"
    raw = _edit(roster, old, new)
    line = raw.decode().split("\n").index(new.split("\n")[0]) + 1
    for args in (["doctor"], ["doctor", "--fix"]):
        result = cli(*args)
        assert result.exit_code == 4, result.output
        problems = [line for line in result.stdout.splitlines() if line.startswith("problem: ")]
        assert len(problems) == 1, result.stdout
        assert problems[0].startswith(f"problem: {roster} line {line}: "), problems
        assert says in problems[0]
        assert "  fix: fix the file by hand" in result.stdout
        assert result.stderr == ""
        assert roster.read_bytes() == raw
    report = json.loads(cli("doctor", "--json").stdout)
    assert report["healthy"] is False
    # Every other command says the same, in one line.
    result = cli("next")
    assert result.exit_code == 4
    assert result.stderr.startswith(f"peerloop: error: {roster} line {line}: ")
    assert result.stderr.count("\n") == 1


def test_doctor_finds_calendar_records_that_export_would_refuse(cli: Invoke, lived_in: Path) -> None:
    calendar = lived_in / "calendar.toml"
    raw = _edit(calendar, "sequence = 0", 'sequence = "zero"')
    result = cli("doctor")
    assert result.exit_code == 4, result.output
    assert re.search(
        rf"problem: {re.escape(str(calendar))}: \[events\.\S+\] 'sequence' must be", result.stdout
    )
    assert "fix: fix it by hand, or move calendar.toml away to start it afresh" in result.stdout
    export = cli("export", "-o", "-")
    assert export.exit_code == 4
    assert "'sequence' must be a whole number" in export.stderr
    assert calendar.read_bytes() == raw


def test_doctor_finds_a_year_file_that_is_a_folder(cli: Invoke, lived_in: Path) -> None:
    year = lived_in / "journal" / "2026.toml"
    year.unlink()
    year.mkdir()
    result = cli("doctor")
    assert result.exit_code == 4
    assert f"problem: {year} is a folder, not a file; move it away and try again" in result.stdout
    assert cli("doctor", "--fix").exit_code == 4
    assert year.is_dir()


@pytest.fixture
def lock_held(lived_in: Path) -> Iterator[Path]:
    fd = os.open(lived_in / LOCK, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        yield lived_in / LOCK
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@pytest.mark.usefixtures("lock_held")
def test_doctor_notes_a_lock_held_right_now_without_waiting_for_it(cli: Invoke) -> None:
    result = cli("doctor")
    assert result.exit_code == 0, result.output
    assert "note: another peerloop process holds the lock right now" in result.stdout


def test_doctor_on_a_home_that_is_a_file_says_so(
    cli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It used to say the folder did not exist yet and to run `init`, which then failed."""
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("mine")
    monkeypatch.setenv("PEERLOOP_HOME", str(a_file))
    for args in (["doctor"], ["init", "--name", "Dana"], ["peers"], ["status", "--line"]):
        result = cli(*args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr == (
            f"peerloop: error: the data folder {a_file} cannot be used (it is a file, not a folder); "
            "point --home or PEERLOOP_HOME at a folder\n"
        )
    assert a_file.read_text() == "mine"


def test_doctor_fix_on_a_healthy_lived_in_home_changes_no_byte(cli: Invoke, lived_in: Path) -> None:
    before = {path: path.read_bytes() for path in data_files(lived_in)}
    result = cli("doctor", "--fix")
    assert result.exit_code == 0, result.output
    assert "fixed:" not in result.stdout
    assert {path: path.read_bytes() for path in data_files(lived_in)} == before


def test_a_parsed_copy_left_by_an_older_peerloop_is_reported_then_deleted_by_the_next_write(
    cli: Invoke, set_up: Callable[..., None], store: Store
) -> None:
    set_up("Ann Lee", "Bo Chen")
    assert cli("log", "Ann Lee").exit_code == 0
    old_copies = [store.home / ".roster.toml.cache", store.journal_dir / ".2026.toml.cache"]
    for copy in old_copies:
        copy.write_text('{"said": "what the file said before a change"}', encoding="utf-8")
    result = cli("doctor", "--json")
    assert result.exit_code == 4
    reported = [f["what"] for f in json.loads(result.stdout)["findings"] if f["level"] == "problem"]
    assert len(reported) == 2
    assert all("parsed copy an older peerloop kept" in what for what in reported)
    assert cli("peers").exit_code == 0  # a read never trusts nor removes them
    assert all(copy.exists() for copy in old_copies)
    assert cli("log", "Bo Chen").exit_code == 0
    assert not any(copy.exists() for copy in old_copies)
    assert cli("doctor").exit_code == 0


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        (
            '[caldav]\nurl = "https://cal.example/"\nuser = "dana"\npassword_env = 7\n',
            "line 5: [caldav] 'password_env' must be text in quotes",
        ),
        (
            '[caldav]\nurl = "https://cal.example/"\nuser = "dana"\npassword_command = 5\n',
            "line 5: [caldav] 'password_command' must be text in quotes",
        ),
        (
            '[smtp]\nhost = "mail.example"\nport = "587"\nsecurity = "starttls"\n',
            "line 4: [smtp] 'port' must be a whole number without quotes",
        ),
        (
            '[smtp]\nhost = "mail.example"\nport = 587\nsecurity = "tls"\n',
            "line 5: [smtp] 'security' must be one of starttls, ssl, none",
        ),
        ("[[busy]]\nsource = 3\n", "line 3: [[busy]] #1 'source' must be text in quotes"),
        ('[free_time]\ndays = ["mon", "someday"]\n', "line 3: [free_time] 'days' must list weekdays"),
    ],
)
def test_every_value_of_the_connections_is_checked_alike_by_commands_and_doctor(
    cli: Invoke, set_up: Callable[..., None], store: Store, table: str, problem: str
) -> None:
    set_up("Ann Lee")
    store.connections_path.write_text("schema_version = 1\n" + table, encoding="utf-8")
    os.chmod(store.connections_path, 0o600)
    for argv in (["sync"], ["connect"], ["invite", "Ann Lee", "--send"]):
        refused = cli(*argv)
        assert refused.exit_code == 4, (argv, refused.output)
        assert problem in refused.stderr, refused.stderr
        assert "Traceback" not in refused.output
        assert "bug" not in refused.stderr
    checked = cli("doctor", "--json")
    assert checked.exit_code == 4
    assert any(problem in f["what"] for f in json.loads(checked.stdout)["findings"])


def test_a_change_killed_while_it_waited_for_a_mail_is_reported_and_dropped(
    cli: Invoke, set_up: Callable[..., None], store: Store
) -> None:
    set_up("Ann Lee")
    before = store.roster_path.read_bytes()
    temp = store.home / ".roster.toml.123-456-0.tmp"
    temp.write_text("# what the change would have written\n", encoding="utf-8")
    store.folder.pending_path.write_text(
        "# peerloop commit record\n# sending: the cancellation to Ann Lee\n.roster.toml.123-456-0.tmp\troster.toml\n",
        encoding="utf-8",
    )
    found = cli("doctor")
    assert found.exit_code == 4
    assert "a change waited for the cancellation to Ann Lee when peerloop stopped" in found.stdout
    fixed = cli("doctor", "--fix")
    assert fixed.exit_code == 0, fixed.output
    assert "stopped while sending the cancellation to Ann Lee" in fixed.stderr
    assert not store.folder.pending_path.exists()
    assert not temp.exists()
    assert store.roster_path.read_bytes() == before
