"""Text from files, servers and users made harmless wherever it is shown: the one place that decides how.

A terminal obeys control characters and escape sequences; a message must stay one line; a mail header must
not gain a line break. Every layer shows text from outside, so this module imports nothing of peerloop.
"""

from __future__ import annotations

import unicodedata

ZERO_WIDTH_JOINER = "\u200d"
"""Kept: it joins emoji into one picture and moves no cursor."""


def safe(text: object) -> str:
    """Any text, harmless on a terminal: control and format characters become visible escapes (`\\x1b`),
    a line break becomes ` / `."""
    if isinstance(text, str) and text.isascii() and text.isprintable():
        return text
    result = []
    for ch in str(text):
        if ch == "\n":
            result.append(" / ")
        elif unicodedata.category(ch) in ("Cc", "Cf") and ch != ZERO_WIDTH_JOINER:
            result.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            result.append(ch)
    return "".join(result)


def one_line(text: str) -> str:
    """Words from a server or a user, fit for one line of a message or a mail header: every character a
    terminal or a mail parser would obey (line breaks, escapes) and every run of white space is one space."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def shortened(text: str, limit: int = 60) -> str:
    """A line quoted in an error: `one_line`, cut to `limit` characters with an ellipsis."""
    line = one_line(text)
    return line if len(line) <= limit else line[: limit - 1] + "…"
