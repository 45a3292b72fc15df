"""`peerloop where`: the data folder and its files, to back them up or keep them in git."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from peerloop import render
from peerloop.commands.common import HomeOption, JsonOption, global_home, open_store
from peerloop.paths import HOME_ENV

if TYPE_CHECKING:
    from pathlib import Path

    from peerloop.storage import Store

SOURCES = {
    "option": "chosen with --home",
    "environment": f"from ${HOME_ENV}",
    "default": "your platform's user data folder",
}


def data_files(store: Store) -> list[tuple[str, Path, str, str]]:
    """(name in the folder, path, what it holds, what writes it) for each data file; journal years that exist."""
    files = [("roster.toml", store.roster_path, "your settings and peers", "`peerloop init`")]
    for year in store.journal_years():
        files.append((f"journal/{year:04d}.toml", store.year_path(year), f"the journal of {year}", ""))
    files.append(
        (
            "calendar.toml",
            store.calendar_path,
            "what the calendar export keeps (UIDs, SEQUENCE)",
            "the first `peerloop export`",
        )
    )
    return files


def where(json: JsonOption = False, home: HomeOption = None) -> None:
    """Show the data folder and its files.

    Everything peerloop knows about you is in this one folder: back it up, or keep it in a synced
    folder or a git repository. Nothing is read or changed: the files are only looked at.

    Examples:

      peerloop where

      peerloop where --json | jq -r .home
    """
    store = open_store(home)
    if home is not None or global_home[0] is not None:
        source = "option"
    elif os.environ.get(HOME_ENV):
        source = "environment"
    else:
        source = "default"
    files = data_files(store)
    if json:
        report: dict[str, Any] = {
            "home": str(store.home),
            "source": source,
            "exists": store.home.is_dir(),
            "files": [
                {"name": name, "path": str(path), "exists": path.is_file()} for name, path, *_ in files
            ],
        }
        render.emit_json(report)
        return
    render.out(f"Data folder: {render.safe(str(store.home))} ({SOURCES[source]})")
    if not store.home.is_dir():
        render.out("  It does not exist yet: `peerloop init` creates it.")
        return
    rows = [
        (name, holds if path.is_file() else f"not yet: {maker} writes it")
        for name, path, holds, maker in files
    ]
    if len(rows) == 2:
        rows.insert(1, ("journal/YYYY.toml", "none yet: `peerloop log` writes one per year"))
    width = max(len(name) for name, _ in rows)
    for name, holds in rows:
        render.out(f"  {name.ljust(width)}  {holds}")
    render.message("Keep the whole folder (the .lock and .status-line files in it need not be kept).")
