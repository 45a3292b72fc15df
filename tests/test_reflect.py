"""`peerloop reflect`: the coaching thoughts, from flags in scripts and one question at a time on a terminal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from peerloop import prompts
from peerloop.core.models import Reflection
from peerloop.store.records import Store
from tests.conftest import Invoke

SIX_MONTH_TEST = (
    "(c) Test the process with a time limit: your 6-month trial runs from Mon 2026-03-02 to Sun 2026-08-30 "
    "(26 weeks)."
)


@pytest.fixture
def at_terminal(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """From now on a person is at the terminal (after a set-up done with flags)."""
    return lambda: monkeypatch.setattr(prompts, "interactive", lambda: True)


def reflections(store: Store) -> tuple[Reflection, ...]:
    return store.load_journal().reflections


def test_reflect_before_init_points_to_init(cli: Invoke) -> None:
    result = cli("reflect", "--name", "Ann")
    assert result.exit_code == 6
    assert "run `peerloop init` first" in result.stderr


def test_flags_answer_every_question(cli: Invoke, set_up: Callable[..., None], store: Store) -> None:
    set_up("Ann Lee", "Bo Chen")
    result = cli(
        "reflect", "--name", "Ann Lee", "--name", "Eve Fox", "--name", "eve fox", "--why", "I only know my team",
        "--excuse", "no time", "--excuse", "  ", "--excuse", "it feels awkward", "--ceo", "Part of the job.",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    [saved] = reflections(store)
    assert saved._replace(changed=None) == Reflection(
        id="20260302-ge5bm",
        date=dt.date(2026, 3, 2),
        names=("Ann Lee", "Eve Fox"),
        why="I only know my team",
        excuses=("no time", "it feels awkward"),
        ceo="Part of the job.",
    )
    assert (
        result.stdout.splitlines()[0]
        == "Saved your coaching thoughts of Mon 2026-03-02 in the journal (20260302-ge5bm)."
    )
    assert SIX_MONTH_TEST in result.stdout
    assert [p.name for p in store.load_roster().peers] == [
        "Ann Lee",
        "Bo Chen",
    ]  # not added without --add-names


def test_the_six_month_test_wraps_at_spaces_to_the_terminal(
    cli: Invoke, set_up: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    set_up("Ann Lee", "Bo Chen")
    monkeypatch.setenv("COLUMNS", "80")
    result = cli("reflect", "--name", "Ann Lee", "--excuse", "no time", "--add-names")
    assert result.exit_code == 0, result.output
    assert all(len(line) <= 80 for line in result.stdout.splitlines()), result.stdout
    assert SIX_MONTH_TEST in " ".join(result.stdout.split())


def test_add_names_adds_the_listed_names_not_yet_in_the_roster(
    cli: Invoke, set_up: Callable[..., None], store: Store
) -> None:
    set_up("Ann Lee")
    result = cli("reflect", "--name", "ann lee", "--name", "Eve Fox", "--name", "Gus Hu", "--add-names")
    assert result.exit_code == 0, result.output
    assert [p.name for p in store.load_roster().peers] == ["Ann Lee", "Eve Fox", "Gus Hu"]
    assert "Added Eve Fox, Gus Hu to the roster (3 peers)." in result.stdout
    assert "3 peers in the roster; the method suggests 4 to 5." in result.stderr  # the roster is still short
    assert store.load_roster().peers[1].added == dt.date(2026, 3, 2)


def test_a_second_reflection_the_same_day_gets_its_own_id(
    cli: Invoke, set_up: Callable[..., None], store: Store
) -> None:
    set_up()
    assert cli("reflect", "--excuse", "no time").exit_code == 0
    assert cli("reflect", "--excuse", "travel").exit_code == 0
    assert [r.id for r in reflections(store)] == ["20260302-ge5bm", "20260302-t6x20"]


def test_off_a_terminal_without_flags_it_names_the_flags(
    cli: Invoke, set_up: Callable[..., None], store: Store
) -> None:
    set_up("Ann Lee")
    result = cli("reflect")
    assert result.exit_code == 2
    assert result.stderr == (
        "peerloop: error: reflect asks its questions on a terminal; in a script, answer with --purpose, --name "
        "(repeat for each person), --why, --excuse (repeat), --ceo and --add-names\n"
    )
    assert reflections(store) == ()


def test_a_bad_name_is_refused_with_its_flag(cli: Invoke, set_up: Callable[..., None]) -> None:
    set_up()
    result = cli("reflect", "--name", "Ann\x07")
    assert result.exit_code == 2
    assert result.stderr.startswith("peerloop: error: --name: a name cannot hold control characters")


def test_on_a_terminal_it_asks_one_question_at_a_time(
    cli: Invoke, set_up: Callable[..., None], store: Store, at_terminal: Callable[[], None]
) -> None:
    set_up("Ann Lee")
    at_terminal()
    answers = "\n".join(
        ["Allies outside my team", "Ann Lee", "Eve Fox", "", "Most of my peers are in my team", "y", "no time",
         "travel", "", "Go."]
    )  # fmt: skip
    result = cli("reflect", input=answers + "\n")
    assert result.exit_code == 0, result.output
    [saved] = reflections(store)
    assert saved.purpose == "Allies outside my team"
    assert saved.names == ("Ann Lee", "Eve Fox")
    assert saved.why == "Most of my peers are in my team"
    assert saved.excuses == ("no time", "travel")
    assert saved.ceo == "Go."
    assert [p.name for p in store.load_roster().peers] == ["Ann Lee", "Eve Fox"]
    asked = result.stderr
    order = [
        "What do you want this network to give you?",
        "(a) Make a list right now of the people you might contact",
        "Already in your roster: Ann Lee.",
        "Are you having trouble getting past 3 names? Why might this be the case?",
        "Add Eve Fox to your roster? [y/N]",
        "(b) Make a list of all the excuses that would hold you back.",
        "If you took that list to your CEO, how might they respond?",
    ]
    assert [asked.index(text) for text in order] == sorted(asked.index(text) for text in order)
    assert SIX_MONTH_TEST in result.stdout


def test_with_four_names_it_does_not_ask_why_and_no_excuses_skip_the_ceo(
    cli: Invoke, set_up: Callable[..., None], store: Store, at_terminal: Callable[[], None]
) -> None:
    set_up("A", "B", "C", "D")
    at_terminal()
    result = cli("reflect", input="\nA\nB\nC\nD\n\n\n")
    assert result.exit_code == 0, result.output
    assert "Why might this be the case?" not in result.stderr
    assert "to your roster?" not in result.stderr
    assert "CEO" not in result.stderr
    [saved] = reflections(store)
    assert saved.names == ("A", "B", "C", "D")
    assert saved.excuses == ()


def test_nothing_answered_saves_nothing(
    cli: Invoke, set_up: Callable[..., None], store: Store, at_terminal: Callable[[], None]
) -> None:
    set_up()
    at_terminal()
    result = cli("reflect", input="\n\n\n\n")
    assert result.exit_code == 0, result.output
    assert "Nothing answered, so nothing was saved." in result.stderr
    assert reflections(store) == ()


@pytest.mark.usefixtures("terminal")
def test_init_on_a_terminal_offers_the_coaching_thoughts_after_the_set_up(
    cli: Invoke, store: Store, at: Callable[[str], None]
) -> None:
    at("2026-03-02T09:00")
    settings = "Dana Ode\n\nEurope/Berlin\ntue\n08:30\n45\ncoffee\n\n2026-03-02\n"
    peers = "Ann Lee\nBo Chen\n\n" + "\n\n" * 2  # two names, then Enter for each e-mail and mode
    thoughts = "y\n\nAnn Lee\nBo Chen\nCy Dee\n\nMy network is thin\ny\nno time\n\nShe'd laugh\n"
    result = cli("init", input=settings + peers + thoughts)
    assert result.exit_code == 0, result.output
    assert "Take five minutes for the coaching thoughts now?" in result.stderr
    [saved] = reflections(store)
    assert saved.names == ("Ann Lee", "Bo Chen", "Cy Dee")
    assert saved.ceo == "She'd laugh"
    assert [p.name for p in store.load_roster().peers] == ["Ann Lee", "Bo Chen", "Cy Dee"]


@pytest.mark.usefixtures("terminal")
def test_init_on_a_terminal_can_skip_the_coaching_thoughts(
    cli: Invoke, store: Store, at: Callable[[str], None]
) -> None:
    at("2026-03-02T09:00")
    answers = "Dana Ode\n\nEurope/Berlin\ntue\n08:30\n45\ncoffee\n\n2026-03-02\nAnn Lee\n\n\n\n"
    for thoughts in ("n\n", ""):  # answered no, or input ended: the set-up is done either way
        store.roster_path.unlink(missing_ok=True)
        result = cli("init", input=answers + thoughts)
        assert result.exit_code == 0, result.output
        assert "Take five minutes for the coaching thoughts now?" in result.stderr
    assert reflections(store) == ()
    assert store.load_roster().settings is not None


@pytest.mark.usefixtures("terminal")
def test_init_stopped_midway_through_the_thoughts_keeps_the_settings(
    cli: Invoke, store: Store, at: Callable[[str], None]
) -> None:
    at("2026-03-02T09:00")
    answers = "Dana Ode\n\nEurope/Berlin\ntue\n08:30\n45\ncoffee\n\n2026-03-02\nAnn Lee\n\n\n\ny\n\nAnn Lee\n"
    result = cli("init", input=answers)
    assert result.exit_code == 0, result.output
    assert (
        "The coaching thoughts were not saved (your settings are); run `peerloop reflect` later."
        in result.stderr
    )
    assert store.load_roster().settings is not None
    assert reflections(store) == ()


def test_init_with_flags_does_not_ask(cli: Invoke, set_up: Callable[..., None], store: Store) -> None:
    set_up("Ann Lee")
    assert reflections(store) == ()
