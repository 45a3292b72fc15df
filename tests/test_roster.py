"""The roster commands as a user runs them: init, add, peers, edit, remove, pause, resume."""

from __future__ import annotations

import datetime as dt
import json
import stat
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from peerloop import prompts
from peerloop.store.records import Store
from tests.conftest import Invoke, as_json

INIT = ["init", "--name", "Dana Ode", "--timezone", "Europe/Berlin", "--day", "tue", "--time", "08:30",
        "--duration", "45", "--mode", "coffee", "--start", "2026-03-02"]  # fmt: skip


def test_nothing_is_created_before_a_command_writes(cli: Invoke, home: Path) -> None:
    assert cli("peers").exit_code == 0
    assert cli("peers", "--json").stdout.strip() == "[]"
    assert not home.exists()


def test_init_with_flags_writes_private_settings(cli: Invoke, store: Store, home: Path) -> None:
    result = cli(*INIT, "--email", "dana@example.com")
    assert result.exit_code == 0, result.output
    settings = store.load_roster().settings
    assert settings is not None
    assert (settings.name, settings.timezone, settings.weekday, f"{settings.time:%H:%M}") == (
        "Dana Ode", "Europe/Berlin", 1, "08:30"
    )  # fmt: skip
    assert settings.email == "dana@example.com"
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE(store.roster_path.stat().st_mode) == 0o600


def test_init_off_a_terminal_names_the_missing_flag(cli: Invoke, home: Path) -> None:
    result = cli("init", "--timezone", "Europe/Berlin")
    assert result.exit_code == 2
    assert result.stderr.strip() == "peerloop: error: --name is required (no terminal to ask on)"
    assert not home.exists()


@pytest.mark.usefixtures("terminal")
def test_init_on_a_terminal_asks_each_question_and_the_peers(cli: Invoke, store: Store) -> None:
    answers = ("Dana Ode\n\nparis\nthu\n8am\n60\nlunch\nlunch 12:30 pm\nMar 5 2026\nAnn Lee\nBo Chen\n\n"
               "ann@example.com\ncall\n\n\n")  # fmt: skip
    result = cli("init", input=answers)
    assert result.exit_code == 0, result.output
    roster = store.load_roster()
    assert roster.settings is not None
    assert roster.settings.timezone == "Europe/Paris"
    assert f"{roster.settings.time:%H:%M}" == "08:00"
    assert roster.settings.trial_start == dt.date(2026, 3, 5)
    assert roster.settings.mode.value == "lunch"
    assert {mode.value: f"{t:%H:%M}" for mode, t in roster.settings.mode_times.items()} == {"lunch": "12:30"}
    assert [(p.name, p.email, p.mode and p.mode.value) for p in roster.peers] == [
        ("Ann Lee", "ann@example.com", "call"), ("Bo Chen", None, None)
    ]  # fmt: skip
    assert "trouble getting past 3 names? Why might this be the case?" in result.stderr


@pytest.mark.usefixtures("terminal")
def test_init_on_a_terminal_asks_again_after_a_bad_zone(cli: Invoke, store: Store) -> None:
    answers = "Dana\n\nMars/Olympus\nEurope/Berlin\n\n\n\n\n\n\n\n"
    result = cli("init", input=answers)
    assert result.exit_code == 0, result.output
    assert (
        "'Mars/Olympus' is not a known time zone or city; use an IANA name like Europe/Berlin"
        in result.stderr
    )
    settings = store.load_roster().settings
    assert settings is not None
    assert settings.timezone == "Europe/Berlin"


def test_second_init_updates_settings_and_keeps_the_peers(cli: Invoke, store: Store) -> None:
    cli(*INIT, "--peer", "Ann Lee")
    result = cli("init", "--time", "09:15")
    assert result.exit_code == 0, result.output
    roster = store.load_roster()
    assert roster.settings is not None
    assert f"{roster.settings.time:%H:%M}" == "09:15"
    assert roster.settings.name == "Dana Ode"
    assert [p.name for p in roster.peers] == ["Ann Lee"]
    assert result.stdout.startswith("Updated your settings")


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--timezone", "Europe/Atlantis", "--timezone: 'Europe/Atlantis' is not a known time zone or city"),
        ("--day", "someday", "Invalid value for '--day': 'someday' is not one of 'mon', 'tue'"),
        ("--time", "25:00", "--time: '25:00' is not a time of day"),
        ("--start", "2026-02-30", "--start: '2026-02-30' is not a date"),
        ("--email", "dana", "--email: 'dana' is not an email address"),
        ("--mode", "tea", "Invalid value for '--mode': 'tea' is not one of 'coffee', 'lunch', 'call'"),
        ("--duration", "0", "Invalid value for '--duration': 0 is not in the range 5<=x<=1440"),
        ("--lunch-time", "noon", "--lunch-time: 'noon' is not a time of day"),
        ("--start", "9999-07-01", "--start: 9999-07-01 is outside the years peerloop plans in"),
    ],
)
def test_init_rejects_a_bad_value_in_one_line(
    cli: Invoke, home: Path, flag: str, value: str, message: str
) -> None:
    args = [*INIT]
    if flag in args:
        args[args.index(flag) + 1] = value
    else:
        args += [flag, value]
    result = cli(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"peerloop: error: {message}")
    assert result.stderr.count("\n") == 1
    assert not home.exists()


def test_add_then_peers_lists_them_in_order(cli: Invoke) -> None:
    cli(*INIT)
    for name in ("Ann Lee", "Bo Chen", "Zoë Ürük"):
        assert cli("add", name).exit_code == 0
    result = cli(
        "add", "Cy Dee", "--email", "cy@example.com", "--org", "Acme", "--mode", "lunch", "--note", "met at X"
    )
    assert result.exit_code == 0
    listed = json.loads(cli("peers", "--json").stdout)
    assert [p["name"] for p in listed] == ["Ann Lee", "Bo Chen", "Zoë Ürük", "Cy Dee"]
    assert {key: listed[3][key] for key in ("name", "email", "org", "mode", "note", "paused_until")} == {
        "name": "Cy Dee", "email": "cy@example.com", "org": "Acme", "mode": "lunch", "note": "met at X",
        "paused_until": None,
    }  # fmt: skip
    table = cli("peers").stdout
    assert "Cy Dee" in table
    assert "Acme" in table


def test_names_are_unique_whatever_their_case(cli: Invoke) -> None:
    cli(*INIT)
    cli("add", "Ann Lee")
    result = cli("add", "ANN LEE")
    assert result.exit_code == 3
    assert "'Ann Lee' is already in the roster" in result.stderr


def test_init_asks_the_short_list_question_once_and_add_only_counts(cli: Invoke) -> None:
    assert (
        "1 peer in the roster. Are you having trouble getting past 3 names?"
        in cli(*INIT, "--peer", "Ann Lee").stderr
    )
    for count, name in enumerate(("Bo Chen", "Cy Dee"), start=2):
        result = cli("add", name)
        assert "trouble" not in result.output
        assert "in the roster; the method suggests 4 to 5." in result.stderr
        assert result.stderr.startswith(f"warning: {count} peer")
    assert "warning" not in cli("add", "Di Eze").stderr


def test_a_sixth_active_peer_warns_about_the_cadence(cli: Invoke) -> None:
    cli(*INIT)
    for name in ("A", "B", "C", "D", "E"):
        assert "less often" not in cli("add", name).stderr
    result = cli("add", "F")
    assert result.exit_code == 0
    assert "each is seen every 6 weeks, less often than every 5" in result.stderr


def test_unknown_peer_is_a_clear_error(cli: Invoke) -> None:
    cli(*INIT)
    cli("add", "Ann Lee")
    for args in (["edit", "Nobody", "--org", "X"], ["remove", "Nobody", "--yes"], ["pause", "Nobody", "--until",
                 "2030-01-01"], ["resume", "Nobody"]):  # fmt: skip
        result = cli(*args)
        assert result.exit_code == 3, args
        assert (
            result.stderr
            == "peerloop: error: no peer named 'Nobody' in the roster (peers: Ann Lee); see `peerloop peers`\n"
        )


def test_edit_changes_and_clears_fields(cli: Invoke, store: Store) -> None:
    cli(*INIT)
    cli("add", "Ann Lee", "--org", "Acme", "--email", "ann@example.com")
    assert cli("edit", "ann lee", "--org", "", "--mode", "call").exit_code == 0
    peer = store.load_roster().peers[0]
    assert (peer.org, peer.mode, peer.email) == (None, "call", "ann@example.com")


def test_edit_renames_without_clashing(cli: Invoke, store: Store) -> None:
    cli(*INIT)
    cli("add", "Ann Lee")
    cli("add", "Bo Chen")
    assert cli("edit", "Bo Chen", "--name", "ann lee").exit_code == 3
    assert cli("edit", "Bo Chen", "--name", "Bo Chen-Li").exit_code == 0
    assert [p.name for p in store.load_roster().peers] == ["Ann Lee", "Bo Chen-Li"]


def test_edit_with_nothing_to_change_says_so(cli: Invoke) -> None:
    cli(*INIT)
    cli("add", "Ann Lee")
    result = cli("edit", "Ann Lee")
    assert result.exit_code == 2
    assert "nothing to change" in result.stderr


def test_remove_needs_yes_off_a_terminal(cli: Invoke, store: Store) -> None:
    cli(*INIT)
    cli("add", "Ann Lee")
    result = cli("remove", "Ann Lee")
    assert result.exit_code == 2
    assert result.stderr == "peerloop: error: pass --yes to confirm (no terminal to ask on)\n"
    assert len(store.load_roster().peers) == 1
    assert cli("remove", "ann lee", "--yes").exit_code == 0
    assert store.load_roster().peers == ()


@pytest.mark.usefixtures("terminal")
def test_remove_on_a_terminal_asks_first(cli: Invoke, store: Store) -> None:
    cli(*INIT)
    cli("add", "Ann Lee")
    assert cli("remove", "Ann Lee", input="n\n").exit_code == 0
    assert len(store.load_roster().peers) == 1
    assert cli("remove", "Ann Lee", input="y\n").exit_code == 0
    assert store.load_roster().peers == ()


@pytest.mark.usefixtures("terminal")
def test_an_answer_that_is_neither_yes_nor_no_is_asked_again(cli: Invoke, store: Store) -> None:
    cli(*INIT)
    cli("add", "Ann Lee")
    result = cli("remove", "Ann Lee", input="no time\nyes\n")
    assert result.exit_code == 0
    assert "Please answer y or n." in result.stderr
    assert store.load_roster().peers == ()


def test_a_second_resume_says_nothing_changed(cli: Invoke, store: Store, at: Callable[[str], None]) -> None:
    at("2026-03-04T09:00")
    cli(*INIT)
    cli("add", "Ann Lee")
    cli("add", "Bo Chen")
    assert cli("pause", "Ann Lee", "--until", "in 6 weeks").exit_code == 0
    first = cli("resume", "Ann Lee")
    assert first.stdout == "Ann Lee is back in the rotation from the week of Mon 2026-03-09.\n"
    roster = store.home / "roster.toml"
    before = roster.stat().st_mtime_ns, roster.stat().st_ino
    again = cli("resume", "Ann Lee")
    assert (again.exit_code, again.stdout) == (
        0, "Ann Lee is already back in the rotation from the week of Mon 2026-03-09; nothing changed.\n")  # fmt: skip
    assert (roster.stat().st_mtime_ns, roster.stat().st_ino) == before


def test_pause_and_resume(cli: Invoke, store: Store, at: Callable[[str], None]) -> None:
    at("2026-03-02T09:00")
    cli(*INIT)
    cli("add", "Ann Lee")
    assert cli("pause", "Ann Lee", "--until", "in 6 weeks").exit_code == 0
    assert store.load_roster().peers[0].paused_until == dt.date(2026, 4, 13)
    assert "paused until 2026-04-13" in cli("peers").stdout
    assert cli("resume", "ann lee").exit_code == 0
    assert store.load_roster().peers[0].paused_until is None
    result = cli("resume", "Ann Lee")
    assert result.exit_code == 3
    assert "not paused" in result.stderr


def test_pause_needs_a_future_date(cli: Invoke) -> None:
    cli(*INIT)
    cli("add", "Ann Lee")
    assert cli("pause", "Ann Lee", "--until", "2000-01-01").exit_code == 2
    assert cli("pause", "Ann Lee", "--until", "soon").stderr.startswith("peerloop: error: --until: 'soon'")


def test_usage_errors_are_one_line(cli: Invoke) -> None:
    result = cli("add", "--bogus")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "No such option: --bogus" in result.stderr


def test_home_flag_wins_over_the_environment(cli: Invoke, tmp_path: Path, home: Path) -> None:
    other = tmp_path / "elsewhere"
    assert cli("--home", str(other), "init", *INIT[1:]).exit_code == 0
    assert (other / "roster.toml").exists()
    assert not home.exists()
    assert cli("--home", str(other), "add", "Ann").exit_code == 0
    assert "Ann" in (other / "roster.toml").read_text()


def test_python_m_peerloop_runs(tmp_path: Path) -> None:
    import subprocess

    result = subprocess.run([sys.executable, "-m", "peerloop", "--version"], capture_output=True, text=True)
    assert result.returncode == 0
    assert result.stdout.startswith("peerloop ")


def test_edit_says_what_changed_and_a_rename_says_both_names(
    cli: Invoke, set_up: Callable[..., None]
) -> None:
    set_up("Cy Dee", "Di Eze")
    assert cli("edit", "Cy Dee", "--name", "Cy Dee-Park").stdout == "Renamed Cy Dee to Cy Dee-Park.\n"
    both = cli("edit", "cy", "--name", "Cy Dee", "--email", "cy@example.com")
    assert both.stdout == "Renamed Cy Dee-Park to Cy Dee; updated their email.\n"
    assert cli("edit", "cy", "--org", "Acme", "--mode", "call").stdout == "Updated Cy Dee's org and mode.\n"
    assert cli("edit", "cy", "--org", "Acme").stdout == "Cy Dee already had these details; nothing changed.\n"


def test_peers_json_drops_a_pause_that_has_ended(
    cli: Invoke, set_up: Callable[..., None], at: Callable[[str], None]
) -> None:
    set_up("Ann Lee", "Bo Chen", "Cy Dee", "Di Eze")
    assert cli("pause", "Bo Chen", "--until", "2026-03-20").exit_code == 0
    assert as_json(cli, "peers")[1]["paused_until"] == "2026-03-20"
    at("2026-03-20T09:00")
    assert as_json(cli, "peers")[1]["paused_until"] is None


def test_a_new_name_that_looks_like_a_peer_needs_yes_off_a_terminal(
    cli: Invoke, set_up: Callable[..., None], store: Store
) -> None:
    set_up("Ann Lee", "Bo Chen")
    refused = cli("add", "ann")
    assert (refused.exit_code, refused.stderr) == (
        2, "peerloop: error: 'ann' looks like Ann Lee already in the roster; pass --yes to add 'ann' as another peer\n"
    )  # fmt: skip
    assert cli("reflect", "--name", "ann", "--name", "Gus Hu", "--add-names").exit_code == 2
    assert [p.name for p in store.load_roster().peers] == ["Ann Lee", "Bo Chen"]
    assert cli("add", "ann", "--yes").exit_code == 0
    assert cli("reflect", "--name", "bo", "--add-names", "--yes").exit_code == 0
    assert [p.name for p in store.load_roster().peers] == ["Ann Lee", "Bo Chen", "ann", "bo"]


def test_a_new_name_that_looks_like_a_peer_is_asked_about_on_a_terminal(
    cli: Invoke, set_up: Callable[..., None], store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_up("Ann Lee", "Bo Chen")
    monkeypatch.setattr(prompts, "interactive", lambda: True)
    declined = cli("add", "ann", input="n\n")
    assert (
        "'ann' looks like Ann Lee already in the roster. Add 'ann' as another peer? [y/N]" in declined.output
    )
    assert "Nothing added." in declined.stderr
    kept = cli("reflect", "--name", "bo", "--name", "Gus Hu", "--add-names", input="n\n")
    assert kept.exit_code == 0, kept.output
    assert [p.name for p in store.load_roster().peers] == ["Ann Lee", "Bo Chen", "Gus Hu"]
    assert store.load_journal().reflections[-1].names == ("bo", "Gus Hu")  # the reflection keeps both
    assert cli("add", "ann", input="y\n").exit_code == 0
    assert store.load_roster().peers[-1].name == "ann"
