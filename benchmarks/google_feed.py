"""A big busy-time feed as a Google Calendar export writes it, generated the same byte for byte from a seed, for
the refresh rows of bench.py (`python benchmarks/google_feed.py OUT.ics` writes one to look at).

20,000 VEVENTs: 40 recurring masters (weekly, biweekly, monthly, daily and weekday rules since 2016, a quarter
ended by UNTIL, some by COUNT, one in five in America/New_York or Asia/Kolkata, one yearly all-day; many
EXDATEs), their moved, cancelled and declined instances (RECURRENCE-ID), and one-off events from 2016 to five
months after `today` (UTC times as Google writes them, some with a TZID, all-day and multi-day, cancelled,
transparent, a few with attendees, a Meet link, a VALARM and a long folded description). VTIMEZONEs,
X-WR-TIMEZONE, CRLF lines folded at 75 octets without splitting a character. About 7.4 MB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import random
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr  # type: ignore[import-untyped]

LEADER = "dana@example.org"
UTC = dt.UTC
SEED = 2026
TODAY = dt.date(2026, 12, 4)
"""The day the feed is made for: bench.py pins peerloop's clock to it, so the window sees the same events."""

VTIMEZONES = {
    "Europe/Berlin": (
        "BEGIN:VTIMEZONE\nTZID:Europe/Berlin\nX-LIC-LOCATION:Europe/Berlin\nBEGIN:DAYLIGHT\nTZOFFSETFROM:+0100\n"
        "TZOFFSETTO:+0200\nTZNAME:GMT+2\nDTSTART:19700329T020000\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\n"
        "END:DAYLIGHT\nBEGIN:STANDARD\nTZOFFSETFROM:+0200\nTZOFFSETTO:+0100\nTZNAME:GMT+1\n"
        "DTSTART:19701025T030000\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\nEND:STANDARD\nEND:VTIMEZONE"
    ),
    "America/New_York": (
        "BEGIN:VTIMEZONE\nTZID:America/New_York\nX-LIC-LOCATION:America/New_York\nBEGIN:DAYLIGHT\n"
        "TZOFFSETFROM:-0500\nTZOFFSETTO:-0400\nTZNAME:EDT\nDTSTART:19700308T020000\n"
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\nEND:DAYLIGHT\nBEGIN:STANDARD\nTZOFFSETFROM:-0400\n"
        "TZOFFSETTO:-0500\nTZNAME:EST\nDTSTART:19701101T020000\nRRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\n"
        "END:STANDARD\nEND:VTIMEZONE"
    ),
    "Asia/Kolkata": (
        "BEGIN:VTIMEZONE\nTZID:Asia/Kolkata\nX-LIC-LOCATION:Asia/Kolkata\nBEGIN:STANDARD\nTZOFFSETFROM:+0530\n"
        "TZOFFSETTO:+0530\nTZNAME:IST\nDTSTART:19700101T000000\nEND:STANDARD\nEND:VTIMEZONE"
    ),
}
FIRST = ["Ann", "Bo", "Cy", "Di", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kim", "Lea", "Max", "Nia", "Oto",
         "Pia", "Quin", "Rui", "Sam", "Tess", "Uma", "Vik", "Wen", "Xia", "Yusuf", "Zoë", "Jürgen", "Søren"]  # fmt: skip
LAST = ["Lee", "Chen", "Dee", "Eze", "Fox", "Gray", "Hill", "Ito", "Jones", "Khan", "Lund", "Moreau", "Novak",
        "Okafor", "Petrov", "Quist", "Rossi", "Silva", "Tanaka", "Ueda", "Vogel", "Weiß", "Xu", "Young", "Zhou"]  # fmt: skip
TOPICS = ["Roadmap", "Budget", "Hiring loop", "Design review", "Incident retro", "Customer call", "1:1",
          "Planning", "Board prep", "Vendor sync", "Security review", "Offsite prep", "Lunch", "Dentist",
          "Interview", "Quarterly review", "Demo", "Architecture", "Pricing", "Legal", "Café ☕ chat", "Kick-off"]  # fmt: skip
WORDS = [
    "the", "a", "and", "to", "of", "in", "for", "on", "with", "we", "will", "review", "discuss", "plan", "next",
    "steps", "agenda", "notes", "project", "team", "quarter", "customer", "release", "risk", "owner", "decision",
    "follow-up", "draft", "doc", "link", "please", "bring", "questions", "timeline", "scope", "budget", "metrics",
    "launch", "feedback", "blockers", "update", "status",
]  # fmt: skip
SERIES_KINDS = [
    ("Daily standup", "FREQ=WEEKLY;WKST=MO;BYDAY=MO,TU,WE,TH,FR", 15),
    ("Leadership sync", "FREQ=WEEKLY;WKST=MO;BYDAY=TU", 60),
    ("1:1", "FREQ=WEEKLY;WKST=MO;INTERVAL=2;BYDAY=TH", 30),
    ("Board meeting", "FREQ=MONTHLY;BYDAY=2TH", 120),
    ("All hands", "FREQ=MONTHLY;BYMONTHDAY=1", 60),
    ("Team retro", "FREQ=WEEKLY;WKST=MO;INTERVAL=2;BYDAY=FR", 45),
    ("Focus time", "FREQ=DAILY", 120),
    ("Office hours", "FREQ=WEEKLY;WKST=MO;BYDAY=WE", 60),
]
MEET_BAR = "-::~:~::~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~::~:~::-"


def people(rng: random.Random, n: int) -> list[tuple[str, str]]:
    out = []
    for _ in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        mail = (
            f"{first}.{last}".lower().encode("ascii", "ignore").decode() + f"{rng.randrange(100)}@example.com"
        )
        out.append((f"{first} {last}", mail))
    return out


def escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> bytes:
    """RFC 5545 folding at 75 octets, never inside a UTF-8 sequence."""
    data = line.encode()
    if len(data) <= 75:
        return data + b"\r\n"
    parts, start, limit = [], 0, 75
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:
            end -= 1
        parts.append(data[start:end])
        start, limit = end, 74  # continuation lines start with a space
    return b"\r\n ".join(parts) + b"\r\n"


def stamp(t: dt.datetime) -> str:
    return t.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def local(t: dt.datetime) -> str:
    return t.strftime("%Y%m%dT%H%M%S")


def uid(rng: random.Random) -> str:
    return f"{rng.getrandbits(104):026x}@google.com"


def meet_code(rng: random.Random) -> str:
    return "-".join("".join(rng.choice("abcdefghijkmnopqrstuvwxyz") for _ in range(k)) for k in (3, 4, 3))


def description(rng: random.Random, long: bool) -> str:
    n = rng.randrange(60, 260) if long else rng.randrange(4, 20)
    text = " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."
    if long:
        text += (f"\n\n{MEET_BAR}\nJoin with Google Meet: https://meet.google.com/{meet_code(rng)}\n"
                 f"Or dial: (DE) +49 30 {rng.randrange(10**7, 10**8)} PIN: {rng.randrange(10**8, 10**9)}#\n"
                 "Learn more about Meet at: https://support.google.com/a/users/answer/9282720\n\n"
                 f"Please do not edit this section.\n{MEET_BAR}")  # fmt: skip
    return text


def attendee_lines(rng: random.Random, guests: list[tuple[str, str]], leader_status: str) -> list[str]:
    lines = []
    everyone = [("Dana Ode", LEADER), *guests]
    rng.shuffle(everyone)
    for name, mail in everyone:
        others = ["ACCEPTED", "ACCEPTED", "NEEDS-ACTION", "TENTATIVE", "DECLINED"]
        status = leader_status if mail == LEADER else rng.choice(others)
        lines.append(f"ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT={status};RSVP=TRUE"
                     f";CN={name};X-NUM-GUESTS=0:mailto:{mail}")  # fmt: skip
    return lines


def event_lines(
    rng: random.Random, *, start: list[str], end: list[str], uid_: str, summary: str, created: dt.datetime,
    rich: bool, long_desc: bool, status: str = "CONFIRMED", transp: str = "OPAQUE",
    leader_status: str = "ACCEPTED", extra: tuple[str, ...] = (), sequence: int = 0, alarm: bool = False,
) -> list[str]:  # fmt: skip
    lines = [
        "BEGIN:VEVENT",
        *start,
        *end,
        *extra,
        f"DTSTAMP:{stamp(dt.datetime(2026, 12, 4, 7, 0, tzinfo=UTC))}",
    ]
    if rich:
        organizer = people(rng, 1)[0]
        lines.append(f"ORGANIZER;CN={organizer[0]}:mailto:{organizer[1]}")
    lines.append(f"UID:{uid_}")
    if rich:
        lines += attendee_lines(rng, people(rng, rng.randrange(2, 9)), leader_status)
        lines.append(f"X-GOOGLE-CONFERENCE:https://meet.google.com/{meet_code(rng)}")
    modified = created + dt.timedelta(days=rng.randrange(0, 30), seconds=rng.randrange(86400))
    said = escape(description(rng, long_desc)) if (rich or long_desc) else ""
    place = rng.choice(["", "", "Room 4.12", "Berlin HQ, Floor 3", "https://zoom.us/j/1"])
    lines += [f"CREATED:{stamp(created)}", f"DESCRIPTION:{said}",
              f"LAST-MODIFIED:{stamp(modified)}", f"LOCATION:{escape(place)}",
              f"SEQUENCE:{sequence}", f"STATUS:{status}", f"SUMMARY:{escape(summary)}", f"TRANSP:{transp}"]  # fmt: skip
    if alarm:
        lines += ["BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:This is an event reminder",
                  f"TRIGGER:-P0DT0H{rng.choice([5, 10, 30])}M0S", "END:VALARM"]  # fmt: skip
    lines.append("END:VEVENT")
    return lines


def series(rng: random.Random, s: int, n_series: int, per_series: int, today: dt.date) -> list[list[str]]:
    """A recurring master and its overridden instances."""
    begin, last = dt.date(2016, 1, 4), today + dt.timedelta(days=150)
    name, rule, minutes = SERIES_KINDS[s % len(SERIES_KINDS)]
    zone_name = "Europe/Berlin" if s % 5 else rng.choice(["America/New_York", "Asia/Kolkata"])
    zone = ZoneInfo(zone_name)
    first_day = begin + dt.timedelta(days=rng.randrange(0, (today - begin).days - 60))
    hour, minute = rng.choice([8, 9, 10, 11, 13, 14, 15, 16]), rng.choice([0, 0, 30])
    first = dt.datetime.combine(first_day, dt.time(hour, minute), zone)
    ended = s % 4 == 1  # a quarter of the series ended in the past (UNTIL), one in ten by COUNT
    all_day = s == n_series - 1  # a yearly birthday, all day
    if all_day:
        rule, minutes, ended = "FREQ=YEARLY", 24 * 60, False
    rule_text, until, count = rule, None, None
    if ended:
        days = (dt.datetime.combine(today, dt.time(), zone) - first).days
        until = first + dt.timedelta(days=rng.randrange(90, max(91, days)))
        rule_text += f";UNTIL={stamp(until)}"
    elif s % 10 == 3:
        count = rng.randrange(20, 400)
        rule_text += f";COUNT={count}"
    horizon = dt.datetime.combine(last, dt.time(), zone)
    occurrences: list[dt.datetime] = []
    for naive in rrulestr(rule, dtstart=first.replace(tzinfo=None)):
        when = naive.replace(tzinfo=zone)
        if when > horizon or (until and when > until) or len(occurrences) >= (count or 4000):
            break
        occurrences.append(when)
    sid = uid(rng)
    title = f"{name} {rng.choice(TOPICS)}" if s >= len(SERIES_KINDS) else name
    duration = dt.timedelta(minutes=minutes)
    if all_day:
        start, end = [f"DTSTART;VALUE=DATE:{first:%Y%m%d}"], [f"DTEND;VALUE=DATE:{first + duration:%Y%m%d}"]
    else:
        start = [f"DTSTART;TZID={zone_name}:{local(first)}"]
        end = [f"DTEND;TZID={zone_name}:{local(first + duration)}"]
    picked = rng.sample(occurrences, min(len(occurrences), per_series + 40))
    exdates = sorted(picked[per_series:]) + sorted(rng.sample(occurrences, len(occurrences) // 10))
    extra = [f"RRULE:{rule_text}"]
    for when in sorted(set(exdates)):
        extra.append(
            f"EXDATE;VALUE=DATE:{when:%Y%m%d}" if all_day else f"EXDATE;TZID={zone_name}:{local(when)}"
        )
    created = dt.datetime.combine(first_day - dt.timedelta(days=rng.randrange(1, 20)), dt.time(9), UTC)
    events = [event_lines(rng, start=start, end=end, uid_=sid, summary=title, created=created, rich=True,
                          long_desc=True, extra=tuple(extra), alarm=True)]  # fmt: skip
    for when in sorted(picked[:per_series]):
        kind = rng.random()
        moved = when + dt.timedelta(hours=rng.choice([-2, -1, 1, 2, 3, 24, 48]))
        status, leader_status = "CONFIRMED", "ACCEPTED"
        if kind < 0.15:
            status, moved = "CANCELLED", when
        elif kind < 0.30:
            leader_status, moved = "DECLINED", when
        if all_day:
            rid = (f"RECURRENCE-ID;VALUE=DATE:{when:%Y%m%d}",)
            moved_start, moved_end = [f"DTSTART;VALUE=DATE:{moved:%Y%m%d}"], [f"DTEND;VALUE=DATE:{moved + duration:%Y%m%d}"]  # fmt: skip
        else:
            rid = (f"RECURRENCE-ID;TZID={zone_name}:{local(when)}",)
            moved_start = [f"DTSTART;TZID={zone_name}:{local(moved)}"]
            moved_end = [f"DTEND;TZID={zone_name}:{local(moved + duration)}"]
        events.append(event_lines(
            rng, start=moved_start, end=moved_end, uid_=sid, summary=title, created=created,
            rich=rng.random() < 0.12, long_desc=rng.random() < 0.04, status=status, leader_status=leader_status,
            extra=rid, sequence=rng.randrange(1, 4),
        ))  # fmt: skip
    return events


def one_off(rng: random.Random, today: dt.date) -> list[str]:
    """A single event between 2016 and five months after `today`, a little denser lately."""
    begin, last = dt.date(2016, 1, 4), today + dt.timedelta(days=150)
    day = begin + dt.timedelta(days=int((last - begin).days * rng.random() ** 0.8))
    r = rng.random()
    u = uid(rng) if rng.random() < 0.95 else f"{hashlib.sha1(rng.randbytes(8)).hexdigest()}@example.com"
    created = dt.datetime.combine(day - dt.timedelta(days=rng.randrange(1, 60)), dt.time(12), UTC)
    extra: tuple[str, ...] = ()
    if r < 0.08:  # all day, sometimes several days (holidays, trips)
        days = rng.choice([1, 1, 1, 2, 3, 5, 7, 14])
        start, end = (
            [f"DTSTART;VALUE=DATE:{day:%Y%m%d}"],
            [f"DTEND;VALUE=DATE:{day + dt.timedelta(days):%Y%m%d}"],
        )
        transp = rng.choice(["TRANSPARENT", "OPAQUE"])
    else:
        zone = ZoneInfo("Europe/Berlin")
        t0 = dt.datetime.combine(day, dt.time(rng.randrange(7, 19), rng.choice([0, 15, 30, 45])), zone)
        t1 = t0 + dt.timedelta(minutes=rng.choice([15, 25, 30, 30, 45, 60, 60, 90, 120, 240]))
        if r < 0.10:  # Google writes some with a TZID
            start, end = (
                [f"DTSTART;TZID=Europe/Berlin:{local(t0)}"],
                [f"DTEND;TZID=Europe/Berlin:{local(t1)}"],
            )
        else:
            start, end = [f"DTSTART:{stamp(t0)}"], [f"DTEND:{stamp(t1)}"]
        transp = "TRANSPARENT" if rng.random() < 0.05 else "OPAQUE"
    status = "CANCELLED" if rng.random() < 0.04 else rng.choice(["CONFIRMED"] * 9 + ["TENTATIVE"])
    rich = rng.random() < 0.012
    leader_status = rng.choice(["ACCEPTED"] * 6 + ["DECLINED", "TENTATIVE", "NEEDS-ACTION"])
    if rng.random() < 0.1:
        extra = (f"X-APPLE-TRAVEL-ADVISORY-BEHAVIOR:{rng.choice(['AUTOMATIC', 'DISABLED'])}",)
    summary = (
        f"{rng.choice(TOPICS)} with {people(rng, 1)[0][0]}" if rng.random() < 0.3 else rng.choice(TOPICS)
    )
    return event_lines(
        rng, start=start, end=end, uid_=u, summary=summary, created=created, rich=rich,
        long_desc=rng.random() < 0.006, status=status, transp=transp, leader_status=leader_status, extra=extra,
        sequence=rng.choice([0, 0, 0, 1, 2]), alarm=rich and rng.random() < 0.5,
    )  # fmt: skip


def generate(seed: int = SEED, n_events: int = 20_000, n_series: int = 40, today: dt.date = TODAY) -> bytes:
    """The feed's bytes: the same for the same arguments."""
    rng = random.Random(seed)
    header = ["BEGIN:VCALENDAR", "PRODID:-//Google Inc//Google Calendar 70.9054//EN", "VERSION:2.0",
              "CALSCALE:GREGORIAN", "METHOD:PUBLISH", f"X-WR-CALNAME:{LEADER}", "X-WR-TIMEZONE:Europe/Berlin"]  # fmt: skip
    lines = header + [line for text in VTIMEZONES.values() for line in text.splitlines()]
    per_series = max(0, (n_events // 8 - n_series) // max(n_series, 1))  # ~12 % of the events are overrides
    events = [event for s in range(n_series) for event in series(rng, s, n_series, per_series, today)]
    while len(events) < n_events:
        events.append(one_off(rng, today))
    lines += [line for event in events for line in event] + ["END:VCALENDAR"]
    return b"".join(fold(line) for line in lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=TODAY)
    options = parser.parse_args()
    data = generate(options.seed, today=options.today)
    with open(options.out, "wb") as file:
        file.write(data)
    print(f"{options.out}: {len(data):,} bytes, {data.count(b'BEGIN:VEVENT'):,} VEVENTs, "
          f"sha256 {hashlib.sha256(data).hexdigest()[:16]}")  # fmt: skip


if __name__ == "__main__":
    main()
