"""Two devices, one journal, with the real tools (slow lane): two Syncthing instances on 127.0.0.1 keeping one
data folder in sync through offline changes on both sides; two git clones merged and rebased through
`peerloop merge-file`; and `doctor --fix`'s merge killed at each of its steps. After each, every entry of
both devices is there and `doctor` finds the folder healthy."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from peerloop.store.interrupts import FAULT_ENV
from tests.lived_in import check_answer, python_peerloop, subprocess_env
from tests.syncthing import BINARY, synced_files, syncthing_pair

pytestmark = pytest.mark.slow

PEERS = ("Ann Lee", "Bo Chen", "Cy Dee", "Di Eze")
INIT = ["init", "--name", "Dana Ode", "--email", "dana@example.com", "--timezone", "Europe/Berlin", "--day",
        "tue", "--time", "08:30", "--start", "2027-01-04", *(w for p in PEERS for w in ("--peer", p))]  # fmt: skip
Run = Callable[..., subprocess.CompletedProcess[str]]


def device(home: Path, name: str, state: Path) -> Run:
    """peerloop as `name` runs it on its own machine: its data folder, its device id, its clock."""

    def run(
        *args: str, now: str = "2027-01-05T12:00", fault: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        extra = {"PEERLOOP_DEVICE": name, "PEERLOOP_NOW": now, "XDG_STATE_HOME": str(state / name)}
        extra |= {key: os.environ[key] for key in ("PEERLOOP_PASSPHRASE",) if key in os.environ}
        env = subprocess_env(home, extra | ({FAULT_ENV: fault} if fault else {}))
        done = subprocess.run(python_peerloop(*args), env=env, capture_output=True, text=True, timeout=120,
                              check=False, stdin=subprocess.DEVNULL)  # fmt: skip
        if fault is None:
            check_answer([name, *args], done.returncode, done.stdout, done.stderr)
            assert done.returncode in (0, 10, 11), (name, args, done.stdout, done.stderr)
        return done

    return run


def entries(run: Run) -> dict[str, dict[str, object]]:
    return {entry["id"]: entry for entry in json.loads(run("history", "--all", "--json").stdout)}


def logged_id(done: subprocess.CompletedProcess[str]) -> str:
    found = re.search(r"\b\d{8}-[0-9a-z]{5}\b", done.stdout)
    assert found, done.stdout
    return found[0]


def ignore_lines(tmp_path: Path, tool: str) -> str:
    return device(tmp_path / "nowhere", "laptop", tmp_path)("where", "--ignore", tool).stdout


# --- Syncthing -----------------------------------------------------------------------------------------------


@pytest.mark.skipif(BINARY is None, reason="syncthing is not installed (Debian: apt-get install syncthing)")
def test_two_syncthing_devices_changing_the_folder_offline_keep_every_entry(tmp_path: Path) -> None:
    with syncthing_pair(tmp_path / "syncthing", ignore_lines(tmp_path, "syncthing")) as pair:
        laptop = device(pair.laptop.folder, "laptop", tmp_path)
        desktop = device(pair.desktop.folder, "desktop", tmp_path)
        laptop(*INIT, now="2027-01-04T09:00")
        first = logged_id(laptop("log", "--issue", "the first week", now="2027-01-05T10:00"))
        pair.wait_in_sync()
        assert synced_files(pair.desktop.folder) == synced_files(pair.laptop.folder)

        pair.disconnect()  # both offline: a week of changes on each side
        made = {first}
        made.add(logged_id(laptop("log", "Bo Chen", "--win", "the laptop's", now="2027-01-12T10:00")))
        laptop("edit", "Ann Lee", "--name", "Ann Smith", now="2027-01-12T10:05")
        laptop("reflect", "--why", "the laptop's thoughts", now="2027-01-12T10:10")
        made.add(logged_id(desktop("log", "Ann Lee", "--note", "under her old name", now="2027-01-13T18:00")))
        desktop("log", "--amend", first, "--win", "the desktop's", now="2027-01-13T18:05")
        desktop("reflect", "--why", "the desktop's thoughts", now="2027-01-13T18:10")
        desktop("pause", "Cy Dee", "--until", "2027-03-01", now="2027-01-13T18:15")
        desktop("review", "--early", "--added-value", "yes", "--decision", "continue", now="2027-01-13T18:20")
        pair.laptop.scan()
        pair.desktop.scan()
        pair.reconnect()

        copies = sorted(p.name for p in pair.laptop.folder.rglob("*.sync-conflict-*"))
        assert copies, "both devices changed the journal and the roster: Syncthing keeps a copy of each"
        said = laptop("next", now="2027-01-14T09:00")
        assert said.stderr.startswith(f"peerloop: {len(copies)} conflict cop")
        fixed = laptop("doctor", "--fix", now="2027-01-14T09:00")
        assert "merged journal/2027.sync-conflict-" in fixed.stdout
        assert "merged roster.sync-conflict-" in fixed.stdout
        pair.wait_in_sync()

        assert synced_files(pair.desktop.folder) == synced_files(pair.laptop.folder)
        assert not list(pair.desktop.folder.rglob("*.sync-conflict-*"))
        for run in (laptop, desktop):
            kept = entries(run)
            assert made <= kept.keys()
            kinds = sorted(entry["kind"] for entry in kept.values())
            assert kinds == ["meeting", "meeting", "meeting", "reflection", "reflection", "review"]
            assert {entry["peer"] for entry in kept.values() if entry["kind"] == "meeting"} == {
                "Ann Smith",
                "Bo Chen",
            }
            assert run("doctor").stdout.endswith(": healthy\n")
        peers = {p["name"]: p for p in json.loads(desktop("peers", "--json").stdout)}
        assert sorted(peers) == ["Ann Smith", "Bo Chen", "Cy Dee", "Di Eze"]
        assert peers["Cy Dee"]["paused_until"] == "2027-03-01"
        changed = entries(laptop)[first]
        assert changed["win"] == "the desktop's"  # changed later on the desktop: the newer version


# --- git -------------------------------------------------------------------------------------------------------


def git(folder: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Dana", "GIT_AUTHOR_EMAIL": "dana@example.com",
           "GIT_COMMITTER_NAME": "Dana", "GIT_COMMITTER_EMAIL": "dana@example.com",
           "PATH": f"{Path(python_peerloop()[0]).parent}:{os.environ['PATH']}", "GIT_CONFIG_NOSYSTEM": "1",
           "HOME": str(folder.parent)}  # fmt: skip
    done = subprocess.run(["git", *args], cwd=folder, env=env, capture_output=True, text=True, timeout=120,
                          check=False, preexec_fn=lambda: os.umask(0o077))  # fmt: skip
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout + done.stderr


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
@pytest.mark.parametrize("encrypted", [False, True], ids=["clear", "encrypted"])
def test_two_git_clones_merge_and_rebase_with_the_driver_and_keep_every_entry(
    tmp_path: Path, encrypted: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Encrypted, git hands the driver age files: it opens them with the repository's key (the passphrase from
    the environment each device's peerloop and git's driver share) and writes the merge encrypted."""
    origin, laptop_dir, desktop_dir = tmp_path / "origin.git", tmp_path / "laptop", tmp_path / "desktop"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    git(tmp_path, "clone", "-q", str(origin), str(laptop_dir))
    laptop = device(laptop_dir, "laptop", tmp_path)
    laptop(*INIT, now="2027-01-04T09:00")
    if encrypted:
        monkeypatch.setenv("PEERLOOP_PASSPHRASE", "one key for both clones")
        laptop("encrypt", now="2027-01-04T09:05")
    (laptop_dir / ".gitignore").write_text(ignore_lines(tmp_path, "git"), encoding="utf-8")
    (laptop_dir / ".gitattributes").write_text(
        "*.toml merge=peerloop\n*.age merge=peerloop\n", encoding="utf-8"
    )
    git(laptop_dir, "add", "-A")
    git(laptop_dir, "commit", "-qm", "peerloop")
    git(laptop_dir, "push", "-q", "origin", "HEAD:main")
    git(tmp_path, "clone", "-q", str(origin), str(desktop_dir))
    desktop = device(desktop_dir, "desktop", tmp_path)
    for folder in (laptop_dir, desktop_dir):
        git(folder, "config", "merge.peerloop.driver", "peerloop merge-file %O %A %B %P")
        git(folder, "config", "pull.rebase", "false")

    made = set()
    made.add(logged_id(laptop("log", "--issue", "laptop, week 1", now="2027-01-05T10:00")))
    laptop("edit", "Bo Chen", "--note", "new job", now="2027-01-05T10:05")
    made.add(logged_id(desktop("log", "Bo Chen", "--issue", "desktop, week 1", now="2027-01-05T11:00")))
    desktop("pause", "Cy Dee", "--until", "2027-03-01", now="2027-01-05T11:05")
    for folder, message in ((laptop_dir, "laptop"), (desktop_dir, "desktop")):
        git(folder, "add", "-A")
        git(folder, "commit", "-qm", message)
    git(laptop_dir, "push", "-q", "origin", "HEAD:main")
    git(desktop_dir, "pull", "--rebase", "-q", "origin", "main")  # the driver merges each replayed file
    git(desktop_dir, "push", "-q", "origin", "HEAD:main")

    made.add(
        logged_id(laptop("log", "--skip", "--reason", "flu", "--date", "2027-01-12", now="2027-01-12T09:00"))
    )
    git(laptop_dir, "add", "-A")
    git(laptop_dir, "commit", "-qm", "laptop, week 2")
    git(laptop_dir, "pull", "--no-rebase", "-q", "origin", "main")  # a merge commit, the driver again
    assert len(git(laptop_dir, "log", "--format=%p", "-1").split()) == 2

    for folder, run in ((laptop_dir, laptop), (desktop_dir, desktop)):
        if folder == desktop_dir:
            git(laptop_dir, "push", "-q", "origin", "HEAD:main")
            git(desktop_dir, "pull", "-q", "origin", "main")
        for path in folder.rglob("*.toml"):
            assert "<<<<<<<" not in path.read_text(encoding="utf-8"), path
        assert sorted(p.name for p in folder.glob("roster.toml*")) == [
            "roster.toml.age" if encrypted else "roster.toml"
        ]
        kept = entries(run)
        assert made == kept.keys()
        peers = {p["name"]: p for p in json.loads(run("peers", "--json").stdout)}
        assert (peers["Bo Chen"]["note"], peers["Cy Dee"]["paused_until"]) == ("new job", "2027-03-01")
        doctor = run("doctor")
        assert doctor.stdout.endswith(": healthy\n"), doctor.stdout
    assert git(desktop_dir, "status", "--porcelain") == ""


# --- a kill at each step of doctor --fix's merge ----------------------------------------------------------------


def test_doctor_fix_killed_at_each_step_of_its_merge_leaves_all_or_nothing(tmp_path: Path) -> None:
    laptop_dir, desktop_dir = tmp_path / "laptop", tmp_path / "desktop"
    laptop = device(laptop_dir, "laptop", tmp_path)
    laptop(*INIT, now="2027-01-04T09:00")
    shutil.copytree(laptop_dir, desktop_dir, ignore=shutil.ignore_patterns(".lock-*"))
    desktop = device(desktop_dir, "desktop", tmp_path)
    made = {logged_id(laptop("log", "--win", "laptop", now="2027-01-05T10:00"))}
    laptop("edit", "Ann Lee", "--name", "Ann Smith", now="2027-01-05T10:05")
    made.add(logged_id(desktop("log", "Ann Lee", "--note", "desktop", now="2027-01-05T11:00")))
    desktop("add", "Eve Fox", now="2027-01-05T11:05")
    copies = {"journal/2027.sync-conflict-20270105-110500-ABCDEF7.toml": "journal/2027.toml",
              "roster (Dana Ode's conflicted copy 2027-01-05).toml": "roster.toml"}  # fmt: skip
    for copy, original in copies.items():
        shutil.copyfile(desktop_dir / original, laptop_dir / copy)
        os.chmod(laptop_dir / copy, 0o600)
    before = {path: path.read_bytes() for path in sorted(laptop_dir.rglob("*")) if path.is_file()}
    steps = ["begin", "temp#1", "temp#2", "record", "rename#1", "rename#2", "delete#1", "delete#2", "done"]
    for step in steps:
        home = tmp_path / f"killed-at-{step.replace('#', '-')}"
        shutil.copytree(laptop_dir, home)
        run = device(home, "laptop", tmp_path)
        killed = run("doctor", "--fix", now="2027-01-06T09:00", fault=step)
        assert killed.returncode == -9, (step, killed.stdout, killed.stderr)
        kept = entries(run)  # a read-only command: it finishes a committed merge first
        left = [copy for copy in copies if (home / copy).exists()]
        landed = step not in ("begin", "temp#1", "temp#2")
        assert left == ([] if landed else list(copies)), step
        if landed:
            assert made <= kept.keys(), step
            assert {e["peer"] for e in kept.values()} == {"Ann Smith"}, step
        else:
            assert {p.relative_to(home): p.read_bytes() for p in home.rglob("*") if p.is_file()
                    and not p.name.endswith(".tmp")} == {p.relative_to(laptop_dir): b for p, b in before.items()}, step  # fmt: skip
        run("doctor", "--fix", now="2027-01-06T09:05")
        assert made <= entries(run).keys(), step
        assert run("doctor").stdout.endswith(": healthy\n"), step
        names = [p["name"] for p in json.loads(run("peers", "--json").stdout)]
        assert names == ["Ann Smith", "Bo Chen", "Cy Dee", "Di Eze", "Eve Fox"], step
