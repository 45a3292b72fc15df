"""The journal encrypted at rest (docs/storage.md, Encryption; docs/guide.md): every byte under an encrypted
folder is free of what the notes say, the key never is in the folder, a missing or wrong passphrase is exit 8
with nothing written, and every command keeps working on it. The `age` binary's round trips and the kills
at each step of `encrypt` and `decrypt` are in tests/test_encryption_age.py (slow lane)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from peerloop import prompts, shell_prompt
from peerloop.cli import app_for
from peerloop.errors import Exit
from peerloop.store import sealed, written
from peerloop.store.records import Store
from tests.conftest import Invoke
from tests.lived_in import NOW, populate, snapshot

SECRET = "Zq7-unique-secret-xk"
PASSPHRASE = "correct horse battery staple"


def refused(result: Result, said: str) -> None:
    """Exit 8, nothing on stdout, one error line saying `said`, no traceback."""
    assert result.exit_code == Exit.REFUSED_LOGIN, result.output
    assert result.stdout == "", result.output
    assert result.stderr.startswith("peerloop: error: "), result.stderr
    assert said in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr


def every_byte(home: Path) -> bytes:
    """Every file under the folder, scratch files too, as one blob."""
    return b"\n".join(path.read_bytes() for path in sorted(home.rglob("*")) if path.is_file())


def lived_in(home: Path) -> None:
    """populate()'s folder, with a review whose answers hold the secret too."""
    populate(home, SECRET)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lived-in folder with the secret in every private field (a review too), encrypted with PASSPHRASE
    once per module: writing key.age costs age's default scrypt, about a second."""
    home = tmp_path_factory.mktemp("encrypted") / "home"
    lived_in(home)
    runner = CliRunner()
    env = {"PEERLOOP_HOME": str(home), "PEERLOOP_NOW": NOW, "PEERLOOP_PASSPHRASE": PASSPHRASE}
    asking, prompts.interactive = prompts.interactive, lambda: False
    try:
        for argv in (["review", "--early", "--added-value", "partly", "--works", SECRET, "--improve", SECRET,
                      "--decision", "continue"], ["encrypt"]):  # fmt: skip
            if argv == ["encrypt"]:
                shutil.copytree(home, home.parent / "clear")
            result = runner.invoke(app_for(argv), argv, env=env)
            assert result.exit_code == 0, result.output
    finally:
        prompts.interactive = asking
    return home


@pytest.fixture
def encrypted(template: Path, home: Path, monkeypatch: pytest.MonkeyPatch, at: Callable[[str], None]) -> Path:
    """A copy of the template, the clock at NOW and PASSPHRASE in the environment."""
    shutil.copytree(template, home)
    at(NOW)
    monkeypatch.setenv("PEERLOOP_PASSPHRASE", PASSPHRASE)
    return home


def test_every_note_reflection_follow_up_skip_reason_and_review_is_absent_from_every_byte(
    encrypted: Path, cli: Invoke
) -> None:
    assert SECRET.encode() not in every_byte(encrypted)
    assert sorted(p.name for p in encrypted.rglob("*.toml")) == ["calendar.toml", "encryption.toml"]
    assert (encrypted / "roster.toml.age").is_file()
    assert (encrypted / "journal" / "2026.toml.age").is_file()
    shown = cli("history", "--all")
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.count(SECRET) >= 8, shown.output
    assert SECRET in cli("peers", "--json").stdout


def test_the_passphrase_never_is_in_the_folder(encrypted: Path) -> None:
    assert PASSPHRASE.encode() not in every_byte(encrypted)
    key = Store(encrypted).folder.seal.key()
    assert str(key.identity).encode() not in every_byte(encrypted)


def said(folder: Path) -> dict[str, str]:
    """What each file says, without the `[written]` table that names the change that wrote it last."""
    return {name: written.without(raw.decode("utf-8", "replace")) for name, raw in snapshot(folder).items()}


def test_decrypt_gives_back_the_same_plain_files(encrypted: Path, template: Path, cli: Invoke) -> None:
    result = cli("decrypt")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Decrypted: roster.toml, journal/2026.toml\n"
    kept = said(encrypted)
    assert kept.pop("earlier-keys.age")  # the keys, for what another device sealed meanwhile
    assert kept == said(template.parent / "clear")
    assert "[written]" in (encrypted / "roster.toml").read_text(encoding="utf-8")
    again = cli("decrypt")
    assert again.exit_code == Exit.CONFLICT
    assert "not encrypted" in again.stderr


def test_without_a_passphrase_off_a_terminal_it_is_exit_8_in_one_line(
    encrypted: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PEERLOOP_PASSPHRASE")
    for argv in (["next"], ["history"], ["log", "Bo Chen", "--note", "x"], ["decrypt"], ["doctor"]):
        refused(cli(*argv), "the journal is encrypted and no passphrase was given: set PEERLOOP_PASSPHRASE")


def test_a_wrong_passphrase_is_exit_8_and_nothing_is_written(
    encrypted: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(encrypted)
    monkeypatch.setenv("PEERLOOP_PASSPHRASE", "not it")
    for argv in (["log", "Bo Chen", "--note", "x"], ["encrypt"], ["decrypt"], ["add", "Eve Fox"], ["next"]):
        refused(cli(*argv), f"wrong passphrase for the encrypted journal in {encrypted}")
    assert snapshot(encrypted) == before


def test_a_new_passphrase_re_encrypts_every_file_and_the_old_one_no_longer_opens_them(
    encrypted: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_key = Store(encrypted).folder.seal.key()
    monkeypatch.setenv("PEERLOOP_NEW_PASSPHRASE", "a new one")
    result = cli("encrypt")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Encrypted anew: roster.toml.age, journal/2026.toml.age")
    assert cli("next").exit_code == Exit.REFUSED_LOGIN  # PEERLOOP_PASSPHRASE still holds the old one
    raw = (encrypted / "journal" / "2026.toml.age").read_bytes()
    with pytest.raises(Exception, match="cannot be decrypted with this folder's key"):
        old_key.open(raw, Path("2026.toml.age"))
    monkeypatch.setenv("PEERLOOP_PASSPHRASE", "a new one")
    assert SECRET in cli("history", "--all").stdout
    assert SECRET.encode() not in every_byte(encrypted)


def test_the_passphrase_comes_from_a_command_or_a_named_variable(
    encrypted: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret_file = tmp_path / "pass.txt"
    secret_file.write_text("from a command\nsecond line ignored\n")
    result = cli("encrypt", "--passphrase-command", f"cat {secret_file}")  # the current one from the env
    assert result.exit_code == 0, result.output
    assert 'passphrase_command = "cat ' in (encrypted / "encryption.toml").read_text()
    monkeypatch.delenv("PEERLOOP_PASSPHRASE")
    assert SECRET in cli("history", "--all").stdout
    secret_file.write_text("changed meanwhile\n")
    refused(cli("next"), "wrong passphrase")
    monkeypatch.setenv("PEERLOOP_PASSPHRASE", "from a command")  # always accepted, before the command
    assert cli("next").exit_code == 0
    monkeypatch.setenv("JOURNAL_KEY", "from a variable")
    monkeypatch.setenv("PEERLOOP_NEW_PASSPHRASE", "unused: the flag names the source")
    assert cli("encrypt", "--passphrase-env", "JOURNAL_KEY").exit_code == 0
    monkeypatch.delenv("PEERLOOP_PASSPHRASE")
    assert SECRET in cli("history", "--all").stdout
    assert shell_prompt.current_line(str(encrypted)) not in ("", "locked")  # the named variable is enough
    monkeypatch.delenv("JOURNAL_KEY")
    assert shell_prompt.current_line(str(encrypted)) == "locked"


def test_on_a_terminal_it_asks_for_the_passphrase(
    encrypted: Path, cli: Invoke, terminal: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PEERLOOP_PASSPHRASE")
    before = snapshot(encrypted)
    differ = cli("encrypt", input=f"{PASSPHRASE}\none\ntwo\n")  # the current one, then the new one twice
    assert differ.exit_code == Exit.USAGE
    assert "the two passphrases differ" in differ.stderr
    assert differ.stderr.count("New passphrase for your peerloop journal: ") == 1
    assert snapshot(encrypted) == before
    asked = cli("history", "--all", input=f"{PASSPHRASE}\n")
    assert asked.exit_code == 0
    assert SECRET in asked.stdout
    assert asked.stderr.count("Passphrase of your peerloop journal: ") == 1
    assert cli("next", input="nope\n").exit_code == Exit.REFUSED_LOGIN


def test_what_runs_after_a_command_never_asks_for_the_passphrase(
    encrypted: Path, cli: Invoke, terminal: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`where` needs no key; the review reminder after it must not ask for one (it stays silent)."""
    monkeypatch.delenv("PEERLOOP_PASSPHRASE")
    monkeypatch.setenv("PEERLOOP_NOW", "2026-09-15T09:00")  # the review is due
    result = cli("where")
    assert result.exit_code == 0, result.output
    assert "Passphrase" not in result.stderr
    assert "review" not in result.stderr
    assert "roster.toml.age" in result.stdout
    assert "key.age" in result.stdout


def test_the_status_line_says_locked_without_the_passphrase_and_keeps_no_cache(
    encrypted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PEERLOOP_NOW")
    monkeypatch.delenv("PEERLOOP_PASSPHRASE")
    assert shell_prompt.current_line(str(encrypted)) == "locked"
    monkeypatch.setenv("PEERLOOP_PASSPHRASE", PASSPHRASE)
    assert shell_prompt.current_line(str(encrypted)) not in ("", "locked")
    assert not (encrypted / shell_prompt.CACHE_FILE).exists()


def test_init_encrypt_encrypts_the_folder_in_the_same_change_and_drops_the_status_line_cache(
    cli: Invoke, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    leader = ["--name", "Dana Ode", "--timezone", "Europe/Berlin", "--day", "tue", "--time", "08:30", "--start",
              "2026-03-02", "--peer", "Ann Lee"]  # fmt: skip
    assert cli("init", *leader).exit_code == 0
    assert shell_prompt.current_line(str(home)) != ""
    assert (home / shell_prompt.CACHE_FILE).exists()  # it names a peer
    monkeypatch.setenv("PEERLOOP_PASSPHRASE", PASSPHRASE)
    result = cli("init", "--encrypt", "--peer", "Bo Chen")
    assert result.exit_code == 0, result.output
    assert f"Updated your settings in {home / 'roster.toml.age'}" in result.stdout
    assert not (home / "roster.toml").exists()
    assert not (home / shell_prompt.CACHE_FILE).exists()
    assert cli("edit", "Ann Lee", "--note", SECRET).exit_code == 0
    assert cli("log", "Ann Lee", "--date", "2026-03-03", "--note", SECRET).exit_code == 0
    assert sorted(str(p.relative_to(home)) for p in home.rglob("*") if p.is_file() and p.name[0] != ".") == [
        "encryption.toml", "journal/2026.toml.age", "key.age", "roster.toml.age"]  # fmt: skip
    assert SECRET.encode() not in every_byte(home)
    fresh = home.parent / "fresh"
    assert cli("--home", str(fresh), "init", "--encrypt", "--name", "Dana Ode", "--timezone", "UTC", "--day",
               "mon", "--time", "09:00", "--start", "2026-03-02").exit_code == 0  # fmt: skip
    assert sorted(p.name for p in fresh.iterdir() if p.name[0] != ".") == [
        "encryption.toml", "key.age", "roster.toml.age"]  # fmt: skip
    again = cli("init", "--encrypt", "--passphrase-env", "X")
    assert again.exit_code == Exit.USAGE
    assert "already encrypted" in again.stderr


def test_an_identity_file_instead_of_a_passphrase(
    cli: Invoke, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lived_in(home)
    identity = tmp_path / "peerloop-key.txt"
    subprocess.run(["age-keygen", "-o", str(identity)], check=True, capture_output=True)
    inside = cli("encrypt", "--identity", str(home / "key.txt"))
    assert inside.exit_code == Exit.USAGE
    assert "must not live in the data folder" in inside.stderr
    result = cli("encrypt", "--identity", str(identity))
    assert result.exit_code == 0, result.output
    assert not (home / "key.age").exists()
    assert SECRET in cli("history", "--all").stdout  # no passphrase asked, none in the environment
    assert SECRET.encode() not in every_byte(home)
    identity.write_text(subprocess.run(["age-keygen"], capture_output=True, text=True, check=True).stdout)
    refused(cli("next"), "is not the one the journal")


def test_doctor_opens_every_file_and_finds_clear_copies(encrypted: Path, cli: Invoke) -> None:
    assert cli("doctor").exit_code == 0
    plain = Store(encrypted).folder.read(encrypted / "journal" / "2026.toml.age")
    assert plain is not None
    (encrypted / "journal" / "2026.toml").write_text(plain)
    (encrypted / "roster.toml").write_text("# edited after `age -d`\n")
    report = json.loads(cli("doctor", "--json").stdout)
    problems = [f["what"] for f in report["findings"]]
    assert any("2026.toml is a clear copy of an encrypted file" in p and "the same" in p for p in problems)
    assert any("roster.toml is a clear copy" in p and "the same" not in p for p in problems)
    fixed = cli("doctor", "--fix")
    assert "a clear copy of its encrypted file" in fixed.stdout
    assert not (encrypted / "journal" / "2026.toml").exists()
    assert "merged roster.toml (a clear copy) into roster.toml.age" in fixed.stdout
    assert not (encrypted / "roster.toml").exists()
    damaged = (encrypted / "journal" / "2026.toml.age").read_bytes()
    (encrypted / "journal" / "2026.toml.age").write_bytes(damaged[:-20])
    (encrypted / "key.age").write_bytes(sealed.key_file(sealed.derive(PASSPHRASE, b"another salt")))
    report = json.loads(cli("doctor", "--json").stdout)
    problems = [f["what"] for f in report["findings"]]
    assert any("2026.toml.age cannot be decrypted with this folder's key" in p for p in problems), problems
    assert any("key.age does not hold this folder's key" in p for p in problems), problems


def test_export_invite_and_review_work_on_an_encrypted_folder(
    encrypted: Path, cli: Invoke, tmp_path: Path
) -> None:
    for argv in (["export", "-o", str(tmp_path / "plan.ics")], ["invite", "Ann Lee", "-o", str(tmp_path / "a.ics")],
                 ["review", "--early", "--added-value", "yes", "--works", SECRET, "--decision", "continue",
                  "--report", str(tmp_path / "review.md")], ["status"], ["plan"], ["peers"]):  # fmt: skip
        result = cli(*argv)
        assert result.exit_code == 0, (argv, result.output)
    assert SECRET in (tmp_path / "review.md").read_text()  # the report the leader asked for, outside
    assert SECRET.encode() not in every_byte(encrypted)
    assert b"BEGIN:VEVENT" in (tmp_path / "plan.ics").read_bytes()


def test_the_derived_identity_is_one_the_age_tools_accept() -> None:
    key = sealed.derive(PASSPHRASE, b"0123456789abcdef")
    assert key.recipient == sealed.derive(PASSPHRASE, b"0123456789abcdef").recipient
    public = subprocess.run(["age-keygen", "-y"], input=f"{key.identity}\n", capture_output=True, text=True,
                            check=True).stdout.strip()  # fmt: skip
    assert public == key.recipient
    assert sealed.derive("another", b"0123456789abcdef").recipient != key.recipient


def test_completing_a_name_never_asks_it_uses_the_environment_or_offers_nothing(
    encrypted: Path, terminal: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from types import SimpleNamespace

    from peerloop.options import complete_peer_name

    root = SimpleNamespace(params={"home": None})
    context: Any = SimpleNamespace(params={}, find_root=lambda: root)
    assert complete_peer_name(context, "An") == ["Ann Lee"]
    monkeypatch.delenv("PEERLOOP_PASSPHRASE")
    assert complete_peer_name(context, "An") == []


def test_a_hostile_encryption_toml_is_one_line_never_a_hang(
    encrypted: Path, cli: Invoke, tmp_path: Path
) -> None:
    path = encrypted / "encryption.toml"
    good = path.read_text()
    path.write_text(good.replace("work_factor = 14", "work_factor = 40"))
    damaged = cli("next")
    assert damaged.exit_code == Exit.DATA
    assert "work_factor' must be between 10 and 18" in damaged.stderr
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    recipient = good.split('recipient = "')[1].split('"')[0]
    path.write_text(f'schema_version = 1\nrecipient = "{recipient}"\nidentity_file = "{fifo}"\n')
    refused(cli("next"), "is not a regular file")


def test_the_prompt_line_knows_the_folders_names_without_importing_them() -> None:
    from peerloop.store import layout

    assert shell_prompt.ENCRYPTION_FILE == layout.ENCRYPTION_FILE
    assert shell_prompt.PASSPHRASE_ENV == sealed.PASSPHRASE_ENV


@pytest.mark.parametrize("command", ["encrypt", "decrypt"])
def test_a_change_after_encrypt_or_decrypt_at_the_same_instant_never_looks_half_synced(
    cli: Invoke, home: Path, at: Callable[[str], None], monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """Every file a change writes is stamped with one moment, read in the leader's zone even while the change
    moves the roster to its other form (the machine's zone here is UTC, the leader's Berlin)."""
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("PEERLOOP_PASSPHRASE", PASSPHRASE)
    at("2027-01-12T15:00")
    leader = ["--name", "Dana Ode", "--timezone", "Europe/Berlin", "--day", "tue", "--time", "08:30", "--start",
              "2027-01-04", "--peer", "Ann Lee", "--peer", "Bo Chen"] + (["--encrypt"] if command == "decrypt" else [])  # fmt: skip
    assert cli("init", *leader).exit_code == 0
    assert cli("log", "Ann Lee", "--date", "2027-01-05").exit_code == 0
    assert cli(command).exit_code == 0
    logged = cli("log", "--win", "a win")
    assert logged.exit_code == 0, logged.output
    shown = cli("next")
    assert (shown.exit_code, shown.stderr) == (0, "")
    assert cli("edit", "Bo Chen", "--note", "still writable").exit_code == 0


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["encrypt", "--passphrase-env", "KEY", "--keyring"],
         "--passphrase-env and --keyring do not go together: give one source of the key"),
        (["encrypt", "--passphrase-env", "MY KEY"],
         "--passphrase-env 'MY KEY': give the name of an environment variable, e.g. JOURNAL_KEY"),
        (["connect", "caldav", "https://cal.example.org/c/", "--user", "u", "--password-env", "A", "--keyring"],
         "--password-env and --keyring do not go together: give one password source"),
        (["connect", "smtp", "smtp.example.org", "--user", "u", "--password-env", "A-B"],
         "--password-env 'A-B': give the name of an environment variable, e.g. CALDAV_PASSWORD"),
    ],
)  # fmt: skip
def test_two_sources_of_a_secret_or_a_bad_variable_name_is_one_line_and_nothing_written(
    cli: Invoke, set_up: Callable[..., None], home: Path, argv: list[str], said: str
) -> None:
    set_up("Ann Lee", "Bo Chen", "Cy Dee", "Di Eze")
    before = {path: path.read_bytes() for path in home.rglob("*") if path.is_file()}
    result = cli(*argv)
    assert (result.exit_code, result.stderr) == (2, f"peerloop: error: {said}\n")
    assert {path: path.read_bytes() for path in home.rglob("*") if path.is_file()} == before
