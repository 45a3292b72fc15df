"""Whatever peerloop writes it reads back unchanged, and keys it does not know survive a rewrite."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peerloop.core.models import (
    EARLIEST_DAY,
    LATEST_DAY,
    Decision,
    FollowUp,
    Gain,
    JournalYear,
    Meeting,
    Mode,
    Peer,
    Reflection,
    Replaced,
    Review,
    Roster,
    Settings,
    Skip,
    Verdict,
    peer_key,
)
from peerloop.core.parse import values
from peerloop.store.records import Store
from tests.conftest import Invoke

# Function-scoped fixtures (the autouse `home`) are not reset between examples; each example uses its own
# temp folder instead, so the health check is safely silenced.
PROPERTY = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


TRICKY = [*"\"'\\,[]{}=#.:;`$%&*|<>/ ", "😀", "👩", "\u200d", "💻", "é", "ß", "İ", "ﬁ", "Ω", "中", "\u2028"]


# Any text a TOML file can hold (everything but lone surrogates), with the awkward characters often.
any_text = st.text(st.one_of(st.characters(exclude_categories=["Cs"]), st.sampled_from(TRICKY)), max_size=30)


# A name as values.clean_name leaves it: no control characters, single spaces, trimmed, non-empty.
names = (
    st.text(st.one_of(st.characters(exclude_categories=["Cc", "Cs"]), st.sampled_from(TRICKY)), max_size=30)
    .map(lambda text: " ".join(text.split()))
    .filter(bool)
)


emails = st.builds(
    lambda local, domain: f"{local}@{domain}.example",
    st.text(st.sampled_from([*"abcxyz019._+-", "é", "中"]), min_size=1, max_size=10),
    st.text(st.sampled_from(list("abcxyz019-")), min_size=1, max_size=10),
)


dates = st.dates(EARLIEST_DAY, LATEST_DAY)  # the years peerloop plans in (outside: refused on read)


bare_keys = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz_-0123456789"), min_size=1, max_size=8)


any_keys = st.one_of(bare_keys, st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=8))


toml_scalars = st.one_of(
    any_text,
    st.integers(-(2**63), 2**63 - 1),
    st.booleans(),
    st.floats(allow_nan=False),
    dates,
    st.times(),
    st.datetimes(dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31)),
)


toml_values = st.recursive(
    toml_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_keys, inner, max_size=3),
    max_leaves=6,
)


moments = st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(9000, 12, 31)).map(
    lambda moment: moment.replace(microsecond=0, tzinfo=dt.UTC)
)
"""When a record was changed: UTC, to the second."""


replaced_versions = st.lists(
    st.builds(
        Replaced,
        changed=st.none() | moments,
        fields=st.dictionaries(
            any_keys.filter(lambda key: key != "changed"), toml_values, min_size=1, max_size=3
        ),
    ),
    max_size=2,
).map(tuple)


def extras(known: set[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Keys a newer peerloop might write next to the ones this one knows."""
    return st.dictionaries(any_keys.filter(lambda key: key not in known), toml_values, max_size=3)


def _fields(cls: Any) -> set[str]:
    return set(cls._fields)


settings_strategy = st.builds(
    Settings,
    name=names,
    timezone=st.sampled_from(["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Asia/Kolkata"]),
    weekday=st.integers(0, 6),
    time=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    duration=st.integers(5, 1440),
    mode=st.sampled_from(Mode),
    trial_start=dates.filter(lambda d: d.year < 9998),
    trial_months=st.integers(1, 24),
    email=st.none() | emails,
    mode_times=st.dictionaries(
        st.sampled_from(Mode), st.times().map(lambda t: t.replace(second=0, microsecond=0)), max_size=3
    ),
    stopped_on=st.none() | dates,
    changed=st.none() | moments,
    extra=extras(_fields(Settings) | {"weekday", "coffee_time", "lunch_time", "call_time"}),
)


peer_strategy = st.builds(
    Peer,
    name=names,
    added=dates,
    email=st.none() | emails,
    org=st.none() | any_text,
    mode=st.none() | st.sampled_from(Mode),
    note=st.none() | any_text,
    paused_until=st.none() | dates,
    formerly=st.lists(names, max_size=2).map(tuple),
    changed=st.none() | moments,
    extra=extras(_fields(Peer)),
)


roster_strategy = st.builds(
    Roster,
    settings=st.none() | settings_strategy,
    peers=st.lists(peer_strategy, max_size=8, unique_by=lambda peer: peer_key(peer.name)).map(tuple),
    removed=st.dictionaries(names, moments, max_size=2),
    extra=extras({"schema_version", "settings", "peers", "removed"}),
)


@PROPERTY
@given(roster=roster_strategy)
def test_any_roster_survives_save_and_load(roster: Roster) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "home")
        store.save_roster(roster, merged=True)  # as given: no moment stamped on it
        assert store.load_roster() == roster._replace(removed=dict(sorted(roster.removed.items())))
        for peer in roster.peers:
            assert values.clean_name(peer.name) == peer.name


@st.composite
def journal_years(draw: st.DrawFn) -> JournalYear:
    year = draw(st.integers(1900, 2200))
    in_year = st.dates(dt.date(year, 1, 1), dt.date(year, 12, 31))
    ids = iter(draw(st.lists(any_text, min_size=12, max_size=12, unique=True)))

    def entries(build: Callable[..., Any], **fields: Any) -> list[Any]:
        versions = {"changed": st.none() | moments, "replaced": replaced_versions}
        made = draw(
            st.lists(st.builds(build, id=st.just(""), date=in_year, **versions, **fields), max_size=3)
        )
        return [entry._replace(id=next(ids)) for entry in made]  # ids unique across kinds

    optional = st.none() | any_text
    meetings = entries(
        Meeting,
        peer=any_text,
        mode=st.sampled_from(Mode),
        issue=optional,
        gains=st.lists(st.sampled_from(Gain), max_size=4).map(tuple),
        win=optional,
        works=optional,
        improve=optional,
        follow_ups=st.lists(st.tuples(any_text, st.booleans()), max_size=5).map(
            lambda items: tuple(FollowUp(text, done, n) for n, (text, done) in enumerate(items, start=1))
        ),
        note=optional,
        extra=extras(_fields(Meeting) | {"follow_ups_done"}),
    )
    skips = entries(Skip, reason=any_text, peer=optional, extra=extras(_fields(Skip)))
    reflections = entries(
        Reflection,
        names=st.lists(any_text, max_size=4).map(tuple),
        why=optional,
        excuses=st.lists(any_text, max_size=4).map(tuple),
        ceo=optional,
        extra=extras(_fields(Reflection)),
    )
    reviews = entries(
        Review,
        trial_start=dates,
        added_value=st.sampled_from(Verdict),
        decision=st.sampled_from(Decision),
        works=optional,
        improve=optional,
        early=st.booleans(),
        extra=extras(_fields(Review)),
    )

    def in_file_order(items: list[Any]) -> tuple[Any, ...]:
        return tuple(sorted(items, key=lambda entry: (entry.date, entry.id)))

    return JournalYear(
        year=year,
        meetings=in_file_order(meetings),
        skips=in_file_order(skips),
        reflections=in_file_order(reflections),
        reviews=in_file_order(reviews),
        forgotten=dict(sorted(draw(st.dictionaries(bare_keys, moments, max_size=3)).items())),
        extra=draw(
            extras({"schema_version", "meetings", "skips", "reflections", "reviews", "touches", "forgotten"})
        ),
    )


@PROPERTY
@given(journal_year=journal_years())
def test_any_journal_year_survives_save_and_load(journal_year: JournalYear) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "home")
        store.save_year(journal_year, merged=True)  # as given: no moment stamped on it
        assert store.journal_years() == [journal_year.year]
        assert store.load_year(journal_year.year) == journal_year


def test_entries_are_written_in_date_order_and_read_back_so() -> None:
    late = Skip(id="b", date=dt.date(2026, 5, 1), reason="ill")
    early = Skip(id="a", date=dt.date(2026, 2, 1), reason="travel")
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder))
        store.save_year(JournalYear(year=2026, skips=(late, early)), merged=True)
        assert store.load_year(2026).skips == (early, late)


HAND_WRITTEN_ROSTER = """\
# written by a newer peerloop, then edited by hand
schema_version = 1
sync_token = "abc\\"def"
features = ["x", "y"]
empty_list = []

[settings]
name = "Dana Ode"
timezone = "Europe/Berlin"
weekday = "tue"
time = 08:30:00
duration = 45
mode = "coffee"
trial_start = 2026-03-02
trial_months = 6
reminder = { days = 2, channel = "mail" }
quiet_hours = []

[settings.future]
level = 3

[[peers]]
name = "Ann Lee"
added = 2026-03-02
pronouns = "she/her"
tags = []
"met at" = 2019-05-04

[[peers.links]]
url = "https://example.com/ann"

[[peers]]
name = "Bo Chen"
added = 2026-03-02
timezone_hint = "Asia/Shanghai"

[archive]
kept = true
"""


HAND_WRITTEN_YEAR = """\
schema_version = 1
locked_by = "sync-tool"

[[meetings]]
id = "20260303-psve7"
date = 2026-03-03
peer = "Ann Lee"
mode = "coffee"
rating = 4
location = { city = "Berlin", venue = "Café Ö" }
attachments = []

[[meetings]]
id = "20260310-vzrq2"
date = 2026-03-10
peer = "Bo Chen"
mode = "call"
duration_actual = 50

[[skips]]
id = "20260317-dvvbh"
date = 2026-03-17
reason = "ill"
peer = "Ann Lee"
moved_to = 2026-03-19
"""


def _unknown_keys(data: dict[str, Any]) -> dict[str, Any]:
    settings_extra = {k: v for k, v in data["settings"].items() if k in {"reminder", "quiet_hours", "future"}}
    peer_extra = [
        {
            k: v
            for k, v in peer.items()
            if k not in {"name", "added", "email", "org", "mode", "note", "changed"}
        }
        for peer in data["peers"]
    ]
    top = {k: v for k, v in data.items() if k not in {"schema_version", "settings", "peers", "written"}}
    return {"top": top, "settings": settings_extra, "peers": peer_extra}


def test_unknown_roster_keys_written_by_hand_survive_a_rewrite(
    cli: Invoke, store: Store, at: Callable[[str], None]
) -> None:
    at("2026-03-03T12:00")
    store.home.mkdir(parents=True)
    store.roster_path.write_text(HAND_WRITTEN_ROSTER, encoding="utf-8")
    before = _unknown_keys(tomllib.loads(HAND_WRITTEN_ROSTER))
    result = cli("add", "Cy Dee")
    assert result.exit_code == 0, result.output
    after = tomllib.loads(store.roster_path.read_text(encoding="utf-8"))
    assert [peer["name"] for peer in after["peers"]] == ["Ann Lee", "Bo Chen", "Cy Dee"]
    after["peers"] = after["peers"][:2]
    for peer in after["peers"]:
        peer.pop("added")
    assert _unknown_keys(after) == before
    # And a second rewrite changes nothing more.
    written = store.roster_path.read_bytes()
    store.save_roster(store.load_roster())
    assert store.roster_path.read_bytes() == written


def test_unknown_journal_keys_written_by_hand_survive_a_rewrite(cli: Invoke, store: Store) -> None:
    store.home.mkdir(parents=True)
    store.roster_path.write_text(HAND_WRITTEN_ROSTER, encoding="utf-8")
    store.journal_dir.mkdir()
    store.year_path(2026).write_text(HAND_WRITTEN_YEAR, encoding="utf-8")
    # Renaming a peer rewrites the journal entries that name them.
    result = cli("edit", "Ann Lee", "--name", "Ann Lee-Smith")
    assert result.exit_code == 0, result.output
    expected = tomllib.loads(HAND_WRITTEN_YEAR) | {"schema_version": 2}
    for entry in (expected["meetings"][0], expected["skips"][0]):
        entry["peer"] = "Ann Lee-Smith"
    written = tomllib.loads(store.year_path(2026).read_text(encoding="utf-8"))
    assert written.pop("written")["with"] == [
        "roster.toml"
    ]  # the change that wrote it, and what else it wrote
    for entry in (written["meetings"][0], written["skips"][0]):  # the entries the rename changed say when
        assert isinstance(entry.pop("changed"), dt.datetime)
    assert written == expected


# Function-scoped fixtures are not reset between examples: each example gets its own data folder (--home).
HISTORY_PROPERTY = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


SINGLE = "\"'\\\n\r\t\x00\x1b\x7f\u2028\u2029\ufeff,[]{}=#-"


TRICKY_IN_HISTORY = [*SINGLE, "😀", "👩\u200d💻", "é", "ß", "İ", "中", '"""', "'''"]


# Lone surrogates (bytes that are not UTF-8, in argv) are refused with a usage error: see test_log_cli.py.
PIECES = st.one_of(st.characters(exclude_categories=["Cs"]), st.sampled_from(TRICKY_IN_HISTORY))


TEXT = st.lists(PIECES, max_size=25).map("".join)


def _valid_name(text: str) -> bool:
    try:
        return values.clean_name(text) == text
    except ValueError:
        return False


NAMES = st.lists(PIECES, min_size=1, max_size=12).map("".join).filter(_valid_name)


def blank_is_none(text: str) -> str | None:
    return text if text.strip() else None


@HISTORY_PROPERTY
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
        listed = json.loads(cli(*home, "history", "--all", "--json").stdout)
        assert listed == [
            {
                "id": "20260303-psve7", "kind": "meeting", "date": "2026-03-03", "peer": name, "mode": mode,
                "issue": blank_is_none(issue), "gains": gains, "win": blank_is_none(win),
                "works": blank_is_none(works), "improve": blank_is_none(improve),
                "follow_ups": [
                    {"handle": f"20260303-psve7.{n}", "n": n, "text": text, "done": False}
                    for n, text in enumerate([f for f in follow_ups if f.strip()], start=1)
                ],
                "note": blank_is_none(note), "replaced": [],
            },
            {"id": "20260224-wmkms", "kind": "skip", "date": "2026-02-24", "peer": name, "reason": reason,
             "replaced": []},
        ]  # fmt: skip
        assert json.loads(cli(*home, "history", "--all", "--json", "--", name).stdout) == listed
