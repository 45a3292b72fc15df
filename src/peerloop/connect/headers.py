"""E-mail header values peerloop writes itself (From, To, Subject), because CPython's folder damages them
(docs/calendar.md): plain words stay plain, each run of other words is one encoded-word (Q when it fits in
75 characters, else B words split after a space or between whole characters), and lines break only between
those tokens, so every space reads back in any RFC 2047 reader.
"""

from __future__ import annotations

import base64
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from email.headerregistry import Address

_ATEXT = re.compile(r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+")
_Q_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")
"""RFC 2047 5(3): what Q-encoded text in a phrase may hold as it is (a space is `_`)."""


def address_header(name: str, address: Address) -> str:
    """The folded value of an address header (From, To): the display name's tokens, then `<addr-spec>`.
    An ASCII name that is not all plain words is one quoted-string."""
    display = address.display_name
    words = display.split(" ") if display else []
    if display.isascii() and not all(_plain_in_a_phrase(word) for word in words):
        tokens = ['"' + display.replace("\\", "\\\\").replace('"', '\\"') + '"']
    else:
        tokens = _tokens(words, _plain_in_a_phrase)
    return _folded(name, [*tokens, f"<{address.addr_spec}>"])


def unstructured_header(name: str, text: str) -> str:
    """The folded value of an unstructured header (Subject): printable ASCII words stay as they are."""
    return _folded(name, _tokens(text.split(" "), _plain_in_text))


def _plain_in_a_phrase(word: str) -> bool:
    return word.isascii() and bool(_ATEXT.fullmatch(word)) and "=?" not in word


def _plain_in_text(word: str) -> bool:
    return word.isascii() and word.isprintable() and "=?" not in word


def _tokens(words: list[str], plain: Callable[[str], bool]) -> list[str]:
    """Plain words as they are, each run of other words (an empty one, from two spaces, included) encoded."""
    tokens: list[str] = []
    run: list[str] = []
    for word in words:
        if word and plain(word):
            tokens += _encoded(" ".join(run)) if run else []
            run = []
            tokens.append(word)
        else:
            run.append(word)
    return tokens + (_encoded(" ".join(run)) if run else [])


def _folded(name: str, tokens: list[str]) -> str:
    """The tokens joined by spaces, a line break before a token that would pass 78 characters."""
    lines = [f"{name}:"]
    for before, token in zip(["", *tokens], tokens, strict=False):
        if len(lines[-1]) + 1 + len(token) <= 78 or not before or not _may_break(before, token):
            lines[-1] += " " + token
        else:
            lines.append(" " + token)
    return "\r\n".join(lines)[len(name) + 2 :] + "\r\n"


def _may_break(before: str, after: str) -> bool:
    """Not between an encoded-word and plain text that touches it with a parenthesis or a backslash: Python's
    `email.header.decode_header` reads the two lines apart and joins them there without their space."""
    if before.startswith("=?") and not after.startswith("=?"):
        return after[0] not in "()\\"
    if after.startswith("=?") and not before.startswith("=?"):
        return before[-1] not in "()\\"
    return True


def _encoded(run: str) -> list[str]:
    """`run` as RFC 2047 encoded-words of at most 75 characters (Q when it fits, else B, split only between
    whole characters, after a space where one falls)."""
    quoted = "".join(
        "_" if b == 0x20 else chr(b) if b in _Q_SAFE else f"={b:02X}" for b in run.encode("utf-8")
    )
    if len(quoted) + 12 <= 75:
        return [f"=?utf-8?q?{quoted}?="]
    words, rest = [], run
    while rest:
        cut = len(rest)
        while len(base64.b64encode(rest[:cut].encode("utf-8"))) + 12 > 75:
            cut -= 1
        space = rest.rfind(" ", 0, cut)
        cut = space + 1 if 0 < space < cut and cut < len(rest) else cut
        words.append(f"=?utf-8?b?{base64.b64encode(rest[:cut].encode('utf-8')).decode('ascii')}?=")
        rest = rest[cut:]
    return words
