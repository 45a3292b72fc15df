"""Any text in any field of a logged meeting or skip comes back unchanged from `history --json`."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peerloop import values
from tests.conftest import Invoke

# Function-scoped fixtures are not reset between examples: each example gets its own data folder (--home).
PROPERTY = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

SINGLE = "\"'\\\n\r\t\x00\x1b\x7f\u2028\u2029\ufeff,[]{}=#-"
TRICKY = [*SINGLE, "😀", "👩\u200d💻", "é", "ß", "İ", "中", '"""', "'''"]
# Lone surrogates (bytes that are not UTF-8, in argv) are refused with a usage error: see test_log_cli.py.
PIECES = st.one_of(st.characters(exclude_categories=["Cs"]), st.sampled_from(TRICKY))
TEXT = st.lists(PIECES, max_size=25).map("".join)


def _valid_name(text: str) -> bool:
    try:
        return values.clean_name(text) == text
    except ValueError:
        return False


NAMES = st.lists(PIECES, min_size=1, max_size=12).map("".join).filter(_valid_name)


def blank_is_none(text: str) -> str | None:
    return text if text.strip() else None


@PROPERTY
@given(
    name=NAMES,
    issue=TEXT, win=TEXT, works=TEXT, improve=TEXT, note=TEXT,
    follow_ups=st.lists(TEXT, max_size=3),
    gains=st.lists(st.sampled_from(["advice", "strength", "motivation"]), unique=True),
    mode=st.sampled_from(["coffee", "lunch", "call"]),
    reason=TEXT.filter(str.strip),
)  # fmt: skip
def test_log_then_history_json_keeps_every_field(
    cli: Invoke,
    at: Callable[[str], None],
    name: str,
    issue: str,
    win: str,
    works: str,
    improve: str,
    note: str,
    follow_ups: list[str],
    gains: list[str],
    mode: str,
    reason: str,
) -> None:
    at("2026-03-03T12:00")
    with tempfile.TemporaryDirectory() as folder:
        home = ["--home", folder]
        init = cli(*home, "init", "--name", "Dana", "--timezone", "Europe/Berlin", "--day", "tue",
                   "--time", "08:30", "--start", "2026-03-02", f"--peer={name}")  # fmt: skip
        assert init.exit_code == 0, init.output
        args = [f"--issue={issue}", f"--win={win}", f"--works={works}", f"--improve={improve}", f"--note={note}",
                f"--mode={mode}", *(f"--gain={g}" for g in gains), *(f"--follow-up={f}" for f in follow_ups)]  # fmt: skip
        logged = cli(*home, "log", *args, "--", name)
        assert logged.exit_code == 0, logged.output
        skipped = cli(*home, "log", "--skip", "--date=2026-02-24", f"--reason={reason}")
        assert skipped.exit_code == 0, skipped.output
        listed = json.loads(cli(*home, "history", "--json").stdout)
        assert listed == [
            {
                "id": "20260303-1", "kind": "meeting", "date": "2026-03-03", "peer": name, "mode": mode,
                "issue": blank_is_none(issue), "gains": gains, "win": blank_is_none(win),
                "works": blank_is_none(works), "improve": blank_is_none(improve),
                "follow_ups": [
                    {"handle": f"20260303-1.{n}", "n": n, "text": text, "done": False}
                    for n, text in enumerate([f for f in follow_ups if f.strip()], start=1)
                ],
                "note": blank_is_none(note),
            },
            {"id": "20260224-1", "kind": "skip", "date": "2026-02-24", "peer": name, "reason": reason},
        ]  # fmt: skip
        assert json.loads(cli(*home, "history", "--json", "--", name).stdout) == listed
