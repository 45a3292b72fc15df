"""An encrypted folder on two devices: conflict copies of age files are opened with the folder's key, merged,
and written encrypted; git's merge driver does the same with the age files git hands it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from peerloop.store.records import Store
from tests.test_devices import Devices, devices  # noqa: F401  (the pair of devices, a fixture)

SECRET = "Qv9-only-in-the-notes"
PASSPHRASE = "two devices one key"
COPY = "journal/2027.toml.sync-conflict-20270105-110501-ABCDEF7.age"


@pytest.fixture
def encrypted_devices(
    devices: Devices,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> Devices:
    """The pair of devices, with the folder encrypted on the laptop before the desktop got it."""
    monkeypatch.setenv("PEERLOOP_PASSPHRASE", PASSPHRASE)
    devices.ok("laptop", "encrypt", now="2027-01-04T09:30")
    devices.synced()
    return devices


def test_a_conflict_copy_of_an_encrypted_year_is_merged_and_written_encrypted(
    encrypted_devices: Devices,
) -> None:
    pair = encrypted_devices
    pair.ok("laptop", "log", "--note", f"laptop {SECRET}", now="2027-01-05T10:00")
    pair.ok("desktop", "log", "Bo Chen", "--note", f"desktop {SECRET}", now="2027-01-05T11:00")
    pair.conflict("journal/2027.toml.age", COPY)
    assert "1 conflict copy" in pair.run("laptop", "next", now="2027-01-05T12:00").stderr
    fixed = pair.ok("laptop", "doctor", "--fix")
    assert f"merged {COPY} (Syncthing) into journal/2027.toml.age" in fixed.stdout
    notes = sorted(str(entry.get("note")) for entry in pair.history("laptop"))
    assert notes == [f"desktop {SECRET}", f"laptop {SECRET}"]
    laptop = pair.homes["laptop"]
    assert not (laptop / COPY).exists()
    assert not (laptop / "journal" / "2027.toml").exists()
    assert all(SECRET.encode() not in path.read_bytes() for path in laptop.rglob("*") if path.is_file())


def test_merge_file_opens_age_versions_with_the_folders_key_and_writes_the_merge_encrypted(
    encrypted_devices: Devices, tmp_path: Path
) -> None:
    pair = encrypted_devices
    laptop, desktop = pair.homes["laptop"], pair.homes["desktop"]
    base, ours, theirs = (tmp_path / f"{side}.age" for side in ("base", "ours", "theirs"))
    shutil.copyfile(laptop / "roster.toml.age", base)
    pair.ok("laptop", "edit", "Bo Chen", "--note", f"new job {SECRET}", now="2027-01-05T10:00")
    pair.ok("desktop", "pause", "Cy Dee", "--until", "2027-03-01", now="2027-01-05T11:00")
    shutil.copyfile(laptop / "roster.toml.age", ours)
    shutil.copyfile(desktop / "roster.toml.age", theirs)
    merged = pair.run("laptop", "merge-file", str(base), str(ours), str(theirs), "roster.toml.age")
    assert (merged.exit_code, merged.stdout, merged.stderr) == (0, "", "")
    assert SECRET.encode() not in ours.read_bytes()
    shutil.copyfile(ours, laptop / "roster.toml.age")
    roster = Store(laptop).load_roster()
    peers = {peer.name: peer for peer in roster.peers}
    assert peers["Bo Chen"].note == f"new job {SECRET}"
    assert str(peers["Cy Dee"].paused_until) == "2027-03-01"


def test_merge_file_on_age_versions_without_the_passphrase_is_exit_8_and_ours_untouched(
    encrypted_devices: Devices, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pair = encrypted_devices
    ours = tmp_path / "ours.age"
    shutil.copyfile(pair.homes["laptop"] / "roster.toml.age", ours)
    before = ours.read_bytes()
    monkeypatch.delenv("PEERLOOP_PASSPHRASE")
    refused = pair.run("laptop", "merge-file", str(ours), str(ours), str(ours), "roster.toml.age")
    assert refused.exit_code == 8
    assert refused.stderr.count("\n") == 1
    assert "PEERLOOP_PASSPHRASE" in refused.stderr
    assert ours.read_bytes() == before


@pytest.mark.parametrize("change", ["encrypt", "decrypt"])
def test_a_half_synced_encrypt_or_decrypt_is_never_written_over_with_an_empty_roster(
    devices: Devices,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    change: str,
) -> None:
    """encryption.toml (or its deletion) arrived before the files the change rewrote: the roster in the folder's
    form is missing, and a write would make it anew with nothing in it."""
    monkeypatch.setenv("PEERLOOP_PASSPHRASE", PASSPHRASE)
    laptop, desktop = devices.homes["laptop"], devices.homes["desktop"]
    if change == "decrypt":
        devices.ok("laptop", "encrypt")
        devices.synced()
        devices.ok("laptop", "decrypt")
        (desktop / "encryption.toml").unlink()
    else:
        devices.ok("laptop", "encrypt")
        shutil.copyfile(laptop / "encryption.toml", desktop / "encryption.toml")

    def files() -> list[tuple[str, bytes]]:
        return sorted(
            (p.name, p.read_bytes()) for p in desktop.rglob("*") if p.is_file() and p.name[:6] != ".lock-"
        )

    before = files()
    missing = "roster.toml" if change == "decrypt" else "roster.toml.age"
    for args in (("add", "Eve Fox"), ("init", "--name", "Dana Ode", "--email", "dana@example.com", "--timezone",
                 "Europe/Berlin", "--day", "tue", "--time", "08:30", "--start", "2027-01-04", "--peer", "Ann Lee")):  # fmt: skip
        refused = devices.run("desktop", *args)
        assert refused.exit_code == 5, refused.output
        assert f"{missing} has not arrived yet" in refused.stderr
    doctor = devices.run("desktop", "doctor", "--fix")
    assert f"problem: {missing} has not arrived yet" in doctor.stdout
    assert files() == before


def test_a_clear_year_another_device_logged_in_before_the_encrypt_reached_it_is_merged_not_written_over(
    devices: Devices,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The laptop encrypted while the desktop, not yet synced, logged in clear: its 2027.toml lands beside
    2027.toml.age. Decrypting wrote the encrypted year over the desktop's meeting; doctor --fix merges it."""
    monkeypatch.setenv("PEERLOOP_PASSPHRASE", PASSPHRASE)
    devices.ok("laptop", "log", "--note", "the first", now="2027-01-05T10:00")
    devices.synced()
    devices.ok("laptop", "encrypt", now="2027-01-05T11:00")
    devices.ok("desktop", "log", "Bo Chen", "--note", f"desktop {SECRET}", now="2027-01-12T10:00")
    clear = devices.homes["laptop"] / "journal" / "2027.toml"
    shutil.copyfile(devices.homes["desktop"] / "journal" / "2027.toml", clear)
    refused = devices.run("laptop", "decrypt", now="2027-01-12T11:00")
    assert refused.exit_code == 3, refused.output
    assert "journal/2027.toml is already here beside 2027.toml.age" in refused.stderr
    assert "`peerloop doctor --fix` merges it" in refused.stderr
    assert f"desktop {SECRET}" in clear.read_text()
    fixed = devices.ok("laptop", "doctor", "--fix", now="2027-01-12T11:00")
    assert "merged journal/2027.toml (a clear copy) into journal/2027.toml.age" in fixed.stdout
    assert not clear.exists()
    laptop = devices.homes["laptop"]
    assert all(SECRET.encode() not in path.read_bytes() for path in laptop.rglob("*") if path.is_file())
    devices.ok("laptop", "decrypt", now="2027-01-12T11:00")
    notes = sorted(str(entry.get("note")) for entry in devices.history("laptop"))
    assert notes == [f"desktop {SECRET}", "the first"]


def test_doctor_fix_accepts_an_encrypted_year_whose_rest_will_never_come(encrypted_devices: Devices) -> None:
    pair = encrypted_devices
    pair.ok("laptop", "log", "Bo Chen", "--note", "before the rename", now="2027-01-05T10:00")
    pair.synced()
    pair.ok("laptop", "edit", "Bo Chen", "--name", "Bob Chen", now="2027-01-05T11:00")
    year = "journal/2027.toml.age"
    shutil.copyfile(pair.homes["laptop"] / year, pair.homes["desktop"] / year)  # the roster never comes
    assert "roster.toml.age has not arrived yet" in pair.run("desktop", "doctor").stdout
    fixed = pair.ok("desktop", "doctor", "--fix", now="2027-01-05T12:00")
    assert f"accepted {year} as it is, without the rest of its change" in fixed.stdout
    assert [entry["peer"] for entry in pair.history("desktop")] == ["Bob Chen"]


def test_a_year_the_other_device_sealed_before_a_new_passphrase_reached_it_still_opens_and_merges(
    encrypted_devices: Devices, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new passphrase on the laptop while the desktop, offline, logs under the old key: the desktop's year
    arrives as a conflict copy (and, as a tool that lets the newer file win would leave it, as the year
    itself), sealed to a key the folder no longer has. earlier-keys.age, sealed to the new key, opens it."""
    pair = encrypted_devices
    pair.ok("laptop", "log", "--note", f"laptop {SECRET}", now="2027-01-05T10:00")
    monkeypatch.setenv("PEERLOOP_NEW_PASSPHRASE", "a new one")
    pair.ok("laptop", "encrypt", now="2027-01-05T10:30")
    monkeypatch.setenv("PEERLOOP_PASSPHRASE", "a new one")
    pair.ok("laptop", "encrypt", now="2027-01-05T10:40")  # twice: every earlier key is kept
    laptop = pair.homes["laptop"]
    assert (laptop / "earlier-keys.age").is_file()
    monkeypatch.setenv("PEERLOOP_PASSPHRASE", PASSPHRASE)
    pair.ok("desktop", "log", "Bo Chen", "--note", f"desktop {SECRET}", now="2027-01-05T11:00")
    monkeypatch.setenv("PEERLOOP_PASSPHRASE", "a new one")
    pair.conflict("journal/2027.toml.age", COPY)
    fixed = pair.ok("laptop", "doctor", "--fix")
    assert f"merged {COPY} (Syncthing) into journal/2027.toml.age" in fixed.stdout
    notes = sorted(str(entry.get("note")) for entry in pair.history("laptop"))
    assert notes == [f"desktop {SECRET}", f"laptop {SECRET}"]
    shutil.copyfile(pair.homes["desktop"] / "journal/2027.toml.age", laptop / "journal/2027.toml.age")
    assert [str(entry.get("note")) for entry in pair.history("laptop")] == [f"desktop {SECRET}"]
    assert pair.ok("laptop", "log", "Cy Dee", "--note", "sealed anew", now="2027-01-12T10:00")
    monkeypatch.setenv("PEERLOOP_PASSPHRASE", PASSPHRASE)
    assert pair.run("laptop", "next").exit_code == 8  # the old passphrase opens nothing here
    assert all(SECRET.encode() not in p.read_bytes() for p in laptop.rglob("*") if p.is_file())


def test_a_year_the_other_device_sealed_while_the_folder_was_decrypted_is_merged_with_the_keys_kept(
    encrypted_devices: Devices, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`decrypt` on the laptop while the desktop, offline, logs encrypted: the desktop's year comes back beside
    the clear one. The clear folder kept its keys in earlier-keys.age, a passphrase file: `doctor --fix` opens
    the year with them (the old passphrase) and merges it; without the passphrase nothing is written."""
    pair = encrypted_devices
    pair.ok("laptop", "log", "--note", f"laptop {SECRET}", now="2027-01-05T10:00")
    pair.ok("laptop", "decrypt", now="2027-01-05T10:30")
    laptop = pair.homes["laptop"]
    assert sorted(p.name for p in laptop.iterdir() if not p.name.startswith(".")) == [
        "earlier-keys.age", "journal", "roster.toml"]  # fmt: skip
    assert SECRET.encode() not in (laptop / "earlier-keys.age").read_bytes()
    pair.ok("desktop", "log", "Bo Chen", "--note", f"desktop {SECRET}", now="2027-01-05T11:00")
    shutil.copyfile(pair.homes["desktop"] / "journal/2027.toml.age", laptop / "journal/2027.toml.age")
    doctor = pair.run("laptop", "doctor")
    assert "journal/2027.toml.age is an encrypted copy in a folder that is not encrypted" in doctor.stdout
    assert "with the passphrase the folder had" in doctor.stdout
    monkeypatch.delenv("PEERLOOP_PASSPHRASE")
    before = {p: p.read_bytes() for p in laptop.rglob("*") if p.is_file()}
    assert pair.run("laptop", "doctor", "--fix").exit_code == 8
    assert {p: p.read_bytes() for p in laptop.rglob("*") if p.is_file()} == before
    monkeypatch.setenv("PEERLOOP_PASSPHRASE", PASSPHRASE)
    fixed = pair.ok("laptop", "doctor", "--fix")
    assert "merged journal/2027.toml.age (an encrypted copy) into journal/2027.toml" in fixed.stdout
    notes = sorted(str(entry.get("note")) for entry in pair.history("laptop"))
    assert notes == [f"desktop {SECRET}", f"laptop {SECRET}"]
    assert not (laptop / "journal/2027.toml.age").exists()
    monkeypatch.delenv("PEERLOOP_PASSPHRASE")
    assert pair.ok("laptop", "next").stderr == ""  # a clear folder: no passphrase asked


def test_decrypt_with_an_identity_file_keeps_no_key(
    devices: Devices,  # noqa: F811
    tmp_path: Path,
) -> None:
    identity = tmp_path / "peerloop.txt"
    from pyrage import x25519

    identity.write_text(f"{x25519.Identity.generate()}\n", encoding="utf-8")
    devices.ok("laptop", "encrypt", "--identity", str(identity), now="2027-01-04T09:30")
    devices.ok("laptop", "decrypt", now="2027-01-04T09:40")
    names = sorted(p.name for p in devices.homes["laptop"].iterdir() if not p.name.startswith("."))
    assert names == ["roster.toml"]
