"""The data folder itself: `where` (its files, to back them up) and `doctor` (check it, say how to fix it)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated, Any

import typer

from peerloop import options
from peerloop.inert import safe
from peerloop.output import text
from peerloop.store.home import HOME_ENV
from peerloop.store.records import Store

if TYPE_CHECKING:
    from pathlib import Path


SOURCES = {
    "option": "chosen with --home",
    "environment": f"from ${HOME_ENV}",
    "default": "your platform's user data folder",
}


def data_files(store: Store) -> list[tuple[str, Path, str, str]]:
    """(name in the folder, path, what it holds, what writes it) for each data file; journal years that exist."""
    sealed = store.folder.sealed()
    files = [(store.roster_path.name, store.roster_path, "your settings and peers", "`peerloop init`")]
    for year in store.journal_years():
        name = store.year_path(year).name
        files.append((f"journal/{name}", store.year_path(year), f"the journal of {year}", ""))
    if sealed:
        files.append(("encryption.toml", store.folder.encryption_path, "how the files above are encrypted "
                      "(no key)", "`peerloop encrypt`"))  # fmt: skip
        files.append(("key.age", store.folder.key_path, "the key, for the `age` tool (opened by your passphrase)",
                      "`peerloop encrypt` with a passphrase"))  # fmt: skip
    files.append(
        (
            "calendar.toml",
            store.calendar_path,
            "what the calendar export keeps (UIDs, SEQUENCE)",
            "the first `peerloop export`",
        )
    )
    files.append(
        (
            "connections.toml",
            store.connections_path,
            "the servers and feeds you connected",
            "`peerloop connect`",
        )
    )
    return files


def where(json: options.JsonOption = False) -> None:
    """Show the data folder and its files.

    Everything peerloop knows about you is in this one folder: back it up, or keep it in a synced
    folder or a git repository. Nothing is read or changed: the files are only looked at.

    Examples:

      peerloop where

      peerloop where --json | jq -r .home
    """
    store = options.store()
    if options.current.home is not None:
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
        from peerloop.output.json import emit_json

        emit_json(report)
        return
    text.out(f"Data folder: {safe(str(store.home))} ({SOURCES[source]})")
    if not store.home.is_dir():
        text.out("  It does not exist yet: `peerloop init` creates it.")
        return
    rows = [
        (name, holds if path.is_file() else f"not yet: {maker} writes it")
        for name, path, holds, maker in files
    ]
    if not store.journal_years():
        name = "journal/YYYY.toml" + (".age" if store.folder.sealed() else "")
        rows.insert(1, (name, "none yet: `peerloop log` writes one per year"))
    width = max(len(name) for name, _ in rows)
    for name, holds in rows:
        text.out(f"  {name.ljust(width)}  {holds}")
    text.out("Keep the whole folder (its .lock, .status-line and .missed-week files need not be kept).")


def doctor(
    fix: Annotated[
        bool,
        typer.Option(
            "--fix", help="Finish an interrupted change, tighten permissions, delete leftover temp files."
        ),
    ] = False,
    json: options.JsonOption = False,
) -> int:
    """Check the data folder and say how to fix it.

    It looks at permissions, links, files that do not parse, odd settings, a change interrupted by a
    killed process, and leftovers, and prints each finding with how to fix it. Exits 0 when nothing is
    wrong (notes are fine), 4 when something needs fixing. --fix changes nothing outside the data folder
    and never deletes the only copy of your data.

    Examples:

      peerloop doctor

      peerloop doctor --fix
    """
    from peerloop.actions.doctor import Finding, check_all, repair
    from peerloop.errors import Exit

    store = options.store()
    if not store.home.is_dir():
        findings = [Finding("note", f"{store.home} does not exist yet", "run `peerloop init`")]
    else:
        findings = check_all(store)
    repaired = repair(store) if fix and store.home.is_dir() and any(f.fixable for f in findings) else []
    if repaired:
        again = Store(store.home)
        store.folder.seal.share(again.folder.seal)
        findings = check_all(again)
    problems = [f for f in findings if f.level == "problem"]
    notes = len(findings) - len(problems)
    if json:
        from peerloop.output.json import emit_json

        emit_json(
            {
                "home": str(store.home),
                "healthy": not problems,
                "repaired": repaired,
                "findings": [{"level": f.level, "what": f.what, "fix": f.fix} for f in findings],
            }
        )
    else:
        for line in repaired:
            text.out(f"fixed: {safe(line)}")
        for finding in findings:
            text.out(f"{finding.level}: {safe(finding.what)}")
            text.out(f"  fix: {safe(finding.fix)}")
        verdict = "healthy" if not problems else f"{text.plural(len(problems), 'problem')} to fix"
        text.out(f"{safe(str(store.home))}: {verdict}" + (f", {text.plural(notes, 'note')}" if notes else ""))
    return Exit.DATA if problems else 0
