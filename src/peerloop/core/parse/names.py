"""Peer names as people type them: `ann` for Ann Lee, `Zoe Muller-Lukasz` for Zoë Müller-Łukasz.

Pure and stdlib only; unicodedata is imported only for names that are not ASCII, difflib only to suggest a
name after a miss.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from peerloop.core.models import peer_key
from peerloop.errors import ConflictError, InputError

# Letters that NFKD leaves whole (no accent to strip), spelled as a keyboard without them would;
# \u0131 is the Turkish dotless i.
_LETTERS = str.maketrans({
    "ł": "l", "ø": "o", "đ": "d", "ð": "d", "æ": "ae", "œ": "oe", "þ": "th", "\u0131": "i",
    "ħ": "h", "ŧ": "t", "ĸ": "k", "ŋ": "n", "ƒ": "f", "ɨ": "i",
})  # fmt: skip
# Hyphens, underscores and apostrophes separate words like spaces do: `o brien` and `obrien` (the same
# name without spaces) both find O'Brien, and the file name stays peerloop-o-brien.ics as it always was.
_SEPARATORS = str.maketrans({
    "-": " ", "_": " ", "\u2010": " ", "\u2011": " ", "\u2012": " ", "\u2013": " ", "\u2014": " ",
    "'": " ", "\u2019": " ", "\u02bc": " ",
})  # fmt: skip
SLUG_LENGTH = 60
SHOWN = 8
"""Names listed at most in one error line; a roster of 500 says how many more there are."""


def fold(name: str) -> str:
    """The form names are compared in: case and accents gone, transliterated, words single-spaced."""
    text = name.casefold()
    if not text.isascii():
        import unicodedata

        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).translate(_LETTERS)
    return " ".join(text.translate(_SEPARATORS).split())


def slug(name: str) -> str:
    """`zoe-muller-lukasz`, for peerloop-<slug>.ics: the letters and digits of the folded name (other scripts
    kept), the rest as single dashes, at most 60 characters; "peer" when nothing is left."""
    text = re.sub(r"[\W_]+", "-", fold(name)).strip("-")
    return text[:SLUG_LENGTH].strip("-") or "peer"


def match(typed: str, names: Sequence[str]) -> str:
    """The roster name `typed` selects, tried in this order, the first rule that finds anyone deciding:
    the same name (ignoring case, accents, spaces and hyphens); the start of the name in whole words
    (`bo` for Bo Chen, not Bob Ray); the start of the name (`zo`); a later word in whole words (`lee`);
    the start of a later word (`luk`, `obrien` for Seán O'Brien). Several names at one rule is an error
    that lists them."""
    key = peer_key(typed)
    exact = next((name for name in names if peer_key(name) == key), None)
    if exact is not None:
        return exact
    wanted = fold(typed)
    if not wanted:
        raise InputError(f"{typed!r} names no one; type a peer's name or the start of it")
    folded = [(name, fold(name)) for name in names]
    for rule in _rules(wanted):
        found = [name for name, form in folded if rule(form)]
        if len(found) == 1:
            return found[0]
        if found:
            raise ConflictError(f"{typed!r} matches {_listing(found)}; type more of the name")
    raise _unknown(typed, wanted, folded)


def complete(prefix: str, names: Sequence[str]) -> list[str]:
    """Names to offer for a partly typed one: those starting with it first, then those with a later
    word starting with it (`zo` and `mul` both offer Zoë Müller-Łukasz), each in roster order."""
    compact = fold(prefix).replace(" ", "")
    folded = [(name, fold(name)) for name in names]
    starts = [name for name, form in folded if _starts(form, compact)]
    later = [name for name, form in folded if any(_starts(tail, compact) for tail in _tails(form))]
    return starts + [name for name in later if name not in starts]


def _rules(wanted: str) -> tuple[Callable[[str], bool], ...]:
    compact = wanted.replace(" ", "")
    return (
        lambda form: form.replace(" ", "") == compact,
        lambda form: _whole_words(form, wanted),
        lambda form: _starts(form, compact),
        lambda form: any(_whole_words(tail, wanted) for tail in _tails(form)),
        lambda form: any(_starts(tail, compact) for tail in _tails(form)),
    )


def _whole_words(form: str, wanted: str) -> bool:
    return form == wanted or form.startswith(wanted + " ")


def _starts(form: str, compact: str) -> bool:
    """Whether the name starts with what was typed, spaces ignored (`obrien`, `o brien` and `o'b`)."""
    return form.replace(" ", "").startswith(compact)


def _tails(form: str) -> list[str]:
    """`zoe muller lukasz` -> `muller lukasz`, `lukasz`: the name from each later word on."""
    words = form.split(" ")
    return [" ".join(words[index:]) for index in range(1, len(words))]


def _listing(names: Sequence[str], last: str = "and") -> str:
    """`Ann Lee, Al Bo and Ada Li`, cut after SHOWN names so that the error stays one line."""
    shown = list(names[:SHOWN])
    if len(names) > SHOWN:
        return f"{', '.join(shown)} and {len(names) - SHOWN} more"
    if len(shown) == 1:
        return shown[0]
    return f"{', '.join(shown[:-1])} {last} {shown[-1]}"


def _unknown(typed: str, wanted: str, folded: Sequence[tuple[str, str]]) -> ConflictError:
    if not folded:
        return ConflictError(f"no peer named {typed!r}: no peers yet; add one with `peerloop add NAME`")
    close = _close(wanted, folded)
    if close:
        return ConflictError(f"no peer named {typed!r}; did you mean {_listing(close, 'or')}?")
    names = [name for name, _ in folded]
    return ConflictError(
        f"no peer named {typed!r} in the roster (peers: {_listing(names)}); see `peerloop peers`"
    )


def _close(wanted: str, folded: Sequence[tuple[str, str]]) -> list[str]:
    """Up to 3 names within a typo of `wanted`, the closest first: compared with the whole name and with
    each word, so that `ana` finds Ann Lee and `bo chn` finds Bo Chen."""
    from difflib import SequenceMatcher

    matcher = SequenceMatcher(b=wanted)
    scored = []
    for index, (name, form) in enumerate(folded):
        best = 0.0
        for candidate in (form, *form.split(" ")):
            matcher.set_seq1(candidate)
            if matcher.real_quick_ratio() > best and matcher.quick_ratio() > best:  # cheap upper bounds first
                best = max(best, matcher.ratio())
        if best >= 0.6:
            scored.append((-best, index, name))
    return [name for _, _, name in sorted(scored)[:3]]
