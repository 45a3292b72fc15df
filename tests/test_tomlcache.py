"""The parsed copy of big files: used only for the very text it was made from, never believed over the file,
never a way in, and never the place where a deleted note lives on."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import stat
import tomllib
from pathlib import Path

import pytest

from peerloop import tomlcache
from peerloop.journalschema import year_text
from peerloop.models import FollowUp, Gain, JournalYear, Meeting, Mode
from peerloop.session import Store
from tests.conftest import Invoke

YEAR = 2025


def meetings(count: int, note: str = "kept between us") -> tuple[Meeting, ...]:
    start = dt.date(YEAR, 1, 1)
    return tuple(
        Meeting(id=f"{(start + dt.timedelta(days=n % 365)):%Y%m%d}-{n // 365 + 1}",
                date=start + dt.timedelta(days=n % 365), peer=f"Peer {n % 40:02d}", mode=Mode.COFFEE,
                issue="Hiring a head of sales", gains=(Gain.ADVICE,), note=f"{note} #{n}",
                follow_ups=(FollowUp("send the deck", n % 2 == 0, 1),))
        for n in range(count)
    )  # fmt: skip


def write_year(home: Path, count: int, note: str = "kept between us") -> Path:
    path = home / "journal" / f"{YEAR}.toml"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_text(year_text(JournalYear(year=YEAR, meetings=meetings(count, note))), encoding="utf-8")
    return path


def load(home: Path) -> JournalYear:
    return Store(home).load_year(YEAR)


def test_a_big_year_is_read_from_its_parsed_copy_the_second_time(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_year(home, 400)
    assert path.stat().st_size > tomlcache.MIN_BYTES
    first = load(home)
    copy = tomlcache.cache_path(path)
    assert copy.name == ".2025.toml.cache"
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600

    def no_parser(text: str, path: Path) -> object:
        raise AssertionError("the TOML parser ran although the copy holds this text")

    monkeypatch.setattr(tomlcache, "parse_toml", no_parser)
    assert load(home) == first
    seventh = next(m for m in first.meetings if m.note == "kept between us #7")
    assert len(first.meetings) == 400
    assert seventh.follow_ups == (FollowUp("send the deck", False, 1),)


def test_a_small_year_keeps_no_copy_and_drops_one_left_from_when_it_was_big(home: Path) -> None:
    path = write_year(home, 400)
    load(home)
    assert tomlcache.cache_path(path).exists()
    write_year(home, 3)
    assert [m.note for m in load(home).meetings] == [f"kept between us #{n}" for n in range(3)]
    assert not tomlcache.cache_path(path).exists()


def test_a_hand_edit_that_keeps_size_and_time_is_read_not_the_old_copy(home: Path) -> None:
    path = write_year(home, 400)
    load(home)
    before = path.stat()
    edited = path.read_text(encoding="utf-8").replace('kept between us #7"', 'kept between US #7"')
    with open(path, "r+", encoding="utf-8") as same_inode:
        same_inode.write(edited)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        before.st_ino,
        before.st_size,
        before.st_mtime_ns,
    )
    assert "kept between US #7" in [m.note for m in load(home).meetings]


@pytest.mark.parametrize(
    "hostile",
    [
        "garbage",
        "truncated",
        "other text",
        "null inside",
        "not a table",
        "deep",
        "link",
        "folder",
        "fifo",
        "huge",
    ],
)
def test_a_damaged_or_planted_copy_is_ignored_and_the_file_is_read(home: Path, hostile: str) -> None:
    path = write_year(home, 400)
    expected = load(home)
    copy = tomlcache.cache_path(path)
    good = copy.read_bytes()
    document = json.loads(good)
    copy.unlink()
    if hostile == "garbage":
        copy.write_bytes(os.urandom(5000))
    elif hostile == "truncated":  # a crash before the copy reached the disk
        copy.write_bytes(good[: len(good) // 2])
    elif hostile == "other text":  # made from another version of the file
        document["data"]["meetings"][0]["note"] = "what the file no longer says"
        copy.write_text(json.dumps(document | {"digest": "0" * 64}))
    elif hostile == "null inside":
        document["data"]["meetings"][0]["mood"] = None
        copy.write_text(json.dumps(document))
    elif hostile == "not a table":
        copy.write_text(json.dumps(document | {"data": [1, 2]}))
    elif hostile == "deep":
        copy.write_text("[" * 100_000 + "]" * 100_000)
    elif hostile == "link":
        (home / "elsewhere").write_bytes(good)
        copy.symlink_to(home / "elsewhere")
    elif hostile == "folder":
        copy.mkdir()
    elif hostile == "fifo":
        os.mkfifo(copy)  # opening it to read would wait for ever
    elif hostile == "huge":
        copy.write_bytes(good + b" " * (9 * len(path.read_bytes())))
    assert load(home) == expected
    if hostile not in ("folder", "fifo"):  # replaced by a good copy
        assert not copy.is_symlink()
        assert copy.read_bytes() == good
    if hostile == "link":
        assert (home / "elsewhere").read_bytes() == good, "a link is replaced, not written through"


@pytest.mark.parametrize(
    "planted",
    [{"date": {"\u0000toml": "date", "iso": "9999-12-31"}}, {"deep": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]},
     {"mode": "tea"}],
    ids=["a date past 9000", "nested 33 deep", "an unknown mode"],
)  # fmt: skip
def test_a_planted_copy_for_the_right_text_that_the_checks_refuse_gives_way_to_the_file(
    home: Path, planted: dict[str, object]
) -> None:
    """Whoever can write the folder can edit the year itself; a copy they plant gets the same checks, and
    what fails them is the copy, not the file: it is dropped and the file read (and copied again)."""
    path = write_year(home, 400)
    expected = load(home)
    copy = tomlcache.cache_path(path)
    good = copy.read_bytes()
    document = json.loads(good)
    document["data"]["meetings"][0].update(planted)
    copy.write_text(json.dumps(document))
    assert load(home) == expected
    assert copy.read_bytes() == good


def test_a_forgotten_meeting_does_not_live_on_in_a_copy(home: Path, cli: Invoke) -> None:
    assert cli("init", "--name", "Dana Ode", "--timezone", "UTC", "--day", "tue", "--time", "08:30",
               "--start", f"{YEAR}-01-07", "--peer", "Peer 00", "--peer", "Peer 01").exit_code == 0  # fmt: skip
    path = write_year(home, 400, note="ordinary")
    secret_meeting = Meeting(id=f"{YEAR}0301-9", date=dt.date(YEAR, 3, 1), peer="Peer 01", mode=Mode.CALL,
                             note="the merger nobody may know about")  # fmt: skip
    journal_year = load(home)
    path.write_text(year_text(journal_year._replace(meetings=(*journal_year.meetings, secret_meeting))))
    assert cli("history", "--since", f"{YEAR}-01-01").exit_code == 0  # a copy now holds the secret
    assert b"the merger" in tomlcache.cache_path(path).read_bytes()
    assert cli("forget", f"{YEAR}0301-9", "--yes").exit_code == 0
    assert not any(b"the merger" in p.read_bytes() for p in home.rglob("*") if p.is_file())
    assert cli("history", "--since", f"{YEAR}-01-01").exit_code == 0
    assert not any(b"the merger" in p.read_bytes() for p in home.rglob("*") if p.is_file())
    assert tomlcache.cache_path(path).exists()


def test_doctor_without_fix_writes_no_copy(home: Path, cli: Invoke) -> None:
    path = write_year(home, 400)
    (path.parent / f"{YEAR + 1}.toml").write_text(path.read_text().replace('id = "2025', 'id = "1999'))
    found = cli("doctor")
    assert "in 2025, but this file holds 2026" in found.output, "doctor read the big years"
    assert sorted(p.name for p in path.parent.iterdir()) == ["2025.toml", "2026.toml"]


def test_a_copy_that_cannot_be_written_only_costs_time(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from peerloop import atomic
    from peerloop.errors import StorageError

    def full_disk(path: Path, data: bytes) -> None:
        raise StorageError(f"could not write {path}: No space left on device")

    monkeypatch.setattr(atomic, "replace_atomically", full_disk)
    path = write_year(home, 400)
    assert len(load(home).meetings) == 400
    assert not tomlcache.cache_path(path).exists()


def test_a_big_roster_keeps_a_copy_too(home: Path, cli: Invoke) -> None:
    names = [f"--peer=Peer {n:03d} of a rather long name" for n in range(900)]
    assert (
        cli(
            "init", "--name", "Dana Ode", "--timezone", "UTC", "--day", "tue", "--time", "08:30", *names
        ).exit_code
        == 0
    )
    assert (home / "roster.toml").stat().st_size > tomlcache.MIN_BYTES
    assert cli("peers", "--json").exit_code == 0
    assert (home / ".roster.toml.cache").is_file()
    assert cli("remove", "Peer 000 of a rather long name", "--yes").exit_code == 0
    assert b"Peer 000" not in (home / ".roster.toml.cache").read_bytes(), (
        "a copy of the roster before the change"
    )
    assert len(Store(home).load_roster().peers) == 899


EVERY_TOML_VALUE = """\
schema_version = 1
text = "tab\\t, quote \\" and ünïcödé 🎉"
literal = 'C:\\path'
multi = \"\"\"
two
lines\"\"\"
whole = -9223372036854775808
real = -0.0
many = [1.5, inf, -inf, 6.02e23]
nan = nan
truth = [true, false]
day = 2026-03-17
clock = 08:30:15.123456
local = 2026-03-17T08:30:00
zulu = 2026-03-17T08:30:00Z
offset = 2026-03-17T08:30:00-05:30
nested = [[1, 2], ["a", [2026-01-01]]]
inline = { a = 1, b = { c = [08:00:00] } }
[[tables]]
x = 1
[[tables]]
y = {}
"""


def test_the_copy_gives_back_every_toml_value_as_tomllib_does(tmp_path: Path) -> None:
    padded = EVERY_TOML_VALUE + "".join(f"# padding line {n}\n" for n in range(3000))
    path = tmp_path / "2026.toml"
    fresh = tomlcache.load(padded, path, dict, unchanged=lambda: True)
    cached = tomlcache.load(padded, path, dict, unchanged=lambda: True)
    assert tomlcache.cache_path(path).exists()
    assert math.isnan(cached.pop("nan"))
    assert math.isnan(fresh.pop("nan"))
    assert cached == fresh == {key: value for key, value in tomllib.loads(padded).items() if key != "nan"}
    assert math.copysign(1, cached["real"]) == -1
    assert cached["zulu"].utcoffset() == dt.timedelta(0)
    assert [type(v) for v in cached.values()] == [type(v) for v in fresh.values()]


def test_a_file_with_an_escaped_nul_is_never_cached(tmp_path: Path) -> None:
    text = 'schema_version = 1\n"\\u0000toml" = "date"\niso = "2026-01-01"\n' + "# pad\n" * 8000
    path = tmp_path / "2026.toml"
    assert tomlcache.load(text, path, dict, unchanged=lambda: True) == tomllib.loads(text)
    assert not tomlcache.cache_path(path).exists()


def test_writing_a_file_removes_its_copy_in_the_same_step(home: Path) -> None:
    """Not left for the next read to replace: a command may never read that year again."""
    path = write_year(home, 400, note="the merger")
    store = Store(home)
    journal_year = store.load_year(YEAR)
    assert b"the merger #0" in tomlcache.cache_path(path).read_bytes()
    store.save_year(
        journal_year._replace(meetings=tuple(m for m in journal_year.meetings if m.note != "the merger #0"))
    )
    assert not tomlcache.cache_path(path).exists()


def test_a_copy_left_half_written_by_a_kill_is_reported_and_removed_by_doctor(
    home: Path, cli: Invoke
) -> None:
    path = write_year(home, 400)
    leftover = path.parent / f".{tomlcache.cache_path(path).name}.4242-1-0.tmp"
    leftover.write_bytes(b'{"format": "peerloop toml cache 1", "dig')
    assert f"{leftover} is left over from an interrupted write" in cli("doctor").output
    assert f"deleted {leftover}" in cli("doctor", "--fix").output
    assert not leftover.exists()


def test_writing_a_new_copy_drops_half_written_ones(home: Path) -> None:
    path = write_year(home, 400)
    leftover = path.parent / f".{tomlcache.cache_path(path).name}.4242-1-0.tmp"
    leftover.write_bytes(b'{"format": "peerloop toml cache 2", "dig')
    assert len(load(home).meetings) == 400
    assert tomlcache.cache_path(path).is_file()
    assert not leftover.exists()


def test_a_copy_made_while_another_process_removes_an_entry_does_not_outlive_the_change(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader read the year before the change and writes its copy after the change removed the old one:
    it sees the file changed and removes the copy it wrote."""
    path = write_year(home, 400, note="the merger")
    write_copy, changed = tomlcache._write, []

    def change_then_write(cache: Path, digest: str, data: dict[str, object]) -> None:
        if not changed:
            changed.append(True)
            writer = Store(home)
            journal_year = writer.load_year(YEAR)  # (the writer's own copy: it reads before it changes)
            writer.save_year(journal_year._replace(meetings=journal_year.meetings[1:]))
            assert not tomlcache.cache_path(path).exists(), "the change removed its own copy"
        write_copy(cache, digest, data)

    monkeypatch.setattr(tomlcache, "_write", change_then_write)
    reader = Store(home)
    assert len(reader.load_year(YEAR).meetings) == 400  # what it read is what it shows
    assert not tomlcache.cache_path(path).exists()


@pytest.mark.slow
def test_readers_killed_or_racing_a_forget_leave_the_copy_true_and_no_trace_of_the_entry(
    home: Path, cli: Invoke
) -> None:
    """Whole processes: `history` killed at random instants (some while writing the copy), then readers
    running while `forget` removes an entry. Afterwards every copy is the file's, and the entry is nowhere."""
    import random
    import signal
    import subprocess
    import time

    from tests.hardening import python_peerloop, subprocess_env

    assert cli("init", "--name", "Dana Ode", "--timezone", "UTC", "--day", "tue", "--time", "08:30",
               "--start", f"{YEAR}-01-07", "--peer", "Peer 00", "--peer", "Peer 01").exit_code == 0  # fmt: skip
    path = write_year(home, 500, note="ordinary")
    journal_year = load(home)
    secret = Meeting(id=f"{YEAR}0301-9", date=dt.date(YEAR, 3, 1), peer="Peer 01", mode=Mode.CALL,
                     note="the merger nobody may know about")  # fmt: skip
    path.write_text(year_text(journal_year._replace(meetings=(*journal_year.meetings, secret))))
    tomlcache.forget(path)
    env = subprocess_env(home, {"PEERLOOP_NOW": f"{YEAR}-06-01T09:00"})
    history = python_peerloop("history", "--json")
    expected = subprocess.run(history, env=env, capture_output=True, text=True, check=True).stdout
    rng = random.Random(random.randrange(2**32))
    for _ in range(24):
        tomlcache.forget(path)
        reader = subprocess.Popen(history, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, 0.6))
        reader.send_signal(signal.SIGKILL)
        reader.wait()
        assert subprocess.run(history, env=env, capture_output=True, text=True, check=True).stdout == expected
        assert Store(home).load_year(YEAR) == tomlcache_free_load(path)
    readers = [subprocess.Popen(history, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for _ in range(4)]  # fmt: skip
    tomlcache.forget(path)
    assert subprocess.run(python_peerloop("forget", secret.id, "--yes"), env=env, check=False).returncode == 0
    for reader in readers:
        reader.wait(timeout=60)
    subprocess.run(history, env=env, capture_output=True, check=True)
    assert not [p for p in home.rglob("*") if p.is_file() and b"the merger" in p.read_bytes()]


def tomlcache_free_load(path: Path) -> JournalYear:
    """The year as the file says, parsed afresh."""
    from peerloop.journalschema import journal_year_from_toml

    text = path.read_text(encoding="utf-8")
    return journal_year_from_toml(tomllib.loads(text), text, YEAR, path)


def test_a_year_written_in_emoji_and_kanji_is_read_from_its_copy_too(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_year(home, 300, note="🎉漢字🎉" * 40)
    first = load(home)

    def no_parser(text: str, path: Path) -> object:
        raise AssertionError("the copy was refused, so the file was parsed again")

    monkeypatch.setattr(tomlcache, "parse_toml", no_parser)
    assert load(home) == first
    assert tomlcache.cache_path(path).stat().st_size < 2 * path.stat().st_size


def test_backslashes_and_control_characters_in_notes_do_not_keep_a_year_from_its_copy(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copy refuses \\u escapes of anything but control characters (a lone surrogate would be one); a
    note that spells out `\\ud800`, or holds a tab or a bell, is not such an escape."""
    write_year(home, 300, note="C:\\users\\ud800 and \\\\u00ff, a tab\there and a bell\a")
    first = load(home)
    assert "C:\\users\\ud800" in first.meetings[0].note

    def no_parser(text: str, path: Path) -> object:
        raise AssertionError("the copy was refused, so the file was parsed again")

    monkeypatch.setattr(tomlcache, "parse_toml", no_parser)
    assert load(home) == first


@pytest.mark.parametrize(
    ("raw", "foreign"),
    [(rb'"\u0001"', False), (rb'"\u001f"', False), (rb'"\ud800"', True), (rb'"\\ud800"', False),
     (rb'"\\\ud800"', True), (rb'"\\\\ud800"', False), (rb'"\u00ff"', True), (rb'"\u0000toml"', False),
     (rb'\ud800', True)],
)  # fmt: skip
def test_only_an_escape_peerloop_never_writes_is_foreign(raw: bytes, foreign: bool) -> None:
    assert tomlcache._foreign_escape(raw) is foreign
