"""Calendar data without the VEVENTs that surely have no occurrence in the busy-time window, before icalendar
parses it: parsing every event of a feed that goes back years is where refreshing busy time spends its time
and memory. The result is exactly what parsing everything gives (tests/test_busy_limits.py compares both).
The lines are split with icalendar's own unfolding and read with its value parsers; when anything looks
unusual the data goes to icalendar untouched. When a VEVENT may be dropped, and why "near" is two days:
docs/performance.md ("Why a hand-written pre-filter").
"""

from __future__ import annotations

import datetime as dt
import re
from typing import NamedTuple

_NAME = re.compile(r"[ \t]*([A-Za-z0-9-]+)[ \t]*[;:]")
_BEGIN = re.compile(r"(?mi)^[ \t]*BEGIN[ \t]*[;:]")
_RECURRING = frozenset({"RRULE", "RDATE", "EXRULE", "RECURRENCE-ID"})
_OWN_RULES = frozenset({"RRULE", "RDATE", "EXRULE", "EXDATE"})
_READ = frozenset({"DTSTART", "DTEND", "DURATION", "RECURRENCE-ID"})
_MARGIN = dt.timedelta(days=2)
_DAY = dt.timedelta(days=1)


class Prefiltered(NamedTuple):
    data: bytes | str
    """What to give icalendar: the data as it came, or its unfolded text without the far events."""
    components: int
    """Its BEGIN lines (unfolded, parameters allowed): a bound on the components icalendar will build."""
    complete: bool
    """Whether its last line is END:VCALENDAR: icalendar 7 returns no calendar at all for one cut off."""


def near_window(data: bytes, window_start: dt.datetime, window_end: dt.datetime) -> Prefiltered:
    """`data` without the VEVENTs that surely have no occurrence in the window (see the module's doc)."""
    from icalendar.parser.content_line import UFOLD
    from icalendar.parser_tools import to_unicode

    text = UFOLD.sub("", to_unicode(data))
    last = text.rstrip().rpartition("\n")[2]
    complete = "".join(last.split()).upper() == "END:VCALENDAR"
    low = window_start.astimezone(dt.UTC).replace(tzinfo=None) - _MARGIN
    high = window_end.astimezone(dt.UTC).replace(tzinfo=None) + _MARGIN
    try:
        blocks = _blocks(text)
    except (_Unusual, ValueError):
        return Prefiltered(data, len(_BEGIN.findall(text)), complete)
    groups: dict[str | int, list[_Block]] = {}
    for n, block in enumerate(blocks):
        groups.setdefault(block.uid if block.uid is not None else n, []).append(block)
    dropped: list[_Block] = []
    for group in groups.values():
        if not any(block.names & _RECURRING for block in group):
            if all(block.span is not None and _misses(block.span, low, high) for block in group):
                dropped += group
        elif not any(block.names & {"RDATE", "EXRULE"} for block in group):
            dropped += _far_overrides(group, low, high)
    if not dropped:
        return Prefiltered(data, len(_BEGIN.findall(text)), complete)
    dropped.sort()
    kept, at = [], 0
    for block in dropped:
        kept.append(text[at : block.begin])
        at = block.end
    kept.append(text[at:])
    text = "".join(kept)
    return Prefiltered(text, len(_BEGIN.findall(text)), complete)


class _Unusual(Exception):
    """The data is not plainly structured: it goes to icalendar untouched."""


class _Block(NamedTuple):
    begin: int
    """Where its BEGIN line starts in the unfolded text."""
    end: int
    """Where the line after its END starts."""
    uid: str | None
    """Compared loosely (case, spaces, backslashes ignored): groups as coarse as recurring_ical_events' or more."""
    names: frozenset[str]
    """The names of its properties (nested VALARMs' included, as everywhere here)."""
    span: tuple[dt.datetime, dt.datetime] | None
    """Its own span as wall time, a day longer at its end; None when it must stay."""
    recurrence_id: dt.datetime | None


def _blocks(text: str) -> list[_Block]:
    """The VEVENTs directly in a VCALENDAR."""
    stack: list[str] = []
    blocks: list[_Block] = []
    begin = -1
    uid: str | None = None
    names: set[str] = set()
    lines: dict[str, str] | None = None
    at, size = 0, len(text)
    while at < size:
        newline = text.find("\n", at)
        after = size if newline < 0 else newline + 1
        stop = size if newline < 0 else newline - (text[newline - 1 : newline] == "\r")
        line, start, at = text[at:stop], at, after
        if not line:
            continue
        match = _NAME.match(line)
        if match is None:  # icalendar might read a BEGIN or END here that we would miss
            raise _Unusual
        name = match.group(1).upper()
        if name == "BEGIN":
            component = _value(line)[0].upper()
            stack.append(component)
            if len(stack) == 2 and component == "VEVENT" and stack[0] == "VCALENDAR":
                begin, uid, names, lines = start, None, set(), {}
            elif begin >= 0 and component != "VALARM":
                lines = None  # something nested we do not reason about: the block stays
        elif name == "END":
            if not stack or stack.pop() != _value(line)[0].upper():
                raise _Unusual
            if len(stack) == 1 and begin >= 0:
                blocks.append(
                    _Block(begin, after, uid, frozenset(names), _span(lines), _recurrence_id(lines))
                )
                begin = -1
        elif begin >= 0:
            names.add(name)
            if len(stack) == 2 and lines is not None:
                if name == "UID":
                    lines = None if uid is not None else lines
                    uid = "".join(_value(line)[0].replace("\\", "").split()).casefold()
                elif name in _READ:
                    lines = None if name in lines else {**lines, name: line}
    if stack:
        raise _Unusual  # cut off: icalendar decides what that means
    return blocks


def _far_overrides(group: list[_Block], low: dt.datetime, high: dt.datetime) -> list[_Block]:
    """The overrides of a series that replace an instance far from the window with one far from it."""
    spans = [block.span for block in group if "RECURRENCE-ID" not in block.names]
    masters = [span for span in spans if span is not None]
    if len(masters) < len(spans):
        return []
    longest = max((last - first for first, last in masters), default=_DAY)
    candidates, stay = [], []
    for block in group:
        if "RECURRENCE-ID" not in block.names:
            continue
        span, rid = block.span, block.recurrence_id
        if (
            span is not None and rid is not None and not block.names & _OWN_RULES
            and _misses(span, low, high) and _misses((rid, rid + longest), low, high)
        ):  # fmt: skip
            candidates.append((rid, block))
        else:
            stay.append(rid)  # None (unreadable, or RANGE=THISANDFUTURE) keeps every override of the group
    changed = True
    while changed:  # an override that stays keeps every candidate near its RECURRENCE-ID
        changed = False
        for item in list(candidates):
            if any(other is None or abs(other - item[0]) <= _MARGIN for other in stay):
                candidates.remove(item)
                stay.append(item[0])
                changed = True
    return [block for _, block in candidates]


def _misses(span: tuple[dt.datetime, dt.datetime], low: dt.datetime, high: dt.datetime) -> bool:
    return span[1] < low or span[0] > high


def _value(line: str) -> tuple[str, str]:
    """(value, VALUE parameter, or "RANGE" for a RANGE parameter) as `Contentline.parts` reads them."""
    from icalendar.parser.content_line import Contentline

    colon, semicolon = line.find(":"), line.find(";")
    if colon >= 0 and (semicolon < 0 or colon < semicolon) and "\\" not in line and '"' not in line:
        return line[colon + 1 :], ""
    _, params, value = Contentline(line).parts()  # type: ignore[no-untyped-call]
    if str(params.get("RANGE", "")):
        return value, "RANGE"
    return value, str(params.get("VALUE", "")).upper()


def _wall(line: str) -> dt.datetime | None:
    """A DTSTART, DTEND or RECURRENCE-ID value as wall time (a UTC one in UTC); None when unsure."""
    from icalendar.prop import vDDDTypes

    value, kind = _value(line)
    if kind not in ("", "DATE-TIME", "DATE"):
        return None
    parsed = vDDDTypes.from_ical(value)  # type: ignore[no-untyped-call]
    if isinstance(parsed, dt.datetime):
        return parsed.astimezone(dt.UTC).replace(tzinfo=None) if parsed.tzinfo is not None else parsed
    if isinstance(parsed, dt.date):
        return dt.datetime.combine(parsed, dt.time())
    return None


def _span(lines: dict[str, str] | None) -> tuple[dt.datetime, dt.datetime] | None:
    """The component's own span as wall time, a day longer at its end; None when unsure."""
    from icalendar.prop import vDuration

    if lines is None or "DTSTART" not in lines or ("DTEND" in lines and "DURATION" in lines):
        return None
    try:
        start = end = _wall(lines["DTSTART"])
        if start is not None and "DTEND" in lines:
            end = _wall(lines["DTEND"])
        elif start is not None and "DURATION" in lines:
            value, kind = _value(lines["DURATION"])
            length = vDuration.from_ical(value) if kind in ("", "DURATION") else None  # type: ignore[no-untyped-call]
            end = start + length if isinstance(length, dt.timedelta) else None
        if start is None or end is None:
            return None
        return min(start, end), max(start, end) + _DAY
    except (ValueError, TypeError, OverflowError):
        return None


def _recurrence_id(lines: dict[str, str] | None) -> dt.datetime | None:
    if lines is None or "RECURRENCE-ID" not in lines:
        return None
    try:
        return _wall(lines["RECURRENCE-ID"])
    except (ValueError, TypeError, OverflowError):
        return None
