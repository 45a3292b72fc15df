"""Invitations that reach the peer: the iMIP e-mail around an invite (or its cancellation), how it is sent
(SMTP or a sendmail-compatible command), and the record of what each peer was sent.

The record lives in calendar.toml (table `invites`: per peer, the series UID, the SEQUENCE and the content
digest of the last invitation a server or command accepted, when, and to which address), so that `status`
can tell which peers hold an out-of-date invitation. No journal text is ever part of a message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any, NamedTuple

from peerloop.core.calendar.events import Planned, digest
from peerloop.core.calendar.state import CalendarState, state_to_toml
from peerloop.core.connections import Connections
from peerloop.core.models import Peer, Settings
from peerloop.errors import ConflictError

KEY = "invites"


class SentRecord(NamedTuple):
    uid: str
    digest: str
    at: dt.datetime
    to: str
    cancelled: bool = False


def sent_records(state: CalendarState) -> dict[str, SentRecord]:
    table = state.extra.get(KEY)
    found: dict[str, SentRecord] = {}
    if not isinstance(table, Mapping):
        return found
    for key, item in table.items():
        if isinstance(item, Mapping) and isinstance(item.get("at"), dt.datetime):
            uid, sent_digest, to = item.get("uid"), item.get("digest"), item.get("to")
            if isinstance(uid, str) and isinstance(sent_digest, str) and isinstance(to, str):
                found[str(key)] = SentRecord(uid, sent_digest, item["at"], to, bool(item.get("cancelled")))
    return found


def with_sent(state: CalendarState, peer: Peer, record: SentRecord) -> CalendarState:
    table = dict(state.extra.get(KEY) or {})
    table[peer.key] = {"uid": record.uid, "digest": record.digest, "at": record.at, "to": record.to,
                       **({"cancelled": True} if record.cancelled else {})}  # fmt: skip
    return state._replace(extra={**state.extra, KEY: table})


def series_digest(event: Planned) -> str:
    """What an invitation said, as the record keeps it (SEQUENCE aside)."""
    return digest([event])


def body(settings: Settings, peer: Peer, first: dt.datetime, every: str, until: dt.date, cancel: bool) -> str:
    """The short plain-text part, in the leader's words; never anything from the journal."""
    first_name = peer.name.split()[0]
    if cancel:
        return (f"Hi {first_name},\n\nI am cancelling our peer meetings in my calendar invitation; your calendar "
                f"will remove them when you open this.\n\n{settings.name}\n")  # fmt: skip
    return (
        f"Hi {first_name},\n\nHere is our peer meeting, {every}, starting {first:%A %d %B} at {first:%H:%M} "
        f"({settings.timezone}), until {until:%d %B %Y}, when I look back at how it works.\n"
        "Accept or decline it in your calendar; what we say stays between us.\n\n"
        f"{settings.name}\n"
    )


def message(
    calendar: bytes, method: str, settings: Settings, peer: Peer, subject: str, text: str, now: dt.datetime
) -> EmailMessage:
    from peerloop.connect import mail
    from peerloop.core.parse.names import slug

    if not settings.email:
        raise ConflictError(
            "an invitation needs your email as its sender; set it with `peerloop init --email ADDRESS`"
        )
    if not peer.email:
        import shlex

        raise ConflictError(
            f"{peer.name} has no email to send the invitation to; `peerloop edit {shlex.quote(peer.name)} --email ADDRESS`"
        )
    return mail.imip_message(
        calendar=calendar, method=method, leader_name=settings.name, leader_email=settings.email,
        peer_name=peer.name, peer_email=peer.email, subject=subject, body_text=text,
        filename=f"peerloop-{slug(peer.name)}.ics", now=now,
    )  # fmt: skip


def how_sent(connections: Connections) -> str:
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


def cancel(store: Any, peer: Peer, settings: Settings, now: dt.datetime, weeks: list[dt.date] | None) -> str:
    """Send the peer METHOD:CANCEL for their series (or only for `weeks`) and record it; the line to say.

    Called before the roster change it goes with is committed: if the mail is refused, nothing changes.
    """
    from peerloop.output import ics
    from peerloop.store.session import calendar_state

    found = store.connections()
    how = how_sent(found)
    with store.locked():
        before = calendar_state(store)
        record = sent_records(before).get(peer.key)
        if record is None:
            raise ConflictError(f"{peer.name} was never sent an invitation; there is nothing to cancel")
        built = ics.build_invite_cancel(peer, settings, before, now, weeks)
        what = "our peer meetings" if weeks is None else f"our meetings in {len(weeks)} week(s)"
        subject = f"Cancelled: {what} ({settings.name} and {peer.name})"
        email = message(built.data, "CANCEL", settings, peer, subject,
                        body(settings, peer, now, "", now.date(), cancel=True), now)  # fmt: skip
        send(email, found)
        state = with_sent(built.state, peer, record._replace(at=now, cancelled=weeks is None))
        with store.change():
            store.save_calendar_state(state_to_toml(state))
    return f"Sent {peer.name} a cancellation of {what} via {how}."


def invitations(store: Any) -> tuple[list[str], list[str]]:
    """The peers who were sent an invitation (and not its cancellation), and those of them whose
    invitation no longer matches their series: both as roster names."""
    from peerloop.actions.calendar import series_of
    from peerloop.core.calendar import series as invites
    from peerloop.store.session import Session, calendar_state

    if not store.calendar_path.exists():
        return [], []
    state = calendar_state(store)
    records = {key: r for key, r in sent_records(state).items() if not r.cancelled}
    if not records:
        return [], []
    session = Session(store)
    sent, stale = [], []
    for peer in session.roster.peers:
        if peer.key not in records:
            continue
        sent.append(peer.name)
        series = series_of(session, peer)
        current = (
            invites.series_event(peer, series.first, series.interval, session.settings, state)
            if series is not None and session.settings.email and peer.email
            else None
        )
        if current is None or series_digest(current) != records[peer.key].digest:
            stale.append(peer.name)
    return sent, stale
