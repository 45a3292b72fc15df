"""Where the data lives: --home, then $PEERLOOP_HOME, then the platform's user data folder."""

from __future__ import annotations

from pathlib import Path

import platformdirs
import pytest

from peerloop import paths


@pytest.mark.parametrize(
    "env",
    [
        {"HOME": "/home/dana"},
        {"HOME": "/home/dana", "XDG_DATA_HOME": "/data/dana"},
        {"HOME": "/home/dana", "XDG_DATA_HOME": "relative/ignored"},
        {"HOME": "/home/dana", "XDG_DATA_HOME": ""},
        {"HOME": "/home/dana", "XDG_DATA_HOME": " "},
    ],
)
def test_default_folder_is_what_platformdirs_says(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PEERLOOP_HOME")
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    expected = Path(platformdirs.user_data_dir("peerloop", appauthor=False))
    assert paths.data_home() == expected


def test_environment_then_flag_take_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PEERLOOP_HOME", str(tmp_path / "env"))
    assert paths.data_home() == tmp_path / "env"
    assert paths.data_home(tmp_path / "flag") == tmp_path / "flag"


def test_resolving_the_folder_creates_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PEERLOOP_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    assert paths.data_home() == tmp_path / ".local" / "share" / "peerloop"
    assert list(tmp_path.iterdir()) == []
