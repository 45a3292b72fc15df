"""Two devices, one journal (docs/guide.md, "Two devices"): each device's transaction files stay its own, conflict
copies as Syncthing, Dropbox, Nextcloud and iCloud name them are noticed by every command and merged by
`doctor --fix` with nothing lost, and `where --ignore` says what each sync tool must leave alone. The real
Syncthing and git runs are in tests/test_two_devices.py (slow lane)."""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from peerloop.store.device import DEVICE_ENV
from tests.conftest import Invoke

PEERS = ("Ann Lee", "Bo Chen", "Cy Dee", "Di Eze")


class Devices:
    """A laptop and a desktop, each with its own copy of the folder, as a sync tool would keep them."""

    def __init__(self, root: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
        self.homes = {"laptop": root / "laptop", "desktop": root / "desktop"}
        self.cli, self.monkeypatch = cli, monkeypatch

    def run(self, device: str, *args: str, now: str | None = None) -> Result:
        self.monkeypatch.setenv("PEERLOOP_HOME", str(self.homes[device]))
        self.monkeypatch.setenv(DEVICE_ENV, device)
        if now:
            self.monkeypatch.setenv("PEERLOOP_NOW", now)
        return self.cli(*args)

    def ok(self, device: str, *args: str, now: str | None = None) -> Result:
        result = self.run(device, *args, now=now)
        assert result.exit_code == 0, (device, args, result.output)
        return result

    def synced(self) -> None:
        """The desktop gets the laptop's folder, as after a sync (each device's own files stay behind)."""
        desktop = self.homes["desktop"]
        shutil.rmtree(desktop, ignore_errors=True)
        shutil.copytree(self.homes["laptop"], desktop, ignore=shutil.ignore_patterns(".lock-*"))

    def conflict(self, name: str, copy_name: str) -> Path:
        """The desktop's version of `name` lands beside the laptop's under a sync tool's conflict name."""
        copy = self.homes["laptop"] / copy_name
        shutil.copyfile(self.homes["desktop"] / name, copy)
        return copy

    def history(self, device: str) -> list[dict[str, object]]:
        return json.loads(self.ok(device, "history", "--all", "--json").stdout)  # type: ignore[no-any-return]


@pytest.fixture
def devices(tmp_path: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch) -> Devices:
    pair = Devices(tmp_path, cli, monkeypatch)
    args = ["init", "--name", "Dana Ode", "--email", "dana@example.com", "--timezone", "Europe/Berlin", "--day", "tue", "--time", "08:30",
            "--start", "2027-01-04", *(w for p in PEERS for w in ("--peer", p))]  # fmt: skip
    pair.ok("laptop", *args, now="2027-01-04T09:00")
    pair.synced()
    return pair


def test_meetings_logged_on_both_devices_are_all_kept_once_the_copy_is_merged(devices: Devices) -> None:
    devices.ok("laptop", "log", "--issue", "from the laptop", now="2027-01-05T10:00")
    devices.ok("desktop", "log", "Bo Chen", "--note", "from the desktop", now="2027-01-05T11:00")
    devices.ok("desktop", "reflect", "--why", "new job", now="2027-01-05T11:05")
    devices.conflict("journal/2027.toml", "journal/2027.sync-conflict-20270105-110501-ABCDEF7.toml")
    said = devices.run("laptop", "next", now="2027-01-05T12:00")
    assert said.exit_code == 0
    assert (
        said.stderr == "peerloop: 1 conflict copy from another device: `peerloop doctor --fix` merges them\n"
    )
    doctor = devices.run("laptop", "doctor")
    assert doctor.exit_code == 4
    assert ("problem: journal/2027.sync-conflict-20270105-110501-ABCDEF7.toml is a conflict copy of "
            "journal/2027.toml from another device (Syncthing)") in doctor.stdout  # fmt: skip
    fixed = devices.ok("laptop", "doctor", "--fix")
    assert ("fixed: merged journal/2027.sync-conflict-20270105-110501-ABCDEF7.toml (Syncthing) into "
            "journal/2027.toml") in fixed.stdout  # fmt: skip
    assert fixed.stdout.endswith(": healthy\n")
    kinds = sorted((e["kind"], e.get("peer")) for e in devices.history("laptop"))
    assert kinds == [("meeting", "Ann Lee"), ("meeting", "Bo Chen"), ("reflection", None)]
    assert not list(devices.homes["laptop"].glob("journal/*conflict*"))
    assert devices.run("laptop", "next").stderr == ""


@pytest.mark.parametrize(
    ("tool", "copy_name"),
    [
        ("Dropbox or Nextcloud", "journal/2027 (Dana Ode's conflicted copy 2027-01-05).toml"),
        ("Dropbox or Nextcloud", "journal/2027 (conflicted copy 2027-01-05 110501).toml"),
        ("Nextcloud", "journal/2027_conflict-20270105-110501.toml"),
        ("iCloud", "journal/2027 2.toml"),
        ("Syncthing", "journal/2027.sync-conflict-20270105-110501-ABCDEF7.toml"),
    ],
)
def test_conflict_copies_as_each_sync_tool_names_them_are_merged(
    devices: Devices, tool: str, copy_name: str
) -> None:
    devices.ok("laptop", "log", "--win", "closed", now="2027-01-05T10:00")
    devices.ok("desktop", "log", "--skip", "--reason", "flu", "--date", "2027-01-12", now="2027-01-12T10:00")
    devices.conflict("journal/2027.toml", copy_name)
    assert "1 conflict copy" in devices.run("laptop", "status").stderr
    fixed = devices.ok("laptop", "doctor", "--fix")
    assert f"({tool}) into journal/2027.toml" in fixed.stdout
    assert sorted(e["kind"] for e in devices.history("laptop")) == ["meeting", "skip"]
    assert not (devices.homes["laptop"] / copy_name).exists()


def test_the_same_entry_changed_on_both_devices_keeps_the_newer_and_shows_the_other(devices: Devices) -> None:
    logged = devices.ok("laptop", "log", "--win", "got the intro", now="2027-01-05T10:00")
    entry_id = logged.stdout.split("(")[1].split(")")[0]
    devices.synced()
    devices.ok("laptop", "log", "--amend", entry_id, "--win", "closed the deal", now="2027-01-05T18:00")
    devices.ok("desktop", "log", "--amend", entry_id, "--win", "a second meeting", "--note", "ask Bo",
               now="2027-01-05T17:00")  # fmt: skip
    devices.conflict("journal/2027.toml", "journal/2027 (Dana Ode's conflicted copy 2027-01-05).toml")
    fixed = devices.ok("laptop", "doctor", "--fix")
    assert (f"fixed: meeting {entry_id} was changed on both devices: kept the newer version, the other's win, "
            "note beside it (`peerloop history` shows it)") in fixed.stdout  # fmt: skip
    (entry,) = devices.history("laptop")
    assert (entry["win"], entry["note"]) == ("closed the deal", None)  # no common version: the newer wins
    assert entry["replaced"] == [
        {"changed": "2027-01-05T16:00:00+00:00", "fields": {"win": "a second meeting", "note": "ask Bo"}}
    ]
    shown = " ".join(devices.ok("laptop", "history").stdout.split())  # the table wraps a long line
    assert (
        "Other version (changed 2027-01-05 16:00 UTC, another device): win: a second meeting; note: ask Bo"
        in shown
    )


def test_a_rename_on_one_device_and_a_log_under_the_old_name_on_the_other_meet(devices: Devices) -> None:
    devices.ok("laptop", "edit", "Ann Lee", "--name", "Ann Smith", now="2027-01-05T09:00")
    devices.ok("laptop", "log", "Bo Chen", now="2027-01-05T10:00")
    devices.ok("desktop", "log", "Ann Lee", "--note", "under the old name", now="2027-01-05T11:00")
    devices.ok("desktop", "pause", "Cy Dee", "--until", "2027-03-01", now="2027-01-05T11:05")
    devices.conflict("journal/2027.toml", "journal/2027 2.toml")
    devices.conflict("roster.toml", "roster 2.toml")
    devices.ok("laptop", "doctor", "--fix", now="2027-01-05T12:00")
    peers = {p["name"]: p for p in json.loads(devices.ok("laptop", "peers", "--json").stdout)}
    assert sorted(peers) == ["Ann Smith", "Bo Chen", "Cy Dee", "Di Eze"]
    assert peers["Cy Dee"]["paused_until"] == "2027-03-01"
    assert sorted(e["peer"] for e in devices.history("laptop")) == ["Ann Smith", "Bo Chen"]
    assert devices.ok("laptop", "doctor").stdout.endswith(": healthy\n")


def test_a_peer_removed_on_one_device_is_not_brought_back_by_the_other(devices: Devices) -> None:
    devices.ok("laptop", "remove", "Di Eze", "--yes", now="2027-01-05T09:00")
    devices.ok("desktop", "add", "Eve Fox", now="2027-01-05T10:00")
    devices.conflict("roster.toml", "roster.sync-conflict-20270105-100000-ABCDEF7.toml")
    devices.ok("laptop", "doctor", "--fix")
    names = [p["name"] for p in json.loads(devices.ok("laptop", "peers", "--json").stdout)]
    assert names == ["Ann Lee", "Bo Chen", "Cy Dee", "Eve Fox"]


def test_a_forgotten_entry_is_not_brought_back_by_the_other_device(devices: Devices) -> None:
    logged = devices.ok("laptop", "log", now="2027-01-05T10:00").stdout
    entry_id = logged.split("(")[1].split(")")[0]
    devices.synced()
    devices.ok("laptop", "forget", entry_id, "--yes", now="2027-01-05T11:00")
    devices.ok("desktop", "log", "--touch", "Bo Chen", now="2027-01-05T12:00")
    devices.conflict("journal/2027.toml", "journal/2027.sync-conflict-20270105-120000-ABCDEF7.toml")
    devices.ok("laptop", "doctor", "--fix")
    assert [e["kind"] for e in devices.history("laptop")] == ["touch"]


def test_calendar_records_merge_by_uid_with_the_higher_sequence(devices: Devices, tmp_path: Path) -> None:
    devices.ok("laptop", "export", "-o", str(tmp_path / "a.ics"), now="2027-01-04T10:00")
    devices.synced()
    devices.ok("laptop", "pause", "Ann Lee", "--until", "2027-02-01", now="2027-01-04T11:00")
    devices.ok("laptop", "export", "-o", str(tmp_path / "a.ics"), now="2027-01-04T11:00")
    devices.ok("desktop", "export", "-o", str(tmp_path / "b.ics"), "--weeks", "30", now="2027-01-04T12:00")
    devices.conflict("calendar.toml", "calendar (conflicted copy 2027-01-04 120000).toml")
    laptop = (devices.homes["laptop"] / "calendar.toml").read_text()
    devices.ok("laptop", "doctor", "--fix")
    merged = (devices.homes["laptop"] / "calendar.toml").read_text()
    assert merged != laptop
    import tomllib

    sequences = {uid: e["sequence"] for uid, e in tomllib.loads(merged)["events"].items()}
    ours = {uid: e["sequence"] for uid, e in tomllib.loads(laptop)["events"].items()}
    theirs_text = (devices.homes["desktop"] / "calendar.toml").read_text()
    theirs = {uid: e["sequence"] for uid, e in tomllib.loads(theirs_text)["events"].items()}
    assert sequences == {
        uid: max(ours.get(uid, -1), theirs.get(uid, -1)) for uid in ours.keys() | theirs.keys()
    }
    assert tomllib.loads(merged)["home_id"] == tomllib.loads(laptop)["home_id"]


def test_a_copy_that_cannot_be_read_stops_the_merge_with_nothing_changed(devices: Devices) -> None:
    devices.ok("laptop", "log", now="2027-01-05T10:00")
    copy = devices.homes["laptop"] / "journal/2027 2.toml"
    copy.write_text("schema_version = [", encoding="utf-8")
    before = (devices.homes["laptop"] / "journal/2027.toml").read_bytes()
    result = devices.run("laptop", "doctor", "--fix")
    assert result.exit_code == 4
    assert result.stderr.startswith("peerloop: error: cannot merge the conflict copy 2027 2.toml: ")
    assert "nothing was changed" in result.stderr
    assert (devices.homes["laptop"] / "journal/2027.toml").read_bytes() == before
    assert copy.exists()


def test_copies_of_a_devices_own_files_are_deleted_not_merged(devices: Devices) -> None:
    home = devices.homes["laptop"]
    (home / ".status-line.sync-conflict-20270105-110501-ABCDEF7").write_text("x")
    (home / "busy (conflicted copy 2027-01-05 110501).toml").write_text("x")
    assert devices.run("laptop", "next").stderr == "peerloop: 1 conflict copy from another device: " \
        "`peerloop doctor --fix` merges them\n"  # fmt: skip
    fixed = devices.ok("laptop", "doctor", "--fix")
    assert "deleted .status-line.sync-conflict-20270105-110501-ABCDEF7" in fixed.stdout
    assert sorted(p.name for p in home.iterdir() if "conflict" in p.name) == []


def test_another_devices_unfinished_change_is_never_finished_here(devices: Devices) -> None:
    """A sync tool that does not ignore them hands this device the other's record and temp files: they are
    left alone (the other device finishes its own change), noted by doctor, never deleted by --fix."""
    home = devices.homes["laptop"]
    roster = (home / "roster.toml").read_bytes()
    (home / ".roster.toml.desktop-77-1-0.tmp").write_text("not this device's")
    (home / ".commit-desktop").write_text(
        "# peerloop commit record\n.roster.toml.desktop-77-1-0.tmp\troster.toml\n"
    )
    (home / ".lock-desktop").write_text("")
    devices.ok("laptop", "add", "Eve Fox", now="2027-01-05T10:00")
    assert b"Eve Fox" in (home / "roster.toml").read_bytes()
    assert roster != (home / "roster.toml").read_bytes()
    assert (home / ".commit-desktop").exists()
    doctor = devices.run("laptop", "doctor")
    assert doctor.exit_code == 0, doctor.output
    assert ("note: .commit-desktop, .lock-desktop, .roster.toml.desktop-77-1-0.tmp: another device's lock, records or temp files, "
            "copied here by your sync tool (never acted on here)") in doctor.stdout  # fmt: skip
    devices.ok("laptop", "doctor", "--fix")
    assert (home / ".roster.toml.desktop-77-1-0.tmp").exists()
    assert (home / ".commit-desktop").exists()


def test_a_commit_an_older_peerloop_left_is_still_finished(devices: Devices) -> None:
    home = devices.homes["laptop"]
    (home / ".roster.toml.1234-5-0.tmp").write_text(
        (home / "roster.toml").read_text().replace("Di Eze", "Di Ezeh")
    )
    (home / ".commit").write_text(".roster.toml.1234-5-0.tmp\troster.toml\n")
    names = [p["name"] for p in json.loads(devices.ok("laptop", "peers", "--json").stdout)]
    assert "Di Ezeh" in names
    assert not (home / ".commit").exists()


def test_where_prints_the_lines_each_sync_tool_must_ignore(cli: Invoke, home: Path) -> None:
    stignore = cli("where", "--ignore", "syncthing")
    assert stignore.exit_code == 0
    assert stignore.stdout.splitlines() == [
        "// peerloop: files that belong to one device (peerloop where --ignore syncthing)",
        ".lock*", ".commit*", ".pending*", "*.tmp", ".status-line", ".missed-week", "busy.toml", "device-id",
    ]  # fmt: skip
    for tool in ("git", "nextcloud"):
        lines = cli("where", "--ignore", tool).stdout.splitlines()
        assert lines[0] == f"# peerloop: files that belong to one device (peerloop where --ignore {tool})"
        assert lines[1:] == stignore.stdout.splitlines()[1:]
    dropbox = cli("where", "--ignore", "Dropbox").stdout.splitlines()
    assert any(f"{home}/.lock-testbox" in line and "com.dropbox.ignored" in line for line in dropbox)
    wrong = cli("where", "--ignore", "onedrive")
    assert (wrong.exit_code, wrong.stderr) == (
        2, "peerloop: error: --ignore 'onedrive': choose one of syncthing, git, nextcloud, dropbox\n"
    )  # fmt: skip


def test_the_device_id_is_made_once_outside_the_folder_and_kept(
    cli: Invoke, set_up: Callable[..., None], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, home: Path
) -> None:
    monkeypatch.delenv(DEVICE_ENV)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert json.loads(cli("where", "--json").stdout)["device"] is None
    set_up("Ann Lee")
    kept = tmp_path / "state" / "peerloop" / "device-id"
    made = kept.read_text().strip()
    assert len(made) == 8
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert (home / f".lock-{made}").exists()
    assert cli("add", "Bo Chen").exit_code == 0
    assert kept.read_text().strip() == made
    assert json.loads(cli("where", "--json").stdout)["device"] == made
    monkeypatch.setenv(DEVICE_ENV, "Not A Device")
    wrong = cli("add", "Cy Dee")
    assert wrong.exit_code == 2
    assert (
        "PEERLOOP_DEVICE='Not A Device': a device id is 4 to 32 lowercase letters or digits" in wrong.stderr
    )
    assert os.environ["HOME"] not in str(kept) or "state" in str(kept)


def test_merge_file_merges_three_versions_into_ours_and_refuses_what_it_cannot_read(
    devices: Devices, tmp_path: Path
) -> None:
    """git's merge driver, run by hand: %O %A %B %P."""
    base = tmp_path / "base.toml"
    shutil.copyfile(devices.homes["laptop"] / "roster.toml", base)
    devices.ok("laptop", "edit", "Bo Chen", "--note", "new job", now="2027-01-05T10:00")
    devices.ok("desktop", "pause", "Cy Dee", "--until", "2027-03-01", now="2027-01-05T11:00")
    ours, theirs = tmp_path / "ours.toml", tmp_path / "theirs.toml"
    shutil.copyfile(devices.homes["laptop"] / "roster.toml", ours)
    shutil.copyfile(devices.homes["desktop"] / "roster.toml", theirs)
    for name in ("roster.toml", None):  # with git's %P, and without it (told by what the file holds)
        shutil.copyfile(devices.homes["laptop"] / "roster.toml", ours)
        merged = devices.run(
            "laptop", "merge-file", str(base), str(ours), str(theirs), *([name] if name else [])
        )
        assert (merged.exit_code, merged.stdout, merged.stderr) == (0, "", "")
        text = ours.read_text(encoding="utf-8")
        assert 'note = "new job"' in text
        assert "paused_until = 2027-03-01" in text
    theirs.write_text("<<<<<<< HEAD\n", encoding="utf-8")
    before = ours.read_bytes()
    refused = devices.run("laptop", "merge-file", str(base), str(ours), str(theirs), "roster.toml")
    assert refused.exit_code == 4
    assert refused.stderr == (
        "peerloop: error: roster.toml (theirs) line 1: git conflict markers; undo the merge, set up peerloop's merge "
        "driver (docs/guide.md, Two devices: `peerloop merge-file`) and merge again, or resolve them by hand\n"
    )
    assert ours.read_bytes() == before


def test_a_folder_copied_only_half_is_read_with_a_warning_and_never_written_until_the_rest_arrives(
    devices: Devices,
) -> None:
    """A rename rewrites the roster and the journal together; the desktop got the journal first."""
    devices.ok("laptop", "log", now="2027-01-05T10:00")
    devices.synced()
    devices.ok("laptop", "edit", "Ann Lee", "--name", "Ann Smith", now="2027-01-05T11:00")
    shutil.copyfile(
        devices.homes["laptop"] / "journal/2027.toml", devices.homes["desktop"] / "journal/2027.toml"
    )
    half = ("roster.toml has not arrived yet from the change on laptop that wrote journal/2027.toml "
            "(2027-01-05 10:00 UTC)")  # fmt: skip
    read = devices.ok("desktop", "history", now="2027-01-05T12:00")
    assert read.stderr.endswith(f"peerloop: {half}: what this shows may miss it; let your sync tool finish\n")
    roster = (devices.homes["desktop"] / "roster.toml").read_bytes()
    refused = devices.run("desktop", "log", "Bo Chen", now="2027-01-05T12:00")
    assert refused.exit_code == 5
    assert (
        refused.stderr
        == f"peerloop: error: {half}: let your sync tool finish, then run this again (nothing was changed)\n"
    )
    assert (devices.homes["desktop"] / "roster.toml").read_bytes() == roster
    doctor = devices.run("desktop", "doctor")
    assert doctor.exit_code == 4
    assert f"problem: {half}" in doctor.stdout
    shutil.copyfile(devices.homes["laptop"] / "roster.toml", devices.homes["desktop"] / "roster.toml")
    assert "not arrived" not in devices.ok("desktop", "history").stderr  # the rest arrived
    devices.ok("desktop", "log", "Bo Chen", now="2027-01-05T12:00")


def test_doctor_fix_accepts_a_half_whose_rest_will_never_come(devices: Devices) -> None:
    devices.ok("laptop", "log", now="2027-01-05T10:00")
    devices.synced()
    devices.ok("laptop", "edit", "Ann Lee", "--name", "Ann Smith", now="2027-01-05T11:00")
    shutil.copyfile(
        devices.homes["laptop"] / "journal/2027.toml", devices.homes["desktop"] / "journal/2027.toml"
    )
    assert devices.run("desktop", "doctor", now="2027-01-05T12:00").exit_code == 4
    fixed = devices.ok("desktop", "doctor", "--fix", now="2027-01-05T12:00")
    assert "fixed: accepted journal/2027.toml as it is, without the rest of its change" in fixed.stdout
    assert fixed.stdout.endswith(": healthy, 1 note\n")  # the journal names Ann Smith, the roster does not
    devices.ok("desktop", "log", "Bo Chen", now="2027-01-05T12:00")


def test_a_copy_whose_file_is_gone_is_merged_not_deleted(devices: Devices) -> None:
    """iCloud may leave `2027 2.toml` where `2027.toml` went missing: its entries become the year's."""
    devices.ok("laptop", "log", "--win", "kept", now="2027-01-05T10:00")
    year = devices.homes["laptop"] / "journal" / "2027.toml"
    year.rename(year.with_name("2027 2.toml"))
    devices.ok("laptop", "doctor", "--fix")
    assert [e["win"] for e in devices.history("laptop")] == ["kept"]
    assert sorted(p.name for p in year.parent.iterdir()) == ["2027.toml"]
