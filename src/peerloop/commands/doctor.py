"""`peerloop doctor`: check the data folder and say what is wrong and how to fix it."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Annotated, NamedTuple

from peerloop import render
from peerloop.commands.common import HomeOption, JsonOption, open_store
from peerloop.errors import EXIT_DATA, DataFileError
from peerloop.models import peer_key
from peerloop.options import Opt
from peerloop.roster import roster_warning
from peerloop.storage import DIR_MODE, FILE_MODE, Store


class Finding(NamedTuple):
    level: str
    """"problem" (exit non-zero) or "note" (worth knowing, not wrong)."""
    what: str
    fix: str
    fixable: bool = False


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def check_permissions(store: Store) -> list[Finding]:
    findings = []
    folders = [store.home] + ([store.journal_dir] if store.journal_dir.is_dir() else [])
    for folder in folders:
        if _mode(folder) & 0o077:
            findings.append(
                Finding(
                    "problem",
                    f"{folder} is readable by others (mode {_mode(folder):o})",
                    f"chmod 700 '{folder}' (or run `peerloop doctor --fix`)",
                    fixable=True,
                )
            )
    data_files = [p for p in (store.roster_path, store.calendar_path, store.lock_path) if p.is_file()]
    data_files += [store.year_path(year) for year in store.journal_years() if store.year_path(year).is_file()]
    for path in data_files:
        if _mode(path) & 0o077:
            findings.append(
                Finding(
                    "problem",
                    f"{path} is readable by others (mode {_mode(path):o})",
                    f"chmod 600 '{path}' (or run `peerloop doctor --fix`)",
                    fixable=True,
                )
            )
    return findings


def check_files(store: Store) -> list[Finding]:
    """Every file parses, and what it says makes sense."""
    findings: list[Finding] = []
    try:
        roster = store.load_roster()
    except DataFileError as error:
        return [Finding("problem", error.message, "fix the file by hand or restore it from a backup")]
    if roster.settings is None:
        findings.append(Finding("note", "no settings yet", "run `peerloop init`"))
    elif roster.settings.email is None:
        findings.append(
            Finding("note", "no email for you: `peerloop invite` needs one", "peerloop init --email ...")
        )
    warning = roster_warning(len(roster.peers))
    if warning and roster.settings is not None:
        findings.append(Finding("note", warning, "peerloop add NAME / peerloop remove NAME"))
    known = {peer.key for peer in roster.peers}
    seen_ids: dict[str, int] = {}
    unknown_peers: set[str] = set()
    for year in store.journal_years():
        try:
            journal_year = store.load_year(year)
        except DataFileError as error:
            findings.append(
                Finding("problem", error.message, "fix the file by hand or restore it from a backup")
            )
            continue
        for entry in journal_year.entries():
            if entry.id in seen_ids:
                findings.append(
                    Finding(
                        "problem",
                        f"entry id {entry.id} is used in {seen_ids[entry.id]} and {year}",
                        f"give one of them a new id in {store.year_path(year)}",
                    )
                )
            seen_ids[entry.id] = year
        unknown_peers |= {m.peer for m in journal_year.meetings if peer_key(m.peer) not in known}
    if unknown_peers:
        findings.append(
            Finding(
                "note",
                f"the journal names peers no longer in the roster: {', '.join(sorted(unknown_peers))}",
                "that is fine for removed peers; `peerloop add NAME` brings one back",
            )
        )
    try:
        store.load_calendar_state()
        if store.calendar_path.is_file():  # the event records, as export and invite read them
            from peerloop.commands.calendar import load_state

            load_state(store)
    except DataFileError as error:
        findings.append(
            Finding(
                "problem", error.message, f"delete {store.calendar_path}; the next export starts it afresh"
            )
        )
    return findings


def check_leftovers(store: Store) -> list[Finding]:
    """Temp files from an interrupted write, and a lock held right now."""
    findings = []
    for folder in (store.home, store.journal_dir):
        if folder.is_dir():
            for leftover in sorted(folder.glob(".*.tmp")):
                findings.append(
                    Finding(
                        "problem",
                        f"{leftover} is left over from an interrupted write",
                        f"delete it (or run `peerloop doctor --fix`); {leftover.name.split('.')[1]}.toml is intact",
                        fixable=True,
                    )
                )
    if store.lock_path.is_file():
        import fcntl

        fd = os.open(store.lock_path, os.O_RDONLY)  # read-only: a read-only home is checked too
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
        except BlockingIOError:
            findings.append(
                Finding(
                    "note",
                    "another peerloop process holds the lock right now",
                    "let it finish; if none runs, the lock is released when that process ends",
                )
            )
        finally:
            os.close(fd)
    return findings


def repair(store: Store, findings: list[Finding]) -> list[str]:
    """What --fix does: tighten permissions and delete leftover temp files; nothing else is touched."""
    done = []
    for folder in (store.home, store.journal_dir):
        if folder.is_dir() and _mode(folder) != DIR_MODE:
            os.chmod(folder, DIR_MODE)
            done.append(f"chmod 700 {folder}")
    for finding in findings:
        if finding.fixable and "left over" in finding.what:
            leftover = Path(finding.what.split(" is left over")[0])
            leftover.unlink(missing_ok=True)
            done.append(f"deleted {leftover}")
    for folder in (store.home, store.journal_dir):
        for path in folder.glob("*") if folder.is_dir() else ():
            if path.is_file() and _mode(path) & 0o077:
                os.chmod(path, FILE_MODE)
                done.append(f"chmod 600 {path}")
    return done


def doctor(
    fix: Annotated[bool, Opt("--fix", help="Tighten permissions and delete leftover temp files.")] = False,
    json: JsonOption = False,
    home: HomeOption = None,
) -> int:
    """Check the data folder and say how to fix it.

    It looks at permissions, files that do not parse, odd settings and leftovers, and prints each
    finding with how to fix it. Exits 0 when nothing is wrong (notes are fine), 4 when something
    needs fixing.

    Examples:

      peerloop doctor

      peerloop doctor --fix
    """
    store = open_store(home)
    if not store.home.is_dir():
        findings = [Finding("note", f"{store.home} does not exist yet", "run `peerloop init`")]
    else:
        findings = check_permissions(store) + check_files(store) + check_leftovers(store)
    repaired = repair(store, findings) if fix and store.home.is_dir() else []
    if repaired:
        findings = check_permissions(store) + check_files(store) + check_leftovers(store)
    problems = [f for f in findings if f.level == "problem"]
    if json:
        render.emit_json(
            {
                "home": str(store.home),
                "healthy": not problems,
                "repaired": repaired,
                "findings": [{"level": f.level, "what": f.what, "fix": f.fix} for f in findings],
            }
        )
    else:
        for line in repaired:
            render.out(f"fixed: {render.safe(line)}")
        for finding in findings:
            render.out(f"{finding.level}: {render.safe(finding.what)}")
            render.out(f"  fix: {render.safe(finding.fix)}")
        render.out(
            f"{store.home}: {'healthy' if not problems else f'{len(problems)} problem(s) to fix'}"
            + (f", {len(findings) - len(problems)} note(s)" if len(findings) > len(problems) else "")
        )
    return EXIT_DATA if problems else 0
