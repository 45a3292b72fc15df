"""Times of day and time zones as people type them (`8:30am`, `12:30 pm`, `New York`, `sao paulo`)."""

from __future__ import annotations

import pytest

from peerloop.core.parse import values


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("8:30", "08:30"), ("08:30", "08:30"), ("8.30", "08:30"), ("8h30", "08:30"), ("8:30am", "08:30"),
     ("12:30 pm", "12:30"), ("12:30am", "00:30"), ("8pm", "20:00"), ("8:30 a.m.", "08:30")],
)  # fmt: skip
def test_times_are_read_as_people_write_them(typed: str, expected: str) -> None:
    assert f"{values.parse_time(typed):%H:%M}" == expected


@pytest.mark.parametrize("typed", ["8", "24:00", "13pm", "0am", "8:5", "7:60", "noon"])
def test_a_time_that_is_not_one_is_refused_with_the_forms(typed: str) -> None:
    with pytest.raises(ValueError, match=r"use HH:MM on a 24-hour clock .* or with am/pm"):
        values.parse_time(typed)


@pytest.mark.parametrize(
    ("typed", "zone"),
    [("New York", "America/New_York"), ("sao paulo", "America/Sao_Paulo"), ("São Paulo", "America/Sao_Paulo"),
     ("europe/berlin", "Europe/Berlin"), ("buenos aires", "America/Argentina/Buenos_Aires"),
     ("los-angeles", "America/Los_Angeles"), ("Europe/Berlin", "Europe/Berlin"), ("UTC", "UTC")],
)  # fmt: skip
def test_a_zone_can_be_typed_as_a_city(typed: str, zone: str) -> None:
    assert values.parse_zone(typed) == zone


def test_a_city_no_zone_is_named_for_is_refused_and_files_take_only_iana_names() -> None:
    with pytest.raises(ValueError, match="'Atlantis' is not a known time zone or city"):
        values.parse_zone("Atlantis")
    with pytest.raises(ValueError, match="is not a known IANA time zone"):
        values.check_zone("New York")  # roster.toml holds the zone's name, never a city
