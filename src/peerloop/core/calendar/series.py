"""One peer's invite series, pure: the recurring event their invitation carries, its cancellations, and
whether the plan still matches it. `peerloop.ics` writes these as METHOD:REQUEST or METHOD:CANCEL documents.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

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
    peer: Peer, settings: Settings, state: CalendarState, weeks: Sequence[dt.date] | None
) -> list[Planned]:
    """The peer's whole series cancelled (`weeks` None), or only its meetings in `weeks` (RECURRENCE-ID)."""
    organizer, attendee = _require_emails(settings, peer)
    uid = invite_uid(state, peer)
    record = state.events.get(uid)
    if record is None or record.kind != SERIES:
        raise ConflictError(f"no invite was written for {peer.name}, so there is none to cancel")
    if weeks is not None and not weeks:
        raise ValueError("give the weeks to cancel, or None for the whole series")
    series_time = settings.time_for(peer.mode or settings.mode)
    summary = f"Cancelled: {settings.name} and {peer.name}"
    base = Planned(uid, SERIES, record.start, record.start, dt.timedelta(0), summary, cancelled=True,
                   organizer=organizer, attendee=attendee)  # fmt: skip
    if weeks is None:
        start = dt.datetime.combine(record.start, series_time, tzinfo=zone_of(settings))
        return [base._replace(start=start, description="The whole series is cancelled.")]
    days = sorted({week_start(w) + dt.timedelta(days=record.start.weekday()) for w in weeks})
    moments = [dt.datetime.combine(day, series_time, tzinfo=zone_of(settings)) for day in days]
    why = "This meeting is cancelled; the rest of the series stays."
    return [base._replace(start=moment, occurrence=moment, description=why) for moment in moments]
