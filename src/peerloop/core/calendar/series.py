"""One peer's invite series, pure: the recurring event their invitation carries, its cancellations, and
whether the plan still matches it. `peerloop.ics` writes these as METHOD:REQUEST or METHOD:CANCEL documents.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from peerloop.core.calendar.events import AGENDA_LINES, CONFIDENTIAL, Person, Planned, mode_label, zone_of
from peerloop.core.calendar.state import SERIES, CalendarState, invite_uid
from peerloop.core.models import Mode, Peer, Settings
from peerloop.core.rotation import Slot, first_trial_week, week_start
from peerloop.errors import ConflictError


def _require_emails(settings: Settings, peer: Peer) -> tuple[Person, Person]:
    if not settings.email:
        raise ConflictError(
            "an invite needs your email as its organizer; set it with `peerloop init --email ADDRESS`"
        )
    if not peer.email:
        import shlex

        raise ConflictError(
            f"{peer.name} has no email to send the invite to; set it with "
            f"`peerloop edit {shlex.quote(peer.name)} --email ADDRESS`"
        )
    return Person(settings.name, settings.email), Person(peer.name, peer.email)


def _last_trial_week(settings: Settings) -> dt.date:
    return first_trial_week(settings) + dt.timedelta(weeks=settings.trial_weeks - 1)


def last_series_date(settings: Settings, first: dt.date, interval: int) -> dt.date:
    """The date of a series' last meeting: every `interval` weeks from `first`, within the trial's weeks."""
    if interval < 1:
        raise ValueError("interval must be at least 1")
    weeks = max(0, (_last_trial_week(settings) - week_start(first)).days // 7)
    return first + dt.timedelta(weeks=weeks - weeks % interval)


def irregular_series(planned_dates: Iterable[dt.date], first: dt.date, interval: int, until: dt.date) -> bool:
    """Whether the plan's dates for a peer, up to `until`, differ from the series every `interval` weeks."""
    regular = [first + dt.timedelta(weeks=n) for n in range(0, (until - first).days // 7 + 1, interval)]
    return sorted(day for day in planned_dates if day <= until) != regular


def _series_time(settings: Settings, day: dt.date, mode: Mode) -> dt.datetime:
    """A series' wall time on `day`, as written (a time in a DST gap stays: RFC 5545 resolves it)."""
    return dt.datetime.combine(day, settings.time_for(mode), tzinfo=zone_of(settings))


def series_event(peer: Peer, first: Slot, interval: int, settings: Settings, state: CalendarState) -> Planned:
    """The peer's meeting every `interval` weeks from `first` until the trial's last week."""
    organizer, attendee = _require_emails(settings, peer)
    review = settings.trial_end
    if first.week > _last_trial_week(settings):
        raise ConflictError(
            f"{peer.name}'s next meeting ({first.date.isoformat()}) is after the trial's last week (the review "
            f"is on {review.isoformat()}); nothing to invite to"
        )
    day = first.week + dt.timedelta(days=settings.weekday)
    start = _series_time(settings, day, first.mode)
    until = _series_time(settings, last_series_date(settings, day, interval), first.mode).astimezone(dt.UTC)
    every = "every week" if interval == 1 else f"every {interval} weeks"
    about = (
        f"Our peer meeting ({first.mode.value}, {settings.duration} minutes), {every} until "
        f"{review.isoformat()}, when {settings.name} reviews how the rotation works."
    )
    lines = [about, "", *AGENDA_LINES, "", CONFIDENTIAL]
    return Planned(
        uid=invite_uid(state, peer),
        kind=SERIES,
        day=day,
        start=start,
        length=first.end.astimezone(dt.UTC) - first.start.astimezone(dt.UTC),
        summary=f"{mode_label(first.mode)}: {settings.name} and {peer.name}",
        description="\n".join(lines),
        organizer=organizer,
        attendee=attendee,
        rsvp=True,
        every=interval,
        until=until,
    )


def series_cancel_events(
    peer: Peer,
    settings: Settings,
    state: CalendarState,
    sent: SentSeries,
    occurrences: Sequence[dt.date] | None,
) -> list[Planned]:
    """The series the peer was sent, cancelled: all of it (`occurrences` None), or only those of its meetings
    (by RECURRENCE-ID: the wall time each had in the series as sent, whatever the plan says now)."""
    organizer, attendee = _require_emails(settings, peer)
    uid = invite_uid(state, peer)
    summary = f"Cancelled: {settings.name} and {peer.name}"
    start = dt.datetime.combine(sent.first, sent.time, tzinfo=zone_of(settings))
    base = Planned(uid, SERIES, sent.first, start, dt.timedelta(0), summary, cancelled=True,
                   organizer=organizer, attendee=attendee)  # fmt: skip
    if occurrences is None:
        return [base._replace(description="The whole series is cancelled.")]
    if not occurrences or any(day not in sent.dates() for day in occurrences):
        raise ValueError("cancel meetings of the series as it was sent")
    why = "This meeting is cancelled; the rest of the series stays."
    moments = [dt.datetime.combine(day, sent.time, tzinfo=zone_of(settings)) for day in sorted(occurrences)]
    return [base._replace(start=moment, occurrence=moment, description=why) for moment in moments]


# --- what each peer was sent ---------------------------------------------------------------------------------

INVITED = "invites"
"""calendar.toml's table of the invitations each peer holds (by peer key)."""


class SentSeries(NamedTuple):
    """A series as the peer received it: its first meeting, every how many weeks, its last, at what time."""

    first: dt.date
    every: int
    last: dt.date
    time: dt.time

    def dates(self) -> list[dt.date]:
        step = dt.timedelta(weeks=self.every)
        return [self.first + n * step for n in range((self.last - self.first).days // step.days + 1)]


class Invited(NamedTuple):
    """What one peer holds: the invitation last sent or written (file, e-mail draft), and what was cancelled."""

    uid: str
    digest: str
    """What it said (SEQUENCE aside): the series now is compared with it."""
    sequence: int
    at: dt.datetime
    to: str
    by: str
    """How it left: "mail" (a server or command accepted it), "file" (an .ics written) or "eml" (a draft)."""
    series: SentSeries | None = None
    """None for a record kept by an older peerloop."""
    cancelled: tuple[dt.date, ...] = ()
    """Meetings of the series cancelled since (a pause)."""
    withdrawn: bool = False
    """The whole series was cancelled (a removal)."""


def invited(state: CalendarState) -> dict[str, Invited]:
    """peer key -> what they hold; a malformed entry is left out (the next invitation writes it afresh)."""
    table = state.extra.get(INVITED)
    found: dict[str, Invited] = {}
    for key, item in table.items() if isinstance(table, Mapping) else ():
        if not isinstance(item, Mapping) or not isinstance(item.get("at"), dt.datetime):
            continue
        uid, digest, to = item.get("uid"), item.get("digest"), item.get("to")
        if not (isinstance(uid, str) and isinstance(digest, str) and isinstance(to, str)):
            continue
        sequence = item.get("sequence")
        parts = tuple(item.get(k) for k in ("first", "every", "last", "time"))
        sent = None
        if (
            isinstance(parts[0], dt.date)
            and type(parts[1]) is int
            and parts[1] > 0
            and isinstance(parts[2], dt.date)
            and isinstance(parts[3], dt.time)
        ):
            sent = SentSeries(*parts)  # type: ignore[arg-type]
        cancelled = tuple(day for day in item.get("cancelled_on", ()) if isinstance(day, dt.date))
        found[str(key)] = Invited(uid, digest, sequence if type(sequence) is int else 0, item["at"], to,
                                  str(item.get("by", "mail")), sent, cancelled,
                                  bool(item.get("withdrawn") or item.get("cancelled") is True))  # fmt: skip
    return found


def with_invited(state: CalendarState, key: str, record: Invited) -> CalendarState:
    table = dict(state.extra.get(INVITED) or {})
    sent = record.series
    table[key] = {
        "uid": record.uid, "digest": record.digest, "sequence": record.sequence, "at": record.at,
        "to": record.to, "by": record.by,
        **({"first": sent.first, "every": sent.every, "last": sent.last, "time": sent.time} if sent else {}),
        **({"cancelled_on": list(record.cancelled)} if record.cancelled else {}),
        **({"withdrawn": True} if record.withdrawn else {}),
    }  # fmt: skip
    return state._replace(extra={**state.extra, INVITED: table})


def renamed(state: CalendarState, old: Peer, new: Peer) -> CalendarState:
    """After a rename, the peer keeps their series' UID (so a new invite updates the one they have) and what
    they were sent."""
    uid = invite_uid(state, old)
    if old.key in state.series or uid in state.events:
        series = {key: value for key, value in state.series.items() if key != old.key}
        state = state._replace(series={**series, new.key: uid})
    table = state.extra.get(INVITED)
    if isinstance(table, Mapping) and old.key in table and old.key != new.key:
        moved = {key: value for key, value in table.items() if key != old.key} | {new.key: table[old.key]}
        state = state._replace(extra={**state.extra, INVITED: moved})
    return state
