"""The data folder itself: `where` (its files, to back them up) and `doctor` (check it, say how to fix it)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from peerloop import options
from peerloop.errors import InputError
from peerloop.inert import safe
from peerloop.output import text
from peerloop.store.home import HOME_ENV

if TYPE_CHECKING:
    from peerloop.store.sealed import Key
from peerloop.store.records import Store

SOURCES = {
    "option": "chosen with --home",
    "environment": f"from ${HOME_ENV}",
    "default": "your platform's user data folder",
}


def data_files(store: Store) -> list[tuple[str, Path, str, str]]:
    """(name in the folder, path, what it holds, what writes it) for each data file; journal years that exist."""
    files = [(store.roster_path, "your settings and peers", "`peerloop init`")]
    files += [(store.year_path(year), f"the journal of {year}", "") for year in store.journal_years()]
    if store.folder.sealed():
        files.append((store.folder.encryption_path, "how the files above are encrypted (no key)",
                      "`peerloop encrypt`"))  # fmt: skip
        files.append((store.folder.key_path, "the key, for the `age` tool (opened by your passphrase)",
                      "`peerloop encrypt` with a passphrase"))  # fmt: skip
    if store.folder.earlier_keys_path.exists():
        files.append((store.folder.earlier_keys_path, "the keys the folder had before a new passphrase or "
                      "`decrypt`", "`peerloop encrypt` or `decrypt` on an encrypted folder"))  # fmt: skip
    files.append(
        (
            store.calendar_path,
            "what the calendar export keeps (UIDs, SEQUENCE)",
            "the first `peerloop export`",
        )
    )
    files.append((store.connections_path, "the servers and feeds you connected", "`peerloop connect`"))
    return [(path.relative_to(store.home).as_posix(), path, what, by) for path, what, by in files]


IgnoreOption = Annotated[
    str | None,
    typer.Option(
        "--ignore",
        metavar="TOOL",
        help="Print only the lines that make TOOL (syncthing, git, nextcloud, dropbox) leave each device's own "
        "files alone.",
        show_default=False,
    ),
]


def where(json: options.JsonOption = False, ignore: IgnoreOption = None) -> None:
    """Show the data folder and its files.

    Everything peerloop knows about you is in this one folder: back it up, or keep it in a synced
    folder or a git repository. Nothing is read or changed: the files are only looked at. A folder kept in
    sync between devices needs the sync tool to leave each device's own files alone (its lock, its
    unfinished changes, its caches): --ignore TOOL prints the lines that tell it so.

    Examples:

      peerloop where

      peerloop where --json | jq -r .home

      peerloop where --ignore syncthing >> "$PEERLOOP_HOME/.stignore"

      peerloop where --ignore git >> "$PEERLOOP_HOME/.gitignore"
    """
    from peerloop.store import device

    store = options.store()
    if ignore is not None:
        tool = ignore.strip().lower()
        if tool not in device.TOOLS:
            raise InputError(f"--ignore {ignore!r}: choose one of {', '.join(device.TOOLS)}")
        # Dropbox marks this device's own lock by name: the one place `where` makes the device's id.
        mine = device.device_id() if tool == "dropbox" else ""
        for line in device.ignore_lines(tool, str(store.home), mine):
            text.out(safe(line))
        return
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
            "device": device.known_device_id(),
            "ignore": device.ignore_patterns(),
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
    text.out(
        "Keep the whole folder (its .lock-*, .status-line, .missed-week and busy.toml files need not be kept)."
    )
    text.out(
        "Kept in sync between devices? `peerloop where --ignore TOOL` prints what the sync tool must ignore."
    )


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


def merge_file(
    base: Annotated[
        Path, typer.Argument(metavar="BASE", help="The version both sides started from (git's %O).")
    ],
    ours: Annotated[
        Path,
        typer.Argument(metavar="OURS", help="This side's version: the merge is written here (git's %A)."),
    ],
    theirs: Annotated[Path, typer.Argument(metavar="THEIRS", help="The other side's version (git's %B).")],
    path: Annotated[
        str | None,
        typer.Argument(
            metavar="[PATH]", help="The file's path in the folder, e.g. journal/2027.toml (git's %P)."
        ),
    ] = None,
) -> int:
    """Merge two versions of a peerloop file: git's merge driver.

    The rules of `doctor --fix`, knowing the common version: every entry of both sides is kept (by id); a field
    one side changed comes from that side; the same field changed on both keeps the newer version, with the
    other beside it (history shows it); a forgotten entry stays forgotten. The roster merges by peer,
    calendar.toml by event UID with the higher SEQUENCE. The merged file replaces OURS and the exit code is 0;
    when a version cannot be read, one line says why, OURS is left as it was and the exit code is 4 (git then
    reports a conflict). An encrypted file (PATH ends in .age) is opened with the key of the folder git runs
    it in (else of PEERLOOP_HOME) and the merge is written encrypted. Set it up once in the repository of your data folder:

    Examples:

      git config merge.peerloop.driver "peerloop merge-file %O %A %B %P"

      echo "*.toml merge=peerloop" >> .gitattributes

      echo "*.age merge=peerloop" >> .gitattributes

      peerloop merge-file base.toml ours.toml theirs.toml roster.toml
    """
    from peerloop.actions.conflicts import merge_texts
    from peerloop.store.atomic import replace_atomically
    from peerloop.store.files import decode, read_bytes
    from peerloop.store.layout import SEALED

    raws = [read_bytes(version) for version in (base, ours, theirs)]
    for version, raw in zip((ours, theirs), raws[1:], strict=True):
        if raw is None:
            raise InputError(f"{version} does not exist; merge-file takes BASE OURS THEIRS as git gives them")
    sealed = bool(path and path.endswith(SEALED))
    key = _repository_key() if sealed else None
    texts = [  # git gives an empty BASE when both sides added the file
        None if raw is None else decode(key.open(raw, version) if key and raw else raw, version)
        for version, raw in zip((base, ours, theirs), raws, strict=True)
    ]
    shown = path.removesuffix(SEALED) if path else None
    merged, notes = merge_texts(texts[0], texts[1] or "", texts[2] or "", shown)
    replace_atomically(ours, key.seal(merged.encode("utf-8")) if key else merged.encode("utf-8"))
    for note in notes:
        text.message(f"peerloop: {safe(path or str(ours))}: {safe(note)}")
    return 0


def _repository_key() -> Key:
    """The key of the folder git runs the driver in (the top of the repository, the data folder itself) when it
    is an encrypted folder, else of the invocation's data folder."""
    from peerloop.store.layout import ENCRYPTION_FILE

    if (Path.cwd() / ENCRYPTION_FILE).is_file():
        return options.opened(Path.cwd()).folder.seal.key()
    return options.store().folder.seal.key()
