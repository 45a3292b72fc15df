"""Parsing and checking the values users type or hand-edit; each raises ValueError with a readable reason."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import partial
from typing import TypeVar

from peerloop.core.models import WEEKDAYS, Decision, Gain, Mode, Verdict

MAX_NAME_LENGTH = 200

Choice = TypeVar("Choice", Mode, Gain, Verdict, Decision)


TIME_FORMS = "HH:MM on a 24-hour clock (08:30, 8.30) or with am/pm (8:30am, 12:30 pm)"
_TIME = r"(\d{1,2})(?:[:.h](\d{2}))? *([ap]\.?m\.?)?"


def parse_time(text: str) -> dt.time:
    """`8:30`, `08:30`, `8.30`, `8h30`, `8:30am`, `12:30 pm`, `8pm`: a time of day (12 am is midnight)."""
    found = re.fullmatch(_TIME, text.strip().lower())
    if found is not None and (found[2] is not None or found[3] is not None):  # a bare "8" is no time
        hour, minute = int(found[1]), int(found[2] or 0)
        if found[3] is not None:  # a 12-hour clock: 1 to 12 only
            hour = hour % 12 + (12 if found[3].startswith("p") else 0) if 1 <= hour <= 12 else 24
        if hour < 24 and minute < 60:
            return dt.time(hour, minute)
    raise ValueError(f"{text!r} is not a time of day; use {TIME_FORMS}")


def parse_weekday(text: str) -> int:
    key = text.strip().lower()[:3]
    if key in WEEKDAYS and len(text.strip()) >= 3:
        return WEEKDAYS.index(key)
    raise ValueError(f"{text!r} is not a weekday; use one of {', '.join(WEEKDAYS)}")


def _parse_choice(kind: type[Choice], what: str, text: str) -> Choice:
    try:
        return kind(text.strip().lower())
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise ValueError(f"{text!r} is not a {what}; use one of {choices}") from None


parse_mode = partial(_parse_choice, Mode, "meeting mode")
parse_gain = partial(_parse_choice, Gain, "gain")
parse_verdict = partial(_parse_choice, Verdict, "verdict")
parse_decision = partial(_parse_choice, Decision, "decision")


def parse_duration(text: str | int) -> int:
    try:
        minutes = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number of minutes, e.g. 45") from None
    if not 5 <= minutes <= 24 * 60:
        raise ValueError(f"a meeting of {minutes} minutes makes no sense; use 5 to 1440")
    return minutes


_AREAS = ("Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific")


def check_zone(name: str) -> str:
    """An IANA zone name that this machine's time zone database knows, e.g. Europe/Berlin (as files hold it)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = name.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder ("Europe"), a name too long
        raise ValueError(f"{name!r} is not a known IANA time zone; use a name like Europe/Berlin") from None
    return name


def parse_zone(typed: str) -> str:
    """A zone as people type it: its IANA name, or a city ("New York", "sao paulo", "europe/berlin")
    matched to its zone's name (only when the name itself is not one: the zone list is read on a miss)."""
    try:
        return check_zone(typed)
    except ValueError:
        found = _zone_of_city(typed.strip())
    if found is None:
        raise ValueError(
            f"{typed.strip()!r} is not a known time zone or city; use an IANA name like Europe/Berlin or a "
            "city like New York"
        )
    return found


def _zone_of_city(typed: str) -> str | None:
    """The zone named for the city typed (its last part, accents and case ignored), or the zone typed in
    another case; among links to one zone (America/Buenos_Aires, America/Argentina/Buenos_Aires) the longest
    name, which is the canonical one."""
    from zoneinfo import available_timezones

    def key(text: str) -> str:
        plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        return "_".join(plain.lower().replace("-", " ").replace("_", " ").split())

    wanted = key(typed)
    if not wanted:
        return None
    zones = [zone for zone in available_timezones() if zone.startswith(_AREAS)]
    exact = [zone for zone in zones if key(zone.replace("/", " ")) == key(typed.replace("/", " "))]
    named = exact or [zone for zone in zones if key(zone.rsplit("/", 1)[-1]) == wanted]
    return max(named, key=lambda zone: (len(zone), zone)) if named else None


def check_email(text: str) -> str:
    email = text.strip()
    local, at, domain = email.rpartition("@")
    if (
        not at
        or not local
        or "." not in domain.strip(".")
        or any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in email)
        or any(ch in email for ch in "<>,;\"'()[]\\")
    ):
        raise ValueError(f"{text!r} is not an email address; use a form like ann@example.com")
    return email


def check_utf8(text: str) -> str:
    """Text that a file can hold, as given: Python hands over bytes that are not UTF-8 (from a terminal in
    another encoding) as lone surrogates, which no file can hold."""
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        raise ValueError("the text is not valid UTF-8 (a stray byte from the terminal?); retype it")
    return text


def clean_name(text: str) -> str:
    """A peer or leader name: trimmed, non-empty, one line, of a sane length."""
    name = " ".join(check_utf8(text).split())
    if not name:
        raise ValueError("a name cannot be empty")
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise ValueError("a name cannot hold control characters")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"a name is at most {MAX_NAME_LENGTH} characters")
    return name


def parse_mode_times(text: str) -> dict[Mode, dt.time]:
    """'lunch 12:30, call 17:00' -> a time per mode (the modes not named keep the weekly time)."""
    times: dict[Mode, dt.time] = {}
    for part in text.replace(";", ",").split(","):
        words = part.split()
        if not words:
            continue
        if len(words) < 2:
            raise ValueError(f"{part.strip()!r}: write a mode and a time, e.g. lunch 12:30")
        times[parse_mode(words[0])] = parse_time(" ".join(words[1:]))
    return times
