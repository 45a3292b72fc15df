"""Peer names as people type them: folded, matched by prefix, refused with the candidates or a suggestion."""

from __future__ import annotations

import unicodedata

import pytest

from peerloop.core.parse.names import complete, fold, match, slug
from peerloop.errors import ConflictError, InputError

ROSTER = ("Ann Lee", "Al Bo", "Bo Chen", "Bob Ray", "Zoë Müller-Łukasz", "Di Eze")
DECOMPOSED_ZOE = unicodedata.normalize("NFD", "Zoë Müller-Łukasz")
ISIK = "I\u015f\u0131k Y\u0131lmaz"  # a Turkish name with dotless i (U+0131), escaped as ruff asks
FULL_WIDTH_ANN = "\uff21\uff4e\uff4e \uff2c\uff45\uff45"  # Ann Lee in full-width letters


@pytest.mark.parametrize(
    ("name", "folded"),
    [
        ("Zoë Müller-Łukasz", "zoe muller lukasz"),
        (DECOMPOSED_ZOE, "zoe muller lukasz"),
        ("  Ann \t Lee ", "ann lee"),
        (ISIK, "isik yilmaz"),
        ("İpek Şahin", "ipek sahin"),  # Turkish dotted capital I
        ("Jürgen Groß", "jurgen gross"),
        ("JÜRGEN GROẞ", "jurgen gross"),  # capital sharp s
        ("Søren Ærø", "soren aero"),
        ("Œuvre Þórsdóttir", "oeuvre thorsdottir"),
        ("Đorđe Ðuro", "dorde duro"),
        ("Wałęsa Ħabib", "walesa habib"),
        ("O'Brien", "o brien"),
        ("Jean\u2011Luc D\u2019Arcy", "jean luc d arcy"),  # non-breaking hyphen, typographic apostrophe
        (FULL_WIDTH_ANN, "ann lee"),
        ("李雷", "李雷"),
        ("-", ""),
    ],
)
def test_names_fold_to_plain_lowercase_words(name: str, folded: str) -> None:
    assert fold(name) == folded


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("zoë müller-łukasz", "zoe-muller-lukasz"),
        (DECOMPOSED_ZOE, "zoe-muller-lukasz"),
        ("Ann Lee", "ann-lee"),
        ("Zoë O'Brien-Ünal", "zoe-o-brien-unal"),
        ('bo "the boss" chen; cto, acme \\ labs', "bo-the-boss-chen-cto-acme-labs"),
        ("../../etc/passwd", "etc-passwd"),
        ("Ann_Lee", "ann-lee"),
        ("李雷", "李雷"),
        ("😀 ; ,", "peer"),
        ("", "peer"),
        ("a" * 59 + " b", "a" * 59),  # cut at 60 characters, never ending in a dash
        ("Ł" * 80, "l" * 60),
    ],
)
def test_file_name_slugs_follow_the_matching_rule(name: str, expected: str) -> None:
    assert slug(name) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        # the same name, whatever the case, accents, spacing and hyphens
        ("ann lee", "Ann Lee"),
        ("ANN LEE", "Ann Lee"),
        ("  Ann   Lee ", "Ann Lee"),
        ("annlee", "Ann Lee"),
        ("Zoe Muller-Lukasz", "Zoë Müller-Łukasz"),
        ("zoe muller lukasz", "Zoë Müller-Łukasz"),
        ("ZOË MÜLLER-ŁUKASZ", "Zoë Müller-Łukasz"),
        (DECOMPOSED_ZOE, "Zoë Müller-Łukasz"),
        ("zoemullerlukasz", "Zoë Müller-Łukasz"),
        # the first name, in whole words: Bo is Bo Chen, not Bob Ray
        ("ann", "Ann Lee"),
        ("Bo", "Bo Chen"),
        ("al", "Al Bo"),
        ("di", "Di Eze"),
        # the start of the name
        ("zo", "Zoë Müller-Łukasz"),
        ("an", "Ann Lee"),
        ("bob", "Bob Ray"),
        ("zoe mul", "Zoë Müller-Łukasz"),
        # a later word, whole, then its start
        ("lee", "Ann Lee"),
        ("chen", "Bo Chen"),
        ("ray", "Bob Ray"),
        ("lukasz", "Zoë Müller-Łukasz"),
        ("muller luk", "Zoë Müller-Łukasz"),
        ("ez", "Di Eze"),
    ],
)
def test_a_typed_name_selects_the_roster_name(typed: str, expected: str) -> None:
    assert match(typed, ROSTER) == expected


@pytest.mark.parametrize(
    ("roster", "typed", "expected"),
    [
        (("Ann Lee", "Ann"), "ann", "Ann"),
        (("Ann", "Ann Lee"), "ANN", "Ann"),
        (("Ann", "Ann Lee"), "ann l", "Ann Lee"),
        (("Zoe", "Zoë"), "zoë", "Zoë"),  # the exact spelling wins over a name that folds alike
        (("Zoe", "Zoë"), "ZOE", "Zoe"),
        ((ISIK, "Isabel Ruiz"), "ISIK", ISIK),
        ((ISIK, "Isabel Ruiz"), "yilmaz", ISIK),
        (("İpek Şahin",), "ipek", "İpek Şahin"),
        (("Jürgen Groß",), "jurgen gross", "Jürgen Groß"),
        (("Jürgen Groß",), "GROSS", "Jürgen Groß"),
        (("Jurgen Gross",), "Groß", "Jurgen Gross"),
        (("Seán O'Brien",), "obrien", "Seán O'Brien"),
        (("Seán O'Brien",), "brien", "Seán O'Brien"),
        (("Seán O'Brien",), "o'b", "Seán O'Brien"),
        (("Ann Lee", "Bo Chen"), "annl", "Ann Lee"),
        (("Lee Ann", "Ann Lee"), "ann", "Ann Lee"),  # the start of the name before a later word
    ],
)
def test_unicode_and_prefix_rules_pick_one_peer(roster: tuple[str, ...], typed: str, expected: str) -> None:
    assert match(typed, roster) == expected


@pytest.mark.parametrize(
    ("roster", "typed", "message"),
    [
        (ROSTER, "a", "'a' matches Ann Lee and Al Bo; type more of the name"),
        (ROSTER, "b", "'b' matches Bo Chen and Bob Ray; type more of the name"),
        (("Ann", "Ann Lee"), "an", "'an' matches Ann and Ann Lee; type more of the name"),
        (("Zoe", "Zoë"), "zoé", "'zoé' matches Zoe and Zoë; type more of the name"),
        (
            ("Ann Lee", "Ann Ray", "Ann Bo"),
            "ann",
            "'ann' matches Ann Lee, Ann Ray and Ann Bo; type more of the name",
        ),
        (("Bo Lee", "Al Lee"), "lee", "'lee' matches Bo Lee and Al Lee; type more of the name"),
        (
            tuple(f"Sam {number}" for number in range(1, 21)),
            "sam",
            "'sam' matches Sam 1, Sam 2, Sam 3, Sam 4, Sam 5, Sam 6, Sam 7, Sam 8 and 12 more; "
            "type more of the name",
        ),
    ],
)
def test_an_ambiguous_name_lists_the_candidates(roster: tuple[str, ...], typed: str, message: str) -> None:
    with pytest.raises(ConflictError) as caught:
        match(typed, roster)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("typed", "suggestion"),
    [
        ("Ana", "Ann Lee"),
        ("bo chn", "Bo Chen"),
        ("di eez", "Di Eze"),
        ("zoe muler", "Zoë Müller-Łukasz"),
        ("Lea", "Ann Lee"),
    ],
)
def test_a_typo_gets_did_you_mean(typed: str, suggestion: str) -> None:
    with pytest.raises(ConflictError) as caught:
        match(typed, ROSTER)
    assert str(caught.value) == f"no peer named {typed!r}; did you mean {suggestion}?"


def test_several_close_names_are_all_suggested_closest_first() -> None:
    with pytest.raises(ConflictError) as caught:
        match("johnn", ("Ann Lee", "Joan Ray", "John Bo"))
    assert str(caught.value) == "no peer named 'johnn'; did you mean John Bo or Joan Ray?"


def test_at_most_three_names_are_suggested() -> None:
    roster = tuple(f"Peer Number {number}" for number in range(500))
    with pytest.raises(ConflictError) as caught:
        match("pear numbr 4999", roster)
    assert str(caught.value) == (
        "no peer named 'pear numbr 4999'; did you mean Peer Number 499, Peer Number 49 or Peer Number 99?"
    )


def test_a_stranger_gets_the_roster_listed() -> None:
    with pytest.raises(ConflictError) as caught:
        match("xavier", ROSTER)
    assert str(caught.value) == (
        "no peer named 'xavier' in the roster (peers: Ann Lee, Al Bo, Bo Chen, Bob Ray, Zoë Müller-Łukasz "
        "and Di Eze); see `peerloop peers`"
    )


def test_a_long_roster_is_cut_to_one_line() -> None:
    roster = tuple(f"Peer {number}" for number in range(500))
    with pytest.raises(ConflictError) as caught:
        match("xavier", roster)
    message = str(caught.value)
    assert "Peer 7 and 492 more" in message
    assert len(message) < 200


def test_an_empty_roster_says_how_to_add_a_peer() -> None:
    with pytest.raises(ConflictError) as caught:
        match("ann", [])
    assert str(caught.value) == "no peer named 'ann': no peers yet; add one with `peerloop add NAME`"


@pytest.mark.parametrize("typed", ["", "   ", "-", "'"])
def test_a_name_with_no_letters_is_an_input_error(typed: str) -> None:
    with pytest.raises(InputError) as caught:
        match(typed, ROSTER)
    assert str(caught.value) == f"{typed!r} names no one; type a peer's name or the start of it"


def test_a_control_character_in_what_was_typed_is_shown_escaped() -> None:
    with pytest.raises(ConflictError) as caught:
        match("x\x1b[2Jy", ROSTER)
    assert "\x1b" not in str(caught.value)
    assert "'x\\x1b[2Jy'" in str(caught.value)


@pytest.mark.parametrize(
    ("prefix", "offered"),
    [
        ("zo", ["Zoë Müller-Łukasz"]),
        ("ZÖ", ["Zoë Müller-Łukasz"]),
        ("mül", ["Zoë Müller-Łukasz"]),
        ("luk", ["Zoë Müller-Łukasz"]),
        ("b", ["Bo Chen", "Bob Ray", "Al Bo"]),
        ("ann l", ["Ann Lee"]),
        ("annl", ["Ann Lee"]),
        ("", list(ROSTER)),
        ("x", []),
    ],
)
def test_completion_offers_names_starting_with_the_prefix_then_later_words(
    prefix: str, offered: list[str]
) -> None:
    assert complete(prefix, ROSTER) == offered


def test_completion_with_no_peers_offers_nothing() -> None:
    assert complete("a", []) == []
