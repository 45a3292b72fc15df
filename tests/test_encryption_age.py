"""The encrypted journal against the real `age` binary, both ways, and `encrypt` / `decrypt` killed at every
step of their one transaction (docs/storage.md, Encryption). Slow: real processes, pseudo-terminals for
`age -p`, and a kill per step."""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from peerloop.store.records import Store
from tests.lived_in import NOW, populate, python_peerloop, subprocess_env
from tests.servers import radicale

SECRET = "Zq7-unique-secret-xk"
PASSPHRASE = "correct horse battery staple"
pytestmark = pytest.mark.slow


def _run(home: Path, *argv: str, fault: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    extra = {"PEERLOOP_NOW": NOW, "PEERLOOP_PASSPHRASE": PASSPHRASE, **env}
    if fault:
        extra["_PEERLOOP_FAULT"] = fault
    return subprocess.run(python_peerloop(*argv), env=subprocess_env(home, extra), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip


def _age_on_a_terminal(argv: list[str], *answers: str) -> int:
    """`age` reads a passphrase only from its terminal: run it on a pseudo-terminal and answer each prompt."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: age, on the terminal
        os.execvp(argv[0], argv)
    pending, said = list(answers), b""
    while True:
        ready, _, _ = select.select([fd], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        said += chunk
        if pending and b"passphrase" in said.rsplit(b"\n", 1)[-1].lower():
            os.write(fd, pending.pop(0).encode() + b"\n")
            said = b""
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _unlocked(home: Path) -> Store:
    store = Store(home)
    store.folder.seal.passphrase = lambda _: PASSPHRASE
    return store


def _every_byte(home: Path) -> bytes:
    return b"\n".join(path.read_bytes() for path in sorted(home.rglob("*")) if path.is_file())


@pytest.fixture(scope="module")
def clear(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lived-in clear folder with two journal years, the secret in every private field."""
    home = tmp_path_factory.mktemp("clear") / "home"
    populate(home, SECRET)
    for argv in (["log", "Ann Lee", "--date", "2025-12-30", "--note", SECRET],
                 ["review", "--early", "--added-value", "yes", "--works", SECRET, "--improve", SECRET,
                  "--decision", "continue"]):  # fmt: skip
        done = _run(home, *argv)
        assert done.returncode == 0, done.stderr
    return home


@pytest.fixture(scope="module")
def sealed_home(clear: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = Path(shutil.copytree(clear, tmp_path_factory.mktemp("sealed") / "home"))
    done = _run(home, "encrypt")
    assert done.returncode == 0, done.stderr
    return home


def _history(home: Path) -> object:
    shown = _run(home, "history", "--all", "--json")
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)


def test_the_age_binary_opens_key_age_with_the_passphrase_and_every_file_with_it(
    sealed_home: Path, tmp_path: Path
) -> None:
    identity = tmp_path / "key.txt"
    assert (
        _age_on_a_terminal(["age", "-d", "-o", str(identity), str(sealed_home / "key.age")], PASSPHRASE) == 0
    )
    files = sorted(sealed_home.rglob("*.toml.age"))
    assert [str(p.relative_to(sealed_home)) for p in files] == [
        "journal/2025.toml.age", "journal/2026.toml.age", "roster.toml.age"]  # fmt: skip
    folder = _unlocked(sealed_home).folder
    for path in files:
        opened = subprocess.run(
            ["age", "-d", "-i", str(identity), str(path)], capture_output=True, check=True
        )
        assert opened.stdout.decode() == folder.read(path)
    assert SECRET.encode() in subprocess.run(["age", "-d", "-i", str(identity), str(files[1])],
                                             capture_output=True, check=True).stdout  # fmt: skip
    wrong = _age_on_a_terminal(
        ["age", "-d", "-o", str(tmp_path / "no.txt"), str(sealed_home / "key.age")], "no"
    )
    assert wrong != 0


def test_peerloop_reads_files_age_wrote_to_the_recipient_and_with_the_passphrase(
    sealed_home: Path, tmp_path: Path
) -> None:
    home = Path(shutil.copytree(sealed_home, tmp_path / "home"))
    recipient = Store(home).folder.seal.encryption().recipient
    year = home / "journal" / "2026.toml.age"
    plain = _unlocked(home).folder.read(year)
    assert plain is not None
    edited = plain.replace(SECRET, "edited with age -r", 1)
    subprocess.run(["age", "-r", recipient, "-o", str(year)], input=edited.encode(), check=True)
    assert "edited with age -r" in json.dumps(_history(home))
    source = tmp_path / "plain.toml"
    source.write_text(plain.replace(SECRET, "edited with age -p", 1))
    year.unlink()
    assert _age_on_a_terminal(["age", "-p", "-o", str(year), str(source)], PASSPHRASE, PASSPHRASE) == 0
    assert b"-> scrypt " in year.read_bytes()
    assert "edited with age -p" in json.dumps(_history(home))
    logged = _run(home, "log", "Bo Chen", "--date", "2026-04-14", "--note", "after age -p")
    assert logged.returncode == 0, logged.stderr
    assert b"-> X25519 " in year.read_bytes()  # written back to the folder's key
    assert "after age -p" in json.dumps(_history(home))


def test_files_encrypted_to_an_identity_file_open_with_age(clear: Path, tmp_path: Path) -> None:
    home = Path(shutil.copytree(clear, tmp_path / "home"))
    identity = tmp_path / "me.txt"
    subprocess.run(["age-keygen", "-o", str(identity)], check=True, capture_output=True)
    done = _run(home, "encrypt", "--identity", str(identity), PEERLOOP_PASSPHRASE="")
    assert done.returncode == 0, done.stderr
    for path in home.rglob("*.toml.age"):
        opened = subprocess.run(
            ["age", "-d", "-i", str(identity), str(path)], capture_output=True, check=True
        )
        assert b"schema_version" in opened.stdout
    assert SECRET.encode() not in _every_byte(home)


ENCRYPT_STEPS = ["begin", *(f"temp#{n}" for n in range(1, 6)), "record", *(f"rename#{n}" for n in range(1, 6)),
                 *(f"delete#{n}" for n in range(1, 4)), "done"]  # fmt: skip
DECRYPT_STEPS = ["begin", *(f"temp#{n}" for n in range(1, 5)), "record", *(f"rename#{n}" for n in range(1, 5)),
                 *(f"delete#{n}" for n in range(1, 6)), "done"]  # fmt: skip
"""Decrypt writes the roster, two years and earlier-keys.age (the keys, for what another device sealed)."""
REKEY_STEPS = [
    "begin",
    *(f"temp#{n}" for n in range(1, 7)),
    "record",
    *(f"rename#{n}" for n in range(1, 7)),
    "done",
]
"""A new passphrase rewrites the roster, two years, encryption.toml, key.age and earlier-keys.age."""


def _form(home: Path) -> str:
    """ "sealed" or "clear": every file with notes in the one form, nothing of the other left."""
    names = {str(p.relative_to(home)) for p in home.rglob("*") if p.is_file() and not p.name.startswith(".")}
    sealed = {
        "roster.toml.age",
        "journal/2025.toml.age",
        "journal/2026.toml.age",
        "encryption.toml",
        "key.age",
    }
    plain = {"roster.toml", "journal/2025.toml", "journal/2026.toml"}
    if sealed <= names and not plain & names:
        return "sealed"
    assert plain <= names, names
    assert not (sealed & names), f"half encrypted: {sorted(names)}"
    return "clear"


@pytest.mark.parametrize(("command", "steps"), [("encrypt", ENCRYPT_STEPS), ("decrypt", DECRYPT_STEPS)])
def test_a_kill_at_each_step_of_encrypt_and_decrypt_leaves_one_form_or_the_other(
    command: str, steps: list[str], clear: Path, sealed_home: Path, tmp_path: Path
) -> None:
    start, before = (clear, "clear") if command == "encrypt" else (sealed_home, "sealed")
    expected = _history(start)
    after = "sealed" if before == "clear" else "clear"
    for step in steps:
        home = Path(shutil.copytree(start, tmp_path / step.replace("#", "-") / "home"))
        killed = _run(home, command, fault=f"{step}:KILL")
        assert killed.returncode == -signal.SIGKILL, (step, killed.stderr)
        for temp in home.rglob(".*.tmp"):
            assert command == "decrypt" or SECRET.encode() not in temp.read_bytes(), (step, temp)
        assert _history(home) == expected, step  # the next command finishes (or ignores) the change
        assert not (home / ".commit").exists()
        landed = step not in ("begin",) and not step.startswith("temp")
        assert _form(home) == (after if landed else before), step
        if _form(home) == "sealed":
            assert SECRET.encode() not in b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file()
                                                   and not p.name.endswith(".tmp"))  # fmt: skip


def test_a_kill_at_each_step_of_a_new_passphrase_leaves_the_old_key_or_the_new_one_whole(
    sealed_home: Path, tmp_path: Path
) -> None:
    expected = _history(sealed_home)
    for step in REKEY_STEPS:
        home = Path(shutil.copytree(sealed_home, tmp_path / step.replace("#", "-") / "home"))
        killed = _run(home, "encrypt", fault=f"{step}:KILL", PEERLOOP_NEW_PASSPHRASE="a new passphrase")
        assert killed.returncode == -signal.SIGKILL, (step, killed.stderr)
        landed = step not in ("begin",) and not step.startswith("temp")
        old, new = _run(home, "next"), _run(home, "next", PEERLOOP_PASSPHRASE="a new passphrase")
        assert (old.returncode, new.returncode) == ((8, 0) if landed else (0, 8)), (
            step,
            old.stderr,
            new.stderr,
        )
        kept = json.loads(_run(home, "history", "--all", "--json", PEERLOOP_PASSPHRASE="a new passphrase"
                               if landed else PASSPHRASE).stdout)  # fmt: skip
        assert kept == expected, step
        assert (home / "earlier-keys.age").exists() == landed, step
        assert SECRET.encode() not in _every_byte(home), step


def test_a_kill_while_finishing_a_left_encrypt_is_finished_by_the_next_command(
    clear: Path, tmp_path: Path
) -> None:
    home = Path(shutil.copytree(clear, tmp_path / "home"))
    expected = _history(clear)
    assert _run(home, "encrypt", fault="record:KILL").returncode == -signal.SIGKILL
    assert _run(home, "status", fault="roll#6:KILL").returncode == -signal.SIGKILL  # after the first removal
    assert _history(home) == expected
    assert _form(home) == "sealed"


def test_no_temp_file_of_a_change_in_an_encrypted_folder_holds_clear_text(
    sealed_home: Path, tmp_path: Path
) -> None:
    home = Path(shutil.copytree(sealed_home, tmp_path / "home"))
    killed = _run(home, "log", "Cy Dee", "--date", "2026-04-14", "--note", "Kx9-written-then-killed",
                  "--follow-up", "Kx9-written-then-killed", fault="record:KILL")  # fmt: skip
    assert killed.returncode == -signal.SIGKILL
    temps = list(home.rglob(".*.tmp"))
    assert temps, "the kill left the staged files in place"
    assert b"Kx9-written-then-killed" not in _every_byte(home)
    assert "Kx9-written-then-killed" in json.dumps(_history(home))  # rolled forward, readable


def test_sync_works_on_an_encrypted_folder(sealed_home: Path, tmp_path: Path) -> None:
    home = Path(shutil.copytree(sealed_home, tmp_path / "home"))
    with radicale(tmp_path / "radicale") as server:
        url = server.make_calendar()
        connected = _run(home, "connect", "caldav", url, "--user", server.user, "--password-env", "CAL_PASSWORD",
                         CAL_PASSWORD=server.password)  # fmt: skip
        assert connected.returncode == 0, connected.stderr
        synced = _run(home, "sync", "--json", CAL_PASSWORD=server.password)
        assert synced.returncode == 0, synced.stderr
        assert json.loads(synced.stdout)["created"] > 0
        stored = [path.read_bytes() for path in (tmp_path / "radicale" / "storage").rglob("*.ics")]
        assert stored
        assert all(SECRET.encode() not in event for event in stored)
    assert SECRET.encode() not in _every_byte(home)


def test_peerloop_reads_an_armored_file_age_wrote_with_the_passphrase(
    sealed_home: Path, tmp_path: Path
) -> None:
    home = Path(shutil.copytree(sealed_home, tmp_path / "home"))
    year = home / "journal" / "2026.toml.age"
    plain = _unlocked(home).folder.read(year)
    assert plain is not None
    source = tmp_path / "plain.toml"
    source.write_text(plain.replace(SECRET, "edited with age -a -p", 1))
    year.unlink()
    assert _age_on_a_terminal(["age", "-a", "-p", "-o", str(year), str(source)], PASSPHRASE, PASSPHRASE) == 0
    assert year.read_bytes().startswith(b"-----BEGIN AGE ENCRYPTED FILE-----")
    assert "edited with age -a -p" in json.dumps(_history(home))
