"""Invitations that reach the peer, each one local transaction under one lock: read the roster and the plan,
build the series (or its cancellation), record what the peer now holds, and hand the message over. With a
mail, the change happens only once the server or the command accepted it (`Store.send_on_commit`); a file
(an .ics or an .eml draft) is staged before the change and put in place after the lock is released.

What each peer holds is kept in calendar.toml (`core.calendar.series.Invited`), so that `status` can tell
who holds an out-of-date invitation and a cancellation names exactly the meetings the peer was sent. No
journal text is ever part of a message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from email.message import EmailMessage
from typing import TYPE_CHECKING, NamedTuple

from peerloop.core.calendar import series as invites
from peerloop.core.calendar.events import digest, mode_label
from peerloop.core.calendar.state import state_to_toml
from peerloop.core.connections import Connections
from peerloop.core.models import Peer, Settings
from peerloop.errors import ConflictError
from peerloop.store.folder import Sending
from peerloop.store.records import Store
from peerloop.store.session import Session, calendar_state

if TYPE_CHECKING:
    from peerloop.actions.calendar import Series
    from peerloop.output.ics import Built


class Invitation(NamedTuple):
    """What `invite` built and recorded: the document, the series in it, and whether it updates one sent."""

    peer: Peer
    series: Series
    built: Built
    email: EmailMessage | None
    updated: bool
    """The peer held an earlier version (a lower SEQUENCE) of this series."""
    how: str
    """How a mail went out (`smtp.example.com:587`, "`msmtp -t`"); empty when none was sent."""


def how_sent(connections: Connections) -> str:
    """The one connection a mail goes through (the last `connect smtp|sendmail` is the only one kept)."""
    if connections.smtp is not None:
        return f"{connections.smtp.host}:{connections.smtp.port}"
    if connections.sendmail is not None:
        return f"`{connections.sendmail.command}`"
    raise ConflictError(
        "no way to send mail yet: `peerloop connect smtp HOST --user NAME --password-command CMD` or "
        '`peerloop connect sendmail "msmtp -t"` (or write the message with --eml FILE)'
    )


def send(email: EmailMessage, connections: Connections) -> None:
    """Hand the message over; returns only when the server or the command accepted it."""
    from peerloop.connect import mail, secrets

    smtp = connections.smtp
    if smtp is not None:
        password = secrets.password(smtp.password, smtp.user) if smtp.user else None
        mail.send_smtp(email, host=smtp.host, port=smtp.port, security=smtp.security, user=smtp.user,
                       password=password, ca_file=smtp.ca_file)  # fmt: skip
    elif connections.sendmail is not None:
        mail.send_with_command(email, connections.sendmail.command)
    else:
        how_sent(connections)


def invite(
    store: Store,
    name: str,
    *,
    by: str,
    stage: Callable[[bytes], object] | None = None,
    dry_run: bool = False,
) -> Invitation:
    """The peer's series as an invitation, under one lock: `by` "mail" (sent, recorded once accepted), "eml"
    (a draft written by `stage`), "file" (the .ics written by `stage`). A dry run builds and checks it all,
    and records nothing."""
    from peerloop.actions.calendar import series_of
    from peerloop.connect import mail
    from peerloop.output import ics

    with store.change():
        session = Session(store)
        peer = session.require_peer(name)
        series = series_of(session, peer)
        settings = session.settings
        if series is None:
            raise ConflictError(
                f"{peer.name} has no meeting planned before the review date ({settings.trial_end.isoformat()}); "
                "see `peerloop plan`"
            )
        found = store.connections()
        if by == "mail" and not dry_run:
            how = how_sent(found)  # says how to connect before anything is built
        state = calendar_state(store)
        built = ics.build_invite(peer, series.first, series.interval, settings, state, session.now)
        event = invites.series_event(peer, series.first, series.interval, settings, state)
        sequence = built.state.events[event.uid].sequence
        before = invites.invited(state).get(peer.key)
        updated = before is not None and not before.withdrawn and sequence > before.sequence
        sent = _sent(settings, series)
        email = None
        if by in ("mail", "eml"):
            every = "every week" if series.interval == 1 else f"every {series.interval} weeks"
            subject = f"{'Updated: ' if updated else ''}{mode_label(series.first.mode)}: {settings.name} and {peer.name}, {every}"
            email = message(built.data, "REQUEST", settings, peer, subject,
                            invitation_text(settings, peer, series.first.start, every, sent.last), session.now)  # fmt: skip
        if dry_run:  # nothing staged: the change commits nothing
            return Invitation(peer, series, built, email, updated, "")
        data = built.data if by == "file" else mail.eml_bytes(email) if email is not None else b""
        if stage is not None:
            stage(data)
        record = invites.Invited(event.uid, digest([event]), sequence, session.now,
                                 peer.email or "" if by != "file" else "", by, sent)  # fmt: skip
        store.save_calendar_state(state_to_toml(invites.with_invited(built.state, peer.key, record)))
        if by == "mail" and email is not None:
            store.send_on_commit(Sending(f"the invitation to {peer.name}", lambda: send(email, found)))
            return Invitation(peer, series, built, email, updated, how)
    return Invitation(peer, series, built, email, updated, "")


def cancel(
    store: Store, peer: Peer, settings: Settings, now: dt.datetime, before: dt.date | None
) -> tuple[str, list[dt.date] | None]:
    """Inside `store.change()`: stage the cancellation of what `peer` holds (every meeting of the series as
    sent, or with `before` only those from today up to that day: a pause) and have the change wait for the
    mail. Returns what it says ("our peer meetings", the dates) for the closing line."""
    from peerloop.output import ics

    state = calendar_state(store)
    held = invites.invited(state).get(peer.key)
    if held is None or held.withdrawn:
        raise ConflictError(f"{peer.name} holds no invitation of yours; there is nothing to cancel")
    sent = held.series or _as_planned(store, peer, settings)
    dates: list[dt.date] | None = None
    if before is not None:
        dates = [day for day in sent.dates() if now.date() <= day < before and day not in held.cancelled]
        if not dates:
            raise ConflictError(
                f"the invitation {peer.name} holds has no meeting before {before.isoformat()}"
            )
    built = ics.build_invite_cancel(peer, settings, state, now, sent, dates)
    what = "our peer meetings" if dates is None else "our meetings on " + _dates(dates)
    subject = f"Cancelled: {what} ({settings.name} and {peer.name})"
    email = message(
        built.data, "CANCEL", settings, peer, subject, cancellation_text(settings, peer, dates), now
    )
    record = held._replace(
        at=now, series=sent, cancelled=(*held.cancelled, *(dates or ())), withdrawn=dates is None
    )
    store.save_calendar_state(state_to_toml(invites.with_invited(built.state, peer.key, record)))
    found = store.connections()
    how_sent(found)
    store.send_on_commit(Sending(f"the cancellation to {peer.name}", lambda: send(email, found)))
    return what, dates


def _as_planned(store: Store, peer: Peer, settings: Settings) -> invites.SentSeries:
    """A record kept by an older peerloop names no series: the one the plan gives now stands for it."""
    from peerloop.actions.calendar import series_of

    series = series_of(Session(store), peer)
    if series is None:
        raise ConflictError(
            f"peerloop cannot tell which meetings {peer.name} was sent; nothing was cancelled"
        )
    return _sent(settings, series)


def _sent(settings: Settings, series: Series) -> invites.SentSeries:
    """The series as the invitation carries it, recorded for a cancellation to name its meetings."""
    last = invites.last_series_date(settings, series.first.date, series.interval)
    return invites.SentSeries(series.first.date, series.interval, last, settings.time_for(series.first.mode))


def holds_invitation(store: Store, peer: Peer) -> bool:
    if not store.calendar_path.exists():
        return False
    held = invites.invited(calendar_state(store)).get(peer.key)
    return held is not None and not held.withdrawn


def _dates(days: Sequence[dt.date]) -> str:
    shown = [f"{day:%A} {day.day} {day:%B}" for day in days]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def greeting(peer: Peer) -> str:
    """ "Hi Cy," for "Cy, Dee" or "Cy Dee": the first word without its punctuation, else the whole name."""
    first = peer.name.split()[0].strip(",;:.!?\"'()") if peer.name.split() else ""
    return f"Hi {first or peer.name},"


def invitation_text(settings: Settings, peer: Peer, first: dt.datetime, every: str, last: dt.date) -> str:
    """The short plain-text part of an invitation, in the leader's words; never anything from the journal."""
    review = settings.trial_end
    return (
        f"{greeting(peer)}\n\nHere is our peer meeting, {every}, starting {first:%A} {first.day} {first:%B} at "
        f"{first:%H:%M} ({settings.timezone}); the last one is on {last:%A} {last.day} {last:%B %Y}. On "
        f"{review.day} {review:%B %Y} I look back at how the rotation works.\n"
        "Accept or decline it in your calendar; what we say stays between us.\n\n"
        f"{settings.name}\n"
    )


def cancellation_text(settings: Settings, peer: Peer, dates: Sequence[dt.date] | None) -> str:
    what = (
        "our peer meetings"
        if dates is None
        else f"our meeting{'s' if len(dates) > 1 else ''} on {_dates(dates)}; the rest of the series stays"
    )
    return (
        f"{greeting(peer)}\n\nI am cancelling {what}. Your calendar updates itself when you open this.\n\n"
        f"{settings.name}\n"
    )


def message(
    calendar: bytes, method: str, settings: Settings, peer: Peer, subject: str, text: str, now: dt.datetime
) -> EmailMessage:
    from peerloop.connect import mail
    from peerloop.core.parse.names import slug

    assert settings.email, "checked when the calendar was built (core.calendar.series)"
    assert peer.email, "checked when the calendar was built (core.calendar.series)"
    return mail.imip_message(
        calendar=calendar, method=method, leader_name=settings.name, leader_email=settings.email,
        peer_name=peer.name, peer_email=peer.email, subject=subject, body_text=text,
        filename=f"peerloop-{slug(peer.name)}.ics", now=now,
    )  # fmt: skip


def invitations(store: Store) -> tuple[list[str], list[str]]:
    """The peers who hold an invitation (sent or written, not withdrawn), and those of them whose invitation
    no longer matches their series: both as roster names."""
    from peerloop.actions.calendar import series_of

    if not store.calendar_path.exists():
        return [], []
    state = calendar_state(store)
    held = {key: r for key, r in invites.invited(state).items() if not r.withdrawn}
    if not held:
        return [], []
    session = Session(store)
    holding, stale = [], []
    for peer in session.roster.peers:
        if peer.key not in held:
            continue
        holding.append(peer.name)
        series = series_of(session, peer)
        current = (
            invites.series_event(peer, series.first, series.interval, session.settings, state)
            if series is not None and session.settings.email and peer.email
            else None
        )
        if current is None or digest([current]) != held[peer.key].digest:
            stale.append(peer.name)
    return holding, stale
