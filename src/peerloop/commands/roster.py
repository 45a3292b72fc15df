"""Keeping the roster true: add, peers, edit, remove, pause, resume."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import typer

from peerloop import options, prompts
from peerloop.core.models import Mode, Peer
from peerloop.core.parse import parse_flag, values
from peerloop.core.roster import add_peer, remove_peer, replace_peer, resembling
from peerloop.errors import ConflictError, InputError, PeerloopError
from peerloop.inert import safe
from peerloop.options import JsonOption, PeerArgument, WideOption, YesOption
from peerloop.output import text
from peerloop.output.messages import NO_PEERS, cancellation_sent, warn_roster
from peerloop.store.records import Store
from peerloop.store.session import Session, require_peer, today_for

EmailOption = Annotated[
    str | None, typer.Option("--email", metavar="EMAIL", help="Email address (for calendar invites).")
]
OrgOption = Annotated[str | None, typer.Option("--org", metavar="TEXT", help="Organisation they work at.")]
ModeOption = Annotated[
    Mode | None,
    typer.Option("--mode", help="Preferred way to meet.", show_default=False, case_sensitive=False),
]
NoteOption = Annotated[
    str | None, typer.Option("--note", metavar="TEXT", help="A private note about this peer.")
]
MAX_PAUSE = dt.timedelta(days=3 * 366)


def _details(**given: str | None) -> dict[str, Any]:
    """The --email, --org and --note given, checked: an empty value clears its field; free text must be UTF-8."""

    def checked(field: str, value: str) -> str | None:
        if not value.strip():
            return None
        if field == "email":
            return parse_flag(value, "--email", values.check_email)
        return parse_flag(value.strip(), f"--{field}", values.check_utf8)

    return {field: checked(field, value) for field, value in given.items() if value is not None}


def where_they_land(store: Store, peer: Peer) -> str:
    """'first meeting Tue 2027-02-16' for a peer just added or resumed, from the plan."""
    from peerloop.core import roster as roster_rules

    try:
        session = Session(store)
    except PeerloopError:  # only a hint: a damaged journal is reported by the commands that need it
        return ""
    if session.roster.find(peer.name) is None:
        return ""
    turns = roster_rules.next_turns(session.roster, session.settings, session.history(), session.today)
    turn = turns.get(peer.key)
    return f" First turn: {text.day(turn)} (`peerloop plan`)." if turn else ""


def add(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The new peer's name.", show_default=False)],
    email: EmailOption = None,
    org: OrgOption = None,
    mode: ModeOption = None,
    note: NoteOption = None,
    yes: options.YesOption = False,
) -> None:
    """Add a peer to the roster.

    A peer added during a week joins the rotation from the next open week: the meeting already planned
    for this week stays as it is. A name that looks like a short form of one in the roster ('ann' beside
    Ann Lee) is asked about first (--yes in a script).

    Examples:

      peerloop add "Eve Fox" --org Acme --mode lunch

      peerloop add "Gil Ho" --email gil@example.com
    """
    store = options.store()
    peer_name = parse_flag(name, "NAME", values.clean_name)
    fields = _details(email=email, org=org, note=note)
    like = resembling(store.load_roster(), peer_name)
    if like is not None and not prompts.new_name_confirmed(peer_name, like.name, yes):
        text.message("Nothing added.")
        return
    with store.change():
        roster = store.load_roster()
        peer = Peer(name=peer_name, added=today_for(roster), mode=mode, **fields)
        saved = add_peer(roster, peer)
        store.save_roster(saved)
    landing = where_they_land(store, peer) if saved.settings else ""
    text.out(f"Added {safe(peer.name)} ({text.plural(len(saved.peers), 'peer')} in the roster).{landing}")
    warn_roster(saved)


def peers(json: JsonOption = False, wide: WideOption = False) -> None:
    """List the roster and each peer's next turn.

    In roster order (which breaks ties in the rotation): when you last met each peer, how often, when you
    were last in touch between meetings, and the date of their next turn. On a narrow terminal the e-mail,
    organisation, mode and last touch leave first, in that order (--wide keeps them).

    Examples:

      peerloop peers

      peerloop peers --wide

      peerloop peers --json
    """
    from peerloop.core import roster as roster_rules
    from peerloop.core import rotation

    store = options.store()
    roster = store.load_roster()
    today = today_for(roster)
    every = store.load_journal() if roster.peers else None
    stats = roster_rules.meeting_stats(every.meetings) if every else {}
    touched = rotation.last_dates(every.touches) if every else {}
    turns = (
        roster_rules.next_turns(
            roster, roster.settings, rotation.history_from(every.meetings, every.skips), today
        )
        if every and roster.settings
        else {}
    )
    if json:
        from peerloop.output.json import emit_json, peer_json

        emit_json(
            [
                peer_json(peer, today)
                | {
                    "last_met": stats[peer.key][0] if peer.key in stats else None,
                    "meetings": stats[peer.key][1] if peer.key in stats else 0,
                    "last_touch": touched.get(peer.key),
                    "next_turn": turns.get(peer.key),
                }
                for peer in roster.peers
            ]
        )
        return
    if not roster.peers:
        text.message(NO_PEERS)
        return
    default_mode = roster.settings.mode if roster.settings else Mode.COFFEE
    rows = [
        (
            peer.name,
            peer.org or "",
            (peer.mode or default_mode).value,
            peer.email or "",
            f"paused until {peer.paused_until.isoformat()}"
            if peer.is_paused_on(today) and peer.paused_until
            else "active",
            stats[peer.key][0].isoformat() if peer.key in stats else "never",
            stats[peer.key][1] if peer.key in stats else 0,
            touched[peer.key].isoformat() if peer.key in touched else "",
            turns[peer.key].isoformat() if peer.key in turns else "",
        )
        for peer in roster.peers
    ]
    from peerloop.output.tables import PEERS_COLUMNS, show

    show(PEERS_COLUMNS, rows, wide=wide)
    warn_roster(roster)


def edit(
    name: PeerArgument,
    new_name: Annotated[str | None, typer.Option("--name", metavar="NAME", help="Rename the peer.")] = None,
    email: EmailOption = None,
    org: OrgOption = None,
    mode: ModeOption = None,
    note: NoteOption = None,
) -> None:
    """Change a peer's details.

    Only the fields given change; an empty value clears a field (e.g. --org ""). A rename carries over
    to the journal and the calendar series, in one change, so the history and the rotation follow the peer.

    Examples:

      peerloop edit "Ann Lee" --org "Acme Labs"

      peerloop edit ann --name "Ann Lee-Smith" --email ""
    """
    if all(value is None for value in (new_name, email, org, mode, note)):
        raise InputError("nothing to change: pass --name, --email, --org, --mode or --note")
    store = options.store()
    renamed = {"name": parse_flag(new_name, "--name", values.clean_name)} if new_name is not None else {}
    changes = {**renamed, **_details(email=email, org=org, note=note), **({"mode": mode} if mode else {})}
    with store.change():
        roster = store.load_roster()
        current = require_peer(store, roster, name)
        updated = current._replace(**changes)
        if updated != current:
            store.save_roster(replace_peer(roster, current, updated))
        if updated.name != current.name:
            _rename_everywhere(store, current, updated)
    text.out(_edited(current, updated))


def _edited(before: Peer, after: Peer) -> str:
    """'Renamed Cy Dee to Cy Dee-Park; updated their email.', saying exactly what changed."""
    fields = [
        field for field in ("email", "org", "mode", "note") if getattr(before, field) != getattr(after, field)
    ]
    listed = " and ".join(fields) if len(fields) < 3 else ", ".join(fields[:-1]) + " and " + fields[-1]
    if after.name != before.name:
        renamed = f"Renamed {safe(before.name)} to {safe(after.name)}"
        return f"{renamed}; updated their {listed}." if fields else f"{renamed}."
    if not fields:
        return f"{safe(after.name)} already had these details; nothing changed."
    return f"Updated {safe(after.name)}'s {listed}."


def _rename_everywhere(store: Store, old: Peer, new: Peer) -> None:
    """Entries name peers as text, and the calendar keeps the peer's invite series UID: a rename rewrites
    both, in the same transaction as the roster (every year is read before any is staged)."""
    from peerloop.core.calendar.series import renamed
    from peerloop.core.calendar.state import state_to_toml
    from peerloop.core.journal import renamed_peer
    from peerloop.store.session import calendar_state

    for year in store.journal_years():
        journal_year = store.load_year(year)
        updated = renamed_peer(journal_year, old.name, new.name)
        if updated != journal_year:
            store.save_year(updated)
    if store.calendar_path.exists():
        state = calendar_state(store)
        moved = renamed(state, old, new)
        if moved != state:
            store.save_calendar_state(state_to_toml(moved))


SendCancelOption = Annotated[
    bool | None,
    typer.Option(
        "--send-cancel/--no-send-cancel",
        help="If you sent them an invitation: e-mail them its cancellation (asked on a terminal).",
        show_default=False,
    ),
]


def _wants_cancel(store: Store, peer: Peer, send_cancel: bool | None, what: str) -> bool:
    """Whether to e-mail `peer` a cancellation: --send-cancel, else asked on a terminal when they hold one of
    your invitations (asked before the lock is taken: a person may take their time)."""
    from peerloop.actions import invite as inviting

    if send_cancel is not None or not inviting.holds_invitation(store, peer):
        return bool(send_cancel)
    if not prompts.interactive():
        return False
    return prompts.confirm(f"You sent {safe(peer.name)} an invitation. E-mail them {what}?")


def _said_cancel(store: Store, peer: Peer, sent: str | None) -> None:
    from peerloop.actions import invite as inviting

    if sent is not None:
        text.out(cancellation_sent(peer.name, sent, inviting.how_sent(store.connections())))
    elif inviting.holds_invitation(store, peer):
        text.message(
            f"note: {safe(peer.name)} still holds your invitation; `--send-cancel` e-mails them its cancellation"
        )


def remove(name: PeerArgument, yes: YesOption = False, send_cancel: SendCancelOption = None) -> None:
    """Remove a peer from the roster.

    Their journal entries are kept: `peerloop history NAME` still shows them. If you sent them an
    invitation, peerloop offers to e-mail them its cancellation (--send-cancel).

    Examples:

      peerloop remove "Ann Lee"

      peerloop remove ann --yes
    """
    from peerloop.actions import invite as inviting

    store = options.store()
    peer = require_peer(store, store.load_roster(), name)
    if not yes and not prompts.confirm(
        f"Remove {safe(peer.name)} from the roster? (The journal keeps your meetings.)"
    ):
        text.message("Nothing removed.")
        return
    cancel = _wants_cancel(store, peer, send_cancel, "its cancellation")
    sent = None
    with store.change():  # one transaction: the roster and what the peer holds, once the mail is accepted
        roster = store.load_roster()
        current = require_peer(store, roster, peer.name)
        if cancel:
            session = Session(store)
            sent, _ = inviting.cancel(store, current, session.settings, session.now, None)
        saved = remove_peer(roster, current)
        store.save_roster(saved)
    _said_cancel(store, peer, sent)
    text.out(f"Removed {safe(peer.name)}; {text.plural(len(saved.peers), 'peer')} left.")
    warn_roster(saved)


def pause(
    name: PeerArgument,
    until: Annotated[
        str,
        typer.Option(
            "--until",
            metavar="DATE",
            help="The day they are back: 2027-01-15, next mon, in 3 weeks, +6w.",
            show_default=False,
        ),
    ],
    send_cancel: SendCancelOption = None,
) -> None:
    """Take a peer out of the rotation until a date.

    For parental leave, a busy quarter: the rotation skips them until that day, then they are back. If you
    sent them an invitation, peerloop offers to e-mail them the cancellation of the paused weeks.

    Examples:

      peerloop pause "Ann Lee" --until "Mar 1"

      peerloop pause ann --until "in 6 weeks"
    """
    from peerloop.actions import invite as inviting

    store = options.store()
    first = Session(store)
    today = first.today
    peer = first.require_peer(name)
    back = options.parse_day(until, "--until", today, "future")
    if back <= today:
        raise InputError(
            f"--until {back.isoformat()} is not after today ({today.isoformat()}); give a future date"
        )
    if back - today > MAX_PAUSE:
        raise InputError(
            f"--until {back.isoformat()} is more than three years away; "
            "to take someone out for good, `peerloop remove NAME`"
        )
    cancel = _wants_cancel(store, peer, send_cancel, "a cancellation of the meetings they miss")
    sent = None
    with store.change():  # one transaction: the pause and what the peer holds, once the mail is accepted
        session = Session(store)
        current = session.require_peer(peer.name)
        planned = session.next_slot()
        if cancel:
            sent, _ = inviting.cancel(store, current, session.settings, session.now, back)
        store.save_roster(replace_peer(session.roster, current, current._replace(paused_until=back)))
    _said_cancel(store, current, sent)
    text.out(f"Paused {safe(current.name)} until {text.day(back)}; back in the rotation from that day.")
    if planned is not None and planned.peer is not None and planned.peer.key == current.key:
        now = Session(store).next_slot()
        if now is None or now.peer is None:
            text.out(f"Their turn ({text.day(planned.date)}) goes to nobody: every peer is paused that week.")
        else:
            text.out(
                f"Their turn ({text.day(planned.date)}) goes to the next in line: your meeting is now with "
                f"{safe(now.peer.name)}, {text.day(now.date)}."
            )


def resume(name: PeerArgument) -> None:
    """Bring a paused peer back into the rotation.

    From the next open week (this week's planned meeting stays as it is), instead of the date
    `peerloop pause --until` set.

    Examples:

      peerloop resume "Di Eze"
    """
    from peerloop.core.rotation import WEEK, week_start

    store = options.store()
    with store.change():
        session = Session(store)
        current = session.require_peer(name)
        if not current.is_paused_on(session.today):
            raise ConflictError(f"{current.name} is not paused; nothing to resume")
        others = [p for p in session.roster.active_on(session.today) if p.key != current.key]
        back = week_start(session.today) + WEEK if others else None
        if back is not None and current.paused_until == back:  # resumed already: nothing to write
            text.out(f"{safe(current.name)} is already back in the rotation from the week of {text.day(back)}; "
                     "nothing changed.")  # fmt: skip
            return
        store.save_roster(replace_peer(session.roster, current, current._replace(paused_until=back)))
    when = f"from the week of {text.day(back)}" if back else "from this week"
    text.out(f"{safe(current.name)} is back in the rotation {when}.")
