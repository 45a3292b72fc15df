"""Where peerloop keeps its data: --home, else $PEERLOOP_HOME, else the platform's user data folder."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path

HOME_ENV = "PEERLOOP_HOME"
APP_NAME = "peerloop"


def data_home(override: Path | None = None) -> Path:
    """Resolve the data folder without creating it: nothing exists until a command writes."""
    from pathlib import Path

    return Path(data_home_text(None if override is None else str(override)))


def data_home_text(override: str | None = None) -> str:
    """`data_home` as text, for the status line's start-up path (pathlib costs a few ms to import)."""
    if override is not None:
        return os.path.expanduser(override)
    from_env = os.environ.get(HOME_ENV)
    if from_env:
        return os.path.expanduser(from_env)
    if found := _common_user_data_dir():
        return found
    import platformdirs

    return platformdirs.user_data_dir(APP_NAME, appauthor=False)


def _common_user_data_dir() -> str | None:
    """platformdirs' answer without importing it (docs/performance.md), for an absolute $XDG_DATA_HOME or
    $HOME on Linux and macOS; anything else is left to platformdirs."""
    if sys.platform not in ("linux", "darwin"):
        return None
    xdg = os.environ.get("XDG_DATA_HOME", "")
    if os.path.isabs(xdg):
        return os.path.join(xdg, APP_NAME)
    home = os.environ.get("HOME", "")
    if not os.path.isabs(home):
        return None
    base = "Library/Application Support" if sys.platform == "darwin" else ".local/share"
    return os.path.join(home, base, APP_NAME)


def check_home(home: Path) -> Path:
    """The data folder, when it is one or does not exist yet; else one line saying why it cannot be used."""
    import stat

    from peerloop.errors import InputError

    if not str(home).strip():
        raise InputError("the data folder cannot be an empty path; point --home or PEERLOOP_HOME at a folder")
    try:
        mode = os.stat(home).st_mode
    except FileNotFoundError:
        return home
    except OSError as error:
        reason = error.strerror or str(error)
    else:
        if stat.S_ISDIR(mode):
            return home
        reason = "it is a file, not a folder"
    raise InputError(
        f"the data folder {home} cannot be used ({reason}); point --home or PEERLOOP_HOME at a folder"
    )


def names_a_data_file(home: Path, path: Path, data_files: Callable[[], list[Path]]) -> bool:
    """Whether `path` lies inside the data folder `home`, or is one of `data_files()`, compared by device and
    inode: a second name of the folder (a symbolic link, a bind mount) or of a file (a hard link) is seen."""
    from pathlib import Path

    try:
        folder = os.stat(home)
    except OSError:  # no folder yet: nothing in it to overwrite, but its name is still refused
        name = os.path.abspath(home)
        return os.path.abspath(path) == name or os.path.abspath(path).startswith(name + os.sep)
    here = Path(os.path.abspath(path))
    if _any_is(folder, (here, *here.parents)):
        return True
    try:
        target = os.stat(here)
    except OSError:
        return False
    return _any_is(target, data_files())


def _any_is(wanted: os.stat_result, paths: Iterable[Path]) -> bool:
    """Whether one of `paths` is the file or folder `wanted` by device and inode; one that cannot be read is not."""
    for path in paths:
        try:
            if os.path.samestat(os.stat(path), wanted):
                return True
        except OSError:
            continue
    return False
