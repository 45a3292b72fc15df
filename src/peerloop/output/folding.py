"""Content lines folded at 75 octets, never inside a character nor inside an escape: icalendar 7 splits an
escaped backslash, which a reader that unescapes before it unfolds reads as a backslash and a line break
(docs/calendar.md)."""

from __future__ import annotations

CONTENT = 74
"""Octets of content per physical line, as icalendar writes them: with the space that starts a
continuation, at most the 75 octets RFC 5545 (3.1) allows."""


def _value_start(line: bytes) -> int:
    """Where the value begins: after the first colon outside a quoted parameter value."""
    quoted = False
    for index, byte in enumerate(line):
        if byte == 0x22:  # "
            quoted = not quoted
        elif byte == 0x3A and not quoted:  # :
            return index + 1
    return len(line)


def _run_before(line: bytes, end: int, byte: int, floor: int) -> int:
    """How many `byte` end at `end` (not counting before `floor`)."""
    start = end
    while start > floor and line[start - 1] == byte:
        start -= 1
    return end - start


def _splits_an_escape(line: bytes, cut: int, value: int) -> bool:
    """Whether a fold before `line[cut]` falls between the two characters of an escape. Escapes pair from
    the left, so a run of backslashes (or carets) of odd length before the fold ends with an escape's first
    half."""
    if cut > value:
        return _run_before(line, cut, 0x5C, value) % 2 == 1
    return _run_before(line, cut, 0x5E, 0) % 2 == 1 and line[cut] in b"^'n"


def fold_line(line: str) -> str:
    """One content line as physical lines joined by CRLF and a space, each at most 75 octets."""
    data = line.encode("utf-8")
    value = _value_start(data)
    pieces, start = [], 0
    while len(data) - start > CONTENT:
        cut = start + CONTENT
        while data[cut] & 0xC0 == 0x80:  # a UTF-8 continuation octet: inside a character
            cut -= 1
        if _splits_an_escape(data, cut, value):
            cut -= 1
        pieces.append(data[start:cut])
        start = cut
    pieces.append(data[start:])
    return b"\r\n ".join(pieces).decode("utf-8")


def refold(document: bytes) -> bytes:
    """A serialized iCalendar document (CRLF lines, as icalendar writes it) unfolded and folded again."""
    text = document.decode("utf-8").replace("\r\n ", "").replace("\r\n\t", "")
    return "".join(fold_line(line) + "\r\n" for line in text.split("\r\n") if line).encode("utf-8")
