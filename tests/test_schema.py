"""Versions across devices (store/codecs/schema.py): a folder written by every earlier schema is read by every
command and brought to the current schema by the steps, losing nothing; a file from a newer peerloop is
refused by every command, naming both versions, and never rewritten in an older schema.

tests/data/schema-N/ is a folder as the peerloop of schema N wrote it (schema 1: the release before two-device
folders, by its own commands, plus a journal year in 0.1's follow-up lists). A new schema adds its step, its
folder, and nothing else here.
"""

from __future__ import annotations

import json
import os
import shutil
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from peerloop import __version__
from peerloop.store.codecs.schema import SCHEMA_VERSION, STEPS
from tests.conftest import Invoke
from tests.lived_in import check_result

DATA = Path(__file__).parent / "data"
EARLIER = range(1, SCHEMA_VERSION)


def folder_of(version: int, home: Path) -> Path:
    shutil.copytree(DATA / f"schema-{version}", home)
    for path in [home, *home.rglob("*")]:  # git keeps no file modes: as the older peerloop left them
        os.chmod(path, 0o700 if path.is_dir() else 0o600)
    return home


def test_every_earlier_schema_has_a_step_and_a_folder_written_by_it() -> None:
    assert sorted(STEPS) == list(EARLIER)
    for version in EARLIER:
        written = [
            tomllib.loads(p.read_text(encoding="utf-8")) for p in (DATA / f"schema-{version}").rglob("*.toml")
        ]
        assert written
        assert {data["schema_version"] for data in written} == {version}


@pytest.mark.parametrize("version", EARLIER)
def test_a_folder_of_an_earlier_schema_reads_and_upgrades_with_nothing_lost(
    version: int, cli: Invoke, home: Path, at: Callable[[str], None]
) -> None:
    folder_of(version, home)
    at("2026-03-24T09:00")
    for argv in (["next"], ["status"], ["peers"], ["history", "--all"], ["plan"], ["where"], ["doctor"]):
        result = cli(*argv)
        check_result(result, argv)
        assert result.exit_code in (0, 10, 11), (argv, result.output)
    before = json.loads(cli("history", "--all", "--json").stdout)
    kept = ("name", "email", "org", "mode", "note", "paused_until")
    peers = [{key: p[key] for key in kept} for p in json.loads(cli("peers", "--json").stdout)]
    old = {e["id"]: e for e in before}
    assert [(f["text"], f["done"]) for f in old["20251209-1"]["follow_ups"]] == [
        ("book the venue", False), ("send the agenda", True), ("ask Bo", True)
    ]  # fmt: skip
    assert [f["handle"] for f in old["20260303-1"]["follow_ups"]] == ["20260303-1.1", "20260303-1.2"]

    assert cli("log", "Cy Dee", "--note", "after the upgrade").exit_code == 0
    assert cli("done", "20260303-1.2").exit_code == 0
    assert cli("log", "--amend", "20251209-1", "--win", "the venue").exit_code == 0
    after = {e["id"]: e for e in json.loads(cli("history", "--all", "--json").stdout)}
    assert old.keys() < after.keys()
    for entry_id, entry in old.items():
        changed = {key for key in entry if after[entry_id][key] != entry[key]}
        assert changed <= {"follow_ups", "win"}, (entry_id, changed)
    assert [{key: p[key] for key in kept} for p in json.loads(cli("peers", "--json").stdout)] == peers
    for path in (home / "journal" / "2025.toml", home / "journal" / "2026.toml"):
        assert tomllib.loads(path.read_text(encoding="utf-8"))["schema_version"] == SCHEMA_VERSION
    assert cli("doctor").stdout.endswith(": healthy\n")


@pytest.mark.parametrize("name", ["roster.toml", "journal/2026.toml", "calendar.toml", "connections.toml"])
def test_a_file_of_a_newer_schema_is_refused_naming_both_versions_and_never_rewritten(
    name: str, cli: Invoke, home: Path, at: Callable[[str], None]
) -> None:
    folder_of(1, home)
    newer = home / name
    newer.write_text(
        newer.read_text(encoding="utf-8").replace(
            "schema_version = 1", f"schema_version = {SCHEMA_VERSION + 1}"
        ),
        encoding="utf-8",
    )
    written = newer.read_bytes()
    at("2026-03-24T09:00")
    said = (f"{newer} was written by a newer peerloop (schema {SCHEMA_VERSION + 1}); this is peerloop "
            f"{__version__}, which reads schema {SCHEMA_VERSION} and older: upgrade peerloop on this device "
            "(nothing was changed)")  # fmt: skip
    commands = {
        "roster.toml": ["add", "Eve Fox"],
        "journal/2026.toml": ["log", "Cy Dee"],
        "calendar.toml": ["export", "-o", str(home.parent / "plan.ics")],
        "connections.toml": ["disconnect", "caldav"],
    }
    result = cli(*commands[name])
    assert (result.exit_code, result.stderr) == (4, f"peerloop: error: {said}\n")
    assert newer.read_bytes() == written
    doctor = cli("doctor", "--fix")
    assert said in doctor.stdout
    assert newer.read_bytes() == written
