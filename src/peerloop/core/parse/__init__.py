"""What people type, read: dates (`dates`), peer names (`names`) and the settings' values (`values`). Each
parser raises ValueError with a readable reason; `parse_flag` turns that into an error naming the flag."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from peerloop.errors import InputError

T = TypeVar("T")


def parse_flag(value: str, flag: str, parse: Callable[[str], T]) -> T:
    """Parse a flag's text (or an answer), turning the parser's reason into an error that names the flag."""
    try:
        return parse(value)
    except ValueError as error:
        raise InputError(f"{flag}: {error}") from None
