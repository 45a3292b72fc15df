"""Keeping the roster true: init, add, peers, edit, remove, pause, resume."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from peerloop import clock, prompts, render, values
from peerloop.commands.common import (
    HomeOption,
    JsonOption,
    PeerArgument,
    open_store,
    parse_flag,
    resolve,
)
from peerloop.errors import ConflictError, InputError, NotSetUpError
from peerloop.models import WEEKDAYS, Mode, Peer, Roster, Settings
from peerloop.options import Arg, Opt
from peerloop.render import plural
from peerloop.roster import (
    add_peer,
    remove_peer,
    replace_peer,
    require_peer,
    roster_warning,
    with_settings,
)
from peerloop.storage import Store

EmailOption = Annotated[
    str | None, Opt("--email", metavar="EMAIL", help="Email address (for calendar invites).")
]
OrgOption = Annotated[str | None, Opt("--org", metavar="TEXT", help="Organisation they work at.")]
ModeOption = Annotated[
    str | None,
    Opt("--mode", metavar="MODE", help="Preferred way to meet: coffee, lunch or call.", show_default=False),
]
NoteOption = Annotated[str | None, Opt("--note", metavar="TEXT", help="A private note about this peer.")]
NewNameArgument = Annotated[str, Arg(metavar="NAME", help="The new peer's name.", show_default=False)]
NameArgument = PeerArgument


def require_settings(roster: Roster) -> Settings:
    if roster.settings is None:
        raise NotSetUpError("peerloop is not set up yet; run `peerloop init` first")
    return roster.settings


def today_for(roster: Roster) -> dt.date:
    """Today in the leader's zone, or the machine's before the settings exist."""
    zone = roster.settings.timezone if roster.settings else (clock.local_zone() or "UTC")
    return clock.today(zone)


def _optional(value: str | None, flag: str, parse: Any = None) -> Any:
    """A flag that may clear a field: an empty value means 'none'; free text must be UTF-8."""
    if value is None or not value.strip():
        return None
    return parse_flag(value, flag, parse) if parse else parse_flag(value.strip(), flag, values.check_utf8)


def show_warning(roster: Roster, day: dt.date) -> None:
    warning = roster_warning(len(roster.active_on(day)))
    if warning:
        render.warn(warning)


DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def settings_lines(settings: Settings) -> list[str]:
    slot = f"{DAY_NAMES[settings.weekday]}s at {settings.time:%H:%M} ({settings.timezone})"
    return [
        f"Leader:   {render.safe(settings.name)}" + (f" <{settings.email}>" if settings.email else ""),
        f"Slot:     {slot}, {settings.duration} min, {settings.mode.value} by default",
        f"Trial:    {settings.trial_start.isoformat()} to {settings.trial_end.isoformat()} "
        f"({settings.trial_months} months; the review is due then)",
    ]


def init(
    name: Annotated[
        str | None, Opt("--name", metavar="NAME", help="Your name, as peers see it on invites.")
    ] = None,
    email: Annotated[
        str | None, Opt("--email", metavar="EMAIL", help="Your email (needed for `peerloop invite`).")
    ] = None,
    timezone: Annotated[
        str | None, Opt("--timezone", metavar="ZONE", help="Your IANA time zone, e.g. Europe/Berlin.")
    ] = None,
    day: Annotated[
        str | None, Opt("--day", metavar="DAY", help="Weekday you keep for peer meetings: mon..sun.")
    ] = None,
    time: Annotated[str | None, Opt("--time", metavar="HH:MM", help="Start time (24-hour clock).")] = None,
    duration: Annotated[
        str | None, Opt("--duration", metavar="MINUTES", help="Meeting length in minutes.")
    ] = None,
    mode: ModeOption = None,
    start: Annotated[
        str | None, Opt("--start", metavar="DATE", help="First day of the six-month trial, YYYY-MM-DD.")
    ] = None,
    peer: Annotated[
        list[str] | None,
        Opt("--peer", metavar="NAME", help="A peer to add (repeat for each of your 4 to 5 peers)."),
    ] = None,
    home: HomeOption = None,
) -> None:
    """Set up: you, your weekly slot, your peers.

    Who you are, the weekday and time you keep for peer meetings, the trial's start, and the peers you
    will meet. On a terminal it asks for anything not given as a flag; run it again to change the settings
    (nothing is wiped).

    Examples:

      peerloop init

      peerloop init --name "Dana Ode" --timezone Europe/Berlin --time 08:30
    """
    store = open_store(home)
    roster = store.load_roster()
    current = roster.settings
    if current is not None and prompts.interactive():
        render.message("Current settings (Enter keeps each one):")
        for line in settings_lines(current):
            render.message("  " + line)
    settings = _ask_settings(current, name, email, timezone, day, time, duration, mode, start)
    names = [parse_flag(item, "--peer", values.clean_name) for item in peer or []]
    if not names and not roster.peers and prompts.interactive():
        render.message("\nWho will you meet? Choose 4 to 5 peers, in your company or at another one.")
        names = [parse_flag(item, "a name", values.clean_name) for item in prompts.ask_list("Their names")]
    today = clock.today(settings.timezone)
    skipped: list[str] = []

    def apply(latest: Roster) -> Roster:
        updated = with_settings(latest, settings)
        for peer_name in names:
            if updated.find(peer_name):
                skipped.append(peer_name)
                continue
            updated = add_peer(updated, Peer(name=peer_name, added=today))
        return updated

    saved = store.update_roster(apply)
    render.out(("Updated" if current else "Saved") + f" your settings in {store.roster_path}")
    for line in settings_lines(settings):
        render.out("  " + line)
    for peer_name in skipped:
        render.message(f"{render.safe(peer_name)} is already in the roster; kept as is.")
    if saved.peers:
        from peerloop.commands.week import load_week, print_plan
        from peerloop.rotation import plan

        roster_now, settings_now, _, history, today = load_week(store)
        render.out("\nThe coming weeks (`peerloop plan` shows the whole trial):")
        print_plan(plan(roster_now, settings_now, history, today, max(5, len(saved.peers))), settings_now)
    show_warning(saved, today)
    if current is None and prompts.interactive():
        from peerloop.commands.trial import offer_thoughts

        offer_thoughts(store)


def _ask_settings(
    current: Settings | None,
    name: str | None,
    email: str | None,
    timezone: str | None,
    day: str | None,
    time: str | None,
    duration: str | None,
    mode: str | None,
    start: str | None,
) -> Settings:
    zone_default = current.timezone if current else clock.local_zone()
    leader = resolve(name, "--name", "Your name", values.clean_name, current.name if current else None)
    if email is not None:
        leader_email = _optional(email, "--email", values.check_email)
    elif prompts.interactive():
        leader_email = prompts.ask_optional(
            "Your email (for invites to peers; Enter to skip)",
            values.check_email,
            current.email if current else None,
        )
    else:
        leader_email = current.email if current else None
    zone = resolve(
        timezone, "--timezone", "Your time zone (IANA name)", values.check_zone, zone_default or "UTC"
    )
    weekday = resolve(
        day, "--day", "Weekday for peer meetings (mon..sun)", values.parse_weekday,
        WEEKDAYS[current.weekday] if current else "tue",
    )  # fmt: skip
    start_time = resolve(
        time,
        "--time",
        "Start time (HH:MM)",
        values.parse_time,
        f"{current.time:%H:%M}" if current else "08:30",
    )
    minutes = resolve(
        duration,
        "--duration",
        "Length in minutes",
        values.parse_duration,
        str(current.duration) if current else "45",
    )
    default_mode = resolve(
        mode, "--mode", "Usual format (coffee, lunch, call)", values.parse_mode,
        current.mode.value if current else Mode.COFFEE.value,
    )  # fmt: skip
    trial_start = resolve(
        start, "--start", "Trial start (YYYY-MM-DD)", values.parse_date,
        (current.trial_start if current else clock.today(zone)).isoformat(),
    )  # fmt: skip
    return Settings(
        name=leader,
        email=leader_email,
        timezone=zone,
        weekday=weekday,
        time=start_time,
        duration=minutes,
        mode=default_mode,
        trial_start=trial_start,
        trial_months=current.trial_months if current else 6,
        extra=current.extra if current else {},
    )


def add(
    name: NewNameArgument,
    email: EmailOption = None,
    org: OrgOption = None,
    mode: ModeOption = None,
    note: NoteOption = None,
    home: HomeOption = None,
) -> None:
    """Add a peer to the roster.

    Examples:

      peerloop add "Ann Lee" --org Acme --mode lunch

      peerloop add "Bo Chen" --email bo@example.com
    """
    store = open_store(home)
    peer = Peer(
        name=parse_flag(name, "NAME", values.clean_name),
        added=today_for(store.load_roster()),
        email=_optional(email, "--email", values.check_email),
        org=_optional(org, "--org"),
        mode=_optional(mode, "--mode", values.parse_mode),
        note=_optional(note, "--note"),
    )
    saved = store.update_roster(lambda roster: add_peer(roster, peer))
    render.out(f"Added {render.safe(peer.name)} ({plural(len(saved.peers), 'peer')} in the roster).")
    show_warning(saved, peer.added)


def peer_json(peer: Peer) -> dict[str, Any]:
    return {
        "name": peer.name,
        "email": peer.email,
        "org": peer.org,
        "mode": peer.mode.value if peer.mode else None,
        "note": peer.note,
        "added": peer.added,
        "paused_until": peer.paused_until,
    }


def peers(json: JsonOption = False, home: HomeOption = None) -> None:
    """List the roster and each peer's next turn.

    In roster order (which breaks ties in the rotation): when you last met each peer, how often, and the
    date of their next turn.

    Examples:

      peerloop peers

      peerloop peers --json
    """
    from peerloop import entries, rotation

    store = open_store(home)
    roster = store.load_roster()
    today = today_for(roster)
    journal = store.load_journal() if roster.peers else None
    stats = entries.meeting_stats(journal.meetings) if journal else {}
    turns = (
        entries.next_turns(
            roster, roster.settings, rotation.history_from(journal.meetings, journal.skips), today
        )
        if journal and roster.settings
        else {}
    )
    if json:
        render.emit_json(
            [
                peer_json(peer)
                | {
                    "last_met": stats[peer.key][0] if peer.key in stats else None,
                    "meetings": stats[peer.key][1] if peer.key in stats else 0,
                    "next_turn": turns.get(peer.key),
                }
                for peer in roster.peers
            ]
        )
        return
    if not roster.peers:
        render.message("No peers yet: add the 4 to 5 people you want to meet with `peerloop add NAME`.")
        return
    rows = [
        (
            peer.name,
            peer.org or "",
            (peer.mode or (roster.settings.mode if roster.settings else Mode.COFFEE)).value,
            peer.email or "",
            f"paused until {peer.paused_until.isoformat()}" if peer.is_paused_on(today) and peer.paused_until
            else "active",
            stats[peer.key][0].isoformat() if peer.key in stats else "never",
            stats[peer.key][1] if peer.key in stats else 0,
            turns[peer.key].isoformat() if peer.key in turns else "",
        )
        for peer in roster.peers
    ]  # fmt: skip
    headers = ("Name", "Org", "Mode", "Email", "Status", "Last met", "Meetings", "Next turn")
    render.out(render.table(headers, rows))
    show_warning(roster, today)


def edit(
    name: NameArgument,
    new_name: Annotated[str | None, Opt("--name", metavar="NAME", help="Rename the peer.")] = None,
    email: EmailOption = None,
    org: OrgOption = None,
    mode: ModeOption = None,
    note: NoteOption = None,
    home: HomeOption = None,
) -> None:
    """Change a peer's details.

    Only the fields given change; an empty value clears a field (e.g. --org ""). A rename carries over
    to the journal, so the history and the rotation follow the peer.

    Examples:

      peerloop edit "Ann Lee" --org "Acme Labs"

      peerloop edit ann --name "Ann Lee-Smith" --email ""
    """
    if all(value is None for value in (new_name, email, org, mode, note)):
        raise InputError("nothing to change: pass --name, --email, --org, --mode or --note")
    store = open_store(home)
    changes: dict[str, Any] = {}
    if new_name is not None:
        changes["name"] = parse_flag(new_name, "--name", values.clean_name)
    if email is not None:
        changes["email"] = _optional(email, "--email", values.check_email)
    if org is not None:
        changes["org"] = _optional(org, "--org")
    if mode is not None:
        changes["mode"] = _optional(mode, "--mode", values.parse_mode)
    if note is not None:
        changes["note"] = _optional(note, "--note")
    renamed: list[tuple[Peer, Peer]] = []

    def apply(roster: Roster) -> Roster:
        current = require_peer(roster, name)
        updated = current._replace(**changes)
        if updated.name != current.name:
            renamed.append((current, updated))
        return replace_peer(roster, name, updated)

    with store.locked(), store.together():
        saved = apply(store.load_roster())
        for old, new in renamed:
            _rename_in_journal(store, old.name, new.name)
            _rename_in_calendar(store, old, new)
        store.save_roster(saved)
    final_name = renamed[0][1].name if renamed else require_peer(saved, name).name
    render.out(f"Updated {render.safe(final_name)}.")


def _rename_in_journal(store: Store, old: str, new: str) -> None:
    """Entries name peers as text: a rename rewrites them so history and the rotation follow the peer.

    Every year is read before any is written, so a damaged file stops the rename before it changes anything.
    """
    from peerloop.entries import renamed_peer

    changed = []
    for journal_year in store.load_journal().years:
        updated = renamed_peer(journal_year, old, new)
        if updated != journal_year:
            changed.append(updated)
    for journal_year in changed:
        store.save_year(journal_year)


def _rename_in_calendar(store: Store, old: Peer, new: Peer) -> None:
    """Keep the peer's invite series UID across the rename (calendar.toml records it)."""
    if not store.calendar_path.exists():
        return
    from peerloop import ics
    from peerloop.commands.calendar import load_state

    state = load_state(store)
    updated = ics.with_renamed_peer(state, old, new)
    if updated != state:
        store.save_calendar_state(ics.state_to_toml(updated))


def remove(
    name: NameArgument,
    yes: Annotated[bool, Opt("--yes", "-y", help="Do not ask for confirmation.")] = False,
    home: HomeOption = None,
) -> None:
    """Remove a peer from the roster.

    Their journal entries are kept: `peerloop history NAME` still shows them.

    Examples:

      peerloop remove "Ann Lee"

      peerloop remove ann --yes
    """
    store = open_store(home)
    peer = require_peer(store.load_roster(), name)
    if not yes and not prompts.confirm(
        f"Remove {render.safe(peer.name)} from the roster? (The journal keeps your meetings.)"
    ):
        render.message("Nothing removed.")
        return
    saved = store.update_roster(lambda roster: remove_peer(roster, name))
    render.out(f"Removed {render.safe(peer.name)}; {plural(len(saved.peers), 'peer')} left.")
    show_warning(saved, today_for(saved))


def pause(
    name: NameArgument,
    until: Annotated[
        str, Opt("--until", metavar="DATE", help="The date they are back, YYYY-MM-DD.", show_default=False)
    ],
    home: HomeOption = None,
) -> None:
    """Take a peer out of the rotation until a date.

    For parental leave, a busy quarter: the rotation skips them until that day, then they are back.

    Examples:

      peerloop pause "Ann Lee" --until 2027-01-15
    """
    back = parse_flag(until, "--until", values.parse_date)
    store = open_store(home)
    today = today_for(store.load_roster())
    if back <= today:
        raise InputError(
            f"--until {back.isoformat()} is not after today ({today.isoformat()}); give a future date"
        )

    def apply(roster: Roster) -> Roster:
        current = require_peer(roster, name)
        return replace_peer(roster, name, current._replace(paused_until=back))

    saved = store.update_roster(apply)
    peer = require_peer(saved, name)
    render.out(
        f"Paused {render.safe(peer.name)} until {render.day(back)}; back in the rotation from that day."
    )
    show_warning(saved, today)


def resume(name: NameArgument, home: HomeOption = None) -> None:
    """Bring a paused peer back into the rotation.

    From today, instead of the date `peerloop pause --until` set.

    Examples:

      peerloop resume "Ann Lee"
    """
    store = open_store(home)
    today = today_for(store.load_roster())

    def apply(roster: Roster) -> Roster:
        current = require_peer(roster, name)
        if not current.is_paused_on(today):
            raise ConflictError(f"{current.name} is not paused; nothing to resume")
        return replace_peer(roster, name, current._replace(paused_until=None))

    saved = store.update_roster(apply)
    render.out(f"{render.safe(require_peer(saved, name).name)} is back in the rotation.")
